"""The model zoo against independent references: published figures and torch.nn twins.

Published figures (torchvision's documented parameter counts and MACs, the
MobileNet v1 paper's tables, FusionNet's ``down_1``) need no torch. The
twins in ``tests/torch_models.py`` are rebuilt from the sources the zoo
follows; with torch installed every zoo model must match its twin exactly on
parameters, buffers and MACs (``FlopCounterMode`` counts 2 per MAC), on
square, odd and non-square inputs, and symbolic reports substituted with
numbers must give torch's numbers too.
"""

from __future__ import annotations

import functools
from fractions import Fraction

import pytest
import sympy

import symcost as sc
from symcost import zoo
from symcost.core.errors import InvalidArgumentError, ShapeError, UnknownModelError
from symcost.core.evaluate import substitute
from symcost.symbols import H, W, alpha, symbol, symbols

h, w = symbols("h w")
R = symbol("R")  # resolution of MobileNet v1


# ---------------------------------------------------------------------------
# published figures (no torch)
# ---------------------------------------------------------------------------
#: torchvision's documented parameter counts ("num_params") and the twins' docstrings.
PUBLISHED_PARAMS = [
    ("alexnet", 61_100_840),
    ("alexnet2012", 60_965_224),
    ("vgg11", 132_863_336),
    ("vgg13", 133_047_848),
    ("vgg16", 138_357_544),
    ("vgg19", 143_667_240),
    ("vgg11_bn", 132_868_840),
    ("vgg16_bn", 138_365_992),
    ("resnet18", 11_689_512),
    ("resnet34", 21_797_672),
    ("resnet50", 25_557_032),
    ("resnet101", 44_549_160),
    ("resnet152", 60_192_808),
    ("mobilenet_v2", 3_504_872),
]

#: MACs at 3x224x224 (torchvision's "GFLOPS", exact).
PUBLISHED_MACS = [
    ("alexnet", 714_188_480),
    ("vgg16", 15_470_264_320),
    ("resnet18", 1_814_073_344),
    ("resnet50", 4_089_184_256),
    ("mobilenet_v2", 300_774_272),
]

#: Howard et al. 2017, Tables 6 and 7: (alpha, resolution) -> (million mult-adds, million params).
#: At 160 the paper prints 290 for an exact 290,675,200; TF-slim's mobilenet_v1.md table prints 291.
MOBILENET_V1_PAPER = [
    (1, 224, 569, 4.2),
    (0.75, 224, 325, 2.6),
    (0.5, 224, 149, 1.3),
    (0.25, 224, 41, 0.47),
    (1, 192, 418, 4.2),
    (1, 160, 291, 4.2),
    (1, 128, 186, 4.2),
]


@functools.lru_cache(maxsize=None)
def design_report(name: str) -> sc.Report:
    return zoo.get(name).analyze()


@pytest.mark.parametrize("name, params", PUBLISHED_PARAMS)
def test_published_params(name, params):
    assert design_report(name).total.params == params


@pytest.mark.parametrize("name, macs", PUBLISHED_MACS)
def test_published_macs(name, macs):
    assert design_report(name).total.macs == macs


@pytest.mark.parametrize("alpha_, resolution, mult_adds, params", MOBILENET_V1_PAPER)
def test_mobilenet_v1_paper_tables(alpha_, resolution, mult_adds, params):
    total = zoo.mobilenet_v1(alpha=alpha_, resolution=resolution).analyze().total
    assert round(int(total.macs) / 10**6) == mult_adds
    assert round(int(total.params) / 10**6, len(str(params).split(".")[1])) == params


def test_fusionnet_down_1_params():
    rows = design_report("fusionnet").rows
    assert sum(row.params for row in rows if row.name.startswith("down_1.")) == 37_632


def test_symbolic_resnet50_at_design_input():
    assert substitute(symbolic_resnet50().total.macs, H=224, W=224) == 4_089_184_256


# ---------------------------------------------------------------------------
# names, lookup, arguments
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("vgg16", ["features.0", "features.30", "avgpool", "classifier.0", "classifier.6"]),
    ("resnet50", ["conv1", "layer1.0.conv1", "layer1.0.downsample.0", "layer1.0.downsample.1",
                  "layer1.0.add", "layer4.2.conv3", "fc"]),
    ("mobilenet_v1", ["features.0.conv", "features.1.dw", "features.1.pw_relu", "features.13.pw", "fc"]),
    ("mobilenet_v2", ["features.0.0", "features.1.conv.0.0", "features.1.conv.1", "features.3.add",
                      "features.18.0", "classifier.1"]),
    ("fusionnet", ["down_1.conv_1.0", "down_1.conv_2.0.0", "down_1.conv_2.2", "down_1.add", "pool_1", "bridge.conv_3.0",
                   "deconv_1.0", "skip_1.add", "skip_1.halve", "up_4.conv_3.2", "out", "out_2"]),
    ("unet", ["inc.double_conv.0", "down1.maxpool_conv.0", "down1.maxpool_conv.1.double_conv.0", "up1.up",
              "up1.conv.double_conv.5", "up1.concat", "up4.concat", "outc.conv"]),
])
def test_rows_named_as_torch_modules(name, expected):
    row_names = {row.name for row in design_report(name).rows}
    assert set(expected) <= row_names


