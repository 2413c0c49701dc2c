"""from_torch: a torch.nn.Module as a symcost network, its cost a formula in the input size.

torch is optional (the ``torch`` extra) and imported inside the functions
that use it: ``import symcost`` never imports torch.

How a model is read (:func:`from_torch` tries the routes in this order; with
an ``input_shape``, ``torch.export`` comes between 1 and 2, see
:mod:`symcost.frontends.torch_export`):

1. ``torch.fx`` traces the model symbolically, without running it. Modules
   that :func:`converters` maps, or that :func:`register_torch` registered,
   are kept whole; other torch.nn modules are kept whole and reported;
   your own modules are traced through. Sizes read from tensors
   (``x.size(2)``, ``x.shape[-2:]``) stay symbols of the graph, so a pad to
   a skip connection's size is right on any input. A symbolic result is
   analyzed with every size rule proven (a ``torch._assert`` on a size, a
   linear layer sized for one input size, are refused, never a formula).
2. When fx cannot trace the model (control flow that depends on the data,
   ``int(x.size(2))``...), one forward pass on ``torch.zeros(1, *input_shape)``
   is recorded instead: a ``TorchFunctionMode`` sees the functions, forward
   hooks see the whole modules (what they call inside is not counted again),
   and tensor identities give the dataflow. Its limits: branches, loop counts
   and every size the code computed (a pad, a reshape) are those of that one
   pass, so analyze the result at that input size; only the operations the
   output depends on are kept (``if x.sum() > 0`` costs nothing); and
   ``x + y`` is seen as ``x.add(y)`` (origin ``"method"``).

Every call becomes a :class:`~symcost.networks.graph.Node`. Module calls are rows
named as torch names the module (``layer1.0.conv1``), other calls by fx's
node name (``add``, ``add_1``, ``flatten``). Each layer records how it was
called in ``origin``: ``"module"``, ``"function"`` (``torch.*``, ``F.*``),
``"method"`` (``x.relu()``) or ``"operator"`` (``x + y``). Anything with no
symcost counterpart is listed in one :class:`~symcost.core.errors.UnsupportedModuleError`,
never counted as zero.

Parameters and buffers are counted once per tensor, as
``sum(p.numel() for p in module.parameters())`` counts them. A module called
twice is two rows, its operations costed at each call, its tensors counted
at the first (the later rows are ``shared`` with it); a weight tied to
another layer's is counted at the first layer that uses it. Tensors that no
row uses (an auxiliary head the forward skips) are counted too, and listed
apart in the report's ``unused_params``.

The model is read in eval mode (``train=True``: in training mode, through
its ``if self.training:`` branches); its own mode is restored afterwards.

The examples need torch, so doctests skip them::

    >>> import torch, torchvision                                   # doctest: +SKIP
    >>> import symcost as sc
    >>> from symcost.symbols import H, W
    >>> rep = sc.from_torch(torchvision.models.resnet50()).analyze(sc.Shape(3, H, W))  # doctest: +SKIP
    >>> sc.evaluate(rep.total.macs, H=224, W=224)                   # doctest: +SKIP
    4089184256

Your own module's formulas: a converter takes the module and returns a
symcost layer or network, used wherever the module is called::

    >>> class Proj(torch.nn.Module):                                # doctest: +SKIP
    ...     def __init__(self, d):
    ...         super().__init__()
    ...         self.weight = torch.nn.Parameter(torch.zeros(d, d))
    ...     def forward(self, x):
    ...         return x @ self.weight
    >>> sc.register_torch(Proj, lambda module: sc.Linear(module.weight.shape[1], bias=False))  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction

import sympy

from .. import layers as L
from ..networks.containers import Model
from ..core.arguments import strict
from ..core.canonical import floor_div, mod
from ..core.errors import (ArgumentTypeError, InvalidArgumentError, ShapeError, SymcostError,
                           UnsupportedModuleError)
from ..core.counts import Params
from ..networks.graph import Dim, Graph, Node, Tied
from ..networks.report import UnusedParams
from ..layers.base import Layer
from .nesting import flat
from ..networks.base import Network
from ..core.shape import Shape

#: Converters registered with :func:`register_torch`, by module type.
_REGISTERED: dict[type, Callable] = {}
#: The built-in table, built by :func:`converters` on first use (it imports torch).
_TABLE: dict[object, Callable] = {}


def register_torch(module_type: type, converter: Callable | None = None) -> Callable:
    """Convert every ``module_type`` (and subclass) module with ``converter(module)``.

    The converter returns a symcost layer or network; it wins over the
    built-in table. Without ``converter`` this is a decorator (torch needed)::

        >>> import symcost as sc
        >>> @sc.register_torch(QKV)                                    # doctest: +SKIP
        ... def _(module):
        ...     return sc.Linear(3 * module.dim, bias=False)
    """
    if not isinstance(module_type, type):
        raise ArgumentTypeError(f"register_torch: module_type must be a torch.nn.Module class, got {module_type!r}")
    if converter is None:
        return lambda fn: register_torch(module_type, fn)
    if not callable(converter):
        raise ArgumentTypeError(f"register_torch: converter must be callable, got {converter!r}")
    _REGISTERED[module_type] = converter
    return converter


#: How :func:`from_torch` may read a model (its ``capture`` argument).
CAPTURES = ("auto", "fx", "export")


def from_torch(module: object, input_shape: object = None, *, dtype: object = None, name: str | None = None,
               train: bool = False, capture: str = "auto") -> Model:
    """``module`` as a symcost :class:`~symcost.networks.containers.Model` (see the module docstring).

    ``input_shape`` is one sample, numeric or symbolic in any entry (``(3, H, W)``, ``(3, T, H, W)``,
    ``(L,)`` with ``dtype=torch.long`` for token ids), or a list of shapes for several inputs. ``capture``
    says how the model is read:

    - ``"auto"`` (the default): torch.fx first, when it reads the whole model (one input of a float dtype,
      every module and function mapped) and every size the graph relies on holds for any input size (plain
      CNNs: fast, as it never runs the model); else ``torch.export``
      (:mod:`symcost.frontends.torch_export`: any model torch can export, sizes its code fixes kept fixed);
      else, for a numeric ``input_shape``, torch.fx or one recorded forward pass, the model's ``notes``
      saying why.
    - ``"fx"``: torch.fx only (with a numeric ``input_shape`` fx cannot trace: one recorded forward pass).
    - ``"export"``: torch.export only.

    Both readers give the same counts where both work. Without ``input_shape``, torch.fx reads the model.
    The returned model's ``capture`` says which reader read it: ``"fx"``, ``"export"`` or ``"forward"``.
    The model is read in eval mode, or in training mode with ``train=True``; either way its own mode is
    restored::

        >>> import symcost as sc
        >>> net = sc.from_torch(model_with_data_dependent_branches, (3, 224, 224))  # doctest: +SKIP
        >>> net.analyze().total.macs                                   # doctest: +SKIP
    """
    import torch

    if not isinstance(module, torch.nn.Module):
        raise ArgumentTypeError(f"from_torch: module must be a torch.nn.Module, got {type(module).__name__}")
    if not isinstance(train, bool):
        raise ArgumentTypeError(f"from_torch: train must be True or False, got {train!r}")
    if dtype is not None and not isinstance(dtype, torch.dtype):
        raise ArgumentTypeError(f"from_torch: dtype must be a torch dtype (torch.long, torch.float), got {dtype!r}")
    if not isinstance(capture, str) or capture not in CAPTURES:
        raise InvalidArgumentError("from_torch", "capture", f"must be one of {', '.join(map(repr, CAPTURES))}",
                                   capture)
    shapes = _shapes(input_shape)
    if capture == "export" and not shapes:
        raise InvalidArgumentError("from_torch", "input_shape", "is needed with capture='export'", input_shape)
    if capture == "fx" and len(shapes) > 1:
        raise InvalidArgumentError("from_torch", "input_shape", "must be one shape with capture='fx' (torch.fx "
                                   "reads one input; capture='export' reads several)", input_shape)
    model = name or type(module).__name__
    modes = {m: m.training for m in module.modules()}
    try:
        module.train(train)
        return _converted(module, shapes, dtype, model, capture)
    finally:
        for m, training in modes.items():
            m.training = training


def _converted(module: object, shapes: list[Shape], dtype: object, model: str, capture: str) -> Model:
    """from_torch's routes, in order (see its docstring)."""
    import torch

    shape = shapes[0] if shapes else None
    if not shapes or capture == "fx":
        return _fx_model(module, shape, model, record=True)
    fx_error = None
    if capture == "auto" and len(shapes) == 1 and (dtype is None or dtype.is_floating_point):
        try:
            return _fx_model(module, shape, model, record=False)
        except SymcostError as err:
            fx_error = err
    from . import torch_export

    try:
        captured = torch_export.capture(module, shapes, [dtype or torch.float32] * len(shapes), model)
    except torch_export.ExportFailed as err:
        if capture == "export" or len(shapes) > 1:
            raise UnsupportedModuleError(f"{model}: torch.export cannot capture it ({err})") from None
        export_error = err
    else:
        net = Model(captured.graph, name=model, input_shape=captured.input_shape,
                    unused_params=_unused(module, captured.used), notes=captured.notes, capture="export")
        _sizes_proven(net, "torch.export")
        return net
    if fx_error is None or isinstance(fx_error, _Untraceable) and not shape.free_symbols:
        try:  # fx, not tried yet; or one forward pass at this numeric size
            net = _fx_model(module, shape, model, record=True)
        except SymcostError as err:
            fx_error = err
        else:
            how = "torch.fx" if net.capture == "fx" else "one forward pass at this size"
            return replace(net, notes=(f"torch.export cannot capture it ({export_error}); read by {how}",))
    raise UnsupportedModuleError(f"{model}: torch.export cannot capture it ({export_error}); and torch.fx: "
                                 f"{str(fx_error).removeprefix(model + ': ')}",
                                 getattr(fx_error, "unsupported", ())) from None


