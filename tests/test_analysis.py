"""Analysis helpers, checked against hand derivations, published figures and brute force."""

import pytest
import sympy

import symcost as sc
from symcost import zoo
from symcost.analysis.limits import big_o, elasticity, leading_term, limit
from symcost.analysis.compare import break_even
from symcost.core.evaluate import evaluate
from symcost.analysis.sweep import sweep
from symcost.symbols import C_in, C_out, H, K, W

import brute_force as bf

# VGG16 at 224x224 (torchvision's published 15.47 GMACs): its classifier is
# 25088*4096 + 4096*4096 + 4096*1000 MACs whatever the input (adaptive pool),
# and every conv MAC scales with H*W, so the H*W coefficient is fixed by hand.
VGG16_MACS_224 = 15_470_264_320
VGG16_CLASSIFIER_MACS = 25088 * 4096 + 4096 * 4096 + 4096 * 1000
VGG16_MACS_PER_PIXEL = sympy.Rational(VGG16_MACS_224 - VGG16_CLASSIFIER_MACS, 224 * 224)


def test_break_even_of_separable_and_standard_conv_with_bias():
    sep = sc.SeparableConv2d(C_out, K, padding="same")
    std = sc.Conv2d(C_out, K, padding="same")
    (solution,) = break_even(sep, std, C_out, "flops", sc.Shape(C_in, W, W))
    assert solution == K**2 / (K**2 - 1)
    # Independent check: the DESIGN formulas by hand, per output pixel, both with bias:
    # standard 2*C_in*K^2*C_out; separable 2*K^2*C_in (depthwise) + 2*C_in*C_out (pointwise).
    for k, c_in in [(3, 5), (5, 16), (7, 1), (2, 3)]:
        c_out = solution.subs(K, k)
        assert 2 * c_in * k**2 * c_out == 2 * k**2 * c_in + 2 * c_in * c_out


@pytest.mark.parametrize("k, c_in", [(3, 2), (2, 3)])
def test_break_even_separates_the_brute_force_counts(k, c_in):
    """Below the break-even the separable conv costs more, above it less: counted naively."""
    (solution,) = break_even(sc.SeparableConv2d(C_out, K, padding="same"), sc.Conv2d(C_out, K, padding="same"),
                             C_out, "flops", sc.Shape(C_in, W, W))
    point = solution.subs(K, k)
    for c_out in (1, 2, 3):
        sep = bf.evaluate(bf.separable_conv2d, (c_in, 5, 5), out_channels=c_out, kernel_size=k, padding="same")
        std = bf.evaluate(bf.conv2d, (c_in, 5, 5), out_channels=c_out, kernel_size=k, padding="same")
        assert (sep.total > std.total) == (c_out < point), (c_out, point)


def test_break_even_refuses_floors_and_identical_costs():
    conv = sc.Conv2d(8, 3, stride=2)
    with pytest.raises(sc.InvalidArgumentError, match="must be free of floors"):
        break_even(conv, sc.Conv2d(8, 5, stride=2), W, "flops", sc.Shape(3, W, W))
    with pytest.raises(sc.InvalidArgumentError, match="cost the same for every"):
        break_even(conv, conv, W, "flops", sc.Shape(3, 9, 9))


def test_vgg16_flops_elasticity_in_the_input_side():
    report = zoo.vgg16().analyze(sc.Shape(3, H, H), floor="divisible")
    features = sc.Sequential(zoo.vgg16().body.children[0]).analyze(sc.Shape(3, H, H), floor="divisible")
    # The convolutional part is a pure multiple of H**2: elasticity exactly 2.
    assert elasticity(features.total.flops(), H) == 2
    # The whole network adds a constant classifier: 2 in the limit, a little below at 224.
    whole = elasticity(report.total.flops(), H)
    assert limit(whole, H) == 2
    assert sympy.Rational(198, 100) < whole.subs(H, 224) < 2


def test_vgg16_leading_term_and_big_o_match_the_published_macs():
    exact = zoo.vgg16().analyze(sc.Shape(3, H, H)).total.macs       # floors kept
    assert leading_term(exact, H) == VGG16_MACS_PER_PIXEL * H**2
    assert VGG16_MACS_PER_PIXEL == 305856
    assert big_o(exact, H) == sympy.O(H**2, (H, sympy.oo))
    divisible = zoo.vgg16().analyze(sc.Shape(3, H, W), floor="divisible").total.macs
    assert sympy.Poly(divisible, H, W).coeff_monomial(H * W) == VGG16_MACS_PER_PIXEL
    assert sympy.Poly(divisible, H, W).coeff_monomial(1) == VGG16_CLASSIFIER_MACS


def test_resnet50_divisible_polynomial_matches_the_published_macs():
    macs = zoo.resnet50().analyze(sc.Shape(3, H, W), floor="divisible").total.macs
    poly = sympy.Poly(macs, H, W)
    assert poly.monoms() == [(1, 1), (0, 0)]
    assert poly.coeff_monomial(1) == 2048 * 1000            # the fc layer
    assert poly.coeff_monomial(H * W) * 224 * 224 + 2048 * 1000 == 4_089_184_256


def test_evaluate_is_exact_and_names_unbound_symbols():
    macs = zoo.resnet18().analyze(sc.Shape(3, H, W)).total.macs
    assert evaluate(macs, H=224, W=224) == 1_814_073_344
    assert isinstance(evaluate(macs / 7, H=224, W=224), sympy.Rational)
    with pytest.raises(sc.InvalidArgumentError, match="but W has none"):
        evaluate(macs, H=224)


def test_sweep_fast_and_exact_agree_with_numeric_reports():
    macs = zoo.resnet50().analyze(sc.Shape(3, H, W)).total.macs
    sizes_h, sizes_w = [161, 193, 224], [160, 161, 224]
    fast = sweep(macs, H=sizes_h, W=sizes_w)
    exact = sweep(macs, H=sizes_h, W=sizes_w, exact=True)
    for point, value in exact.rows():
        reference = zoo.resnet50().analyze(sc.Shape(3, point["H"], point["W"])).total.macs
        assert value == reference and type(value) is int
        assert fast.at(**point) == float(reference)
    assert exact.at(H=224, W=224) == 4_089_184_256


def test_sweep_reports_progress_and_refuses_bad_ranges():
    seen = []
    sweep(H * W, H=range(1, 11), W=range(1, 11), progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (100, 100)
    with pytest.raises(sc.InvalidArgumentError, match="missing W"):
        sweep(H * W, H=range(3))
    with pytest.raises(sc.InvalidArgumentError, match="is not a symbol of the formula"):
        sweep(H * W, H=1, W=2, K=3)
    with pytest.raises(sc.InvalidArgumentError, match="values must be ints"):
        sweep(H * W, H=[1.5], W=2)
