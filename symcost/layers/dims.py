"""Reading torch ``dim`` arguments: they count the batch as dimension 0, and may be negative.

A layer costs one sample, so ``dim`` 1 is the sample's first entry (index 0)
and the batch (0, or ``-(rank + 1)``) is refused::

    >>> axis(1, 3, layer="Cat", argument="dim")
    0
    >>> axis(-1, 3, layer="Cat", argument="dim")
    2
    >>> axis(0, 3, layer="Cat", argument="dim")
    Traceback (most recent call last):
    symcost.core.errors.InvalidArgumentError: Cat: dim must select a dimension 1..3 (or -3..-1), not the batch (0), got 0
"""

from __future__ import annotations

import sympy

from ..core.errors import ArgumentTypeError, InvalidArgumentError


def dim_int(value: object, *, layer: str, argument: str) -> int:
    """A dimension index as a Python int: an int or an integer SymPy number (spec files give those)."""
    if isinstance(value, bool) or not isinstance(value, (int, sympy.Integer)):
        raise ArgumentTypeError(f"{layer}: {argument} must be an int (a dimension), got {value!r}")
    return int(value)


def dim_ints(value: object, *, layer: str, argument: str, allow_one: bool = True) -> tuple[int, ...]:
    """A sequence of dimension indices (or one index, when ``allow_one``) as a tuple of ints."""
    if isinstance(value, (tuple, list)):
        if len(value) > 64:
            raise InvalidArgumentError(layer, argument, "must name at most 64 dimensions", len(value))
        return tuple(dim_int(v, layer=layer, argument=argument) for v in value)
    if not allow_one:
        raise ArgumentTypeError(f"{layer}: {argument} must be a list of ints (dimensions), got {value!r}")
    return (dim_int(value, layer=layer, argument=argument),)


def nonbatch(value: int, *, layer: str, argument: str) -> int:
    """Refuse ``0``, the batch, at construction (a negative dim is checked against the rank later)."""
    if value == 0:
        raise InvalidArgumentError(layer, argument, "must not be the batch dimension (0)", 0)
    return value


def axis(dim: int, rank: int, *, layer: str, argument: str) -> int:
    """The per-sample index of ``dim`` for a sample of ``rank`` entries (batched rank ``rank + 1``)."""
    if not -rank <= dim <= rank or dim == 0:
        raise InvalidArgumentError(
            layer, argument, f"must select a dimension 1..{rank} (or -{rank}..-1), not the batch (0)"
            if rank else "cannot select a dimension of a scalar sample", dim)
    return dim % (rank + 1) - 1
