"""Paper-ready output (issue 17): tables that fit a default article, named sizes, text lines <= 160."""

import re
import shutil
import subprocess

import pytest

import symcost as sc
from symcost.cli import main
from symcost.core.errors import SymcostError
from symcost.frontends import zoo
from symcost.printing.markup import escape_latex
from symcost.symbols import H, W

import os

#: The zoo-wide sweeps take minutes on the shared machine: run them with SYMCOST_SLOW=1 (the lead's full run).
slow = pytest.mark.skipif(not os.environ.get("SYMCOST_SLOW"), reason="zoo-wide sweep; set SYMCOST_SLOW=1")
pdflatex = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")


def _reports():
    """Every zoo model, numeric and (when it analyzes on H, W) symbolic, in both floor modes."""
    for name in zoo.names():
        model = zoo.get(name)
        shapes = [model.input_shape] + ([sc.Shape(model.input_shape.C, H, W)] if model.input_shape.is_feature_map else [])
        for floor in ("exact", "divisible"):
            for shape in shapes:
                try:
                    yield f"{name} {floor} {shape}", model.analyze(shape, floor=floor)
                except SymcostError:  # e.g. gpt2's positions need numbers; fusionnet's skips need floor=divisible
                    continue


def _overfull(body: str, tmp_path) -> list[str]:
    doc = ("\\documentclass{article}\n\\usepackage{amsmath}\\usepackage{graphicx}\\usepackage{booktabs}"
           "\\usepackage{longtable}\n\\begin{document}\n" + body + "\\end{document}\n")
    (tmp_path / "t.tex").write_text(doc)
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"], cwd=tmp_path,
                   capture_output=True, timeout=120, check=True)
    log = (tmp_path / "t.log").read_text(errors="replace")
    return re.findall(r"Overfull \\hbox \([\d.]+pt too wide\)[^\n]*", log)


@slow
@pdflatex
def test_every_zoo_table_fits_a_default_article(tmp_path):
    body = "".join(f"\\section*{{{escape_latex(what)}}}\n{report.to_latex()}\n\\clearpage\n"
                   for what, report in _reports())
    assert body.count("\\section*") >= 2 * len(zoo.names())
    assert _overfull(body, tmp_path) == []


@slow
def test_no_text_line_over_160_characters(capsys):
    for what, report in _reports():
        if report.input_shape.free_symbols:
            lines = str(report).splitlines()
            assert max(map(len, lines)) <= 160, what


def test_named_sizes_in_latex_and_text():
    report = zoo.get("resnet50").analyze(sc.Shape(3, H, W))
    latex = report.to_latex()
    assert r"$64 \times H_{1} \times W_{1}$" in latex  # conv1's output
    assert r"H_{1} = \left\lceil H / 2 \right\rceil" in latex
    text = str(report)
    assert "Where              H_1 = ceil(H/2), W_1 = ceil(W/2)" in text
    # the MACs by hand: 9408 = 64*3*7*7 per output pixel of conv1
    assert "MACs               9408*H_1*W_1 + 245760*H_2*W_2" in text
    assert "H_{1}" not in report.to_latex(expand=True)


def test_cli_latex_for_papers(capsys, tmp_path):
    out = tmp_path / "t.tex"
    assert main(["report", "resnet18", "--format", "latex", "--standalone", "--caption", "ResNet-18 & 50% of #1",
                 "--label", "tab:r18", "--columns", "params,macs", "-o", str(out)]) == 0
    tex = out.read_text()
    assert tex.startswith("\\documentclass") and "\\caption{ResNet-18 \\& 50\\% of \\#1}\\label{tab:r18}" in tex
    assert "Layer & Params & MACs \\\\" in tex
    assert main(["report", "resnet18", "--format", "latex", "--label", "x}\\input{/etc/passwd"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_print_report_is_the_text_table():
    report = sc.Sequential(sc.Conv2d(8, 3, name="c")).analyze(sc.Shape(3, 8, 8))
    # 8*3*3*3 = 216 MACs per output pixel, 6*6 pixels
    assert "c      Conv2d  (8, 6, 6)        224  7,776" in str(report)