def _fx_model(module: object, shape: Shape | None, model: str, *, record: bool) -> Model:
    """The model read by torch.fx (or, with ``record``, one forward pass where fx cannot trace it), its
    sizes proven (:func:`_sizes_proven`)."""
    graph, used, how = _read(module, shape, model, record=record)
    net = Model(graph, name=model, input_shape=shape, unused_params=_unused(module, used), capture=how)
    if how == "fx":
        _sizes_proven(net, "torch.fx")
    return net


def _sizes_proven(net: Model, reader: str) -> None:
    """Refuse a graph whose sizes agree at some input sizes only: analyzed with every size rule proven
    (:func:`~symcost.core.arguments.strict`), a linear layer sized for one input size after a flatten of the
    whole map fails, where torch would fail at any other size. (The leaf costs are cached: the caller's
    ``analyze()`` reuses them.)"""
    if net.input_shape is None or not net.input_shape.free_symbols:
        return
    try:
        with strict():
            net.analyze()
    except SymcostError as err:
        net.analyze()  # an error at every size is raised as it is
        raise UnsupportedModuleError(f"{net.name}: {reader} reads sizes that agree at some input sizes only "
                                     f"({_first_line(err)}); give those sizes in numbers") from None


def _shapes(input_shape: object) -> list[Shape]:
    """One shape, or a list of shapes (several inputs), as Shapes."""
    if input_shape is None:
        return []
    if isinstance(input_shape, Shape):
        return [input_shape]
    if isinstance(input_shape, list) and input_shape and all(isinstance(s, (tuple, list, Shape)) for s in input_shape):
        return [s if isinstance(s, Shape) else Shape(*s) for s in input_shape]
    if isinstance(input_shape, (tuple, list)):
        return [Shape(*input_shape)]
    raise ArgumentTypeError(f"from_torch: input_shape must be a shape such as (3, H, W) or a list of shapes, "
                            f"got {input_shape!r}")


class _Untraceable(UnsupportedModuleError):
    """torch.fx cannot trace the model (a data-dependent branch...)."""


def _read(module: object, shape: Shape | None, model: str, *, record: bool = True) -> tuple[Graph, set[int], str]:
    """The graph of ``module`` (whole, traced by fx, or, with ``record``, recorded), the ids of the tensors its
    nodes use, and how it was read (``"fx"`` or ``"forward"``)."""
    if _is_leaf(module):  # fx would trace its forward: keep it whole
        return (*_whole(module, model), "fx")
    try:
        traced = _trace(module)
    except Exception as err:  # noqa: BLE001  (fx raises many kinds: TraceError, TypeError, RuntimeError...)
        if not record or shape is None or shape.free_symbols:
            hint = "" if not record else "; give a numeric input_shape to read it from one forward pass at that size"
            raise _Untraceable(f"{model}: torch.fx cannot trace it ({type(err).__name__}: {_first_line(err)}){hint}"
                               ) from None
        return (*_recorded(module, shape, model), "forward")
    return (*_from_fx(module, traced, model), "fx")


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [""])[0]


