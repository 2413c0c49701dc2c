"""Backward rules: what each layer kind's backward pass executes, as torch's ``derivatives.yaml`` lists them.

One table, :data:`RULES`, maps a layer kind to a function of the layer's
forward :class:`~symcost.core.cost.Cost` (per sample) and, per input, whether
that input requires grad. It returns a :class:`Backward`: the operations of
the gradients for the inputs (``grad_input``) and for the layer's own
parameters (``grad_weight``), as :class:`~symcost.core.counts.OpCounts`, so
conventions weigh them as they weigh a forward pass (``flops2``: 2 per MAC
of the products, as torch's FlopCounterMode counts a backward; ``exact``:
every executed operation)::

    >>> import symcost as sc
    >>> back = backward(sc.Linear(16).cost(sc.Shape(8)), (True,))
    >>> back.grad_input.macs, back.grad_weight.macs, back.grad_weight.bias
    (128, 128, 16)

Products (conv, linear, matmul, einsum): each operand that needs a gradient
costs one product as large as the forward's (a conv's grad-input is a
transposed conv over the output, its grad-weight a conv of the input with
the output's gradient; ``dA = dY B^T``, ``dB = A^T dY``). ``exact`` counts
one multiply and one add per MAC of a backward product (the gradient is
accumulated from zero). A bias's gradient sums the output's gradient: one add
per output element, labelled ``bias``.

Fused attention (``scaled_dot_product_attention``, flash-style) keeps no
scores: its backward recomputes ``Q K^T`` and runs four more products
(``dO V^T``, ``P^T dO``, ``dS K``, ``dS^T Q``): ``H*L*S*(3*E + 2*Ev)`` MACs,
as torch's ``sdpa_backward_flop`` counts them. An explicit
matmul-softmax-matmul is two ``MatMul`` rows: 4 products.

Elementwise, normalization and pooling kinds cost what their derivative
executes per element (documented beside each rule); views, reshapes, splits
and joins move gradients without arithmetic. A kind with no rule is an
error naming it, never zero.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy

from ..core.cost import Cost
from ..core.counts import OpCounts
from ..core.errors import SymcostError

ZERO_OPS = OpCounts()


class NoBackwardRuleError(KeyError, SymcostError):
    """A layer kind whose backward symcost has no rule for."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Backward:
    """The backward of one layer on one sample: gradients for its inputs, and for its parameters."""

    grad_input: OpCounts = ZERO_OPS
    grad_weight: OpCounts = ZERO_OPS

    @property
    def total(self) -> OpCounts:
        return self.grad_input + self.grad_weight


Rule = Callable[[Cost, tuple], Backward]


def _product(macs: sympy.Expr) -> OpCounts:
    """A backward product of ``macs`` multiply-accumulates: one multiply and one add each."""
    return OpCounts(mul=macs, add=macs, macs=macs)


def _out(cost: Cost) -> sympy.Expr:
    return cost.out_shape.numel


def _in(cost: Cost, i: int = 0) -> sympy.Expr:
    return cost.in_shapes[i].numel


def _sum(counts) -> OpCounts:
    return OpCounts.sum(list(counts)) if counts else ZERO_OPS


def pointwise(**per_element: int) -> Rule:
    """A one-input op whose input gradient costs ``per_element`` operations per output element."""
    ops = OpCounts(**per_element)

    def rule(cost: Cost, needs: tuple) -> Backward:
        return Backward(ops.scaled(_out(cost)) if needs[0] else ZERO_OPS)
    rule.__doc__ = f"per output element: {', '.join(f'{k} {v}' for k, v in per_element.items()) or 'nothing'}"
    return rule


def free(cost: Cost, needs: tuple) -> Backward:
    """Views, reshapes, splits, joins, copies: the gradient is moved, not computed."""
    return Backward()


def like_forward(cost: Cost, needs: tuple) -> Backward:
    """The derivative executes what the forward does, per element (a scale, a clamp's comparisons)."""
    return Backward(cost.ops if needs[0] else ZERO_OPS)


def weighted(cost: Cost, needs: tuple) -> Backward:
    """Conv, transposed conv, linear, separable conv: grad-input and grad-weight each a product as large as
    the forward's; the bias gradient one add per output element (the forward's bias adds)."""
    macs, bias = cost.ops.macs, cost.ops.bias
    weight = _product(macs) + OpCounts(add=bias, bias=bias)
    return Backward(_product(macs) if needs[0] else ZERO_OPS, weight)


