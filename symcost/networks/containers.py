"""Containers that compose layers into networks: Sequential, Residual, Concat, Repeat.

A container walks an input :class:`~symcost.networks.report.Flow` (shape and
receptive field) through its children, checking shapes at every junction,
and yields one :class:`~symcost.networks.report.Row` per leaf layer, named as torch
names modules (``features.0``, ``layer1.0.conv1``)::

    >>> import symcost as sc
    >>> from symcost.symbols import C, H, W
    >>> block = sc.Residual(sc.Sequential(sc.Conv2d(C, 3, padding=1), sc.ReLU()))
    >>> [row.name for row in sc.Sequential(block, name="stage").analyze(sc.Shape(C, H, W)).rows]
    ['stage.0.body.0', 'stage.0.body.1', 'stage.0.add']
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
import sympy

from ..core.arguments import boolean, is_strict, positive_int
from ..core.cost import Cost
from ..core.errors import ArgumentTypeError, InvalidArgumentError, ShapeError, SymcostError, with_context
from ..layers.base import Layer
from ..layers.elementwise import Add
from .base import Network
from .report import CopyRef, Flow, RepeatRef, Row, TensorRef, qualified
from ..core.receptive_field import ReceptiveField, merge_branches, same_grid
from ..core.shape import Shape


#: Deepest nesting of containers (each level is a few Python frames of the walk).
MAX_NESTING = 100
#: A Repeat with a number of passes is unrolled (one row per pass) while it makes at most this many rows;
#: beyond, a shape-keeping block is counted once with ``count = times``, as a symbolic ``times`` is.
MAX_UNROLLED_ROWS = 10_000


def _nesting(owner: str, children: tuple) -> int:
    """The nesting depth of a container holding ``children``; refuses non-layers and too deep a nesting."""
    depth = 0
    for child in children:
        if isinstance(child, Network):
            depth = max(depth, getattr(child, "_nesting", 1))
        elif not isinstance(child, Layer):
            raise ArgumentTypeError(f"{owner}: children must be symcost layers or containers, got "
                                    f"{type(child).__name__} {child!r:.60}")
    if depth + 1 > MAX_NESTING:
        raise InvalidArgumentError(owner, "children", f"may nest containers at most {MAX_NESTING} deep",
                                   f"{depth + 1} levels")
    return depth + 1


def _walk(child: object, flow: Flow, name: str) -> tuple[list[Row], Flow]:
    """Rows of any child (a layer or a container) on ``flow``, named ``name``."""
    if isinstance(child, Network):
        try:
            return child.walk(flow, name)
        except SymcostError as err:
            source = getattr(child, "source", None)
            if not source or getattr(err, "source", None):
                raise
            raise _located(with_context(err, source), source) from None
    if isinstance(child, Layer):
        try:
            cost = _cost(child, flow.shape)
        except SymcostError as err:
            where = f'layer {flow.index} "{name}" ({child.kind}) on input {flow.shape}'
            if child.source:
                raise _located(with_context(err, f"{child.source}: {where}"), child.source) from None
            raise with_context(err, where) from None
        rf = flow.rf.through(cost.rf) if flow.rf is not None else None  # None: computed from no input
        row_rf = rf if rf is not None else ReceptiveField.identity(0)
        return ([Row(name, child.kind, cost, 1, row_rf, inputs=(flow.tensor,))],
                Flow(cost.out_shape, rf, flow.index + 1, TensorRef(flow.index)))
    raise ArgumentTypeError(f'"{name}": {type(child).__name__} is not a symcost layer or container')


def _located(err: SymcostError, source: str) -> SymcostError:
    """Mark ``err`` as placed at ``source`` so enclosing containers do not prefix it again."""
    err.source = source
    return err


def check_same(what: str, a: Shape, b: Shape, *, axes: slice = slice(None), prefix: str = "",
               mismatch: str = "do not match") -> None:
    """Refuse a junction whose shapes differ, naming both sides.

    Formulas that differ symbolically (``2*floor(H/2)`` vs ``H``) are refused
    too, with a hint: they agree only on some input sizes.
    """
    if len(a) == len(b) and all(x == y or sympy.expand(x - y) == 0 for x, y in zip(a.dims[axes], b.dims[axes])):
        return
    message = f"{what} {a} and {prefix}{b} {mismatch}"
    if (a.free_symbols | b.free_symbols) and len(a) == len(b):
        message += (" as formulas; if they agree on your input sizes, analyze on those "
                    "(e.g. H = 16*h) or with floor='divisible'")
    raise ShapeError(message)


#: (layer, input shapes) -> (its cost, whether costed inside ``arguments.strict``); the oldest entry goes first.
_COSTS: dict = {}
_COSTS_KEPT = 4096


def _cost(layer: Layer, *shapes: Shape) -> Cost:
    """A leaf's cost, cached by layer and input shapes: deep networks repeat both. Inside
    :func:`~symcost.core.arguments.strict`, a cost first computed outside it is computed again, its checks strict."""
    key = (layer, shapes)
    strict = is_strict()
    hit = _COSTS.get(key)
    if hit is None or strict and not hit[1]:
        cost = layer.cost(*shapes)
        if len(_COSTS) >= _COSTS_KEPT:
            del _COSTS[next(iter(_COSTS))]
        hit = _COSTS[key] = (cost, strict)
    return hit[0]


def _child_name(prefix: str, default: object, child: object) -> str:
    """A child's qualified name: its own ``name``, else ``default`` (its index or role).

    A container named ``""`` is transparent: its rows are named from the
    parent, as a torch block's convs are (``layer1.0.conv1``, no ``body``).
    """
    own = getattr(child, "name", None)
    if own == "" and isinstance(child, Network):
        return prefix
    return qualified(prefix, own if own else str(default))


@dataclass(frozen=True, init=False)
class Sequential(Network):
    """Children applied one after another; each named by its ``name`` or its index."""

    children: tuple
    name: str | None = None
    source: str | None = field(default=None, compare=False, repr=False)

    def __init__(self, *children: object, name: str | None = None, source: str | None = None):
        object.__setattr__(self, "_nesting", _nesting("Sequential", children))
        object.__setattr__(self, "children", tuple(children))
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "source", source)

    def walk(self, flow: Flow, prefix: str) -> tuple[list[Row], Flow]:
        rows: list[Row] = []
        for index, child in enumerate(self.children):
            child_rows, flow = _walk(child, flow, _child_name(prefix, index, child))
            rows += child_rows
        return rows, flow


@dataclass(frozen=True)
class Residual(Network):
    """``body(x) + shortcut(x)``; the shortcut is the identity when omitted.

    The sum is a row named ``join`` (default ``add``) under the residual's name.
    """

    body: object
    shortcut: object = None
    name: str | None = field(default=None, kw_only=True)
    join: str = field(default="add", kw_only=True)
    source: str | None = field(default=None, kw_only=True, compare=False, repr=False)

    def __post_init__(self) -> None:
        parts = (self.body,) if self.shortcut is None else (self.body, self.shortcut)
        object.__setattr__(self, "_nesting", _nesting("Residual", parts))

    def walk(self, flow: Flow, prefix: str) -> tuple[list[Row], Flow]:
        body_rows, body = _walk(self.body, flow, _child_name(prefix, "body", self.body))
        after_body = replace(flow, index=body.index)
        short_rows, short = ([], after_body) if self.shortcut is None else _walk(
            self.shortcut, after_body, _child_name(prefix, "shortcut", self.shortcut))
        junction = qualified(prefix, self.join)
        check_same(f'residual "{junction}": body output', body.shape, short.shape, prefix="shortcut output ")
        rf = _joined_field(f'residual "{junction}"', [body.rf, short.rf])
        add = Add(name=self.join).cost(body.shape, short.shape)
        row = Row(junction, "Add", add, 1, rf if rf is not None else ReceptiveField.identity(0),
                  inputs=(body.tensor, short.tensor))
        return body_rows + short_rows + [row], Flow(add.out_shape, rf, short.index + 1, TensorRef(short.index))


@dataclass(frozen=True, init=False)
class Concat(Network):
    """Branches on the same input, concatenated along channels (spatial sizes must agree).

    With ``pad=True`` a branch smaller than the first is zero-padded to its
    height and width first, split evenly with the odd pixel after, as U-Net
    implementations do (``F.pad`` then ``torch.cat``). The concatenation is a
    row named ``join`` (default ``concat``) under the container's name.
    """

    branches: tuple
    name: str | None = None
    pad: bool = False
    join: str = "concat"
    source: str | None = field(default=None, compare=False, repr=False)

    def __init__(self, *branches: object, name: str | None = None, pad: bool = False, join: str = "concat",
                 source: str | None = None):
        if len(branches) < 2:
            raise ShapeError(f"Concat needs two or more branches, got {len(branches)}")
        object.__setattr__(self, "_nesting", _nesting("Concat", branches))
        object.__setattr__(self, "branches", tuple(branches))
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "pad", boolean(pad, layer="Concat", argument="pad"))
        object.__setattr__(self, "join", join)
        object.__setattr__(self, "source", source)

    def walk(self, flow: Flow, prefix: str) -> tuple[list[Row], Flow]:
        rows: list[Row] = []
        outs: list[Flow] = []
        for index, branch in enumerate(self.branches):
            start = replace(flow, index=outs[-1].index if outs else flow.index)
            branch_rows, out = _walk(branch, start, _child_name(prefix, index, branch))
            rows += branch_rows
            outs.append(out)
        junction = qualified(prefix, self.join)
        first = outs[0].shape
        for i, other in enumerate(outs[1:], start=1):
            if not (first.is_feature_map and other.shape.is_feature_map):
                raise ShapeError(f'concat "{junction}": branch outputs {first} and {other.shape} are not both '
                                 "(C, H, W) feature maps")
            if self.pad:
                outs[i] = _padded(junction, first, other)
            else:
                    check_same(f'concat "{junction}": branch outputs', first, other.shape, axes=slice(1, None),
                           mismatch="differ outside the channels")
        shape = Shape(sympy.Add(*(o.shape.C for o in outs)), *first.dims[1:])
        rf = _joined_field(f'concat "{junction}"', [o.rf for o in outs])
        cost = Cost("Concat", tuple(o.shape for o in outs), shape)
        row = Row(junction, "Concat", cost, 1, rf if rf is not None else ReceptiveField.identity(0),
                  inputs=tuple(o.tensor for o in outs))
        return rows + [row], Flow(shape, rf, outs[-1].index + 1, TensorRef(outs[-1].index))


def _joined_field(label: str, fields: list[ReceptiveField | None]) -> ReceptiveField | None:
    """The field where branches join; a branch computed from no input (``None``) takes no part."""
    seen = [f for f in fields if f is not None]
    return merge_branches(label, seen) if seen else None


def _padded(junction: str, target: Shape, branch: Flow) -> Flow:
    """``branch`` zero-padded to ``target``'s height and width (half before, rest after)."""
    before = []
    for axis, want, have in zip(("height", "width"), target.dims[1:], branch.shape.dims[1:]):
        missing = want - have
        if missing.is_negative:
            raise ShapeError(f'concat "{junction}": with pad=True a branch may not be larger than the first, '
                             f"but {branch.shape} exceeds {target} in {axis}")
        before.append(sympy.floor(missing / 2))
    rf = branch.rf
    padded_rf = rf if rf is None or rf.undefined else ReceptiveField(
        rf.size, rf.stride, tuple(p + b * j for p, b, j in zip(rf.padding, before, rf.stride)), rf.uneven)
    return Flow(Shape(branch.shape.C, *target.dims[1:]), padded_rf, branch.index,  # F.pad's copy: no row made it
                CopyRef(branch.tensor))