# ---------------------------------------------------------------------------
# What converters see and return
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class TensorRef:
    """A tensor of the graph: its input or a node's output, by node name."""

    name: str


@dataclass(frozen=True)
class _Sizes:
    """``x.size()`` or ``x.shape`` of a graph tensor; its entries become symbols when read."""

    tensor: str


@dataclass(frozen=True)
class _Opaque:
    """A value that is neither a graph tensor nor a number: a parameter, a constant tensor, a dtype."""

    what: str


#: A converter's answer for calls that pass their input through untouched (``x.contiguous()``): no row.
SAME = object()


class Unsupported(Exception):
    """Raised by a converter: the call has no symcost counterpart, for the reason given."""


@dataclass(frozen=True)
class Call:
    """One call as a converter sees it: the module (for a module call), the arguments, graph tensors as
    :class:`TensorRef`, sizes read from tensors as SymPy symbols."""

    module: object
    args: tuple
    kwargs: dict = field(default_factory=dict)

    @property
    def tensors(self) -> list[TensorRef]:
        """The graph tensors among the arguments, in order: the node's inputs."""
        return [v for v in flat((self.args, self.kwargs)) if isinstance(v, TensorRef)]

    def bind(self, *required: str, **optional: object) -> dict:
        """The arguments by name, for a signature ``(required..., optional=default...)``."""
        names = [*required, *optional]
        if len(self.args) > len(names):
            raise Unsupported(f"takes at most {len(names)} arguments, got {len(self.args)}")
        values = dict(zip(names, self.args))
        for key, value in self.kwargs.items():
            if key not in names:
                raise Unsupported(f"has no counterpart for the argument {key}={value!r}")
            values[key] = value
        missing = [n for n in required if n not in values]
        if missing:
            raise Unsupported(f"misses the argument {missing[0]}")
        return {**optional, **values}



def _exact(value: object) -> object:
    """A torch number as an exact one: ``2.0`` is 2, ``0.1`` is 1/10 (the shortest decimal that reads back)."""
    if isinstance(value, float) and math.isfinite(value):
        return int(value) if value.is_integer() else Fraction(repr(value))
    if isinstance(value, (tuple, list)):
        return tuple(_exact(v) for v in value)
    return value


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, Fraction, sympy.Expr)) and not isinstance(value, bool)


# ---------------------------------------------------------------------------
# Converters: one body per kind, fed by a module's attributes or a call's arguments
# ---------------------------------------------------------------------------
def _plain(cls: type) -> Callable:
    """A layer with no argument that counts (``inplace`` changes nothing)."""
    return lambda call: cls()


def _conv(cls: type) -> Callable:
    """nn.Conv1d/2d/3d to ``cls``."""
    def convert(call: Call) -> Layer:
        m = call.module
        return cls(m.out_channels, m.kernel_size, stride=m.stride, padding=m.padding, dilation=m.dilation,
                   groups=m.groups, bias=m.bias is not None)
    return convert


def _conv_transpose(cls: type) -> Callable:
    """nn.ConvTranspose1d/2d/3d to ``cls``."""
    def convert(call: Call) -> Layer:
        m = call.module
        if len(call.args) > 1 or call.kwargs:
            raise Unsupported("is called with output_size")
        return cls(m.out_channels, m.kernel_size, stride=m.stride, padding=m.padding,
                   output_padding=m.output_padding, groups=m.groups, bias=m.bias is not None, dilation=m.dilation)
    return convert


def _linear(call: Call) -> Layer:
    m = call.module
    return L.Linear(m.out_features, bias=m.bias is not None, in_features=m.in_features)


def _batchnorm(cls: type) -> Callable:
    def convert(call: Call) -> Layer:
        m = call.module
        return cls(m.num_features, affine=m.affine, track_running_stats=m.track_running_stats)
    return convert


