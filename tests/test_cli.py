"""The command line: listings built from the catalogue, errors without tracebacks."""

import subprocess
import sys

from symcost.cli import main


def test_layers_lists_every_kind_with_its_formula(capsys):
    assert main(["layers"]) == 0
    out = capsys.readouterr().out
    assert "Conv2d" in out and "Upsample" in out
    # the exact FLOPs of Linear in free symbols, with bias: 2*D_in*D_out
    assert any(line.split()[0] == "Linear" and line.endswith("2*D_in*D_out") for line in out.splitlines())


def test_explain_shows_every_quantity(capsys):
    assert main(["explain", "conv_2d"]) == 0
    out = capsys.readouterr().out
    assert "floor((H - K + 2*P)/S) + 1" in out
    assert "receptive field step 1" in out


def test_unknown_kind_exits_2_with_one_line():
    done = subprocess.run([sys.executable, "-m", "symcost", "explain", "conv4d"], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.startswith("symcost: error: unknown layer kind 'conv4d'; did you mean 'Conv3d'? known kinds: ")
    assert "Traceback" not in done.stderr
