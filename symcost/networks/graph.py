"""Graph: a network whose layers form a DAG, as torch.fx traces them.

A residual sum or a U-Net skip reads a tensor twice, so a traced model is
not a tree of containers. A :class:`Graph` lists :class:`Node` s in order of
execution; each names its inputs (earlier nodes, or the graph's input),
and multi-input layers (``Add``, ``Mul``, ``Cat``) take one shape per
input. Its report is the same as that of the equivalent containers::

    >>> import symcost as sc
    >>> from symcost.symbols import C, H, W
    >>> g = sc.Graph([sc.Node("conv", sc.Conv2d(C, 3, padding=1), ["input"]),
    ...               sc.Node("relu", sc.ReLU(), ["conv"]),
    ...               sc.Node("add", sc.Add(), ["relu", "input"])], output="add")
    >>> rep = g.analyze(sc.Shape(C, H, W))
    >>> [row.name for row in rep.rows], rep.out_shape
    (['conv', 'relu', 'add'], Shape(C, H, W))

A layer's arguments may hold symbols that stand for the size of an earlier
node's output (a :class:`Dim`), as torch code pads one map to another's size;
the walk puts in that size before costing the layer.

Nodes may share tensors (a tied weight, a module called twice): a node's
:class:`Tied` says which part an earlier node already counted, and its rows
count only the rest, marked ``shared`` with that node's row::

    >>> lin = sc.Linear(4, in_features=4)
    >>> g = sc.Graph([sc.Node("fc1", lin, ["input"]),
    ...               sc.Node("fc2", lin, ["fc1"], tied=sc.Tied("fc1", sc.Params(weight=16)))], output="fc2")
    >>> rep = g.analyze(sc.Shape(4))
    >>> [(row.name, row.params, row.shared) for row in rep.rows], rep.total.params
    ([('fc1', 20, None), ('fc2', 4, 'fc1')], 24)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import sympy

from .containers import _cost, _located, _walk
from ..core.counts import Params
from ..core.errors import ArgumentTypeError, InvalidArgumentError, ShapeError, SymcostError, with_context
from ..layers.base import Layer
from .base import Network
from .report import Flow, Row, TensorRef, qualified
from ..core.receptive_field import ReceptiveField, merge_branches
from ..core.shape import Shape


@dataclass(frozen=True)
class Dim:
    """``symbol`` stands for axis ``axis`` of node ``node``'s output, counted as torch counts (batch 0)."""

    symbol: sympy.Symbol
    node: str
    axis: int


@dataclass(frozen=True)
class Tied:
    """The tensors of a node's op that node ``first`` counted already: ``params`` of them, or all (``None``).

    A module called twice is tied wholly to its first call; a layer with one
    weight shared with another (an LM head tied to the embedding) is tied by
    that weight's elements, and its rows count the rest.
    """

    first: str
    params: Params | None = None

    def __post_init__(self) -> None:
        if self.params is not None and not isinstance(self.params, Params):
            raise ArgumentTypeError(f"Tied: params must be symcost Params or None, got {type(self.params).__name__}")


@dataclass(frozen=True)
class Node:
    """One step of a :class:`Graph`: ``op`` (a layer or a network) applied to the named ``inputs``.

    An input is a node's name (its first output) or ``(name, i)`` for output
    ``i`` of a layer with several (``Chunk``, ``Split``). A layer that takes no
    input (a ``Parameter`` used as an operand) has ``inputs=()``. ``row`` names
    the report row (default ``name``); two calls of one torch module share a
    row name but not a node name. ``dims`` binds the size symbols in ``op``'s
    arguments; ``tied`` names tensors an earlier node counted.
    """

    name: str
    op: object
    inputs: tuple[str, ...]
    row: str | None = field(default=None, kw_only=True)
    dims: tuple[Dim, ...] = field(default=(), kw_only=True)
    tied: Tied | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        inputs = (self.inputs,) if isinstance(self.inputs, str) else tuple(self.inputs)
        for ref in inputs:
            if not (isinstance(ref, str) or (isinstance(ref, (tuple, list)) and len(ref) == 2
                                              and isinstance(ref[0], str) and isinstance(ref[1], int))):
                raise ArgumentTypeError(f'Graph node "{self.name}": an input must be a node\'s name or '
                                        f'(name, output index), got {ref!r}')
        object.__setattr__(self, "inputs", tuple(i if isinstance(i, str) else tuple(i) for i in inputs))
        object.__setattr__(self, "dims", tuple(self.dims))

    @property
    def row_name(self) -> str:
        return self.row if self.row is not None else self.name


