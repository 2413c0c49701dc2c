"""from_torch's main route: ``torch.export`` captures the model, one table maps ATen operators to symcost kinds.

``torch.export.export(module, inputs, dynamic_shapes=..., strict=False)``
runs the model on fake tensors whose symbolic sizes are torch's own symbols
(``s0``, ``s53``); every node of the captured graph is one ATen operator
(``aten.conv2d``, ``aten.linear``, ``aten.scaled_dot_product_attention``...)
and names the module that called it (``nn_module_stack``). Each operator
becomes a symcost layer through :data:`ATEN` (see :func:`aten_table`), its
arguments read from the node (a weight's shape gives ``out_channels``), its
sizes translated back to the user's symbols (``s0 -> H``; torch's
``FloorDiv``/``CeilDiv``/``Mod`` to ``floor``/``ceiling``: no ``Mod``, see
:func:`~symcost.core.canonical.mod`).

Parameters and buffers enter the graph as placeholders named by their
module path (``conv1.weight``); an operator that owns them (a convolution,
a linear layer, a norm) counts them, any other use (a class token, a
position embedding) is a :class:`~symcost.layers.tensors.Parameter` node,
one per tensor. A tensor used twice (tied weights) is counted once.

Sizes the model's code fixes (ViT's position embedding specialises 224) stay
fixed: the model's input shape holds that number and its ``notes`` say so.
"""

from __future__ import annotations

import contextlib
import logging
import operator
from collections.abc import Callable
from dataclasses import dataclass, replace

import sympy

from .. import layers as L
from ..core.canonical import canonical, ceil_div, floor_div, mod, text
from ..core.errors import ArgumentTypeError, UnsupportedModuleError
from ..core.shape import Shape
from ..layers.base import Layer
from .nesting import flat

#: Operator converters registered with :func:`register_aten`, by ATen op name (``"my_ops.fused"``).
_ATEN_REGISTERED: dict[str, Callable] = {}


class ExportFailed(Exception):
    """torch.export could not capture the model; the message says why (the caller falls back to fx)."""


class Unsupported(Exception):
    """Raised by an operator converter: no symcost counterpart, for the reason given."""


@dataclass(frozen=True)
class Ref:
    """An activation of the graph: a node's output (``index`` for one of several)."""

    node: str
    index: int | None = None

    @property
    def input(self) -> object:
        return self.node if self.index is None else (self.node, self.index)


@dataclass(frozen=True)
class Tensor:
    """A parameter, buffer or constant tensor of the model (a placeholder), by its path."""

    path: str
    value: object  # the torch tensor (None for "folded")
    kind: str  # "parameter", "buffer", "constant", or "folded" (computed from constants only)
    sizes: tuple = ()  # a folded tensor's sizes, in the user's symbols

    @property
    def shape(self) -> tuple:
        if self.value is None:
            return self.sizes
        return tuple(int(d) for d in self.value.shape)


@dataclass(frozen=True)
class Op:
    """One ATen call as a converter sees it: arguments (activations as :class:`Ref`, model tensors as
    :class:`Tensor`, sizes as SymPy expressions), and the output's torch shape(s) in the user's symbols."""

    name: str
    args: tuple
    kwargs: dict
    out: object  # a tuple of sizes, or a list of them for several outputs
    shift: int = 0  # 1 when torch merged the batch into the input's first dimension (x.view(-1, D))

    def d(self, dim: object) -> object:
        """A torch dimension of the input in symcost's numbering (the batch first)."""
        if isinstance(dim, (list, tuple)):
            return type(dim)(self.d(x) for x in dim)
        return dim + self.shift if isinstance(dim, int) and dim >= 0 else dim

    def arg(self, i: int, key: str, default: object = None) -> object:
        if i < len(self.args):
            return self.args[i]
        return self.kwargs.get(key, default)


@dataclass(frozen=True)
class Uses:
    """A converter's answer: ``layer`` applied to ``inputs`` (activations, or model tensors used as operands,
    or numbers used as operands), and the model tensors it counts itself (a convolution's weight and bias)."""

    layer: Layer
    inputs: tuple
    owns: tuple = ()
    unbatched: bool | None = None  # the output's torch dim 0 is not the batch (None: as the input's)
    then: Layer | None = None  # a second layer on the first's output (same node name, same row)
    with_: tuple = ()  # more inputs of ``then`` (a computed bias added)


SAME = "same"  # the call passes its first input through: no row


def register_aten(op_name: str, converter: Callable | None = None) -> Callable:
    """Convert calls of the ATen operator ``op_name`` (``"aten.foo"`` or your ``"ns.op"``) with
    ``converter(op)``, which returns :class:`Uses` (or a symcost layer applied to the first input)."""
    if converter is None:
        return lambda fn: register_aten(op_name, fn)
    if not isinstance(op_name, str) or not callable(converter):
        raise ArgumentTypeError(f"register_aten: give an operator name (str) and a callable converter, got "
                                f"{op_name!r} and {converter!r}")
    _ATEN_REGISTERED[op_name] = converter
    return converter


# ---------------------------------------------------------------------------
# Converters
# ---------------------------------------------------------------------------
def _acts(op: Op) -> list:
    return [v for v in op.args if isinstance(v, (Ref, Tensor))]


def _first(layer_cls: type) -> Callable:
    """A layer with no argument that counts, on the first input."""
    return lambda op: Uses(layer_cls(), (op.args[0],))


def _rank(op: Op) -> int:
    """The torch rank of the output (batch included)."""
    return len(op.out)


def _conv(op: Op) -> Uses:
    x, w, b = op.args[0], op.args[1], op.arg(2, "bias")
    stride, padding, dilation, groups = op.arg(3, "stride", 1), op.arg(4, "padding", 0), op.arg(5, "dilation", 1), \
        op.arg(6, "groups", 1)
    nd = len(w.shape) - 2
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        else:
            raise Unsupported(f"padding={padding!r}")
    cls = getattr(L, f"Conv{nd}d")
    return Uses(cls(w.shape[0], tuple(w.shape[2:]), stride=_tuple(stride, nd), padding=_tuple(padding, nd),
                    dilation=_tuple(dilation, nd), groups=groups, bias=b is not None, stacked=bool(op.shift)),
                (x,), _owned(w, b))


def _conv_transpose(op: Op) -> Uses:
    x, w, b = op.args[0], op.args[1], op.arg(2, "bias")
    nd = len(w.shape) - 2
    stride, padding, output_padding = op.arg(3, "stride", 1), op.arg(4, "padding", 0), op.arg(5, "output_padding", 0)
    groups, dilation = op.arg(6, "groups", 1), op.arg(7, "dilation", 1)
    cls = getattr(L, f"ConvTranspose{nd}d")
    return Uses(cls(w.shape[1] * groups, tuple(w.shape[2:]), stride=_tuple(stride, nd), padding=_tuple(padding, nd),
                    output_padding=_tuple(output_padding, nd), groups=groups, bias=b is not None,
                    dilation=_tuple(dilation, nd)), (x,), _owned(w, b))


def _tuple(value: object, nd: int) -> tuple:
    value = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    return value * nd if len(value) == 1 else value


def _owned(*tensors: object) -> tuple:
    return tuple(t for t in tensors if isinstance(t, Tensor))


def _linear(op: Op) -> Uses:
    x, w, b = op.args[0], op.args[1], op.arg(2, "bias")
    if not isinstance(w, Tensor) or w.value is None:
        raise Unsupported("its weight is computed, not a parameter")
    if isinstance(b, Tensor) and b.value is None:  # a bias computed from a parameter (swin v2 zeroes a third)
        return Uses(L.Linear(w.shape[0], bias=False, in_features=w.shape[1]), (x,), _owned(w), then=L.Add(),
                    with_=(b,))
    return Uses(L.Linear(w.shape[0], bias=b is not None, in_features=w.shape[1]), (x,), _owned(w, b))