def _max_pool(cls: type) -> Callable:
    def body(kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False) -> Layer:
        if return_indices:
            raise Unsupported("also returns indices")
        return cls(kernel_size, stride=stride or None, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    return body


def _avg_pool(cls: type) -> Callable:
    def body(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
             divisor_override=None) -> Layer:
        extra = {} if cls is L.AvgPool1d else {"divisor_override": divisor_override}  # torch's 1-D has none
        return cls(kernel_size, stride=stride or None, padding=padding, ceil_mode=ceil_mode,
                   count_include_pad=count_include_pad, **extra)
    return body


def _upsample(size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
              antialias=False) -> Layer:
    if antialias:
        raise Unsupported("antialias=True has no counterpart")
    return L.Upsample(size=size, scale_factor=_exact(scale_factor), mode=mode, align_corners=align_corners)


def _adaptive_max_pool(cls: type) -> Callable:
    def body(output_size, return_indices=False) -> Layer:
        if return_indices:
            raise Unsupported("also returns indices")
        return cls(output_size)
    return body


def _pad2d(mode: str) -> Callable:
    return lambda call: L.Pad2d(tuple(call.module.padding), mode=mode)


def _hardtanh(min_val=-1.0, max_val=1.0, inplace=False) -> Layer:
    if (min_val, max_val) != (0, 6):
        raise Unsupported(f"hardtanh({min_val}, {max_val}) has no counterpart; only (0, 6), ReLU6, does")
    return L.ReLU6()


def _function(body: Callable, *required: str, **optional: object) -> Callable:
    """A converter for a function or method: its arguments bound by name, the input tensor dropped."""
    def convert(call: Call) -> object:
        values = call.bind("input", *required, **optional)
        values.pop("input")
        return body(**values)

    return convert


def _module(body: Callable, *attributes: str) -> Callable:
    """A converter for a module: ``body`` fed the module's attributes of the same names."""
    return lambda call: body(**{a: getattr(call.module, a) for a in attributes})


def _operands(call: Call) -> tuple[object, object]:
    values = call.bind("input", "other", alpha=1, rounding_mode=None, out=None)
    if values["alpha"] != 1 or values["rounding_mode"] is not None or values["out"] is not None:
        raise Unsupported("has an alpha, rounding_mode or out argument")
    return values["input"], values["other"]


def _add(call: Call) -> Layer:
    a, b = _operands(call)
    if isinstance(a, TensorRef) and isinstance(b, TensorRef):
        return L.Add()
    raise Unsupported(f"adds {_describe(b if isinstance(a, TensorRef) else a)} to a tensor; "
                      "symcost's Add sums tensors of the graph")


def _mul(call: Call) -> Layer:
    a, b = _operands(call)
    if isinstance(a, TensorRef) and isinstance(b, TensorRef):
        return L.Mul()
    factor = b if isinstance(a, TensorRef) else a
    if _is_number(factor):
        return L.Scale(_exact(factor))
    raise Unsupported(f"multiplies a tensor by {_describe(factor)}")


def _div(call: Call) -> Layer:
    a, b = _operands(call)
    if isinstance(a, TensorRef) and _is_number(b):
        return L.Scale(_exact(b), divide=True)
    raise Unsupported(f"divides {_describe(a)} by {_describe(b)}; only a division by a constant has a counterpart")


def _describe(value: object) -> str:
    if isinstance(value, TensorRef):
        return "a tensor"
    if isinstance(value, _Opaque):
        return value.what
    return repr(value)


def _flatten(start_dim=0, end_dim=-1) -> Layer:
    if start_dim == 0:  # the batch is 1: flattening it with the rest leaves the same sample
        if end_dim != -1:
            raise Unsupported("flattens the batch dimension into some others")
        start_dim = 1
    return L.Flatten(start_dim, end_dim)


def _reshape(call: Call) -> Layer:
    """``x.view(x.size(0), -1)`` and the like: a reshape to (batch, -1) is a flatten, to (batch, n) a reshape
    that checks the input holds n elements (``x.view(x.size(0), 400)`` holds at one input size only)."""
    sizes = list(call.args[1:]) or list(call.kwargs.get("shape", call.kwargs.get("size", ())))
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = list(sizes[0])
    if len(sizes) == 2 and sizes[0] == 1:
        return L.Flatten() if sizes[1] == -1 else L.Reshape((sizes[1],))
    raise Unsupported(f"reshapes to {tuple(sizes)}; only (batch, n), a flatten, has a counterpart")


def _mean(dim=None, keepdim=False, dtype=None, out=None) -> Layer:
    if dim is None:
        raise Unsupported("averages the batch dimension too (no dim)")
    return L.Mean(tuple(dim) if isinstance(dim, (tuple, list)) else dim, keepdim=keepdim)


def _cat(call: Call) -> Layer:
    values = call.bind("tensors", dim=0, axis=None)
    dim = values["dim"] if values["axis"] is None else values["axis"]
    if not all(isinstance(t, TensorRef) for t in values["tensors"]):
        raise Unsupported("joins a tensor that is not computed from the input")
    return L.Cat(dim)


def _pad(pad, mode="constant", value=None) -> Layer:
    pad = list(pad)
    if len(pad) == 2:
        pad += [0, 0]
    if len(pad) != 4:
        raise Unsupported(f"pads {len(pad) // 2} dimensions; only the last two have a counterpart")
    return L.Pad2d(tuple(pad), mode=mode)


def _same(call: Call) -> object:
    return SAME


def _stochastic_depth(p, mode, training=True) -> object:
    """torchvision's stochastic depth: the input itself in eval mode."""
    if not training or p == 0:
        return SAME
    raise Unsupported("drops samples or rows at random in training mode")


def converters() -> dict[object, Callable]:
    """The one table from torch modules, functions, methods and operators to converters.

    Keys are module classes (a subclass that keeps its base's ``forward`` uses its base's entry), functions
    and operators, ``"Tensor.<method>"`` strings, and the qualified names of other packages' functions
    (``"torchvision.ops.stochastic_depth.stochastic_depth"``). A converter takes a :class:`Call` and
    returns a symcost layer or network, or :data:`SAME` for a call that
    passes its input through; it raises :class:`Unsupported` with a reason.
    """
    if _TABLE:
        return _TABLE
    import torch
    import torch.nn.functional as F
    from torch import nn

    relu, relu6, sigmoid, tanh = _plain(L.ReLU), _plain(L.ReLU6), _plain(L.Sigmoid), _plain(L.Tanh)
    leaky = _function(lambda negative_slope, inplace: L.LeakyReLU(negative_slope), negative_slope=0.01,
                      inplace=False)
    for nd in (1, 2, 3):
        max_pool, avg_pool = _max_pool(getattr(L, f"MaxPool{nd}d")), _avg_pool(getattr(L, f"AvgPool{nd}d"))
        adaptive_avg = getattr(L, f"AdaptiveAvgPool{nd}d")
        adaptive_max = _adaptive_max_pool(getattr(L, f"AdaptiveMaxPool{nd}d"))
        avg_attributes = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                          *(("divisor_override",) if nd > 1 else ()))
        _TABLE.update({
            getattr(nn, f"Conv{nd}d"): _conv(getattr(L, f"Conv{nd}d")),
            getattr(nn, f"ConvTranspose{nd}d"): _conv_transpose(getattr(L, f"ConvTranspose{nd}d")),
            getattr(nn, f"BatchNorm{nd}d"): _batchnorm(getattr(L, f"BatchNorm{nd}d")),
            getattr(nn, f"MaxPool{nd}d"): _module(max_pool, "kernel_size", "stride", "padding", "dilation",
                                                  "ceil_mode", "return_indices"),
            getattr(nn, f"AvgPool{nd}d"): _module(avg_pool, *avg_attributes),
            getattr(nn, f"AdaptiveAvgPool{nd}d"): _module(adaptive_avg, "output_size"),
            getattr(nn, f"AdaptiveMaxPool{nd}d"): _module(adaptive_max, "output_size", "return_indices"),
            getattr(F, f"max_pool{nd}d"): _function(max_pool, "kernel_size", stride=None, padding=0, dilation=1,
                                                    ceil_mode=False, return_indices=False),
            getattr(F, f"avg_pool{nd}d"): _function(avg_pool, "kernel_size", stride=None, padding=0,
                                                    ceil_mode=False, count_include_pad=True,
                                                    **({"divisor_override": None} if nd > 1 else {})),
            getattr(F, f"adaptive_avg_pool{nd}d"): _function(adaptive_avg, "output_size"),
            getattr(F, f"adaptive_max_pool{nd}d"): _function(adaptive_max, "output_size", return_indices=False),
        })
    flatten = _function(_flatten, start_dim=0, end_dim=-1)
    method_flatten = _function(_flatten, start_dim=0, end_dim=-1)
    mean = _function(_mean, dim=None, keepdim=False, dtype=None, out=None)
    # dropout in eval mode passes its input through: no row (nothing runs, no tensor is made), as torch.export
    # reads it
    dropout = _function(lambda p, training, inplace: L.Dropout(p) if training else SAME, p=0.5, training=True,
                        inplace=False)
    dropout_module = lambda call: L.Dropout(call.module.p) if call.module.training else SAME  # noqa: E731
    upsample = _module(_upsample, "size", "scale_factor", "mode", "align_corners")
    _TABLE.update({
        # modules
        nn.Linear: _linear,
        nn.ReLU: relu, nn.ReLU6: relu6, nn.Sigmoid: sigmoid, nn.Tanh: tanh,
        nn.LeakyReLU: lambda call: L.LeakyReLU(call.module.negative_slope),
        nn.GELU: lambda call: L.GELU(approximate=call.module.approximate),
        nn.SiLU: _plain(L.SiLU), nn.Hardswish: _plain(L.Hardswish), nn.Hardsigmoid: _plain(L.Hardsigmoid),
        nn.Hardtanh: _module(_hardtanh, "min_val", "max_val"),
        nn.Upsample: upsample, nn.UpsamplingNearest2d: upsample, nn.UpsamplingBilinear2d: upsample,
        nn.Flatten: lambda call: L.Flatten(call.module.start_dim, call.module.end_dim),
        nn.Dropout: dropout_module, nn.Dropout2d: dropout_module,
        nn.Identity: _plain(L.Identity),
        nn.ZeroPad2d: _pad2d("constant"), nn.ConstantPad2d: _pad2d("constant"),
        nn.ReflectionPad2d: _pad2d("reflect"), nn.ReplicationPad2d: _pad2d("replicate"),
        nn.CircularPad2d: _pad2d("circular"),
        # functions
        F.relu: relu, F.relu_: relu, torch.relu: relu, torch.relu_: relu,
        F.relu6: relu6, F.hardtanh: _function(_hardtanh, min_val=-1.0, max_val=1.0, inplace=False),
        F.leaky_relu: leaky, F.leaky_relu_: leaky,
        torch.sigmoid: sigmoid, F.sigmoid: sigmoid, torch.tanh: tanh, F.tanh: tanh,
        F.gelu: _function(lambda approximate: L.GELU(approximate=approximate), approximate="none"),
        F.silu: _plain(L.SiLU), F.hardswish: _plain(L.Hardswish), F.hardsigmoid: _plain(L.Hardsigmoid),
        F.interpolate: _function(_upsample, size=None, scale_factor=None, mode="nearest", align_corners=None,
                                 recompute_scale_factor=None, antialias=False),
        F.dropout: dropout,
        F.pad: _function(_pad, "pad", mode="constant", value=None),
        torch.flatten: flatten, torch.reshape: _reshape, torch.mean: mean,
        torch.cat: _cat, torch.concat: _cat, torch.concatenate: _cat,
        torch.add: _add, torch.mul: _mul, torch.div: _div,
        # operators
        operator.add: _add, operator.iadd: _add, operator.mul: _mul, operator.imul: _mul,
        operator.truediv: _div, operator.itruediv: _div,
        # methods
        "Tensor.relu": relu, "Tensor.relu_": relu, "Tensor.sigmoid": sigmoid, "Tensor.sigmoid_": sigmoid,
        "Tensor.tanh": tanh, "Tensor.tanh_": tanh,
        "Tensor.add": _add, "Tensor.add_": _add, "Tensor.mul": _mul, "Tensor.mul_": _mul,
        "Tensor.div": _div, "Tensor.div_": _div,
        "Tensor.mean": mean, "Tensor.flatten": method_flatten,
        "Tensor.view": _reshape, "Tensor.reshape": _reshape,
        "Tensor.contiguous": _same, "Tensor.clone": _same, "Tensor.detach": _same, "Tensor.to": _same,
        "Tensor.float": _same,
        # functions of other packages, by qualified name (their package is not imported here)
        "torchvision.ops.stochastic_depth.stochastic_depth": _function(_stochastic_depth, "p", "mode", training=True),
    })
    return _TABLE