@dataclass(frozen=True)
class Repeat(Network):
    """``block`` applied ``times`` times; ``times`` may be a symbol if the block keeps its shape."""

    block: object
    times: object
    name: str | None = field(default=None, kw_only=True)
    source: str | None = field(default=None, kw_only=True, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_nesting", _nesting("Repeat", (self.block,)))
        object.__setattr__(self, "times", positive_int(self.times, layer="Repeat", argument="times"))

    def walk(self, flow: Flow, prefix: str) -> tuple[list[Row], Flow]:
        if self.times.is_Integer:
            first_rows, after = _walk(self.block, flow, qualified(prefix, "0"))
            if int(self.times) * max(len(first_rows), 1) <= MAX_UNROLLED_ROWS:
                rows, flow = list(first_rows), after
                for index in range(1, int(self.times)):
                    block_rows, flow = _walk(self.block, flow, qualified(prefix, str(index)))
                    rows += block_rows
                return rows, flow
            why = (f"times={self.times} would unroll to more than {MAX_UNROLLED_ROWS:,} rows, so the block is counted "
                   "once")
        else:
            why = f"times={self.times} is symbolic"
        pass_name = qualified(prefix, "i")
        entry = RepeatRef(flow.tensor, None, self.times, (flow.index, -1), True, pass_name)  # until `last` is known
        block_rows, out = _walk(self.block, replace(flow, tensor=entry), pass_name)
        if out.shape != flow.shape:
            raise ShapeError(
                f'repeat "{prefix or "(root)"}": {why}, so the block must keep its shape, '
                f"but it maps {flow.shape} to {out.shape}"
            )
        rf = _repeated_field(f'repeat "{prefix or "(root)"}"', flow.rf, out.rf, self.times)
        span = (flow.index, out.index)
        carried = RepeatRef(flow.tensor, out.tensor, self.times, span, True, pass_name)
        if out.tensor == entry:  # the block hands its input on: every pass reads the first tensor
            carried = flow.tensor
        rows = [replace(r, count=r.count * self.times, repeats=(self.times, *r.repeats),
                        inputs=tuple(_swapped(ref, entry, carried) for ref in r.inputs)) for r in block_rows]
        last = _swapped(out.tensor, entry, carried)
        exit = RepeatRef(flow.tensor, last, self.times, span, False, pass_name) if carried is not flow.tensor else last
        return rows, Flow(out.shape, rf, out.index, exit)


def _swapped(ref: object, old: RepeatRef, new: object) -> object:
    """``ref`` with the placeholder ``old`` (a block's input while its walk runs) replaced by ``new``."""
    if ref == old:
        return new
    if isinstance(ref, RepeatRef):
        return replace(ref, first=_swapped(ref.first, old, new), last=_swapped(ref.last, old, new))
    return ref


def _repeated_field(label: str, before: ReceptiveField | None, once: ReceptiveField | None,
                    times: sympy.Expr) -> ReceptiveField | None:
    """The field after ``times`` passes of a shape-keeping block that maps ``before`` to ``once``.

    A block that keeps the effective stride ``j`` adds the same ``r' - r`` and
    ``p' - p`` each pass: ``r_n = r + n*(r' - r)``. A block that changes it
    (or an undefined field) leaves the field undefined; an input computed from
    no input (``None``) stays so.
    """
    if before is None or once is None or once.undefined:
        return once
    if not same_grid(before, once):
        return ReceptiveField.unknown(
            f"{label} runs {times} passes of a block that changes the effective stride from {before.stride} to "
            f"{once.stride}, so the field is not followed through them")
    return ReceptiveField(
        size=tuple(r0 + times * (r1 - r0) for r0, r1 in zip(before.size, once.size)),
        stride=before.stride,
        padding=tuple(p0 + times * (p1 - p0) for p0, p1 in zip(before.padding, once.padding)),
        uneven=once.uneven,
    )


@dataclass(frozen=True)
class Model(Network):
    """A named network and the input it was designed for; what :mod:`symcost.zoo` returns.

    Its rows are named from the body's root, as torch names a model's modules
    (``features.0``, not ``vgg16.features.0``)::

        >>> import symcost as sc
        >>> net = sc.Model(sc.Sequential(sc.Flatten(name="flatten"), sc.Linear(10, name="fc")),
        ...                name="probe", input_shape=sc.Shape(3, 4, 4))
        >>> rep = net.analyze()
        >>> rep.model, [row.name for row in rep.rows], rep.total.params
        ('probe', ['flatten', 'fc'], 490)

    ``unused_params`` (:class:`~symcost.networks.report.UnusedParams`) are
    tensors of the model no layer uses; its reports count and list them.
    ``notes`` say how it was read where that matters (a size the model's
    code fixes, a fallback reader). ``capture`` names the reader of a
    converted model (``"fx"``, ``"export"``, ``"forward"``: see ``from_torch``).
    """

    body: object
    name: str
    input_shape: Shape | None = None
    unused_params: tuple = ()
    notes: tuple = ()
    capture: str | None = field(default=None, compare=False)

    def walk(self, flow: Flow, prefix: str) -> tuple[list[Row], Flow]:
        return _walk(self.body, flow, prefix)

    @property
    def root_prefix(self) -> str:
        return ""

    @property
    def default_input(self) -> Shape | None:
        return self.input_shape
