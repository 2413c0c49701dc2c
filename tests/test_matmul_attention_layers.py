"""Matrix products, attention and recurrent layers against the brute force and against torch.

Each kind is checked twice over hypothesis-drawn configurations:

* against ``brute_force`` (naive loops on counting numbers, never importing symcost): the
  output shape, every operation category, the ``macs``/``bias`` labels (attention's
  ``qk_macs + av_macs``), the parameter counts; on the numeric shapes and on the formula
  derived once with symbols and then substituted;
* against torch: output shapes, ``sum(p.numel())`` and FlopCounterMode's total // 2 MACs
  where FlopCounterMode sees the op (not LSTM/GRU; CPU SDPA only with the GPU flash
  formula registered for the CPU kernel, see :func:`cpu_flash_counted`).

A causal kernel's executed work is a triangle: brute force and ``exact`` count it, while
``macs`` (and ``flops2``, FlopCounterMode) keep the full square and ``masked_macs`` the
difference.
"""

from __future__ import annotations

import re

import pytest
import sympy
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import note as _note
from hypothesis.errors import InvalidArgument
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

import brute_force as bf
from flop_counting import cpu_flash_counted, flop_macs
from test_brute_force_reference import matmul_shapes  # the reference's own draw of torch.matmul's operand shapes
import symcost as sc
from symcost.symbols import symbol

_BASE = dict(deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
FAST = settings(max_examples=60, **_BASE)
SLOW = settings(max_examples=30, **_BASE)
CATEGORIES = ("mul", "add", "cmp", "div", "special")


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------
def exact(expr: object, what: str) -> int:
    if isinstance(expr, int):
        return expr
    assert isinstance(expr, sympy.Integer), f"{what} is not an exact integer: {expr!r}"
    return int(expr)


def note(text: str) -> None:
    """hypothesis' note inside a hypothesis test; nothing in a plain one."""
    try:
        _note(text)
    except InvalidArgument:
        pass


def numeric(n: int) -> int:
    return n


def symbolic(n: int):
    """Sizes as symbols (``n3`` for 3); 1 stays 1 (it broadcasts)."""
    return n if n == 1 else symbol(f"n{n}")


def sizes_of(*values: int) -> dict:
    return {symbol(f"n{v}"): v for v in values if v != 1}


def compare(cost: sc.Cost, run: bf.Result) -> None:
    """Everything the brute force observed, against a cost with numbers."""
    note(f"symcost: {cost.out_shapes} {cost.ops} {cost.params}")
    assert tuple(exact(d, "out_shape") for d in cost.out_shape.dims) == run.shape
    assert {c: exact(getattr(cost.ops, c), c) for c in CATEGORIES} == run.ops
    assert exact(cost.flops(), "flops") == run.total
    executed_macs = cost.macs - cost.ops.masked_macs  # the brute force counts what it executes
    assert exact(executed_macs, "macs") == run.macs
    assert exact(cost.ops.bias, "bias") == run.bias_adds
    assert exact(cost.params.weight, "weight") == run.weight
    assert exact(cost.params.bias, "params.bias") == run.bias
    if "qk_macs" in run.labels:
        assert run.labels["qk_macs"] + run.labels["av_macs"] == exact(
            cost.ops.attn_macs - cost.ops.masked_macs, "attn_macs")
    else:
        assert cost.ops.attn_macs == 0 and cost.ops.masked_macs == 0


def check(make, fn, shapes, values: tuple[int, ...], **arguments) -> tuple[bf.Result, sc.Cost]:
    """``make(size)`` builds the layer with sizes passed through ``size``; compare both ways.

    The numeric layer on the numeric shapes, and the symbolic layer on symbolic shapes
    substituted with ``values`` (every size that occurs), must both equal the brute force.
    """
    note(f"shapes={shapes} arguments={arguments}")
    run = bf.evaluate(fn, *shapes, **arguments)
    cost = make(numeric).cost(*(sc.Shape(*s) for s in shapes))
    compare(cost, run)
    general = make(symbolic).cost(*(sc.Shape(*(symbolic(d) for d in s)) for s in shapes))
    compare(general.subs(sizes_of(*values, *(d for s in shapes for d in s))), run)
    return run, cost


def dims(shape) -> tuple[int, ...]:
    return tuple(int(d) for d in shape.dims)


def randn(*shape):
    return torch.randn(*shape, dtype=torch.float64)


# --------------------------------------------------------------------------
# Linear on any leading entries
# --------------------------------------------------------------------------
@FAST
@given(st.lists(st.integers(1, 3), min_size=1, max_size=4), st.integers(1, 4), st.booleans())
def test_linear_any_leading_dims(shape, out_features, bias):
    shape = tuple(shape)
    run, cost = check(lambda z: sc.Linear(z(out_features), bias=bias), bf.linear, [shape], (out_features,),
                      out_features=out_features, bias=bias)
    module = torch.nn.Linear(shape[-1], out_features, bias=bias)
    x = randn(*shape).float()
    assert dims(cost.out_shape) == tuple(module(x).shape)
    assert cost.params.total == sum(p.numel() for p in module.parameters())
    assert cost.macs == flop_macs(module, x)


def test_linear_counts_per_row_unchanged_and_scalar_refused():
    # (2*D_in - 1)*D_out per row without bias, one row per leading position: 4*5 rows here
    cost = sc.Linear(7, bias=False).cost(sc.Shape(4, 5, 3))
    assert cost.out_shape == sc.Shape(4, 5, 7) and cost.flops() == 4 * 5 * (2 * 3 - 1) * 7
    with pytest.raises(sc.ShapeError, match="Linear: expects an input with a feature entry"):
        sc.Linear(3).cost(sc.Shape())


# --------------------------------------------------------------------------
# Matrix products
# --------------------------------------------------------------------------
@FAST
@given(matmul_shapes())
def test_matmul(shapes):
    a, b = shapes
    run, cost = check(lambda z: sc.MatMul(), bf.matmul, [a, b], ())
    ta, tb = randn(*a), randn(*b)
    assert dims(cost.out_shape) == tuple(torch.matmul(ta, tb).shape)
    if len(b) > 1:  # FlopCounterMode has no formula for mv and dot (a 1-D right operand)
        assert cost.macs == flop_macs(torch.matmul, ta, tb)


@FAST
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
       st.sampled_from([0, 1, 0.5, 2]), st.sampled_from([1, 2.0, sympy.Rational(1, 2)]), st.booleans())
