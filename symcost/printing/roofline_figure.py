"""A roofline drawn with matplotlib: layers as points on the log-log roofline of a device.

The x axis is arithmetic intensity (FLOP/byte), the y axis attainable FLOP/s,
``min(peak, intensity * bandwidth)``: the memory roof (slope 1) meets the flat
compute roof at the ridge point. Each layer with FLOPs is a point on the roof at
its intensity, coloured by the bound that holds; the layers taking the most time
are labelled. Rows without FLOPs (in the roofline's convention) have no place on a
log axis; the title says how many were left out. matplotlib is imported here only,
with the Agg backend (no display needed)::

    rf = sc.zoo.resnet50().analyze(sc.Shape(3, 224, 224)).roofline("h100-sxm", "bfloat16")
    plot_roofline(rf, "resnet50.png")
"""

from __future__ import annotations

import math

import sympy

from ..core.errors import SymcostError
from ..networks.roofline import Roofline

#: Layers labelled by name (those with the largest time bounds).
LABELLED = 6


def _plain(text: str) -> str:
    """User text shown literally: a ``$`` would start matplotlib's mathtext."""
    return str(text).replace("$", r"\$")


def _number(expr: object, what: str) -> float:
    if not (isinstance(expr, sympy.Basic) and expr.is_number):
        raise SymcostError(f"roofline plot: {what} is not a number ({expr}); bind every size with --set first")
    return float(sympy.Float(expr, 20))


def plot_roofline(rf: Roofline, path: str | None = None, *, ax: object = None, labels: int = LABELLED) -> object:
    """Draw ``rf`` (every size bound to numbers) on ``ax`` or a new figure; save it to ``path`` if given.

    Returns the matplotlib Figure.
    """
    import matplotlib

    if ax is None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    peak = _number(rf.hardware.peak_flops(rf.dtype), "the peak")
    bandwidth = _number(rf.hardware.bandwidth, "the bandwidth")
    ridge = peak / bandwidth
    points = []
    for row in rf.rows:
        flops = _number(row.flops, f"the FLOPs of {row.name!r}")
        if flops <= 0:
            continue
        intensity = _number(row.intensity, f"the intensity of {row.name!r}")
        time = _number(row.time, f"the time of {row.name!r}")
        points.append((row.name, intensity, min(peak, intensity * bandwidth), time, row.bound == "compute"))
    left_out = len(rf.rows) - len(points)
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 5.5), dpi=110)
    else:
        fig = ax.figure
    xs = [p[1] for p in points] or [ridge]
    lo, hi = min(min(xs), ridge) / 4, max(max(xs), ridge) * 10
    ax.plot([lo, ridge, hi], [lo * bandwidth, peak, peak], color="black", lw=1.5)
    ax.axvline(ridge, color="grey", ls=":", lw=1)
    ax.annotate(f"ridge {ridge:.3g} FLOP/B", (ridge, peak), textcoords="offset points", xytext=(6, -14),
                fontsize=8, color="grey")
    ax.annotate(f"memory roof: {bandwidth / 1e12:.4g} TB/s", (lo * 1.3, lo * 1.3 * bandwidth),
                textcoords="offset points", xytext=(0, 8), fontsize=8, rotation=0)
    ax.annotate(f"compute roof: {peak / 1e12:.4g} TFLOP/s ({rf.dtype})", (hi, peak), textcoords="offset points",
                xytext=(-6, 6), ha="right", fontsize=8)
    for bound, colour in ((False, "tab:blue"), (True, "tab:red")):
        chosen = [p for p in points if p[4] is bound]
        if chosen:
            ax.scatter([p[1] for p in chosen], [p[2] for p in chosen], s=22, color=colour, alpha=0.75, zorder=3,
                       label=f"{'compute' if bound else 'memory'}-bound layers ({len(chosen)})")
    placed: list[float] = []
    for name, x, y, _, _ in sorted(points, key=lambda p: -p[3]):
        if len(placed) >= labels:
            break
        if any(abs(math.log10(x) - other) < 0.08 for other in placed):
            continue  # a label there already: they would print on top of each other
        placed.append(math.log10(x))
        ax.annotate(_plain(name), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo * bandwidth / 2, peak * 3)
    ax.set_xlabel("arithmetic intensity (FLOP/byte)")
    ax.set_ylabel("attainable FLOP/s")
    note = f"\n({left_out} layers without FLOPs not shown)" if left_out else ""
    ax.set_title(_plain(f"{rf.model} on {rf.hardware.name}, FLOPs as {rf.convention}{note}"), fontsize=9)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    if path is not None:
        fig.savefig(path, bbox_inches="tight")
    return fig
