"""Bad input: each case paired with the exact error it must raise."""

import pytest
import sympy

import symcost as sc
from symcost.symbols import C_in, K, S, W

INVALID = [
    # (build-and-cost, error class, exact message)
    (lambda: sc.Conv2d(8, 3, stride=0), sc.InvalidArgumentError,
     "Conv2d: stride must be a positive integer, got 0"),
    (lambda: sc.Conv2d(8, 0), sc.InvalidArgumentError,
     "Conv2d: kernel_size must be a positive integer, got 0"),
    (lambda: sc.Conv2d(8, (3, -1)), sc.InvalidArgumentError,
     "Conv2d: kernel_size must be a positive integer, got -1"),
    (lambda: sc.Conv2d(8, 3, padding=-1), sc.InvalidArgumentError,
     "Conv2d: padding must be an integer >= 0, got -1"),
    (lambda: sc.Conv2d(8, 3, groups=3), sc.InvalidArgumentError,
     "Conv2d: groups must divide out_channels (8), got 3"),
    (lambda: sc.Conv2d(8, 3, groups=2).cost(sc.Shape(3, 8, 8)), sc.InvalidArgumentError,
     "Conv2d: groups must divide in_channels (3), got 2"),
    (lambda: sc.Conv2d(8, 5).cost(sc.Shape(3, 4, 4)), sc.ShapeError,
     "Conv2d: kernel_size does not fit in the padded input height (input 4, padding 0, effective kernel 5): "
     "output height would be 0, must be >= 1"),
    (lambda: sc.Conv2d(8, 3, dilation=3).cost(sc.Shape(3, 6, 6)), sc.ShapeError,
     "Conv2d: kernel_size does not fit in the padded input height (input 6, padding 0, effective kernel 7): "
     "output height would be 0, must be >= 1"),
    (lambda: sc.Conv2d(8, 3, stride=2, padding="same"), sc.InvalidArgumentError,
     "Conv2d: padding='same' needs stride 1, as in torch, got (2, 2)"),
    (lambda: sc.Conv2d(8, 3, padding="full"), sc.InvalidArgumentError,
     "Conv2d: padding must be one of 'same', 'valid', got 'full'"),
    (lambda: sc.Conv2d(8, 3.0), sc.ArgumentTypeError,
     "Conv2d: kernel_size must be exact, got the float 3.0; use an int or sympy.Rational"),
    (lambda: sc.Conv2d(8, "3"), sc.ArgumentTypeError,
     "Conv2d: kernel_size must be an int or a SymPy expression, got the string '3'; "
     "make symbols with symcost.symbols.symbol(name)"),
    (lambda: sc.Conv2d(8, 3, bias=1), sc.ArgumentTypeError, "Conv2d: bias must be True or False, got 1"),
    (lambda: sc.Conv2d(8, 3, name="conv2", stride=0), sc.InvalidArgumentError,
     'Conv2d "conv2": stride must be a positive integer, got 0'),
    (lambda: sc.Conv2d(8, 3).cost(sc.Shape(12)), sc.ShapeError,
     "Conv2d: expects a (C, H, W) feature map, got (12,)"),
    (lambda: sc.Conv2d(8, 3, stride=S - S), sc.InvalidArgumentError,
     "Conv2d: stride must be a positive integer, got 0"),
    (lambda: sc.ConvTranspose2d(8, 3, stride=2, output_padding=2), sc.InvalidArgumentError,
     "ConvTranspose2d: output_padding must be smaller than the stride (2) or the dilation (1), got 2"),
    (lambda: sc.ConvTranspose2d(8, 3, padding=3).cost(sc.Shape(3, 1, 1)), sc.ShapeError,
     "ConvTranspose2d: kernel_size does not fit in the padded input height (input 1, padding 3): "
     "output height would be -3, must be >= 1"),
    (lambda: sc.MaxPool2d(2, padding=2), sc.InvalidArgumentError,
     "MaxPool2d: padding must be at most half the kernel size (1), as torch requires, got 2"),
    (lambda: sc.AvgPool2d(3, stride=0), sc.InvalidArgumentError,
     "AvgPool2d: stride must be a positive integer, got 0"),
    (lambda: sc.MaxPool2d(5).cost(sc.Shape(3, 4, 4)), sc.ShapeError,
     "MaxPool2d: kernel_size does not fit in the padded input height (input 4, padding 0, effective kernel 5): "
     "output height would be 0, must be >= 1"),
    (lambda: sc.Linear(10, in_features=5).cost(sc.Shape(3, 4, 4)), sc.ShapeError,
     "Linear: in_features is 5 but the input has 4 features"),
    (lambda: sc.Linear(0), sc.InvalidArgumentError, "Linear: out_features must be a positive integer, got 0"),
    (lambda: sc.BatchNorm2d(4).cost(sc.Shape(3, 4, 4)), sc.ShapeError,
     "BatchNorm2d: num_features is 4 but the input has 3 channels"),
    (lambda: sc.Add().cost(sc.Shape(3, 4, 4), sc.Shape(3, 4, 5)), sc.ShapeError,
     "Add: input shapes (3, 4, 4) and (3, 4, 5) do not match (dimension 2: 4 vs 5)"),
    (lambda: sc.Add().cost(sc.Shape(3, 4, 4)), sc.ShapeError, "Add: takes two or more input shapes, got 1"),
    (lambda: sc.ReLU().cost(sc.Shape(3, 4, 4), sc.Shape(3, 4, 4)), sc.ShapeError,
     "ReLU: takes 1 input shape(s), got 2"),
    (lambda: sc.Upsample(mode="area", scale_factor=2), sc.InvalidArgumentError,
     "Upsample: mode must be one of 'nearest', 'nearest-exact', 'linear', 'bilinear', 'bicubic', 'trilinear', "
     "got 'area'"),
    (lambda: sc.Upsample(), sc.InvalidArgumentError,
     "Upsample: size or scale_factor must be set, exactly one of them, got (None, None)"),
    (lambda: sc.Dropout(1.5), sc.InvalidArgumentError, "Dropout: p must be in [0, 1], got 1.5"),
    (lambda: sc.Flatten(start_dim=0), sc.InvalidArgumentError,
     "Flatten: start_dim must not flatten the batch dimension (0), got 0"),
    (lambda: sc.Shape(3, 0, 4), sc.ShapeError, "Shape: entry 1 must be a positive integer, got 0"),
    (lambda: sc.get_convention("flops3"), sc.UnknownConventionError,
     "unknown convention 'flops3'; presets are exact, macs, torchvision, flops2, ptflops, ptflops-aten, fvcore, thop, "
     "torchinfo, torchstat, torchstat-madd, or pass a symcost.Convention"),
]