def _module_converter(cls: type) -> Callable | None:
    """A registered converter (by class or base class), else the table's, for module class ``cls`` or for the
    torch module class it extends without changing ``forward`` (torchvision's ``Conv3DSimple``)."""
    for base in cls.__mro__:
        if base in _REGISTERED:
            user = _REGISTERED[base]
            return lambda call: user(call.module)
    table = converters()
    return next((table[base] for base in cls.__mro__ if base in table and _computes_as(cls, base)), None)


def _computes_as(cls: type, base: type) -> bool:
    """``cls`` (a subclass of ``base``) overrides none of the methods ``base`` and its torch bases define
    (``forward``, ``_conv_forward``...), ``__init__`` aside: it computes as ``base`` does."""
    import torch

    return all(getattr(cls, name) is getattr(base, name) for klass in base.__mro__
               if issubclass(klass, torch.nn.Module) and klass is not torch.nn.Module
               for name, value in vars(klass).items() if callable(value) and name != "__init__")


def _is_leaf(module: object) -> bool:
    """Kept whole: a module with a converter, or any torch.nn module but the containers (fx's rule)."""
    import torch

    if _module_converter(type(module)) is not None:
        return True
    where = type(module).__module__
    return where.startswith(("torch.nn", "torch.ao.nn")) and not isinstance(
        module, (torch.nn.Sequential, torch.nn.ModuleList, torch.nn.ModuleDict))


# ---------------------------------------------------------------------------
# Building the graph
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Tensor:
    """A parameter or buffer of a called module: its identity, its name in the module, its size."""

    key: int
    name: str
    numel: int
    buffer: bool


