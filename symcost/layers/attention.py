"""Attention: ScaledDotProductAttention (F.scaled_dot_product_attention) and MultiheadAttention.

``ScaledDotProductAttention`` takes q ``(H, L, E)``, k ``(Hk, S, E)``, v
``(Hk, S, Ev)`` and an optional mask as a 4th input (or ``has_mask=True``
for a full ``(H, L, S)`` one), and returns ``(H, L, Ev)``. Per query row,
over the ``n`` keys it executes, it counts what torch's math reference does:
per score ``E`` multiplies (``macs``) and ``E - 1`` adds for q.k, one
multiply by ``scale``, one add of the mask; a softmax over the row (``n - 1``
comparisons, ``2n - 1`` adds, ``n`` exp, ``n`` divisions); one multiply per
score by the kept dropout mask when ``dropout_p`` is not 0; then ``Ev*n``
multiplies (``macs``) and ``Ev*(n - 1)`` adds for the scores times v.

With ``is_causal`` query ``i`` executes only keys ``j <= i`` (torch's
top-left aligned ``tril``): ``L*(L + 1)/2`` scores per head when ``L == S``.
The executed counts (``mul``, ``add``, ..., hence the ``exact`` convention)
cover that triangle only, while the labels keep the full square as torch's
FlopCounterMode counts it: ``macs`` and ``attn_macs`` are ``H*L*S*(E + Ev)``
and ``masked_macs`` is the part the causal kernel skipped, so ``flops2`` is
``2*macs``, the full square::

    >>> import symcost as sc
    >>> from symcost.symbols import symbol
    >>> T, d = symbol("T"), symbol("d")
    >>> cost = sc.ScaledDotProductAttention(is_causal=True).cost(*[sc.Shape(1, T, d)] * 3)
    >>> cost.macs, cost.ops.masked_macs, cost.ops.mul
    (2*T**2*d, T*d*(T - 1), T*(T + 1)*(2*d + 1)/2)

``MultiheadAttention`` (nn.MultiheadAttention, ``need_weights=False``) is the
in-projection (a Linear per q, k, v), the heads' attention (head size
``embed_dim/num_heads``, no mask) and the out-projection, on ``(L, E)``
tokens (self-attention) or on query, key and value inputs (cross-attention).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import OpCounts, Params
from ..core.errors import ArgumentTypeError, InvalidArgumentError, ShapeError
from ..core.shape import Shape
from .base import Layer
from .elementwise import broadcast
from .matmul import same_size
from .registry import register


def causal_scores(queries: sympy.Expr, keys: sympy.Expr) -> sympy.Expr:
    """Scores a top-left aligned causal mask keeps: row ``i`` sees ``min(i + 1, keys)`` keys."""
    m = sympy.Min(queries, keys)
    return m * (m + 1) / 2 + (queries - m) * keys


def attention_ops(heads: sympy.Expr, queries: sympy.Expr, keys: sympy.Expr, e: sympy.Expr, ev: sympy.Expr, *,
                  causal: bool = False, mask: bool = False, dropout: bool = False) -> OpCounts:
    """What softmax(q k^T * scale [+ mask]) [* dropout] @ v executes on ``heads`` heads; labels the full square."""
    full = heads * queries * keys
    n = heads * causal_scores(queries, keys) if causal else full  # executed scores
    rows = heads * queries
    mul = n * e + n + (n if dropout else 0) + n * ev
    add = n * (e - 1) + (n if mask else 0) + (2 * n - rows) + (n - rows) * ev
    macs = full * (e + ev)
    ops = OpCounts(mul=mul, add=add, cmp=n - rows, div=n, special=n, macs=macs, attn_macs=macs,
                   masked_macs=(full - n) * (e + ev), attn_scores=full)
    return ops.map_exprs(lambda x: sympy.factor(sympy.expand(x)))


def _number_or_none(value: object, *, layer: str, argument: str) -> object:
    """``None`` or a number (an int, float, Fraction or SymPy expression); it enters no count."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction, sympy.Expr)):
        raise ArgumentTypeError(f"{layer}: {argument} must be a number or None, got {type(value).__name__} {value!r}")
    if isinstance(value, float) and value != value:
        raise ArgumentTypeError(f"{layer}: {argument} must be a number, got nan")
    return value


