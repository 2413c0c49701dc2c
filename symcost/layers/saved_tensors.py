"""What autograd keeps for backward, per layer kind: one table per memory convention.

Each entry lists the tensors a layer's op saves in a training-mode forward:
``input i`` and ``output j`` (storages other rows may share), or a ``new``
tensor the op makes for backward (statistics, indices, a dropout mask) with its
shape and dtype. Parameters and buffers are never listed: they are not
activations. ``eager`` is what eager PyTorch (CPU, torch 2.13) saves, read from
``tools/autograd/derivatives.yaml`` and checked against
``torch.autograd.graph.saved_tensors_hooks`` in ``tests/test_activation_memory.py``;
``korthikanti`` is the accounting of Korthikanti et al. 2022 (see
:data:`KORTHIKANTI`). A kind with no entry is an error naming it, never zero::

    >>> from symcost.layers import ReLU, MaxPool2d
    >>> [s.describe() for s in saved_tensors(ReLU()).saved]
    ['output 0']
    >>> [s.describe() for s in saved_tensors(MaxPool2d(2)).saved]
    ['input 0', 'indices: new int64 tensor']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sympy

from ..core.errors import InvalidArgumentError, UnknownLayerError
from ..core.shape import Shape


@dataclass(frozen=True)
class Saved:
    """One tensor autograd keeps for a layer.

    ``what`` is ``"input"`` or ``"output"`` (number ``index``), or ``"new"`` (a tensor the op makes,
    of shape ``shape(cost)`` per sample, or for the whole batch when ``per_sample`` is False).
    ``dtype`` is ``"activation"`` (the dtype activations are counted in: a model cast whole to it, as
    ``model.to(dtype)``, no autocast) or a torch dtype name.
    ``upcast``: an input that, with 16-bit activations, is kept as a new float32 copy instead.
    ``needs``: saved only when one of these inputs requires grad (None: always).
    ``core``: part of attention's core (scores, softmax, dropout), which selective recomputation drops.
    ``optional``: an input kept only when the layer is called with it (a key or value of attention).
    """

    what: str
    index: int = 0
    dtype: str = "activation"
    shape: Callable | None = None
    per_sample: bool = True
    needs: tuple[int, ...] | None = None
    core: bool = False
    role: str = ""
    upcast: bool = False
    optional: bool = False

    def describe(self) -> str:
        if self.what == "new":
            kind = "tensor" if self.per_sample else "tensor per batch"
            dtype = "" if self.dtype == "activation" else f"{self.dtype} "
            return f"{self.role}: new {dtype}{kind}"
        return f"{self.what} {self.index}"


@dataclass(frozen=True)
class Saves:
    """A layer's saved tensors, and whether its output shares its first input's storage in training."""

    saved: tuple[Saved, ...] = ()
    aliases: bool | None = None  # None: as ``Layer.aliases_input`` says


def _in(i: int = 0, **kw) -> Saved:
    return Saved("input", i, **kw)


def _out(j: int = 0, **kw) -> Saved:
    return Saved("output", j, **kw)


def _new(role: str, shape: Callable, dtype: str = "activation", **kw) -> Saved:
    return Saved("new", dtype=dtype, shape=shape, role=role, **kw)


def _rows(cost) -> Shape:
    """One entry per normalized row: the input's elements over the normalized ones."""
    layer = cost.layer
    normalized = sympy.Mul(*layer.normalized_shape)
    return Shape(cost.in_shape.numel / normalized)


def _fixed(*saved: Saved, aliases: bool | None = None) -> Callable:
    saves = Saves(tuple(saved), aliases)
    return lambda layer: saves


def _dropout(layer) -> Saves:
    """CPU eager: ``input * noise``, noise a ``bernoulli_`` tensor in the input's dtype, saved by the
    product (on CUDA ``native_dropout`` saves a bool mask instead); ``p=0`` returns the input and ``p=1``
    multiplies it by a zero scalar, which the product keeps. ``AlphaDropout`` keeps its noise the same way.
    The feature dropouts (``Dropout1d/2d/3d``, ``FeatureAlphaDropout``) keep one value per channel,
    ``(C, 1, ...)`` per sample; on a sample of one axis a full-size one (``feature_dropout`` of a 2-D
    input); ``Dropout1d`` on one axis and ``Dropout3d`` on other than four take the batch for the
    channels of an unbatched input (torch's ``unsqueeze(0)``): one value per sample."""
    if layer.p == 0:
        return Saves((), aliases=True)
    if layer.p == 1:
        return Saves((_new("zero", lambda c: Shape(), per_sample=False),), aliases=False)
    if layer.kind in _FEATURE_DROPOUTS:
        return Saves((_new("noise", lambda c: _feature_noise(layer.kind, c.in_shape)),), aliases=False)
    return Saves((_new("mask", lambda c: c.in_shape),), aliases=False)