def _tensors(module: object) -> tuple[_Tensor, ...]:
    """Every parameter and buffer ``module`` holds (its submodules' too), each once."""
    if module is None:
        return ()
    params = [_Tensor(id(t), n.rsplit(".", 1)[-1], t.numel(), False) for n, t in module.named_parameters()]
    return (*params, *(_Tensor(id(t), n.rsplit(".", 1)[-1], t.numel(), True) for n, t in module.named_buffers()))


def _counted(tensors: list[_Tensor]) -> Params:
    """``tensors`` as symcost counts them: weights, biases and buffers by name."""
    buffers: dict[str, int] = {}
    for t in tensors:
        if t.buffer:
            buffers[t.name] = buffers.get(t.name, 0) + t.numel
    return Params(weight=sum(t.numel for t in tensors if not t.buffer and t.name != "bias"),
                  bias=sum(t.numel for t in tensors if not t.buffer and t.name == "bias"),
                  buffers=tuple(buffers.items()))


def _unused(module: object, used: set[int]) -> tuple[UnusedParams, ...]:
    """The parameters and buffers of ``module`` no node uses, by the largest module holding only such tensors."""
    tensors = [(n, t, False) for n, t in module.named_parameters()] + [(n, t, True) for n, t in module.named_buffers()]
    unused = [(n, t, b) for n, t, b in tensors if id(t) not in used]
    if not unused:
        return ()
    idle = set()
    for path, m in module.named_modules():
        held = [*m.parameters(), *m.buffers()]
        if path and held and all(id(t) not in used for t in held):
            idle.add(path)
    groups: dict[str, list[int]] = {}
    for n, t, b in unused:
        parts = n.split(".")
        owner = next((p for p in (".".join(parts[:i]) for i in range(1, len(parts))) if p in idle), n)
        counts = groups.setdefault(owner, [0, 0])
        counts[b] += t.numel()
    return tuple(UnusedParams(owner, params, buffers) for owner, (params, buffers) in groups.items())


@dataclass(frozen=True)
class _Entry:
    """A node in the making; ``problem`` says why it has no counterpart; ``tensors`` are its module's."""

    name: str
    row: str
    op: object
    inputs: tuple[str, ...]
    dims: tuple[Dim, ...] = ()
    problem: str | None = None
    tensors: tuple[_Tensor, ...] = ()


class _Builder:
    """Collects nodes and problems while a model is read; sizes read from tensors become symbols."""

    def __init__(self, model: str, input_name: str):
        self.model = model
        self.input = input_name
        self.entries: list[_Entry] = []
        self.dims: dict[tuple[str, int], Dim] = {}
        self.failed: set[str] = set()  # nodes with a problem

    def size(self, tensor: str, axis: object) -> object:
        """Axis ``axis`` (torch numbering) of a graph tensor: 1 for the batch, else a symbol of the graph."""
        if not isinstance(axis, int) or isinstance(axis, bool):
            return _Opaque(f"the size of {tensor} along {axis!r}")
        if axis == 0:
            return sympy.Integer(1)
        if (tensor, axis) not in self.dims:
            symbol = sympy.Dummy(f"{tensor}_size{axis}", integer=True, positive=True)
            self.dims[tensor, axis] = Dim(symbol, tensor, axis)
        return self.dims[tensor, axis].symbol

    def apply(self, converter: Callable | None, call: Call, *, name: str, row: str, origin: str, source: str,
              what: str) -> object:
        """The value of one call: a new node's output, its input passed through, or a problem noted."""
        inputs = tuple(t.name for t in call.tensors)
        if converter is None:
            return self.problem(name, row, inputs, what)
        try:
            result = converter(call)
        except (Unsupported, SymcostError) as err:
            return self.problem(name, row, inputs, f"{what}: {err}")
        if result is SAME and inputs:
            return call.tensors[0]
        if not isinstance(result, (Layer, Network)):
            return self.problem(name, row, inputs, f"{what}: the converter returned {type(result).__name__}, "
                                                   "not a symcost layer or network")
        if not inputs:
            return self.problem(name, row, inputs, f"{what}: it reads no tensor computed from the input")
        if isinstance(result, Network) and len(inputs) != 1:
            return self.problem(name, row, inputs, f"{what}: the converter returned a network, which takes one "
                                                   f"input, for a call on {len(inputs)} tensors")
        op = _placed(result, row, source, origin)
        symbols = op.free_symbols if isinstance(op, Layer) else set()
        dims = tuple(d for d in self.dims.values() if d.symbol in symbols)
        self.entries.append(_Entry(name, row, op, inputs, dims, tensors=_tensors(call.module)))
        return TensorRef(name)

    def problem(self, name: str, row: str, inputs: tuple[str, ...], what: str) -> TensorRef:
        self.entries.append(_Entry(name, row, None, inputs, problem=what))
        self.failed.add(name)
        return TensorRef(name)

    def graph(self, output: object, *, prune: bool) -> tuple[Graph, set[int]]:
        """The graph and the ids of the tensors its nodes use, or one error listing every problem (with
        ``prune``, only those the output needs). A node using tensors an earlier one used is tied to it."""
        live = self._needed(output) if prune else {e.name for e in self.entries}
        problems = [e.problem for e in self.entries if e.problem and e.name in live]
        if not isinstance(output, TensorRef):
            returned = f"{len(output)} values" if isinstance(output, (tuple, list, dict)) else _describe(output)
            problems.append(f"output: the model returns {returned}; a symcost network has one output tensor")
        if problems:
            raise UnsupportedModuleError(
                f"{self.model}: {len(problems)} operation{'s' * (len(problems) > 1)} with no symcost counterpart: "
                f"{'; '.join(problems)}. Map a module type with symcost.register_torch(ModuleType, converter)",
                tuple(problems),
            )
        first: dict[int, str] = {}  # a tensor's id -> the node that uses it first
        nodes = []
        for e in self.entries:
            if e.name not in live:
                continue
            seen = [t for t in e.tensors if t.key in first]
            tied = None
            if seen:
                tied = Tied(first[seen[0].key], None if len(seen) == len(e.tensors) else _counted(seen))
            for t in e.tensors:
                first.setdefault(t.key, e.name)
            nodes.append(Node(e.name, e.op, e.inputs, row=e.row, dims=e.dims, tied=tied))
        return Graph(nodes, output=output.name, input=self.input), set(first)

    def _needed(self, output: object) -> set[str]:
        needed = {output.name} if isinstance(output, TensorRef) else set()
        for entry in reversed(self.entries):
            if entry.name in needed:
                needed |= set(entry.inputs) | {d.node for d in entry.dims}
        return needed