@dataclass(frozen=True, init=False)
class Graph(Network):
    """Nodes run in order on one input (named ``input``); the node named ``output`` gives the result."""

    nodes: tuple[Node, ...]
    output: str
    name: str | None = None
    input: str = "input"
    source: str | None = field(default=None, compare=False, repr=False)

    def __init__(self, nodes: object, output: str, name: str | None = None, *, input: str = "input",
                 source: str | None = None):
        object.__setattr__(self, "nodes", tuple(nodes))
        object.__setattr__(self, "output", output)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "input", input)
        object.__setattr__(self, "source", source)
        self._check()

    def _check(self) -> None:
        """Every node has a new name, a layer or network, and reads only what exists before it."""
        seen = {self.input}
        for node in self.nodes:
            if not isinstance(node, Node):
                raise ArgumentTypeError(f"Graph: nodes must be symcost.Node, got {type(node).__name__} {node!r}")
            label = f'Graph node "{node.name}"'
            if node.name in seen:
                raise InvalidArgumentError(label, "name", "must be new (not the input or an earlier node)", node.name)
            if not isinstance(node.op, (Layer, Network)):
                raise ArgumentTypeError(f"{label}: op must be a symcost layer or network, got {type(node.op).__name__}")
            if not node.inputs and getattr(node.op, "arity", None) != 0:
                raise InvalidArgumentError(label, "inputs", "must name at least one input", node.inputs)
            if isinstance(node.op, Network) and len(node.inputs) != 1:
                raise InvalidArgumentError(label, "inputs", "must be one input for a network", node.inputs)
            if isinstance(node.op, Network) and node.dims:
                raise InvalidArgumentError(label, "dims", "only apply to a layer's arguments", node.dims)
            if node.tied is not None and not isinstance(node.tied, Tied):
                raise ArgumentTypeError(f"{label}: tied must be symcost.Tied, got {type(node.tied).__name__}")
            if node.tied is not None and node.tied.first not in seen - {self.input}:
                raise InvalidArgumentError(label, "tied", "must name an earlier node", node.tied.first)
            for used in (*(_source_name(i) for i in node.inputs), *(d.node for d in node.dims)):
                if used not in seen:
                    raise InvalidArgumentError(label, "inputs", f"must name {self.input!r} or an earlier node", used)
            seen.add(node.name)
        if self.output not in seen:
            raise InvalidArgumentError("Graph", "output", f"must name {self.input!r} or a node", self.output)

    def walk(self, flow: Flow, prefix: str) -> tuple[list[Row], Flow]:
        flows: dict[str, tuple[Flow, ...]] = {self.input: (flow,)}  # every output of every node
        labels = {self.input: self.input}  # how errors name a node: its row's name
        index = flow.index
        rows: list[Row] = []
        for node in self.nodes:
            name = qualified(prefix, node.row_name)
            sources = [labels[_source_name(i)] for i in node.inputs]
            try:
                inputs = [replace(_output(flows, i, node), index=index) for i in node.inputs]
                op = _bound(node, {k: v[0] for k, v in flows.items()}) if node.dims else node.op
            except SymcostError as err:
                raise _in_node(err, node.op, name, sources, [Flow(Shape(), flow.rf, index)]) from None
            if not inputs:
                node_rows, out = _produced(op, name, index)
            elif len(inputs) == 1:
                node_rows, out = _walk(op, inputs[0], name)
            else:
                node_rows, out = _joined(op, sources, inputs, name)
            if node.tied is not None:
                node_rows = _untied(node_rows, node.tied, labels[node.tied.first])
            rows += node_rows
            more = node_rows[-1].cost.more_outputs if isinstance(op, Layer) else ()
            flows[node.name] = (out, *(replace(out, shape=shape, tensor=TensorRef(index, i))
                                       for i, shape in enumerate(more, start=1)))
            labels[node.name] = name
            index = out.index
        return rows, replace(flows[self.output][0], index=index)