def test_bmm_baddbmm_addmm(batch, n, k, p, beta, alpha, broadcast_input):
    b1, b2 = (batch, n, k), (batch, k, p)
    _, cost = check(lambda z: sc.Bmm(), bf.bmm, [b1, b2], ())
    assert dims(cost.out_shape) == tuple(torch.bmm(randn(*b1), randn(*b2)).shape)
    assert cost.macs == flop_macs(torch.bmm, randn(*b1), randn(*b2))

    inp = (1, p) if broadcast_input else (batch, n, p)
    _, cost = check(lambda z: sc.Baddbmm(beta=beta, alpha=alpha), bf.baddbmm, [inp, b1, b2], (),
                    beta=beta, alpha=alpha)
    fn = lambda i, x, y: torch.baddbmm(i, x, y, beta=float(beta), alpha=float(alpha))  # noqa: E731
    assert dims(cost.out_shape) == tuple(fn(randn(*inp), randn(*b1), randn(*b2)).shape)
    assert cost.macs == flop_macs(fn, randn(*inp), randn(*b1), randn(*b2))

    inp2 = (p,) if broadcast_input else (n, p)
    _, cost = check(lambda z: sc.Addmm(beta=beta, alpha=alpha), bf.addmm, [inp2, b1[1:], b2[1:]], (),
                    beta=beta, alpha=alpha)
    fn = lambda i, x, y: torch.addmm(i, x, y, beta=float(beta), alpha=float(alpha))  # noqa: E731
    assert dims(cost.out_shape) == tuple(fn(randn(*inp2), randn(*b1[1:]), randn(*b2[1:])).shape)
    assert cost.macs == flop_macs(fn, randn(*inp2), randn(*b1[1:]), randn(*b2[1:]))


