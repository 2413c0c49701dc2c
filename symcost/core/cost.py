"""The immutable record a layer returns for one input: :class:`Cost`.

A cost holds facts, never a convention: the output shape, the parameters
(weight, bias and buffers apart), the primitive operation counts, and the
receptive-field steps. FLOPs under a convention come from
:func:`symcost.core.conventions.count_flops`, the one place that weighs counts::

    >>> import symcost as sc
    >>> cost = sc.Conv2d(64, 3, padding=1).cost(sc.Shape(3, 224, 224))
    >>> cost.out_shape, cost.params.total, cost.macs
    (Shape(64, 224, 224), 1792, 86704128)
    >>> cost.flops(), cost.flops("macs")
    (173408256, 86704128)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

import sympy

from .canonical import text
from .conventions import count_flops
from .counts import OpCounts, Params, RFStep
from .display_hook import Displayable
from .errors import SymcostError, with_context
from .evaluate import substitute
from .shape import Shape
from .traffic import Traffic, cost_traffic

Expr = sympy.Expr

@dataclass(frozen=True)
class Cost(Displayable):
    """What one layer costs on given input shape(s). See the module docstring."""

    kind: str
    in_shapes: tuple[Shape, ...]
    out_shape: Shape
    params: Params = field(default_factory=Params)
    ops: OpCounts = field(default_factory=OpCounts)
    rf: tuple[RFStep, ...] = ()
    #: the outputs after the first, for layers that return several tensors (chunk, split, LSTM)
    more_outputs: tuple[Shape, ...] = ()
    #: the layer that made this cost (conventions with per-kind rules read its arguments and origin)
    layer: object = field(default=None, compare=False, repr=False)

    @property
    def in_shape(self) -> Shape:
        return self.in_shapes[0]

    @property
    def macs(self) -> Expr:
        return self.ops.macs

    @property
    def out_shapes(self) -> tuple[Shape, ...]:
        """Every output's shape; one for most layers."""
        return (self.out_shape, *self.more_outputs)

    @property
    def activations(self) -> Expr:
        """Output elements of one sample (every output's)."""
        return sympy.Add(*(s.numel for s in self.out_shapes))

    def flops(self, convention: object = "exact") -> Expr:
        """FLOPs under a convention (a preset name or a :class:`Convention`)."""
        return count_flops(self, convention)

    def traffic(self, dtype: str = "float32") -> Traffic:
        """Bytes read and written with elements of ``dtype`` (:mod:`symcost.core.traffic`)."""
        return cost_traffic(self, dtype)

    def subs(self, values: dict | None = None, /, **by_name: object) -> "Cost":
        """The same cost with symbols replaced, e.g. ``cost.subs(W=224)``: exact integers.

        The layer's rules are checked again on the numbers first (:meth:`check`):
        ``Conv2d(8, K).cost(shape).subs(K=0)`` is refused as ``Conv2d(8, 0)`` is.
        """
        try:
            layer = self.check(values, **by_name)
        except SymcostError as err:
            raise with_context(err, f"with {bound_text(values, by_name)}") from None
        return replace(self.substituted(values, **by_name), layer=layer)

    def check(self, values: dict | None = None, /, **by_name: object) -> object:
        """Re-run the layer's rules with numbers: its arguments (construction) and input shapes (costing).

        The layer is constructed anew from its substituted arguments and costed
        on the substituted input shapes, so every rule it enforces holds after
        substitution, with the same message. Raises the layer's own error;
        returns the substituted layer (the cost's own when it has none).
        """
        shapes = tuple(s.subs(values, **by_name) for s in self.in_shapes)
        layer = self.layer
        if layer is not None and hasattr(layer, "subs"):
            layer = layer.subs(values, **by_name)
            _recost(layer, shapes)
        return layer

    def substituted(self, values: dict | None = None, /, **by_name: object) -> "Cost":
        """Symbols replaced without re-checking the rules (for callers that checked them)."""
        return self.map_exprs(lambda e: substitute(e, values, **by_name))

    def map_exprs(self, fn) -> "Cost":
        """The same cost with ``fn`` applied to every expression it holds."""
        return replace(
            self,
            in_shapes=tuple(s.map_exprs(fn) for s in self.in_shapes),
            out_shape=self.out_shape.map_exprs(fn),
            more_outputs=tuple(s.map_exprs(fn) for s in self.more_outputs),
            params=self.params.map_exprs(fn),
            ops=self.ops.map_exprs(fn),
            rf=tuple(step.map_exprs(fn) for step in self.rf),
        )

    def __repr__(self) -> str:
        inputs = ", ".join(str(s) for s in self.in_shapes)
        return (
            f"Cost({self.kind}: {inputs} -> {self.out_shape}, params={text(self.params.total)}, "
            f"macs={text(self.macs)}, flops={text(self.flops())})"
        )


def bound_text(values: dict | None, by_name: dict) -> str:
    """``H=224, W=224``: the numbers a substitution binds, for messages."""
    return ", ".join(f"{k}={v}" for k, v in {**(values or {}), **by_name}.items())


@lru_cache(maxsize=8192)
def _recost(layer: object, shapes: tuple[Shape, ...]) -> Cost:
    """``layer`` costed on ``shapes``; cached, as reports repeat both (ResNet blocks)."""
    return layer.cost(*shapes)  # type: ignore[attr-defined]


def chain(kind: str, costs: list[Cost]) -> Cost:
    """The cost of ``costs`` applied one after another, as one record."""
    params, ops = Params(), OpCounts()
    for c in costs:
        params, ops = params + c.params, ops + c.ops
    return Cost(
        kind=kind,
        in_shapes=costs[0].in_shapes,
        out_shape=costs[-1].out_shape,
        params=params,
        ops=ops,
        rf=tuple(step for c in costs for step in c.rf),
    )