def _source_name(ref: str | tuple) -> str:
    return ref if isinstance(ref, str) else ref[0]


def _output(flows: dict[str, tuple[Flow, ...]], ref: str | tuple, node: Node) -> Flow:
    """The flow an input reference names: a node's first output, or ``(node, i)``."""
    if isinstance(ref, str):
        return flows[ref][0]
    source, i = ref
    outputs = flows[source]
    if not isinstance(i, int) or not 0 <= i < len(outputs):
        raise InvalidArgumentError(f'Graph node "{node.name}"', "inputs",
                                   f"must name an output of {source!r}, which has {len(outputs)}", ref)
    return outputs[i]


def _produced(op: Layer, name: str, index: int) -> tuple[list[Row], Flow]:
    """The row of a layer that reads no input (a parameter or constant tensor used as an operand)."""
    try:
        cost = op.cost()
    except SymcostError as err:
        raise with_context(err, f'layer {index} "{name}" ({op.kind})') from None
    rf = ReceptiveField.identity(0)  # it sees no input: no field
    return [Row(name, op.kind, cost, 1, rf)], Flow(cost.out_shape, None, index + 1, TensorRef(index))


def _untied(rows: list[Row], tied: Tied, first: str) -> list[Row]:
    """``rows`` without the tensors ``first`` counted: all of them, or ``tied.params`` taken off the first
    rows that hold them (a layer has one row)."""
    if tied.params is None:
        return [replace(row, cost=replace(row.cost, params=Params()), shared=first) if row.cost.params.total
                or row.cost.params.buffers else row for row in rows]
    left = {"weight": tied.params.weight, "bias": tied.params.bias, **dict(tied.params.buffers)}
    untied = []
    for row in rows:
        have = row.cost.params
        taken = {"weight": _least(have.weight, left["weight"]), "bias": _least(have.bias, left["bias"]),
                 **{n: _least(v, left.get(n, 0)) for n, v in have.buffers}}
        if not any(taken.values()):
            untied.append(row)
            continue
        for key, value in taken.items():
            left[key] = left.get(key, 0) - value
        params = Params(have.weight - taken["weight"], have.bias - taken["bias"],
                        tuple((n, v - taken[n]) for n, v in have.buffers))
        untied.append(replace(row, cost=replace(row.cost, params=params), shared=first))
    return untied


def _least(have: sympy.Expr, wanted: object) -> sympy.Expr:
    """How much of ``wanted`` a row holding ``have`` gives up: all of it where the two do not compare."""
    wanted = sympy.Integer(wanted) if isinstance(wanted, int) else wanted
    difference = have - wanted
    return have if difference.is_number and difference < 0 else wanted


def _bound(node: Node, flows: dict[str, Flow]) -> Layer:
    """``node.op`` with each size symbol replaced by the size it stands for."""
    values = {}
    for dim in node.dims:
        shape = flows[dim.node].shape
        if dim.axis == 0:
            values[dim.symbol] = sympy.Integer(1)
            continue
        try:
            values[dim.symbol] = shape.dims[dim.axis - 1 if dim.axis > 0 else dim.axis]
        except IndexError:
            raise ShapeError(f'node "{node.row_name}": node "{dim.node}" of shape {shape} has no axis {dim.axis}') \
                from None
    op = node.op
    changes = {f.name: _replaced(getattr(op, f.name), values) for f in op.arguments()}
    return replace(op, **changes)


