"""Sliding-window arithmetic shared by convolutions and pools.

    >>> from symcost.symbols import W, K, S, P
    >>> window_out_size(W, K, S, 1, 2 * P)
    floor((-K + 2*P + W)/S) + 1
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import sympy

from .errors import ShapeError


def effective_kernel(kernel: sympy.Expr, dilation: sympy.Expr) -> sympy.Expr:
    """Span of a dilated kernel: ``D*(K-1) + 1``."""
    return dilation * (kernel - 1) + 1


@lru_cache(maxsize=4096)  # pure, and a network repeats its few sizes in many layers
def window_out_size(
    size: sympy.Expr,
    kernel: sympy.Expr,
    stride: sympy.Expr,
    dilation: sympy.Expr,
    pad_total: sympy.Expr,
    *,
    ceil_mode: bool = False,
    pad_left: sympy.Expr | None = None,
) -> sympy.Expr:
    """Output length of a window sliding over ``size`` padded by ``pad_total``.

    ``floor((size + pad_total - D*(K-1) - 1)/S) + 1``; with ``ceil_mode`` the
    ceiling, minus one when the last window would start past the input and the
    left padding (torch's rule). The rule is decided from the kernel, stride
    and padding where it can be (for ``K=3, S=2`` it never drops a window),
    so no condition is ever built: the rule is ``floor((size + min(A, B))/S) + 1``
    with ``A``, ``B`` free of the size (see the comment below).
    """
    size, kernel, stride, dilation, pad_total = (
        sympy.Integer(v) if isinstance(v, int) else v for v in (size, kernel, stride, dilation, pad_total))
    span = size + pad_total - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return sympy.floor(span / stride) + 1
    left = pad_total / 2 if pad_left is None else sympy.Integer(pad_left) if isinstance(pad_left, int) else pad_left
    # The last window starts at ceil(span/S) = floor((size + A)/S) strides, A = span - size + S - 1, and must start
    # at most at floor((size + B)/S), B = left - 1 (inside the input or the left padding). floor is monotone, so
    # the output is floor((size + min(A, B))/S) + 1: min(A, B) does not depend on the size, and is a number
    # whenever kernel, stride and padding are.
    ahead = span - size + stride - 1
    bound = left - 1
    if (bound - ahead).is_nonnegative:  # never past the input (K=3, S=2: the usual case)
        return sympy.ceiling(span / stride) + 1
    if (ahead - bound).is_nonnegative:
        return sympy.floor((size + bound) / stride) + 1
    return sympy.floor((size + sympy.Min(ahead, bound)) / stride) + 1


def check_output_fits(out: sympy.Expr, *, label: str, axis: str, detail: str | Callable[[], str]) -> None:
    """Refuse an output length that is provably < 1: the kernel does not fit. ``detail`` may be a function
    giving the text, written only for the error (printing formulas is slow)."""
    if (out - 1).is_negative:
        raise ShapeError(
            f"{label}: kernel_size does not fit in the padded input {axis} "
            f"({detail() if callable(detail) else detail}): "
            f"output {axis} would be {out}, must be >= 1"
        )
