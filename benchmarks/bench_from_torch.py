"""from_torch over every torchvision classification, segmentation and video model (not run in CI).

For each model, in its own process with a time limit: convert once with symbolic sizes (H, W; T, H, W for
video) and analyze (the derivation), then compare parameters with ``sum(p.numel())`` and MACs with
FlopCounterMode / 2 (CPU attention counted, MHA fast path off) at two small test sizes (one where the
model's code fixes the size). The derivation is timed against one FlopCounterMode pass at the model's
standard input size (the crop or resize of its torchvision weights' transforms: 224x224 for most
classifiers, 299 for inception_v3, 520x520 for segmentation, 16x112x112 for video; a size the model's code
fixes wins) and at the small test size. Both readers and FlopCounterMode are warmed up on a tiny model
first, so imports are not timed; torch runs on ``--threads`` threads (1 by default, as the derivation).

Prints: family | tried | converted | exact, the median ratio (derivation / one FlopCounterMode pass) against
either pass, the worst model for each, and the route each model took (``Model.capture``).

Run: ``python benchmarks/bench_from_torch.py [--timeout S] [--jobs N] [--out FILE] [names...]``;
``python benchmarks/bench_from_torch.py --report FILE`` prints the summary of a saved ``--out`` file.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: One model, run as ``python -c ONE name family``; prints one JSON line.
ONE = r'''
import sys, time, json, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, ROOT); sys.path.insert(0, ROOT + "/tests")
import tests.torchvision_shim as shim; shim.install()
import torch, torchvision, symcost as sc
from symcost.symbols import H, W, symbol
T = symbol("T")
from flop_counting import flop_macs
torch.backends.mha.set_fastpath_enabled(False)
name, family = sys.argv[1], sys.argv[2]
torch.set_num_threads(int(sys.argv[3]))
video = family == "video"
shape = (3, T, H, W) if video else (3, H, W)
names = ["T", "H", "W"] if video else ["H", "W"]

# warm-up on a tiny model: imports and first calls of both readers and of FlopCounterMode are not timed, nor
# the collection of the garbage the imports left
class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.fc = torch.nn.Conv2d(3, 4, 3), torch.nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(self.conv(x).relu(), 1), 1))


tiny = Tiny().eval()
for capture in ("fx", "export"):
    sc.from_torch(tiny, (3, H, W), capture=capture).analyze()
with torch.no_grad():
    flop_macs(tiny, torch.zeros(1, 3, 8, 8))
import gc
gc.collect()

kw = {"aux_loss": False, "weights_backbone": None} if family == "segmentation" else {}  # nothing downloaded
m = torchvision.models.get_model(name, weights=None, **kw).eval()
res = {"name": name}
t = time.perf_counter()
try:
    net = sc.from_torch(m, shape)
    rep = net.analyze()
except Exception as e:
    res["error"] = f"{type(e).__name__}: {str(e)[:300]}"
    print(json.dumps(res)); sys.exit()
res["derive"] = time.perf_counter() - t
res["route"] = net.capture
fixed = {str(k): int(v) for k, v in zip(shape[1:], net.input_shape.dims[1:]) if not getattr(v, "free_symbols", None)}


def standard_size():
    """The input size the model's torchvision weights are evaluated at (their transforms' crop or resize)."""
    try:
        transform = torchvision.models.get_model_weights(name).DEFAULT.transforms()
        side = list(getattr(transform, "crop_size", None) or transform.resize_size)
        side = side * 2 if len(side) == 1 else side
    except Exception:
        side = [520, 520] if family == "segmentation" else [112, 112] if video else [224, 224]
    v = dict(zip(names, ([16] if video else []) + side))
    v.update(fixed)
    return v


def flop_pass(v):
    x = torch.zeros(1, 3, *(v[n] for n in names))
    t = time.perf_counter()
    with torch.no_grad():
        macs = flop_macs(m, x)
    return macs, time.perf_counter() - t


if video:  # s3d's temporal kernels and pools need T >= 13 and H, W >= 209
    base = [(16, 224, 224), (17, 225, 230)] if name == "s3d" else [(8, 64, 64), (8, 96, 80)]
else:
    base = [(96, 96), (128, 112)] if "inception" in name else [(64, 64), (96, 80)]
sizes = []
for b in base:
    v = dict(zip(names, b)); v.update(fixed)
    if v not in sizes:
        sizes.append(v)
ok = rep.total.params == sum(p.numel() for p in m.parameters())
passes = []
for v in sizes:
    theirs, took = flop_pass(v)
    passes.append(took)
    ours = sc.evaluate(rep.total.macs, **v) if rep.total.macs.free_symbols else rep.total.macs
    ok = ok and ours == theirs
standard = standard_size()
res.update(exact=bool(ok), flop_small=passes[0], small=sizes[0], standard=standard)
try:
    res["flop_standard"] = flop_pass(standard)[1]
except Exception as e:  # the standard size does not fit the model as built (no weights): no ratio for it
    res["standard_error"] = f"{type(e).__name__}: {str(e)[:200]}"
print(json.dumps(res))
'''.replace("ROOT", repr(ROOT))


def models() -> list[tuple[str, str]]:
    sys.path.insert(0, ROOT)
    import tests.torchvision_shim as shim
    shim.install()
    import torchvision
    out = [(n, "classification") for n in torchvision.models.list_models(torchvision.models)]
    out += [(n, "segmentation") for n in torchvision.models.list_models(torchvision.models.segmentation)]
    out += [(n, "video") for n in torchvision.models.list_models(torchvision.models.video)]
    return out


def family_of(name: str, kind: str) -> str:
    if kind != "classification":
        return kind
    for prefix in ("resnext", "wide_resnet", "resnet", "vgg", "alexnet", "densenet", "googlenet", "inception",
                   "mobilenet_v2", "mobilenet_v3", "mnasnet", "shufflenet", "squeezenet", "efficientnet_v2",
                   "efficientnet", "regnet", "convnext", "vit", "swin", "maxvit"):
        if name.startswith(prefix):
            return prefix
    return name


def run_one(name: str, kind: str, timeout: float, threads: int = 1) -> dict:
    """One model in its own process: a model that hangs (a long torch.export) is stopped at ``timeout``."""
    t = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-c", ONE, name, kind, str(threads)], capture_output=True, text=True,
                              timeout=timeout, cwd=ROOT)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if lines:
            res = json.loads(lines[-1])
        else:
            last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
            res = {"name": name, "error": f"no result ({last[:300]})"}
    except subprocess.TimeoutExpired:
        res = {"name": name, "error": f"timeout after {timeout:.0f} s"}
    res["family"] = family_of(name, kind)
    res["wall"] = time.perf_counter() - t
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=600, help="seconds per model (default 600)")
    parser.add_argument("--jobs", type=int, default=1, help="models run at once (default 1: the cores are shared)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads in each model's process (default 1: the derivation runs on one, and a "
                             "shared machine makes torch's parallel kernels erratic)")
    parser.add_argument("--out", default=None, help="append each model's JSON line to this file")
    parser.add_argument("--report", default=None, help="only print the summary of a saved --out file")
    parser.add_argument("names", nargs="*")
    a = parser.parse_args()
    if a.report:
        with open(a.report) as f:
            report([json.loads(line) for line in f if line.strip()])
        return
    if a.jobs < 1 or a.threads < 1:
        parser.error("--jobs and --threads must be at least 1")
    todo = [(n, k) for n, k in models() if not a.names or n in a.names]
    unknown = sorted(set(a.names) - {n for n, _ in todo})
    if unknown:
        parser.error(f"not a torchvision model: {', '.join(unknown)}")
    results = []

    def finished(res: dict) -> None:
        results.append(res)
        print(json.dumps(res), flush=True)
        if a.out:
            with open(a.out, "a") as f:
                f.write(json.dumps(res) + "\n")

    if a.jobs == 1:
        for name, kind in todo:
            finished(run_one(name, kind, a.timeout, a.threads))
    else:
        with ThreadPoolExecutor(a.jobs) as pool:
            for res in pool.map(lambda job: run_one(*job, a.timeout, a.threads), todo):
                finished(res)
    report(results)


def _pass(r: dict, key: str) -> float | None:
    """One FlopCounterMode pass's seconds (files of the earlier benchmark name the small one ``flop_pass``)."""
    return r.get(key) or (r.get("flop_pass") if key == "flop_small" else None)