def _batch_norm(op: Op) -> Uses:
    x, w, b, mean, var = op.args[:5]
    # training mode (batch statistics) is the same layer, as the fx route reads nn.BatchNorm in either mode
    nd = max(_rank(op) - 2, 1)
    channels = op.out[1]
    cls = getattr(L, f"BatchNorm{nd}d")
    return Uses(cls(channels, affine=w is not None, track_running_stats=mean is not None), (x,),
                _owned(w, b, mean, var))


def _layer_norm(op: Op) -> Uses:
    x, shape, w, b = op.args[0], op.args[1], op.arg(2, "weight"), op.arg(3, "bias")
    eps = op.arg(4, "eps", 1e-5)
    return Uses(L.LayerNorm(tuple(shape), eps=_exact(eps), elementwise_affine=w is not None, bias=b is not None),
                (x,), _owned(w, b))


def _group_norm(op: Op) -> Uses:
    x, groups, w, b = op.args[0], op.args[1], op.arg(2, "weight"), op.arg(3, "bias")
    eps = op.arg(4, "eps", 1e-5)
    return Uses(L.GroupNorm(groups, op.out[1], eps=_exact(eps), affine=w is not None), (x,), _owned(w, b))


def _rms_norm(op: Op) -> Uses:
    x, shape, w = op.args[0], op.args[1], op.arg(2, "weight")
    return Uses(L.RMSNorm(tuple(shape), eps=_exact(op.arg(3, "eps")), elementwise_affine=w is not None), (x,),
                _owned(w))


def _embedding(op: Op) -> Uses:
    w, ids = op.args[0], op.args[1]
    padding_idx = op.arg(2, "padding_idx", -1)
    return Uses(L.Embedding(w.shape[0], w.shape[1], padding_idx=None if padding_idx in (-1, None) else padding_idx),
                (ids,), _owned(w))


def _exact(value: object) -> object:
    from .pytorch import _exact as exact

    return exact(value)


def _max_pool(op: Op) -> Uses:
    x, kernel = op.args[0], op.args[1]
    nd = len(kernel) if isinstance(kernel, (tuple, list)) else _rank(op) - 2
    stride = op.arg(2, "stride", None) or None
    padding, dilation, ceil = op.arg(3, "padding", 0), op.arg(4, "dilation", 1), op.arg(5, "ceil_mode", False)
    cls = getattr(L, f"MaxPool{nd}d")
    return Uses(cls(tuple(kernel), stride=stride and tuple(stride), padding=_tuple(padding, nd),
                    dilation=_tuple(dilation, nd), ceil_mode=ceil), (x,))


def _avg_pool(op: Op) -> Uses:
    x, kernel = op.args[0], op.args[1]
    nd = len(kernel) if isinstance(kernel, (tuple, list)) else _rank(op) - 2
    stride = op.arg(2, "stride", None) or None
    padding, ceil = op.arg(3, "padding", 0), op.arg(4, "ceil_mode", False)
    include, divisor = op.arg(5, "count_include_pad", True), op.arg(6, "divisor_override", None)
    cls = getattr(L, f"AvgPool{nd}d")
    extra = {} if nd == 1 else {"divisor_override": divisor}
    return Uses(cls(tuple(kernel), stride=stride and tuple(stride), padding=_tuple(padding, nd), ceil_mode=ceil,
                    count_include_pad=include, **extra), (x,))


def _adaptive(kind: str) -> Callable:
    def convert(op: Op) -> Uses:
        size = op.args[1]
        nd = len(size) if isinstance(size, (tuple, list)) else 1
        return Uses(getattr(L, f"Adaptive{kind}Pool{nd}d")(tuple(size) if nd > 1 else size), (op.args[0],))
    return convert


def _binary(layer_cls: type, scalar: Callable | None = None) -> Callable:
    """add/mul/sub: two operands, a number operand a scalar constant of the graph (broadcast)."""
    def convert(op: Op) -> Uses:
        a, b = op.args[0], op.args[1]
        alpha = op.arg(2, "alpha", 1)
        if alpha != 1:
            raise Unsupported(f"alpha={alpha}")
        if scalar is not None and _is_number(b) and isinstance(a, (Ref, Tensor)):
            return Uses(scalar(b), (a,))
        if scalar is not None and _is_number(a) and isinstance(b, (Ref, Tensor)):
            return Uses(scalar(a), (b,))
        return Uses(layer_cls(), (a, b))
    return convert


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, sympy.Expr)) and not isinstance(value, bool)


def _div(op: Op) -> Uses:
    a, b = op.args[0], op.args[1]
    mode = op.kwargs.get("rounding_mode")
    if mode is not None:
        raise Unsupported(f"rounding_mode={mode!r}")
    if _is_number(b):
        return Uses(L.Scale(_exact(b), divide=True), (a,))
    if _is_number(a):
        raise Unsupported("a number divided by a tensor")
    return Uses(L.Div(), (a, b))


def _norm(op: Op) -> Uses:
    """``torch.linalg.vector_norm(x, 2, dim, keepdim)`` (in ``F.normalize``); other orders have no layer."""
    order, dim = op.arg(1, "ord", 2), op.arg(2, "dim")
    if order != 2:
        raise Unsupported(f"ord={order}")
    if dim is None or (isinstance(dim, (list, tuple)) and (not dim or 0 in dim) or dim == 0) and not op.shift:
        raise Unsupported("takes the norm over the batch dimension")
    dim = op.d(dim)
    return Uses(L.Norm(tuple(dim) if isinstance(dim, (list, tuple)) else dim, keepdim=op.arg(3, "keepdim", False)),
                (op.args[0],))


def _clamp_min(op: Op) -> Uses:
    return Uses(L.Clamp(min=_exact(op.args[1])), (op.args[0],))


def _expand_as(op: Op) -> Uses:
    return _expand(replace(op, args=(op.args[0], tuple(op.out))))


def _scaled(op: Op) -> Uses:
    """mul by a number is a Scale; tensor by tensor a Mul."""
    a, b = op.args[0], op.args[1]
    if _is_number(b):
        return Uses(L.Scale(_exact(b)), (a,))
    if _is_number(a):
        return Uses(L.Scale(_exact(a)), (b,))
    return Uses(L.Mul(), (a, b))


def _sizes(values: object) -> tuple:
    return tuple(values)


def _reshape(op: Op) -> Uses:
    """A reshape to (1, ...) keeps the batch first; any other merges it into the first dimension (the
    result's torch shape is then the sample's, see :attr:`Op.shift`)."""
    sizes = _sizes(op.args[1])
    out = tuple(op.out)
    if len(sizes) > 1 and (sizes[0] == 1 or sizes[0] == -1 and out[0] == 1 and not op.shift):
        return Uses(L.Reshape(tuple(sizes[1:])), (op.args[0],), unbatched=False)
    if not out:
        raise Unsupported("reshapes to a scalar")
    return Uses(L.Reshape(sizes if sizes.count(-1) <= 1 else out), (op.args[0],), unbatched=True)


def _permute(op: Op) -> Uses:
    dims = tuple(d % len(op.args[1]) for d in op.args[1])
    if op.shift:
        dims = (0, *(d + 1 for d in dims))
    elif dims[0] != 0:  # the batch moves: permute the rest, then the result's torch shape is the sample's
        return Uses(L.Permute((0, *(d for d in dims if d != 0))), (op.args[0],), unbatched=True,
                    then=L.Reshape(tuple(op.out)))
    return Uses(L.Permute(dims), (op.args[0],))


def _transpose(op: Op) -> Uses:
    d0, d1 = op.args[1], op.args[2]
    return Uses(L.Transpose(op.d(d0), op.d(d1)), (op.args[0],))


def _t(op: Op) -> Uses:
    raise Unsupported("transposes a 2-D tensor (the batch with a dimension)")