def operands(cost: Cost, needs: tuple) -> Backward:
    """MatMul, Bmm, Einsum: each operand that needs a gradient costs a product as large as the forward's,
    plus the adds that sum a broadcast operand's gradient over the entries it was broadcast to."""
    parts = [_product(cost.ops.macs) for need in needs if need]
    return Backward(_sum(parts))


def add_product(cost: Cost, needs: tuple) -> Backward:
    """Addmm, Baddbmm (``input + a @ b``): the input's gradient sums the output's over broadcast entries;
    ``a`` and ``b`` each cost a product as large as the forward's."""
    parts = [OpCounts(add=_out(cost) - _in(cost, 0))] if needs[0] else []
    parts += [_product(cost.ops.macs) for need in needs[1:] if need]
    return Backward(_sum(parts))


def attention_backward(heads, queries, keys, e, ev, executed) -> OpCounts:
    """What the fused kernel's backward executes: scores recomputed (``Q K^T``, scale, ``exp(s - lse)``),
    ``dP = dO V^T``, ``D = rowsum(dO * O)``, ``dS = P * (dP - D)`` (and the scale), ``dV = P^T dO``,
    ``dQ = dS K``, ``dK = dS^T Q``. Labels count the full square, as FlopCounterMode does; the executed
    counts (one multiply and one add per MAC) cover the ``executed`` scores."""
    full = heads * queries * keys
    per_score = 3 * e + 2 * ev
    rows = heads * queries
    mul = executed * per_score + 3 * executed + rows * ev
    add = executed * per_score + 2 * executed + rows * ev
    return OpCounts(mul=mul, add=add, special=executed, macs=full * per_score, attn_macs=full * per_score,
                    masked_macs=(full - executed) * per_score)


def sdpa(cost: Cost, needs: tuple) -> Backward:
    """ScaledDotProductAttention: the fused kernel's backward (module docstring), 5 products."""
    (h, l, e), (_, s, _), (_, _, ev) = (cost.in_shapes[i].dims for i in range(3))
    executed = cost.ops.special  # one exp per executed score in the forward
    return Backward(attention_backward(h, l, s, e, ev, executed))


def multihead(cost: Cost, needs: tuple) -> Backward:
    """MultiheadAttention: the projections as Linear layers (the in-projection's grad-input only when the
    inputs need it), and the heads' attention as the fused kernel's backward."""
    layer = cost.layer
    l_q, e = cost.out_shape.dims
    s = cost.in_shapes[1].dims[0] if len(cost.in_shapes) > 1 else l_q
    keys = s + int(layer.add_bias_kv) + int(layer.add_zero_attn)
    proj = cost.ops.macs - cost.ops.attn_macs
    out_proj = l_q * e * e
    hd = e / layer.num_heads
    bias = cost.ops.bias
    grad_input = _product(out_proj) + attention_backward(layer.num_heads, l_q, keys, hd, hd,
                                                         layer.num_heads * l_q * keys)
    if any(needs):
        grad_input = grad_input + _product(proj - out_proj)
    return Backward(grad_input, _product(proj) + OpCounts(add=bias, bias=bias))


def recurrent(cost: Cost, needs: tuple) -> Backward:
    """LSTM, GRU: the gate products again for the hidden state's gradient through time and once more for the
    weights; the first layer's input projection (``W_ih x``) only when the input needs a gradient. The
    gates' pointwise derivatives are counted as their forward operations."""
    layer = cost.layer
    length = cost.in_shapes[0].dims[0]
    directions = 2 if layer.bidirectional else 1
    first_input = layer.gates * layer.hidden_size * layer.input_size * length * directions
    macs, bias = cost.ops.macs, cost.ops.bias
    steps = length * directions * layer.num_layers
    pointwise_ops = layer.pointwise.scaled(layer.hidden_size * steps)
    grad_input = _product(macs if needs[0] else macs - first_input) + pointwise_ops
    return Backward(grad_input, _product(macs) + OpCounts(add=bias, bias=bias))


def elementwise_add(cost: Cost, needs: tuple) -> Backward:
    """Add: each input's gradient is the output's, summed over the entries it was broadcast to."""
    return Backward(_sum([OpCounts(add=_out(cost) - _in(cost, i)) for i, need in enumerate(needs) if need]))