def _ratios(results: list[dict], key: str) -> list[tuple[float, str]]:
    return sorted((r["derive"] / _pass(r, key), r["name"]) for r in results if "derive" in r and _pass(r, key))


def report(results: list[dict]) -> None:
    families: dict[str, list] = {}
    for r in results:
        families.setdefault(r["family"], []).append(r)
    print(f"{'family':<16} | tried | converted | exact")
    for fam, rs in families.items():
        print(f"{fam:<16} | {len(rs):>5} | {sum('error' not in r for r in rs):>9} | {sum(bool(r.get('exact')) for r in rs):>5}")
    total = len(results)
    print(f"{'total':<16} | {total:>5} | {sum('error' not in r for r in results):>9} | "
          f"{sum(bool(r.get('exact')) for r in results):>5}")
    print()
    for key, label in (("flop_standard", "at the model's standard input size (224x224, 299, 520x520, 16x112x112)"),
                       ("flop_small", "at the small test size (64x64, 96x96 inception, 8x64x64 video)")):
        ratios = _ratios(results, key)
        if ratios:
            worst = ratios[-1]
            print(f"derivation / one FlopCounterMode pass {label}:")
            print(f"  median {statistics.median(x for x, _ in ratios):.2f} over {len(ratios)} models; "
                  f"worst {worst[1]} ({worst[0]:.1f})")
    timed = [r for r in results if "derive" in r]
    if timed:
        print()
        print(f"{'model':<28} | route  | derive s | pass s (standard) | pass s (small) | ratio standard | ratio small")
        for r in sorted(timed, key=lambda r: r["name"]):
            std, small = _pass(r, "flop_standard"), _pass(r, "flop_small")
            cells = [f"{x:.2f}" if x else "-" for x in (std, small)]
            cells += [f"{r['derive'] / x:.2f}" if x else "-" for x in (std, small)]
            print(f"{r['name']:<28} | {r.get('route') or '?':<6} | {r['derive']:>8.2f} | {cells[0]:>17} | "
                  f"{cells[1]:>14} | {cells[2]:>14} | {cells[3]:>11}")
        routes: dict[str, int] = {}
        for r in timed:
            routes[r.get("route") or "?"] = routes.get(r.get("route") or "?", 0) + 1
        print("routes: " + ", ".join(f"{k} {v}" for k, v in sorted(routes.items())))
    for r in results:
        if "error" in r or not r.get("exact"):
            print(f"  {r['name']}: {r.get('error', 'not exact')}")
        elif "standard_error" in r:
            print(f"  {r['name']}: no pass at the standard size {r.get('standard')} ({r['standard_error']})")


if __name__ == "__main__":
    main()
