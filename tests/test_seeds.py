"""Published and seed figures, each checked against the number in its source."""

import sympy

import symcost as sc
from symcost.symbols import C_in, C_out, D_in, D_out, K, W

SEED003 = sc.Convention("seed003", {"macs": 1, "bias": 1}, "(K^2*C_in + 1)*H_out*W_out*C_out")


def test_vgg16_first_conv_has_1728_weights():
    cost = sc.Conv2d(64, 3, padding=1).cost(sc.Shape(3, 224, 224))
    assert cost.params.weight == 1_728
    assert cost.params.bias == 64


def test_vgg16_first_fc_has_102760448_weights():
    flat = sc.Flatten().cost(sc.Shape(512, 7, 7)).out_shape
    assert flat == sc.Shape(25_088)
    assert sc.Linear(4096).cost(flat).params.weight == 102_760_448


def test_alexnet_conv1_at_227():
    cost = sc.Conv2d(96, 11, stride=4).cost(sc.Shape(3, 227, 227))
    assert cost.params.total == 34_944
    assert cost.out_shape == sc.Shape(96, 55, 55)
    assert cost.flops(SEED003) == 105_705_600


def test_seed003_convention_is_the_seed_formula():
    cost = sc.Conv2d(C_out, K, bias=True).cost(sc.Shape(C_in, W, W))
    h_out = cost.out_shape.H
    assert sympy.expand(cost.flops(SEED003) - (K**2 * C_in + 1) * h_out**2 * C_out) == 0


def test_seed004_pointwise_conv_keeps_227():
    cost = sc.Conv2d(32, 1).cost(sc.Shape(512, 227, 227))
    assert cost.out_shape == sc.Shape(32, 227, 227)


def test_seed002_separable_params_without_bias():
    cost = sc.SeparableConv2d(C_out, K, padding="same", bias=False).cost(sc.Shape(C_in, W, W))
    assert sympy.expand(cost.params.total - (K**2 + C_out) * C_in) == 0


def test_seed002_separable_flops():
    cost = sc.SeparableConv2d(C_out, K, padding="same").cost(sc.Shape(C_in, W, W))
    h_out, w_out = cost.out_shape.H, cost.out_shape.W
    assert sympy.expand(cost.flops() - 2 * (K**2 + C_out) * h_out * w_out * C_in) == 0


def test_seed000_fc_flops():
    without_bias = sc.Linear(D_out, bias=False).cost(sc.Shape(D_in)).flops()
    with_bias = sc.Linear(D_out).cost(sc.Shape(D_in)).flops()
    assert sympy.expand(without_bias - (2 * D_in - 1) * D_out) == 0
    assert sympy.expand(with_bias - 2 * D_in * D_out) == 0


def test_fc_flops_numbers():
    # AlexNet fc6: 9216 -> 4096.
    assert sc.Linear(4096, bias=False).cost(sc.Shape(9216)).flops() == (2 * 9216 - 1) * 4096
    assert sc.Linear(4096).cost(sc.Shape(9216)).flops() == 2 * 9216 * 4096
