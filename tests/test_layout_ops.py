"""Layout layers (reshapes, permutes, several outputs, slices, pads, dropouts) against the brute force and torch.

Each kind draws small configurations with hypothesis; for each, the brute
force (``tests/brute_force.py``, which never imports symcost) runs the layer on
counting numbers and torch runs it on a batch of 2. symcost must agree with
both on every output's shape and with the brute force on every count (all 0)
and on the parameters (none). The same configuration is derived again with
the input's sizes as symbols; where symcost accepts that, substituting the
numbers must give the same shapes (where it refuses, it must be with a clear
``ShapeError``).
"""

from __future__ import annotations

import warnings

import pytest
import sympy
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

import brute_force as bf
import symcost as sc
from symcost.symbols import C, H, W, symbol

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
CATEGORIES = ("mul", "add", "cmp", "div", "special")
SYMBOLS = tuple(symbol(n) for n in ("n_a", "n_b", "n_c", "n_d"))
BATCH = 2


def _ints(shape: sc.Shape) -> tuple[int, ...]:
    return tuple(int(d) for d in shape.dims)


def check(layer: sc.Layer, fn, torch_fn, shapes: list[tuple[int, ...]], **arguments) -> None:
    """symcost against the brute force (shapes, counts, params) and torch (shapes), numbers and symbols."""
    note(f"layer={layer!r} shapes={shapes} arguments={arguments}")
    run = bf.evaluate(fn, *shapes, **arguments)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = torch_fn(*(torch.randn(BATCH, *s) for s in shapes))
    outs = out if isinstance(out, tuple) else (out,)
    torch_shapes = tuple(tuple(o.shape[1:]) for o in outs)
    inputs = [sc.Shape(*s) for s in shapes]
    if any(0 in s for s in torch_shapes):  # nothing left (an empty slice): symcost must refuse
        assert run.empty
        with pytest.raises(sc.ShapeError):
            layer.cost(*inputs)
        return
    assert torch_shapes == run.shapes  # the reference itself agrees with torch
    cost = layer.cost(*inputs)
    assert tuple(_ints(s) for s in cost.out_shapes) == run.shapes
    assert {f: getattr(cost.ops, f) for f in CATEGORIES} == run.ops == dict.fromkeys(CATEGORIES, 0)
    assert cost.flops() == cost.macs == cost.ops.bias == 0
    assert cost.params.total == run.weight + run.bias == 0 and run.buffers == {}
    assert cost.activations == sum(_n(s) for s in run.shapes)
    # symbolic: every input size a symbol, derived once, then the numbers put in
    bound, symbolic = {}, []
    for s in shapes:
        dims = []
        for i, n in enumerate(s):
            sym = SYMBOLS[i]
            if bound.setdefault(sym, n) != n:  # two inputs with different sizes at one position
                sym = symbol(f"n_{len(bound)}_x")
                bound[sym] = n
            dims.append(sym)
        symbolic.append(sc.Shape(*dims))
    try:
        derived = layer.cost(*symbolic)
    except sc.ShapeError as err:
        event("symbolic input refused")
        note(f"symbolic refused: {err}")
        assert "\n" not in str(err)
        return
    event("symbolic input derived")
    try:
        substituted = tuple(_ints(s.subs(bound)) for s in derived.out_shapes)
    except sc.ShapeError:
        # the one documented assumption: Chunk of a formula assumes ``chunks`` divides it; numbers that
        # break it are refused when put in, never counted wrong
        assert isinstance(layer, sc.Chunk) and (len(set(run.shapes)) > 1 or len(run.shapes) != layer.chunks)
        event("symbolic chunk: divisibility assumption refused on substitution")
        return
    assert substituted == run.shapes
    assert derived.flops() == 0 and derived.params.total == 0


def _n(shape: tuple[int, ...]) -> int:
    out = 1
    for n in shape:
        out *= n
    return out


side = st.integers(1, 4)


def shapes(min_rank: int = 1, max_rank: int = 4) -> st.SearchStrategy[tuple[int, ...]]:
    return st.integers(min_rank, max_rank).flatmap(lambda r: st.tuples(*([side] * r)))