def elementwise_mul(cost: Cost, needs: tuple) -> Backward:
    """Mul: each input's gradient is the output's times the other factor (one multiply per output element),
    summed over broadcast entries."""
    return Backward(_sum([OpCounts(mul=_out(cost), add=_out(cost) - _in(cost, i))
                          for i, need in enumerate(needs) if need]))


def elementwise_div(cost: Cost, needs: tuple) -> Backward:
    """Div ``a/b``: ``a``'s gradient ``dy/b`` (one division per output element), ``b``'s ``-dy*a/(b*b)`` (two
    multiplies, one division), each summed over broadcast entries."""
    per = (OpCounts(div=_out(cost)), OpCounts(mul=2 * _out(cost), div=_out(cost)))
    return Backward(_sum([per[i] + OpCounts(add=_out(cost) - _in(cost, i)) for i, need in enumerate(needs) if need]))


def norm(cost: Cost, needs: tuple) -> Backward:
    """Norm: ``x * (dy/norm)``: one division per output, one multiply per input element."""
    return Backward(OpCounts(div=_out(cost), mul=_in(cost)) if needs[0] else ZERO_OPS)


def selected(cost: Cost, needs: tuple) -> Backward:
    """Where(condition, a, b), MaskedFill(x, mask): the gradient is selected (it or a zero), then summed over
    the entries a broadcast input was spread to. The condition and the mask take no gradient."""
    values = (1, 2) if cost.kind == "Where" else (0,)
    return Backward(_sum([OpCounts(add=_out(cost) - _in(cost, i)) for i in values if needs[i]]))


def expand(cost: Cost, needs: tuple) -> Backward:
    """Expand: the gradient summed back over the expanded entries."""
    return Backward(OpCounts(add=_out(cost) - _in(cost)) if needs[0] else ZERO_OPS)


def gelu(cost: Cost, needs: tuple) -> Backward:
    """GELU: ``Phi(x) + x*phi(x)`` (erf and exp, 7 multiplies, 2 adds per element); tanh approximation:
    ``0.5*(1 + t) + 0.5*x*(1 - t^2)*k*(1 + 3*c*x^2)`` with ``t`` recomputed (1 tanh, 12 multiplies, 5 adds)."""
    if getattr(cost.layer, "approximate", "none") == "tanh":
        per = OpCounts(mul=12, add=5, special=1)
    else:
        per = OpCounts(mul=7, add=2, special=2)
    return Backward(per.scaled(_out(cost)) if needs[0] else ZERO_OPS)


def dropout(cost: Cost, needs: tuple) -> Backward:
    """Dropout kinds in training: the gradient times the kept mask (scale folded in), one multiply per
    element unless ``p`` is 0."""
    p = getattr(cost.layer, "p", 0)
    if not needs[0] or p == 0:
        return Backward()
    return Backward(OpCounts(mul=_out(cost)))


def softmax(cost: Cost, needs: tuple) -> Backward:
    """Softmax: ``y * (dy - sum(dy * y))`` per row of n: 2n multiplies, 2n - 1 adds.
    LogSoftmax: ``dy - exp(y) * sum(dy)``: n exp, n multiplies, 2n - 1 adds."""
    if not needs[0]:
        return Backward()
    n = _out(cost)
    rows = n - cost.ops.cmp  # the forward's n - 1 comparisons per row
    if cost.kind == "LogSoftmax":
        return Backward(OpCounts(special=n, mul=n, add=2 * n - rows))
    return Backward(OpCounts(mul=2 * n, add=2 * n - rows))


def normalization(affine_attr: str) -> Rule:
    """LayerNorm, GroupNorm, InstanceNorm, BatchNorm (training): per element, ``x_hat`` recomputed (1 add,
    1 multiply), ``g = dy*gamma`` (1 multiply, with an affine weight), two sums (2 adds), ``g*x_hat``
    (1 multiply), ``rstd*(g - mean(g) - x_hat*mean(g*x_hat))`` (2 multiplies, 2 adds); the weight's
    gradient ``sum(dy*x_hat)`` (1 multiply, 1 add), the bias's ``sum(dy)`` (1 add) per element."""
    def rule(cost: Cost, needs: tuple) -> Backward:
        layer, n = cost.layer, _out(cost)
        affine = bool(getattr(layer, affine_attr, True))
        weight = cost.params.weight != 0
        bias = cost.params.bias != 0
        grad_input = OpCounts(mul=(5 if affine and weight else 4) * n, add=5 * n) if needs[0] else ZERO_OPS
        grad_weight = OpCounts(mul=n if weight else 0, add=(n if weight else 0) + (n if bias else 0))
        return Backward(grad_input, grad_weight)
    rule.__doc__ = normalization.__doc__
    return rule


