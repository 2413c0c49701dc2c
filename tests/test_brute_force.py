"""symcost's exact counts against a naive brute force that counts what it executes.

For every layer kind, hypothesis draws small configurations; ``brute_force``
runs the layer in plain Python loops on counting numbers (it never imports
symcost) and the symcost :class:`~symcost.Cost` must agree on everything:
the output shape, each operation category (mul, add, cmp, div, special), the
exact FLOPs, the ``macs`` and ``bias`` labels, and the parameter and buffer
counts. When the brute force produces no output at all (the kernel does not
fit, a transposed conv crops everything), symcost must refuse the input with
a :class:`~symcost.ShapeError`.

Runs are derandomized and database-free, so CI sees the same examples every
time.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
import sympy
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

import brute_force as bf
import symcost as sc

_BASE = dict(deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
HEAVY = settings(max_examples=800, **_BASE)   # deep loops: convolutions, pools
CHEAP = settings(max_examples=600, **_BASE)   # elementwise and shape-only layers

CATEGORIES = ("mul", "add", "cmp", "div", "special")


# --------------------------------------------------------------------------
# The comparison
# --------------------------------------------------------------------------
def exact(expr: object, what: str) -> int:
    """A count symcost returned, which must be an exact integer for integer inputs."""
    if isinstance(expr, int):
        return expr
    assert isinstance(expr, sympy.Integer), f"{what} is not an exact integer: {expr!r}"
    return int(expr)


def check(layer: sc.Layer, fn, *shapes: tuple[int, ...], **arguments) -> bf.Result:
    """Run the brute force and symcost on the same input and compare everything."""
    note(f"layer={layer!r} shapes={shapes} brute arguments={arguments}")
    run = bf.evaluate(fn, *shapes, **arguments)
    note(f"brute force: {run}")
    inputs = [sc.Shape(*s) for s in shapes]
    if run.empty:
        event("no output: symcost must refuse")
        with pytest.raises(sc.ShapeError):
            layer.cost(*inputs)
        return run
    cost = layer.cost(*inputs)
    note(f"symcost: {cost!r} ops={cost.ops}")

    assert tuple(exact(d, "out_shape entry") for d in cost.out_shape.dims) == run.shape
    assert {f: exact(getattr(cost.ops, f), f) for f in CATEGORIES} == run.ops
    assert exact(cost.flops(), "flops()") == run.total
    assert exact(cost.macs, "macs") == run.macs
    assert exact(cost.ops.bias, "ops.bias") == run.bias_adds
    assert exact(cost.params.weight, "params.weight") == run.weight
    assert exact(cost.params.bias, "params.bias") == run.bias
    assert {name: exact(v, name) for name, v in cost.params.buffers} == run.buffers
    return run


# --------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------
sizes = st.integers(1, 8)
bias_flags = st.booleans()


def shapes(max_side: int = 8) -> st.SearchStrategy[tuple[int, ...]]:
    """Any input shape symcost accepts: (D,), (L, D) or (C, H, W)."""
    side = st.integers(1, max_side)
    return st.one_of(st.tuples(side), st.tuples(side, side), st.tuples(side, side, side))


def maybe_pair(draw, a: int, b: int):
    """``a`` as an int (when both axes agree, sometimes) or the pair ``(a, b)``."""
    if a == b and draw(st.booleans()):
        return a
    return (a, b)


@st.composite
def groups_and_channels(draw, max_channels: int = 4):
    """(groups, in_channels, out_channels) with groups dividing both."""
    g = draw(st.integers(1, max_channels))
    c_in = g * draw(st.integers(1, max_channels // g))
    c_out = g * draw(st.integers(1, max_channels // g))
    return g, c_in, c_out


@st.composite
def window_axes(draw, *, max_pad: int, dilation: bool, pad_limit=None, any_size: bool = False):
    """Per axis (height, width): (input size, kernel, stride, padding, dilation).

    Kernel first (1..5), then the padding (capped by ``pad_limit(kernel)``, torch's
    rule for pools), then a dilation whose span can fit in a side of 8 padded, then
    an input size the span fits in. About one draw in eight takes any size instead,
    so that some kernels overhang (symcost must refuse, or ceil_mode keeps a window).
    """
    square = draw(st.booleans())
    axes = []
    for _ in range(1 if square else 2):
        k = draw(st.integers(1, 5))
        p = draw(st.integers(0, max_pad if pad_limit is None else min(max_pad, pad_limit(k))))
        max_d = 3 if k == 1 else max(1, min(3, (8 + 2 * p - 1) // (k - 1)))
        d = draw(st.integers(1, max_d)) if dilation else 1
        s = draw(st.integers(1, 3))
        smallest = max(1, d * (k - 1) + 1 - 2 * p)
        if any_size or smallest > 8 or draw(st.integers(0, 7)) == 0:
            size = draw(sizes)
        else:
            size = draw(st.integers(smallest, 8))
        axes.append((size, k, s, p, d))
    if square:
        axes.append(axes[0])
    return axes


def pairs(draw, axes, index: int):
    return maybe_pair(draw, axes[0][index], axes[1][index])


# --------------------------------------------------------------------------
# Convolutions and linear
# --------------------------------------------------------------------------
@HEAVY
@given(st.data())
def test_conv2d_matches_brute_force(data):
    draw = data.draw
    g, c_in, c_out = draw(groups_and_channels())
    mode = draw(st.sampled_from(["numbers", "numbers", "same", "valid"]))
    axes = draw(window_axes(max_pad=3 if mode == "numbers" else 0, dilation=True, any_size=mode == "same"))
    if mode == "same":  # torch: 'same' needs stride 1
        axes = [(size, k, 1, 0, d) for size, k, _, _, d in axes]
    padding = pairs(draw, axes, 3) if mode == "numbers" else mode
    kwargs = dict(
        out_channels=c_out, kernel_size=pairs(draw, axes, 1), stride=pairs(draw, axes, 2),
        padding=padding, dilation=pairs(draw, axes, 4), groups=g, bias=draw(bias_flags),
    )
    shape = (c_in, axes[0][0], axes[1][0])
    check(sc.Conv2d(**kwargs), bf.conv2d, shape, **kwargs)


@HEAVY
@given(st.data())
def test_convtranspose2d_matches_brute_force(data):
    draw = data.draw
    g, c_in, c_out = draw(groups_and_channels())
    axes = []
    for _ in range(1 if draw(st.booleans()) else 2):
        size, k, s, d = draw(sizes), draw(st.integers(1, 5)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        op = draw(st.integers(0, max(s, d) - 1))  # torch: output_padding < stride or < dilation
        full = (size - 1) * s + d * (k - 1) + 1
        p = draw(st.integers(0, min(3, (full + op) // 2)))  # (full + op - 2p) >= 0: rarely empty
        axes.append((size, k, s, p, op, d))
    if len(axes) == 1:
        axes.append(axes[0])
    kwargs = dict(
        out_channels=c_out, kernel_size=pairs(draw, axes, 1), stride=pairs(draw, axes, 2),
        padding=pairs(draw, axes, 3), output_padding=pairs(draw, axes, 4), groups=g,
        bias=draw(bias_flags), dilation=pairs(draw, axes, 5),
    )
    shape = (c_in, axes[0][0], axes[1][0])
    check(sc.ConvTranspose2d(**kwargs), bf.conv_transpose2d, shape, **kwargs)


@HEAVY
@given(st.data())
def test_separableconv2d_matches_brute_force(data):
    draw = data.draw
    c_in, c_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    multiplier = draw(st.integers(1, 2))
    mode = draw(st.sampled_from(["numbers", "numbers", "same", "valid"]))
    axes = draw(window_axes(max_pad=3 if mode == "numbers" else 0, dilation=True, any_size=mode == "same"))
    if mode == "same":
        axes = [(size, k, 1, 0, d) for size, k, _, _, d in axes]
    kwargs = dict(
        out_channels=c_out, kernel_size=pairs(draw, axes, 1), stride=pairs(draw, axes, 2),
        padding=pairs(draw, axes, 3) if mode == "numbers" else mode, dilation=pairs(draw, axes, 4),
        bias=draw(bias_flags), depth_multiplier=multiplier,
    )
    shape = (c_in, axes[0][0], axes[1][0])
    check(sc.SeparableConv2d(**kwargs), bf.separable_conv2d, shape, **kwargs)


@CHEAP
@given(
    shape=st.one_of(st.tuples(st.integers(1, 12)), st.tuples(st.integers(1, 6), st.integers(1, 12))),
    out_features=st.integers(1, 8),
    bias=bias_flags,
    give_in_features=st.booleans(),
)
def test_linear_matches_brute_force(shape, out_features, bias, give_in_features):
    in_features = shape[-1] if give_in_features else None
    layer = sc.Linear(out_features, bias=bias, in_features=in_features)
    check(layer, bf.linear, shape, out_features=out_features, bias=bias)


@CHEAP
@given(
    shape=st.tuples(sizes, sizes, sizes),
    affine=st.booleans(),
    track=st.booleans(),
    give_num_features=st.booleans(),
)
def test_batchnorm2d_matches_brute_force(shape, affine, track, give_num_features):
    layer = sc.BatchNorm2d(shape[0] if give_num_features else None, affine=affine, track_running_stats=track)
    check(layer, bf.batch_norm2d, shape, affine=affine, track_running_stats=track)


# --------------------------------------------------------------------------
# Activations (any shape)
# --------------------------------------------------------------------------
@CHEAP
@given(shape=shapes())
def test_relu_matches_brute_force(shape):
    check(sc.ReLU(), bf.relu, shape)


@CHEAP
@given(shape=shapes())
def test_relu6_matches_brute_force(shape):
    check(sc.ReLU6(), bf.relu6, shape)


@CHEAP
@given(shape=shapes(), slope=st.sampled_from([0.01, 0.2, 1, -0.5, 3.0]))
def test_leakyrelu_matches_brute_force(shape, slope):
    check(sc.LeakyReLU(slope), bf.leaky_relu, shape, negative_slope=slope)


@CHEAP
@given(shape=shapes())
def test_sigmoid_matches_brute_force(shape):
    check(sc.Sigmoid(), bf.sigmoid, shape)


@CHEAP
@given(shape=shapes())
def test_tanh_matches_brute_force(shape):
    check(sc.Tanh(), bf.tanh_, shape)


@CHEAP
@given(shape=shapes(), approximate=st.sampled_from(["none", "tanh"]))
def test_gelu_matches_brute_force(shape, approximate):
    check(sc.GELU(approximate=approximate), bf.gelu, shape, approximate=approximate)


@CHEAP
@given(shape=shapes())
def test_silu_matches_brute_force(shape):
    check(sc.SiLU(), bf.silu, shape)


@CHEAP
@given(shape=shapes())
def test_hardswish_matches_brute_force(shape):
    check(sc.Hardswish(), bf.hardswish, shape)


@CHEAP
@given(shape=shapes())
def test_hardsigmoid_matches_brute_force(shape):
    check(sc.Hardsigmoid(), bf.hardsigmoid, shape)


# --------------------------------------------------------------------------
# Pools
# --------------------------------------------------------------------------
@HEAVY
@given(st.data())
def test_maxpool2d_matches_brute_force(data):
    draw = data.draw
    c = draw(st.integers(1, 4))
    # torch (pool2d_shape_check): padding at most half the kernel, undilated, for max pools too
    axes = draw(window_axes(max_pad=3, dilation=True, pad_limit=lambda k: k // 2))
    stride = None if draw(st.integers(0, 4)) == 0 else pairs(draw, axes, 2)
    if stride is None:  # the stride is the kernel
        axes = [(size, k, k, p, d) for size, k, _, p, d in axes]
    kwargs = dict(
        kernel_size=pairs(draw, axes, 1), stride=stride, padding=pairs(draw, axes, 3),
        dilation=pairs(draw, axes, 4), ceil_mode=draw(st.booleans()),
    )
    shape = (c, axes[0][0], axes[1][0])
    check(sc.MaxPool2d(**kwargs), bf.max_pool2d, shape, **kwargs)


@HEAVY
@given(st.data())
def test_avgpool2d_matches_brute_force(data):
    draw = data.draw
    c = draw(st.integers(1, 4))
    # torch: padding at most half the kernel
    axes = draw(window_axes(max_pad=3, dilation=False, pad_limit=lambda k: k // 2))
    stride = None if draw(st.integers(0, 4)) == 0 else pairs(draw, axes, 2)
    if stride is None:
        axes = [(size, k, k, p, d) for size, k, _, p, d in axes]
    kwargs = dict(
        kernel_size=pairs(draw, axes, 1), stride=stride, padding=pairs(draw, axes, 3),
        ceil_mode=draw(st.booleans()), count_include_pad=draw(st.booleans()),
    )
    shape = (c, axes[0][0], axes[1][0])
    check(sc.AvgPool2d(**kwargs), bf.avg_pool2d, shape, **kwargs)


adaptive_sizes = st.one_of(
    st.integers(1, 8),
    st.tuples(st.integers(1, 8), st.integers(1, 8)),
    st.tuples(st.none() | st.integers(1, 8), st.none() | st.integers(1, 8)),
)


@CHEAP
@given(shape=st.tuples(st.integers(1, 4), sizes, sizes), output_size=adaptive_sizes)
def test_adaptiveavgpool2d_matches_brute_force(shape, output_size):
    check(sc.AdaptiveAvgPool2d(output_size), bf.adaptive_avg_pool2d, shape, output_size=output_size)


@CHEAP
@given(shape=st.tuples(st.integers(1, 4), sizes, sizes), output_size=adaptive_sizes)
def test_adaptivemaxpool2d_matches_brute_force(shape, output_size):
    check(sc.AdaptiveMaxPool2d(output_size), bf.adaptive_max_pool2d, shape, output_size=output_size)


# --------------------------------------------------------------------------
# Shape-only layers, upsampling, elementwise
# --------------------------------------------------------------------------
@st.composite
def flatten_config(draw):
    shape = draw(shapes())
    rank = len(shape) + 1  # torch counts the batch dimension
    start = draw(st.integers(1, rank - 1))
    end = draw(st.integers(start, rank - 1))
    # either form of each index: positive, or counted from the end
    start_dim = start - rank if draw(st.booleans()) else start
    end_dim = end - rank if draw(st.booleans()) else end
    return shape, start_dim, end_dim


@CHEAP
@given(config=flatten_config(), defaults=st.booleans())
def test_flatten_matches_brute_force(config, defaults):
    shape, start_dim, end_dim = config
    if defaults:
        check(sc.Flatten(), bf.flatten, shape)
    else:
        check(sc.Flatten(start_dim, end_dim), bf.flatten, shape, start_dim=start_dim, end_dim=end_dim)


@CHEAP
@given(shape=shapes(), p=st.sampled_from([0, 0.0, 0.1, 0.5, 1, 1.0, Fraction(1, 3)]))
def test_dropout_matches_brute_force(shape, p):
    check(sc.Dropout(p), bf.dropout, shape, p=p)


@CHEAP
@given(shape=shapes())
def test_identity_matches_brute_force(shape):
    check(sc.Identity(), bf.identity, shape)


@st.composite
def upsample_config(draw):
    mode = draw(st.sampled_from(["nearest", "bilinear"]))
    side = st.integers(1, 10)
    factor = st.integers(1, 3)
    if draw(st.booleans()):
        kwargs = dict(size=draw(side | st.tuples(side, side)))
    else:
        kwargs = dict(scale_factor=draw(factor | st.tuples(factor, factor)))
    kwargs["mode"] = mode
    if mode == "bilinear":
        kwargs["align_corners"] = draw(st.sampled_from([None, False, True]))
    return kwargs


@CHEAP
@given(shape=st.tuples(st.integers(1, 4), sizes, sizes), kwargs=upsample_config())
def test_upsample_matches_brute_force(shape, kwargs):
    check(sc.Upsample(**kwargs), bf.upsample, shape, **kwargs)


@st.composite
def broadcastable_shapes(draw):
    """2 to 4 shapes that broadcast together (torch rules: align right, 1 stretches)."""
    out = draw(shapes(max_side=6))
    inputs = []
    for _ in range(draw(st.integers(2, 4))):
        rank = draw(st.integers(1, len(out)))
        inputs.append(tuple(n if draw(st.booleans()) else 1 for n in out[len(out) - rank:]))
    return inputs


@CHEAP
@given(inputs=broadcastable_shapes())
def test_add_matches_brute_force(inputs):
    check(sc.Add(), bf.add, *inputs)


@CHEAP
@given(inputs=broadcastable_shapes())
def test_mul_matches_brute_force(inputs):
    check(sc.Mul(), bf.mul, *inputs)


@CHEAP
@given(shape=shapes(), factor=st.integers(1, 5), divide=st.booleans())
def test_scale_matches_brute_force(shape, factor, divide):
    check(sc.Scale(factor, divide=divide), bf.scale, shape, factor=factor, divide=divide)


@st.composite
def cat_inputs(draw):
    """2 to 4 shapes that agree everywhere but along ``dim`` (torch numbering, either sign)."""
    base = draw(shapes(max_side=5))
    rank = len(base) + 1
    axis = draw(st.integers(1, rank - 1))
    inputs = []
    for _ in range(draw(st.integers(2, 4))):
        dims = list(base)
        dims[axis - 1] = draw(st.integers(1, 5))
        inputs.append(tuple(dims))
    return inputs, axis - rank if draw(st.booleans()) else axis


@CHEAP
@given(config=cat_inputs())
def test_cat_matches_brute_force(config):
    inputs, dim = config
    if dim == 1 and all(len(s) == 3 for s in inputs):  # the default: channels of feature maps
        check(sc.Cat(), bf.cat, *inputs)
    else:
        check(sc.Cat(dim), bf.cat, *inputs, dim=dim)


@st.composite
def mean_config(draw):
    shape = draw(shapes(max_side=5))
    rank = len(shape) + 1
    axes = draw(st.lists(st.integers(1, rank - 1), min_size=1, unique=True))
    dim = tuple(a - rank if draw(st.booleans()) else a for a in axes)
    return shape, dim[0] if len(dim) == 1 and draw(st.booleans()) else dim, draw(st.booleans())


@CHEAP
@given(config=mean_config())
def test_mean_matches_brute_force(config):
    shape, dim, keepdim = config
    check(sc.Mean(dim, keepdim=keepdim), bf.mean_, shape, dim=dim, keepdim=keepdim)  # a full mean is 0-d


@CHEAP
@given(shape=st.tuples(st.integers(1, 4), sizes, sizes),
       padding=st.integers(0, 3) | st.tuples(*[st.integers(0, 3)] * 4),
       mode=st.sampled_from(["constant", "replicate"]))
def test_pad2d_matches_brute_force(shape, padding, mode):
    check(sc.Pad2d(padding, mode=mode), bf.pad2d, shape, padding=padding, mode=mode)