_FEATURE_DROPOUTS = ("Dropout1d", "Dropout2d", "Dropout3d", "FeatureAlphaDropout")


def _feature_noise(kind: str, shape: Shape) -> Shape:
    if (kind == "Dropout1d" and shape.rank == 1) or (kind == "Dropout3d" and shape.rank != 4):
        return Shape(1)
    if shape.rank == 1:
        return shape
    return Shape(shape.dims[0], *(1,) * (shape.rank - 1))


def _sdpa(layer) -> Saves:
    """CPU flash attention (``_scaled_dot_product_flash_attention_for_cpu``): q, k, v, the output and
    the log-sum-exp per query row (float32); the math fallback runs with dropout or a mask."""
    if not layer.dropout_p == 0 or layer.has_mask:
        raise InvalidArgumentError(layer.label, "dropout_p",
                                   "must be 0 with no mask for eager activation memory (only the flash kernel's "
                                   "saved tensors are tabled)", layer.dropout_p)
    lse = lambda c: Shape(*c.in_shapes[0].dims[:2])
    return Saves((_in(0), _in(1), _in(2), _out(core=True), _new("logsumexp", lse, "float32", core=True)))


# statistics in the activations' dtype (on CPU a bfloat16 model keeps bfloat16 mean and rstd)
_LN_STATS = (_new("mean", _rows), _new("rstd", _rows))
_BN_STATS = (_new("save_mean", lambda c: Shape(c.in_shape.dims[0]), per_sample=False),
             _new("save_invstd", lambda c: Shape(c.in_shape.dims[0]), per_sample=False))
_GN_STATS = (_new("mean", lambda c: Shape(c.layer.num_groups)), _new("rstd", lambda c: Shape(c.layer.num_groups)))
_NOTHING = _fixed()


def _adaptive_avg(layer) -> Saves:
    """``_adaptive_avg_pool2d/3d`` keep their input; a 2d or 3d pool to one value per channel runs as a
    ``mean``, which keeps nothing (a 1d pool runs as a 2d pool of height 1, never as a mean)."""
    if layer.kind != "AdaptiveAvgPool1d" and all(size == 1 for size in layer.output_size):
        return Saves()
    return Saves((_in(),))

def _mha(layer) -> Saves:
    """``F.multi_head_attention_forward`` in training (the fast path is off), per torch 2.13's code.

    The input projections keep their inputs and make ``q``, ``k``, ``v``: one ``(L, 3E)`` storage for
    self-attention (one input, one weight), ``q`` apart from a ``(S, 2E)`` one for ``k`` and ``v`` (two
    inputs), three storages otherwise (three inputs, or ``kdim``/``vdim`` apart from ``embed_dim``).
    ``add_bias_kv`` and ``add_zero_attn`` concatenate a row to ``k`` and ``v``: new ``(S', E)`` tensors
    replace theirs. With ``need_weights`` (torch's default) the explicit path keeps ``q`` scaled (a new
    ``(L, E)``), ``k``, the softmax ``(heads, L, S')`` and ``v``; without, the CPU flash kernel keeps
    ``q``, ``k``, ``v``, its output and a float32 log-sum-exp per head and query. The output
    projection keeps its input: the heads' output made contiguous (under flash, the kernel's output)."""
    def dims(c):
        l_q, e = c.in_shapes[0].dims
        s = c.in_shapes[1].dims[0] if len(c.in_shapes) > 1 else l_q
        return l_q, e, s, s + int(layer.add_bias_kv) + int(layer.add_zero_attn)

    inputs = lambda c: len(c.in_shapes)
    packed = lambda c: inputs(c) == 1 and layer.kdim in (None, layer.embed_dim) and \
        layer.vdim in (None, layer.embed_dim)
    padded = layer.add_bias_kv or layer.add_zero_attn
    saved = [_in(0), _in(1, optional=True), _in(2, optional=True)]  # the inputs the projections keep

    def projections(c):  # the storages of q, k, v the attention reads
        l_q, e, s, s2 = dims(c)
        if padded:  # k and v are new, concatenated; q alone is read (flash), or scaled (explicit)
            kv = 2 * s2 * e
            q = 0 if layer.need_weights else (3 * l_q * e if packed(c) else l_q * e)
            return Shape(q + kv)
        if packed(c):
            return Shape(3 * l_q * e)
        return Shape((0 if layer.need_weights else l_q * e) + 2 * s * e)

    saved.append(_new("q, k, v", projections))
    if layer.need_weights:
        saved += [_new("q scaled", lambda c: Shape(dims(c)[0] * dims(c)[1]), core=True),
                  _new("softmax", lambda c: Shape(layer.num_heads, dims(c)[0], dims(c)[3]), core=True)]
    else:
        saved.append(_new("logsumexp", lambda c: Shape(layer.num_heads, dims(c)[0]), "float32", core=True))
    saved.append(_new("heads' output", lambda c: Shape(dims(c)[0], dims(c)[1])))
    return Saves(tuple(saved))