def _placed(op: object, row: str, source: str, origin: str) -> object:
    """``op`` marked with where it came from (errors lead with ``source``) and how it was called."""
    if isinstance(op, Layer):
        return replace(op, name=op.name or row, source=source, origin=origin)
    if getattr(op, "source", False) is None:
        op = copy.copy(op)
        object.__setattr__(op, "source", source)
    return op



#: Shape arithmetic: operators on sizes and numbers, evaluated while the model is read.
_ARITHMETIC: dict[Callable, Callable] = {
    operator.add: operator.add, operator.sub: operator.sub, operator.mul: operator.mul,
    operator.truediv: lambda a, b: sympy.Rational(1, 1) * a / b,
    operator.floordiv: floor_div, operator.mod: mod, operator.neg: operator.neg, operator.pos: operator.pos,
}


def _shape_arithmetic(builder: _Builder, target: object, args: tuple) -> object:
    """The value of an operation on sizes and numbers (``x.size(2) // 2``), never a node."""
    if target is operator.getitem:
        base, index = args
        if isinstance(base, _Sizes):
            if isinstance(index, slice):
                if index.step not in (None, 1) or index.stop is None and (index.start or 0) >= 0:
                    return _Opaque(f"a slice {index} of a shape of unknown rank")
                stop = 0 if index.stop is None else index.stop
                return tuple(builder.size(base.tensor, a) for a in range(index.start or 0, stop))
            return builder.size(base.tensor, index)
        if isinstance(base, (tuple, list)):
            return base[index]
    if target in _ARITHMETIC and all(_is_number(a) for a in args):
        return _ARITHMETIC[target](*(sympy.Rational(a) if isinstance(a, (int, float, Fraction)) else a for a in args))
    if target in _COMPARISONS and len(args) == 2 and all(_is_number(a) for a in args):
        relation, sign = _COMPARISONS[target]
        decided = relation(*(sympy.Rational(a) if isinstance(a, (int, float, Fraction)) else a for a in args))
        if decided in (sympy.true, sympy.false):
            return bool(decided)
        return _Opaque(f"{args[0]} {sign} {args[1]}")
    return _Opaque(f"the result of {_qualified(target)}")


#: Comparisons of sizes (``torch._assert(h == 224, ...)``): a bool where decided for every size.
_COMPARISONS: dict[Callable, tuple[Callable, str]] = {
    operator.eq: (sympy.Eq, "=="), operator.ne: (sympy.Ne, "!="), operator.lt: (sympy.Lt, "<"),
    operator.le: (sympy.Le, "<="), operator.gt: (sympy.Gt, ">"), operator.ge: (sympy.Ge, ">="),
}


def _qualified(target: object) -> str:
    if isinstance(target, str):
        return f"Tensor.{target}"
    from torch.fx.node import _get_qualified_name

    try:
        return _get_qualified_name(target).replace("_operator.", "operator.")
    except Exception:  # noqa: BLE001  (a callable fx cannot name)
        return getattr(target, "__name__", repr(target))


def _whole(module: object, model: str) -> tuple[Graph, set[int]]:
    """A graph of one node: ``module`` itself, a layer such as ``nn.Conv2d``."""
    builder = _Builder(model, "input")
    out = builder.apply(_module_converter(type(module)), Call(module, (TensorRef("input"),)),
                        name=model if model != "input" else "module", row=model, origin="module", source=model,
                        what=f"{model} ({type(module).__name__})")
    return builder.graph(out, prune=False)


# ---------------------------------------------------------------------------
# torch.fx
# ---------------------------------------------------------------------------
def _trace(module: object) -> object:
    """fx's graph of ``module``, keeping whole every module :func:`_is_leaf` keeps."""
    import torch.fx

    class Tracer(torch.fx.Tracer):
        def is_leaf_module(self, m: object, qualname: str) -> bool:
            return _is_leaf(m)

    return Tracer().trace(module)


def _from_fx(root: object, graph: object, model: str) -> tuple[Graph, set[int]]:
    from torch.fx.node import map_arg

    placeholders = [n for n in graph.nodes if n.op == "placeholder"]
    builder = _Builder(model, placeholders[0].name if placeholders else "input")
    values: dict = {}
    output = None
    for node in graph.nodes:
        if node.op == "placeholder":
            if node is placeholders[0]:
                values[node] = TensorRef(node.name)
            elif node.args:  # a parameter with a default value
                values[node] = node.args[0]
            else:
                values[node] = builder.problem(node.name, node.name, (), f"{node.name}: forward takes a second "
                                                                         "tensor; a symcost network takes one")
            continue
        if node.op == "get_attr":
            values[node] = _Opaque(f"the parameter or buffer {node.target}")
            continue
        args = map_arg(node.args, values.__getitem__)
        kwargs = map_arg(node.kwargs, values.__getitem__)
        if node.op == "output":
            output = args[0]
            continue
        values[node] = _fx_call(builder, root, node, args, kwargs)
    return builder.graph(output, prune=False)