def _replaced(value: object, values: dict) -> object:
    if isinstance(value, sympy.Basic):
        return value.xreplace(values)
    if isinstance(value, tuple):
        return tuple(_replaced(v, values) for v in value)
    return value


def _joined(op: Layer, sources: list[str], inputs: list[Flow], name: str) -> tuple[list[Row], Flow]:
    """The row of a layer that joins several inputs (a sum, a product, a concatenation)."""
    shapes = _unified([f.shape for f in inputs])
    try:
        if not isinstance(op, Layer):
            raise ShapeError("a network takes one input")
        cost = _cost(op, *shapes)
        fields = [f for f in _on_grid(inputs, cost.out_shape) if f is not None]
        rf = _merged(f'{op.kind} "{name}"', fields, cost.out_shape) if fields else None  # None: only constants
    except SymcostError as err:
        if type(err) is ShapeError and any(s.free_symbols for s in shapes) and "floor=" not in str(err):
            err = ShapeError(f"{err}; if the inputs agree on your input sizes, analyze on those "
                             "(e.g. H = 16*h) or with floor='divisible'")
        raise _in_node(err, op, name, sources, inputs) from None
    row_rf = rf if rf is not None else ReceptiveField.identity(0)  # inputs that are all parameters: no field
    row = Row(name, op.kind, cost, 1, row_rf, inputs=tuple(f.tensor for f in inputs))
    return [row], Flow(cost.out_shape, rf, inputs[0].index + 1, TensorRef(inputs[0].index))


def _in_node(err: SymcostError, op: object, name: str, sources: list[str], inputs: list[Flow]) -> SymcostError:
    """``err`` prefixed with the node (its row, kind and inputs), led by the op's ``source`` when it has one."""
    if len(inputs) == 1:
        where = f"on input {inputs[0].shape}"
    else:
        where = "on inputs " + " and ".join(f'"{i}" {f.shape}' for i, f in zip(sources, inputs))
    where = f'layer {inputs[0].index} "{name}" ({getattr(op, "kind", type(op).__name__)}) {where}'
    source = getattr(op, "source", None)
    if source:
        return _located(with_context(err, f"{source}: {where}"), source)
    return with_context(err, where)


def _unified(shapes: list[Shape]) -> list[Shape]:
    """Entries equal to the first input's as formulas (``expand`` decides) written as the first's."""
    first = shapes[0]
    unified = [first]
    for shape in shapes[1:]:
        if shape.rank == first.rank:
            shape = Shape(*(a if a == b or sympy.expand(a - b) == 0 else b for a, b in zip(first.dims, shape.dims)))
        unified.append(shape)
    return unified


def _merged(label: str, fields: list, out: Shape) -> object:
    """The joined receptive field: the largest; branches of a feature map must share one grid.

    Vectors and tokens have no grid left to share (two global pools joined):
    their largest field is taken where sizes compare, else the first. An
    undefined field makes the join undefined.
    """
    if out.rank in (3, 4) or len({f.stride for f in fields}) == 1 or any(f.undefined for f in fields):
        return merge_branches(label, fields)
    return max(fields, key=lambda f: tuple(s if s.is_number else 0 for s in f.size))


def _on_grid(inputs: list[Flow], out: Shape) -> list:
    """The receptive fields of the inputs that lie on the output's grid.

    An input broadcast over the output's height and width (a squeeze-and-
    excitation gate of shape ``(C, 1, 1)``) is on another grid and is left out,
    and so is a parameter or constant tensor, which sees no input at all.
    """
    def broadcast(shape: Shape) -> bool:
        return (shape.rank == out.rank == 3 and all(d == 1 for d in shape.dims[1:])
                and not all(d == 1 for d in out.dims[1:]))

    computed = [f for f in inputs if f.rf is not None] or inputs[:1]  # parameters and constants have no field
    return [f.rf for f in computed if not broadcast(f.shape)] or [f.rf for f in computed]