def test_addmm_counts_by_hand():
    # (2, 3) @ (3, 4): 8 outputs of 3 MACs; alpha 2: +8 mul; beta 3: +8 mul, +8 add
    ops = sc.Addmm(beta=3, alpha=2).cost(sc.Shape(4), sc.Shape(2, 3), sc.Shape(3, 4)).ops
    assert (ops.mul, ops.add, ops.macs) == (24 + 8 + 8, 16 + 8, 24)
    ops = sc.Addmm(beta=0).cost(sc.Shape(4), sc.Shape(2, 3), sc.Shape(3, 4)).ops
    assert (ops.mul, ops.add) == (24, 16)


# Equations where torch contracts with one bmm, so FlopCounterMode's MACs are the naive ones.
PRODUCT_EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("bhqd,bhkd->bhqk", [(1, 2, 3, 2), (1, 2, 4, 2)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 2)]),
    ("ba,ca", [(2, 3), (4, 3)]),
    ("b...d,bd->b...", [(2, 3, 4), (2, 4)]),
    ("ik,kj", [(3, 2), (2, 5)]),
]
OTHER_EINSUMS = [
    ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("ij->", [(2, 3)]), ("ij->ji", [(2, 3)]), ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(2,), (3,)]), ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]), ("ij,ij->ij", [(2, 3), (1, 3)]),
    ("iij->j", [(2, 2, 3)]), ("Ab,ab", [(2, 3), (2, 3)]), (" i j , j k -> i k ", [(2, 3), (3, 4)]),
    ("...ij->ij", [(2, 3, 4)]), ("ij->...ij", [(3, 4)]),
]


def check_einsum(eq, shapes, with_flops=False):
    sizes = tuple(d for s in shapes for d in s)
    _, cost = check(lambda z: sc.Einsum(eq), bf.einsum, [tuple(s) for s in shapes], sizes, equation=eq)
    tensors = [randn(*s) for s in shapes]
    assert dims(cost.out_shape) == tuple(torch.einsum(eq, *tensors).shape)
    if with_flops:
        assert cost.macs == flop_macs(lambda *t: torch.einsum(eq, *t), *tensors)
    return cost


@pytest.mark.parametrize("eq, shapes", PRODUCT_EINSUMS)
def test_einsum_products_against_flop_counter(eq, shapes):
    check_einsum(eq, shapes, with_flops=True)


@pytest.mark.parametrize("eq, shapes", OTHER_EINSUMS)
def test_einsum_other_equations(eq, shapes):
    check_einsum(eq, shapes)


@st.composite
def einsum_cases(draw):
    """A random valid equation of 1-3 operands over the letters a-d (repeats, ellipses, implicit output)."""
    size = {ch: draw(st.integers(1, 3)) for ch in "abcd"}
    ell = tuple(draw(st.lists(st.integers(1, 2), max_size=2)))
    terms, shapes = [], []
    for _ in range(draw(st.integers(1, 3))):
        letters = draw(st.lists(st.sampled_from("abcd"), max_size=3))
        if draw(st.booleans()) and ell:
            cut = draw(st.integers(0, len(letters)))
            own = ell[draw(st.integers(0, len(ell))):]
            terms.append("".join(letters[:cut]) + "..." + "".join(letters[cut:]))
            shapes.append(tuple(size[c] for c in letters[:cut]) + own + tuple(size[c] for c in letters[cut:]))
        else:
            terms.append("".join(letters))
            shapes.append(tuple(size[c] for c in letters))
    eq = ",".join(terms)
    if draw(st.booleans()):
        seen = sorted(set("".join(terms).replace(".", "")))
        out = draw(st.lists(st.sampled_from(seen), unique=True)) if seen else []
        dots = "..." if "..." in eq and draw(st.booleans()) else ""
        eq += "->" + dots + "".join(out)
    return eq, shapes


