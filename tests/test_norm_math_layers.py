"""Norms with statistics, embeddings, softmax, elementwise math, reductions and gated units, checked
against the brute-force reference and against torch.

Brute force: for each kind, hypothesis draws small configurations; ``brute_force`` runs the layer in
plain loops on counting numbers and symcost must agree on the output shape, every operation category
(mul, add, cmp, div, special), the ``macs`` and ``bias`` labels, and the parameter and buffer counts.
Each configuration is costed twice: on the numbers, and once symbolically (every size above 1 a
symbol, equal sizes one symbol) with the numbers substituted afterwards.

torch: output shapes and ``sum(p.numel())`` of the torch module's parameters (and its buffers) must
equal symcost's, again derived symbolically and substituted. torch's FlopCounterMode counts none of
these kinds (it counts matrix products and convolutions only), so the FLOP side of the torch check is
just that it reports 0 and symcost's ``macs`` are 0 too; the operation counts are checked against
the brute force only.
"""

from __future__ import annotations

import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import note as _note
from hypothesis.errors import InvalidArgument
from hypothesis import strategies as st

import brute_force as bf
import symcost as sc
from test_brute_force import CATEGORIES, check, exact

torch = pytest.importorskip("torch")
F = torch.nn.functional
nn = torch.nn
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

