"""Closed forms in free symbols, and symbolic comparison."""

import pytest
import sympy

import symcost as sc
from symcost.symbols import C, C_in, C_out, H, K, P, S, W, symbol


def test_conv_output_side_closed_form():
    cost = sc.Conv2d(C_out, K, stride=S, padding=P).cost(sc.Shape(C_in, W, W))
    assert cost.out_shape.H == sympy.floor((W + 2 * P - K) / S) + 1
    assert cost.out_shape.W == cost.out_shape.H
    assert cost.out_shape.C == C_out


def test_conv_same_padding_on_odd_kernel_keeps_the_side():
    k = symbol("k")  # K = 2k + 1 is odd
    cost = sc.Conv2d(C_out, 2 * k + 1, stride=1, padding=k).cost(sc.Shape(C_in, W, W))
    assert cost.out_shape.H == W
    # and the general formula, substituted S=1, P=(K-1)/2, gives W too
    general = sc.Conv2d(C_out, K, stride=S, padding=P).cost(sc.Shape(C_in, W, W)).out_shape.H
    assert general.subs({S: 1, P: (K - 1) / 2}) == W


def test_padding_same_keeps_the_side_for_any_kernel():
    cost = sc.Conv2d(C_out, K, padding="same").cost(sc.Shape(C_in, H, W))
    assert (cost.out_shape.H, cost.out_shape.W) == (H, W)


def test_conv_macs_closed_form():
    cost = sc.Conv2d(C_out, K, stride=S, padding=P).cost(sc.Shape(C_in, W, W))
    side = sympy.floor((W + 2 * P - K) / S) + 1
    assert sympy.expand(cost.macs - K**2 * C_in * C_out * side**2) == 0
    # exact FLOPs: (2*C_in*K^2 - 1 + bias) * outputs; the bias cancels the -1
    assert sympy.expand(cost.flops() - 2 * C_in * K**2 * C_out * side**2) == 0
    no_bias = sc.Conv2d(C_out, K, stride=S, padding=P, bias=False).cost(sc.Shape(C_in, W, W))
    assert sympy.expand(no_bias.flops() - (2 * C_in * K**2 - 1) * C_out * side**2) == 0


def test_separable_over_standard_is_one_over_c_out_plus_one_over_k_squared():
    shape = sc.Shape(C_in, W, W)
    sep = sc.SeparableConv2d(C_out, K, stride=1, padding="same", bias=False)
    std = sc.Conv2d(C_out, K, stride=1, padding="same", bias=False)
    r = sc.ratio(sep, std, "flops", shape, convention="macs")
    assert sympy.simplify(r - (1 / C_out + 1 / K**2)) == 0
    assert r == 1 / C_out + 1 / K**2  # already reduced, structurally
    # params too, and with symbolic padding P and stride S the floors cancel
    assert sc.ratio(sep, std, "params", shape) == 1 / C_out + 1 / K**2
    sep_p = sc.SeparableConv2d(C_out, K, stride=S, padding=P, bias=False)
    std_p = sc.Conv2d(C_out, K, stride=S, padding=P, bias=False)
    assert sc.ratio(sep_p, std_p, "macs", shape) == 1 / C_out + 1 / K**2


def test_ratio_accepts_costs_and_expressions():
    a = sc.ReLU().cost(sc.Shape(C, H, W))
    b = sc.BatchNorm2d().cost(sc.Shape(C, H, W))
    assert sc.ratio(a, b, "flops") == sympy.Rational(1, 2)
    assert sc.ratio(K**2 * C, K * C) == K


def test_ratio_refuses_unknown_metric():
    with pytest.raises(sc.InvalidArgumentError, match="metric must be one of"):
        sc.ratio(sc.ReLU(), sc.ReLU(), "latency", sc.Shape(C, H, W))


def test_substitution_gives_exact_integers():
    cost = sc.Conv2d(C_out, K, stride=S, padding=P).cost(sc.Shape(C_in, H, W))
    bound = cost.subs(C_in=3, C_out=96, K=11, S=4, P=0, H=227, W=227)
    assert bound.out_shape == sc.Shape(96, 55, 55)
    assert isinstance(bound.flops(), sympy.Integer)
    assert bound.flops() == 2 * 11 * 11 * 3 * 96 * 55 * 55
    assert not bound.flops().has(sympy.Float)


def test_symbols_are_positive_integers_with_display_names():
    for s in (W, H, K, S, P, C, C_in, C_out):
        assert s.is_integer and s.is_positive
    assert sc.symbols.latex(C_in * K**2) == r"C_{\mathrm{in}} K^{2}"
    assert symbol("n") is symbol("n")
    assert sympy.Symbol("C_in") != C_in  # why symbols come from one place


def test_ceil_mode_pool_is_exact_piecewise():
    cost = sc.MaxPool2d(K, stride=S, ceil_mode=True).cost(sc.Shape(C, H, W))
    # torch's rule on a case where the last window is dropped: 5, K=2, S=2, P=1 -> 3
    padded = sc.MaxPool2d(2, stride=2, padding=1, ceil_mode=True).cost(sc.Shape(1, 5, 5))
    assert padded.out_shape == sc.Shape(1, 3, 3)
    assert cost.subs(K=3, S=2, H=112, W=112, C=1).out_shape == sc.Shape(1, 56, 56)


def test_adaptive_pool_symbolic_coverage_evaluates_exactly():
    cost = sc.AdaptiveAvgPool2d(3).cost(sc.Shape(1, H, W))
    # bins of 5 over 3: [0,2) [1,4) [3,5): 2 + 3 + 2 = 7 positions per axis
    assert cost.subs(H=5, W=5).ops.add == 7 * 7 - 9
    assert sc.AdaptiveAvgPool2d(sc.symbols.symbol("o")).cost(sc.Shape(1, 5, 5)).subs(o=3).ops.add == 40
