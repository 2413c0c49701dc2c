"""U-Net (Ronneberger et al. 2015) with padded convs and BatchNorm, as milesial/Pytorch-UNet.

Each decoder stage ``up_j`` concatenates the encoder map of its level (the
skip) with the upsampled deeper map, zero-padding the latter to the skip's
size as the source's ``F.pad`` does. Here the U is nested
``Concat(skip, deeper, pad=True)``: the skip branch is an empty pass-through
and the deeper branch runs ``down_k ... up_j.up``. Padding makes every input
of at least 16x16 valid, odd sizes included::

    >>> from symcost import zoo
    >>> rep = zoo.unet(base=16).analyze((3, 193, 161))
    >>> rep.out_shape, rep.total.params
    (Shape(2, 193, 161), 1942594)
"""

from __future__ import annotations

from ...networks.containers import Concat, Model, Sequential
from ...layers import BatchNorm2d, Conv2d, ConvTranspose2d, MaxPool2d, ReLU, Upsample
from ...core.shape import Shape


def _double_conv(out_channels: int, mid_channels: int | None = None, name: str | None = None) -> Sequential:
    """(3x3 conv without bias, BatchNorm, ReLU) twice, as ``double_conv``."""
    layers = []
    for channels in (mid_channels or out_channels, out_channels):
        layers += [Conv2d(channels, 3, padding=1, bias=False), BatchNorm2d(), ReLU()]
    return Sequential(Sequential(*layers, name="double_conv"), name=name)


def _down(index: int, out_channels: int) -> Sequential:
    return Sequential(Sequential(MaxPool2d(2), _double_conv(out_channels), name="maxpool_conv"), name=f"down{index}")


def _up(index: int, in_channels: int, bilinear: bool):
    """``up{j}.up``: bilinear x2 upsampling, or a 2x2 stride-2 transposed conv halving the channels."""
    if bilinear:
        return Upsample(scale_factor=2, mode="bilinear", align_corners=True, name=f"up{index}.up")
    return ConvTranspose2d(in_channels // 2, 2, stride=2, name=f"up{index}.up")


def _level(k: int, base: int, bilinear: bool) -> Concat:
    """The skip at level ``k`` (x_k) concatenated with ``down_k ... up_{5-k}.up`` (padded to it)."""
    factor = 2 if bilinear else 1
    down_out = base * 2 ** k // (factor if k == 4 else 1)
    deeper = [_down(k, down_out)]
    if k < 4:
        j = 4 - k  # the decoder stage that closes level k + 1
        in_channels = base * 2 ** (k + 1)
        out_channels = base * 2 ** k // factor
        deeper += [_level(k + 1, base, bilinear),
                   _double_conv(out_channels, in_channels // 2 if bilinear else None, name=f"up{j}.conv")]
    deeper.append(_up(5 - k, base * 2 ** k, bilinear))
    return Concat(Sequential(name=""), Sequential(*deeper, name=""), name="", pad=True, join=f"up{5 - k}.concat")


def unet(in_channels: int = 3, num_classes: int = 2, base: int = 64, bilinear: bool = False) -> Model:
    """U-Net with ``base`` channels at the top level on the paper's 572x572 input tile."""
    body = Sequential(
        _double_conv(base, name="inc"),
        _level(1, base, bilinear),
        _double_conv(base, base if bilinear else None, name="up4.conv"),
        Sequential(Conv2d(num_classes, 1, name="conv"), name="outc"),
    )
    return Model(body, name="unet", input_shape=Shape(in_channels, 572, 572))