@SLOW
@given(einsum_cases())
def test_einsum_any_equation(case):
    eq, shapes = case
    if any(not s for s in shapes):  # a 0-d operand: torch allows it, symcost shapes have >= 1 entry
        shapes = [s if s else (1,) for s in shapes]
        eq = ",".join(t if t else "z" for t in eq.split("->")[0].split(",")) + eq[len(eq.split("->")[0]):]
    check_einsum(eq, shapes)


@pytest.mark.parametrize("equation, message", [
    ("ij,jk->ik->k", "at most one '->'"),
    ("i1,jk", "subscripts are letters"),
    ("i..j", "'.' only appears as '...'"),
    ("ij->kk", "appears in no operand"),
    ("ij->ii", "must not repeat"),
    ("ij-jk", "'-' and '>' only appear together"),
    ("ij->i,j", "one term"),
    ("i" * 300, "at most 256 characters"),
])
def test_einsum_bad_equations_are_one_clear_line(equation, message):
    with pytest.raises(sc.SymcostError, match=re.escape(message)) as caught:
        sc.Einsum(equation)
    assert str(caught.value).startswith("Einsum: equation ") and "\n" not in str(caught.value)


def test_einsum_shape_errors():
    with pytest.raises(sc.ShapeError, match=re.escape("Einsum: takes 2 input shape(s), got 1")):
        sc.Einsum("ij,jk->ik").cost(sc.Shape(2, 3))
    with pytest.raises(sc.ShapeError, match="operand 1 has 1 entries"):
        sc.Einsum("ij,jk->ik").cost(sc.Shape(2, 3), sc.Shape(3))
    with pytest.raises(sc.ShapeError, match="subscript 'j'"):
        sc.Einsum("ij,jk->ik").cost(sc.Shape(2, 3), sc.Shape(4, 5))


def test_matmul_errors():
    with pytest.raises(sc.ShapeError, match=r"MatMul: the inner sizes of \(2, 3\) @ \(4, 5\) differ"):
        sc.MatMul().cost(sc.Shape(2, 3), sc.Shape(4, 5))
    with pytest.raises(sc.ShapeError, match="batch entries"):
        sc.MatMul().cost(sc.Shape(2, 1, 3), sc.Shape(3, 3, 1))
    with pytest.raises(sc.ShapeError, match="Bmm: takes two 3-D operands"):
        sc.Bmm().cost(sc.Shape(2, 3), sc.Shape(3, 4))
    with pytest.raises(sc.ShapeError, match="does not broadcast to the product"):
        sc.Addmm().cost(sc.Shape(3), sc.Shape(2, 3), sc.Shape(3, 4))
    with pytest.raises(sc.SymcostError, match="Addmm: alpha must be a number"):
        sc.Addmm(alpha=symbol("a"))


# --------------------------------------------------------------------------
# Scaled dot-product attention
# --------------------------------------------------------------------------
@st.composite
def sdpa_cases(draw):
    hk = draw(st.integers(1, 2))
    gqa = draw(st.booleans())
    h = hk * (draw(st.integers(1, 2)) if gqa else 1)
    l, s, e, ev = (draw(st.integers(1, 4)) for _ in range(4))
    causal = draw(st.booleans())
    mask = None if causal else draw(st.sampled_from([None, (l, s), (h, l, s), (1, s), (h, 1, 1)]))
    dropout = draw(st.sampled_from([0.0, 0.25]))
    scale = draw(st.sampled_from([None, 0.5]))
    return h, hk, l, s, e, ev, causal, mask, dropout, scale, gqa


def sdpa_layer(causal, dropout, scale, gqa, has_mask=False):
    return sc.ScaledDotProductAttention(is_causal=causal, dropout_p=dropout, scale=scale, enable_gqa=gqa,
                                        has_mask=has_mask)