def test_names_and_lookup():
    assert zoo.names() == sorted(zoo.MODELS)
    assert {"vgg16", "vgg16_bn", "resnet50", "mobilenet_v1", "mobilenet_v2", "fusionnet", "unet",
            "alexnet", "alexnet2012"} <= set(zoo.names())
    for spelling in ("ResNet-50", "resnet_50", "RESNET50"):
        assert zoo.get(spelling).name == "resnet50"
    assert zoo.get("VGG-16-BN").name == "vgg16_bn"
    assert zoo.get("mobilenet-v1", alpha=0.5).analyze().total.params == 1_331_592


def test_unknown_model_suggests_and_lists():
    with pytest.raises(UnknownModelError) as info:
        zoo.get("resnet51")
    message = str(info.value)
    assert "did you mean 'resnet50'" in message
    assert all(name in message for name in zoo.names())
    with pytest.raises(KeyError):  # also a KeyError
        zoo.get("lenet")


@pytest.mark.parametrize("call, error", [
    (lambda: zoo.vgg(12), InvalidArgumentError),
    (lambda: zoo.resnet(20), InvalidArgumentError),
    (lambda: zoo.mobilenet_v1(alpha=0), InvalidArgumentError),
    (lambda: zoo.mobilenet_v1(alpha="1"), TypeError),
    (lambda: zoo.mobilenet_v2(width_mult=alpha), InvalidArgumentError),
])
def test_bad_arguments(call, error):
    with pytest.raises(error):
        call()


def test_width_multiplier_spellings_agree():
    """0.75 is read as exactly 3/4, however it is written."""
    totals = {zoo.mobilenet_v1(alpha=a).analyze().total.params for a in (0.75, sympy.Rational(3, 4), Fraction(3, 4))}
    assert totals == {2_585_560}


def test_fusionnet_needs_multiples_of_16():
    with pytest.raises(ShapeError, match="H = 16\\*h"):
        zoo.fusionnet().analyze(sc.Shape(1, H, W))
    with pytest.raises(ShapeError):
        zoo.fusionnet().analyze(sc.Shape(1, 200, 200))


# ---------------------------------------------------------------------------
# symbolic reports
# ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def symbolic_resnet50() -> sc.Report:
    return zoo.resnet50().analyze(sc.Shape(3, H, W))


def test_symbolic_mobilenet_v1_alpha_and_resolution():
    rep = zoo.mobilenet_v1(alpha=alpha, resolution=R).analyze()
    assert rep.input_shape == sc.Shape(3, R, R)
    numeric = zoo.mobilenet_v1(alpha=1).analyze().total
    one = {"alpha": sympy.Integer(1), "R": 224}
    assert substitute(rep.total.macs, **one) == numeric.macs
    assert substitute(rep.total.params, **one) == numeric.params
    # every width here is a multiple of 4, so alpha*c is exactly int(c*alpha)
    half = zoo.mobilenet_v1(alpha=0.5, resolution=160).analyze().total
    assert substitute(rep.total.macs, alpha=sympy.Rational(1, 2), R=160) == half.macs


def test_symbolic_unet_on_any_size():
    rep = zoo.unet(base=16).analyze(sc.Shape(3, H, W))
    assert rep.out_shape == sc.Shape(2, H, W)
    numeric = zoo.unet(base=16).analyze((3, 193, 161)).total.macs
    assert substitute(rep.total.macs, H=193, W=161) == numeric


