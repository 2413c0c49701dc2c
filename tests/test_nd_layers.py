"""Convolutions, pools, batch norms in 1-D, 2-D and 3-D, and interpolation, against two independent judges.

* The brute-force reference (``brute_force``, plain loops on counting numbers)
  must agree with symcost on every primitive count, the ``macs``/``bias``
  labels, the output shape and the parameter and buffer counts; half the
  examples are derived once on symbolic spatial sizes (L; H, W; T, H, W) and
  then substituted, so the closed forms are judged, not only the numbers.
* torch: output shapes, ``sum(p.numel())``, buffers, refusals, and MACs equal
  to ``FlopCounterMode`` // 2 (it counts convolutions; pools, batch norms and
  interpolation count 0 there, as in symcost's ``macs``), symbolic sizes included.
* A torchvision r3d_18 ``BasicBlock`` (3x3x3 convs, BatchNorm3d, a strided 1x1x1
  downsample, the residual add) derived once with symbolic T, H, W, then three
  concrete clips: params equal torch's numel, MACs FlopCounterMode // 2.
* Receptive fields of 1-D and 3-D maps, by hand; spec files; one-line errors.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import brute_force as bf
import symcost as sc
from symcost.symbols import H, L, W, symbol
from test_brute_force import check

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from test_torch_parity import assert_params, compare  # noqa: E402

T = symbol("T")
SPATIAL = {1: (L,), 2: (H, W), 3: (T, H, W)}

_BASE = dict(deadline=None, derandomize=True, database=None,
             suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
BRUTE = settings(max_examples=60, **_BASE)
TORCH = settings(max_examples=80, **_BASE)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


class Symbolic:
    """``layer`` costed once on symbolic spatial sizes, then the input's numbers substituted."""

    def __init__(self, layer: sc.Layer):
        self.layer = layer

    def cost(self, shape: sc.Shape) -> sc.Cost:
        dims = tuple(shape)
        symbols = SPATIAL[len(dims) - 1] if len(dims) > 1 else ()
        derived = self.layer.cost(sc.Shape(dims[0], *symbols))
        return derived.subs(dict(zip(symbols, dims[1:])))

    def __repr__(self) -> str:
        return f"Symbolic({self.layer!r})"


def judged(layer: sc.Layer, symbolic: bool):
    return Symbolic(layer) if symbolic else layer


def per_axis(nd: int, lo: int, hi: int):
    """An int or a per-axis tuple, the two forms torch takes."""
    return st.one_of(st.integers(lo, hi), st.tuples(*[st.integers(lo, hi)] * nd))


def axes(value, nd: int) -> tuple:
    return tuple(value) if isinstance(value, tuple) else (value,) * nd


def macs_of(module, in_shape) -> int:
    """Half of FlopCounterMode's total on a batch of one."""
    module.eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(torch.zeros(1, *in_shape))
    return counter.get_total_flops() // 2


def torch_check(make_torch, layer, in_shape, symbolic):
    """Shapes and refusals (test_torch_parity.compare), params, buffers and MACs against torch."""
    module, cost = compare(make_torch, lambda: judged(layer, symbolic), in_shape)
    if module is None:
        return
    assert_params(cost, module)
    assert int(cost.macs) == macs_of(module, in_shape)


# --------------------------------------------------------------------------
# Strategies: configurations valid for torch (invalid ones are checked as refusals)
# --------------------------------------------------------------------------
@st.composite
def conv_configs(draw, max_side=None):
    nd = draw(st.sampled_from([1, 2, 3]))
    side = max_side or {1: 9, 2: 6, 3: 4}[nd]
    groups = draw(st.sampled_from([1, 2]))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    shape = (c_in, *(draw(st.integers(1, side)) for _ in range(nd)))
    kw = dict(kernel_size=draw(per_axis(nd, 1, 3)), stride=draw(per_axis(nd, 1, 2)),
              dilation=draw(per_axis(nd, 1, 2)), groups=groups, bias=draw(st.booleans()))
    stride_one = all(s == 1 for s in axes(kw["stride"], nd))
    kw["padding"] = draw(st.one_of(per_axis(nd, 0, 2), st.just("valid"),
                                   *([st.just("same")] if stride_one else [])))
    return nd, shape, c_out, kw