def rmsnorm(cost: Cost, needs: tuple) -> Backward:
    """RMSNorm: per element ``x_hat = x*rstd``, ``g = dy*w``, ``g*x_hat``, one sum, ``x_hat*mean(g*x_hat)``,
    ``g - ...``, ``*rstd`` (5 multiplies, 2 adds; 4 without a weight); the weight's ``sum(dy*x_hat)``."""
    weight = cost.params.weight != 0
    n = _out(cost)
    grad_input = OpCounts(mul=(5 if weight else 4) * n, add=2 * n) if needs[0] else ZERO_OPS
    return Backward(grad_input, OpCounts(mul=n, add=n) if weight else ZERO_OPS)


def max_pool(cost: Cost, needs: tuple) -> Backward:
    """Max pools: each output's gradient added into its argmax (one add per output)."""
    return Backward(OpCounts(add=_out(cost)) if needs[0] else ZERO_OPS)


def avg_pool(cost: Cost, needs: tuple) -> Backward:
    """Average pools: each output's gradient divided by its window (1 division) and added into each of the
    window's inputs (as many adds as the forward's adds plus one)."""
    if not needs[0]:
        return Backward()
    return Backward(OpCounts(div=cost.ops.div, add=cost.ops.add + cost.ops.div))


def mean(cost: Cost, needs: tuple) -> Backward:
    """Mean: the output's gradient divided by the count (one division per output), broadcast."""
    return Backward(OpCounts(div=_out(cost)) if needs[0] else ZERO_OPS)


def extremum(cost: Cost, needs: tuple) -> Backward:
    """Amax, Amin: the gradient goes to the inputs equal to the extremum: one comparison and one multiply by
    the mask per input element."""
    return Backward(OpCounts(cmp=_in(cost), mul=_in(cost)) if needs[0] else ZERO_OPS)


def variance(cost: Cost, needs: tuple) -> Backward:
    """Var: ``dy * 2*(x - mean)/(n - 1)``: the mean again (adds, one division per output), then per input
    one subtraction and two multiplies."""
    if not needs[0]:
        return Backward()
    n_in, n_out = _in(cost), _out(cost)
    return Backward(OpCounts(add=2 * n_in - n_out, div=n_out, mul=2 * n_in))


def upsample(cost: Cost, needs: tuple) -> Backward:
    """Upsample: nearest sums each input's window of output gradients (output - input adds); the
    interpolating modes scatter with the forward's weights (its multiplies and adds again)."""
    if not needs[0]:
        return Backward()
    if cost.ops.executed == 0:
        return Backward(OpCounts(add=_out(cost) - _in(cost)))
    return Backward(OpCounts(mul=cost.ops.mul, add=cost.ops.add))


def index_select(cost: Cost, needs: tuple) -> Backward:
    """IndexSelect: ``index_add`` of the output's gradient into a zero gradient: one add per output."""
    return Backward(OpCounts(add=_out(cost)) if needs[0] else ZERO_OPS)


def embedding(cost: Cost, needs: tuple) -> Backward:
    """Embedding, EmbeddingBag: token ids take no gradient; the table's gradient accumulates one row per id
    (one add per looked-up element)."""
    width = cost.out_shape.dims[-1]
    return Backward(ZERO_OPS, OpCounts(add=_in(cost) * width))


def gated(cost: Cost, needs: tuple) -> Backward:
    """GLU ``a*sigmoid(b)``: sigmoid recomputed (exp, add, division), ``da = dy*s``, ``db = dy*a*s*(1 - s)``:
    4 multiplies, 2 adds per output. SwiGLU ``a*silu(b)``: silu recomputed and differentiated
    (6 multiplies, 3 adds, exp and division)."""
    if not needs[0]:
        return Backward()
    per = OpCounts(mul=6, add=3, div=1, special=1) if cost.kind == "SwiGLU" else OpCounts(mul=4, add=2, div=1,
                                                                                         special=1)
    return Backward(per.scaled(_out(cost)))