def _flatten(op: Op) -> Uses:
    start, end = op.arg(1, "start_dim", 0), op.arg(2, "end_dim", -1)
    if start == 0 and not op.shift:
        if end in (-1, len(op.out)):
            return Uses(L.Reshape(tuple(op.out)), (op.args[0],), unbatched=True)
        raise Unsupported("flattens the batch dimension into others")
    return Uses(L.Flatten(op.d(start), op.d(end)), (op.args[0],))


def _softmax(cls: type) -> Callable:
    return lambda op: Uses(cls(op.d(op.args[1])), (op.args[0],))


def _mean(op: Op) -> Uses:
    dim = op.arg(1, "dim")
    if dim is None or dim == [] or (isinstance(dim, (list, tuple)) and 0 in dim) and not op.shift:
        raise Unsupported("averages over the batch dimension")
    dim = op.d(dim)
    return Uses(L.Mean(tuple(dim) if isinstance(dim, (list, tuple)) else dim, keepdim=op.arg(2, "keepdim", False)),
                (op.args[0],))


def _reduction(cls: type) -> Callable:
    def convert(op: Op) -> Uses:
        dim = op.arg(1, "dim")
        if (dim is None or dim == [] or (isinstance(dim, (list, tuple)) and 0 in dim) or dim == 0) and not op.shift:
            raise Unsupported("reduces over the batch dimension")
        dim = op.d(dim)
        return Uses(cls(tuple(dim) if isinstance(dim, (list, tuple)) else dim, keepdim=op.arg(2, "keepdim", False)),
                    (op.args[0],))
    return convert


def _cat(op: Op) -> Uses:
    tensors, dim = op.args[0], op.arg(1, "dim", 0)
    tensors = [t for t in tensors if not (isinstance(t, Tensor) and 0 in t.shape)]  # an empty cache joins nothing
    if len(tensors) == 1:
        return Uses(L.Identity(), tuple(tensors))
    return Uses(L.Cat(op.d(dim)), tuple(tensors))


def _stack(op: Op) -> Uses:
    tensors, dim = op.args[0], op.arg(1, "dim", 0)
    return Uses(L.Stack(op.d(dim)), tuple(tensors))


def _matmul(cls: type) -> Callable:
    return lambda op: Uses(cls(), (op.args[0], op.args[1]))


def _addmm_like(cls: type) -> Callable:
    def convert(op: Op) -> Uses:
        beta, alpha = op.kwargs.get("beta", 1), op.kwargs.get("alpha", 1)
        return Uses(cls(beta=beta, alpha=alpha), (op.args[0], op.args[1], op.args[2]))
    return convert


def _sdpa(op: Op) -> Uses:
    q, k, v = op.args[:3]
    mask = op.arg(3, "attn_mask")
    layer = L.ScaledDotProductAttention(is_causal=bool(op.arg(5, "is_causal", False)),
                                        dropout_p=_exact(op.arg(4, "dropout_p", 0.0)),
                                        scale=_exact(op.kwargs.get("scale")),
                                        enable_gqa=bool(op.kwargs.get("enable_gqa", False)),
                                        has_mask=mask is not None)
    return Uses(layer, (q, k, v) + ((mask,) if mask is not None else ()))


def _dropout(op: Op) -> object:
    train = op.arg(2, "train", False)
    if train:
        return Uses(L.Dropout(_exact(op.arg(1, "p", 0.5))), (op.args[0],))
    return SAME


def _gelu(op: Op) -> Uses:
    return Uses(L.GELU(approximate=op.kwargs.get("approximate", "none")), (op.args[0],))


def _hardtanh(op: Op) -> Uses:
    lo, hi = op.arg(1, "min_val", -1.0), op.arg(2, "max_val", 1.0)
    if (lo, hi) == (0, 6):
        return Uses(L.ReLU6(), (op.args[0],))
    return Uses(L.Clamp(min=_exact(lo), max=_exact(hi)), (op.args[0],))


def _clamp(op: Op) -> Uses:
    return Uses(L.Clamp(min=_exact(op.arg(1, "min")), max=_exact(op.arg(2, "max"))), (op.args[0],))


def _leaky(op: Op) -> Uses:
    return Uses(L.LeakyReLU(_exact(op.arg(1, "negative_slope", 0.01))), (op.args[0],))


def _pow(op: Op) -> Uses:
    e = op.args[1]
    if not _is_number(e):
        raise Unsupported("a tensor exponent")
    return Uses(L.Pow(_exact(e)), (op.args[0],))


def _chunk(op: Op) -> Uses:
    return Uses(L.Chunk(op.args[1], op.d(op.arg(2, "dim", 0))), (op.args[0],))


def _split(op: Op) -> Uses:
    size = op.args[1]
    return Uses(L.Split(tuple(size) if isinstance(size, (list, tuple)) else size, op.d(op.arg(2, "dim", 0))),
                (op.args[0],))


def _einsum(op: Op) -> Uses:
    """The equation per sample: each batched operand (an activation of the batch first, or a model tensor of
    torch shape (1, ...)) and the output lose their first letter, which must be the batch's."""
    equation, operands = op.args[0], tuple(op.args[1])
    ins, arrow, out = str(equation).replace(" ", "").partition("->")
    terms = ins.split(",")
    if not arrow or len(terms) != len(operands):
        raise Unsupported("an einsum without '->'")
    if not op.shift:
        batch = {t[0] for t, v in zip(terms, operands) if not t.startswith("...") and (
            isinstance(v, Ref) or isinstance(v, Tensor) and v.shape[:1] == (1,) and len(v.shape) == len(t))}
        if len(batch) > 1 or batch and not out.startswith(next(iter(batch))):
            raise Unsupported(f"an einsum ({equation}) that moves or contracts the batch")
        terms = [t[1:] if t[:1] in batch else t for t in terms]
        out = out[1:] if batch else out
    return Uses(L.Einsum(",".join(terms) + "->" + out), operands)


def _tensor_split(op: Op) -> Uses:
    cuts = op.args[1]
    if not isinstance(cuts, (int, list, tuple, sympy.Basic)):
        raise Unsupported("tensor_split at indices held in a tensor")
    return Uses(L.TensorSplit(tuple(cuts) if isinstance(cuts, list) else cuts, op.d(op.arg(2, "dim", 0))),
                (op.args[0],))


def _unbind(op: Op) -> Uses:
    return Uses(L.Unbind(op.d(op.arg(1, "dim", 0))), (op.args[0],))


def _slice(op: Op) -> object:
    dim, start, end, step = op.arg(1, "dim", 0), op.arg(2, "start"), op.arg(3, "end"), op.arg(4, "step", 1)
    if dim == 0 and not op.shift:
        return SAME  # the batch of one, sliced whole
    if isinstance(end, int) and end >= 2 ** 62:
        end = None  # x[:, a:] reads to the end
    if start in (None, 0) and end is None and step == 1:
        return SAME
    return Uses(L.Slice(op.d(dim), start, end, step), (op.args[0],))


def _select(op: Op) -> Uses:
    if op.args[1] == 0 and not op.shift:
        raise Unsupported("selects from the batch dimension")
    return Uses(L.Select(op.d(op.args[1]), op.args[2]), (op.args[0],))


def _unsqueeze(op: Op) -> Uses:
    return Uses(L.Unsqueeze(op.d(op.args[1])), (op.args[0],))


def _squeeze(op: Op) -> Uses:
    dim = op.arg(1, "dim")
    dim = op.d(dim)
    return Uses(L.Squeeze(tuple(dim) if isinstance(dim, (list, tuple)) else dim), (op.args[0],))


def _expand(op: Op) -> Uses:
    sizes = tuple(op.args[1])
    if op.shift:
        return Uses(L.Expand(sizes), (op.args[0],))
    if sizes[0] not in (1, -1):  # the capture's batch is 1: a dimension 0 made N > 1 is not the batch
        return Uses(L.Unsqueeze(1), (op.args[0],), unbatched=True, then=L.Expand(sizes))
    return Uses(L.Expand(sizes[1:]), (op.args[0],))


