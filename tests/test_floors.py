"""Floor modes: exact keeps floors, divisible gives polynomials that agree wherever they apply.

The exact-mode engine is checked against torch and a brute-force counter
elsewhere; here every divisible-mode polynomial is checked against exact
numeric reports at sizes on its grid, and against hand-derived formulas.
"""

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symcost as sc
from symcost.symbols import C, H, W, symbol


def resnet_stem_and_stage():
    """conv 7/2/3, max pool 3/2/1, a stride-2 bottleneck-like residual: total stride 8."""
    down = sc.Residual(
        sc.Sequential(sc.Conv2d(32, 1, bias=False), sc.Conv2d(32, 3, stride=2, padding=1, bias=False),
                      sc.Conv2d(64, 1, bias=False), name=""),
        shortcut=sc.Sequential(sc.Conv2d(64, 1, stride=2, bias=False), name="downsample"),
    )
    return sc.Sequential(sc.Conv2d(16, 7, stride=2, padding=3, bias=False), sc.ReLU(),
                         sc.MaxPool2d(3, stride=2, padding=1), down, sc.AdaptiveAvgPool2d(1), sc.Flatten(),
                         sc.Linear(10))


def test_divisible_mode_is_a_polynomial_with_the_hand_derived_coefficients():
    report = resnet_stem_and_stage().analyze(sc.Shape(3, H, W), floor="divisible")
    macs = sympy.Poly(report.total.macs, H, W)
    # Per output pixel at each resolution (by hand): stem 3*49*16 at H/2; at H/4: 16*32 (1x1);
    # at H/8: 32*32*9 + 32*64 + 16*64 (downsample); classifier 64*10 is constant.
    expected = sympy.Poly(3 * 49 * 16 * H * W / 4 + 16 * 32 * H * W / 16
                          + (32 * 32 * 9 + 32 * 64 + 16 * 64) * H * W / 64 + 640, H, W)
    assert macs == expected
    assert [a.expr for a in report.assumptions] == [H / 8, W / 8]


@pytest.mark.parametrize("h, w", [(224, 224), (256, 320), (8, 16), (1024, 8)])
def test_divisible_and_exact_agree_on_the_grid(h, w):
    net = resnet_stem_and_stage()
    divisible = net.analyze(sc.Shape(3, H, W), floor="divisible").subs(H=h, W=w)
    exact = net.analyze(sc.Shape(3, h, w))
    assert divisible.total.macs == exact.total.macs
    assert divisible.total.flops() == exact.total.flops()
    assert divisible.total.activations == exact.total.activations
    assert divisible.out_shape == exact.out_shape
    assert [r.cost.out_shape for r in divisible.rows] == [r.cost.out_shape for r in exact.rows]


def test_divisible_mode_refuses_sizes_off_the_grid():
    report = resnet_stem_and_stage().analyze(sc.Shape(3, H, W), floor="divisible")
    with pytest.raises(sc.DivisibilityError) as caught:
        report.subs(H=193, W=160)
    assert str(caught.value) == (
        "Sequential: floor='divisible' assumes H/8 is an integer (the network's total stride along H is 8), "
        "but with H=193, W=160 it is 193/8; use floor='exact' for these sizes"
    )
    assert isinstance(caught.value, ValueError)
    exact = resnet_stem_and_stage().analyze(sc.Shape(3, H, W)).subs(H=193, W=160)
    assert exact.total.macs == resnet_stem_and_stage().analyze(sc.Shape(3, 193, 160)).total.macs


def test_adaptive_pool_bins_become_an_assumption():
    net = sc.Sequential(sc.Conv2d(8, 3, padding=1), sc.MaxPool2d(2), sc.AdaptiveAvgPool2d(7, name="avgpool"))
    report = net.analyze(sc.Shape(3, H, W), floor="divisible")
    assert [(a.expr, a.reason) for a in report.assumptions] == [
        (H / 14, "avgpool (AdaptiveAvgPool2d) divides exactly"),
        (W / 14, "avgpool (AdaptiveAvgPool2d) divides exactly"),
    ]
    # Each input pixel of the pool is read once when the bins divide the input.
    assert report.row("avgpool").cost.ops.add == 8 * H * W / 4 - 8 * 49
    assert report.subs(H=28, W=42).total.flops() == net.analyze(sc.Shape(3, 28, 42)).total.flops()
    with pytest.raises(sc.DivisibilityError, match="assumes H/14 is an integer"):
        report.subs(H=16, W=14)


