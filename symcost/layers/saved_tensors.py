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
    product (on CUDA ``native_dropout`` saves a bool mask instead); ``p=0`` returns the input."""
    if layer.p == 0:
        return Saves((), aliases=True)
    return Saves((_new("mask", lambda c: c.in_shape),), aliases=False)


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
    "Embedding": _fixed(_in(dtype="int64")),                          # embedding_backward(grad, indices)
    "ScaledDotProductAttention": _sdpa,
    "Parameter": _NOTHING, "Constant": _NOTHING,
    **{kind: _dropout for kind in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d")},
    # views: nothing saved, the output shares the input's storage
    **{kind: _NOTHING for kind in ("Identity", "Flatten", "Unflatten", "Reshape", "View", "Squeeze", "Unsqueeze",
                                   "Permute", "Transpose", "Expand", "Select", "Slice", "Chunk", "Split", "Unbind")},
    "Contiguous": _NOTHING,
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