@pytest.mark.parametrize("build, error, message", INVALID, ids=[c[2][:50] for c in INVALID])
def test_invalid_input_raises_the_specific_error(build, error, message):
    with pytest.raises(error) as caught:
        build()
    assert str(caught.value) == message
    assert isinstance(caught.value, sc.SymcostError)


def test_errors_are_also_builtin_errors():
    with pytest.raises(ValueError):
        sc.Conv2d(8, 3, stride=0)
    with pytest.raises(KeyError):
        sc.layer_class("warp_drive")
    with pytest.raises(TypeError):
        sc.Conv2d(8, 2.5)


def test_numbers_are_checked_again_when_costing():
    layer = sc.Conv2d(8, 7)  # valid on its own, too big for a 4x4 input
    with pytest.raises(sc.ShapeError, match="output height would be -2"):
        layer.cost(sc.Shape(3, 4, 4))
    # groups checked against the incoming channels, which only the shape knows
    with pytest.raises(sc.InvalidArgumentError, match="groups must divide in_channels"):
        sc.Conv2d(8, 3, groups=4).cost(sc.Shape(6, 8, 8))


def test_substituting_numbers_that_break_a_rule_is_refused():
    cost = sc.Conv2d(8, K).cost(sc.Shape(3, W, W))
    with pytest.raises(sc.ShapeError) as caught:
        cost.subs(K=7, W=4)
    assert str(caught.value) == ("with K=7, W=4: Conv2d: kernel_size does not fit in the padded input height "
                                 "(input 4, padding 0, effective kernel 7): output height would be -2, must be >= 1")


def test_symbolic_arguments_pass_when_undecidable():
    cost = sc.Conv2d(8, K, stride=S).cost(sc.Shape(C_in, W, W))
    assert cost.out_shape.H == sympy.floor((W - K) / S) + 1


def test_floats_never_enter_a_formula():
    with pytest.raises(sc.ArgumentTypeError, match="must be exact"):
        sc.Shape(3, 224.0, 224)
    with pytest.raises(sc.ArgumentTypeError, match="must be exact"):
        sc.Upsample(scale_factor=1.5)
    cost = sc.Upsample(scale_factor=sympy.Rational(3, 2)).cost(sc.Shape(1, 5, 5))
    assert cost.out_shape == sc.Shape(1, 7, 7)


def test_unknown_kind_lists_known_kinds():
    with pytest.raises(sc.UnknownLayerError) as caught:
        sc.layer_class("warp_drive")
    message = str(caught.value)
    assert message.startswith("unknown layer kind 'warp_drive'; known kinds: ")
    for kind in ("Conv2d", "ConvTranspose2d", "ReLU", "Upsample"):
        assert kind in message
