"""Hostile command lines: each case is argv -> exit status and a fragment of the one-line error (or output).

Expected numbers are independent: MobileNet v1 at alpha 1/2 has 1,331,592 parameters (torch-checked in
test_zoo) and 149,497,088 MACs (Howard et al. 2017, Table 6: 149 million); Conv2d(96, 11, stride=4) on
3x227x227 has 3*96*121 + 96 = 34,944 params and a 55x55 output, (227 - 11)//4 + 1 = 55.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from symcost.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _specs(tmp: Path) -> dict[str, str]:
    files = {
        "div.yaml": "input: [3, H, W]\nsymbols: [n]\nlayers:\n  - {kind: conv2d, out_channels: 8, kernel_size: 3, stride: n}\n",
        "adapt.yaml": "input: [3, H, W]\nsymbols: [n]\nlayers:\n  - {kind: adaptive_avg_pool2d, output_size: n}\n",
        "num.yaml": "input: [3, 8, 8]\nlayers:\n  - {kind: conv2d, out_channels: 8, kernel_size: 3}\n",
        "twice.yaml": "input: [3, 2*H, 2*H]\nlayers:\n  - {kind: conv2d, out_channels: 8, kernel_size: 3}\n",
        "uni.yaml": "name: r\u00e9seau\ninput: [3, 8, 8]\nlayers:\n  - {kind: relu, name: \"\u00e9\"}\n",
    }
    for name, text in files.items():
        (tmp / name).write_text(text, encoding="utf-8")
    return {name: str(tmp / name) for name in files}


# (argv, exit status, fragment of stderr when 2 / of stdout when 0); "{div.yaml}" names a file made above.
CASES = {
    # --set of a symbol the model does not have
    "set beta on numeric mobilenet": (["report", "mobilenet_v1", "--set", "beta=1/2"], 2,
                                      "mobilenet_v1 has no symbol 'beta'; it has no symbols (every size is a number); "
                                      "its arguments are alpha, num_classes, resolution"),
    # --set of a zoo factory's argument builds the model with it, as mobilenet_v1(alpha=1/2) does
    "set alpha builds mobilenet": (["report", "mobilenet_v1", "--set", "alpha=1/2", "--format", "json"], 0,
                                   '"value": 1331592'),
    "set H with numeric --input": (["report", "resnet50", "--input", "3,224,224", "--set", "H=W=300"], 2,
                                   "resnet50 has no symbol 'H'"),
    "set a spec symbol that is not there": (["report", "{div.yaml}", "--set", "m=2"], 2,
                                            "has no symbol 'm'; its symbols are H, W, n"),
    # compare binds H, W like report does ...
    "compare at H=W=10": (["compare", "{num.yaml}", "{num.yaml}", "--metric", "activations", "--set", "H=W=10",
                           "--format", "json"], 0, '"value": 512'),  # 8 channels * 8 * 8, not 8 * 6 * 6 at 8x8
    "compare an unknown symbol": (["compare", "resnet50", "resnet18", "--set", "n=3"], 2,
                                  "neither A nor B has no symbol 'n'"),
    # ... and checks the divisible floor mode as report does
    "compare --floor divisible off-grid": (["compare", "resnet50", "resnet18", "--set", "H=W=225",
                                            "--floor", "divisible"], 2, "floor='divisible' assumes H/32"),
    # zoo arguments from the command line, through the ast call parser
    "zoo call": (["report", "mobilenet_v1(alpha=1/2)", "--format", "json"], 0, '"value": 1331592'),
    "zoo call macs": (["report", "mobilenet_v1(alpha=1/2)", "--format", "json"], 0, '"value": 149497088'),
    "zoo call unknown keyword": (["report", "mobilenet_v1(beta=2)"], 2, "unexpected keyword argument 'beta'"),
    "zoo call code": (["report", "mobilenet_v1(alpha=__import__('os'))"], 2, "not function calls"),
    "zoo call positional": (["report", "mobilenet_v1(1/2)"], 2, "give zoo arguments by name"),
    # a spec's own input [3, 2*H, 2*H] is kept: conv 3x3 on 8x8 -> 8*6*6 = 288 activations
    "spec input kept": (["report", "{twice.yaml}", "--set", "H=4", "--format", "json"], 0, '"value": 288'),
    # only H=W=... ties names: two equal ranges are a 4x4 grid
    "sweep grid": (["sweep", "resnet50", "--set", "H=128:512:128", "--set", "W=128:512:128",
                    "--metric", "activations"], 0, "over 16 points"),
    "sweep set twice": (["sweep", "resnet50", "--set", "H=W=128", "--set", "H=256"], 2, "H is set twice"),
    # output failures: one line, status 2
    "-o missing folder": (["report", "vgg16", "-o", "{tmp}/nowhere/out.txt"], 2, "cannot write: No such file"),
    "-o a directory": (["report", "vgg16", "-o", "{tmp}"], 2, "cannot write: Is a directory"),
    "-o /dev/full": (["report", "vgg16", "-o", "/dev/full"], 2, "cannot write: No space left on device"),
    "compare -o /dev/full": (["compare", "conv2d(8, 3)", "conv2d(8, 1)", "-o", "/dev/full"], 2, "No space left"),
    "sweep -o missing folder": (["sweep", "{div.yaml}", "--set", "n=1", "--set", "H=W=8", "-o",
                                 "{tmp}/nowhere/x.csv"], 2, "cannot write: No such file"),
    "-o empty": (["report", "vgg16", "-o", ""], 2, "-o '': give a file name"),
    "--input empty": (["report", "vgg16", "--input", ""], 2, "--input '': give the input shape"),
    "--plot txt": (["sweep", "{div.yaml}", "--set", "n=1", "--set", "H=W=8", "--plot", "{tmp}/x.txt"], 2,
                   "--plot"),
    "--plot missing folder": (["sweep", "{div.yaml}", "--set", "n=1", "--set", "H=W=8", "--plot",
                               "{tmp}/nowhere/x.png"], 2, "cannot write: No such file"),
    # sweeps that used to raise ZeroDivisionError / TypeError
    "sweep stride through 0": (["sweep", "{div.yaml}", "--set", "n=0:2", "--set", "H=W=32"], 2,
                               "Conv2d: stride must be a positive integer, got 0"),
    # adaptive bins of 32 in 3: 11, 12, 11 rows and columns -> 3*34*34 = 3,468 FLOPs
    "sweep adaptive output size": (["sweep", "{adapt.yaml}", "--set", "n=3", "--set", "H=W=32",
                                    "--metric", "flops", "--format", "csv"], 0, "3,32,3468"),
    "sweep params over H": (["sweep", "resnet50", "--metric", "params", "--set", "H=W=128:256:128"], 2,
                            "the params of resnet50 do not depend on H = W"),
    # --from-torch targets that are not factories of modules
    "from-torch json:loads": (["report", "--from-torch", "json:loads"], 2, "loads() failed: TypeError"),
    "from-torch relative": (["report", "--from-torch", "..:x"], 2, "write MODULE:FACTORY"),
    "non-UTF-8 argument": (["report", "vgg16", "-o", "\udcff"], 2, "is not valid UTF-8"),
    "repeated keyword": (["compare", "conv2d(8, 3, stride=2, stride=3)", "conv2d(8, 3)"], 2,
                         "keyword 'stride' is given twice"),
    "positional and keyword": (["compare", "conv2d(8, 3, out_channels=4)", "conv2d(8, 3)"], 2,
                               "'out_channels' is given twice"),
    "explain a call": (["explain", "conv2d(96, 11, stride=4)", "--input", "3,227,227"], 0,
                       "C_in*C_out*K**2 + C_out"),
    "explain a call: numbers": (["explain", "conv2d(96, 11, stride=4)", "--input", "3,227,227"], 0, "34,944"),
    "explain a call: substituted": (["explain", "conv2d(96, 11, stride=4)", "--input", "3,227,227"], 0,
                                    "floor((2*0 - 11 + 227)/4) + 1"),
    "explain a call as markdown": (["explain", "conv2d(96, 11, stride=4)", "--input", "3,227,227", "--format",
                                    "markdown"], 0, r"| $34{,}944$ |"),
    "explain conv4d": (["explain", "conv4d"], 2, "did you mean 'Conv3d'?"),
    "version": (["--version"], 0, "symcost 0.1.0"),
    # the receptive-field column and totals
    "rf column": (["report", "vgg16"], 0, "size 3 · stride 1 · pad 1"),
}


def _fill(text: str, names: dict[str, str]) -> str:
    for name, value in names.items():
        text = text.replace("{" + name + "}", value)
    return text


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        status = main(argv)
    except SystemExit as exit_:  # argparse's --version
        status = exit_.code
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_command_line(case, tmp_path, capsys):
    argv, status, fragment = CASES[case]
    files = _specs(tmp_path)
    argv = [_fill(a, {"tmp": str(tmp_path), **files}) for a in argv]
    got, out, err = _run(argv, capsys)
    assert got == status, (out, err)
    if status == 2:
        assert err.startswith("symcost: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
        assert fragment in err
    else:
        assert fragment in out, out


def test_rf_json_has_one_shape(capsys):
    """Every rf has size/stride/padding and a width object, square or not (Conv2d 3x1 on 3x8x8)."""
    status, out, _ = _run(["compare", "conv2d(8, 3)", "conv2d(8, 1)"], capsys)
    assert status == 0
    status, out, err = _run(["report", "vgg16", "--format", "json"], capsys)
    report = json.loads(out)
    for rf in [report["total"]["rf"], *(layer["rf"] for layer in report["layers"])]:
        assert set(rf) == {"size", "stride", "padding", "width"}
        assert set(rf["width"]) == {"size", "stride", "padding"}
    assert report["total"]["rf"]["width"]["size"]["value"] == 404


def test_rf_totals_show_both_axes(tmp_path, capsys):
    spec = tmp_path / "rect.yaml"
    spec.write_text("input: [3, 8, 8]\nlayers:\n  - {kind: conv2d, out_channels: 4, kernel_size: [3, 1]}\n")
    status, out, err = _run(["report", str(spec)], capsys)
    assert status == 0, err
    assert "size 3 × 1 · stride 1 · pad 0" in out
    assert "Receptive field    size 3 × 1, stride 1, padding 0" in out


# Cases that need the process's own stdout or environment.
PROCESS_CASES = {
    "stdout /dev/full": ("report vgg16 > /dev/full", {}, "cannot write to stdout: No space left on device"),
    "stdout closed": ("report vgg16 >&-", {}, "stdout is closed"),
    "ascii stdout, non-ASCII name": ("report {uni.yaml}", {"PYTHONIOENCODING": "ascii"}, "stdout (ascii) cannot show"),
}


@pytest.mark.parametrize("case", list(PROCESS_CASES))
def test_hostile_process(case, tmp_path):
    command, env, fragment = PROCESS_CASES[case]
    files = _specs(tmp_path)
    shell = f"{sys.executable} -m symcost {_fill(command, files)}"
    done = subprocess.run(["sh", "-c", shell], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env})
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("symcost: error: ") and done.stderr.count("\n") == 1, done.stderr
    assert fragment in done.stderr