@FAST
@given(sdpa_cases())
def test_sdpa_against_brute_force_and_torch(case):
    h, hk, l, s, e, ev, causal, mask, dropout, scale, gqa = case
    shapes = [(h, l, e), (hk, s, e), (hk, s, ev)] + ([mask] if mask else [])
    run = bf.evaluate(bf.scaled_dot_product_attention, *shapes[:3], is_causal=causal, dropout_p=dropout,
                      scale=scale, enable_gqa=gqa, attn_mask=bf.Counter().tensor(mask) if mask else None)
    make = lambda z: sdpa_layer(causal, dropout, scale, gqa)  # noqa: E731
    cost = make(numeric).cost(*(sc.Shape(*x) for x in shapes))
    compare(cost, run)
    general = make(symbolic).cost(*(sc.Shape(*(symbolic(d) for d in x)) for x in shapes))
    compare(general.subs(sizes_of(h, hk, l, s, e, ev)), run)
    if mask:  # the flag instead of a 4th input: a full mask, the same counts
        compare(sdpa_layer(False, dropout, scale, gqa, has_mask=True).cost(*(sc.Shape(*x) for x in shapes[:3])), run)
    # torch: output shape, and FlopCounterMode MACs (the full square, causal or not)
    q, k, v = (torch.randn(1, *x) for x in shapes[:3])
    attn_mask = torch.randn(*mask) if mask else None
    fn = lambda q, k, v: F.scaled_dot_product_attention(  # noqa: E731
        q, k, v, attn_mask=attn_mask, is_causal=causal, scale=scale, enable_gqa=gqa)
    assert (1, *dims(cost.out_shape)) == tuple(fn(q, k, v).shape)
    with cpu_flash_counted():
        assert cost.macs == cost.ops.attn_macs == flop_macs(fn, q, k, v)


@SLOW
@given(st.integers(1, 2), st.integers(1, 2), st.integers(1, 5), st.integers(1, 5), st.integers(1, 3),
       st.integers(1, 3), st.booleans())
def test_sdpa_values_causal_gqa(hk, group, l, s, e, ev, causal):
    """The brute force computes softmax(Q K^T * scale) V as torch does (causal, grouped-query), and
    symcost counts what it executed."""
    h = hk * group
    q, k, v = randn(h, l, e), randn(hk, s, e), randn(hk, s, ev)
    r = bf.run(bf.scaled_dot_product_attention, q.tolist(), k.tolist(), v.tolist(), is_causal=causal,
               enable_gqa=True)
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True)
    assert torch.allclose(torch.tensor(r.output, dtype=torch.float64), expected, atol=1e-9)
    cost = sdpa_layer(causal, 0.0, None, True).cost(sc.Shape(h, l, e), sc.Shape(hk, s, e), sc.Shape(hk, s, ev))
    compare(cost, r)


def test_sdpa_causal_exact_is_the_triangle_flops2_the_square():
    T, d, heads = symbol("T"), symbol("d"), symbol("h")
    cost = sc.ScaledDotProductAttention(is_causal=True).cost(*[sc.Shape(heads, T, d)] * 3)
    scores = heads * T * (T + 1) / 2  # executed scores: the triangle with its diagonal
    rows = heads * T
    # hand-derived: q.k (d mul, d-1 add), scale (1 mul), softmax (n-1 cmp, 2n-1 add, n exp, n div), p@v (d mul, d-1 add)
    by_hand = scores * (2 * d - 1) + scores + (scores - rows) + (3 * scores - rows) + scores + scores * d \
        + (scores - rows) * d
    assert sympy.expand(cost.flops("exact") - by_hand) == 0
    assert sympy.expand(cost.ops.mul - scores * (2 * d + 1)) == 0
    assert cost.flops("flops2") == 4 * heads * T**2 * d  # both products over the full T x T square
    assert cost.macs == cost.ops.attn_macs == 2 * heads * T**2 * d
    assert sympy.expand(cost.ops.masked_macs - 2 * d * heads * T * (T - 1) / 2) == 0
    # numbers: T = 5, d = 3, h = 2 against FlopCounterMode
    q = torch.randn(1, 2, 5, 3)
    with cpu_flash_counted():
        flops = 2 * flop_macs(lambda q: F.scaled_dot_product_attention(q, q, q, is_causal=True), q)
    assert cost.flops("flops2").subs({T: 5, d: 3, heads: 2}) == flops
    assert cost.subs(T=5, d=3, h=2).flops("exact") == bf.evaluate(
        bf.scaled_dot_product_attention, (2, 5, 3), (2, 5, 3), (2, 5, 3), is_causal=True).total


