"""A converted model's notes (``Model.notes``: a size its code fixed, constants folded, a fallback
reader) reach its report and every output format, escaped: nothing the reader recorded is dropped."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import sympy

import symcost as sc
from symcost.printing.json_view import report_view
from symcost.printing.jupyter import mimebundle
from symcost.printing.text import LINE_WIDTH, report_table
from symcost.symbols import B

from test_render import compile_latex

NOTE = "mask_1 & pos_ids: <script>alert(1)</script> folded, 50% of $x"
LONG = "computed from constants only (masks, positions), counted as constants: " + ", ".join(
    f"aten.op_{i}" for i in range(40))


def noted_model(*notes: str) -> sc.Model:
    body = sc.Sequential(sc.Linear(3, name="fc"))
    return sc.Model(body, name="probe", input_shape=sc.Shape(4), notes=notes)


def cli_text(report: sc.Report) -> str:
    """What ``symcost report`` prints in text (cli.report_command's text branch)."""
    return report_table(report_view(report, "float32", named=True))


def test_report_carries_the_models_notes_through_subs_batched_and_divisible() -> None:
    model = noted_model(NOTE, "second")
    report = model.analyze()
    assert report.notes == (NOTE, "second")
    assert report.batched(B).notes == (NOTE, "second")
    assert report.batched(B).subs(B=2).notes == (NOTE, "second")
    assert model.analyze(floor="divisible").notes == (NOTE, "second")
    assert sc.Sequential(sc.Linear(3)).analyze(sc.Shape(4)).notes == ()  # a plain network has none


def test_text_table_prints_each_note_after_the_totals() -> None:
    lines = cli_text(noted_model(NOTE, "second").analyze()).splitlines()
    notes = [line for line in lines if line.startswith("Note ")]
    assert notes == [f"{'Note':<19}{NOTE}", f"{'Note':<19}second"]
    assert lines.index(notes[0]) > next(i for i, line in enumerate(lines) if line.startswith("Receptive field"))
    assert str(noted_model(NOTE).analyze()).splitlines()[-1] == f"{'Note':<19}{NOTE}"


def test_a_long_note_wraps_within_the_line_width_and_loses_nothing() -> None:
    lines = cli_text(noted_model(LONG).analyze()).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Note "))
    note = lines[start:]
    assert len(note) >= 2 and all(len(line) <= LINE_WIDTH for line in note)
    assert all(line.startswith(" " * 19) for line in note[1:])
    assert " ".join(line[19:] for line in note) == LONG


def test_json_lists_the_notes() -> None:
    view = json.loads(json.dumps(report_view(noted_model(NOTE, "second").analyze())))
    assert view["notes"] == [NOTE, "second"]
    assert report_view(sc.Sequential(sc.Linear(3)).analyze(sc.Shape(4)))["notes"] == []


def test_markdown_shows_the_notes_escaped() -> None:
    text = noted_model(NOTE).analyze().to_markdown()
    assert r"Note: mask\_1 & pos\_ids: \<script\>alert(1)\</script\> folded, 50% of \$x" in text
    assert "<script>" not in text


def test_latex_shows_the_notes_escaped() -> None:
    text = noted_model(NOTE).analyze().to_latex()
    assert (r"Note: mask\_1 \& pos\_ids: \textless{}script\textgreater{}alert(1)\textless{}/script\textgreater{} "
            r"folded, 50\% of \$x") in text


def test_jupyter_html_shows_the_notes_escaped() -> None:
    bundle = mimebundle(noted_model(NOTE).analyze())
    html = bundle["text/html"]
    assert "Note: mask_1 &amp; pos_ids: &lt;script&gt;alert(1)&lt;/script&gt; folded, 50% of $x" in html
    assert "<script>" not in html
    assert "Note: mask\\_1 \\&" in bundle["text/latex"]
    assert NOTE in bundle["text/plain"]


def test_a_latex_report_with_notes_compiles_and_prints_them_literally(tmp_path: Path) -> None:
    source = noted_model(NOTE, LONG).analyze().to_latex(standalone=True)
    pdf = compile_latex(source, tmp_path)
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: checked that the source compiles only")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "<script>alert(1)</script> folded, 50% of $x" in " ".join(text.split())


def test_a_converted_models_folded_constant_mask_reaches_the_report() -> None:
    torch = pytest.importorskip("torch")

    class Masked(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = torch.nn.Linear(4, 4)

        def forward(self, x):  # a mask from constants only: torch.export folds it into a constant
            return self.fc(x + torch.ones(4, 4).tril().sum(0))

    L = sympy.Symbol("L", positive=True, integer=True)
    model = sc.from_torch(Masked(), (L, 4))
    assert any("computed from constants only" in n and "aten.tril" in n for n in model.notes)
    report = model.analyze()
    assert report.notes == tuple(model.notes)
    text = cli_text(report)
    assert "Note               computed from constants only (masks, positions), counted as constants: " in text
    assert "aten.tril" in text.split("Note ", 1)[1]
    assert report_view(report)["notes"] == list(model.notes)
