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

from .canonical import canonical, text
from .counts import RFStep
from .errors import ArgumentTypeError, InvalidArgumentError, ShapeError
from .evaluate import substitute

Pair = tuple[sympy.Expr, ...]


def _axes(values: object) -> Pair:
    return tuple(sympy.Integer(v) if isinstance(v, int) else v for v in values)  # type: ignore[union-attr]


@dataclass(frozen=True)
class ReceptiveField:
    """Size, effective stride and effective padding, per spatial axis (e.g. height, width).

    After a step whose effective stride is not a whole number of input pixels
    (an adaptive pool over a size its bins do not divide, an upsampling), the
    windows of different output positions differ in size: ``size`` is then
    rounded up to whole pixels, the largest, and ``uneven`` holds those strides
    (``note`` says so while one of them is not a whole number)::

        >>> pooled = INPUT.apply(RFStep((3, 3), (sympy.Rational(9, 7),) * 2, (0, 0)))  # 9 -> 7 bins
        >>> after = pooled.apply(RFStep((7, 7), (7, 7), (0, 0)))    # 3 + 6*9/7 = 75/7, rounded up
        >>> after.size, after.note != ""
        ((11, 11), True)

    Where no (size, stride, padding) describes the output (branches on
    different grids joined: a map interpolated to another tensor's size and
    added to it), the field is *undefined*: it has no axes, ``undefined``
    says why, and every later step keeps it undefined::

        >>> gone = ReceptiveField.unknown("branches on different grids")
        >>> gone.apply(RFStep((3, 3), (2, 2), (1, 1))).undefined, gone.size
        ('branches on different grids', ())
    """

    size: Pair
    stride: Pair
    padding: Pair
    #: effective strides met that are not provably whole numbers; ``size`` was rounded up after them
    uneven: tuple[sympy.Expr, ...] = ()
    #: why no (size, stride, padding) describes this output; ``""``: the field is defined
    undefined: str = ""

    def __post_init__(self) -> None:
        for name in ("size", "stride", "padding"):
            object.__setattr__(self, name, _axes(getattr(self, name)))
        if not isinstance(self.undefined, str):
            raise ArgumentTypeError(f"ReceptiveField: undefined must be a reason (str), got "
                                    f"{type(self.undefined).__name__}")
        if self.undefined and (self.size or self.stride or self.padding or self.uneven):
            raise InvalidArgumentError("ReceptiveField", "size, stride and padding", "must be empty where the field "
                                       "is undefined", (self.size, self.stride, self.padding))

    @staticmethod
    def unknown(reason: str) -> "ReceptiveField":
        """A field no (size, stride, padding) describes, and ``reason`` why (a clause, e.g. which junction)."""
        if not isinstance(reason, str) or not reason:
            raise InvalidArgumentError("ReceptiveField.unknown", "reason", "must be a non-empty str", reason)
        return ReceptiveField((), (), (), undefined=reason)

    @property
    def defined(self) -> bool:
        return not self.undefined

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

    @property
    def note(self) -> str:
        """Why ``size`` is the largest of unequal windows, or ``""`` when every window has that size."""
        if all(j.is_integer for j in self.uneven):
            return ""
        return ("windows differ in size across output positions (an effective stride of a fraction of a pixel, "
                "e.g. an adaptive pool whose bins do not divide its input): size is the largest window, rounded up to "
                "whole pixels (an upper bound for layers after such a step)")

    def apply(self, step: RFStep) -> "ReceptiveField":
        if self.undefined:  # no step makes it defined again
            return self
        k, s, p = step.kernel, step.stride, step.padding
        if len(k) != self.axes:
            raise ShapeError(f"a {len(k)}-axis window does not fit a map with {self.axes} spatial axes")
        uneven = tuple(j for j in self.stride if j.is_integer is not True and j not in self.uneven)
        size = tuple(r + (ki - 1) * j for r, ki, j in zip(self.size, k, self.stride))
        if uneven or self.uneven:
            size = tuple(sympy.ceiling(r) for r in size)
        return ReceptiveField(
            size=size,
            stride=tuple(j * si for j, si in zip(self.stride, s)),
            padding=tuple(pad + pi * j for pad, pi, j in zip(self.padding, p, self.stride)),
            uneven=self.uneven + uneven,
        )

    def through(self, steps: tuple[RFStep, ...]) -> "ReceptiveField":
        field = self
        for step in steps:
            field = field.apply(step)
        return field

    def centre(self, y: object) -> Pair:
        """Input coordinate each output pixel ``y`` is centred on, per axis."""
        if self.undefined:
            raise ShapeError(f"the receptive field is undefined ({self.undefined}): no pixel centre")
        return tuple(y * j - p + (r - 1) / sympy.Integer(2)
                     for r, j, p in zip(self.size, self.stride, self.padding))  # type: ignore[return-value]

    def map_exprs(self, fn) -> "ReceptiveField":
        if self.undefined:
            return self
        return ReceptiveField(*(tuple(fn(e) for e in pair) for pair in (self.size, self.stride, self.padding)),
                              uneven=tuple(fn(j) for j in self.uneven))

    def subs(self, values: dict | None = None, /, **by_name: object) -> "ReceptiveField":
        return self.map_exprs(lambda e: substitute(e, values, **by_name))


