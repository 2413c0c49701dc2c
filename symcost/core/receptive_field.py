"""The receptive-field recurrence of Araujo et al. (Distill 2019).

Per spatial axis (length of a 1-D map; height and width; time, height and
width of a clip): size ``r``, effective stride ``j`` (product of earlier strides) and
effective padding ``p``, from ``r=1, j=1, p=0`` at the input; each layer step
gives ``r += (K_eff - 1)*j``, ``p += P*j``, ``j *= S``. Output pixel ``y`` is
centred on input coordinate ``y*j - p + (r - 1)/2``::

    >>> from symcost.core.counts import RFStep
    >>> conv = RFStep(kernel=(11, 11), stride=(4, 4), padding=(0, 0))
    >>> INPUT.apply(conv).apply(RFStep((3, 3), (2, 2), (0, 0))).size
    (19, 19)

The often-quoted ``r_i = r_{i-1} + (k - 1)*s_i``, with the layer's own
stride, is wrong: AlexNet's pool5 field is 195, not 67.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from .counts import RFStep
from .errors import ShapeError
from .evaluate import substitute

Pair = tuple[sympy.Expr, ...]


def _axes(values: object) -> Pair:
    return tuple(sympy.Integer(v) if isinstance(v, int) else v for v in values)  # type: ignore[union-attr]


@dataclass(frozen=True)
class ReceptiveField:
    """Size, effective stride and effective padding, per spatial axis (e.g. height, width)."""

    size: Pair
    stride: Pair
    padding: Pair

    def __post_init__(self) -> None:
        for name in ("size", "stride", "padding"):
            object.__setattr__(self, name, _axes(getattr(self, name)))

    @staticmethod
    def identity(axes: int) -> "ReceptiveField":
        """The field of an input with ``axes`` spatial axes: one pixel, stride 1, no padding."""
        return ReceptiveField((1,) * axes, (1,) * axes, (0,) * axes)

    @staticmethod
    def of_input(shape: object) -> "ReceptiveField":
        """The input's field: one axis per entry after the channels (a (C, L) map has one, (C, T, H, W) three);
        vectors and (C, H, W) maps keep the two axes of an image."""
        rank = len(shape)  # type: ignore[arg-type]
        return INPUT if rank <= 1 or rank == 3 else ReceptiveField.identity(rank - 1)

    @property
    def axes(self) -> int:
        return len(self.size)

    def apply(self, step: RFStep) -> "ReceptiveField":
        k, s, p = step.kernel, step.stride, step.padding
        if len(k) != self.axes:
            raise ShapeError(f"a {len(k)}-axis window does not fit a map with {self.axes} spatial axes")
        return ReceptiveField(
            size=tuple(r + (ki - 1) * j for r, ki, j in zip(self.size, k, self.stride)),
            stride=tuple(j * si for j, si in zip(self.stride, s)),
            padding=tuple(pad + pi * j for pad, pi, j in zip(self.padding, p, self.stride)),
        )

    def through(self, steps: tuple[RFStep, ...]) -> "ReceptiveField":
        field = self
        for step in steps:
            field = field.apply(step)
        return field

    def centre(self, y: object) -> Pair:
        """Input coordinate each output pixel ``y`` is centred on, per axis."""
        return tuple(y * j - p + (r - 1) / sympy.Integer(2)
                     for r, j, p in zip(self.size, self.stride, self.padding))  # type: ignore[return-value]

    def map_exprs(self, fn) -> "ReceptiveField":
        return ReceptiveField(*(tuple(fn(e) for e in pair) for pair in (self.size, self.stride, self.padding)))

    def subs(self, values: dict | None = None, /, **by_name: object) -> "ReceptiveField":
        return self.map_exprs(lambda e: substitute(e, values, **by_name))


INPUT = ReceptiveField(size=(1, 1), stride=(1, 1), padding=(0, 0))


def same_grid(a: ReceptiveField, b: ReceptiveField) -> bool:
    """Whether two fields have the same effective stride (rational expressions: ``cancel`` decides)."""
    return all(sympy.cancel(x - y) == 0 for x, y in zip(a.stride, b.stride))


def merge_branches(label: str, fields: list[ReceptiveField]) -> ReceptiveField:
    """Branches joining (residual add, concat): the largest field wins; strides must agree."""
    first = fields[0]
    for other in fields[1:]:
        if not same_grid(first, other):
            raise ShapeError(
                f"{label}: branches disagree on the effective stride ({first.stride} vs {other.stride}); "
                "their outputs do not sit on one grid"
            )
    return max(fields, key=_size_key)


def _size_key(field: ReceptiveField) -> tuple:
    """Order fields by size where decidable; a symbolic tie keeps the first branch."""
    return tuple(s if s.is_number else sympy.Integer(0) for s in field.size)