@register
@dataclass(frozen=True)
class ScaledDotProductAttention(Layer):
    """F.scaled_dot_product_attention(q, k, v[, attn_mask]); see the module docstring for the counts.

    ``dropout_p`` counts one multiply per executed score unless it is 0 (torch's functional call
    applies it whatever the mode); ``scale`` (default ``1/sqrt(E)``) changes no count;
    ``enable_gqa`` lets ``Hk`` divide ``H`` (query head ``h`` reads key/value head ``h // (H/Hk)``).
    """

    is_causal: bool = False
    dropout_p: object = 0.0
    scale: object = None
    enable_gqa: bool = False
    has_mask: bool = False

    arity = (3, 4)

    def __post_init__(self) -> None:
        label = self.label
        for name in ("is_causal", "enable_gqa", "has_mask"):
            arg.boolean(getattr(self, name), layer=label, argument=name)
        arg.probability(self.dropout_p, layer=label, argument="dropout_p")
        _number_or_none(self.scale, layer=label, argument="scale")
        if self.is_causal and self.has_mask:
            raise InvalidArgumentError(label, "has_mask", "must be False with is_causal=True (torch refuses both)",
                                       True)

    def _cost(self, q: Shape, k: Shape, v: Shape, *mask: Shape) -> Cost:
        label = self.label
        for name, s in (("query", q), ("key", k), ("value", v)):
            if s.rank != 3:
                raise ShapeError(f"{label}: {name} must be (heads, length, features) per sample, got {s}")
        (h, l, e), (hk, s_len, ek), (hv, sv, ev) = q.dims, k.dims, v.dims
        same_size(label, f"the feature sizes of query {q} and key {k}", e, ek)
        same_size(label, f"the heads of key {k} and value {v}", hk, hv)
        same_size(label, f"the lengths of key {k} and value {v}", s_len, sv)
        if h != hk:
            if not self.enable_gqa:
                same_size(label, f"the heads of query {q} and key {k} (grouped-query needs enable_gqa=True)", h, hk)
            elif (h / hk).is_integer is False:
                raise ShapeError(f"{label}: the key/value heads {hk} must divide the query heads {h} (enable_gqa)")
        if mask:
            if self.is_causal:
                raise ShapeError(f"{label}: takes no mask input with is_causal=True (torch refuses both)")
            scores = Shape(h, l, s_len)
            try:
                fits = broadcast(label, (mask[0], scores)) == scores
            except ShapeError:
                fits = False
            if not fits:
                raise ShapeError(f"{label}: the mask {mask[0]} does not broadcast to the scores {scores}")
        ops = attention_ops(h, l, s_len, e, ev, causal=self.is_causal, mask=self.has_mask or bool(mask),
                            dropout=not (self.dropout_p == 0))
        return Cost(self.kind, (q, k, v, *mask), Shape(h, l, ev), ops=ops)


@register
@dataclass(frozen=True)
class MultiheadAttention(Layer):
    """nn.MultiheadAttention(embed_dim, num_heads, ...) on query ``(L, E)`` [, key ``(S, kdim)``, value ``(S, vdim)``].

    One input is self-attention; two are query and key (= value); three are query, key, value.
    Parameters as torch holds them: ``in_proj_weight`` (3E, E), or ``q/k/v_proj_weight`` when
    ``kdim`` or ``vdim`` differs from ``embed_dim``; ``in_proj_bias`` (3E); ``bias_k``, ``bias_v``
    (E each, counted as bias) with ``add_bias_kv``; ``out_proj`` (E*E + E). ``add_bias_kv`` and
    ``add_zero_attn`` each append one key/value row. ``batch_first`` changes nothing per sample.
    ``need_weights`` is the call's argument (torch's default True: explicit softmax weights; False: the
    fused kernel); it changes what autograd saves (:mod:`symcost.layers.saved_tensors`), not the count.
    """

    embed_dim: object
    num_heads: object
    bias: bool = True
    add_bias_kv: bool = False
    add_zero_attn: bool = False
    kdim: object = None
    vdim: object = None
    batch_first: bool = False
    need_weights: bool = True

    arity = (1, 2, 3)

    def __post_init__(self) -> None:
        label = self.label
        set_ = lambda n, v: object.__setattr__(self, n, v)  # noqa: E731
        set_("embed_dim", arg.positive_int(self.embed_dim, layer=label, argument="embed_dim"))
        set_("num_heads", arg.positive_int(self.num_heads, layer=label, argument="num_heads"))
        for name in ("bias", "add_bias_kv", "add_zero_attn", "batch_first", "need_weights"):
            arg.boolean(getattr(self, name), layer=label, argument=name)
        for name in ("kdim", "vdim"):
            if getattr(self, name) is not None:
                set_(name, arg.positive_int(getattr(self, name), layer=label, argument=name))
        if (self.embed_dim / self.num_heads).is_integer is False:
            raise InvalidArgumentError(label, "num_heads", f"must divide embed_dim ({self.embed_dim})", self.num_heads)

    def _cost(self, query: Shape, *kv: Shape) -> Cost:
        label, e, heads = self.label, self.embed_dim, self.num_heads
        key = kv[0] if kv else query
        value = kv[1] if len(kv) > 1 else key
        kdim = e if self.kdim is None else self.kdim
        vdim = e if self.vdim is None else self.vdim
        for name, s, width in (("query", query, e), ("key", key, kdim), ("value", value, vdim)):
            if s.rank != 2:
                raise ShapeError(f"{label}: {name} must be tokens (length, features) per sample, got {s}")
            arg_name = {"query": "embed_dim", "key": "kdim", "value": "vdim"}[name]
            same_size(label, f"{arg_name} and the {name}'s features {s}", width, s.dims[1])
        l_q, s_kv = query.dims[0], key.dims[0]
        same_size(label, f"the lengths of key {key} and value {value}", s_kv, value.dims[0])
        keys = s_kv + int(self.add_bias_kv) + int(self.add_zero_attn)
        proj_macs = l_q * e * e + s_kv * kdim * e + s_kv * vdim * e + l_q * e * e  # q, k, v in; out
        outputs = 2 * l_q * e + 2 * s_kv * e  # q, out; k, v
        bias_adds = outputs if self.bias else 0
        linear = OpCounts(mul=proj_macs, add=proj_macs - outputs + bias_adds, macs=proj_macs, bias=bias_adds)
        hd = e / heads
        ops = linear + attention_ops(heads, l_q, keys, hd, hd)
        same = self.kdim in (None, e) and self.vdim in (None, e)
        weight = (3 * e * e if same else e * e + e * kdim + e * vdim) + e * e
        bias = (4 * e if self.bias else 0) + (2 * e if self.add_bias_kv else 0)
        return Cost(self.kind, (query, *kv), Shape(l_q, e), params=Params(weight, bias), ops=ops)