INPUT = ReceptiveField(size=(1, 1), stride=(1, 1), padding=(0, 0))


def _shown(values: Pair) -> str:
    """Per-axis values as one short text: ``8`` when the axes agree, else ``(8, 4)``."""
    shown = [text(canonical(v)) for v in values]
    return shown[0] if len(set(shown)) == 1 else "(" + ", ".join(shown) + ")"


def same_grid(a: ReceptiveField, b: ReceptiveField) -> bool:
    """Whether two fields have the same effective stride (rational expressions: ``cancel`` decides);
    an undefined field is on no grid."""
    if a.undefined or b.undefined or a.axes != b.axes:
        return False
    return all(x == y or sympy.cancel(x - y) == 0 for x, y in zip(a.stride, b.stride))  # equal: cancel not needed


def merge_branches(label: str, fields: list[ReceptiveField]) -> ReceptiveField:
    """Branches joining (residual add, concat): the largest field wins, per axis, on one grid.

    Where symbols leave the order open (a branch of kernel ``K`` beside an
    identity), the size is the ``Max`` of the branches' and the padding the
    one of the largest, as a ``Piecewise``: numbers substituted later decide both.

    Branches whose effective strides differ (a map interpolated to another
    tensor's size, or by a ratio that is not whole, then added) do not sit on
    one grid: output pixel ``y`` is centred on different input coordinates in
    each, so no single field describes the join. It is then undefined, with
    ``label`` and the strides as the reason; the costs are unaffected. An
    undefined branch makes the join undefined.
    """
    first = fields[0]
    for other in fields:
        if other.undefined:
            return other
    for other in fields[1:]:
        if not same_grid(first, other):
            return ReceptiveField.unknown(
                f"{label} joins branches on different grids (effective strides {_shown(first.stride)} and "
                f"{_shown(other.stride)}), so no single size, stride and padding describes its output")
    sizes, paddings = [], []
    for axis in range(first.axes):
        size, padding = first.size[axis], first.padding[axis]
        for other in fields[1:]:
            r, p = other.size[axis], other.padding[axis]
            if r == size:  # the same formula: neither is larger, nothing changes (no assumption query)
                continue
            larger = (r - size).is_positive
            if larger:
                size, padding = r, p
            elif larger is None and (r - size).is_nonpositive is not True:
                padding = padding if p == padding else sympy.Piecewise((p, r > size), (padding, True))
                size = sympy.Max(size, r)
        sizes.append(size)
        paddings.append(padding)
    uneven = tuple(dict.fromkeys(j for f in fields for j in f.uneven))
    return ReceptiveField(tuple(sizes), first.stride, tuple(paddings), uneven)