def _einsum(layer) -> Saves:
    """``torch.einsum`` of two operands runs one product (``bmm`` or ``mul`` on views of them): each operand
    is kept for the other's gradient. One operand (a permute, a diagonal, a sum) keeps nothing. A label
    summed within one operand, or three or more operands (contracted pairwise, keeping intermediates), are
    not tabled."""
    from .einsum import parse_equation

    terms, out = parse_equation(layer.equation, layer=layer.label)
    if len(terms) == 1:
        return Saves()
    if len(terms) > 2:
        raise InvalidArgumentError(layer.label, "equation", "must name one or two operands for activation "
                                   "memory (torch contracts more pairwise and keeps intermediates, not tabled)",
                                   layer.equation)
    letters = [set(t.letters) for t in terms]
    output = set(out.letters) if out is not None else letters[0] ^ letters[1]
    if any(letters[i] - letters[1 - i] - output for i in (0, 1)):
        raise InvalidArgumentError(layer.label, "equation", "must sum no label within one operand for activation "
                                   "memory (torch sums it first and keeps the sum, not tabled)", layer.equation)
    return Saves((_in(0, needs=(1,)), _in(1, needs=(0,))))


def _stochastic_depth(layer) -> Saves:
    """torchvision's ``stochastic_depth``: ``input * noise``, the noise one value per sample (``row``) or
    per batch (``batch``) in the input's dtype, kept for the input's gradient; ``p=0`` returns the input."""
    if layer.p == 0:
        return Saves((), aliases=True)
    ones = lambda c: Shape(*(1,) * c.in_shape.rank)
    return Saves((_new("noise", ones, per_sample=layer.mode == "row"),), aliases=False)


def _separable(layer) -> Saves:
    """A depthwise then a pointwise convolution: the input, and the depthwise output the pointwise keeps."""
    def depthwise(c):
        return layer._depthwise(c.in_shape.dims[0]).cost(c.in_shape).out_shape
    return Saves((_in(), _new("depthwise output", depthwise)))


def _recurrent(layer) -> Saves:
    """torch's native recurrent layers on CPU (``_rnn_impl``): each layer projects its whole input once
    (keeping it), then per step, unit and direction keeps ``7*H`` values (the hidden state the recurrent
    product reads, the gates, and the pointwise terms; measured against ``saved_tensors_hooks``), plus
    ``proj_size`` for an LSTM's projection; each layer after the first keeps the previous one's output.

    An LSTM without ``proj_size`` runs oneDNN on CPU (float32), which keeps a workspace whose size oneDNN
    rounds to pages internally: not tabled (an error, not a guess)."""
    if layer.kind == "LSTM" and layer.proj_size == 0:
        raise InvalidArgumentError(layer.label, "proj_size", "must be positive for eager activation memory: "
                                   "without a projection torch runs an LSTM through oneDNN on CPU, whose "
                                   "workspace size is internal to oneDNN (not tabled)", layer.proj_size)
    directions = 2 if layer.bidirectional else 1
    proj = getattr(layer, "proj_size", 0)
    width = proj if proj else layer.hidden_size

    def kept(c):
        length = c.in_shape.dims[0]
        per_step = 7 * layer.hidden_size + proj
        return Shape(length * directions * (layer.num_layers * per_step + (layer.num_layers - 1) * width))
    return Saves((_in(), _new("gates and states", kept)))


def _embedding_bag(layer) -> Saves:
    """``_embedding_bag`` (CPU) keeps the ids (int64), the offsets and per bag its size and another int64
    (``sum``: three per bag); ``mean`` and ``max`` add ``offset2bag``, one per id and one more per batch, and
    ``max`` the argmax per bag and feature (two int64 per bag, not three)."""
    def bags(c):
        return 1 if c.in_shape.rank == 1 else c.in_shape.dims[0]
    per_bag = 2 if layer.mode == "max" else 3
    saved = [_in(dtype="int64"), _new("offsets and bag sizes", lambda c: Shape(per_bag * bags(c)), "int64")]
    if layer.mode != "sum":
        saved += [_new("offset2bag", lambda c: c.in_shape, "int64"),
                  _new("offset2bag end", lambda c: Shape(1), "int64", per_sample=False)]
    if layer.mode == "max":
        saved.append(_new("max indices", lambda c: Shape(bags(c), layer.embedding_dim), "int64"))
    return Saves(tuple(saved))