def _upsample(mode: str) -> Callable:
    def convert(op: Op) -> Uses:
        size = op.arg(1, "output_size")
        align = op.arg(2, "align_corners") if mode != "nearest" else None
        scales = op.arg(3 if mode != "nearest" else 2, "scale_factors")
        if size is None and scales is not None:
            scales = tuple(_exact(s) for s in scales)
            scales = scales[0] if len(set(scales)) == 1 else scales
        return Uses(L.Upsample(size=tuple(size) if size is not None else None,
                               scale_factor=None if size is not None else scales, mode=mode, align_corners=align),
                    (op.args[0],))
    return convert


def _pad(op: Op) -> Uses:
    pad, mode, value = list(op.args[1]), op.arg(2, "mode", "constant"), op.arg(3, "value")
    if len(pad) != 4 or mode != "constant":
        return Uses(L.Pad(tuple(pad), mode=mode, value=_exact(value) if value is not None else 0), (op.args[0],))
    return Uses(L.Pad2d(tuple(pad), mode=mode), (op.args[0],))


def _roll(op: Op) -> Uses:
    shifts, dims = op.args[1], op.arg(2, "dims", ())
    return Uses(L.Roll(tuple(shifts) if isinstance(shifts, (list, tuple)) else shifts, op.d(tuple(dims))),
                (op.args[0],))


def _where(op: Op) -> Uses:
    return Uses(L.Where(), tuple(op.args[:3]))


def _masked_fill(op: Op) -> Uses:
    return Uses(L.MaskedFill(_exact(op.args[2]) if _is_number(op.args[2]) else 0), (op.args[0], op.args[1]))


def _same(op: Op) -> object:
    return SAME


def _layout(cls: type) -> Callable:
    return lambda op: Uses(cls(), (op.args[0],))


def aten_table() -> dict[str, Callable]:
    """The one table from ATen operators (by name, overload aside) to converters; see :data:`ATEN`."""
    return ATEN


#: ATen operator -> converter. Pass-through operators (views of the whole tensor, copies, dtype
#: changes) map to ``_same``: no row. Everything else is one symcost layer.
ATEN: dict[str, Callable] = {
    # convolutions, linear layers, matrix products
    "aten.conv1d": _conv, "aten.conv2d": _conv, "aten.conv3d": _conv, "aten.convolution": _conv,
    "aten.conv_transpose1d": _conv_transpose, "aten.conv_transpose2d": _conv_transpose,
    "aten.conv_transpose3d": _conv_transpose,
    "aten.linear": _linear, "aten.matmul": _matmul(L.MatMul), "aten.mm": _matmul(L.MatMul),
    "aten.bmm": _matmul(L.Bmm), "aten.addmm": _addmm_like(L.Addmm), "aten.baddbmm": _addmm_like(L.Baddbmm),
    "aten.einsum": _einsum,
    "aten.scaled_dot_product_attention": _sdpa,
    # norms, embeddings
    "aten.batch_norm": _batch_norm, "aten._native_batch_norm_legit_no_training": _batch_norm,
    "aten.layer_norm": _layer_norm, "aten.group_norm": _group_norm, "aten.rms_norm": _rms_norm,
    "aten.embedding": _embedding,
    # pools, resampling, padding
    "aten.max_pool1d": _max_pool, "aten.max_pool2d": _max_pool, "aten.max_pool3d": _max_pool,
    "aten.avg_pool1d": _avg_pool, "aten.avg_pool2d": _avg_pool, "aten.avg_pool3d": _avg_pool,
    "aten.adaptive_avg_pool1d": _adaptive("Avg"), "aten.adaptive_avg_pool2d": _adaptive("Avg"),
    "aten.adaptive_avg_pool3d": _adaptive("Avg"), "aten.adaptive_max_pool2d": _adaptive("Max"),
    "aten.upsample_nearest2d": _upsample("nearest"), "aten.upsample_bilinear2d": _upsample("bilinear"),
    "aten.pad": _pad, "aten.constant_pad_nd": _pad, "aten.roll": _roll,
    # activations and elementwise math
    "aten.relu": _first(L.ReLU), "aten.relu_": _first(L.ReLU), "aten.relu6": _first(L.ReLU6),
    "aten.gelu": _gelu, "aten.silu": _first(L.SiLU), "aten.silu_": _first(L.SiLU),
    "aten.sigmoid": _first(L.Sigmoid), "aten.sigmoid_": _first(L.Sigmoid),
    "aten.tanh": _first(L.Tanh), "aten.tanh_": _first(L.Tanh),
    "aten.hardswish": _first(L.Hardswish), "aten.hardswish_": _first(L.Hardswish),
    "aten.hardsigmoid": _first(L.Hardsigmoid), "aten.hardsigmoid_": _first(L.Hardsigmoid),
    "aten.hardtanh": _hardtanh, "aten.hardtanh_": _hardtanh, "aten.clamp": _clamp, "aten.clamp_min": _clamp_min,
    "aten.leaky_relu": _leaky, "aten.leaky_relu_": _leaky,
    "aten.exp": _first(L.Exp), "aten.log": _first(L.Log), "aten.sqrt": _first(L.Sqrt),
    "aten.rsqrt": _first(L.Rsqrt), "aten.erf": _first(L.Erf), "aten.abs": _first(L.Abs),
    "aten.neg": _first(L.Neg), "aten.pow": _pow,
    "aten.add": _binary(L.Add), "aten.add_": _binary(L.Add), "aten.sub": _binary(L.Add),
    "aten.rsub": _binary(L.Add),
    "aten.mul": _scaled, "aten.mul_": _scaled, "aten.div": _div, "aten.div_": _div,
    "aten.where": _where, "aten.masked_fill": _masked_fill, "aten.masked_fill_": _masked_fill,
    "aten.softmax": _softmax(L.Softmax), "aten._softmax": _softmax(L.Softmax),
    "aten.log_softmax": _softmax(L.LogSoftmax),
    # reductions
    "aten.mean": _mean, "aten.sum": _reduction(L.Sum), "aten.amax": _reduction(L.Amax),
    "aten.linalg_vector_norm": _norm,
    # layout: views, joins, splits
    "aten.view": _reshape, "aten.reshape": _reshape, "aten._unsafe_view": _reshape,
    "aten.flatten": _flatten, "aten.permute": _permute, "aten.transpose": _transpose, "aten.t": _t,
    "aten.swapaxes": _transpose,
    "aten.cat": _cat, "aten.concat": _cat, "aten.stack": _stack,
    "aten.chunk": _chunk, "aten.split": _split, "aten.split_with_sizes": _split, "aten.unbind": _unbind,
    "aten.tensor_split": _tensor_split,
    "aten.copy_": _same,  # writes its second input into the first (attn[:, :, 1:] += ...): no arithmetic
    "aten.slice": _slice, "aten.select": _select, "aten.unsqueeze": _unsqueeze, "aten.squeeze": _squeeze,
    "aten.expand": _expand, "aten.expand_as": _expand_as, "aten.contiguous": _layout(L.Contiguous),
    "aten.dropout": _dropout, "aten.dropout_": _dropout, "aten.feature_dropout": _dropout,
    "aten.alias": _same, "aten.detach": _same, "aten.detach_": _same, "aten.clone": _same, "aten.to": _same,
    "aten._to_copy": _same, "aten.type_as": _same, "aten.lift_fresh_copy": _same,
}

#: Products FlopCounterMode counts wherever they run: on constants only they still get a row (not folded away).
_PRODUCTS = frozenset({"aten.linear", "aten.matmul", "aten.mm", "aten.bmm", "aten.addmm", "aten.baddbmm",
                       "aten.conv1d", "aten.conv2d", "aten.conv3d", "aten.convolution"})