def _fx_call(builder: _Builder, root: object, node: object, args: tuple, kwargs: dict) -> object:
    stack = list((node.meta.get("nn_module_stack") or {}).values())
    if node.op == "call_module":
        module = root.get_submodule(node.target)
        what = f"{node.target} ({type(module).__name__})"
        return builder.apply(_module_converter(type(module)), Call(module, args, kwargs), name=node.name,
                             row=node.target, origin="module", source=node.target, what=what)
    target = node.target
    if node.op == "call_method" and target == "size" and isinstance(args[0], TensorRef):
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        return _Sizes(args[0].name) if dim is None else builder.size(args[0].name, dim)
    if target is operator.getitem and isinstance(args[0], TensorRef) and args[0].name in builder.failed:
        return args[0]  # a part of what an unsupported call returns: reported once, with the call
    if node.op == "call_method" and target in _READ_ONLY:
        return _Opaque(f"{node.name} (Tensor.{target})")
    if target is getattr and isinstance(args[0], TensorRef):
        return _Sizes(args[0].name) if args[1] == "shape" else _Opaque(f"{args[0].name}.{args[1]}")
    if _is_assert(target):
        condition = args[0] if args else kwargs.get("condition")
        if condition is True:
            return None
        return builder.problem(node.name, node.name, (), f"{node.name} ({_qualified(target)}): checks "
                               f"{_describe(condition)}, which torch.fx cannot prove for every input size (the "
                               "model's code may fix a size)")
    if not any(isinstance(v, TensorRef) for v in flat((args, kwargs))):
        return _shape_arithmetic(builder, target, args)
    description = _qualified(target)
    where = f" in {stack[-1][0]} ({_type_name(stack[-1][1])})" if stack else ""
    what = f"{node.name} ({description}){where}"
    source = f"{stack[-1][0]}: {description}" if stack else description
    key = f"Tensor.{target}" if node.op == "call_method" else target
    origin = "method" if node.op == "call_method" else "operator" if _is_operator(target) else "function"
    converter = converters().get(key) or converters().get(description)
    return builder.apply(converter, Call(None, args, kwargs), name=node.name, row=node.name,
                         origin=origin, source=source, what=what)


def _is_assert(target: object) -> bool:
    """``torch._assert``, the check fx keeps in its graph (a size the model requires)."""
    import torch

    return target is torch._assert


#: Methods that read a tensor's metadata and compute nothing.
_READ_ONLY = frozenset({"dim", "numel", "nelement", "get_device", "type", "element_size"})


def _type_name(cls: object) -> str:
    return getattr(cls, "__name__", str(cls).rsplit(".", 1)[-1].rstrip("'>"))


def _is_operator(target: object) -> bool:
    name = getattr(target, "__name__", None)
    return name is not None and getattr(operator, name, None) is target


# ---------------------------------------------------------------------------
# One forward pass
# ---------------------------------------------------------------------------
def _recorded(module: object, shape: Shape, model: str) -> tuple[Graph, set[int]]:
    """The graph of one forward pass on ``torch.zeros(1, *shape)`` (see the module docstring)."""
    import torch
    from torch.overrides import TorchFunctionMode

    builder = _Builder(model, "input")
    paths = {m: path for path, m in module.named_modules()}
    ids: dict[int, object] = {}
    kept: list = []  # every recorded tensor stays alive, so no id is reused
    calls: list = []  # the modules being called, outermost first
    taken: dict[str, int] = {"input": 1}

    def fresh(base: str) -> str:
        count = taken.get(base, 0)
        taken[base] = count + 1
        return base if count == 0 else f"{base}_{count}"

    def value(obj: object) -> object:
        if isinstance(obj, torch.Tensor):
            return ids.get(id(obj)) or _Opaque(f"a tensor of shape {tuple(obj.shape)} not computed from the input")
        if isinstance(obj, torch.Size):
            return tuple(obj)
        if isinstance(obj, tuple):
            return tuple(value(v) for v in obj)
        if isinstance(obj, list):
            return [value(v) for v in obj]
        if isinstance(obj, dict):
            return {k: value(v) for k, v in obj.items()}
        return obj

    def bind(out: object, result: object) -> None:
        for tensor in flat(out):
            if isinstance(tensor, torch.Tensor) and isinstance(result, TensorRef):
                ids[id(tensor)] = result
                kept.append(tensor)

    def inside_leaf() -> bool:
        return any(_is_leaf(m) for m in calls)

    def before(m: object, args: tuple, kwargs: dict) -> None:
        calls.append(m)

    def after(m: object, args: tuple, kwargs: dict, out: object) -> None:
        calls.pop()
        if not _is_leaf(m) or inside_leaf():
            return
        path = paths.get(m, type(m).__name__)
        what = f"{path} ({type(m).__name__})"
        name, call, converter = fresh(path.replace(".", "_")), Call(m, value(args), value(kwargs)), \
            _module_converter(type(m))
        if converter is not None and not isinstance(out, torch.Tensor):
            result = builder.problem(name, path, tuple(t.name for t in call.tensors),
                                     f"{what}: returns {type(out).__name__}, not one tensor")
        else:
            result = builder.apply(converter, call, name=name, row=path, origin="module", source=path, what=what)
        bind(out, result)

    class Recorder(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            if inside_leaf() or not any(isinstance(t, torch.Tensor) for t in flat(out)):
                return out  # inside a whole module, or a size, a flag...
            call = Call(None, value(args), value(kwargs))
            if not call.tensors:
                return out  # a constant: only its uses can matter
            key, origin, base = _key(func)
            base = base.rstrip("_") or base  # x.add_(y) is named as x.add(y)
            enclosing = next((m for m in reversed(calls) if not _is_leaf(m)), None)
            path = paths.get(enclosing, "")
            description = key if isinstance(key, str) else _qualified(func)
            name = fresh(base)
            where = f" in {path} ({type(enclosing).__name__})" if path else ""
            result = builder.apply(converters().get(key), call, name=name, row=name, origin=origin,
                                   source=f"{path}: {description}" if path else description,
                                   what=f"{name} ({description}){where}")
            bind(out, result)
            return out

    x = torch.zeros(1, *(int(d) for d in shape.dims))
    ids[id(x)] = TensorRef("input")
    hooks = []
    try:
        for m in module.modules():
            hooks.append(m.register_forward_pre_hook(before, with_kwargs=True))
            hooks.append(m.register_forward_hook(after, with_kwargs=True))
        with torch.no_grad(), Recorder():
            out = module(x)
    except Exception as err:  # noqa: BLE001  (the model's own error, on this input)
        raise ShapeError(f"{model}: the forward pass on torch.zeros{tuple(x.shape)} failed "
                         f"({type(err).__name__}: {_first_line(err)})") from None
    finally:
        for hook in hooks:
            hook.remove()
    return builder.graph(value(out), prune=True)


def _key(func: object) -> tuple[object, str, str]:
    """A function seen by the mode, as the table's key, its origin and a base for node names."""
    import torch

    name = getattr(func, "__name__", type(func).__name__)
    if getattr(torch.Tensor, name, None) is func:
        if name.startswith("__") and name.endswith("__"):
            bare = name.strip("_")
            return getattr(operator, bare, f"Tensor.{name}"), "operator", bare
        return f"Tensor.{name}", "method", name
    return func, "function", name
