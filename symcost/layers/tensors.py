"""Parameter and Constant: tensors that enter a graph as operands, read from no input.

A class token concatenated to the patches, a position embedding added to the
tokens, a layer scale multiplied into a branch: each is a tensor of its own
shape, a :class:`Parameter` (learned: counted as weights) or a
:class:`Constant` (a registered buffer such as a rotary table, counted as a
buffer; or a literal made in ``forward``, counted as nothing). Neither
executes an operation; the layer that consumes it does::

    >>> import symcost as sc
    >>> from symcost.symbols import L, D
    >>> g = sc.Graph([sc.Node("pos", sc.Parameter((L, D)), ()),
    ...               sc.Node("add", sc.Add(), ["input", "pos"])], output="add")
    >>> rep = g.analyze(sc.Shape(L, D))
    >>> rep.total.params, rep.total.flops()
    (D*L, D*L)
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import Params
from ..core.errors import ArgumentTypeError
from ..core.shape import Shape
from ..core.traffic import Traffic
from .base import Layer
from .registry import register


def _shape(layer: Layer, value: object) -> Shape:
    if isinstance(value, Shape):
        return value
    if not isinstance(value, (tuple, list)):
        raise ArgumentTypeError(f"{layer.label}: shape must be a tuple of sizes, got {type(value).__name__} {value!r}")
    return Shape(*(arg.positive_int(v, layer=layer.label, argument="shape") for v in value))


@register
@dataclass(frozen=True)
class Parameter(Layer):
    """A learned tensor of ``shape`` used as an operand (``nn.Parameter``); its elements are weights."""

    shape: object = ()
    arity = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", _shape(self, self.shape))

    def _cost(self) -> Cost:
        return Cost(self.kind, (), self.shape, params=Params(weight=self.shape.numel))

    def traffic(self, cost: Cost, size: int) -> Traffic:
        """Nothing: the layer that uses the tensor reads it (as its input)."""
        return Traffic()


@register
@dataclass(frozen=True)
class Constant(Layer):
    """A fixed tensor of ``shape`` used as an operand: a registered buffer (``buffer=True``) or a literal."""

    shape: object = ()
    buffer: bool = False
    arity = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", _shape(self, self.shape))
        arg.boolean(self.buffer, layer=self.label, argument="buffer")

    def _cost(self) -> Cost:
        buffers = (("constant", self.shape.numel),) if self.buffer else ()
        return Cost(self.kind, (), self.shape, params=Params(buffers=buffers))

    def traffic(self, cost: Cost, size: int) -> Traffic:
        """Nothing: the layer that uses the tensor reads it (as its input)."""
        return Traffic()