#: Calls that make a new tensor from another's dtype and device only: constants of the graph.
_CREATORS = frozenset({"aten.new_zeros", "aten.new_ones", "aten.new_empty", "aten.new_full", "aten.zeros_like",
                       "aten.ones_like", "aten.empty_like", "aten.full_like"})

#: Calls that compute sizes or check them, never tensors: no node.
_SHAPE_OPS = ("aten.sym_size", "aten.sym_numel", "aten.sym_stride", "aten._assert_tensor_metadata",
              "aten._assert_scalar", "aten.sym_constrain_range", "aten.sym_constrain_range_for_size",
              "aten._assert_async", "aten.scalar_tensor")


def _pinned(user: list, symbols: dict) -> dict:
    """Input sizes a guard of torch's ties to a number through a formula it cannot solve for each (mvit's
    position table: ``ceil(T/2)*ceil(H/4)*ceil(W/4) + 1 == 25089``): each such size -> (its example value,
    the guard). Divisibility guards (``Mod``) tie no size."""
    vals = [p.meta.get("val") for p in user]
    env = next((v.fake_mode.shape_env for v in vals if getattr(v, "fake_mode", None) is not None), None)
    examples = env.backed_var_to_val if hasattr(env, "backed_var_to_val") else getattr(env, "var_to_val", {})
    order = {d.node.expr: i for v in vals for i, d in enumerate(getattr(v, "shape", ()))
             if hasattr(d, "node")}  # the input's order: T, H, W
    pinned: dict = {}
    for guard in getattr(env, "guards", ()):
        expr = guard.expr
        if not isinstance(expr, sympy.Eq) or any(type(e).__name__ in ("Mod", "PythonMod")
                                                 for e in sympy.preorder_traversal(expr)):
            continue
        number, formula = sorted(expr.args, key=lambda a: not a.is_number)
        if not number.is_number or formula.is_number:
            continue
        try:
            shown = f"{text(canonical(translate(formula, symbols)))} = {number}"
        except Unsupported:
            continue
        for s in sorted(formula.free_symbols, key=lambda s: order.get(s, len(order))):
            if s in symbols and isinstance(symbols[s], sympy.Symbol) and s in examples:
                pinned.setdefault(s, (int(examples[s]), shown))
    return pinned


def _own_dims(operands: list) -> bool:
    """Whether a call reads a parameter alone, of torch shape not (1, ...): its torch dimensions are then its
    own, none of them the batch (``spatial_pos.unsqueeze(0)`` on a (HW, D) table), as :attr:`Op.shift` says.
    (An expand reads its sizes batch first either way: ``class_token.expand(B, -1)``.)"""
    first = operands[0] if operands else None
    return (isinstance(first, Tensor) and first.kind == "parameter" and first.shape[:1] != (1,)
            and not any(isinstance(v, Ref) for v in operands))


def _op_name(target: object) -> str:
    """``aten.conv2d`` for ``torch.ops.aten.conv2d.default`` (the overload aside)."""
    packet = getattr(target, "_overloadpacket", None)
    if packet is not None:
        return str(packet).replace("torch.ops.", "")
    return getattr(target, "__qualname__", None) or getattr(target, "__name__", repr(target))


# ---------------------------------------------------------------------------
# torch's sizes in the user's symbols
# ---------------------------------------------------------------------------
def translate(expr: object, symbols: dict) -> object:
    """torch's SymPy size (``FloorDiv(s0 - 1, 2) + 1``) in plain SymPy over the user's symbols."""
    if isinstance(expr, bool):
        return expr
    if isinstance(expr, int):
        return sympy.Integer(expr)
    if isinstance(expr, float):
        return expr
    if not isinstance(expr, sympy.Basic):
        return expr
    if isinstance(expr, sympy.Symbol):
        if expr not in symbols:
            raise Unsupported(f"a size ({expr}) torch made from data, not from the input's sizes")
        return symbols[expr]
    if not expr.args:
        return expr
    args = [translate(a, symbols) for a in expr.args]
    name = type(expr).__name__
    if name == "FloorDiv":
        return floor_div(args[0], args[1])
    if name == "CeilDiv":
        return ceil_div(args[0], args[1])
    if name in ("CleanDiv", "IntTrueDiv", "FloatTrueDiv"):
        return args[0] / args[1]
    if name in ("Mod", "PythonMod"):
        return mod(args[0], args[1])  # no Mod: padded sizes compare equal (7*ceiling(W/7))
    if name == "ToFloat":  # a size as a float (mvit's position offsets, 1.0 - k_h): the same exact number
        return args[0]
    if name == "FloorToInt":
        return sympy.floor(args[0])
    if name == "CeilToInt":
        return sympy.ceiling(args[0])
    if name == "Max":
        return sympy.Max(*args)
    if name == "Min":
        return sympy.Min(*args)
    if isinstance(expr, (sympy.Add, sympy.Mul, sympy.Pow)):
        return expr.func(*args)
    raise Unsupported(f"a size in torch's {name}")


def _value(v: object, symbols: dict) -> object:
    """A SymInt, SymFloat, list or number as plain values in the user's symbols."""
    import torch

    if isinstance(v, (torch.SymInt, torch.SymFloat)):
        return translate(v.node.expr, symbols)
    if isinstance(v, (list, tuple)):
        return type(v)(_value(x, symbols) for x in v)
    return v


# ---------------------------------------------------------------------------
# Capture and conversion
# ---------------------------------------------------------------------------
@dataclass
class Captured:
    """What the export route gives from_torch."""

    graph: object
    used: set
    input_shape: Shape
    notes: tuple


#: The example image side export traces with. torch specialises any size that is 1 at the example (a count of
#: windows included): at 224 a Swin's last stage (224/32 = 7) is one 7x7 window, and the graph torch gives holds
#: only while it stays one. At 448 every stage of the usual windowed models has two windows or more.
EXAMPLE_IMAGE = 448


#: The image side tried next when export fails at :data:`EXAMPLE_IMAGE` and the error names no size.
USUAL_IMAGE = 224


def _example(shapes: list[Shape], dtypes: list, image: int = EXAMPLE_IMAGE, *, static: frozenset = frozenset(),
             sizes: dict | None = None) -> tuple[list, list]:
    """Example tensors (``image`` for symbolic image sizes, 16 for others, ``sizes[symbol]`` where given) and
    export's dynamic_shapes (the symbols in ``static`` exported as numbers)."""
    import torch
    from torch.export import Dim

    values: dict = dict(sizes or {})
    xs, dynamic = [], []
    for shape, dtype in zip(shapes, dtypes):
        example, dyn = [], {}
        for i, d in enumerate(shape.dims):
            if d.is_number:
                example.append(int(d))
                continue
            if not isinstance(d, sympy.Symbol):
                raise UnsupportedModuleError(f"from_torch: input size {d} must be a number or one symbol")
            values.setdefault(d, image if d in _image_sizes([shape]) else 16)
            example.append(values[d])
            if d not in static:
                dyn[i + 1] = Dim.AUTO
        xs.append(torch.zeros(1, *example, dtype=dtype))
        dynamic.append(dyn or None)
    return xs, dynamic


def _image_sizes(shapes: list[Shape]) -> list:
    """The symbolic sizes of the last two axes of inputs of rank 3 or more (an image's H and W)."""
    return list(dict.fromkeys(d for shape in shapes if shape.rank >= 3 for d in shape.dims[-2:] if not d.is_number))


