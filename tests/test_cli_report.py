"""The command: reports in every format, JSON against the DESIGN.md schema, spec files vs the zoo."""

import json
from pathlib import Path

import jsonschema
import pytest
import sympy

from symcost.cli import main
from symcost.symbols import C_in, C_out, K

SPECS = Path(__file__).parent / "specs"

# DESIGN.md's --format json contract, as a JSON Schema.
Q = {
    "type": "object",
    "required": ["expr", "latex", "value"],
    "properties": {
        "expr": {"type": "string"},
        "latex": {"type": "string"},
        "value": {"oneOf": [{"type": "integer"}, {"type": "string", "pattern": r"^-?\d+/\d+$"}, {"type": "null"}]},
    },
}
RF = {"type": "object", "required": ["size", "stride", "padding"],
      "properties": {"size": Q, "stride": Q, "padding": Q}}
SCHEMA = {
    "type": "object",
    "required": ["model", "convention", "input", "layers", "total"],
    "properties": {
        "model": {"type": "string"},
        "convention": {"type": "string"},
        "input": {"type": "array", "items": {"type": "string"}},
        "layers": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["name", "kind", "out_shape", "params", "macs", "flops", "activations", "rf"],
            "properties": {"name": {"type": "string"}, "kind": {"type": "string"},
                           "out_shape": {"type": "array", "items": {"type": "string"}},
                           "params": Q, "macs": Q, "flops": Q, "activations": Q, "rf": RF}}},
        "total": {"type": "object", "required": ["params", "macs", "flops", "activations", "param_bytes", "rf"],
                  "properties": {"params": Q, "macs": Q, "flops": Q, "activations": Q, "param_bytes": Q, "rf": RF}},
    },
}


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    assert status == 0, err
    return out


@pytest.mark.parametrize("argv, bound", [
    (["vgg16"], True),
    (["resnet50", "--input", "3,H,W"], False),
    (["resnet50", "--input", "3,H,W", "--floor", "divisible"], False),
    (["mobilenet_v1", "--set", "H=W=160"], True),
    (["alexnet", "--convention", "macs"], True),
    (["fusionnet", "--input", "1,16*H,16*W"], False),
    (["unet", "--input", "3,193,161"], True),
    ([str(SPECS / "tiny.yaml")], False),
    ([str(SPECS / "tiny.yaml"), "--set", "H=W=64", "--set", "n=3"], True),
    ([str(SPECS / "tiny.json"), "--set", "C=4", "--set", "H=W=32"], True),
    ([str(SPECS / "resnet18.yaml"), "--set", "H=224", "--set", "W=224"], True),
])
def test_json_output_follows_the_design_schema(argv, bound, capsys):
    report = json.loads(run(capsys, "report", *argv, "--format", "json"))
    jsonschema.validate(report, SCHEMA)
    assert (report["total"]["macs"]["value"] is not None) == bound


def test_vgg16_json_values_are_the_published_numbers(capsys):
    report = json.loads(run(capsys, "report", "vgg16", "--format", "json"))
    assert report["total"]["params"]["value"] == 138_357_544
    assert report["total"]["macs"]["value"] == 15_470_264_320
    assert report["total"]["param_bytes"]["value"] == 138_357_544 * 4
    assert report["total"]["rf"]["size"]["value"] == 404
    assert [layer["name"] for layer in report["layers"]][:2] == ["features.0", "features.1"]
    assert report["layers"][0]["out_shape"] == ["64", "224", "224"]


@pytest.mark.parametrize("settings", [["--set", "H=224", "--set", "W=224"], ["--set", "H=W=193"], []])
def test_spec_resnet18_and_zoo_resnet18_give_identical_totals(settings, capsys):
    spec = json.loads(run(capsys, "report", str(SPECS / "resnet18.yaml"), "--input", "3,H,W", *settings,
                          "--format", "json"))
    zoo = json.loads(run(capsys, "report", "resnet18", "--input", "3,H,W", *settings, "--format", "json"))
    assert spec["total"] == zoo["total"]
    assert [row["kind"] for row in spec["layers"]] == [row["kind"] for row in zoo["layers"]]


def test_text_report_is_a_readable_table_with_totals(capsys):
    out = run(capsys, "report", "vgg16")
    lines = out.splitlines()
    assert lines[0] == "vgg16: input (3, 224, 224), convention exact, floor exact"
    header = lines[2]
    assert header.split()[:4] == ["Layer", "Kind", "Output", "shape"]
    first = lines[4]
    assert first.split()[:3] == ["features.0", "Conv2d", "(64,"]
    # numbers right-aligned under their headers
    assert first.index("1,792") + len("1,792") == header.index("Params") + len("Params")
    assert "Params             138,357,544   (553,430,176 bytes as float32)" in lines
    assert "MACs               15,470,264,320" in lines
    units = run(capsys, "report", "vgg16", "--units")
    assert "MACs               15.5G" in units.splitlines()


def test_text_report_shows_formulas_and_assumptions(capsys):
    out = run(capsys, "report", "resnet50", "--input", "3,H,W", "--floor", "divisible")
    assert "MACs               81456*H*W + 2048000" in out.splitlines()
    assert "Assumes integer    H/32: the network's total stride along H is 32" in out