#: eager PyTorch (CPU): kind -> layer -> :class:`Saves`.
EAGER: dict[str, Callable] = {
    **{f"Conv{n}d": _fixed(_in()) for n in (1, 2, 3)},               # convolution_backward: input, weight
    **{f"ConvTranspose{n}d": _fixed(_in()) for n in (1, 2, 3)},
    "Linear": _fixed(_in()),                                          # addmm/mm: mat1 for grad_weight
    "MatMul": _fixed(_in(0, needs=(1,)), _in(1, needs=(0,))),
    "Bmm": _fixed(_in(0, needs=(1,)), _in(1, needs=(0,))),
    **{f"BatchNorm{n}d": _fixed(_in(), *_BN_STATS) for n in (1, 2, 3)},  # training: input, save_mean, save_invstd
    "LayerNorm": _fixed(_in(), *_LN_STATS),                          # native_layer_norm: input, mean, rstd
    "GroupNorm": _fixed(_in(), *_GN_STATS),                          # native_group_norm: input, mean, rstd (N, G)
    # Hugging Face's LlamaRMSNorm: x.to(float32) (a new copy with 16-bit activations), whose square and
    # product with rsqrt(mean(x**2) + eps) keep it and the rsqrt (one float32 per row), then
    # weight * normalized.to(dtype), which keeps the normalized x in the activations' dtype
    "RMSNorm": _fixed(_in(upcast=True), _new("rsqrt", _rows, "float32"), _new("normalized", lambda c: c.in_shape)),
    "ReLU": _fixed(_out()),                                           # threshold_backward(grad, result)
    "ReLU6": _fixed(_in()), "LeakyReLU": _fixed(_in()), "Hardswish": _fixed(_in()), "Hardsigmoid": _fixed(_in()),
    "GELU": _fixed(_in()), "SiLU": _fixed(_in()),
    "Sigmoid": _fixed(_out()), "Tanh": _fixed(_out()),
    "Softmax": _fixed(_out()), "LogSoftmax": _fixed(_out()),
    **{f"MaxPool{n}d": _fixed(_in(), _new("indices", lambda c: c.out_shape, "int64")) for n in (1, 2, 3)},
    **{f"AvgPool{n}d": _fixed(_in()) for n in (1, 2, 3)},
    **{f"AdaptiveAvgPool{n}d": _adaptive_avg for n in (1, 2, 3)},
    **{f"AdaptiveMaxPool{n}d": _fixed(_in(), _new("indices", lambda c: c.out_shape, "int64")) for n in (1, 2, 3)},
    # instance norm runs batch norm over (1, N*C, ...): its input and C means and inverse deviations per sample
    **{f"InstanceNorm{n}d": _fixed(_in(), _new("save_mean", lambda c: Shape(c.in_shape.dims[0])),
                                   _new("save_invstd", lambda c: Shape(c.in_shape.dims[0]))) for n in (1, 2, 3)},
    "Exp": _fixed(_out()), "Sqrt": _fixed(_out()), "Rsqrt": _fixed(_out()),      # their results
    "Log": _fixed(_in()), "Abs": _fixed(_in()), "Erf": _fixed(_in()), "Clamp": _fixed(_in()),
    "Pow": _fixed(_in()), "Var": _fixed(_in()), "GLU": _fixed(_in()),
    "Amax": _fixed(_in(), _out()), "Amin": _fixed(_in(), _out()),                # the input and the extremes
    "Pad": _NOTHING, "Pad2d": _NOTHING, "Upsample": _NOTHING,                    # sizes only
    "Mean": _NOTHING, "Sum": _NOTHING,
    "Add": _NOTHING, "Neg": _NOTHING, "Cat": _NOTHING, "Concat": _NOTHING, "Stack": _NOTHING, "Scale": _NOTHING,
    "Mul": _fixed(_in(0, needs=(1,)), _in(1, needs=(0,))),           # mul: other for self's grad, self for other's
    "Div": _fixed(_in(0, needs=(1,)), _in(1, needs=(0, 1))),         # div: other for both grads, self for other's
    "Norm": _fixed(_in(), _out()),                                    # linalg_vector_norm: self and the norm
    "Embedding": _fixed(_in(dtype="int64")),                          # embedding_backward(grad, indices)
    "ScaledDotProductAttention": _sdpa,
    "Parameter": _NOTHING, "Constant": _NOTHING,
    **{kind: _dropout for kind in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                                   "FeatureAlphaDropout")},
    # views: nothing saved, the output shares the input's storage
    **{kind: _NOTHING for kind in ("Identity", "Flatten", "Unflatten", "Reshape", "View", "Squeeze", "Unsqueeze",
                                   "Permute", "Transpose", "Expand", "Select", "Slice", "Chunk", "Split", "TensorSplit",
                                   "Unbind")},
    "Contiguous": _NOTHING,
    "Roll": _NOTHING,                                                 # roll back: sizes only
    "Addmm": _fixed(_in(1, needs=(2,)), _in(2, needs=(1,))),         # mat2 for mat1's grad, mat1 for mat2's
    "Baddbmm": _fixed(_in(1, needs=(2,)), _in(2, needs=(1,))),       # (input's grad is grad * beta)
    "Einsum": _einsum,
    "Where": _fixed(_in(0, dtype="bool", needs=(1, 2))),              # the condition
    "MaskedFill": _fixed(_in(1, dtype="bool", needs=(0,))),           # the mask
    "IndexSelect": _fixed(_new("index", lambda c: Shape(c.layer.index_count), "int64", per_sample=False)),
    "SwiGLU": _fixed(_in(), _new("silu", lambda c: c.out_shape)),     # silu(a) keeps a (a view), a * b keeps silu(a), b
    "StochasticDepth": _stochastic_depth,
    "SeparableConv2d": _separable,
    "MultiheadAttention": _mha,
    "LSTM": _recurrent, "GRU": _recurrent,
    "EmbeddingBag": _embedding_bag,
}


