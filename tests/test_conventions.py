"""Conventions are values; one function weighs primitive counts into FLOPs."""

import dataclasses

import pytest
import sympy

import symcost as sc
from symcost.symbols import C, C_in, C_out, H, K, W

SHAPE = sc.Shape(C_in, H, W)


def test_exact_counts_every_operation():
    cost = sc.Conv2d(C_out, K, padding="same", bias=False).cost(SHAPE)
    assert sympy.expand(cost.flops() - (2 * C_in * K**2 - 1) * C_out * H * W) == 0
    assert cost.flops("exact") == cost.flops()


def test_macs_preset_counts_only_conv_and_linear_macs_without_bias():
    conv = sc.Conv2d(C_out, K, padding="same").cost(SHAPE)
    assert sympy.expand(conv.flops("macs") - K**2 * C_in * C_out * H * W) == 0
    for layer in (sc.ReLU(), sc.BatchNorm2d(), sc.MaxPool2d(2), sc.AvgPool2d(2), sc.AdaptiveAvgPool2d(1)):
        assert layer.cost(SHAPE).flops("macs") == 0
    assert sc.Linear(10).cost(sc.Shape(100)).flops("macs") == 1000


def test_flops2_is_two_per_mac():
    conv = sc.Conv2d(C_out, K, stride=2, padding=1).cost(SHAPE)
    assert sympy.expand(conv.flops("flops2") - 2 * conv.macs) == 0
    assert sc.ReLU().cost(SHAPE).flops("flops2") == 0


def test_user_convention_seed003_at_alexnet_conv1():
    seed003 = sc.Convention("seed003", {"macs": 1, "bias": 1})
    assert sc.Conv2d(96, 11, stride=4).cost(sc.Shape(3, 227, 227)).flops(seed003) == 105_705_600


def test_rational_weights_stay_exact():
    half = sc.Convention("half-macs", {"macs": sympy.Rational(1, 2)})
    assert sc.Linear(3, bias=False).cost(sc.Shape(3)).flops(half) == sympy.Rational(9, 2)


@pytest.mark.parametrize("weights, message", [
    ({"latency": 1}, "Convention 'bad': unknown term 'latency'; terms are mul, add, cmp, div, special, macs, bias, attn_macs, masked_macs, attn_scores, lookup_macs"),
    ({"macs": 0.5}, "Convention 'bad': weight of 'macs' must be an int or sympy.Rational, got 0.5"),
])
def test_bad_convention_is_refused(weights, message):
    with pytest.raises(sc.ArgumentTypeError) as caught:
        sc.Convention("bad", weights)
    assert str(caught.value) == message


def test_convention_is_an_immutable_value():
    conv = sc.get_convention("exact")
    with pytest.raises(dataclasses.FrozenInstanceError):
        conv.name = "other"
    assert sc.Convention("exact", {"mul": 1, "add": 1, "cmp": 1, "div": 1, "special": 1},
                         conv.description) == conv


def test_primitive_counts_partition_executed_operations():
    # BN folded: one multiply and one add per element; buffers are not params.
    bn = sc.BatchNorm2d().cost(sc.Shape(C, H, W))
    assert (bn.ops.mul, bn.ops.add) == (C * H * W, C * H * W)
    assert bn.params.total == 2 * C
    assert dict(bn.params.buffers) == {"running_mean": C, "running_var": C, "num_batches_tracked": 1}
    assert bn.flops() == bn.ops.executed == 2 * C * H * W


def test_cost_is_immutable():
    cost = sc.ReLU().cost(SHAPE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cost.out_shape = sc.Shape(1)
