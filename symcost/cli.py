"""The ``symcost`` command. This is the one module that prints.

    symcost layers            # every kind with its formulas in free symbols
    symcost explain Conv2d    # one kind, every quantity
"""

from __future__ import annotations

import argparse
import sys

from . import catalogue
from .errors import SymcostError


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def layers_text() -> str:
    rows = []
    for ex in catalogue.examples():
        cost = ex.cost()
        rows.append([cost.kind, " ".join(str(s) for s in ex.inputs), str(cost.params.total), str(cost.flops())])
    return _table(rows, ["kind", "input", "params", "exact FLOPs"])


def explain_text(kind: str) -> str:
    ex = catalogue.example(kind)
    cost = ex.cost()
    rows = [
        ["layer", repr(ex.layer)],
        ["input", ", ".join(str(s) for s in ex.inputs)],
        ["output", str(cost.out_shape)],
        ["params (weight)", str(cost.params.weight)],
        ["params (bias)", str(cost.params.bias)],
        ["buffers", str(cost.params.buffer_total)],
        ["MACs", str(cost.macs)],
        *[[f"ops: {k}", str(v)] for k, v in cost.ops.as_dict().items() if k not in ("macs",) and v != 0],
        ["FLOPs (exact)", str(cost.flops())],
        ["FLOPs (macs)", str(cost.flops("macs"))],
        ["activations", str(cost.activations)],
        *[[f"receptive field step {i + 1}", f"kernel {s.kernel}, stride {s.stride}, padding {s.padding}"]
          for i, s in enumerate(cost.rf)],
    ]
    return _table(rows, ["quantity", "formula"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="symcost", description="Exact symbolic costs of neural-network layers.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("layers", help="list every layer kind with its formulas")
    explain = sub.add_parser("explain", help="every formula of one layer kind")
    explain.add_argument("kind")
    args = parser.parse_args(argv)
    try:
        text = layers_text() if args.command == "layers" else explain_text(args.kind)
    except SymcostError as err:
        print(f"symcost: error: {err}", file=sys.stderr)
        return 2
    print(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