FAST = settings(max_examples=50, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TORCH = settings(FAST, max_examples=30)


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------
def note(text: str) -> None:
    try:
        _note(text)
    except InvalidArgument:  # outside a hypothesis test
        pass


def sym(n: int) -> object:
    """A size as a symbol (1 stays 1, so broadcasting still reads it; equal sizes share a symbol)."""
    return 1 if n == 1 else sympy.Symbol(f"n_{n}", positive=True, integer=True)


def numeric(n: int) -> int:
    return n


def values_of(*groups) -> dict:
    """The substitution that turns ``sym`` back into numbers, for every size in ``groups``."""
    out = {}
    for g in groups:
        for n in (g if isinstance(g, (tuple, list)) else (g,)):
            if isinstance(n, int) and n > 1:
                out[sym(n)] = n
    return out


def symbolic_cost(make, shapes, extra=()) -> sc.Cost:
    """``make(sym)`` costed on symbolic shapes, then the numbers substituted."""
    cost = make(sym).cost(*(sc.Shape(*(sym(n) for n in s)) for s in shapes))
    return cost.subs(values_of(*shapes, *extra))


def agree(cost: sc.Cost, run: bf.Result) -> None:
    """A (substituted) symcost cost says what the brute force observed."""
    note(f"symcost (symbolic, substituted): {cost!r} ops={cost.ops}")
    assert tuple(exact(d, "out_shape entry") for d in cost.out_shape.dims) == run.shape
    assert {f: exact(getattr(cost.ops, f), f) for f in CATEGORIES} == run.ops
    assert exact(cost.macs, "macs") == run.macs
    assert exact(cost.ops.bias, "ops.bias") == run.bias_adds
    assert exact(cost.params.weight, "params.weight") == run.weight
    assert exact(cost.params.bias, "params.bias") == run.bias
    assert {name: exact(v, name) for name, v in cost.params.buffers} == run.buffers


def verify(make, fn, *shapes, extra=(), **arguments) -> bf.Result:
    """The brute force against symcost on the numbers (``check``) and symbolically substituted."""
    run = check(make(numeric), fn, *shapes, **arguments)
    agree(symbolic_cost(make, shapes, extra), run)
    return run


def _numel(shape) -> int:
    out = 1
    for n in shape:
        out *= n
    return out


def batched(shape) -> tuple[int, ...]:
    return (1, *shape)


def flops_of(call) -> tuple[object, int]:
    with FlopCounterMode(display=False) as counter:
        out = call()
    return out, counter.get_total_flops()


def against_torch(make, shapes, call, module=None, extra=()) -> None:
    """symcost (symbolic, substituted) against torch: output shape(s) per sample, parameters, buffers,
    and FlopCounterMode's total (0 for these kinds) against ``2 * macs``."""
    cost = symbolic_cost(make, shapes, extra)
    note(f"symcost: {cost!r}")
    with torch.no_grad():
        out, flops = flops_of(call)
    assert tuple(exact(d, "out_shape entry") for d in cost.out_shape.dims) == tuple(out.shape[1:])
    assert exact(2 * cost.macs, "macs") == flops == 0
    params = list(module.parameters()) if module is not None else []
    assert exact(cost.params.total, "params") == sum(p.numel() for p in params)
    buffers = dict(module.named_buffers()) if module is not None else {}
    assert {n: exact(v, n) for n, v in cost.params.buffers} == {n: b.numel() for n, b in buffers.items()}


side = st.integers(1, 4)


def shapes(min_rank: int = 1, max_rank: int = 4, max_side: int = 4):
    return st.lists(st.integers(1, max_side), min_size=min_rank, max_size=max_rank).map(tuple)


def randn(shape):
    return torch.randn(*shape, dtype=torch.float64)


# --------------------------------------------------------------------------
# Norms
# --------------------------------------------------------------------------
@st.composite
def layer_norm_config(draw, max_rank=4):
    shape = draw(shapes(1, max_rank))
    k = draw(st.integers(1, len(shape)))
    ns = shape[len(shape) - k:]
    as_int = len(ns) == 1 and draw(st.booleans())
    return shape, ns, as_int


def _ns(ns, as_int, s):
    return s(ns[0]) if as_int else tuple(s(n) for n in ns)


@FAST
@given(layer_norm_config(), st.booleans(), st.booleans())
def test_layer_norm_matches_brute_force(config, affine, bias):
    shape, ns, as_int = config
    verify(lambda s: sc.LayerNorm(_ns(ns, as_int, s), elementwise_affine=affine, bias=bias), bf.layer_norm, shape,
           normalized_shape=ns, elementwise_affine=affine, bias=bias)


@FAST
@given(layer_norm_config(), st.booleans())
def test_rms_norm_matches_brute_force(config, affine):
    shape, ns, as_int = config
    verify(lambda s: sc.RMSNorm(_ns(ns, as_int, s), elementwise_affine=affine), bf.rms_norm, shape,
           normalized_shape=ns, elementwise_affine=affine)


@st.composite
def group_norm_config(draw):
    groups = draw(st.integers(1, 3))
    channels = groups * draw(st.integers(1, 2))
    spatial = draw(shapes(0, 3, max_side=3))
    return groups, (channels, *spatial)


@FAST
@given(group_norm_config(), st.booleans(), st.booleans())
def test_group_norm_matches_brute_force(config, affine, declare):
    groups, shape = config
    if _numel(shape) == groups:  # torch refuses groups of one value
        with pytest.raises(sc.ShapeError, match="more than one value per group"):
            sc.GroupNorm(groups).cost(sc.Shape(*shape))
        return
    verify(lambda s: sc.GroupNorm(s(groups), s(shape[0]) if declare else None, affine=affine), bf.group_norm,
           shape, extra=(groups,), num_groups=groups, affine=affine)


@FAST
@given(st.integers(1, 3), shapes(1, 3, max_side=3), st.booleans(), st.booleans(), st.booleans())
def test_instance_norm_matches_brute_force(channels, spatial, affine, track, declare):
    shape = (channels, *spatial)
    cls = {1: sc.InstanceNorm1d, 2: sc.InstanceNorm2d, 3: sc.InstanceNorm3d}[len(spatial)]
    if _numel(spatial) == 1 and not track:  # torch refuses statistics of one value
        with pytest.raises(sc.ShapeError, match="more than one spatial element"):
            cls().cost(sc.Shape(*shape))
        return
    verify(lambda s: cls(s(channels) if declare else None, affine=affine, track_running_stats=track),
           bf.instance_norm, shape, affine=affine, track_running_stats=track)


@FAST
@given(st.integers(1, 4), side, side, st.booleans(), st.booleans())
def test_batch_norm2d_training_matches_brute_force(channels, h, w, affine, track):
    shape = (channels, h, w)
    if h * w == 1:  # torch (and the reference) need more than one value per channel
        with pytest.raises(sc.ShapeError, match="more than one value per channel"):
            sc.BatchNorm2d(training=True).cost(sc.Shape(*shape))
        return
    run = verify(lambda s: sc.BatchNorm2d(affine=affine, track_running_stats=track, training=True),
                 bf.batch_norm_training, shape, affine=affine, track_running_stats=track)
    # the reference labels the running statistics' update; symcost's counts with and without tracking
    # must differ by exactly that
    untracked = sc.BatchNorm2d(affine=affine, track_running_stats=False, training=True).cost(sc.Shape(*shape))
    tracked = sc.BatchNorm2d(affine=affine, track_running_stats=True, training=True).cost(sc.Shape(*shape))
    reference = bf.evaluate(bf.batch_norm_training, shape, affine=affine, track_running_stats=True)
    assert exact(tracked.flops() - untracked.flops(), "update") == reference.labels["running_stats"]
    if track:
        assert run.labels["running_stats"] == reference.labels["running_stats"]


def test_batch_norm2d_inference_counts_unchanged():
    """training=False (the default) keeps the folded 1 mul + 1 add per element."""
    c = sc.BatchNorm2d().cost(sc.Shape(3, 4, 5))
    assert (c.ops.mul, c.ops.add, c.ops.div, c.ops.special) == (60, 60, 0, 0)


# --------------------------------------------------------------------------
# Embeddings
# --------------------------------------------------------------------------
@FAST
@given(st.integers(1, 6), st.integers(1, 4), shapes(1, 3))
def test_embedding_matches_brute_force(n, dim, ids):
    verify(lambda s: sc.Embedding(s(n), s(dim)), bf.embedding, ids, extra=(n, dim),
           num_embeddings=n, embedding_dim=dim)


@FAST
@given(st.integers(1, 6), st.integers(1, 4), shapes(1, 2), st.sampled_from(["sum", "mean", "max"]))
def test_embedding_bag_matches_brute_force(n, dim, ids, mode):
    verify(lambda s: sc.EmbeddingBag(s(n), s(dim), mode=mode), bf.embedding_bag, ids, extra=(n, dim),
           num_embeddings=n, embedding_dim=dim, mode=mode)


# --------------------------------------------------------------------------
# Softmax, gated units
# --------------------------------------------------------------------------
@st.composite
def dim_config(draw, max_rank=4):
    shape = draw(shapes(1, max_rank))
    rank = len(shape)
    d = draw(st.integers(1, rank))
    return shape, d - rank - 1 if draw(st.booleans()) else d


@FAST
@given(dim_config(), st.booleans())
def test_softmax_matches_brute_force(config, log):
    shape, dim = config
    cls, fn = (sc.LogSoftmax, bf.log_softmax) if log else (sc.Softmax, bf.softmax)
    verify(lambda s: cls(dim), fn, shape, dim=dim)


@st.composite
def glu_config(draw):
    shape, dim = draw(dim_config(max_rank=3))
    axis = dim % (len(shape) + 1) - 1
    shape = tuple(2 * n if i == axis else n for i, n in enumerate(shape))
    return shape, dim


@FAST
@given(glu_config(), st.booleans())
def test_glu_swiglu_match_brute_force(config, swiglu):
    shape, dim = config
    cls, fn = (sc.SwiGLU, bf.swiglu) if swiglu else (sc.GLU, bf.glu)
    verify(lambda s: cls(dim), fn, shape, dim=dim)


def test_glu_refuses_an_odd_dimension():
    with pytest.raises(sc.ShapeError, match="must be even"):
        sc.GLU().cost(sc.Shape(4, 3))


# --------------------------------------------------------------------------
# Elementwise math
# --------------------------------------------------------------------------
UNARY = [
    (lambda: sc.Exp(), bf.exp_, {}),
    (lambda: sc.Log(), bf.log_, {}),
    (lambda: sc.Sqrt(), bf.sqrt_, {}),
    (lambda: sc.Rsqrt(), bf.rsqrt_, {}),
    (lambda: sc.Erf(), bf.erf_, {}),
    (lambda: sc.Pow(3), bf.pow_, {"exponent": 3}),
    (lambda: sc.Pow(0.5), bf.pow_, {"exponent": 0.5}),
    (lambda: sc.Abs(), bf.abs_, {}),
    (lambda: sc.Neg(), bf.neg, {}),
    (lambda: sc.Clamp(min=-0.5), bf.clamp, {"min": -0.5}),
    (lambda: sc.Clamp(max=0.5), bf.clamp, {"max": 0.5}),
    (lambda: sc.Clamp(-0.5, 0.5), bf.clamp, {"min": -0.5, "max": 0.5}),
]


@FAST
@given(st.sampled_from(range(len(UNARY))), shapes(1, 4))
def test_elementwise_math_matches_brute_force(which, shape):
    make, fn, kwargs = UNARY[which]
    verify(lambda s: make(), fn, shape, **kwargs)


@st.composite
def broadcastable(draw, count: int):
    """``count`` shapes that broadcast together (some of lower rank, some entries 1)."""
    full = draw(shapes(1, 3))
    out = []
    for _ in range(count):
        drop = draw(st.integers(0, len(full) - 1))
        out.append(tuple(1 if draw(st.integers(0, 3)) == 0 else n for n in full[drop:]))
    return out


@FAST
@given(broadcastable(3))
def test_where_matches_brute_force(inputs):
    verify(lambda s: sc.Where(), bf.where, *inputs)


@FAST
@given(shapes(1, 3), st.data())
def test_masked_fill_matches_brute_force(shape, data):
    drop = data.draw(st.integers(0, len(shape) - 1))
    mask = tuple(1 if data.draw(st.booleans()) else n for n in shape[drop:])
    verify(lambda s: sc.MaskedFill(-1.5), bf.masked_fill, shape, mask, value=-1.5)


def test_where_takes_scalar_operands():
    """``torch.where(cond, x, 0.0)``: a number is a ``Shape()`` operand; the reference runs it as a number."""
    run = bf.run(bf.where, [[True, False], [False, True]], [[1.0, 2.0], [3.0, 4.0]], 0.0)
    cost = sc.Where().cost(sc.Shape(2, 2), sc.Shape(2, 2), sc.Shape())
    agree(cost, run)


def test_masked_fill_refuses_a_mask_larger_than_the_input():
    with pytest.raises(sc.ShapeError, match="does not broadcast to the input"):
        sc.MaskedFill().cost(sc.Shape(1, 4), sc.Shape(3, 4))


# --------------------------------------------------------------------------
# Reductions
# --------------------------------------------------------------------------
@st.composite
def reduce_config(draw):
    shape = draw(shapes(1, 4))
    rank = len(shape)
    if draw(st.integers(0, 4)) == 0:
        dim = None
    else:
        axes = draw(st.lists(st.integers(1, rank), min_size=1, unique=True))
        dims = tuple(a - rank - 1 if draw(st.booleans()) else a for a in axes)
        dim = dims[0] if len(dims) == 1 and draw(st.booleans()) else dims
    return shape, dim, draw(st.booleans())


REDUCTIONS = {"sum": (sc.Sum, bf.sum_), "mean": (sc.Mean, bf.mean_), "var": (sc.Var, bf.var),
              "amax": (sc.Amax, bf.amax), "amin": (sc.Amin, bf.amin)}


def _reduced(shape, dim) -> int:
    rank = len(shape)
    dims = range(1, rank + 1) if dim is None else (dim,) if isinstance(dim, int) else dim
    out = 1
    for d in dims:
        out *= shape[d % (rank + 1) - 1]
    return out


@FAST
@given(reduce_config(), st.sampled_from(sorted(REDUCTIONS)), st.integers(0, 2))
def test_reductions_match_brute_force(config, kind, correction):
    shape, dim, keepdim = config
    cls, fn = REDUCTIONS[kind]
    if kind == "var":
        assume(_reduced(shape, dim) > correction)  # the reference divides by n - correction
        verify(lambda s: cls(dim, correction=correction, keepdim=keepdim), fn, shape, dim=dim,
               correction=correction, keepdim=keepdim)
    else:
        verify(lambda s: cls(dim, keepdim=keepdim), fn, shape, dim=dim, keepdim=keepdim)


def test_mean_keeps_its_counts_and_receptive_field():
    """Mean over (H, W) of a map: R - 1 adds and 1 division per channel, a window over the whole map."""
    c = sc.Mean((2, 3)).cost(sc.Shape(4, 5, 6))
    assert (c.out_shape, c.ops.add, c.ops.div) == (sc.Shape(4), 4 * 29, 4)
    assert [step.kernel for step in c.rf] == [(5, 6)]


def test_reductions_refuse_the_batch_and_repeats():
    with pytest.raises(sc.InvalidArgumentError, match="Sum: dim must not sum over the batch dimension"):
        sc.Sum(0)
    with pytest.raises(sc.InvalidArgumentError, match="distinct"):
        sc.Amax((1, -2)).cost(sc.Shape(2, 3))
    with pytest.raises(sc.InvalidArgumentError, match="Softmax: dim must select a dimension 1..2"):
        sc.Softmax(3).cost(sc.Shape(2, 3))


# --------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------
@pytest.mark.parametrize("make, message", [
    (lambda: sc.LayerNorm(0), "LayerNorm: normalized_shape must be a positive integer, got 0"),
    (lambda: sc.LayerNorm(4, eps="small"), "LayerNorm: eps must be a number"),
    (lambda: sc.GroupNorm(3, 4), "GroupNorm: num_channels must be divisible by num_groups"),
    (lambda: sc.Clamp(), "Clamp: min or max must be given"),
    (lambda: sc.EmbeddingBag(4, 2, mode="median"), "EmbeddingBag: mode must be one of"),
    (lambda: sc.Embedding(4, 2, padding_idx=4), "Embedding: padding_idx must be within num_embeddings"),
    (lambda: sc.Softmax(1.5), "Softmax: dim must be an int"),
    (lambda: sc.Var(1, correction=-1), "Var: correction must be an integer >= 0"),
    (lambda: sc.Pow("two"), "Pow: exponent must be a number"),
    (lambda: sc.BatchNorm2d(training=1), "BatchNorm2d: training must be True or False"),
])
def test_bad_arguments_name_the_layer_and_rule(make, message):
    with pytest.raises(sc.SymcostError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()


@pytest.mark.parametrize("layer, shape, message", [
    (sc.LayerNorm((3, 4)), (2, 4), "normalized_shape (3, 4) is not the end of the input"),
    (sc.RMSNorm((2, 3, 4)), (3, 4), "has more entries than the input"),
    (sc.GroupNorm(2), (3, 4), "num_groups 2 does not divide the 3 channels"),
    (sc.InstanceNorm2d(), (3, 4), r"expects \(C, H, W\)"),
    (sc.InstanceNorm1d(5), (3, 4), "num_features is 5 but the input has 3 channels"),
    (sc.EmbeddingBag(4, 2), (2, 3, 4), "expects one bag"),
])
def test_bad_shapes_are_refused(layer, shape, message):
    with pytest.raises(sc.ShapeError, match=message.replace("(", r"\(").replace(")", r"\)")
                       if "\\" not in message else message):
        layer.cost(sc.Shape(*shape))


# --------------------------------------------------------------------------
# torch: shapes, parameters, buffers (FlopCounterMode counts none of these)
# --------------------------------------------------------------------------
@TORCH
@given(layer_norm_config(), st.booleans(), st.booleans(), st.booleans())
def test_norms_match_torch(config, affine, bias, rms):
    shape, ns, as_int = config
    if rms:
        module = nn.RMSNorm(ns, elementwise_affine=affine, dtype=torch.float64)
        make = lambda s: sc.RMSNorm(_ns(ns, as_int, s), elementwise_affine=affine)  # noqa: E731
    else:
        module = nn.LayerNorm(ns, elementwise_affine=affine, bias=bias, dtype=torch.float64)
        make = lambda s: sc.LayerNorm(_ns(ns, as_int, s), elementwise_affine=affine, bias=bias)  # noqa: E731
    x = randn(batched(shape))
    against_torch(make, [shape], lambda: module(x), module)


@TORCH
@given(group_norm_config(), st.booleans())
def test_group_norm_matches_torch(config, affine):
    groups, shape = config
    assume(_numel(shape) > groups)
    module = nn.GroupNorm(groups, shape[0], affine=affine, dtype=torch.float64)
    x = randn(batched(shape))
    against_torch(lambda s: sc.GroupNorm(s(groups), affine=affine), [shape], lambda: module(x), module,
                  extra=(groups,))


@TORCH
@given(st.integers(1, 3), shapes(1, 3), st.booleans(), st.booleans())
def test_instance_norm_matches_torch(channels, spatial, affine, track):
    nd = len(spatial)
    assume(track or _numel(spatial) > 1)  # torch needs more than one spatial element without running stats
    module = {1: nn.InstanceNorm1d, 2: nn.InstanceNorm2d, 3: nn.InstanceNorm3d}[nd](
        channels, affine=affine, track_running_stats=track, dtype=torch.float64).eval()
    cls = {1: sc.InstanceNorm1d, 2: sc.InstanceNorm2d, 3: sc.InstanceNorm3d}[nd]
    x = randn(batched((channels, *spatial)))
    against_torch(lambda s: cls(s(channels), affine=affine, track_running_stats=track),
                  [(channels, *spatial)], lambda: module(x), module)


@TORCH
@given(st.integers(1, 4), side, side, st.booleans(), st.booleans())
def test_batch_norm2d_training_matches_torch(channels, h, w, affine, track):
    assume(h * w > 1)
    module = nn.BatchNorm2d(channels, affine=affine, track_running_stats=track, dtype=torch.float64).train()
    x = randn(batched((channels, h, w)))
    against_torch(lambda s: sc.BatchNorm2d(s(channels), affine=affine, track_running_stats=track, training=True),
                  [(channels, h, w)], lambda: module(x), module)


@TORCH
@given(st.integers(1, 6), st.integers(1, 4), shapes(1, 3), st.booleans())
def test_embedding_matches_torch(n, dim, ids, padding):
    module = nn.Embedding(n, dim, padding_idx=n - 1 if padding else None)
    tokens = torch.randint(n, batched(ids))
    against_torch(lambda s: sc.Embedding(s(n), s(dim), padding_idx=n - 1 if padding else None), [ids],
                  lambda: module(tokens), module, extra=(n, dim))


@TORCH
@given(st.integers(1, 6), st.integers(1, 4), shapes(1, 2), st.sampled_from(["sum", "mean", "max"]))
def test_embedding_bag_matches_torch(n, dim, ids, mode):
    module = nn.EmbeddingBag(n, dim, mode=mode)
    # one bag (L,) is a batch of one bag (1, L) to torch; bags (B, L) are torch's own 2-D input, so its
    # output (B, D) is the sample's: give it a leading 1 for the comparison
    tokens = torch.randint(n, batched(ids) if len(ids) == 1 else ids)
    call = (lambda: module(tokens)) if len(ids) == 1 else (lambda: module(tokens).unsqueeze(0))
    against_torch(lambda s: sc.EmbeddingBag(s(n), s(dim), mode=mode), [ids], call, module, extra=(n, dim))


@TORCH
@given(dim_config(), st.sampled_from(["softmax", "log_softmax", "glu", "swiglu"]))
def test_softmax_and_gates_match_torch(config, kind):
    shape, dim = config
    if kind in ("glu", "swiglu"):
        axis = dim % (len(shape) + 1) - 1
        shape = tuple(2 * n if i == axis else n for i, n in enumerate(shape))
    x = randn(batched(shape))
    module = {"softmax": nn.Softmax(dim), "log_softmax": nn.LogSoftmax(dim), "glu": nn.GLU(dim),
              "swiglu": None}[kind]
    call = (lambda: module(x)) if module is not None else (lambda: F.silu(x.chunk(2, dim)[0]) * x.chunk(2, dim)[1])
    cls = {"softmax": sc.Softmax, "log_softmax": sc.LogSoftmax, "glu": sc.GLU, "swiglu": sc.SwiGLU}[kind]
    against_torch(lambda s: cls(dim), [shape], call, module)


TORCH_UNARY = [
    (lambda: sc.Exp(), torch.exp), (lambda: sc.Log(), torch.log), (lambda: sc.Sqrt(), torch.sqrt),
    (lambda: sc.Rsqrt(), torch.rsqrt), (lambda: sc.Erf(), torch.erf), (lambda: sc.Pow(3), lambda t: torch.pow(t, 3)),
    (lambda: sc.Abs(), torch.abs), (lambda: sc.Neg(), torch.neg),
    (lambda: sc.Clamp(-0.5, 0.5), lambda t: torch.clamp(t, -0.5, 0.5)),
]


@TORCH
@given(st.sampled_from(range(len(TORCH_UNARY))), shapes(1, 4))
def test_elementwise_math_matches_torch(which, shape):
    make, fn = TORCH_UNARY[which]
    x = randn(batched(shape)).abs() + 0.1
    against_torch(lambda s: make(), [shape], lambda: fn(x))


@TORCH
@given(broadcastable(3), st.data())
def test_where_and_masked_fill_match_torch(inputs, data):
    cond, x, y = inputs
    c, a, b = torch.rand(batched(cond)) > 0.5, randn(batched(x)), randn(batched(y))
    against_torch(lambda s: sc.Where(), [cond, x, y], lambda: torch.where(c, a, b))
    mask = data.draw(st.sampled_from([s for s in inputs if torch.broadcast_shapes(batched(s), batched(x))
                                      == batched(x)] or [x]))
    m = torch.rand(batched(mask)) > 0.5
    against_torch(lambda s: sc.MaskedFill(0.0), [x, mask], lambda: a.masked_fill(m, 0.0))


@TORCH
@given(reduce_config(), st.sampled_from(sorted(REDUCTIONS)), st.integers(0, 2))
def test_reductions_match_torch(config, kind, correction):
    shape, dim, keepdim = config
    cls = REDUCTIONS[kind][0]
    x = randn(batched(shape))
    dims = tuple(range(1, len(shape) + 1)) if dim is None else dim  # symcost's None keeps the batch
    fn = {"sum": torch.sum, "mean": torch.mean, "amax": torch.amax, "amin": torch.amin}.get(kind)
    if kind == "var":
        make = lambda s: cls(dim, correction=correction, keepdim=keepdim)  # noqa: E731
        call = lambda: torch.var(x, dim=dims, correction=correction, keepdim=keepdim)  # noqa: E731
    else:
        make = lambda s: cls(dim, keepdim=keepdim)  # noqa: E731
        call = lambda: fn(x, dim=dims, keepdim=keepdim)  # noqa: E731
    against_torch(make, [shape], call)


# --------------------------------------------------------------------------
# Spec files
# --------------------------------------------------------------------------
SPEC = """
name: kinds
input: [L, 8]
layers:
  - {kind: layernorm, normalized_shape: [8], eps: 1.0e-6}
  - {kind: rmsnorm, normalized_shape: 8}
  - {kind: glu, dim: -1}
  - {kind: swiglu}
  - {kind: pow, exponent: 0.5}
  - {kind: clamp, min: 0, max: 6.0}
  - {kind: exp}
  - {kind: log_softmax, dim: -1}
  - {kind: softmax, dim: 1}
  - {kind: var, dim: [1, 2], keepdim: true, correction: 0}
  - {kind: sum, dim: [1, -1], keepdim: true}
  - {kind: amax, dim: -1}
"""


def test_new_kinds_load_from_yaml(tmp_path):
    """Every new kind by name with torch's argument names; lists for dim and normalized_shape."""
    from symcost.frontends.spec import load

    path = tmp_path / "kinds.yaml"
    path.write_text(SPEC)
    rep = load(path).analyze()
    assert [row.kind for row in rep.rows] == ["LayerNorm", "RMSNorm", "GLU", "SwiGLU", "Pow", "Clamp", "Exp",
                                              "LogSoftmax", "Softmax", "Var", "Sum", "Amax"]
    assert rep.out_shape == sc.Shape(1)
    assert rep.total.params == 16 + 8
    assert rep.rows[9].cost.out_shape == sc.Shape(1, 1)


def test_embedding_and_norms_load_from_yaml(tmp_path):
    from symcost.frontends.spec import load

    path = tmp_path / "embed.yaml"
    path.write_text("""
input: [5]
layers:
  - {kind: embedding, num_embeddings: 10, embedding_dim: 4, padding_idx: 0}
  - {kind: groupnorm, num_groups: 5, num_channels: 5}
  - {kind: instancenorm1d, num_features: 5, affine: true}
  - {kind: batchnorm2d, training: true}
  - {kind: mean, dim: [1, 2], keepdim: true}
""".replace("  - {kind: batchnorm2d, training: true}\n", ""))
    rep = load(path).analyze()
    assert rep.out_shape == sc.Shape(1, 1)
    assert rep.total.params == 40 + 10 + 10
    bag = tmp_path / "bag.yaml"
    bag.write_text("input: [5]\nlayers:\n  - {kind: embeddingbag, num_embeddings: 10, embedding_dim: 4, mode: max}\n"
                   "  - {kind: batchnorm2d, training: true}\n")
    with pytest.raises(sc.SymcostError, match="BatchNorm2d"):  # (4,) is no feature map
        load(bag).analyze()
    bag.write_text("input: [5]\nlayers:\n  - {kind: embeddingbag, num_embeddings: 10, embedding_dim: 4, mode: max}\n")
    rep = load(bag).analyze()
    assert rep.out_shape == sc.Shape(4) and rep.total.ops.cmp == 4 * 4