def test_sdpa_causal_rectangles_top_left_aligned():
    # L = 5 queries, S = 3 keys: rows see 1, 2, 3, 3, 3 keys = 12 scores
    cost = sc.ScaledDotProductAttention(is_causal=True).cost(sc.Shape(1, 5, 2), sc.Shape(1, 3, 2), sc.Shape(1, 3, 2))
    assert cost.ops.div == 12 and cost.ops.masked_macs == (15 - 12) * 4
    cost = sc.ScaledDotProductAttention(is_causal=True).cost(sc.Shape(1, 3, 2), sc.Shape(1, 5, 2), sc.Shape(1, 5, 2))
    assert cost.ops.div == 6


def test_sdpa_errors():
    q = sc.Shape(4, 3, 2)
    with pytest.raises(sc.ShapeError, match="grouped-query needs enable_gqa=True"):
        sc.ScaledDotProductAttention().cost(q, sc.Shape(2, 3, 2), sc.Shape(2, 3, 2))
    with pytest.raises(sc.ShapeError, match="must divide the query heads"):
        sc.ScaledDotProductAttention(enable_gqa=True).cost(q, sc.Shape(3, 3, 2), sc.Shape(3, 3, 2))
    with pytest.raises(sc.ShapeError, match="takes no mask input with is_causal"):
        sc.ScaledDotProductAttention(is_causal=True).cost(q, q, q, sc.Shape(3, 3))
    with pytest.raises(sc.ShapeError, match="does not broadcast to the scores"):
        sc.ScaledDotProductAttention().cost(q, q, q, sc.Shape(2, 3))
    with pytest.raises(sc.ShapeError, match="takes 3 or 4 input shape"):
        sc.ScaledDotProductAttention().cost(q, q)
    with pytest.raises(sc.SymcostError, match="has_mask must be False with is_causal=True"):
        sc.ScaledDotProductAttention(is_causal=True, has_mask=True)
    with pytest.raises(sc.SymcostError, match="dropout_p must be in"):
        sc.ScaledDotProductAttention(dropout_p=2)


# --------------------------------------------------------------------------
# Multi-head attention
# --------------------------------------------------------------------------
@st.composite
def mha_cases(draw):
    heads = draw(st.integers(1, 2))
    e = heads * draw(st.integers(1, 2))
    l, s = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kdim = draw(st.sampled_from([None, e, 2, 3]))
    vdim = draw(st.sampled_from([None, e, 1, 3]))
    inputs = draw(st.sampled_from([1, 3] if kdim in (None, e) and vdim in (None, e) else [3]))
    return (e, heads, l, s, kdim, vdim, inputs, draw(st.booleans()), draw(st.booleans()), draw(st.booleans()))


@SLOW
@given(mha_cases())
def test_multihead_attention(case):
    e, heads, l, s, kdim, vdim, inputs, bias, bias_kv, zero_attn = case
    kd, vd = kdim or e, vdim or e
    shapes = [(l, e)] if inputs == 1 else [(l, e), (s, kd), (s, vd)]
    args = dict(bias=bias, add_bias_kv=bias_kv, add_zero_attn=zero_attn)

    def make(z):
        return sc.MultiheadAttention(z(e), z(heads), kdim=None if kdim is None else z(kdim),
                                     vdim=None if vdim is None else z(vdim), **args)

    values = (e, heads, l, s, kd, vd)
    brute = [tuple(x) for x in shapes] if inputs == 3 else [(l, e), (l, e), (l, e)]
    run = bf.evaluate(bf.multi_head_attention, *brute, embed_dim=e, num_heads=heads, kdim=kdim, vdim=vdim, **args)
    cost = make(numeric).cost(*(sc.Shape(*x) for x in shapes))
    compare(cost, run)
    general = make(symbolic).cost(*(sc.Shape(*(symbolic(d) for d in x)) for x in shapes))
    compare(general.subs(sizes_of(*values)), run)

    module = torch.nn.MultiheadAttention(e, heads, kdim=kdim, vdim=vdim, batch_first=True, **args).eval()
    assert cost.params.total == sum(p.numel() for p in module.parameters())
    q = torch.randn(1, l, e)
    kv = (q, q) if inputs == 1 else (torch.randn(1, s, kd), torch.randn(1, s, vd))
    previous = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.no_grad(), cpu_flash_counted():
            for need_weights in (True, False):  # explicit bmm path and SDPA path: the same MACs
                out = module(q, *kv, need_weights=need_weights)[0]
                assert (1, *dims(cost.out_shape)) == tuple(out.shape)
                assert cost.macs == flop_macs(lambda: module(q, *kv, need_weights=need_weights))
    finally:
        torch.backends.mha.set_fastpath_enabled(previous)


