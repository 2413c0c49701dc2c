"""The brute-force reference itself, checked against torch.

For each layer kind of ``brute_force``, hypothesis draws a handful of tiny
configurations; the reference runs on torch's own random inputs (as plain
floats, through :func:`brute_force.run`) and must agree with torch on the
output shape, the output values (to 1e-4, torch in float64), the parameter
names and counts (``sum(p.numel())``) and the buffers. The reference's
parameters are copied into the torch module first. Counts are not checked
here against torch (torch does not count); a few are checked by hand below
and in the docstring examples of ``brute_force``.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import note as _note
from hypothesis.errors import InvalidArgument
from hypothesis import strategies as st

import brute_force as bf

torch = pytest.importorskip("torch")
F = torch.nn.functional

FAST = settings(max_examples=20, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
FEW = settings(FAST, max_examples=15)
DTYPE = torch.float64


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------
def note(text: str) -> None:
    try:
        _note(text)
    except InvalidArgument:  # a plain (parametrized) test
        pass


def randn(*shape):
    return torch.randn(*shape, dtype=DTYPE)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def close(result: bf.Result, expected) -> None:
    """The reference's output equals torch's: shape and values."""
    expected = expected.detach().to(DTYPE)
    assert result.shape == tuple(expected.shape), (result.shape, tuple(expected.shape))
    got = torch.tensor(result.output, dtype=DTYPE) if result.output != [] else torch.empty(expected.shape)
    torch.testing.assert_close(got.reshape(expected.shape), expected, atol=1e-4, rtol=1e-4, equal_nan=True)


def load(module, result: bf.Result) -> None:
    """Parameters: same names and counts as torch's; the reference's values copied into the module.
    Buffers: same names and counts."""
    params = {n: p for n, p in module.named_parameters()}
    ref_params = {n: v for n, v in result.tensors.items() if n not in result.buffers}
    assert set(params) == set(ref_params)
    assert sum(p.numel() for p in params.values()) == result.weight + result.bias
    assert {n: b.numel() for n, b in module.named_buffers()} == result.buffers
    with torch.no_grad():
        for name, value in ref_params.items():
            params[name].copy_(torch.tensor(value, dtype=DTYPE).reshape(params[name].shape))


def module_check(module, fn, x, *, training=False, **arguments) -> bf.Result:
    """Run ``fn`` on per-sample ``x`` and ``module`` on the batch ``x[None]``, compare everything."""
    note(f"{fn.__name__} {tuple(x.shape)} {arguments}")
    result = bf.run(fn, x.tolist(), **arguments)
    module = module.to(DTYPE)
    load(module, result)
    module.train(training)
    with torch.no_grad():
        expected = module(x[None])
    expected = expected[0] if not isinstance(expected, tuple) else expected[0][0]
    close(result, expected)
    return result


def fn_check(fn, torch_fn, *inputs, **arguments) -> bf.Result:
    """A functional op: the reference on per-sample ``inputs`` against ``torch_fn`` on the same tensors."""
    note(f"{fn.__name__} {[tuple(t.shape) for t in inputs]} {arguments}")
    result = bf.run(fn, *[t.tolist() for t in inputs], **arguments)
    expected = torch_fn(*inputs)
    if isinstance(expected, (tuple, list)):
        assert len(result.shapes) == len(expected)
        for shape, value, e in zip(result.shapes, result.output, expected):
            assert shape == tuple(e.shape)
            torch.testing.assert_close(torch.tensor(value, dtype=DTYPE).reshape(e.shape), e.to(DTYPE))
    else:
        close(result, expected)
        assert result.scalar == (expected.dim() == 0)
    return result


def batched(op):
    """torch ``op`` applied to the batch of one sample, the batch then dropped (dims are batched dims)."""
    def apply(*xs):
        out = op(*[x[None] for x in xs])
        return tuple(o[0] for o in out) if isinstance(out, (tuple, list)) else out[0]
    return apply


# --------------------------------------------------------------------------
# Convolutions, pools, batch norm
# --------------------------------------------------------------------------
CONV = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}
CONVT = {1: torch.nn.ConvTranspose1d, 2: torch.nn.ConvTranspose2d, 3: torch.nn.ConvTranspose3d}
CONV_FN = {1: bf.conv1d, 2: bf.conv2d, 3: bf.conv3d}
CONVT_FN = {1: bf.conv_transpose1d, 2: bf.conv_transpose2d, 3: bf.conv_transpose3d}


@st.composite
def conv_config(draw, transposed=False):
    nd = draw(st.integers(1, 3))
    g = draw(st.integers(1, 2))
    c_in, c_out = g * draw(st.integers(1, 2)), g * draw(st.integers(1, 2))
    side = {1: 6, 2: 5, 3: 4}[nd]
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    d = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    p = tuple(draw(st.integers(0, 1)) for _ in range(nd))
    size = tuple(draw(st.integers(1, side)) for _ in range(nd))
    kw = dict(kernel_size=k, stride=s, padding=p, dilation=d, groups=g, bias=draw(st.booleans()))
    if transposed:
        kw["output_padding"] = tuple(draw(st.integers(0, max(si, di) - 1)) for si, di in zip(s, d))
    return nd, (c_in, *size), c_out, kw


@FAST
@given(conv_config())
def test_conv_nd(config):
    nd, shape, c_out, kw = config
    r = bf.evaluate(CONV_FN[nd], shape, out_channels=c_out, **kw)
    assume(not r.empty)
    module_check(CONV[nd](shape[0], c_out, **kw), CONV_FN[nd], randn(*shape), out_channels=c_out, **kw)


@FAST
@given(conv_config(transposed=True))
def test_conv_transpose_nd(config):
    nd, shape, c_out, kw = config
    r = bf.evaluate(CONVT_FN[nd], shape, out_channels=c_out, **kw)
    assume(not r.empty)
    module_check(CONVT[nd](shape[0], c_out, **kw), CONVT_FN[nd], randn(*shape), out_channels=c_out, **kw)


@st.composite
def pool_config(draw):
    nd = draw(st.integers(1, 3))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    kw = dict(kernel_size=k, stride=tuple(draw(st.integers(1, 3)) for _ in range(nd)),
              padding=tuple(draw(st.integers(0, ki // 2)) for ki in k), ceil_mode=draw(st.booleans()))
    size = tuple(draw(st.integers(1, {1: 7, 2: 5, 3: 4}[nd])) for _ in range(nd))
    return nd, (draw(st.integers(1, 2)), *size), kw


@FAST
@given(pool_config(), st.booleans(), st.integers(1, 2))
def test_max_pool_nd(config, _, dilation):
    nd, shape, kw = config
    fn = {1: bf.max_pool1d, 2: bf.max_pool2d, 3: bf.max_pool3d}[nd]
    assume(not bf.evaluate(fn, shape, dilation=dilation, **kw).empty)
    torch_fn = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[nd]
    fn_check(fn, batched(lambda x: torch_fn(x, dilation=dilation, **kw)), randn(*shape), dilation=dilation, **kw)


@FAST
@given(pool_config(), st.booleans())
def test_avg_pool_nd(config, count_include_pad):
    nd, shape, kw = config
    fn = {1: bf.avg_pool1d, 2: bf.avg_pool2d, 3: bf.avg_pool3d}[nd]
    assume(not bf.evaluate(fn, shape, count_include_pad=count_include_pad, **kw).empty)
    # torch's avg_pool3d (only it) refuses an input smaller than the kernel even when padding makes it fit
    assume(nd != 3 or all(n >= k for n, k in zip(shape[1:], kw["kernel_size"])))
    torch_fn = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[nd]
    fn_check(fn, batched(lambda x: torch_fn(x, count_include_pad=count_include_pad, **kw)), randn(*shape),
             count_include_pad=count_include_pad, **kw)


@FAST
@given(st.integers(1, 3), st.data())
def test_adaptive_pools_nd(nd, data):
    size = tuple(data.draw(st.integers(1, 5)) for _ in range(nd))
    out = tuple(data.draw(st.none() | st.integers(1, 4)) for _ in range(nd))
    x = randn(2, *size)
    avg = {1: bf.adaptive_avg_pool1d, 2: bf.adaptive_avg_pool2d, 3: bf.adaptive_avg_pool3d}[nd]
    mx = {1: bf.adaptive_max_pool1d, 2: bf.adaptive_max_pool2d, 3: bf.adaptive_max_pool3d}[nd]
    t_avg = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}[nd]
    t_max = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}[nd]
    out_t = tuple(o if o is not None else n for o, n in zip(out, size)) if nd == 1 else out
    fn_check(avg, batched(lambda t: t_avg(t, out_t)), x, output_size=out)
    fn_check(mx, batched(lambda t: t_max(t, out_t)), x, output_size=out)


@FAST
@given(st.integers(1, 3), st.booleans(), st.booleans(), st.integers(1, 3), st.integers(1, 3))
def test_batch_norm_inference(nd, affine, track, ch, side):
    shape = {1: (ch, side), 2: (ch, side, side), 3: (ch, side, 2, side)}[nd]
    module = {1: torch.nn.BatchNorm1d, 2: torch.nn.BatchNorm2d, 3: torch.nn.BatchNorm3d}[nd](
        ch, affine=affine, track_running_stats=track)
    fn = {1: bf.batch_norm1d, 2: bf.batch_norm2d, 3: bf.batch_norm3d}[nd]
    if track:  # without running stats torch normalises with batch statistics even in eval()
        module_check(module, fn, randn(*shape), affine=affine, track_running_stats=track)
    if nd == 1 and track:  # a (C,) sample
        module_check(module, fn, randn(ch), affine=affine, track_running_stats=track)


@FAST
@given(st.integers(1, 3), st.booleans(), st.booleans(), st.integers(1, 3), st.integers(2, 3))
def test_batch_norm_training(nd, affine, track, ch, side):
    shape = {1: (ch, side), 2: (ch, side, 2), 3: (ch, 1, side, 2)}[nd]
    module = {1: torch.nn.BatchNorm1d, 2: torch.nn.BatchNorm2d, 3: torch.nn.BatchNorm3d}[nd](
        ch, affine=affine, track_running_stats=track).to(DTYPE)
    r = module_check(module, bf.batch_norm_training, randn(*shape), training=True, affine=affine,
                     track_running_stats=track)
    if track:
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            got = torch.tensor(r.tensors[name], dtype=DTYPE).reshape(getattr(module, name).shape)
            torch.testing.assert_close(got, getattr(module, name).to(DTYPE))
        assert r.labels["running_stats"] == 7 * ch


# --------------------------------------------------------------------------
# Norms with statistics
# --------------------------------------------------------------------------
@FAST
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(1, 2), st.booleans(), st.booleans())
def test_layer_norm(shape, n_norm, affine, bias):
    ns = shape[-min(n_norm, len(shape)):]
    module = torch.nn.LayerNorm(ns, elementwise_affine=affine, bias=bias)
    module_check(module, bf.layer_norm, randn(*shape), normalized_shape=ns, elementwise_affine=affine, bias=bias)


@FAST
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(1, 2), st.booleans())
def test_rms_norm(shape, n_norm, affine):
    ns = shape[-min(n_norm, len(shape)):]
    module = torch.nn.RMSNorm(ns, eps=1e-6, elementwise_affine=affine)
    module_check(module, bf.rms_norm, randn(*shape), normalized_shape=ns, eps=1e-6, elementwise_affine=affine)


@FAST
@given(st.integers(1, 3), st.integers(1, 3), st.lists(st.integers(1, 3), min_size=1, max_size=3), st.booleans())
def test_group_norm(groups, per_group, spatial, affine):
    ch = groups * per_group
    assume(per_group * math.prod(spatial) > 1)
    module_check(torch.nn.GroupNorm(groups, ch, affine=affine), bf.group_norm, randn(ch, *spatial),
                 num_groups=groups, affine=affine)


@FAST
@given(st.integers(1, 3), st.integers(1, 3), st.integers(2, 3), st.booleans(), st.booleans())
def test_instance_norm(nd, ch, side, affine, track):
    shape = (ch, *([side] * nd))
    module = {1: torch.nn.InstanceNorm1d, 2: torch.nn.InstanceNorm2d, 3: torch.nn.InstanceNorm3d}[nd](
        ch, affine=affine, track_running_stats=track)
    module_check(module, bf.instance_norm, randn(*shape), affine=affine, track_running_stats=track)


def test_norm_counts_by_hand():
    """Instance norm per channel of n = 4, no affine: mean 3 add 1 div; deviations 4 add; variance
    4 mul 3 add 1 div; rstd 1 add 1 sqrt 1 div; normalise 4 mul. RMS norm of 4 with weight: 4 mul
    (squares) 3 add 1 div (mean) 1 add (eps) 1 rsqrt 4 mul 4 mul."""
    r = bf.evaluate(bf.instance_norm, (2, 2, 2))
    assert r.ops == {"mul": 16, "add": 22, "cmp": 0, "div": 6, "special": 2}
    r = bf.evaluate(bf.rms_norm, (4,), normalized_shape=4)
    assert r.ops == {"mul": 12, "add": 4, "cmp": 0, "div": 1, "special": 1}
    assert bf.evaluate(bf.batch_norm3d, (2, 2, 2, 2)).ops == {"mul": 16, "add": 16, "cmp": 0, "div": 0, "special": 0}


# --------------------------------------------------------------------------
# Embeddings
# --------------------------------------------------------------------------
@FAST
@given(st.integers(1, 6), st.integers(1, 4), st.lists(st.integers(0, 5), min_size=1, max_size=5))
def test_embedding(n, dim, ids):
    ids = [i % n for i in ids]
    module = torch.nn.Embedding(n, dim).to(DTYPE)
    r = bf.run(bf.embedding, ids, num_embeddings=n, embedding_dim=dim)
    load(module, r)
    close(r, module(torch.tensor(ids)))
    assert r.total == 0 and r.weight == n * dim


@FAST
@given(st.integers(1, 6), st.integers(1, 4), st.integers(1, 3), st.integers(1, 4),
       st.sampled_from(["sum", "mean", "max"]), st.booleans())
def test_embedding_bag(n, dim, bags, length, mode, one_bag):
    ids = torch.randint(0, n, (1, length) if one_bag else (bags, length))
    module = torch.nn.EmbeddingBag(n, dim, mode=mode).to(DTYPE)
    r = bf.run(bf.embedding_bag, ids[0].tolist() if one_bag else ids.tolist(), num_embeddings=n,
               embedding_dim=dim, mode=mode)
    load(module, r)
    out = module(ids)
    close(r, out[0] if one_bag else out)
    per = {"sum": (length - 1, 0, 0), "mean": (length - 1, 0, 1), "max": (0, length - 1, 0)}[mode]
    n_bags = 1 if one_bag else bags
    assert (r.ops["add"], r.ops["cmp"], r.ops["div"]) == tuple(n_bags * dim * p for p in per)


# --------------------------------------------------------------------------
# Matrix products
# --------------------------------------------------------------------------
@st.composite
def matmul_shapes(draw):
    n, k, p = (draw(st.integers(1, 3)) for _ in range(3))
    batch = draw(st.lists(st.integers(1, 3), max_size=2))
    a_batch = [b if draw(st.booleans()) else 1 for b in batch][draw(st.integers(0, len(batch))):]
    b_batch = [b if draw(st.booleans()) else 1 for b in batch][draw(st.integers(0, len(batch))):]
    a = (k,) if draw(st.integers(0, 3)) == 0 else (*a_batch, n, k)
    b = (k,) if draw(st.integers(0, 3)) == 0 else (*b_batch, k, p)
    return a, b


@FAST
@given(matmul_shapes())
def test_matmul(shapes):
    a, b = randn(*shapes[0]), randn(*shapes[1])
    r = fn_check(bf.matmul, torch.matmul, a, b)
    out_elems = max(1, torch.matmul(a, b).numel())
    assert r.macs == r.ops["mul"] == out_elems * shapes[0][-1]
    assert r.ops["add"] == out_elems * (shapes[0][-1] - 1)


@FAST
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
       st.sampled_from([0, 1, 0.5]), st.sampled_from([1, 2.0]), st.booleans())
def test_bmm_baddbmm_addmm(batch, n, k, p, beta, alpha, broadcast_input):
    b1, b2 = randn(batch, n, k), randn(batch, k, p)
    fn_check(bf.bmm, torch.bmm, b1, b2)
    inp = randn(1, p) if broadcast_input else randn(batch, n, p)
    r = fn_check(bf.baddbmm, lambda i, x, y: torch.baddbmm(i, x, y, beta=beta, alpha=alpha), inp, b1, b2,
                 beta=beta, alpha=alpha)
    outs = batch * n * p
    assert r.ops["mul"] == outs * (k + (alpha != 1) + (beta not in (0, 1)))
    assert r.ops["add"] == outs * (k - 1 + (beta != 0))
    inp2 = randn(p) if broadcast_input else randn(n, p)
    fn_check(bf.addmm, lambda i, x, y: torch.addmm(i, x, y, beta=beta, alpha=alpha), inp2, b1[0], b2[0],
             beta=beta, alpha=alpha)


EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 2)]),
    ("b...d,bd->b...", [(2, 3, 4), (2, 4)]),
    ("bhqd,bhkd->bhqk", [(1, 2, 3, 2), (1, 2, 4, 2)]),
    ("ij,ij->ij", [(2, 3), (1, 3)]),
    ("ba,ca", [(2, 3), (4, 3)]),
    ("iij->j", [(2, 2, 3)]),
]


@FAST
@given(st.sampled_from(EINSUMS))
def test_einsum(case):
    eq, shapes = case
    ops = [randn(*s) for s in shapes]
    r = fn_check(bf.einsum, lambda *t: torch.einsum(eq, *t), *ops, equation=eq)
    assert r.macs == r.ops["mul"]


def test_einsum_counts_by_hand():
    # "bij,bjk->bik": 2*2*2 outputs, 3 terms each: 24 muls, 16 adds
    r = bf.evaluate(bf.einsum, (2, 2, 3), (2, 3, 2), equation="bij,bjk->bik")
    assert (r.ops["mul"], r.ops["add"]) == (24, 16)
    # three operands, contracted j and k: per output 3*2 terms of 2 muls
    r = bf.evaluate(bf.einsum, (2, 3), (3, 2), (2, 2), equation="ij,jk,kl->il")
    assert (r.ops["mul"], r.ops["add"]) == (4 * 6 * 2, 4 * 5)


@FAST
@given(st.lists(st.integers(1, 3), min_size=1, max_size=4), st.integers(1, 3), st.booleans())
def test_linear_any_leading_dims(shape, out_features, bias):
    r = module_check(torch.nn.Linear(shape[-1], out_features, bias=bias), bf.linear, randn(*shape),
                     out_features=out_features, bias=bias)
    assert r.macs == math.prod(shape[:-1]) * out_features * shape[-1]


# --------------------------------------------------------------------------
# Softmax, elementwise math, reductions
# --------------------------------------------------------------------------
small_shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


@st.composite
def shape_and_dim(draw):
    shape = draw(small_shapes)
    a = draw(st.integers(1, len(shape)))
    return shape, a - len(shape) - 1 if draw(st.booleans()) else a


@FAST
@given(shape_and_dim())
def test_softmax(config):
    shape, dim = config
    x = randn(*shape)
    fn_check(bf.softmax, batched(lambda t: F.softmax(t, dim)), x, dim=dim)
    r = fn_check(bf.log_softmax, batched(lambda t: F.log_softmax(t, dim)), x, dim=dim)
    n = shape[dim - 1 if dim > 0 else dim]
    lines = math.prod(shape) // n
    assert r.ops == {"mul": 0, "add": lines * (3 * n - 1), "cmp": lines * (n - 1), "div": 0,
                     "special": lines * (n + 1)}


ELEMENTWISE = [
    (bf.exp_, torch.exp, {}), (bf.log_, lambda t: torch.log(t.abs() + 0.1), {}),
    (bf.sqrt_, lambda t: torch.sqrt(t.abs() + 0.1), {}), (bf.rsqrt_, lambda t: torch.rsqrt(t.abs() + 0.1), {}),
    (bf.erf_, torch.erf, {}), (bf.abs_, torch.abs, {}), (bf.neg, torch.neg, {}),
    (bf.pow_, lambda t: torch.pow(t.abs() + 0.1, 1.5), {"exponent": 1.5}),
    (bf.clamp, lambda t: torch.clamp(t, -0.5, 0.5), {"min": -0.5, "max": 0.5}),
    (bf.clamp, lambda t: torch.clamp(t, min=0.1), {"min": 0.1}),
]


@FAST
@given(small_shapes, st.sampled_from(range(len(ELEMENTWISE))))
def test_elementwise_math(shape, which):
    fn, torch_fn, kw = ELEMENTWISE[which]
    x = randn(*shape)
    if fn in (bf.log_, bf.sqrt_, bf.rsqrt_, bf.pow_):
        x = x.abs() + 0.1
        torch_fn = {bf.log_: torch.log, bf.sqrt_: torch.sqrt, bf.rsqrt_: torch.rsqrt,
                    bf.pow_: lambda t: torch.pow(t, 1.5)}[fn]
    r = fn_check(fn, torch_fn, x, **kw)
    n = x.numel()
    expected = {bf.abs_: ("cmp", n), bf.neg: ("cmp", 0), bf.clamp: ("cmp", n * len(kw))}.get(fn, ("special", n))
    assert r.ops[expected[0]] == expected[1] and r.total == expected[1]


@FAST
@given(small_shapes, st.booleans())
def test_where_masked_fill(shape, scalar_other):
    x, y = randn(*shape), randn(*shape[1:]) if len(shape) > 1 else randn(1)
    cond = torch.rand(*shape) > 0.5
    other = 0.25 if scalar_other else y
    r = bf.run(bf.where, cond.tolist(), x.tolist(), other if scalar_other else y.tolist())
    close(r, torch.where(cond, x, torch.tensor(other, dtype=DTYPE) if scalar_other else y))
    assert r.total == 0
    mask = torch.rand(*shape[1:]) > 0.5 if len(shape) > 1 else torch.rand(1) > 0.5
    r = bf.run(bf.masked_fill, x.tolist(), mask.tolist(), value=-1.5)
    close(r, x.masked_fill(mask, -1.5))
    assert r.total == 0


@st.composite
def reduce_config(draw):
    shape = draw(small_shapes)
    dims = draw(st.none() | st.lists(st.integers(1, len(shape)), min_size=1, max_size=len(shape), unique=True))
    if dims is not None:
        dims = tuple(d - len(shape) - 1 if draw(st.booleans()) else d for d in dims)
        if len(dims) == 1 and draw(st.booleans()):
            dims = dims[0]
    return shape, dims, draw(st.booleans())


@FAST
@given(reduce_config(), st.sampled_from(["sum", "mean", "var", "amax", "amin"]))
def test_reductions(config, kind):
    shape, dim, keepdim = config
    x = randn(*shape)
    torch_dim = tuple(range(1, len(shape) + 1)) if dim is None else dim
    fn = {"sum": bf.sum_, "mean": bf.mean_, "var": bf.var, "amax": bf.amax, "amin": bf.amin}[kind]
    n = x[None].sum(torch_dim, keepdim=True).numel()
    group = x.numel() // n
    assume(kind != "var" or group > 1)
    r = fn_check(fn, batched(lambda t: getattr(t, kind)(torch_dim, keepdim=keepdim)), x, dim=dim, keepdim=keepdim)
    expected = {"sum": {"add": group - 1}, "mean": {"add": group - 1, "div": 1},
                "var": {"add": 3 * group - 2, "mul": group, "div": 2},
                "amax": {"cmp": group - 1}, "amin": {"cmp": group - 1}}[kind]
    assert {k: v for k, v in r.ops.items() if v} == {k: n * v for k, v in expected.items() if v}


@FAST
@given(small_shapes, st.integers(1, 3))
def test_glu_swiglu(shape, half):
    x = randn(*shape[:-1], 2 * half)
    fn_check(bf.glu, batched(lambda t: F.glu(t, -1)), x)
    r = fn_check(bf.swiglu, lambda t: F.silu(t[..., :half]) * t[..., half:], x)
    outs = x.numel() // 2
    assert r.ops == {"mul": outs, "add": outs, "cmp": 0, "div": outs, "special": outs}


# --------------------------------------------------------------------------
# Attention
# --------------------------------------------------------------------------
@st.composite
def sdpa_config(draw):
    kv_heads = draw(st.integers(1, 2))
    heads = kv_heads * draw(st.integers(1, 2))
    L, S, E, Ev = (draw(st.integers(1, 4)) for _ in range(4))
    kind = draw(st.sampled_from(["plain", "causal", "bool", "float"]))
    scale = draw(st.none() | st.floats(0.1, 2.0))
    return heads, kv_heads, L, S, E, Ev, kind, scale


@FAST
@given(sdpa_config())
def test_sdpa(config):
    heads, kv_heads, L, S, E, Ev, kind, scale = config
    q, k, v = randn(heads, L, E), randn(kv_heads, S, E), randn(kv_heads, S, Ev)
    kw = dict(scale=scale, enable_gqa=heads != kv_heads)
    mask = None
    if kind == "causal":
        kw["is_causal"] = True
    elif kind == "bool":
        mask = torch.rand(L, S) > 0.4
        mask[:, 0] = True  # no fully masked row (torch returns NaN there)
    elif kind == "float":
        mask = randn(heads, 1, S)
    r = bf.run(bf.scaled_dot_product_attention, q.tolist(), k.tolist(), v.tolist(),
               attn_mask=None if mask is None else mask.tolist(), **kw)
    close(r, F.scaled_dot_product_attention(q, k, v, attn_mask=mask, **kw))
    scores = heads * (sum(min(i + 1, S) for i in range(L)) if kind == "causal" else L * S)
    assert r.labels["qk_macs"] == scores * E and r.labels["av_macs"] == scores * Ev
    assert r.macs == scores * (E + Ev) and r.labels["scale"] == scores
    assert r.labels.get("mask", 0) == (scores if mask is not None else 0)
    assert r.ops["special"] == scores and r.ops["div"] == scores


def test_sdpa_causal_counts_by_hand():
    r = bf.evaluate(bf.scaled_dot_product_attention, (1, 4, 3), (1, 4, 3), (1, 4, 5), is_causal=True)
    assert r.labels["qk_macs"] == 10 * 3 and r.labels["av_macs"] == 10 * 5  # 1+2+3+4 = 10 scores
    # rows of 1, 2, 3, 4 keys: cmp (n-1), adds: q.k (E-1)n + softmax (2n-1) + p@v (n-1)Ev
    assert r.ops["cmp"] == 0 + 1 + 2 + 3
    assert r.ops["add"] == sum(2 * n + (2 * n - 1) + 5 * (n - 1) for n in (1, 2, 3, 4))
    # L > S: rows past S see all S keys
    r = bf.evaluate(bf.scaled_dot_product_attention, (1, 5, 1), (1, 3, 1), (1, 3, 1), is_causal=True)
    assert r.labels["qk_macs"] == 1 + 2 + 3 + 3 + 3


@FEW
@given(st.integers(1, 3), st.integers(1, 3), st.floats(0.1, 0.7), st.booleans())
def test_sdpa_dropout(L, S, p, causal):
    """With every score kept the output is the p = 0 output over (1 - p); one multiply per score."""
    q, k, v = randn(2, L, 2), randn(2, S, 2), randn(2, S, 3)
    r = bf.run(bf.scaled_dot_product_attention, q.tolist(), k.tolist(), v.tolist(), dropout_p=p, is_causal=causal)
    close(r, F.scaled_dot_product_attention(q, k, v, is_causal=causal) / (1 - p))
    assert r.labels["dropout"] == r.labels["scale"]


@FEW
@given(st.integers(1, 3), st.integers(1, 3), st.sampled_from([(2, 1), (4, 2), (4, 4), (3, 3)]), st.booleans(),
       st.booleans(), st.booleans(), st.sampled_from([None, 3]), st.sampled_from([None, 2]))
def test_multi_head_attention(L, S, embed_heads, bias, bias_kv, zero_attn, kdim, vdim):
    E, H = embed_heads
    module = torch.nn.MultiheadAttention(E, H, bias=bias, add_bias_kv=bias_kv, add_zero_attn=zero_attn,
                                         kdim=kdim, vdim=vdim, batch_first=True).to(DTYPE)
    query = randn(L, E)
    key, value = randn(S, kdim or E), randn(S, vdim or E)
    kw = dict(embed_dim=E, num_heads=H, bias=bias, add_bias_kv=bias_kv, add_zero_attn=zero_attn, kdim=kdim,
              vdim=vdim)
    r = bf.run(bf.multi_head_attention, query.tolist(), key.tolist(), value.tolist(), **kw)
    load(module, r)
    module.eval()
    with torch.no_grad():
        out, _ = module(query[None], key[None], value[None], need_weights=False)
    close(r, out[0])
    keys = S + bias_kv + zero_attn
    proj = L * E * E + S * E * (kdim or E) + S * E * (vdim or E) + L * E * E
    assert r.macs == proj + H * L * keys * (E // H) * 2


# --------------------------------------------------------------------------
# Layout ops: values moved, nothing computed
# --------------------------------------------------------------------------
LAYOUT = [
    ((2, 3, 4), bf.reshape, dict(shape=(4, -1)), lambda t: t.reshape(t.shape[0], 4, -1)),
    ((2, 3, 4), bf.view, dict(shape=(24,)), lambda t: t.view(t.shape[0], 24)),
    ((2, 3, 4), bf.permute, dict(dims=(0, 3, 1, 2)), lambda t: t.permute(0, 3, 1, 2)),
    ((2, 3, 4), bf.transpose, dict(dim0=-1, dim1=1), lambda t: t.transpose(-1, 1)),
    ((2, 6), bf.unflatten, dict(dim=-1, sizes=(2, -1)), lambda t: t.unflatten(-1, (2, -1))),
    ((1, 3, 1), bf.squeeze, dict(), lambda t: t.squeeze((1, 2, 3))),
    ((1, 3, 1), bf.squeeze, dict(dim=-1), lambda t: t.squeeze(-1)),
    ((2, 3), bf.unsqueeze, dict(dim=-1), lambda t: t.unsqueeze(-1)),
    ((2, 3), bf.unsqueeze, dict(dim=2), lambda t: t.unsqueeze(2)),
    ((2, 1, 3), bf.expand, dict(sizes=(-1, 4, 3)), lambda t: t.expand(-1, -1, 4, 3)),
    ((2, 5), bf.chunk, dict(chunks=3, dim=-1), lambda t: t.chunk(3, -1)),
    ((2, 5), bf.split, dict(split_size_or_sections=2, dim=2), lambda t: t.split(2, 2)),
    ((2, 5), bf.split, dict(split_size_or_sections=[1, 4], dim=-1), lambda t: t.split([1, 4], -1)),
    ((2, 3, 4), bf.select, dict(dim=2, index=-1), lambda t: t.select(2, -1)),
    ((2, 7), bf.slice_, dict(dim=-1, start=1, end=None, step=2), lambda t: t[..., 1::2]),
    ((2, 7), bf.index_select, dict(dim=-1, index=[6, 0, 0, 3]),
     lambda t: t.index_select(-1, torch.tensor([6, 0, 0, 3]))),
    ((2, 3, 4), bf.roll, dict(shifts=(1, -3), dims=(1, -1)), lambda t: t.roll((1, -3), (1, -1))),
    ((2, 3), bf.flatten, dict(), lambda t: t.flatten(1)),
    ((2, 3), bf.contiguous, dict(), lambda t: t.contiguous()),
    ((2, 3, 3), bf.pad, dict(pad=(1, 2, 0, 1), mode="reflect"), lambda t: F.pad(t, (1, 2, 0, 1), mode="reflect")),
    ((2, 3, 3), bf.pad, dict(pad=(2, 1, 3, 0), mode="replicate"),
     lambda t: F.pad(t, (2, 1, 3, 0), mode="replicate")),
    ((2, 3, 3), bf.pad, dict(pad=(1, 2, 2, 1), mode="circular"), lambda t: F.pad(t, (1, 2, 2, 1), mode="circular")),
    ((2, 3, 3), bf.pad, dict(pad=(1, -1, 2, 0, 1, 1), value=0.5), lambda t: F.pad(t, (1, -1, 2, 0, 1, 1), value=0.5)),
    ((2, 2, 3, 3), bf.pad, dict(pad=(1, 1, 1, 0, 0, 1), mode="replicate"),
     lambda t: F.pad(t, (1, 1, 1, 0, 0, 1), mode="replicate")),
    ((3, 4), bf.pad2d, dict(padding=(1, 0, 2, 1), mode="replicate"),
     lambda t: F.pad(t, (1, 0, 2, 1), mode="replicate")),
    ((2, 3, 4), bf.dropout2d, dict(p=0.3), lambda t: t),
    ((2, 3, 4), bf.stochastic_depth, dict(p=0.3), lambda t: t),
]


@pytest.mark.parametrize("case", LAYOUT, ids=lambda c: c[1].__name__ if callable(c[1]) else str(c))
def test_layout_ops(case):
    shape, fn, kw, op = case
    r = fn_check(fn, batched(op), randn(*shape), **kw)
    assert r.total == 0 and r.weight == r.bias == 0


def test_stack_and_cat():
    xs = [randn(2, 3) for _ in range(3)]
    r = fn_check(bf.stack, batched(lambda *t: torch.stack(t, -1)), *xs, dim=-1)
    assert r.total == 0
    fn_check(bf.stack, batched(lambda *t: torch.stack(t, 1)), *xs, dim=1)
    fn_check(bf.cat, batched(lambda *t: torch.cat(t, 2)), *xs, dim=2)


# --------------------------------------------------------------------------
# Resampling
# --------------------------------------------------------------------------
@st.composite
def interp_config(draw):
    mode = draw(st.sampled_from(["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear"]))
    nd = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}.get(mode) or draw(st.integers(1, 3))
    spatial = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    kw = {"mode": mode}
    if draw(st.booleans()):
        kw["size"] = tuple(draw(st.integers(1, 5)) for _ in range(nd))
    else:
        kw["scale_factor"] = tuple(draw(st.sampled_from([0.5, 1.0, 1.5, 2.0])) for _ in range(nd))
        assume(all(math.floor(n * f) >= 1 for n, f in zip(spatial, kw["scale_factor"])))
    if "linear" in mode or mode == "bicubic":
        kw["align_corners"] = draw(st.booleans())
    return (draw(st.integers(1, 2)), *spatial), kw


@FAST
@given(interp_config())
def test_interpolate(config):
    shape, kw = config
    r = fn_check(bf.interpolate, batched(lambda t: F.interpolate(t, **kw)), randn(*shape), **kw)
    outs = math.prod(r.shape)
    per = {"nearest": (0, 0), "nearest-exact": (0, 0), "linear": (2, 1), "bilinear": (6, 3),
           "trilinear": (14, 7), "bicubic": (20, 15)}[kw["mode"]]
    assert (r.ops["mul"], r.ops["add"]) == (outs * per[0], outs * per[1])


# --------------------------------------------------------------------------
# Recurrent layers
# --------------------------------------------------------------------------
@FEW
@given(st.sampled_from(["lstm", "gru"]), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.booleans(),
       st.booleans(), st.integers(1, 2))
def test_rnn(kind, L, d_in, hidden, bias, bidirectional, layers):
    module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](d_in, hidden, num_layers=layers, bias=bias,
                                                                  bidirectional=bidirectional, batch_first=True)
    fn = {"lstm": bf.lstm, "gru": bf.gru}[kind]
    r = module_check(module, fn, randn(L, d_in), hidden_size=hidden, bias=bias, bidirectional=bidirectional,
                     num_layers=layers)
    if layers == 1:
        g = {"lstm": 4, "gru": 3}[kind]
        dirs = 1 + bidirectional
        assert r.macs == dirs * L * g * hidden * (d_in + hidden)
        assert r.bias_adds == (dirs * L * 2 * g * hidden if bias else 0)


def test_rnn_counts_by_hand():
    """One LSTM step, input 1, hidden 1, no bias: W_ih x and W_hh h (2 muls), the sum (4 adds for 4 gates),
    3 sigmoids (3 special, 3 add, 3 div), tanh g, c' = f*c + i*g (2 mul 1 add), h' = o*tanh(c') (1 special 1 mul)."""
    r = bf.evaluate(bf.lstm, (1, 1), hidden_size=1, bias=False)
    assert r.ops == {"mul": 8 + 3, "add": 4 + 3 + 1, "cmp": 0, "div": 3, "special": 5}
    # GRU: 6 muls of the gates, r and z sums + sigmoids (2 add + 2 add, 2 div, 2 special),
    # n = tanh(gi + r*gh) (1 mul 1 add 1 special), h' = (1-z)*n + z*h (2 mul 2 add)
    r = bf.evaluate(bf.gru, (1, 1), hidden_size=1, bias=False)
    assert r.ops == {"mul": 6 + 1 + 2, "add": 4 + 1 + 2, "cmp": 0, "div": 2, "special": 3}