def capture(module: object, shapes: list[Shape], dtypes: list, model: str) -> Captured:
    """``module`` exported on fake inputs of ``shapes``, converted to a symcost graph (or ExportFailed).

    Image sizes are first tried at :data:`EXAMPLE_IMAGE`. A model that fails there is run (on fake tensors, no
    arithmetic) at the size its error names (``Input height (s18) doesn't match model (32)``), else at
    :data:`USUAL_IMAGE`: where it runs, each image size that does not run 32 pixels larger (the others kept) is
    fixed by the model's code and exported as a number (torch would otherwise reason about every symbolic size
    until it fixed them all: minutes for MaxViT); the sizes that do stay symbolic."""
    import re

    try:
        return _capture(module, shapes, dtypes, model, EXAMPLE_IMAGE)
    except ExportFailed as err:
        image_sizes = _image_sizes(shapes)
        if not image_sizes:
            raise
        named = [int(n) for n in re.findall(r"\b(\d+)\b", str(err)) if 1 < int(n) <= 4096 and int(n) != EXAMPLE_IMAGE]
        for size in dict.fromkeys(named[:1] + [USUAL_IMAGE]):
            if _runs(module, shapes, dtypes, size):
                fixed = frozenset(d for d in image_sizes if not _runs(module, shapes, dtypes, size, {d: size + 32}))
                return _capture(module, shapes, dtypes, model, size, static=fixed)
        raise


def _runs(module: object, shapes: list[Shape], dtypes: list, image: int, sizes: dict | None = None) -> bool:
    """Whether ``module`` runs at image side ``image`` (``sizes[symbol]`` where given), on fake tensors (shapes
    only, no arithmetic)."""
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode

    xs, _ = _example(shapes, dtypes, image, sizes=sizes)
    try:
        with _quiet(), FakeTensorMode(allow_non_fake_inputs=True) as mode, torch.no_grad():
            module(*(mode.from_tensor(x) for x in xs))
    except Exception:  # noqa: BLE001  (the model refuses the size, in any way it likes)
        return False
    return True


@contextlib.contextmanager
def _quiet():
    """torch's loggers and warnings silenced while it traces: a size the model refuses is an answer here, not an
    error to print (torch would log each failed operator with its traceback)."""
    import warnings

    loggers = [logging.getLogger(n) for n in ("torch.fx.experimental.symbolic_shapes", "torch._dynamo",
                                               "torch.export", "torch._export", "torch._subclasses.fake_tensor")]
    levels = [q.level for q in loggers]
    for q in loggers:
        q.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for q, level in zip(loggers, levels):
            q.setLevel(level)


def _capture(module: object, shapes: list[Shape], dtypes: list, model: str, image: int, *,
             static: frozenset = frozenset()) -> Captured:
    import torch

    xs, dynamic = _example(shapes, dtypes, image, static=static)
    wrapper = _Outputs(module)
    try:
        with _quiet():
            ep = torch.export.export(wrapper, tuple(xs), dynamic_shapes=(tuple(dynamic),), strict=False)
    except Exception as err:  # noqa: BLE001  (export raises many kinds)
        line = (str(err).strip().splitlines() or [""])[0]
        raise ExportFailed(f"{type(err).__name__}: {line[:300]}") from None
    return convert(wrapper, ep, shapes, model)


def _outputs_of(value: object) -> list:
    """Every tensor in a model's output: tuples, lists, dicts, dataclasses, Hugging Face ModelOutput; other
    objects (a key/value cache) give the tensors they hold as attributes."""
    import dataclasses

    import torch

    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _outputs_of(v)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _outputs_of(v)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [t for f in dataclasses.fields(value) for t in _outputs_of(getattr(value, f.name))]
    return []


def _wrapper_class() -> type:
    import torch

    class Outputs(torch.nn.Module):
        """The model, its output flattened to a tuple of tensors (export takes no custom output types)."""

        def __init__(self, inner: object):
            super().__init__()
            self.inner = inner

        def forward(self, *xs):
            return tuple(_outputs_of(self.inner(*xs)))

    return Outputs


def _Outputs(module: object) -> object:
    return _wrapper_class()(module)


_PREFIX = "inner."


def _strip(path: str) -> str:
    """A path in the wrapper as the user's model names it."""
    if path == "inner":
        return ""
    return path[len(_PREFIX):] if path.startswith(_PREFIX) else path


