"""How long the zoo's transformers take to derive in closed form.

Run from the repository root::

    python benchmarks/bench_transformers.py

Each model is built with 96 layers (unrolled: one row per layer, as torch
names them) and every other size a symbol (``d_model``, ``n_head``,
``n_vocab``, ``n_ctx``, ...), analyzed, and its total parameters, MACs and
exact FLOPs formed; then once more with ``n_layer`` a symbol too (one
``Repeat`` block counted ``n_layer`` times). Each run is a fresh interpreter,
so no cache is warm (the imports come before the clock starts); the median of
three is printed, as CPU seconds of the process (what the derivation costs,
whatever else shares the machine) and wall seconds. Target: under 1 s each.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The zoo factories timed, and the arguments left symbolic (every size argument they take).
MODELS = {
    "gpt2": ("d_model", "n_head", "n_vocab", "n_ctx"),
    "llama": ("d_model", "n_head", "n_kv_head", "d_ff", "n_vocab", "n_ctx"),
    "bert": ("d_model", "n_head", "d_ff", "n_vocab", "n_ctx", "n_type", "n_positions"),
    "vit": ("image_size", "patch_size", "d_model", "n_head", "d_ff", "n_classes", "n_channels"),
    "t5": ("d_model", "n_head", "d_kv", "d_ff", "n_vocab", "n_ctx", "n_dec_ctx", "n_buckets"),
}

DERIVE = """
import time
import symcost as sc
import symcost.frontends.zoo
from symcost.symbols import symbol
t1, c1 = time.perf_counter(), time.process_time()
model = sc.zoo.{name}(n_layer={layers}, **{{n: symbol(n) for n in {symbols!r}}})
report = model.analyze()
report.total.params, report.total.macs, report.total.flops()
print(len(report.rows), time.process_time() - c1, time.perf_counter() - t1)
"""


def derive(name: str, layers: str) -> tuple[int, float, float]:
    runs = []
    for _ in range(3):
        code = DERIVE.format(name=name, layers=layers, symbols=MODELS[name])
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
        runs.append((int(out[0]), float(out[1]), float(out[2])))
    return runs[0][0], statistics.median(r[1] for r in runs), statistics.median(r[2] for r in runs)


if __name__ == "__main__":
    print("symbolic transformers: build + analyze + totals, each in a fresh interpreter (median of 3)")
    print(f"    {'model':<6} {'n_layer':>9} {'rows':>6} {'CPU s':>7} {'wall s':>7}")
    for name in MODELS:
        for layers in ("96", "symbol('n_layer')"):
            rows, cpu, wall = derive(name, layers)
            shown = "96" if layers == "96" else "n_layer"
            print(f"    {name:<6} {shown:>9} {rows:>6} {cpu:>7.3f} {wall:>7.3f}")
    print("    target: under 1 s each")
