"""Every registered kind is listed by `symcost layers`, explained by `symcost explain`, and read from spec files."""

import pytest

import symcost as sc
from symcost.cli import main
from symcost.layers.catalogue import example
from symcost.printing.numbers import formula

KINDS = sc.kinds()


def test_layers_lists_every_kind(capsys):
    assert main(["layers"]) == 0
    listed = {line.split()[0] for line in capsys.readouterr().out.splitlines()[2:] if line.strip()}
    assert listed == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_explain_every_kind(kind, capsys):
    assert main(["explain", kind]) == 0
    out = capsys.readouterr().out
    assert "FLOPs (exact)" in out and "params (weight)" in out


def _spec_value(value: object) -> str:
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_spec_value(v) for v in value) + "]"
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, str):
        return repr(value)
    return str(value)


@pytest.mark.parametrize("kind", [k for k in KINDS if len(example(k).inputs) == 1])
def test_spec_files_read_every_single_input_kind(kind, tmp_path, capsys):
    """The catalogue's example written as a spec file (its symbols declared) costs the same as the example."""
    ex = example(kind)
    arguments = {f.name: getattr(ex.layer, f.name) for f in type(ex.layer).arguments()}
    cost = ex.cost()
    names = sorted({s.name for s in (*cost.out_shape.free_symbols, *ex.inputs[0].free_symbols,
                                     *(s for v in arguments.values() for s in getattr(v, "free_symbols", ())),
                                     *(s for v in arguments.values() if isinstance(v, (tuple, list))
                                       for x in v for s in getattr(x, "free_symbols", ())))})
    lines = [f"name: {kind.lower()}_example",
             "input: " + _spec_value(tuple(ex.inputs[0].dims)),
             "symbols: [" + ", ".join(names) + "]",
             "layers:",
             "  - {kind: " + kind + "".join(f", {k}: {_spec_value(v)}" for k, v in arguments.items()
                                            if v is not None) + "}"]
    path = tmp_path / f"{kind}.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert main(["report", str(path), "--format", "json"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    import json

    total = json.loads(out)["total"]
    assert sc.Shape(*ex.inputs[0].dims) == ex.inputs[0]
    assert total["params"]["expr"] == formula(cost.params.total)  # the canonical text (symcost.core.canonical)