def convert(module: object, ep: object, shapes: list[Shape], model: str) -> Captured:
    import torch
    from torch.export.graph_signature import InputKind

    from ..networks.graph import Graph, Node, Tied
    from .pytorch import _counted, _Tensor

    spec = {s.arg.name: s for s in ep.graph_signature.input_specs if hasattr(s.arg, "name")}
    state = {**dict(module.named_parameters(remove_duplicate=False)),
             **dict(module.named_buffers(remove_duplicate=False))}
    constants = getattr(ep, "constants", {})
    nodes = list(ep.graph.nodes)
    user = [n for n in nodes if n.op == "placeholder" and spec[n.name].kind == InputKind.USER_INPUT]

    # torch's symbols -> the user's; sizes torch fixed
    symbols: dict = {}
    notes: list[str] = []
    fixed: dict = {}
    for placeholder, shape in zip(user, shapes):
        val = placeholder.meta.get("val")
        for i, wanted in enumerate(shape.dims):
            got = val.shape[i + 1]
            if wanted.is_number:
                continue
            if isinstance(got, torch.SymInt) and isinstance(got.node.expr, sympy.Symbol):
                s = got.node.expr
                if s in symbols and symbols[s] != wanted:
                    notes.append(f"{wanted} = {symbols[s]}: the model needs these sizes equal")
                    fixed[wanted] = symbols[s]
                else:
                    symbols.setdefault(s, wanted)
            else:
                n = int(got)
                fixed[wanted] = sympy.Integer(n)
                notes.append(f"{wanted} = {n}: the model's code fixes this size (torch specialised it)")
    ties: dict = {}  # sizes tied to a number through a formula: guard -> "T = 16", ...
    for s, (n, guard) in _pinned(user, symbols).items():
        wanted, symbols[s] = symbols[s], sympy.Integer(n)
        fixed[wanted] = symbols[s]
        ties.setdefault(guard, []).append(f"{wanted} = {n}")
    notes += [f"{', '.join(sizes)}: the model's code fixes these sizes (torch requires {guard})"
              for guard, sizes in ties.items()]
    final = [Shape(*(d.xreplace(fixed) for d in shape.dims)) for shape in shapes]
    notes.extend(_ranges(ep, symbols))

    values: dict = {}
    graph_nodes: list = []
    problems: list[str] = []
    first_use: dict[int, str] = {}  # tensor id -> node counting it
    operand_nodes: dict[int, str] = {}  # tensor id -> its Parameter/Constant node
    input_name = user[0].name if user else "input"
    taken = {n.name for n in nodes}
    suffixes: dict[str, int] = {}  # base -> the next suffix to try (a graph's many "scalar" nodes: no rescans)

    def fresh(base: str) -> str:
        name, i = base, suffixes.get(base, 1)
        while name in taken:
            name, i = f"{base}_{i}", i + 1
        suffixes[base] = i
        taken.add(name)
        return name

    def tensor_record(t: Tensor) -> _Tensor:
        return _Tensor(id(t.value), t.path.rsplit(".", 1)[-1], t.value.numel(), t.kind != "parameter")

    def add_node(name: str, layer: object, inputs: tuple, row: str, owns: tuple = (), dims: tuple = ()) -> None:
        for t in owns:  # a batch norm's step counter: its layer counts it, though eval mode never reads it
            if t.path.endswith("running_mean"):
                counter = t.path[: -len("running_mean")] + "num_batches_tracked"
                if _PREFIX + counter in state:
                    owns = (*owns, Tensor(counter, state[_PREFIX + counter], "buffer"))
        records = [tensor_record(t) for t in owns]
        seen = [r for r in records if r.key in first_use]
        tied = None
        if seen:
            tied = Tied(first_use[seen[0].key], None if len(seen) == len(records) else _counted(seen))
        for r in records:
            first_use.setdefault(r.key, name)
        graph_nodes.append(Node(name, layer, inputs, row=row, tied=tied, dims=dims))

    def operand(v: object, row: str) -> object:
        """An input of a node: an activation's reference, or a node made for a model tensor or a number."""
        if isinstance(v, Ref):
            return v.input
        if isinstance(v, Tensor):
            key = id(v.value) if v.value is not None else v.path
            if key not in operand_nodes:
                name = fresh(v.path.replace(".", "_"))
                shape = v.shape[1:] if len(v.shape) > 1 and v.shape[0] == 1 else v.shape
                if v.kind == "parameter":
                    layer = L.Parameter(shape or (1,), name=v.path)
                else:
                    layer = L.Constant(shape or (1,), buffer=v.kind == "buffer", name=v.path)
                add_node(name, layer, (), v.path, (v,) if v.kind in ("parameter", "buffer") else ())
                operand_nodes[key] = name
            return operand_nodes[key]
        if _is_number(v):
            name = fresh("scalar")
            graph_nodes.append(Node(name, L.Constant((1,), name="scalar"), (), row=row))
            return name
        raise Unsupported(f"an operand {v!r}")

    groups = _groups(module, nodes)
    emitted: set[str] = set()
    folded: set[str] = set()
    unbatched: set[str] = set()  # nodes whose torch dim 0 is not the batch
    known: dict = {}  # a size torch computed -> the Dim of the first node with that size
    rebatched: dict = {}  # an unbatched tensor of torch shape (1, ...) -> the node giving it as a batch
    for node in nodes:
        if node.op == "placeholder":
            s = spec[node.name]
            if s.kind == InputKind.USER_INPUT:
                if node is user[0]:
                    values[node] = Ref(node.name)
                else:
                    i = user.index(node)
                    dims = final[i].dims
                    graph_nodes.append(Node(node.name, L.Constant(dims, name=node.name), (), row=node.name))
                    values[node] = Ref(node.name)
            elif s.kind in (InputKind.PARAMETER, InputKind.BUFFER):
                kind = "parameter" if s.kind == InputKind.PARAMETER else "buffer"
                values[node] = Tensor(_strip(s.target), state[s.target], kind)
            elif s.kind == InputKind.CONSTANT_TENSOR:
                values[node] = Tensor(s.target, constants[s.target], "constant")
            else:
                values[node] = None
            continue
        if node.op == "output":
            outputs = node.args[0]
            continue
        if node.op == "get_attr":
            values[node] = None
            continue
        target = node.target
        val = node.meta.get("val")
        if target is operator.getitem:
            base = values[node.args[0]]
            if isinstance(base, Ref):
                values[node] = Ref(base.node, node.args[1])
            else:
                values[node] = base[node.args[1]] if isinstance(base, (list, tuple)) else base
            continue
        name = _op_name(target)
        if not isinstance(val, (torch.Tensor, list, tuple)) or name in _SHAPE_OPS:
            try:
                values[node] = _value(val, symbols)
            except Unsupported as err:
                values[node] = None
                problems.append(f"{node.name} ({name}): {err}")
            continue
        if node in groups:
            path, members = groups[node]
            values[node] = Ref(path.replace(".", "_") + "_call")
            if path in emitted:
                continue
            emitted.add(path)
            sub = module.get_submodule(_PREFIX + path)
            inside = set(members)
            outside = []
            for member in members:
                for a in flat((member.args, member.kwargs)):
                    if hasattr(a, "op") and a not in inside and isinstance(values.get(a), Ref) \
                            and values[a] not in outside:
                        outside.append(values[a])
            try:
                layer = _module_layer(sub)
                layer = replace(layer, name=layer.name or path, source=f"{path} ({type(sub).__name__})")
                owned = [Tensor(f"{path}.{n}", t, "parameter") for n, t in sub.named_parameters()] + \
                        [Tensor(f"{path}.{n}", t, "buffer") for n, t in sub.named_buffers()]
                add_node(values[node].node, layer, tuple(r.input for r in outside[:1] if outside), path, owned)
            except (Unsupported, ValueError, TypeError, KeyError) as err:
                problems.append(f"{path} ({type(sub).__name__}) in {model}: {err}")
            continue
        stack = list((node.meta.get("nn_module_stack") or {}).values())
        path, owner = (_strip(stack[-1][0]), stack[-1][1]) if stack else ("", None)
        row = _row(path, owner, node.name)
        try:
            sizes = known
            read = [a for a in flat((node.args, node.kwargs)) if hasattr(a, "op")]
            # beside a tensor whose dimension 0 is its own (a (T*HW, D) table), a (1, ...) one is not a batch
            own = any(isinstance(values.get(a), Ref) and values[a].node in unbatched
                      and getattr(a.meta.get("val"), "shape", (1,))[:1] != (1,) for a in read)
            for a in read:
                ref = values.get(a)
                if isinstance(ref, Ref) and ref.node in unbatched and ref not in rebatched and not own:
                    shape = getattr(a.meta.get("val"), "shape", ())
                    if len(shape) > 1 and shape[0] == 1:
                        again = fresh(f"{a.name}_batched")
                        sample = tuple(_bind(_value(d, symbols), sizes) for d in shape[1:])
                        graph_nodes.append(Node(again, L.Reshape(sample, name=row), (ref.input,), row=row))
                        rebatched[ref] = Ref(again)
                if isinstance(ref, Ref) and ref in rebatched:
                    values[a] = rebatched[ref]
            args = tuple(_bind(_arg(a, values, symbols), sizes) for a in node.args)
            kwargs = {k: _bind(_arg(v, values, symbols), sizes) for k, v in node.kwargs.items()}
            out = _out_shape(val, symbols)
        except Unsupported as err:
            problems.append(f"{node.name} ({name}) in {path or model}: {err}")
            values[node] = Ref(node.name)
            continue
        operands = [v for v in flat((args, kwargs)) if isinstance(v, (Ref, Tensor))]
        if name in _CREATORS:
            operands = []  # the tensor gives only its dtype and device
        if isinstance(val, torch.Tensor) and not any(isinstance(v, Ref) for v in operands) and (
                name not in ("aten.expand", "aten.unsqueeze", "aten.view", "aten.reshape")
                or not any(isinstance(v, Tensor) and v.kind == "parameter" for v in operands)):
            # computed from no input (a mask, positions, a table indexed from a parameter): a constant of the
            # graph; the parameters it reads are counted where they enter. A product torch counts (swin v2's
            # position-bias MLP on a constant table runs every forward) is also a row of its own, off the path.
            counted = None
            if name in _PRODUCTS:
                try:
                    counted = ATEN[name](Op(name, args, kwargs, out))
                except (Unsupported, ValueError, TypeError, KeyError):
                    counted = None
            if counted is not None:
                inputs = tuple(operand(v, row) for v in counted.inputs)
                add_node(fresh(node.name), replace(counted.layer, name=row, source=f"{path or model}: {name}"),
                         inputs, row, counted.owns)
            else:
                for v in operands:
                    if isinstance(v, Tensor) and v.kind == "parameter":
                        operand(v, _row(path, owner, node.name))
            values[node] = Tensor(node.name, None, "folded", tuple(out))
            if counted is None:
                folded.add(name)
            continue
        converter = _ATEN_REGISTERED.get(name) or ATEN.get(name)
        if converter is None:
            kind = owner.__name__ if isinstance(owner, type) else str(owner or "").rsplit(".", 1)[-1]
            problems.append(f"{name} (in {path or model}" + (f" ({kind})" if path and kind else "") + ")")
            values[node] = Ref(node.name)
            continue
        try:
            shift = int(any(isinstance(v, Ref) and v.node in unbatched for v in flat((args, kwargs)))
                        or name != "aten.expand" and _own_dims(operands))
            result = converter(Op(name, args, kwargs, out, shift))
            if result is SAME:
                values[node] = args[0] if isinstance(args[0], (Ref, Tensor)) else Ref(node.name)
                continue
            if isinstance(result, Layer):
                result = Uses(result, (args[0],))
            inputs = tuple(operand(v, row) for v in result.inputs)
            layer = result.layer
            if result.then is not None:
                first = fresh(node.name + "_moved")
                graph_nodes.append(Node(first, replace(layer, name=row, source=f"{path or model}: {name}"), inputs,
                                        row=row))
                inputs, layer = (first, *(operand(v, row) for v in result.with_)), result.then
            if isinstance(layer, Layer) and not layer.name:
                layer = replace(layer, name=row, source=f"{path or model}: {name}")
            used = layer.free_symbols if isinstance(layer, Layer) else set()
            dims = tuple(d for d in sizes.values() if d.symbol in used)
            add_node(node.name, layer, inputs, row, result.owns, dims)
            if (shift if result.unbatched is None else result.unbatched):
                unbatched.add(node.name)
            _known_sizes(known, node, val, symbols, node.name in unbatched)
        except (Unsupported, Exception) as err:  # noqa: BLE001  (a layer refusing its arguments)
            if not isinstance(err, (Unsupported, ValueError, TypeError, KeyError)) and \
                    not type(err).__module__.startswith("symcost"):
                raise
            problems.append(f"{node.name} ({name}) in {path or model}: {err}")
        values[node] = Ref(node.name)

    if problems:
        unknown = list(dict.fromkeys(p for p in problems if " (in " in p))
        others = [p for p in problems if " (in " not in p]
        parts = []
        if unknown:
            parts.append(f"{len(unknown)} operator{'s' * (len(unknown) > 1)} with no symcost formula: "
                         f"{', '.join(unknown)}")
        if others:
            parts.append(f"{len(others)} call{'s' * (len(others) > 1)} with no counterpart: {'; '.join(others[:8])}"
                         + (f" (and {len(others) - 8} more)" if len(others) > 8 else ""))
        raise UnsupportedModuleError(f"{model}: {'; '.join(parts)}. Map an operator with "
                                     "symcost.register_aten(name, converter)", tuple(problems))
    refs = [values.get(o) for o in flat(outputs) if o is not None and hasattr(o, "op")]
    out = next((r for r in refs if isinstance(r, Ref)), None)
    output = out.node if out is not None else input_name
    graph = Graph(graph_nodes, output=output, input=input_name)
    if folded:
        notes.append(f"computed from constants only (masks, positions), counted as constants: {', '.join(sorted(folded))}")
    return Captured(graph, set(first_use), final[0], tuple(notes))



