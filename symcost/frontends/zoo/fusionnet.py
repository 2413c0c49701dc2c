"""FusionNet (Quan, Hildebrand & Jeong 2016), as GunhoChoi/FusionNet-Pytorch's FusionGenerator.

Every stage is a ``Conv_residual_conv``: ``conv_1``, then ``conv_2`` added to
its own input (a residual), then ``conv_3``. The decoder adds each encoder
map to the upsampled one and halves the sum, ``(deconv_k + down_{5-k}) / 2``:
here the U is nested residuals, each wrapping the deeper path
``pool_k ... deconv_{5-k}`` with the encoder map as identity shortcut, then a
``Scale(2, divide=True)``: rows ``skip_{5-k}.add`` and ``skip_{5-k}.halve``. The sums meet only when each
side is a multiple of 16, so analyze symbolically on ``16*h`` by ``16*w``::

    >>> from symcost import zoo
    >>> rep = zoo.fusionnet().analyze()
    >>> sum(row.params for row in rep.rows if row.name.startswith("down_1."))
    37632
    >>> rep.out_shape
    Shape(1, 256, 256)
"""

from __future__ import annotations

from ...networks.containers import Model, Residual, Sequential
from ...layers import BatchNorm2d, Conv2d, ConvTranspose2d, LeakyReLU, MaxPool2d, ReLU, Scale, Tanh
from ...core.shape import Shape


def _encoder_act() -> LeakyReLU:
    return LeakyReLU(0.2)


def _conv_block(out_channels: int, act, name: str | None = None) -> Sequential:
    """3x3 conv (with bias), BatchNorm, activation (``act()``)."""
    return Sequential(Conv2d(out_channels, 3, padding=1), BatchNorm2d(), act(), name=name)


def _conv_residual_conv(out_channels: int, act, name: str) -> Sequential:
    """``conv_3(conv_1(x) + conv_2(conv_1(x)))``; ``conv_2`` is three convs, the last not activated."""
    conv_2 = Sequential(_conv_block(out_channels, act), _conv_block(out_channels, act),
                        Conv2d(out_channels, 3, padding=1), BatchNorm2d(), name="conv_2")
    return Sequential(_conv_block(out_channels, act, "conv_1"), Residual(conv_2, name=""),
                      _conv_block(out_channels, act, "conv_3"), name=name)


def _deconv_block(out_channels: int, name: str) -> Sequential:
    """Transposed 3x3 conv doubling the size, BatchNorm, ReLU."""
    return Sequential(ConvTranspose2d(out_channels, 3, stride=2, padding=1, output_padding=1),
                      BatchNorm2d(), ReLU(), name=name)


def _below(level: int, ngf: int) -> Sequential:
    """What follows ``down_level`` up to the decoder map that is added to it (``deconv_{5-level}``)."""
    pool = MaxPool2d(2, stride=2, name=f"pool_{level}")
    width = ngf * 2 ** level
    if level == 4:
        middle = [_conv_residual_conv(width, _encoder_act, "bridge")]
    else:
        up = 4 - level
        middle = [_conv_residual_conv(width, _encoder_act, f"down_{level + 1}"),
                  *_skip(level + 1, ngf), _conv_residual_conv(width, ReLU, f"up_{up}")]
    return Sequential(pool, *middle, _deconv_block(width // 2, f"deconv_{5 - level}"), name="")


def _skip(level: int, ngf: int) -> list:
    """``(deconv_{5-level} + down_level) / 2``: the deeper path added to its input, halved."""
    skip = f"skip_{5 - level}"
    return [Residual(_below(level, ngf), name="", join=f"{skip}.add"), Scale(2, divide=True, name=f"{skip}.halve")]


def fusionnet(input_nc: int = 1, output_nc: int = 1, ngf: int = 32) -> Model:
    """FusionNet with ``ngf`` base channels on a 256x256 input (sides must be multiples of 16)."""
    body = Sequential(
        _conv_residual_conv(ngf, _encoder_act, "down_1"),
        *_skip(1, ngf),
        _conv_residual_conv(ngf, ReLU, "up_4"),
        Conv2d(output_nc, 3, padding=1, name="out"),
        Tanh(name="out_2"),
    )
    return Model(body, name="fusionnet", input_shape=Shape(input_nc, 256, 256))