def test_multihead_attention_closed_form():
    T, d, a = symbol("T"), symbol("d_model"), symbol("n_head")
    cost = sc.MultiheadAttention(d, a).cost(sc.Shape(T, d))
    assert cost.params.total == 4 * d**2 + 4 * d
    assert sympy.expand(cost.macs - (4 * T * d**2 + 2 * T**2 * d)) == 0
    assert cost.ops.attn_macs == 2 * T**2 * d
    with pytest.raises(sc.SymcostError, match="num_heads must divide embed_dim"):
        sc.MultiheadAttention(6, 4)
    with pytest.raises(sc.ShapeError, match="kdim and the key's features"):
        sc.MultiheadAttention(4, 2, kdim=3).cost(sc.Shape(2, 4), sc.Shape(2, 5), sc.Shape(2, 4))


# --------------------------------------------------------------------------
# LSTM and GRU
# --------------------------------------------------------------------------
@SLOW
@given(st.sampled_from(["LSTM", "GRU"]), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
       st.integers(1, 3), st.booleans(), st.booleans())
def test_recurrent(kind, length, d_in, hidden, layers, bias, bidirectional):
    args = dict(bias=bias, bidirectional=bidirectional)
    cls = getattr(sc, kind)
    fn = {"LSTM": bf.lstm, "GRU": bf.gru}[kind]
    _, cost = check(lambda z: cls(z(d_in), z(hidden), num_layers=z(layers), **args), fn, [(length, d_in)],
                    (d_in, hidden, layers), hidden_size=hidden, num_layers=layers, **args)
    module = getattr(torch.nn, kind)(d_in, hidden, num_layers=layers, **args)
    outs = module(torch.randn(length, d_in))
    flat = (outs[0], *outs[1]) if kind == "LSTM" else (outs[0], outs[1])
    assert tuple(dims(s) for s in cost.out_shapes) == tuple(tuple(t.shape) for t in flat)
    assert cost.params.total == sum(p.numel() for p in module.parameters())


@FAST
@given(st.integers(1, 3), st.integers(2, 4), st.integers(1, 3), st.integers(1, 3), st.booleans(), st.booleans())
def test_lstm_projection(d_in, hidden, proj, layers, bias, bidirectional):
    proj = min(proj, hidden - 1)
    L = symbol("L")
    cost = sc.LSTM(d_in, hidden, num_layers=layers, bias=bias, bidirectional=bidirectional,
                   proj_size=proj).cost(sc.Shape(L, d_in))
    module = torch.nn.LSTM(d_in, hidden, num_layers=layers, bias=bias, bidirectional=bidirectional, proj_size=proj)
    out, (h_n, c_n) = module(torch.randn(5, d_in))
    assert tuple(dims(s.subs(L=5)) for s in cost.out_shapes) == (tuple(out.shape), tuple(h_n.shape), tuple(c_n.shape))
    assert cost.params.total == sum(p.numel() for p in module.parameters())
    # by hand, per step and direction: gates 4H*(width + P) MACs, projection P*H MACs
    dirs = 2 if bidirectional else 1
    widths = [d_in] + [dirs * proj] * (layers - 1)
    macs = sum(4 * hidden * (w + proj) + proj * hidden for w in widths) * dirs * L
    assert sympy.expand(cost.macs - macs) == 0
    base = sc.LSTM(d_in, hidden, num_layers=1, bias=bias).cost(sc.Shape(L, d_in))
    single = sc.LSTM(d_in, hidden, num_layers=1, bias=bias, proj_size=proj).cost(sc.Shape(L, d_in))
    # the projection also narrows W_hh: 4H*(H - P) fewer MACs per step, P*H more, P*(H - 1) adds
    assert sympy.expand(single.ops.mul - base.ops.mul - L * (proj * hidden - 4 * hidden * (hidden - proj))) == 0


