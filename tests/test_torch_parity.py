"""symcost against torch.nn on many random configurations (hypothesis).

For every layer kind symcost mirrors, a random configuration is run through
the torch module on ``torch.zeros(1, *shape)`` and costed by symcost on
``sc.Shape(*shape)`` (symcost shapes exclude the batch). Either both accept
it, and then the output shape, the parameter counts (weight, bias, total) and
the buffer counts agree, or torch refuses it (RuntimeError/ValueError) and
symcost must refuse it too with a ``SymcostError``.

Further checks:

* the closed forms: Conv2d, ConvTranspose2d and MaxPool2d(ceil_mode=True) are
  built once from SymPy symbols, costed symbolically, then ``cost.subs(...)``
  with each random configuration must give torch's shape and parameters
  (and refuse, via a non-positive output side, what torch refuses);
* MACs: ``cost.macs`` of Conv2d, ConvTranspose2d and Linear equals half the
  total of ``torch.utils.flop_counter.FlopCounterMode`` (batch 1, no bias).

Pools are also held to torch's padding rule, which is on the *undilated*
kernel even for a dilated max pool (pinned at the bottom of the file).
"""

import functools
import warnings

import pytest

torch = pytest.importorskip("torch")

from hypothesis import HealthCheck, assume, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import symcost as sc  # noqa: E402
from symcost.symbols import C, C_in, C_out, D, G, H, K, P, S, W, symbol  # noqa: E402

torch.set_num_threads(1)

# torch warns about e.g. padding='same' with an even kernel; not our concern.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

#: What torch raises for a configuration it refuses.
TORCH_ERRORS = (RuntimeError, ValueError)

# The checks are cheap (tiny tensors), so run many examples; derandomized so
# every run explores the same configurations.
MANY = 500  # shape/params/refusal parity of each layer kind
SOME = 300  # closed forms, MACs, and layers with few arguments
ELEMENTWISE = 200  # per activation (11 of them)
NO_SLOW = [HealthCheck.too_slow]


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def hw(lo, hi):
    """An int (square) or an (height, width) pair, the two forms torch takes."""
    return st.one_of(st.integers(lo, hi), st.tuples(st.integers(lo, hi), st.integers(lo, hi)))


def torch_forward(module, in_shape, batch=1):
    """Output shape of ``module`` on zeros, batch excluded (raises what torch raises)."""
    module.eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = module(torch.zeros(batch, *in_shape))
    return tuple(out.shape[1:])


def ints(shape):
    return tuple(int(d) for d in shape)


class EmptyOutput(RuntimeError):
    """torch ran but produced a zero-size side.

    Grouped ConvTranspose2d skips torch's "Output size is too small" check
    and returns e.g. ``(1, 2, 0, 0)`` where the ungrouped layer raises; a
    side of 0 is refused all the same (symcost shapes are >= 1).
    """


def compare(make_torch, make_sym, in_shape, *, batch=1):
    """Run torch and symcost on one configuration; they must agree.

    Returns ``(module, cost)`` when torch accepts the configuration (after
    asserting the output shapes are equal), ``(None, None)`` when torch
    refuses it (after asserting symcost refuses it too). An empty torch
    output counts as a refusal (see :class:`EmptyOutput`).
    """
    try:
        module = make_torch()
        expected = torch_forward(module, in_shape, batch)
        if 0 in expected:
            raise EmptyOutput(f"torch returns an empty output {expected}")
    except TORCH_ERRORS as err:
        event(f"torch refuses ({type(err).__name__})")
        try:
            layer = make_sym()
            cost = layer.cost(sc.Shape(*in_shape))
        except sc.SymcostError:
            return None, None
        pytest.fail(
            f"torch refuses input {in_shape} ({type(err).__name__}: {err}) "
            f"but symcost {layer} gives {cost.out_shape}"
        )
    event("torch accepts")
    cost = make_sym().cost(sc.Shape(*in_shape))
    got = ints(cost.out_shape)
    assert got == expected, f"input {in_shape}: symcost {got} != torch {expected} ({module})"
    return module, cost