def dim_of(draw, rank: int, *, extra: int = 0) -> int:
    """A torch dim of a batched tensor of per-sample ``rank + extra``, never the batch, maybe negative."""
    a = draw(st.integers(1, rank + extra))
    return a if draw(st.booleans()) else a - (rank + extra + 1)


# --------------------------------------------------------------------------
# Regroupings
# --------------------------------------------------------------------------
@SETTINGS
@given(st.data())
def test_reshape_and_view(data):
    shape = data.draw(shapes())
    numel = _n(shape)
    divisors = [d for d in range(1, numel + 1) if numel % d == 0]
    first = data.draw(st.sampled_from(divisors))
    target = data.draw(st.sampled_from([(first, -1), (-1, first), (numel,), (first, numel // first), (-1,),
                                        (first, 2, -1), (1, numel, 1)]))
    cls, fn, method = data.draw(st.sampled_from([(sc.Reshape, bf.reshape, "reshape"), (sc.View, bf.view, "view")]))
    if _n([t for t in target if t != -1]) and numel % _n([t for t in target if t != -1]):
        with pytest.raises(sc.ShapeError):
            cls(target).cost(sc.Shape(*shape))
        return
    check(cls(target), fn, lambda t: getattr(t, method)(BATCH, *target), [shape], shape=target)


@SETTINGS
@given(st.data())
def test_flatten_any_rank(data):
    shape = data.draw(shapes())
    rank = len(shape)
    start = data.draw(st.integers(1, rank))
    end = data.draw(st.integers(start, rank))
    start = start if data.draw(st.booleans()) else start - rank - 1
    end = end if data.draw(st.booleans()) else end - rank - 1
    check(sc.Flatten(start, end), bf.flatten, lambda t: torch.flatten(t, start, end), [shape],
          start_dim=start, end_dim=end)


@SETTINGS
@given(st.data())
def test_unflatten(data):
    shape = data.draw(shapes(max_rank=3))
    dim = dim_of(data.draw, len(shape))
    n = shape[dim - 1 if dim > 0 else dim]
    k = data.draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))
    sizes = data.draw(st.sampled_from([(k, n // k), (k, -1), (-1, k), (1, n, 1)]))
    check(sc.Unflatten(dim, sizes), bf.unflatten, lambda t: t.unflatten(dim, sizes), [shape], dim=dim, sizes=sizes)


@SETTINGS
@given(st.data())
def test_squeeze_unsqueeze(data):
    shape = data.draw(st.integers(1, 4).flatmap(lambda r: st.tuples(*([st.integers(1, 3)] * r))))
    rank = len(shape)
    which = data.draw(st.sampled_from(["none", "one", "many", "unsqueeze"]))
    if which == "unsqueeze":
        dim = dim_of(data.draw, rank, extra=1)
        check(sc.Unsqueeze(dim), bf.unsqueeze, lambda t: t.unsqueeze(dim), [shape], dim=dim)
        return
    if which == "none":
        dim = None
    elif which == "one":
        dim = dim_of(data.draw, rank)
    else:
        axes = data.draw(st.lists(st.integers(1, rank), min_size=1, max_size=rank, unique=True))
        dim = tuple(a if data.draw(st.booleans()) else a - rank - 1 for a in axes)
    torch_fn = (lambda t: t.squeeze(tuple(range(1, t.dim())))) if dim is None else (lambda t: t.squeeze(dim))
    check(sc.Squeeze(dim), bf.squeeze, torch_fn, [shape], dim=dim)


@SETTINGS
@given(st.data())
def test_permute_transpose(data):
    shape = data.draw(shapes())
    rank = len(shape)
    if data.draw(st.booleans()):
        perm = data.draw(st.permutations(range(1, rank + 1)))
        dims = tuple([0 if data.draw(st.booleans()) else -(rank + 1)]
                     + [d if data.draw(st.booleans()) else d - rank - 1 for d in perm])
        check(sc.Permute(dims), bf.permute, lambda t: t.permute(*dims), [shape], dims=dims)
    else:
        d0, d1 = dim_of(data.draw, rank), dim_of(data.draw, rank)
        check(sc.Transpose(d0, d1), bf.transpose, lambda t: t.transpose(d0, d1), [shape], dim0=d0, dim1=d1)


@SETTINGS
@given(st.data())
def test_expand_contiguous(data):
    shape = data.draw(st.integers(1, 4).flatmap(lambda r: st.tuples(*([st.sampled_from([1, 1, 2, 3])] * r))))
    sizes = tuple(data.draw(st.sampled_from([-1, n, 2, 3]) if n == 1 else st.sampled_from([-1, n]))
                  for n in shape)
    check(sc.Expand(sizes), bf.expand, lambda t: t.expand(BATCH, *sizes), [shape], sizes=sizes)
    check(sc.Contiguous(), bf.contiguous, lambda t: t.contiguous(), [shape])


# --------------------------------------------------------------------------
# Several outputs
# --------------------------------------------------------------------------
@SETTINGS
@given(st.data())
def test_chunk_split_unbind(data):
    shape = data.draw(shapes(max_rank=3))
    rank = len(shape)
    dim = dim_of(data.draw, rank)
    n = shape[dim - 1 if dim > 0 else dim]
    which = data.draw(st.sampled_from(["chunk", "split", "sections", "unbind"]))
    if which == "chunk":
        k = data.draw(st.integers(1, 5))
        check(sc.Chunk(k, dim), bf.chunk, lambda t: t.chunk(k, dim), [shape], chunks=k, dim=dim)
    elif which == "split":
        s = data.draw(st.integers(1, 5))
        check(sc.Split(s, dim), bf.split, lambda t: t.split(s, dim), [shape], split_size_or_sections=s, dim=dim)
    elif which == "sections":
        cuts = sorted(data.draw(st.lists(st.integers(1, n - 1), unique=True, max_size=3))) if n > 1 else []
        sections = [b - a for a, b in zip([0, *cuts], [*cuts, n])]
        check(sc.Split(sections, dim), bf.split, lambda t: t.split(sections, dim), [shape],
              split_size_or_sections=sections, dim=dim)
    else:  # unbind: the brute force's selects, one per entry, as a tuple
        cost = sc.Unbind(dim).cost(sc.Shape(*shape))
        expected = tuple(tuple(o.shape[1:]) for o in torch.randn(BATCH, *shape).unbind(dim))
        assert tuple(_ints(s) for s in cost.out_shapes) == expected
        for i in range(n):
            run = bf.evaluate(bf.select, shape, dim=dim, index=i)
            assert run.shape == _ints(cost.out_shapes[i]) and run.total == 0
        assert cost.flops() == 0 and cost.params.total == 0


def test_chunk_torch_sizes_by_hand():
    """torch.chunk: ceil division, the last smaller, maybe fewer pieces (6 in 4 chunks gives 3 of 2)."""
    shapes_ = sc.Chunk(4, dim=-1).cost(sc.Shape(3, 6)).out_shapes
    assert shapes_ == (sc.Shape(3, 2),) * 3
    assert sc.Chunk(3, dim=1).cost(sc.Shape(8)).out_shapes == (sc.Shape(3), sc.Shape(3), sc.Shape(2))


def test_several_outputs_symbolic():
    """Symbolic sizes: chunks assume divisibility; split needs a number of pieces; unbind a number of entries."""
    assert sc.Chunk(2, dim=1).cost(sc.Shape(2 * C, H, W)).out_shapes == (sc.Shape(C, H, W),) * 2
    assert sc.Chunk(4, dim=1).cost(sc.Shape(C, H, W)).out_shapes == (sc.Shape(C / 4, H, W),) * 4
    assert sc.Split(C, dim=1).cost(sc.Shape(3 * C, H)).out_shapes == (sc.Shape(C, H),) * 3
    assert sc.Split((C, 2 * C), dim=1).cost(sc.Shape(3 * C, H)).out_shapes == (sc.Shape(C, H), sc.Shape(2 * C, H))
    with pytest.raises(sc.ShapeError, match="number of pieces must be a number"):
        sc.Split(4, dim=1).cost(sc.Shape(C, H))
    with pytest.raises(sc.ShapeError, match=r"sections \('C', '1'\) add up to C \+ 1, not to size 2\*C"):
        sc.Split((C, 1), dim=1).cost(sc.Shape(2 * C, H))
    with pytest.raises(sc.ShapeError, match="number of outputs must be a number"):
        sc.Unbind(1).cost(sc.Shape(C, H))
    with pytest.raises(sc.ShapeError, match="more than 10000"):
        sc.Split(1, dim=1).cost(sc.Shape(10**9))
    with pytest.raises(sc.ShapeError, match="more than 10000"):
        sc.Chunk(10**9, dim=1).cost(sc.Shape(C))


# --------------------------------------------------------------------------
# Picks, rolls, joins, pads, dropouts
# --------------------------------------------------------------------------
@SETTINGS
@given(st.data())
def test_select_slice_index_select_roll(data):
    shape = data.draw(shapes())
    rank = len(shape)
    dim = dim_of(data.draw, rank)
    n = shape[dim - 1 if dim > 0 else dim]
    which = data.draw(st.sampled_from(["select", "slice", "index_select", "roll"]))
    if which == "select":
        index = data.draw(st.integers(-n, n - 1))
        check(sc.Select(dim, index), bf.select, lambda t: t.select(dim, index), [shape], dim=dim, index=index)
    elif which == "slice":
        start = data.draw(st.one_of(st.none(), st.integers(-6, 6)))
        end = data.draw(st.one_of(st.none(), st.integers(-6, 6)))
        step = data.draw(st.integers(1, 3))
        key = (slice(None),) * (dim % (rank + 1)) + (slice(start, end, step),)
        check(sc.Slice(dim, start, end, step), bf.slice_, lambda t: t[key], [shape],
              dim=dim, start=start, end=end, step=step)
    elif which == "index_select":
        index = data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=5))
        check(sc.IndexSelect(dim, len(index)), bf.index_select,
              lambda t: t.index_select(dim, torch.tensor([i % n for i in index])), [shape], dim=dim, index=index)
    else:
        dims = tuple(dim_of(data.draw, rank) for _ in range(data.draw(st.integers(1, 3))))
        shifts = tuple(data.draw(st.integers(-5, 5)) for _ in dims)
        check(sc.Roll(shifts, dims), bf.roll, lambda t: t.roll(shifts, dims), [shape], shifts=shifts, dims=dims)


@SETTINGS
@given(st.data())
def test_cat_stack_any_rank(data):
    shape = data.draw(shapes())
    rank = len(shape)
    count = data.draw(st.integers(1, 3))
    if data.draw(st.booleans()):
        dim = dim_of(data.draw, rank)
        a = dim - 1 if dim > 0 else dim % rank
        inputs = [tuple(data.draw(side) if i == a else n for i, n in enumerate(shape)) for _ in range(count)]
        check(sc.Cat(dim), bf.cat, lambda *t: torch.cat(t, dim), inputs, dim=dim)
    else:
        dim = dim_of(data.draw, rank, extra=1)
        check(sc.Stack(dim), bf.stack, lambda *t: torch.stack(t, dim), [shape] * count, dim=dim)


@SETTINGS
@given(st.data())
def test_pad_nd(data):
    mode = data.draw(st.sampled_from(["constant", "constant", "reflect", "replicate", "circular"]))
    if mode == "constant":
        shape = data.draw(shapes())
        pairs = data.draw(st.integers(1, len(shape)))
        pad = tuple(data.draw(st.integers(-3, 3)) for _ in range(2 * pairs))
    else:
        pairs = data.draw(st.integers(1, 3))
        shape = data.draw(st.tuples(*([side] * (pairs + data.draw(st.integers(0, 1))))))
        pad = []
        for k in range(pairs):
            n = shape[-1 - k]
            top = n - 1 if mode == "reflect" else n
            pad += [data.draw(st.integers(-n + 1 if mode != "reflect" else 0, top)) for _ in range(2)]
        pad = tuple(pad)
    value = data.draw(st.sampled_from([0, 1, 0.5])) if mode == "constant" else 0
    kwargs = dict(pad=pad, mode=mode, value=value) if mode == "constant" else dict(pad=pad, mode=mode)
    run = bf.evaluate(bf.pad, shape, **kwargs)
    if any(n <= 0 for n in run.shape):  # a crop that eats a dimension: torch may refuse too; symcost must
        with pytest.raises(sc.ShapeError):
            sc.Pad(**kwargs).cost(sc.Shape(*shape))
        return
    check(sc.Pad(**kwargs), bf.pad, lambda t: F.pad(t, pad, **{k: v for k, v in kwargs.items() if k != "pad"}),
          [shape], **kwargs)


@SETTINGS
@given(st.data())
def test_pad2d_unchanged(data):
    shape = data.draw(st.tuples(side, side, side))
    mode = data.draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    limit = min(shape[1:]) - 1 if mode == "reflect" else min(shape[1:])
    padding = tuple(data.draw(st.integers(0, limit)) for _ in range(4))
    check(sc.Pad2d(padding, mode=mode), bf.pad2d, lambda t: F.pad(t, padding, mode=mode), [shape],
          padding=padding, mode=mode)


@SETTINGS
@given(st.data())
def test_dropouts_and_stochastic_depth(data):
    kinds = [(sc.Dropout, bf.dropout, torch.nn.Dropout, 1), (sc.Dropout1d, bf.dropout1d, torch.nn.Dropout1d, 2),
             (sc.Dropout2d, bf.dropout2d, torch.nn.Dropout2d, 3), (sc.Dropout3d, bf.dropout3d, torch.nn.Dropout3d, 4),
             (sc.AlphaDropout, bf.alpha_dropout, torch.nn.AlphaDropout, 2),
             (sc.FeatureAlphaDropout, bf.feature_alpha_dropout, torch.nn.FeatureAlphaDropout, 3)]
    cls, fn, module, rank = data.draw(st.sampled_from(kinds))
    shape = data.draw(st.tuples(*([side] * rank)))
    p = data.draw(st.sampled_from([0, 0.1, 0.5, 1]))
    check(cls(p), fn, module(p).eval(), [shape], p=p)
    mode = data.draw(st.sampled_from(["row", "batch"]))
    # torchvision.ops.stochastic_depth at inference returns its input (torchvision does not import here)
    check(sc.StochasticDepth(p, mode), bf.stochastic_depth, lambda t: t, [shape], p=p, mode=mode)


# --------------------------------------------------------------------------
# Hand-derived symbolic results and errors
# --------------------------------------------------------------------------
def test_symbolic_by_hand():
    g = symbol("g")
    assert sc.Reshape((g, C / g, H, W)).cost(sc.Shape(C, H, W)).out_shape == sc.Shape(g, C / g, H, W)
    assert sc.Reshape((4, -1)).cost(sc.Shape(C, H, W)).out_shape == sc.Shape(4, C * H * W / 4)
    assert sc.Flatten(2, -1).cost(sc.Shape(C, symbol("T"), H, W)).out_shape == sc.Shape(C, symbol("T") * H * W)
    assert sc.Slice(-1, start=1).cost(sc.Shape(C, H, W)).out_shape == sc.Shape(C, H, W - 1)
    assert sc.Slice(1, end=-1, step=2).cost(sc.Shape(C)).out_shape == sc.Shape(sympy.ceiling((C - 1) / 2))
    assert sc.Slice(1, end=2).cost(sc.Shape(C)).out_shape == sc.Shape(sympy.Min(2, C))
    assert sc.Pad((1, -1)).cost(sc.Shape(C, W)).out_shape == sc.Shape(C, W)
    assert sc.Pad((0, 0, 2, 2, 1, 1)).cost(sc.Shape(C, H, W)).out_shape == sc.Shape(C + 2, H + 4, W)
    assert sc.Unflatten(-1, (H, W)).cost(sc.Shape(C, H * W)).out_shape == sc.Shape(C, H, W)
    assert sc.Expand((C, -1, W)).cost(sc.Shape(1, H, 1)).out_shape == sc.Shape(C, H, W)
    assert sc.Cat().cost(sc.Shape(C, H, W)).out_shape == sc.Shape(C, H, W)  # DenseNet's one-tensor cat
    # the pad moves the receptive field's effective padding by the pads before each spatial axis
    rep = sc.Sequential(sc.Pad((1, 0, 2, 0)), sc.Conv2d(C, 3)).analyze(sc.Shape(C, H, W))
    assert (rep.rows[-1].rf.size, rep.rows[-1].rf.padding) == ((3, 3), (2, 1))


@pytest.mark.parametrize("build, shape, error, message", [
    (lambda: sc.Reshape((5, -1)), (2, 3), sc.ShapeError, r"Reshape: shape \(5, -1\) cannot hold 6 elements"),
    (lambda: sc.Reshape((C, H)), (C, H, W), sc.ShapeError, r"holds C\*H elements, the input C\*H\*W as formulas"),
    (lambda: sc.Reshape((-1, -1)), None, sc.InvalidArgumentError, "Reshape: shape may hold at most one -1"),
    (lambda: sc.View((0, 3)), None, sc.InvalidArgumentError, "View: shape must be a positive integer, got 0"),
    (lambda: sc.Flatten(5), (2, 3), sc.InvalidArgumentError, r"Flatten: start_dim must select a dimension 1\.\.2"),
    (lambda: sc.Flatten(2, 1), (2, 3), sc.InvalidArgumentError, "start_dim must not come after end_dim"),
    (lambda: sc.Permute((1, 0, 2)), (2, 3), sc.InvalidArgumentError, r"Permute: dims must keep the batch \(0\) first"),
    (lambda: sc.Permute((0, 1, 1)), (2, 3), sc.InvalidArgumentError, "must name each of the 3 dimensions once"),
    (lambda: sc.Transpose(0, 1), (2, 3), sc.InvalidArgumentError, r"Transpose: dim0 must select .* not the batch"),
    (lambda: sc.Squeeze(1), (C, H), sc.ShapeError, "whether size C is 1 depends on its value"),
    (lambda: sc.Expand((4, 3)), (2, 3), sc.ShapeError, "cannot expand size 2 of"),
    (lambda: sc.Chunk(2, dim=0), (4,), sc.InvalidArgumentError, "Chunk: dim must select a dimension 1..1"),
    (lambda: sc.Chunk(C, dim=1), None, sc.InvalidArgumentError, "Chunk: chunks must be a number"),
    (lambda: sc.Select(1, 3), (3, 2), sc.ShapeError, "Select: index 3 is out of range"),
    (lambda: sc.Slice(1, start=5), (3,), sc.ShapeError, "Slice: slice 5:None of a dimension of size 3 is empty"),
    (lambda: sc.Slice(1, step=0), None, sc.InvalidArgumentError, "Slice: step must be a positive integer, got 0"),
    (lambda: sc.Roll((1, 2), dims=1), None, sc.InvalidArgumentError, r"Roll: shifts must give one shift per dim"),
    (lambda: sc.Stack(dim=0), None, sc.InvalidArgumentError, r"Stack: dim must not be the batch dimension"),
    (lambda: sc.Cat(dim=4), (2, 3), sc.InvalidArgumentError, r"Cat: dim must select a dimension 1\.\.2"),
    (lambda: sc.Pad((1, 2, 3)), None, sc.InvalidArgumentError, "Pad: pad must list .before, after. pairs"),
    (lambda: sc.Pad((3, 0), mode="reflect"), (2, 3), sc.ShapeError, r"reflect padding must be smaller than the input width \(3\)"),
    (lambda: sc.Pad((4, 0), mode="circular"), (2, 3), sc.ShapeError, "circular padding must not exceed"),
    (lambda: sc.Pad((1, 1, 1, 1), mode="replicate"), (3,), sc.ShapeError, "pad gives 2 .before, after. pairs"),
    (lambda: sc.Pad((1, 1), mode="replicate"), (2, 3, 4), sc.ShapeError, "replicate padding pads 1 to 3 trailing"),
    (lambda: sc.Pad((-2, -1)), (2, 3), sc.ShapeError, r"padding by \(-2, -1\) leaves nothing of the input width"),
    (lambda: sc.Dropout1d(), (2, 3, 4), sc.ShapeError, "Dropout1d: expects a sample of 1 or 2 entries"),
    (lambda: sc.StochasticDepth(0.5, "col"), None, sc.InvalidArgumentError, "StochasticDepth: mode must be one of"),
])
def test_errors_are_one_clear_line(build, shape, error, message):
    with pytest.raises(error, match=message) as info:
        layer = build()
        layer.cost(sc.Shape(*shape))
    assert "\n" not in str(info.value)


def test_spec_loads_layout_kinds(tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text(
        "name: layout\ninput: [C, H, W]\nlayers:\n"
        "  - {kind: reshape, shape: [2, -1, H, W]}\n"
        "  - {kind: transpose, dim0: 1, dim1: 2}\n"
        "  - {kind: flatten, start_dim: 1, end_dim: 2}\n"
        "  - {kind: pad, pad: [1, 1, 0, -1], mode: constant}\n"
        "  - {kind: permute, dims: [0, 2, 3, 1]}\n"
        "  - {kind: slice, dim: -1, start: 1}\n"
        "  - {kind: dropout2d, p: 0.1}\n"
        "  - {kind: stochastic_depth, p: 0.1, mode: row}\n")
    from symcost.frontends.spec import load

    rep = load(spec).analyze()
    assert rep.out_shape == sc.Shape(H - 1, W + 2, C - 1)
    assert rep.total.flops() == 0


# --------------------------------------------------------------------------
# A graph with several outputs: a hand-written GLU and a channel shuffle
# --------------------------------------------------------------------------
def _graph_glu_shuffle(c2: object, groups: int) -> sc.Graph:
    return sc.Graph([
        sc.Node("proj", sc.Conv2d(c2, 1), ["input"]),
        sc.Node("halves", sc.Chunk(2, dim=1), ["proj"]),
        sc.Node("gate", sc.Sigmoid(), [("halves", 1)]),
        sc.Node("glu", sc.Mul(), [("halves", 0), "gate"]),
        sc.Node("groups", sc.Unflatten(1, (groups, -1)), ["glu"]),
        sc.Node("swap", sc.Transpose(1, 2), ["groups"]),
        sc.Node("shuffle", sc.Flatten(1, 2), ["swap"]),
    ], output="shuffle")


class _GluShuffle(torch.nn.Module):
    def __init__(self, c_in: int, c2: int, groups: int):
        super().__init__()
        self.proj, self.groups = torch.nn.Conv2d(c_in, c2, 1), groups

    def forward(self, x):
        a, b = self.proj(x).chunk(2, 1)
        y = a * torch.sigmoid(b)
        n, c, h, w = y.shape
        return y.reshape(n, self.groups, c // self.groups, h, w).transpose(1, 2).flatten(1, 2)


@pytest.mark.parametrize("c_in, half, groups, h, w", [(3, 4, 2, 5, 6), (2, 6, 3, 3, 1), (4, 8, 4, 2, 2)])
def test_graph_glu_and_channel_shuffle(c_in, half, groups, h, w):
    g = symbol("g_half")
    rep = _graph_glu_shuffle(2 * g, groups).analyze(sc.Shape(C, H, W))
    assert rep.out_shape == sc.Shape(g, H, W)
    values = {C: c_in, g: half, H: h, W: w}
    numbers = rep.subs(values)
    model = _GluShuffle(c_in, 2 * half, groups)
    x = torch.randn(BATCH, c_in, h, w)
    assert tuple(model(x).shape[1:]) == _ints(numbers.out_shape) == (half, h, w)
    assert numbers.total.params == sum(p.numel() for p in model.parameters())
    # the layout rows against the brute force: 0 operations each, the shapes it measures
    rows = {row.name: row for row in numbers.rows}
    chunk = bf.evaluate(bf.chunk, (2 * half, h, w), chunks=2, dim=1)
    assert tuple(_ints(s) for s in rows["halves"].cost.out_shapes) == chunk.shapes and chunk.total == 0
    shuffle = bf.evaluate(bf.unflatten, (half, h, w), dim=1, sizes=(groups, -1))
    swap = bf.evaluate(bf.transpose, shuffle.shape, dim0=1, dim1=2)
    flat = bf.evaluate(bf.flatten, swap.shape, start_dim=1, end_dim=2)
    for name, run in (("groups", shuffle), ("swap", swap), ("shuffle", flat)):
        assert _ints(rows[name].cost.out_shape) == run.shape and rows[name].cost.flops() == run.total == 0
    mul = bf.evaluate(bf.mul, (half, h, w), (half, h, w))
    assert rows["glu"].cost.flops() == mul.total == half * h * w
    # the symbolic formula: the GLU's and the sigmoid's elementwise ops, the conv's, nothing for layout
    assert rep.rows[-1].cost.out_shape == sc.Shape(g, H, W)