def test_recurrent_symbolic_length_and_errors():
    L, n = symbol("L"), symbol("n_layers")
    cost = sc.GRU(4, 8, num_layers=n).cost(sc.Shape(L, 4))
    assert cost.more_outputs == (sc.Shape(n, 8),)
    assert cost.subs(n_layers=2).params.total == sum(p.numel() for p in torch.nn.GRU(4, 8, num_layers=2).parameters())
    with pytest.raises(sc.ShapeError, match="input_size and the input's features"):
        sc.LSTM(3, 4).cost(sc.Shape(5, 2))
    with pytest.raises(sc.ShapeError, match=r"expects a sequence \(L, input_size\)"):
        sc.LSTM(3, 4).cost(sc.Shape(2, 5, 3))
    with pytest.raises(sc.SymcostError, match="proj_size must be smaller than hidden_size"):
        sc.LSTM(3, 4, proj_size=4)


# --------------------------------------------------------------------------
# Spec files, catalogue, Graph with several outputs
# --------------------------------------------------------------------------
def test_new_kinds_load_from_yaml():
    from symcost.frontends.spec import loads

    T = symbol("T")
    model = loads("""
name: att
input: [T, 16]
symbols: [T]
layers:
  - {kind: multihead_attention, embed_dim: 16, num_heads: 4, batch_first: true}
  - {kind: linear, out_features: 8}
  - {kind: lstm, input_size: 8, hidden_size: 6, bidirectional: true}
  - {kind: gru, input_size: 12, hidden_size: 5, num_layers: 2}
""")
    report = model.analyze()
    expected = (sc.MultiheadAttention(16, 4).cost(sc.Shape(T, 16)).macs + T * 16 * 8 + sc.LSTM(8, 6, bidirectional=True)
                .cost(sc.Shape(T, 8)).macs + sc.GRU(12, 5, num_layers=2).cost(sc.Shape(T, 12)).macs)
    assert sympy.expand(report.total.macs - expected) == 0
    assert report.out_shape == sc.Shape(T, 5)
    spec = loads("layers: [{kind: einsum, equation: 'ij,jk->ik'}, {kind: scaled_dot_product_attention, "
                 "is_causal: true, dropout_p: 0.1, enable_gqa: true}, {kind: baddbmm, beta: 0, alpha: 2}]")
    layers = spec.body.children
    assert layers[0].equation == "ij,jk->ik" and layers[1].is_causal and layers[2].beta == 0
    with pytest.raises(sc.SymcostError, match=r"layers\[0\]\.equation: must be non-empty text, got int 3"):
        loads("layers: [{kind: einsum, equation: 3}]")
    with pytest.raises(sc.SymcostError, match="subscripts are letters"):
        loads("layers: [{kind: einsum, equation: 'i1->i'}]")


def test_graph_reads_every_lstm_output():
    L = symbol("L")
    g = sc.Graph([sc.Node("lstm", sc.LSTM(4, 6, num_layers=2), ["input"]),
                  sc.Node("h", sc.Linear(3), [("lstm", 1)]),
                  sc.Node("c", sc.Linear(3), [("lstm", 2)])], output="c")
    rep = g.analyze(sc.Shape(L, 4))
    assert rep.out_shape == sc.Shape(2, 3)