def test_symbolic_stride_is_taken_as_exact_division():
    s = symbol("s")
    report = sc.Sequential(sc.Conv2d(C, 3, stride=s)).analyze(sc.Shape(C, H, W), floor="divisible")
    assert report.out_shape == sc.Shape(C, sympy.expand((H - 3) / s + 1), sympy.expand((W - 3) / s + 1))
    assert {a.expr for a in report.assumptions} == {sympy.expand((H - 3) / s), sympy.expand((W - 3) / s)}
    assert report.subs(H=33, W=9, s=3, C=2).out_shape == sc.Shape(2, 11, 3)
    with pytest.raises(sc.DivisibilityError):
        report.subs(H=32, W=9, s=3, C=2)


def test_junctions_that_agree_only_on_the_grid_work_in_divisible_mode():
    # A U-shaped skip: pool then transposed conv gives 2*floor(H/2), equal to H only for even H.
    net = sc.Sequential(sc.Conv2d(4, 3, padding=1),
                        sc.Residual(sc.Sequential(sc.MaxPool2d(2), sc.ConvTranspose2d(4, 2, stride=2))))
    with pytest.raises(sc.ShapeError, match="as formulas"):
        net.analyze(sc.Shape(3, H, W))
    report = net.analyze(sc.Shape(3, H, W), floor="divisible")
    assert report.out_shape == sc.Shape(4, H, W)
    assert report.subs(H=10, W=6).total.flops() == net.analyze(sc.Shape(3, 10, 6)).total.flops()


def test_numeric_input_is_the_same_in_both_modes():
    net = resnet_stem_and_stage()
    assert net.analyze(sc.Shape(3, 97, 61), floor="divisible").total.macs == \
        net.analyze(sc.Shape(3, 97, 61)).total.macs


def test_unknown_floor_mode_is_refused():
    with pytest.raises(sc.InvalidArgumentError, match="floor must be one of 'exact', 'divisible'|floor must be one of"):
        resnet_stem_and_stage().analyze(sc.Shape(3, H, W), floor="round")


@st.composite
def strided_stacks(draw):
    """Random stacks of padded convs and pools with strides 1, 2 or 4."""
    layers = []
    for _ in range(draw(st.integers(1, 5))):
        stride = draw(st.sampled_from([1, 2, 4]))
        kernel = draw(st.integers(1, 7))
        if draw(st.booleans()):
            layers.append(sc.Conv2d(draw(st.integers(1, 8)), kernel, stride=stride, padding=kernel // 2))
        else:
            layers.append(sc.MaxPool2d(kernel, stride=stride, padding=kernel // 2,
                                       ceil_mode=draw(st.booleans())))
    return sc.Sequential(*layers)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(net=strided_stacks(), h=st.integers(1, 6), w=st.integers(1, 6))
def test_divisible_polynomials_match_exact_reports_at_random_grid_points(net, h, w):
    report = net.analyze(sc.Shape(3, H, W), floor="divisible")
    grid = {a.expr.free_symbols.pop(): a.expr for a in report.assumptions}
    step_h = int(1 / grid[H].coeff(H)) if H in grid else 1
    step_w = int(1 / grid[W].coeff(W)) if W in grid else 1
    size_h, size_w = step_h * h * 8, step_w * w * 8   # large enough for every kernel
    exact = net.analyze(sc.Shape(3, size_h, size_w))
    bound = report.subs(H=size_h, W=size_w)
    assert bound.total.flops() == exact.total.flops()
    assert bound.out_shape == exact.out_shape
    assert bound.rf == exact.rf
