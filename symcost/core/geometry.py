"""Sliding-window arithmetic shared by convolutions and pools.

    >>> from symcost.symbols import W, K, S, P
    >>> window_out_size(W, K, S, 1, 2 * P)
    floor((-K + 2*P + W)/S) + 1
"""

from __future__ import annotations

import sympy

from .errors import ShapeError


def effective_kernel(kernel: sympy.Expr, dilation: sympy.Expr) -> sympy.Expr:
    """Span of a dilated kernel: ``D*(K-1) + 1``."""
    return dilation * (kernel - 1) + 1


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
    left padding (torch's rule).
    """
    span = size + pad_total - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return sympy.floor(span / stride) + 1
    out = sympy.ceiling(span / stride) + 1
    left = pad_total / 2 if pad_left is None else pad_left
    return sympy.Piecewise((out - 1, (out - 1) * stride >= size + left), (out, True))


def check_output_fits(out: sympy.Expr, *, label: str, axis: str, detail: str) -> None:
    """Refuse an output length that is provably < 1: the kernel does not fit."""
    if (out - 1).is_negative:
        raise ShapeError(
            f"{label}: kernel_size does not fit in the padded input {axis} ({detail}): "
            f"output {axis} would be {out}, must be >= 1"
        )