def torch_numel(module, kind):
    """Elements of every parameter called ``kind`` ('weight'/'bias'), submodules included."""
    return sum(p.numel() for name, p in module.named_parameters() if name.rsplit(".", 1)[-1] == kind)


def assert_params(cost, module):
    p = cost.params
    assert int(p.weight) == torch_numel(module, "weight"), (p.weight, module)
    assert int(p.bias) == torch_numel(module, "bias"), (p.bias, module)
    assert int(p.total) == sum(x.numel() for x in module.parameters()), (p.total, module)
    assert int(p.buffer_total) == sum(b.numel() for b in module.buffers()), (p.buffer_total, module)


def flop_counter_macs(module, in_shape):
    """torch's FlopCounterMode total on batch 1, halved (it counts 2 FLOPs per MAC)."""
    module.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, *in_shape))
    total = counter.get_total_flops()
    assert total % 2 == 0
    return total // 2


def grouped_channels(data, *, allow_bad=True):
    """(groups, c_in, c_out) with groups dividing both, now and then not (torch refuses)."""
    g = data.draw(st.integers(1, 4), label="groups")
    c_in = g * data.draw(st.integers(1, 16 // g), label="c_in/groups")
    c_out = g * data.draw(st.integers(1, 16 // g), label="c_out/groups")
    if allow_bad and g > 1 and data.draw(st.integers(0, 9), label="bad groups?") == 0:
        c_in += 1  # groups no longer divides in_channels
    return g, c_in, c_out


def ceil_edge_rule_fired(size, k, s, p, d, out):
    """True when torch's ceil_mode rule dropped the last window on this axis."""
    span = size + 2 * p - d * (k - 1) - 1
    return out < -(-span // s) + 1


#: torch's actual padding rule for pools: p <= kernel // 2 (kernel not dilated).
def pool_padding_ok(kernel, padding):
    return all(p <= k // 2 for k, p in zip(pair(kernel), pair(padding)))


def dilated_padding_trap(kernel, padding, dilation):
    """k//2 < p <= (d*(k-1)+1)/2: within half the dilated kernel, yet torch refuses it."""
    return any(
        k // 2 < p and 2 * p <= d * (k - 1) + 1 for k, p, d in zip(pair(kernel), pair(padding), pair(dilation))
    )


# ---------------------------------------------------------------------------
# convolutions
# ---------------------------------------------------------------------------
@settings(max_examples=MANY, deadline=None, derandomize=True, suppress_health_check=NO_SLOW)
@given(data=st.data())
def test_conv2d_matches_torch(data):
    g, c_in, c_out = grouped_channels(data)
    k = data.draw(hw(1, 7), label="kernel")
    d = data.draw(hw(1, 3), label="dilation")
    p = data.draw(st.one_of(hw(0, 3), st.sampled_from(["same", "valid"])), label="padding")
    s = data.draw(st.sampled_from([1, 1, 1, 2]) if p == "same" else hw(1, 4), label="stride")
    bias = data.draw(st.booleans(), label="bias")
    h, w = data.draw(st.integers(1, 40), label="H"), data.draw(st.integers(1, 40), label="W")
    module, cost = compare(
        lambda: nn.Conv2d(c_in, c_out, k, stride=s, padding=p, dilation=d, groups=g, bias=bias),
        lambda: sc.Conv2d(c_out, k, stride=s, padding=p, dilation=d, groups=g, bias=bias),
        (c_in, h, w),
    )
    if module is not None:
        assert_params(cost, module)


@settings(max_examples=MANY, deadline=None, derandomize=True, suppress_health_check=NO_SLOW)
@given(data=st.data())
def test_conv_transpose2d_matches_torch(data):
    g, c_in, c_out = grouped_channels(data)
    k = data.draw(hw(1, 7), label="kernel")
    s = data.draw(hw(1, 4), label="stride")
    d = data.draw(hw(1, 3), label="dilation")
    p = data.draw(hw(0, 4), label="padding")
    # torch needs output_padding < stride or < dilation; now and then break it
    slack = data.draw(st.sampled_from([0] * 9 + [1]), label="output_padding too big by")
    op = tuple(
        data.draw(st.integers(0, max(si, di) - 1 + slack), label="output_padding")
        for si, di in zip(pair(s), pair(d))
    )
    bias = data.draw(st.booleans(), label="bias")
    h, w = data.draw(st.integers(1, 20), label="H"), data.draw(st.integers(1, 20), label="W")
    module, cost = compare(
        lambda: nn.ConvTranspose2d(c_in, c_out, k, stride=s, padding=p, output_padding=op,
                                   groups=g, bias=bias, dilation=d),
        lambda: sc.ConvTranspose2d(c_out, k, stride=s, padding=p, output_padding=op,
                                   groups=g, bias=bias, dilation=d),
        (c_in, h, w),
    )
    if module is not None:
        assert_params(cost, module)


@settings(max_examples=MANY, deadline=None, derandomize=True, suppress_health_check=NO_SLOW)
@given(data=st.data())
def test_separable_conv2d_matches_depthwise_then_pointwise(data):
    c_in = data.draw(st.integers(1, 16), label="c_in")
    c_out = data.draw(st.integers(1, 16), label="c_out")
    mult = data.draw(st.integers(1, 3), label="depth_multiplier")
    k = data.draw(hw(1, 7), label="kernel")
    d = data.draw(hw(1, 3), label="dilation")
    p = data.draw(st.one_of(hw(0, 3), st.sampled_from(["same", "valid"])), label="padding")
    s = data.draw(st.sampled_from([1, 1, 1, 2]) if p == "same" else hw(1, 4), label="stride")
    bias = data.draw(st.booleans(), label="bias")
    h, w = data.draw(st.integers(1, 40), label="H"), data.draw(st.integers(1, 40), label="W")
    module, cost = compare(
        lambda: nn.Sequential(
            nn.Conv2d(c_in, c_in * mult, k, stride=s, padding=p, dilation=d, groups=c_in, bias=bias),
            nn.Conv2d(c_in * mult, c_out, 1, bias=bias),
        ),
        lambda: sc.SeparableConv2d(c_out, k, stride=s, padding=p, dilation=d, bias=bias, depth_multiplier=mult),
        (c_in, h, w),
    )
    if module is not None:
        assert_params(cost, module)


# ---------------------------------------------------------------------------
# pools
# ---------------------------------------------------------------------------
def draw_pool_geometry(data, *, dilated):
    k = data.draw(hw(1, 7), label="kernel")
    s = data.draw(st.one_of(st.none(), hw(1, 4)), label="stride")
    d = data.draw(hw(1, 3), label="dilation") if dilated else 1
    # padding up to half the kernel (torch's rule); now and then beyond it
    over = data.draw(st.sampled_from([0] * 8 + [1, 2]), label="padding over k//2 by")
    p = tuple(data.draw(st.integers(0, ki // 2 + over), label="padding") for ki in pair(k))
    if p[0] == p[1] and data.draw(st.booleans(), label="padding as int"):
        p = p[0]
    ceil = data.draw(st.booleans(), label="ceil_mode")
    c = data.draw(st.integers(1, 16), label="C")
    h, w = data.draw(st.integers(1, 40), label="H"), data.draw(st.integers(1, 40), label="W")
    return k, s, p, d, ceil, (c, h, w)


def note_ceil_edge_rule(k, s, p, d, ceil, in_shape, cost):
    if not ceil:
        return
    fired = any(
        ceil_edge_rule_fired(size, ki, si, pi, di, int(out))
        for size, ki, si, pi, di, out in zip(
            in_shape[1:], pair(k), pair(k if s is None else s), pair(p), pair(d), cost.out_shape[1:]
        )
    )
    event(f"ceil_mode, edge rule {'dropped a window' if fired else 'not triggered'}")


@settings(max_examples=MANY, deadline=None, derandomize=True, suppress_health_check=NO_SLOW)
@given(data=st.data())
def test_maxpool2d_matches_torch(data):
    k, s, p, d, ceil, in_shape = draw_pool_geometry(data, dilated=True)
    if dilated_padding_trap(k, p, d):
        event("padding over k//2 but within half the dilated kernel (torch refuses)")
    module, cost = compare(
        lambda: nn.MaxPool2d(k, stride=s, padding=p, dilation=d, ceil_mode=ceil),
        lambda: sc.MaxPool2d(k, stride=s, padding=p, dilation=d, ceil_mode=ceil),
        in_shape,
    )
    if module is not None:
        assert_params(cost, module)
        note_ceil_edge_rule(k, s, p, d, ceil, in_shape, cost)


@settings(max_examples=MANY, deadline=None, derandomize=True, suppress_health_check=NO_SLOW)
@given(data=st.data())
def test_avgpool2d_matches_torch(data):
    k, s, p, d, ceil, in_shape = draw_pool_geometry(data, dilated=False)
    include_pad = data.draw(st.booleans(), label="count_include_pad")
    module, cost = compare(
        lambda: nn.AvgPool2d(k, stride=s, padding=p, ceil_mode=ceil, count_include_pad=include_pad),
        lambda: sc.AvgPool2d(k, stride=s, padding=p, ceil_mode=ceil, count_include_pad=include_pad),
        in_shape,
    )
    if module is not None:
        assert_params(cost, module)
        note_ceil_edge_rule(k, s, p, d, ceil, in_shape, cost)


@pytest.mark.parametrize(
    "torch_cls, sym_cls",
    [(nn.AdaptiveAvgPool2d, sc.AdaptiveAvgPool2d), (nn.AdaptiveMaxPool2d, sc.AdaptiveMaxPool2d)],
    ids=["avg", "max"],
)
@settings(max_examples=SOME, deadline=None, derandomize=True, suppress_health_check=NO_SLOW)
@given(data=st.data())
def test_adaptive_pool2d_matches_torch(torch_cls, sym_cls, data):
    side = st.integers(1, 10)
    size = data.draw(
        st.one_of(side, st.tuples(side, side), st.tuples(st.none() | side, st.none() | side)), label="output_size"
    )
    in_shape = tuple(data.draw(st.integers(lo, hi)) for lo, hi in ((1, 16), (1, 40), (1, 40)))
    module, cost = compare(lambda: torch_cls(size), lambda: sym_cls(size), in_shape)
    assert module is not None  # torch accepts every such configuration
    assert_params(cost, module)


# ---------------------------------------------------------------------------
# resampling, reshaping, dense
# ---------------------------------------------------------------------------
@settings(max_examples=MANY, deadline=None, derandomize=True, suppress_health_check=NO_SLOW)
@given(data=st.data())
def test_upsample_matches_torch(data):
    mode = data.draw(st.sampled_from(["nearest", "bilinear"]), label="mode")
    align = data.draw(st.sampled_from([None, False, True]), label="align_corners") if mode == "bilinear" else None
    if data.draw(st.booleans(), label="by size?"):
        kwargs = {"size": data.draw(hw(1, 40), label="size")}
    else:
        kwargs = {"scale_factor": data.draw(hw(1, 4), label="scale_factor")}
    in_shape = tuple(data.draw(st.integers(lo, hi)) for lo, hi in ((1, 8), (1, 20), (1, 20)))
    module, cost = compare(
        lambda: nn.Upsample(mode=mode, align_corners=align, **kwargs),
        lambda: sc.Upsample(mode=mode, align_corners=align, **kwargs),
        in_shape,
    )
    assert module is not None
    assert_params(cost, module)


sample_shapes = st.lists(st.integers(1, 12), min_size=1, max_size=3).map(tuple)


@settings(max_examples=MANY, deadline=None, derandomize=True, suppress_health_check=NO_SLOW)
@given(data=st.data())
def test_flatten_matches_torch(data):
    in_shape = data.draw(sample_shapes, label="shape")
    rank = len(in_shape) + 1  # torch counts the batch; never flatten it (symcost refuses start_dim=0)
    dims = [i for i in range(1, rank)] + [i - rank for i in range(1, rank)]
    start = data.draw(st.sampled_from(dims), label="start_dim")
    end = data.draw(st.sampled_from(dims), label="end_dim")
    module, cost = compare(lambda: nn.Flatten(start, end), lambda: sc.Flatten(start, end), in_shape)
    if module is not None:
        assert_params(cost, module)


@settings(max_examples=MANY, deadline=None, derandomize=True, suppress_health_check=NO_SLOW)
@given(data=st.data())
def test_linear_matches_torch(data):
    d_in = data.draw(st.integers(1, 64), label="D")
    tokens = data.draw(st.one_of(st.none(), st.integers(1, 16)), label="L")
    in_shape = (d_in,) if tokens is None else (tokens, d_in)
    out = data.draw(st.integers(1, 64), label="out_features")
    bias = data.draw(st.booleans(), label="bias")
    declared = d_in + data.draw(st.sampled_from([0] * 9 + [1]), label="in_features off by")
    give = data.draw(st.booleans(), label="symcost given in_features") or declared != d_in
    module, cost = compare(
        lambda: nn.Linear(declared, out, bias=bias),
        lambda: sc.Linear(out, bias=bias, in_features=declared if give else None),
        in_shape,
    )
    if module is not None:
        assert_params(cost, module)


@settings(max_examples=SOME, deadline=None, derandomize=True, suppress_health_check=NO_SLOW)
@given(
    c=st.integers(1, 16), h=st.integers(1, 40), w=st.integers(1, 40),
    affine=st.booleans(), track=st.booleans(), declare=st.booleans(),
)
def test_batchnorm2d_params_and_buffers_match_torch(c, h, w, affine, track, declare):
    # batch 2: without running stats torch normalizes with batch statistics,
    # which refuse a single value per channel (an artifact of batch 1, not of the shape)
    module, cost = compare(
        lambda: nn.BatchNorm2d(c, affine=affine, track_running_stats=track),
        lambda: sc.BatchNorm2d(c if declare else None, affine=affine, track_running_stats=track),
        (c, h, w),
        batch=2,
    )
    assert module is not None
    assert_params(cost, module)


ACTIVATIONS = {
    "ReLU": (nn.ReLU, sc.ReLU),
    "ReLU6": (nn.ReLU6, sc.ReLU6),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), lambda: sc.LeakyReLU(0.2)),
    "Sigmoid": (nn.Sigmoid, sc.Sigmoid),
    "Tanh": (nn.Tanh, sc.Tanh),
    "GELU": (nn.GELU, sc.GELU),
    "GELU-tanh": (lambda: nn.GELU(approximate="tanh"), lambda: sc.GELU(approximate="tanh")),
    "SiLU": (nn.SiLU, sc.SiLU),
    "Hardswish": (nn.Hardswish, sc.Hardswish),
    "Hardsigmoid": (nn.Hardsigmoid, sc.Hardsigmoid),
    "Identity": (nn.Identity, sc.Identity),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@settings(max_examples=ELEMENTWISE, deadline=None, derandomize=True, suppress_health_check=NO_SLOW)
@given(in_shape=sample_shapes)
def test_elementwise_layer_keeps_shape_and_has_no_params(name, in_shape):
    make_torch, make_sym = ACTIVATIONS[name]
    module, cost = compare(make_torch, make_sym, in_shape)
    assert module is not None
    assert ints(cost.out_shape) == in_shape
    assert_params(cost, module)


@settings(max_examples=SOME, deadline=None, derandomize=True, suppress_health_check=NO_SLOW)
@given(in_shape=sample_shapes, p=st.floats(0, 1))
def test_dropout_matches_torch(in_shape, p):
    module, cost = compare(lambda: nn.Dropout(p), lambda: sc.Dropout(p), in_shape)
    assert module is not None
    assert_params(cost, module)


# ---------------------------------------------------------------------------
# symbolic closed forms, substituted
# ---------------------------------------------------------------------------
OP = symbol("O_p")  # output padding of the transposed convolution


@functools.lru_cache(maxsize=None)
def symbolic_costs():
    """Each layer costed once on symbols; the tests only substitute numbers."""
    return {
        "conv": sc.Conv2d(C_out, K, stride=S, padding=P, dilation=D, groups=G).cost(sc.Shape(C_in, H, W)),
        "convT": sc.ConvTranspose2d(C_out, K, stride=S, padding=P, output_padding=OP, dilation=D,
                                    groups=G).cost(sc.Shape(C_in, H, W)),
        "maxpool": sc.MaxPool2d(K, stride=S, padding=P, dilation=D, ceil_mode=True).cost(sc.Shape(C, H, W)),
    }


def check_substituted(cost, values, make_torch, in_shape, *, params):
    """``cost.subs(values)`` must give torch's shape (and params), or refuse what torch refuses."""
    try:
        module = make_torch()
        expected = torch_forward(module, in_shape)
        if 0 in expected:
            raise EmptyOutput(f"torch returns an empty output {expected}")
    except TORCH_ERRORS as err:
        event("torch refuses: the substituted output side must be < 1")
        with pytest.raises(sc.ShapeError):
            got = cost.subs(**values).out_shape
            pytest.fail(f"torch refuses ({err}) but the closed form gives {got} for {values}")
        return
    event("torch accepts")
    bound = cost.subs(**values)
    assert bound.out_shape.free_symbols == set()
    assert ints(bound.out_shape) == expected, (values, bound.out_shape, expected)
    if params:
        assert_params(bound, module)
    else:
        assert bound.params.total == 0 and bound.params.buffer_total == 0


@settings(max_examples=SOME, deadline=None, derandomize=True, suppress_health_check=NO_SLOW)
@given(data=st.data())
def test_conv2d_closed_form_substituted_matches_torch(data):
    g, c_in, c_out = grouped_channels(data, allow_bad=False)
    v = {
        "K": data.draw(st.integers(1, 7), label="K"), "S": data.draw(st.integers(1, 4), label="S"),
        "P": data.draw(st.integers(0, 3), label="P"), "D": data.draw(st.integers(1, 3), label="D"),
        "G": g, "C_in": c_in, "C_out": c_out,
        "H": data.draw(st.integers(1, 40), label="H"), "W": data.draw(st.integers(1, 40), label="W"),
    }
    check_substituted(
        symbolic_costs()["conv"], v,
        lambda: nn.Conv2d(c_in, c_out, v["K"], stride=v["S"], padding=v["P"], dilation=v["D"], groups=g),
        (c_in, v["H"], v["W"]), params=True,
    )


@settings(max_examples=SOME, deadline=None, derandomize=True, suppress_health_check=NO_SLOW)
@given(data=st.data())
def test_conv_transpose2d_closed_form_substituted_matches_torch(data):
    g, c_in, c_out = grouped_channels(data, allow_bad=False)
    s, d = data.draw(st.integers(1, 4), label="S"), data.draw(st.integers(1, 3), label="D")
    v = {
        "K": data.draw(st.integers(1, 7), label="K"), "S": s, "D": d,
        "P": data.draw(st.integers(0, 4), label="P"),
        "O_p": data.draw(st.integers(0, max(s, d) - 1), label="output_padding"),
        "G": g, "C_in": c_in, "C_out": c_out,
        "H": data.draw(st.integers(1, 20), label="H"), "W": data.draw(st.integers(1, 20), label="W"),
    }
    check_substituted(
        symbolic_costs()["convT"], v,
        lambda: nn.ConvTranspose2d(c_in, c_out, v["K"], stride=s, padding=v["P"], output_padding=v["O_p"],
                                   groups=g, dilation=d),
        (c_in, v["H"], v["W"]), params=True,
    )


@settings(max_examples=SOME, deadline=None, derandomize=True, suppress_health_check=NO_SLOW)
@given(data=st.data())
def test_maxpool2d_ceil_mode_closed_form_substituted_matches_torch(data):
    k = data.draw(st.integers(1, 7), label="K")
    v = {
        "K": k, "S": data.draw(st.integers(1, 4), label="S"),
        "P": data.draw(st.integers(0, k // 2), label="P"),  # torch's padding rule
        "D": data.draw(st.integers(1, 3), label="D"), "C": data.draw(st.integers(1, 16), label="C"),
        "H": data.draw(st.integers(1, 40), label="H"), "W": data.draw(st.integers(1, 40), label="W"),
    }
    check_substituted(
        symbolic_costs()["maxpool"], v,
        lambda: nn.MaxPool2d(k, stride=v["S"], padding=v["P"], dilation=v["D"], ceil_mode=True),
        (v["C"], v["H"], v["W"]), params=False,
    )


# ---------------------------------------------------------------------------
# MACs against torch.utils.flop_counter
# ---------------------------------------------------------------------------
@settings(max_examples=SOME, deadline=None, derandomize=True, suppress_health_check=NO_SLOW)
@given(data=st.data())
def test_conv2d_macs_match_flop_counter(data):
    g, c_in, c_out = grouped_channels(data, allow_bad=False)
    k = data.draw(hw(1, 7), label="kernel")
    d = data.draw(hw(1, 3), label="dilation")
    p = data.draw(st.one_of(hw(0, 3), st.sampled_from(["same", "valid"])), label="padding")
    s = 1 if p == "same" else data.draw(hw(1, 4), label="stride")
    in_shape = (c_in, data.draw(st.integers(1, 40), label="H"), data.draw(st.integers(1, 40), label="W"))
    module, cost = compare(
        lambda: nn.Conv2d(c_in, c_out, k, stride=s, padding=p, dilation=d, groups=g, bias=False),
        lambda: sc.Conv2d(c_out, k, stride=s, padding=p, dilation=d, groups=g, bias=False),
        in_shape,
    )
    assume(module is not None)
    assert int(cost.macs) == flop_counter_macs(module, in_shape)


@settings(max_examples=SOME, deadline=None, derandomize=True, suppress_health_check=NO_SLOW)
@given(data=st.data())
def test_conv_transpose2d_macs_match_flop_counter(data):
    g, c_in, c_out = grouped_channels(data, allow_bad=False)
    k = data.draw(hw(1, 7), label="kernel")
    s = data.draw(hw(1, 4), label="stride")
    d = data.draw(hw(1, 3), label="dilation")
    p = data.draw(hw(0, 4), label="padding")
    op = tuple(data.draw(st.integers(0, max(si, di) - 1), label="output_padding") for si, di in zip(pair(s), pair(d)))
    in_shape = (c_in, data.draw(st.integers(1, 20), label="H"), data.draw(st.integers(1, 20), label="W"))
    module, cost = compare(
        lambda: nn.ConvTranspose2d(c_in, c_out, k, stride=s, padding=p, output_padding=op, groups=g,
                                   bias=False, dilation=d),
        lambda: sc.ConvTranspose2d(c_out, k, stride=s, padding=p, output_padding=op, groups=g,
                                   bias=False, dilation=d),
        in_shape,
    )
    assume(module is not None)
    assert int(cost.macs) == flop_counter_macs(module, in_shape)


@settings(max_examples=SOME, deadline=None, derandomize=True, suppress_health_check=NO_SLOW)
@given(
    d_in=st.integers(1, 64), out=st.integers(1, 64), tokens=st.one_of(st.none(), st.integers(1, 16)),
)
def test_linear_macs_match_flop_counter(d_in, out, tokens):
    in_shape = (d_in,) if tokens is None else (tokens, d_in)
    module, cost = compare(lambda: nn.Linear(d_in, out, bias=False), lambda: sc.Linear(out, bias=False), in_shape)
    assert int(cost.macs) == flop_counter_macs(module, in_shape)


# ---------------------------------------------------------------------------
# regression: the max-pool padding rule is on the undilated kernel
# ---------------------------------------------------------------------------
# torch's front end allows padding up to half the *dilated* kernel, but its
# pooling kernel (pool2d_shape_check) then raises "pad should be smaller than
# or equal to half of kernel size" for padding > kernel//2. symcost before
# 3ae3fc5 used the dilated bound and gave e.g. (1, 10, 10) / (1, 11, 11) for
# the first two cases below.
@pytest.mark.parametrize(
    "kernel, padding, dilation, in_shape",
    [
        (3, 2, 2, (1, 10, 10)),
        (2, 2, 3, (1, 10, 10)),
        ((3, 3), (0, 2), (1, 2), (4, 9, 12)),  # width axis only
    ],
)
def test_maxpool2d_refuses_padding_above_half_the_undilated_kernel(kernel, padding, dilation, in_shape):
    with pytest.raises(RuntimeError, match="half of kernel size"):
        torch_forward(nn.MaxPool2d(kernel, stride=1, padding=padding, dilation=dilation), in_shape)
    with pytest.raises(sc.SymcostError):
        sc.MaxPool2d(kernel, stride=1, padding=padding, dilation=dilation).cost(sc.Shape(*in_shape))