@st.composite
def conv_transpose_configs(draw):
    nd = draw(st.sampled_from([1, 2, 3]))
    side = {1: 6, 2: 4, 3: 3}[nd]
    groups = draw(st.sampled_from([1, 2]))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    shape = (c_in, *(draw(st.integers(1, side)) for _ in range(nd)))
    k, s, d = (axes(draw(per_axis(nd, lo, hi)), nd) for lo, hi in ((1, 3), (1, 3), (1, 2)))
    op = tuple(draw(st.integers(0, max(si, di) - 1)) for si, di in zip(s, d))
    kw = dict(kernel_size=k, stride=s, dilation=d, padding=draw(per_axis(nd, 0, 2)), output_padding=op,
              groups=groups, bias=draw(st.booleans()))
    return nd, shape, c_out, kw


@st.composite
def pool_configs(draw, avg: bool):
    nd = draw(st.sampled_from([1, 2, 3]))
    side = {1: 9, 2: 6, 3: 5}[nd]
    shape = (draw(st.integers(1, 2)), *(draw(st.integers(1, side)) for _ in range(nd)))
    k = axes(draw(per_axis(nd, 1, 3)), nd)
    kw = dict(kernel_size=k, stride=draw(st.one_of(st.none(), per_axis(nd, 1, 3))),
              padding=tuple(draw(st.integers(0, ki // 2)) for ki in k), ceil_mode=draw(st.booleans()))
    if avg:
        kw["count_include_pad"] = draw(st.booleans())
        if nd > 1:
            kw["divisor_override"] = draw(st.one_of(st.none(), st.integers(1, 5)))
    else:
        kw["dilation"] = draw(per_axis(nd, 1, 2))
    return nd, shape, kw


@st.composite
def adaptive_configs(draw):
    nd = draw(st.sampled_from([1, 2, 3]))
    side = {1: 9, 2: 6, 3: 5}[nd]
    shape = (draw(st.integers(1, 2)), *(draw(st.integers(1, side)) for _ in range(nd)))
    entry = st.integers(1, side) if nd == 1 else st.one_of(st.none(), st.integers(1, side))  # torch: no None in 1-D
    output = draw(st.one_of(st.integers(1, side), st.tuples(*[entry] * nd)))
    return nd, shape, output


@st.composite
def interpolate_configs(draw):
    mode = draw(st.sampled_from(["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear"]))
    nd = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}.get(mode) or draw(st.integers(1, 3))
    side = {1: 6, 2: 4, 3: 3}[nd]
    shape = (draw(st.integers(1, 2)), *(draw(st.integers(1, side)) for _ in range(nd)))
    kw = dict(mode=mode)
    if draw(st.booleans()):
        kw["size"] = draw(per_axis(nd, 1, side + 2))
    else:
        factors = st.sampled_from([Fraction(1, 2), Fraction(1), Fraction(3, 2), Fraction(2), Fraction(3)])
        kw["scale_factor"] = draw(st.one_of(factors, st.tuples(*[factors] * nd)))
        out = [int(n * f) for n, f in zip(shape[1:], axes(kw["scale_factor"], nd))]
        assume(min(out) >= 1)
    if mode not in ("nearest", "nearest-exact"):
        kw["align_corners"] = draw(st.sampled_from([None, False, True]))
    return nd, shape, kw


def floats(kw: dict) -> dict:
    """Scale factors as torch and the reference take them."""
    f = kw.get("scale_factor")
    if f is None:
        return kw
    return {**kw, "scale_factor": tuple(map(float, f)) if isinstance(f, tuple) else float(f)}


CONV = {1: sc.Conv1d, 2: sc.Conv2d, 3: sc.Conv3d}
CONV_T = {1: sc.ConvTranspose1d, 2: sc.ConvTranspose2d, 3: sc.ConvTranspose3d}
MAX = {1: sc.MaxPool1d, 2: sc.MaxPool2d, 3: sc.MaxPool3d}
AVG = {1: sc.AvgPool1d, 2: sc.AvgPool2d, 3: sc.AvgPool3d}
ADAPTIVE_AVG = {1: sc.AdaptiveAvgPool1d, 2: sc.AdaptiveAvgPool2d, 3: sc.AdaptiveAvgPool3d}
ADAPTIVE_MAX = {1: sc.AdaptiveMaxPool1d, 2: sc.AdaptiveMaxPool2d, 3: sc.AdaptiveMaxPool3d}
BN = {1: sc.BatchNorm1d, 2: sc.BatchNorm2d, 3: sc.BatchNorm3d}


# --------------------------------------------------------------------------
# 1. The brute-force reference
# --------------------------------------------------------------------------
@BRUTE
@given(conv_configs(max_side=5), st.booleans())
def test_conv_nd_matches_brute_force(config, symbolic):
    nd, shape, c_out, kw = config
    check(judged(CONV[nd](c_out, **kw), symbolic), bf._conv, shape, nd=nd, out_channels=c_out, **kw)


@BRUTE
@given(conv_transpose_configs(), st.booleans())
def test_conv_transpose_nd_matches_brute_force(config, symbolic):
    nd, shape, c_out, kw = config
    fn = {1: bf.conv_transpose1d, 2: bf.conv_transpose2d, 3: bf.conv_transpose3d}[nd]
    check(judged(CONV_T[nd](c_out, **kw), symbolic), fn, shape, out_channels=c_out, **kw)


@BRUTE
@given(pool_configs(avg=False), st.booleans())
def test_max_pool_nd_matches_brute_force(config, symbolic):
    nd, shape, kw = config
    fn = {1: bf.max_pool1d, 2: bf.max_pool2d, 3: bf.max_pool3d}[nd]
    check(judged(MAX[nd](**kw), symbolic), fn, shape, **kw)


@BRUTE
@given(pool_configs(avg=True), st.booleans())
def test_avg_pool_nd_matches_brute_force(config, symbolic):
    nd, shape, kw = config
    fn = {1: bf.avg_pool1d, 2: bf.avg_pool2d, 3: bf.avg_pool3d}[nd]
    assume(nd < 3 or holds_kernel(shape, kw))  # torch refuses these (see test_avg_pool3d_needs_the_kernel_inside)
    check(judged(AVG[nd](**kw), symbolic), fn, shape, **kw)


@BRUTE
@given(adaptive_configs(), st.booleans(), st.booleans())
def test_adaptive_pools_nd_match_brute_force(config, use_max, symbolic):
    nd, shape, output = config
    if use_max:
        fn, layer = getattr(bf, f"adaptive_max_pool{nd}d"), ADAPTIVE_MAX[nd](output)
    else:
        fn, layer = getattr(bf, f"adaptive_avg_pool{nd}d"), ADAPTIVE_AVG[nd](output)
    check(judged(layer, symbolic), fn, shape, output_size=output)


@BRUTE
@given(st.sampled_from([(1, 1), (1, 2), (2, 3), (3, 4)]), st.integers(1, 4), st.integers(1, 4),
       st.booleans(), st.booleans(), st.booleans())
def test_batch_norm_nd_matches_brute_force(nd_rank, ch, side, affine, track, symbolic):
    nd, rank = nd_rank
    shape = (ch, *[side] * (rank - 1))
    fn = {1: bf.batch_norm1d, 2: bf.batch_norm2d, 3: bf.batch_norm3d}[nd]
    layer = BN[nd](ch, affine=affine, track_running_stats=track)
    check(judged(layer, symbolic), fn, shape, affine=affine, track_running_stats=track)


@BRUTE
@given(interpolate_configs(), st.booleans())
def test_interpolate_matches_brute_force(config, symbolic):
    nd, shape, kw = config
    check(judged(sc.Upsample(**kw), symbolic), bf.interpolate, shape, **floats(kw))


def test_interpolation_counts_per_output():
    """The per-output counts the reference's docstring states, one output element each."""
    for mode, shape, counts in [("linear", (1, 1), (2, 1)), ("bilinear", (1, 1, 1), (6, 3)),
                                ("trilinear", (1, 1, 1, 1), (14, 7)), ("bicubic", (1, 1, 1), (20, 15)),
                                ("nearest", (1, 1, 1, 1), (0, 0))]:
        ops = sc.Upsample(size=1, mode=mode).cost(sc.Shape(*shape)).ops
        assert (ops.mul, ops.add) == counts, mode


# --------------------------------------------------------------------------
# 2. torch
# --------------------------------------------------------------------------
@TORCH
@given(conv_configs(), st.booleans())
def test_conv_nd_matches_torch(config, symbolic):
    nd, shape, c_out, kw = config
    module = getattr(nn, f"Conv{nd}d")
    torch_check(lambda: module(shape[0], c_out, **kw), CONV[nd](c_out, **kw), shape, symbolic)


@TORCH
@given(conv_transpose_configs(), st.booleans())
def test_conv_transpose_nd_matches_torch(config, symbolic):
    nd, shape, c_out, kw = config
    module = getattr(nn, f"ConvTranspose{nd}d")
    torch_check(lambda: module(shape[0], c_out, **kw), CONV_T[nd](c_out, **kw), shape, symbolic)


@TORCH
@given(pool_configs(avg=False), st.booleans())
def test_max_pool_nd_matches_torch(config, symbolic):
    nd, shape, kw = config
    torch_check(lambda: getattr(nn, f"MaxPool{nd}d")(**kw), MAX[nd](**kw), shape, symbolic)


@TORCH
@given(pool_configs(avg=True), st.booleans())
def test_avg_pool_nd_matches_torch(config, symbolic):
    nd, shape, kw = config
    assume(not (symbolic and nd == 3 and not holds_kernel(shape, kw)))  # a symbolic size cannot be refused
    torch_check(lambda: getattr(nn, f"AvgPool{nd}d")(**kw), AVG[nd](**kw), shape, symbolic)


def holds_kernel(shape, kw) -> bool:
    return all(n >= k for n, k in zip(shape[1:], kw["kernel_size"]))


def test_avg_pool3d_needs_the_kernel_inside():
    """torch's avg_pool3d refuses an unpadded input smaller than the kernel, padding or not (2-D does not)."""
    with pytest.raises(RuntimeError, match="smaller than kernel size"):
        nn.AvgPool3d(2, padding=1)(torch.zeros(1, 1, 1, 4, 4))
    out = nn.AvgPool2d(2, padding=1)(torch.zeros(1, 1, 1, 4)).shape[1:]
    with pytest.raises(sc.ShapeError, match="AvgPool3d: kernel_size 2 is larger than the input time 1"):
        sc.AvgPool3d(2, padding=1).cost(sc.Shape(1, 1, 4, 4))
    assert sc.AvgPool2d(2, padding=1).cost(sc.Shape(1, 1, 4)).out_shape == sc.Shape(*out) == sc.Shape(1, 1, 3)


@TORCH
@given(adaptive_configs(), st.booleans(), st.booleans())
def test_adaptive_pools_nd_match_torch(config, use_max, symbolic):
    nd, shape, output = config
    kind = "Max" if use_max else "Avg"
    layer = (ADAPTIVE_MAX if use_max else ADAPTIVE_AVG)[nd](output)
    torch_check(lambda: getattr(nn, f"Adaptive{kind}Pool{nd}d")(output), layer, shape, symbolic)


@TORCH
@given(st.sampled_from([(1, 1), (1, 2), (3, 4)]), st.integers(1, 4), st.integers(1, 4), st.booleans(),
       st.booleans(), st.booleans())
def test_batch_norm_nd_matches_torch(nd_rank, ch, side, affine, track, symbolic):
    nd, rank = nd_rank
    shape = (ch, *[side] * (rank - 1))
    layer = BN[nd](ch, affine=affine, track_running_stats=track)
    make = lambda: getattr(nn, f"BatchNorm{nd}d")(ch, affine=affine, track_running_stats=track)  # noqa: E731
    # without running statistics torch normalises by the batch's own, needing two values per channel
    assume(track or len(shape) > 1 and side > 1)
    torch_check(make, layer, shape, symbolic)


@TORCH
@given(interpolate_configs(), st.booleans())
def test_interpolate_matches_torch(config, symbolic):
    nd, shape, kw = config
    torch_check(lambda: nn.Upsample(**floats(kw)), sc.Upsample(**kw), shape, symbolic)


# --------------------------------------------------------------------------
# 3. A 3-D ResNet basic block (torchvision r3d_18), one symbolic derivation
# --------------------------------------------------------------------------
class BasicBlock3d(nn.Module):
    """torchvision.models.video.resnet.BasicBlock with Conv3DSimple and a downsample, written out."""

    def __init__(self, inplanes: int, planes: int, stride: int):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv3d(inplanes, planes, (3, 3, 3), stride=stride, padding=1, bias=False),
                                   nn.BatchNorm3d(planes), nn.ReLU(inplace=True))
        self.conv2 = nn.Sequential(nn.Conv3d(planes, planes, (3, 3, 3), stride=1, padding=1, bias=False),
                                   nn.BatchNorm3d(planes))
        self.relu = nn.ReLU(inplace=True)
        self.downsample = nn.Sequential(nn.Conv3d(inplanes, planes, kernel_size=1, stride=stride, bias=False),
                                        nn.BatchNorm3d(planes))

    def forward(self, x):
        out = self.conv2(self.conv1(x))
        return self.relu(out + self.downsample(x))


def basic_block_3d(planes: int, stride: int) -> sc.Sequential:
    body = sc.Sequential(sc.Conv3d(planes, 3, stride=stride, padding=1, bias=False), sc.BatchNorm3d(), sc.ReLU(),
                         sc.Conv3d(planes, 3, padding=1, bias=False), sc.BatchNorm3d())
    shortcut = sc.Sequential(sc.Conv3d(planes, 1, stride=stride, bias=False), sc.BatchNorm3d())
    return sc.Sequential(sc.Residual(body, shortcut), sc.ReLU())


def test_r3d_basic_block_matches_torch_at_three_sizes_from_one_derivation():
    inplanes, planes = 4, 8
    report = basic_block_3d(planes, 2).analyze(sc.Shape(inplanes, T, H, W))
    assert report.total.macs.free_symbols == {T, H, W}
    module = BasicBlock3d(inplanes, planes, 2)
    params = sum(p.numel() for p in module.parameters())
    for t, h, w in [(4, 8, 8), (5, 7, 9), (3, 6, 11)]:
        numbers = report.subs(T=t, H=h, W=w)
        out = torch_forward_shape(module, (inplanes, t, h, w))
        assert tuple(int(d) for d in numbers.rows[-1].cost.out_shape) == out
        assert numbers.total.params == params
        assert numbers.total.macs == macs_of(module, (inplanes, t, h, w))


def torch_forward_shape(module, in_shape):
    module.eval()
    with torch.no_grad():
        return tuple(module(torch.zeros(1, *in_shape)).shape[1:])


# --------------------------------------------------------------------------
# 4. Receptive fields, spec files, errors
# --------------------------------------------------------------------------
def test_receptive_field_of_a_1d_map_by_hand():
    # conv k3: r 3; pool k2 s2: r 4, j 2; conv k3 d2 (span 5): r 4 + 4*2 = 12, j 2
    net = sc.Sequential(sc.Conv1d(4, 3), sc.MaxPool1d(2), sc.Conv1d(4, 3, dilation=2, padding=1))
    rf = net.analyze(sc.Shape(2, L)).rf
    assert (rf.size, rf.stride, rf.padding) == ((12,), (2,), (2,))


def test_receptive_field_of_a_3d_map_by_hand():
    # (time, height, width): conv k(1,3,3) p(0,1,1) -> r (1,3,3); pool k=s=(1,2,2) -> r (1,4,4), j (1,2,2);
    # conv k3 -> r (3,8,8); global pool over the (4,6,6) map left: r (3+3, 8+5*2, ...), j (4, 12, 12)
    net = sc.Sequential(sc.Conv3d(4, (1, 3, 3), padding=(0, 1, 1)), sc.MaxPool3d((1, 2, 2)),
                        sc.Conv3d(4, 3), sc.AdaptiveAvgPool3d(1))
    report = net.analyze(sc.Shape(2, 6, 16, 16))
    third = report.rows[2].rf
    assert (third.size, third.stride, third.padding) == ((3, 8, 8), (1, 2, 2), (0, 1, 1))
    assert (report.rf.size, report.rf.stride, report.rf.padding) == ((6, 18, 18), (4, 12, 12), (0, 1, 1))


def test_nd_kinds_load_from_a_spec_file():
    from symcost.frontends.spec import loads
    text = """
symbols: [T]
input: [3, T, H, W]
layers:
  - {kind: Conv3d, out_channels: 8, kernel_size: [1, 3, 3], padding: [0, 1, 1], bias: false}
  - {kind: BatchNorm3d}
  - {kind: MaxPool3d, kernel_size: [1, 2, 2]}
  - {kind: AvgPool3d, kernel_size: 2, ceil_mode: true, divisor_override: 3}
  - {kind: Upsample, scale_factor: [1, 2, 2], mode: trilinear, align_corners: false}
  - {kind: AdaptiveMaxPool3d, output_size: [1, null, 2]}
"""
    report = loads(text).analyze()
    numbers = report.subs(T=4, H=8, W=8)
    assert tuple(int(d) for d in numbers.rows[-1].cost.out_shape) == (8, 1, 4, 2)
    assert numbers.total.params == 8 * 3 * 9 + 2 * 8
    one_d = loads("symbols: [L]\ninput: [2, L]\nlayers: [{kind: Conv1d, out_channels: 4, kernel_size: 3}, "
                  "{kind: BatchNorm1d}, {kind: ConvTranspose1d, out_channels: 2, kernel_size: 2, stride: 2}, "
                  "{kind: Upsample, size: 7, mode: linear}, {kind: AdaptiveAvgPool1d, output_size: 1}]")
    assert one_d.analyze().subs(L=9).rows[-1].cost.out_shape.dims == (2, 1)


@pytest.mark.parametrize("build, error, message", [
    (lambda: sc.Conv3d(4, (3, 3)), sc.InvalidArgumentError,
     "Conv3d: kernel_size must be one value or a (time, height, width) triple, got (3, 3)"),
    (lambda: sc.Conv1d(4, 3).cost(sc.Shape(2, 8, 8)), sc.ShapeError,
     "Conv1d: expects a (C, L) map, got (2, 8, 8)"),
    (lambda: sc.MaxPool3d(2).cost(sc.Shape(2, 8, 8)), sc.ShapeError,
     "MaxPool3d: expects a (C, T, H, W) map, got (2, 8, 8)"),
    (lambda: sc.Conv3d(4, 3).cost(sc.Shape(2, 2, 8, 8)), sc.ShapeError,
     "Conv3d: kernel_size does not fit in the padded input time"),
    (lambda: sc.AvgPool3d(2, divisor_override=0), sc.InvalidArgumentError,
     "AvgPool3d: divisor_override must not be zero, as torch requires, got 0"),
    (lambda: sc.BatchNorm1d().cost(sc.Shape(2, 3, 4)), sc.ShapeError,
     "BatchNorm1d: expects a (C,) vector or a (C, L) map, got (2, 3, 4)"),
    (lambda: sc.BatchNorm3d(3).cost(sc.Shape(2, 3, 4, 4)), sc.ShapeError,
     "BatchNorm3d: num_features is 3 but the input has 2 channels"),
    (lambda: sc.Upsample(scale_factor=2, mode="bilinear").cost(sc.Shape(2, 8)), sc.ShapeError,
     "Upsample: expects a (C, H, W) feature map, got (2, 8)"),
    (lambda: sc.Upsample(size=(2, 2), mode="trilinear"), sc.InvalidArgumentError,
     "Upsample: size must be one value or a (time, height, width) triple, got (2, 2)"),
    (lambda: sc.Upsample(size=(4, 4)).cost(sc.Shape(2, 8)), sc.ShapeError,
     "Upsample: size has 2 entries but the input (2, 8) has 1 spatial axes"),
    (lambda: sc.Upsample(scale_factor=2, align_corners=True), sc.InvalidArgumentError,
     "Upsample: align_corners only applies to modes 'linear', 'bilinear', 'bicubic', 'trilinear', got True"),
    (lambda: sc.Upsample(scale_factor=2, mode="area"), sc.InvalidArgumentError,
     "Upsample: mode must be one of 'nearest', 'nearest-exact', 'linear', 'bilinear', 'bicubic', 'trilinear'"),
])
def test_one_line_errors(build, error, message):
    with pytest.raises(error) as info:
        build()
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_from_torch_reads_the_nd_modules():
    """from_torch of the r3d block and of a 1-D stack: the same closed forms as the hand-built networks."""
    traced = sc.from_torch(BasicBlock3d(4, 8, 2)).analyze(sc.Shape(4, T, H, W))
    built = basic_block_3d(8, 2).analyze(sc.Shape(4, T, H, W))
    assert sympy.simplify(traced.total.macs - built.total.macs) == 0
    assert traced.total.params == built.total.params
    one_d = nn.Sequential(nn.Conv1d(2, 4, 3), nn.BatchNorm1d(4), nn.MaxPool1d(2), nn.AvgPool1d(2),
                          nn.AdaptiveMaxPool1d(3), nn.Upsample(scale_factor=2, mode="linear"),
                          nn.ConvTranspose1d(4, 2, 2, stride=2))
    report = sc.from_torch(one_d).analyze(sc.Shape(2, 40))
    assert tuple(report.rows[-1].cost.out_shape) == torch_forward_shape(one_d, (2, 40))
    assert report.total.params == sum(p.numel() for p in one_d.parameters())
    assert report.total.macs == macs_of(one_d, (2, 40))


def test_adaptive_bins_of_huge_numbers_are_closed_forms():
    """Coverage and widest bin of numeric sizes without a loop over the bins (a billion bins returns at once),
    equal to torch's bins enumerated one by one."""
    for size in range(1, 30):
        for bins in range(1, 34):
            lengths = [-(-(i + 1) * size // bins) - (i * size // bins) for i in range(bins)]
            layer = sc.AdaptiveMaxPool1d(bins).cost(sc.Shape(1, size))
            assert layer.ops.cmp == sum(lengths) - bins
            assert layer.rf[0].kernel == (max(lengths),)
    huge = sc.AdaptiveAvgPool3d((10**9, 1, 1)).cost(sc.Shape(1, 10**9 + 1, 2, 2))
    assert huge.ops.add == (2 * 10**9 + 1 - 1) * 4 - 10**9
    assert huge.rf[0].kernel[0] == 2