def _ranges(ep: object, symbols: dict) -> list[str]:
    """The sizes the captured graph holds for, where torch's guards narrowed them (a Swin3d branch taken because
    each stage is at least one window): ``H >= 224: torch traced the branch the model takes there``."""
    def whole(value: object) -> int | None:
        try:
            n = int(value)
        except (TypeError, ValueError, AttributeError, OverflowError):
            return None
        return n if abs(n) < 2 ** 62 else None

    notes = []
    for s, wanted in symbols.items():
        bounds = getattr(ep, "range_constraints", {}).get(s)
        lower, upper = whole(getattr(bounds, "lower", None)) or 2, whole(getattr(bounds, "upper", None))
        if lower > 2 or upper is not None:
            span = f"{lower} <= {wanted} <= {upper}" if upper is not None else f"{wanted} >= {lower}"
            notes.append(f"{span}: the formulas hold there (torch traced the branch the model takes at those sizes)")
    return notes


def _row(path: str, owner: object, node_name: str) -> str:
    """A row's name: the torch module's path for a torch.nn layer, else that path and the node's name."""
    where = str(getattr(owner, "__module__", "") or owner or "")
    if path and "torch.nn.modules" in where:
        return path
    return f"{path}.{node_name}" if path else node_name


def _arg(a: object, values: dict, symbols: dict) -> object:
    import torch.fx

    if isinstance(a, torch.fx.Node):
        return values.get(a)
    if isinstance(a, (list, tuple)):
        return type(a)(_arg(x, values, symbols) for x in a)
    return _value(a, symbols)


def _out_shape(val: object, symbols: dict) -> object:
    import torch

    if isinstance(val, torch.Tensor):
        return tuple(_value(d, symbols) for d in val.shape)
    if isinstance(val, (list, tuple)):
        return [_out_shape(v, symbols) for v in val]
    return None


def _bind(value: object, sizes: dict) -> object:
    """``value`` with each size equal to an input's size written as that input's size."""
    if isinstance(value, (list, tuple)):
        return type(value)(_bind(v, sizes) for v in value)
    if isinstance(value, sympy.Expr) and not value.is_number and value in sizes:
        return sizes[value].symbol
    return value



def _module_layer(module: object) -> Layer:
    """A whole module's layer: registered with register_torch, or a built-in module kind."""
    from .pytorch import _REGISTERED

    for base in type(module).__mro__:
        if base in _REGISTERED:
            return _REGISTERED[base](module)
    for base in type(module).__mro__:
        if base.__name__ in _MODULES and base.__module__.startswith("torch.nn"):
            return _MODULES[base.__name__](module)
    raise Unsupported("no converter")


def _mha(m: object) -> Layer:
    return L.MultiheadAttention(m.embed_dim, m.num_heads, bias=m.in_proj_bias is not None,
                                add_bias_kv=m.bias_k is not None, add_zero_attn=m.add_zero_attn,
                                kdim=m.kdim, vdim=m.vdim, batch_first=m.batch_first)


def _recurrent(cls: type) -> Callable:
    def convert(m: object) -> Layer:
        extra = {"proj_size": m.proj_size} if cls is L.LSTM else {}
        return cls(m.input_size, m.hidden_size, num_layers=m.num_layers, bias=m.bias, batch_first=m.batch_first,
                   bidirectional=m.bidirectional, **extra)
    return convert


#: torch modules kept whole: their ATen calls move the batch (nn.MultiheadAttention works batch-second,
#: an LSTM is one fused aten.lstm).
_MODULES: dict[str, Callable] = {"MultiheadAttention": _mha, "LSTM": _recurrent(L.LSTM), "GRU": _recurrent(L.GRU)}


def _groups(module: object, nodes: list) -> dict:
    """Each ATen call inside a module kept whole -> (that module's path, every call inside it)."""
    from .pytorch import _REGISTERED

    kept: dict[str, list] = {}
    owner: dict = {}
    for node in nodes:
        if node.op != "call_function":
            continue
        for path, cls in (node.meta.get("nn_module_stack") or {}).values():
            cls = cls if isinstance(cls, type) else None
            if not path:
                continue
            if cls is None:
                try:
                    cls = type(module.get_submodule(path))
                except AttributeError:
                    continue
            if any(b in _REGISTERED for b in cls.__mro__) or any(
                    b.__name__ in _MODULES and b.__module__.startswith("torch.nn") for b in cls.__mro__):
                kept.setdefault(_strip(path), []).append(node)
                owner[node] = _strip(path)
                break
    return {node: (path, kept[path]) for node, path in owner.items()}


def _known_sizes(known: dict, node: object, val: object, symbols: dict, unbatched: bool) -> None:
    """Record the symbolic sizes of a node's output as :class:`Dim` s: a later reshape or resize to that size
    (``F.interpolate(x, size=skip.shape[-2:])``) is written as that node's size, whatever form torch and
    symcost each give it."""
    import torch

    from ..networks.graph import Dim

    if not isinstance(val, torch.Tensor):
        return
    for axis, size in enumerate(val.shape):
        if (axis == 0 and not unbatched) or not isinstance(size, torch.SymInt):
            continue
        try:
            expr = translate(size.node.expr, symbols)
        except Unsupported:
            continue
        if expr.is_number or isinstance(expr, sympy.Symbol) or expr in known:
            continue
        known[expr] = Dim(sympy.Dummy(f"{node.name}_size{axis}", integer=True, positive=True), node.name,
                          axis + unbatched)