def _korthikanti_attention(layer) -> Saves:
    """Q, K, V, then per head the softmax (s*s, 16-bit), its dropout mask (1 byte) and the dropout's output
    (16-bit) that multiplies V: the paper's ``11*s*b*h``'s 6 and its ``5*a*s**2*b``."""
    scores = lambda c: Shape(c.in_shapes[0].dims[0], c.in_shapes[0].dims[1], c.in_shapes[1].dims[1])
    return Saves((_in(0), _in(1), _in(2), _new("softmax", scores, core=True),
                  _new("dropout mask", scores, "bool", core=True), _new("dropout output", scores, core=True)))


#: Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models", section 4.1:
#: per GPT layer ``s*b*h*(34 + 5*a*s/h)`` bytes with 16-bit activations and 1-byte dropout masks.
#: The rules, kind by kind, where they differ from eager PyTorch:
#:   - LayerNorm keeps its input only (2sbh each); the paper omits the mean and rstd (2 floats per row);
#:   - attention keeps Q, K, V and the explicit softmax, dropout mask and dropout output (5as^2b), not the
#:     flash kernel's output and log-sum-exp;
#:   - each residual sum (Add) keeps the 1-byte mask of the dropout before it (sbh, twice per layer), which
#:     GPT-2 applies (``resid_pdrop``) and zoo.gpt2 leaves out;
#:   - Linear keeps its input, GELU its input (8sbh), as eager PyTorch does.
KORTHIKANTI: dict[str, Callable] = {
    **EAGER,
    "LayerNorm": _fixed(_in()),
    "ScaledDotProductAttention": _korthikanti_attention,
    "Add": _fixed(_new("dropout mask", lambda c: c.out_shape, "bool")),
}

#: memory convention name -> table.
SAVED_TENSOR_TABLES: dict[str, dict[str, Callable]] = {"eager": EAGER, "korthikanti": KORTHIKANTI}


def saved_tensors(layer, convention: str = "eager", *, kind: str | None = None) -> Saves:
    """What ``layer`` keeps for backward under ``convention``; an unknown kind is an error naming it.

    ``kind`` names rows that carry no layer object (a container's ``Concat``)."""
    kind = kind or layer.kind
    label = layer.label if layer is not None else kind
    table = SAVED_TENSOR_TABLES.get(convention) if isinstance(convention, str) else None
    if table is None:
        raise InvalidArgumentError("activation memory", "convention",
                                   f"must be one of {', '.join(SAVED_TENSOR_TABLES)}", convention)
    rule = table.get(kind)
    if rule is None:
        raise UnknownLayerError(f"{label}: activation memory does not know what autograd saves for "
                                f"{kind} (no entry in the {convention!r} table of symcost.layers.saved_tensors)")
    return rule(layer)
