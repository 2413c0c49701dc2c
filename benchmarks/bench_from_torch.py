"""from_torch over every torchvision classification, segmentation and video model (not run in CI).

For each model: convert once with symbolic sizes (H, W; T, H, W for video), then compare parameters with
``sum(p.numel())`` and MACs with FlopCounterMode / 2 (CPU attention counted, MHA fast path off) at two
sizes (one where the model's code fixes the size). Each model runs in its own process with a time limit.
Prints: family | tried | converted | exact, the median ratio (derivation time / one FlopCounterMode pass)
and the worst model. Run: ``python benchmarks/bench_from_torch.py [--timeout S] [--out FILE] [names...]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ONE = r'''
import sys, time, json
sys.path.insert(0, ROOT); sys.path.insert(0, ROOT + "/tests")
import tests.torchvision_shim as shim; shim.install()
import torch, torchvision, symcost as sc
from symcost.symbols import H, W, symbol
T = symbol("T")
from flop_counting import flop_macs
torch.backends.mha.set_fastpath_enabled(False)
name, family = sys.argv[1], sys.argv[2]
kw = {"aux_loss": False, "weights_backbone": None} if family == "segmentation" else {}  # nothing downloaded
m = torchvision.models.get_model(name, weights=None, **kw).eval()
video = family == "video"
shape = (3, T, H, W) if video else (3, H, W)
res = {"name": name, "family": family}
t = time.perf_counter()
try:
    net = sc.from_torch(m, shape)
    rep = net.analyze()
except Exception as e:
    res["error"] = f"{type(e).__name__}: {str(e)[:300]}"
    print(json.dumps(res)); sys.exit()
res["derive"] = time.perf_counter() - t
fixed = {str(k): int(v) for k, v in zip(shape[1:], net.input_shape.dims[1:]) if not getattr(v, "free_symbols", None)}
base = ([(16, 224, 224), (17, 225, 230)] if name == "s3d" else [(8, 64, 64), (8, 96, 80)]) if video else [(96, 96), (128, 112)] if "inception" in name else [(64, 64), (96, 80)]
names = ["T", "H", "W"] if video else ["H", "W"]
sizes = []
for b in base:
    v = dict(zip(names, b)); v.update(fixed)
    if v not in sizes:
        sizes.append(v)
ok = rep.total.params == sum(p.numel() for p in m.parameters())
passes = []
for v in sizes:
    x = torch.zeros(1, 3, *(v[n] for n in names))
    t = time.perf_counter()
    with torch.no_grad():
        theirs = flop_macs(m, x)
    passes.append(time.perf_counter() - t)
    ours = sc.evaluate(rep.total.macs, **v) if rep.total.macs.free_symbols else rep.total.macs
    ok = ok and ours == theirs
res.update(exact=bool(ok), flop_pass=passes[0], sizes=sizes)
print(json.dumps(res))
'''.replace("ROOT", repr(ROOT))


class _Done(Exception):
    pass


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--out", default=None)
    parser.add_argument("names", nargs="*")
    a = parser.parse_args()
    todo = [(n, k) for n, k in models() if not a.names or n in a.names]
    sys.argv = [sys.argv[0], "", ""]
    results = []
    import contextlib
    import io
    import signal

    def alarm(*_):
        raise TimeoutError(f"timeout after {a.timeout:.0f} s")

    signal.signal(signal.SIGALRM, alarm)
    code = compile(ONE.replace("print(json.dumps(res)); sys.exit()", "raise _Done").replace(
        "print(json.dumps(res))", "raise _Done"), "one", "exec")
    for name, kind in todo:
        t = time.perf_counter()
        scope = {"__name__": "one", "_Done": _Done}
        sys.argv[1:3] = [name, kind]
        signal.alarm(int(a.timeout))
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                exec(code, scope)
        except _Done:
            pass
        except BaseException as err:  # noqa: BLE001
            if isinstance(err, KeyboardInterrupt):
                raise
            scope.setdefault("res", {"name": name})["error"] = f"{type(err).__name__}: {str(err)[:300]}"
        finally:
            signal.alarm(0)
        res = dict(scope.get("res") or {"name": name, "error": "no result"})
        res["family"] = family_of(name, kind)
        res["wall"] = time.perf_counter() - t
        results.append(res)
        print(json.dumps(res), flush=True)
        if a.out:
            with open(a.out, "a") as f:
                f.write(json.dumps(res) + "\n")
    report(results)


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
    ratios = [(r["derive"] / r["flop_pass"], r["name"]) for r in results if "derive" in r and r.get("flop_pass")]
    if ratios:
        print(f"median ratio derivation / one FlopCounterMode pass: {statistics.median(x for x, _ in ratios):.2f}")
        worst = max(ratios)
        print(f"worst: {worst[1]} ({worst[0]:.1f})")
    for r in results:
        if "error" in r or not r.get("exact"):
            print(f"  {r['name']}: {r.get('error', 'not exact')}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--report":
        report([json.loads(l) for l in open(sys.argv[2])])
    else:
        main()