def test_output_file(tmp_path, capsys):
    target = tmp_path / "r.json"
    assert main(["report", "alexnet", "--format", "json", "-o", str(target)]) == 0
    assert capsys.readouterr().out == ""
    assert json.loads(target.read_text())["total"]["macs"]["value"] == 714_188_480


def test_compare_separable_and_standard_convolution(capsys):
    out = run(capsys, "compare", "separableconv2d(C_out, K, padding=same)", "conv2d(C_out, K, padding=same)",
              "--break-even", "C_out")
    assert "ratio A/B = 1/K**2 + 1/C_out" in out.splitlines()
    assert "break-even C_out = K**2/(K**2 - 1)" in out.splitlines()
    data = json.loads(run(capsys, "compare", "separableconv2d(C_out, K, padding=same)",
                          "conv2d(C_out, K, padding=same)", "--format", "json", "--metric", "params"))
    ratio = sympy.parse_expr(data["ratio"]["expr"], {"C_out": C_out, "K": K, "C_in": C_in})  # our own output
    # params by hand: separable K^2*C_in + C_in + C_in*C_out + C_out; standard K^2*C_in*C_out + C_out
    expected = (K**2 * C_in + C_in + C_in * C_out + C_out) / (K**2 * C_in * C_out + C_out)
    assert sympy.cancel(ratio - expected) == 0


def test_compare_two_models_on_one_input(capsys):
    out = run(capsys, "compare", "resnet50", "resnet18", "--input", "3,H,W", "--floor", "divisible",
              "--metric", "macs")
    assert "ratio A/B = (81456*H*W + 2048000)/(36144*H*W + 512000)" in out or "ratio A/B" in out
    bound = json.loads(run(capsys, "compare", "resnet50", "resnet18", "--metric", "macs", "--format", "json"))
    assert bound["ratio"]["value"] == str(sympy.Rational(4_089_184_256, 1_814_073_344)).replace(" ", "")


def test_sweep_table_and_csv(capsys):
    out = run(capsys, "sweep", "resnet50", "--set", "H=W=192:256:32")
    assert out.splitlines()[0] == "resnet50: macs over 3 points"
    assert out.splitlines()[-1].split() == ["256", "5,340,348,416"]
    csv_out = run(capsys, "sweep", "resnet50", "--set", "H=193,224", "--set", "W=161", "--format", "csv")
    assert csv_out.splitlines() == ["H,W,macs", "193,161,2931747008", "224,161,3178468352"]


def test_sweep_refuses_off_grid_sizes_in_divisible_mode(capsys):
    assert main(["sweep", "resnet50", "--set", "H=W=200:232:32", "--floor", "divisible"]) == 2
    assert "assumes H/32 is an integer" in capsys.readouterr().err


def test_zoo_lists_every_model(capsys):
    out = run(capsys, "zoo")
    assert ["resnet50", "(3,", "224,", "224)", "25,557,032", "4,089,184,256"] in [line.split() for line in
                                                                                out.splitlines()]
    assert len(json.loads(run(capsys, "zoo", "--format", "json"))) == 26  # 19 CNNs, gpt2, llama, their decode steps, bert, vit, t5


def test_explain_as_json(capsys):
    data = json.loads(run(capsys, "explain", "Conv2d", "--format", "json"))
    assert data["MACs"]["expr"] == "C_in*C_out*K**2*(floor((H - K + 2*P)/S) + 1)*(floor((-K + 2*P + W)/S) + 1)"


@pytest.mark.parametrize("argv, fragment", [
    (["report", "resnet51"], "unknown model 'resnet51'; did you mean 'resnet50'?"),
    (["report", "missing.yaml"], "missing.yaml: no such spec file"),
    (["report", "vgg16", "--set", "Q=1"], "--set Q: vgg16 has no symbol 'Q'"),
    (["report", "vgg16", "--set", "H"], "--set 'H': write NAME=VALUE"),
    (["report", "vgg16", "--input", "3,H,__import__('os')"], "not function calls"),
    (["report", "vgg16", "--convention", "mine"], "unknown convention 'mine'"),
    (["report", "resnet50", "--input", "3,H,W", "--floor", "divisible", "--set", "H=W=193"], "assumes H/32"),
    (["compare", "conv2d(8, 3, stride=0)", "conv2d(8, 3)"], "stride must be a positive integer, got 0"),
    (["compare", "conv2d(8, 3).__class__", "conv2d(8, 3)"], "write a layer as kind(arguments)"),
    (["compare", "conv9d(8, 3)", "conv2d(8, 3)"], "unknown kind 'conv9d'"),
    (["sweep", "resnet50"], "sweep needs at least one --set"),
    (["sweep", "resnet50", "--set", "H=W=10:1"], "STOP >= START"),
    (["explain", "conv4d"], "unknown layer kind 'conv4d'"),
])
def test_command_errors_are_one_line_exit_2(argv, fragment, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("symcost: error: ") and err.count("\n") == 1 and fragment in err, err


def test_sweep_plot_writes_a_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    target = tmp_path / "macs.png"
    run(capsys, "sweep", "resnet18", "--set", "H=W=96:160:32", "--plot", str(target))
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    run(capsys, "sweep", "resnet18", "--set", "H=96,128", "--set", "W=64,96", "--plot", str(target))
    assert target.stat().st_size > 1000
