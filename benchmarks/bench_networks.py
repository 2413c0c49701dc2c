"""Whole-network performance: symbolic derivation, evaluation throughput, and torch for scale.

Run from the repository root::

    python benchmarks/bench_networks.py

(a) seconds to build each ResNet's report with symbolic H and W (exact floors)
    and total its MACs and FLOPs; each depth in a fresh interpreter, so no
    cache is warm. Target: ResNet-152 <= 1 s, growing linearly with depth.
(b) evaluations per second of ResNet-50's total MACs over a grid of 10^6
    (H, W) pairs, after derivation (``symcost.analysis.sweep``, numpy). Target >= 10^6/s.
(c) with torch installed: seconds per configuration of torch's FlopCounterMode
    on the torch.nn twin (tests/torch_models.py), and the ratio (b) / (c).
    Target >= 10^5x.
(d) seconds to derive a 48-layer GPT-2-style transformer (the block of
    tests/test_blocks.py, unrolled: about 1,300 rows) in closed form in the
    sequence length L, heads and head size; in a fresh interpreter.
    Target: under 1 s.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import symcost as sc  # noqa: E402
from symcost.symbols import H, W  # noqa: E402

DERIVE = """
import time
t0 = time.perf_counter()
import symcost as sc
from symcost.symbols import H, W
t1 = time.perf_counter()
report = sc.zoo.resnet{depth}().analyze(sc.Shape(3, H, W))
report.total.macs, report.total.flops()
t2 = time.perf_counter()
print(len(report.rows), t2 - t1)
"""


def derivation_times() -> None:
    print("(a) symbolic report (exact floors), each in a fresh interpreter")
    print(f"    {'model':<10} {'rows':>5} {'seconds':>8} {'ms/row':>7}")
    for depth in (18, 50, 101, 152):
        runs = []
        for _ in range(3):
            out = subprocess.run([sys.executable, "-c", DERIVE.format(depth=depth)], cwd=ROOT,
                                 capture_output=True, text=True, check=True).stdout.split()
            runs.append((int(out[0]), float(out[1])))
        rows, seconds = runs[0][0], statistics.median(s for _, s in runs)
        print(f"    resnet{depth:<4} {rows:>5} {seconds:>8.3f} {1000 * seconds / rows:>7.2f}")
    print("    target: resnet152 <= 1 s")


TRANSFORMER = """
import sys, time
sys.path.insert(0, "tests")
import symcost as sc
from symcost.symbols import L
from test_blocks import gpt2_block, d
t1 = time.perf_counter()
report = sc.Sequential(*[gpt2_block() for _ in range(48)]).analyze(sc.Shape(L, d))
report.total.params, report.total.macs, report.total.flops()
print(len(report.rows), time.perf_counter() - t1)
"""


def transformer_time() -> None:
    runs = [subprocess.run([sys.executable, "-c", TRANSFORMER], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split() for _ in range(3)]
    seconds = statistics.median(float(r[1]) for r in runs)
    print(f"(d) 48-layer transformer in closed form in L: {runs[0][0]} rows, {seconds:.3f} s (target < 1 s)")


def evaluation_throughput() -> tuple[float, object]:
    report = sc.zoo.resnet50().analyze(sc.Shape(3, H, W))
    macs = report.total.macs
    heights, widths = range(32, 1032), range(32, 1032)
    start = time.perf_counter()
    grid = sc.sweep(macs, H=heights, W=widths, rules=report)   # every point checked against the layers' rules
    seconds = time.perf_counter() - start
    per_second = len(grid) / seconds
    assert grid.at(H=224, W=224) == 4_089_184_256   # spot check against torchvision's published MACs
    print(f"(b) resnet50 total MACs over {len(grid):,} (H, W) pairs: {seconds:.3f} s, "
          f"{per_second:,.0f} configurations/s (target >= 1,000,000/s)")
    return per_second, grid


def torch_comparison(per_second: float, grid) -> None:
    try:
        import torch
        from torch.utils.flop_counter import FlopCounterMode
    except ImportError:
        print("(c) torch not installed: skipped")
        return
    sys.path.insert(0, str(ROOT / "tests"))
    import torch_models

    model = torch_models.resnet(50)
    sizes = [(224, 224), (193, 161), (256, 320), (320, 256), (160, 160)]
    seconds = []
    with torch.no_grad():
        for h, w in sizes:
            counter = FlopCounterMode(display=False)
            start = time.perf_counter()
            with counter:
                model(torch.zeros(1, 3, h, w))
            seconds.append(time.perf_counter() - start)
            assert counter.get_total_flops() // 2 == grid.at(H=h, W=w), (h, w)
    per_config = statistics.median(seconds)
    print(f"(c) torch FlopCounterMode on the resnet50 twin: {per_config:.3f} s/configuration "
          f"(median of {len(sizes)}; MACs agree with (b) at each)")
    print(f"    ratio (b)/(c): {per_second * per_config:,.0f}x (target >= 100,000x)")


if __name__ == "__main__":
    derivation_times()
    throughput, values = evaluation_throughput()
    torch_comparison(throughput, values)
    transformer_time()
