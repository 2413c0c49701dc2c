"""The base class of every layer kind.

A layer is a frozen dataclass of torch.nn-named arguments. ``cost(shape)``
checks the shape and returns a :class:`~symcost.core.cost.Cost`; input channels
come from the shape::

    >>> import symcost as sc
    >>> sc.ReLU().cost(sc.Shape(8, 4, 4)).flops()
    128
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import ClassVar

from ..core.cost import Cost
from ..core.display_hook import Displayable
from ..core.errors import ShapeError
from ..core.shape import Shape

#: What a map with 1, 2 or 3 spatial axes is called in errors.
_MAPS = {1: "a (C, L) map", 2: "a (C, H, W) feature map", 3: "a (C, T, H, W) map"}


@dataclass(frozen=True)
class Layer(Displayable):
    name: str | None = field(default=None, kw_only=True)
    #: where the layer was written (a spec file's ``layers[3].body[1]``), for error messages
    source: str | None = field(default=None, kw_only=True, compare=False, repr=False)
    #: how the layer was called when imported from torch: "module", "function", "method" or "operator"
    origin: str = field(default="module", kw_only=True, compare=False, repr=False)

    #: how many input tensors the layer takes (``None``: two or more)
    arity: ClassVar[int | None] = 1

    @classmethod
    def arguments(cls) -> list:
        """The dataclass fields of the torch.nn-named arguments, in order (not name, source, origin)."""
        return [f for f in fields(cls) if f.init and f.name not in ("name", "source", "origin")]

    @property
    def kind(self) -> str:
        return type(self).__name__

    @property
    def label(self) -> str:
        """How errors name this layer: ``Conv2d`` or ``Conv2d "conv1"``."""
        return f'{self.kind} "{self.name}"' if self.name else self.kind

    def cost(self, *shapes: Shape | tuple) -> Cost:
        """The cost of this layer on the given input shape(s)."""
        inputs = tuple(s if isinstance(s, Shape) else Shape(*s) for s in shapes)
        if self.arity is None and len(inputs) < 2:
            raise ShapeError(f"{self.label}: takes two or more input shapes, got {len(inputs)}")
        if self.arity is not None and len(inputs) != self.arity:
            raise ShapeError(f"{self.label}: takes {self.arity} input shape(s), got {len(inputs)}")
        cost = self._cost(*inputs)
        return cost if cost.layer is not None else replace(cost, layer=self)

    def _cost(self, *shapes: Shape) -> Cost:
        raise NotImplementedError

    def _spatial_map(self, shape: Shape, nd: int) -> Shape:
        """``shape`` checked to be a map with ``nd`` spatial axes: (C, L), (C, H, W) or (C, T, H, W)."""
        if shape.rank != nd + 1:
            raise ShapeError(f"{self.label}: expects {_MAPS[nd]}, got {shape}")
        return shape

    def _feature_map(self, shape: Shape) -> Shape:
        if not shape.is_feature_map:
            raise ShapeError(f"{self.label}: expects a (C, H, W) feature map, got {shape}")
        return shape
