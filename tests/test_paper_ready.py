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

pdflatex = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")


_CACHE: list = []


def _reports():
    """Every zoo model, numeric and (when it analyzes on H, W) symbolic, in both floor modes (built once)."""
    if not _CACHE:
        _CACHE.extend(_build())
    return list(_CACHE)


def _build():
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


@pdflatex
def test_every_zoo_table_fits_a_default_article(tmp_path):
    body = "".join(f"\\section*{{{escape_latex(what)}}}\n{report.to_latex()}\n\\clearpage\n"
                   for what, report in _reports())
    assert body.count("\\section*") >= 2 * len(zoo.names())
    assert "(1) features FLOPs:" in body  # a sum too wide for its cell went to a note (VGG on H, W)
    assert _overfull(body, tmp_path) == []


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


def test_group_by_stage_and_columns(capsys):
    assert main(["report", "resnet50", "--input", "3,H,W", "--format", "latex", "--group-by", "stage",
                 "--columns", "output,params,macs"]) == 0
    out = capsys.readouterr().out
    assert "Layer & Output & Params & MACs \\\\" in out
    # layer1 by hand: block 0 64*64 + 64*64*9 + 64*256 + 64*256 (downsample) = 73,728 MACs per pixel of H_2 x W_2,
    # blocks 1 and 2 256*64 + 64*64*9 + 64*256 = 69,632 each: 212,992; params add the batch norms' 2*C
    assert r"layer1 & $256 \times H_{2} \times W_{2}$ & $215{,}808$ & $212{,}992 H_{2} W_{2}$ \\" in out


def test_compare_and_explain_as_latex_derivations(capsys):
    assert main(["compare", "separable_conv2d(C_out, K, padding=same)", "conv2d(C_out, K, padding=same)",
                 "--metric", "macs", "--break-even", "C_out", "--format", "latex"]) == 0
    out = capsys.readouterr().out
    # depthwise K^2 + pointwise C_out over C_out K^2: 1/C_out + 1/K^2; equal when C_out = K^2/(K^2 - 1)
    assert r"= \frac{1}{C_{\mathrm{out}}} + \frac{1}{K^{2}}" in out
    assert r"C_{\mathrm{out}} &= \frac{K^{2}}{K^{2} - 1} && \text{(break-even)}" in out
    assert main(["explain", "conv2d(96, 11, stride=4)", "--input", "3,227,227", "--format", "latex"]) == 0
    out = capsys.readouterr().out
    # (227 - 11)/4 = 54, + 1 = 55; MACs 3*96*55*55*121 = 105,415,200
    assert (r"H_{\mathrm{out}} &= \left\lfloor \frac{H - K + 2 P}{S} \right\rfloor + 1 = "
            r"\left\lfloor \frac{227 - 11 + 2 \cdot 0}{4} \right\rfloor + 1 = 55") in out
    assert "&= 105{,}415{,}200" in out


def test_sympy_prints_symcost_symbols_by_their_names():
    import sympy
    from symcost.symbols import C_in, C_out
    assert sympy.latex(C_out) == r"C_{\mathrm{out}}"
    assert sympy.latex(C_in * C_out) == r"C_{\mathrm{in}} C_{\mathrm{out}}"


def test_jupyter_html_header_typesets_the_shape():
    from symcost.symbols import C_in
    html = sc.Conv2d(8, 3).cost(sc.Shape(C_in, W, W))._repr_mimebundle_()["text/html"]
    assert r"on $C_{\mathrm{in}} \times W \times W$" in html and "C_in×W×W" not in html