_FREE = ("Identity", "Flatten", "Reshape", "View", "Squeeze", "Unsqueeze", "Unflatten", "Permute", "Transpose",
         "Contiguous", "Select", "Slice", "Roll", "Pad", "Pad2d", "Split", "TensorSplit", "Chunk", "Unbind", "Cat",
         "Stack", "Concat", "Parameter", "Constant", "Neg", "Sum")

#: kind -> backward rule. One visible table; a kind not here has no backward and is an error.
RULES: dict[str, Rule] = {
    **{kind: free for kind in _FREE},
    **{kind: weighted for kind in ("Linear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
                                   "ConvTranspose3d", "SeparableConv2d")},
    **{kind: operands for kind in ("MatMul", "Bmm", "Einsum")},
    "Addmm": add_product, "Baddbmm": add_product,
    "ScaledDotProductAttention": sdpa,
    "MultiheadAttention": multihead,
    "LSTM": recurrent, "GRU": recurrent,
    "Embedding": embedding, "EmbeddingBag": embedding,
    "Add": elementwise_add, "Mul": elementwise_mul, "Div": elementwise_div,
    "Where": selected, "MaskedFill": selected,
    "Expand": expand,
    "ReLU": pointwise(cmp=1),                       # dy where x > 0
    "ReLU6": pointwise(cmp=2),                      # dy where 0 < x < 6
    "LeakyReLU": pointwise(cmp=1, mul=1),           # dy, or slope*dy
    "Sigmoid": pointwise(mul=2, add=1),             # dy*y*(1 - y)
    "Tanh": pointwise(mul=2, add=1),                # dy*(1 - y*y)
    "SiLU": pointwise(special=1, add=3, div=1, mul=3),  # s recomputed; dy*s*(1 + x*(1 - s))
    "Hardswish": pointwise(cmp=2, mul=2, add=1, div=1),  # dy*(2x + 3)/6 inside [-3, 3]
    "Hardsigmoid": pointwise(cmp=2, div=1),         # dy/6 inside [-3, 3]
    "GELU": gelu,
    "Exp": pointwise(mul=1),                        # dy*y
    "Log": pointwise(div=1),                        # dy/x
    "Sqrt": pointwise(mul=1, div=1),                # dy/(2*y)
    "Rsqrt": pointwise(mul=4),                      # -0.5*dy*y**3
    "Erf": pointwise(mul=3, special=1),             # dy*2/sqrt(pi)*exp(-x*x)
    "Pow": pointwise(mul=2, special=1),             # dy*p*x**(p - 1)
    "Abs": pointwise(cmp=1, mul=1),                 # dy*sign(x)
    "Clamp": like_forward, "Scale": like_forward,
    **{kind: dropout for kind in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                                  "FeatureAlphaDropout", "StochasticDepth")},
    "Softmax": softmax, "LogSoftmax": softmax,
    "LayerNorm": normalization("elementwise_affine"), "GroupNorm": normalization("affine"),
    **{f"InstanceNorm{n}d": normalization("affine") for n in (1, 2, 3)},
    **{f"BatchNorm{n}d": normalization("affine") for n in (1, 2, 3)},
    "RMSNorm": rmsnorm,
    **{f"MaxPool{n}d": max_pool for n in (1, 2, 3)}, **{f"AdaptiveMaxPool{n}d": max_pool for n in (1, 2, 3)},
    **{f"AvgPool{n}d": avg_pool for n in (1, 2, 3)}, **{f"AdaptiveAvgPool{n}d": avg_pool for n in (1, 2, 3)},
    "Mean": mean, "Norm": norm, "Amax": extremum, "Amin": extremum, "Var": variance,
    "Upsample": upsample, "IndexSelect": index_select,
    "GLU": gated, "SwiGLU": gated,
}


def backward(cost: Cost, needs: tuple | None = None) -> Backward:
    """The backward of ``cost``'s layer on one sample; ``needs[i]``: input ``i`` requires grad (default all)."""
    rule = RULES.get(cost.kind)
    if rule is None:
        raise NoBackwardRuleError(f"layer kind {cost.kind!r} has no backward rule (symcost.layers.backward.RULES); "
                                  "its training cost is unknown, not zero")
    if needs is None:
        needs = (True,) * max(len(cost.in_shapes), 1)
    needs = tuple(needs) + (True,) * (len(cost.in_shapes) - len(needs))
    return rule(cost, needs or (False,))