# ---------------------------------------------------------------------------
# torch twins
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def twins():
    """The torch.nn reference module (skips when torch is not installed)."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    import torch_models

    return torch_models


def torch_params(model) -> tuple[int, int]:
    return sum(p.numel() for p in model.parameters()), sum(b.numel() for b in model.buffers())


def torch_macs(model, shape: tuple) -> int:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, *shape))
    return counter.get_total_flops() // 2


#: (id, zoo model, twin factory on the torch_models module)
PAIRS = {
    "alexnet": (lambda: zoo.alexnet(), lambda t: t.alexnet()),
    "alexnet2012": (lambda: zoo.alexnet2012(), lambda t: t.alexnet2012()),
    **{f"vgg{d}{'_bn' * bn}": ((lambda d=d, bn=bn: zoo.vgg(d, bn)), (lambda t, d=d, bn=bn: t.vgg(d, bn)))
       for d in (11, 13, 16, 19) for bn in (False, True)},
    **{f"resnet{d}": ((lambda d=d: zoo.resnet(d)), (lambda t, d=d: t.resnet(d))) for d in (18, 34, 50, 101, 152)},
    **{f"mobilenet_v1_{a}": ((lambda a=a: zoo.mobilenet_v1(alpha=a)), (lambda t, a=a: t.mobilenet_v1(a)))
       for a in (1, 0.75, 0.5)},
    "mobilenet_v2": (lambda: zoo.mobilenet_v2(), lambda t: t.mobilenet_v2()),
    **{f"mobilenet_v2_{m}": ((lambda m=m: zoo.mobilenet_v2(width_mult=m)),
                             (lambda t, m=m: t.MobileNetV2(width_mult=m).eval())) for m in (0.5, 1.4)},
    "fusionnet": (lambda: zoo.fusionnet(), lambda t: t.fusionnet()),
    "fusionnet_3_2_16": (lambda: zoo.fusionnet(3, 2, ngf=16), lambda t: t.fusionnet(3, 2, ngf=16)),
    "unet": (lambda: zoo.unet(), lambda t: t.unet()),
    "unet_bilinear": (lambda: zoo.unet(bilinear=True), lambda t: t.unet(bilinear=True)),
    "unet_16": (lambda: zoo.unet(base=16), lambda t: t.unet(base=16)),
    "unet_16_bilinear": (lambda: zoo.unet(base=16, bilinear=True), lambda t: t.unet(base=16, bilinear=True)),
}


@pytest.mark.torch
@pytest.mark.parametrize("case", list(PAIRS))
def test_params_and_buffers_equal_torch(twins, case):
    ours, theirs = PAIRS[case]
    total = ours().analyze().total
    assert (total.params, total.buffers) == torch_params(theirs(twins))


#: (pair, input shapes): the design size and odd, non-square ones.
MAC_CASES = [
    ("alexnet", [(3, 224, 224), (3, 193, 161)]),
    ("alexnet2012", [(3, 227, 227), (3, 240, 250)]),
    ("vgg11", [(3, 224, 224), (3, 193, 161)]),
    ("vgg11_bn", [(3, 193, 161)]),
    ("vgg16", [(3, 224, 224), (3, 193, 161)]),
    ("vgg16_bn", [(3, 224, 224)]),
    ("resnet18", [(3, 224, 224), (3, 193, 161)]),
    ("resnet34", [(3, 224, 224)]),
    ("resnet50", [(3, 224, 224), (3, 193, 161)]),
    ("resnet101", [(3, 224, 224)]),
    ("resnet152", [(3, 224, 224)]),
    ("mobilenet_v1_1", [(3, 224, 224), (3, 193, 161)]),
    ("mobilenet_v1_0.75", [(3, 193, 161)]),
    ("mobilenet_v2", [(3, 224, 224), (3, 193, 161)]),
    ("mobilenet_v2_0.5", [(3, 193, 161)]),
    ("unet_16", [(3, 224, 224), (3, 193, 161)]),
    ("unet_16_bilinear", [(3, 193, 161)]),
    ("fusionnet", [(1, 224, 224), (1, 160, 96)]),
    ("fusionnet_3_2_16", [(3, 160, 96)]),
]


@pytest.mark.torch
@pytest.mark.parametrize("case, shape", [(case, shape) for case, shapes in MAC_CASES for shape in shapes])
def test_macs_equal_torch(twins, case, shape):
    ours, theirs = PAIRS[case]
    assert ours().analyze(shape).total.macs == torch_macs(theirs(twins), shape)


@pytest.mark.torch
@pytest.mark.parametrize("size", [(224, 224), (256, 320), (193, 161)])
def test_symbolic_resnet50_equals_torch(twins, size):
    macs = substitute(symbolic_resnet50().total.macs, H=size[0], W=size[1])
    assert macs == torch_macs(twins.resnet(50), (3, *size))


@pytest.mark.torch
def test_symbolic_mobilenet_v1_equals_torch(twins):
    macs = zoo.mobilenet_v1(alpha=alpha, resolution=R).analyze().total.macs
    assert substitute(macs, alpha=sympy.Rational(3, 4), R=192) == torch_macs(twins.mobilenet_v1(0.75), (3, 192, 192))


@pytest.mark.torch
@pytest.mark.parametrize("sides", [(14, 14), (10, 6)])
def test_symbolic_fusionnet_equals_torch(twins, sides):
    rep = zoo.fusionnet().analyze(sc.Shape(1, 16 * h, 16 * w))
    assert rep.out_shape == sc.Shape(1, 16 * h, 16 * w)
    macs = substitute(rep.total.macs, h=sides[0], w=sides[1])
    assert macs == torch_macs(twins.fusionnet(), (1, 16 * sides[0], 16 * sides[1]))


def _leaf_names(model, kinds) -> list[str]:
    return [name for name, module in model.named_modules() if isinstance(module, kinds)]


@pytest.mark.torch
@pytest.mark.parametrize("case, ordered", [
    ("alexnet", True), ("alexnet2012", True), ("vgg16_bn", True), ("resnet18", True), ("resnet50", True),
    ("mobilenet_v1_1", True), ("mobilenet_v2", True),
    # the U-nets run their modules in another order than they register them
    ("fusionnet", False), ("unet", False), ("unet_bilinear", False),
])
def test_conv_and_linear_names_equal_torch(twins, case, ordered):
    from torch import nn

    ours, theirs = PAIRS[case]
    kinds = {"Conv2d", "ConvTranspose2d", "Linear"}
    names = [row.name for row in ours().analyze().rows if row.kind in kinds]
    reference = _leaf_names(theirs(twins), (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))
    assert names == reference if ordered else sorted(names) == sorted(reference)
