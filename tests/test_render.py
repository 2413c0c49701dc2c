"""Templates: golden files, LaTeX that compiles, escaping, the sandbox, Jupyter bundles.

Golden files live in tests/golden/. After a deliberate change to a template,
rewrite them with ``python -m pytest tests/test_render.py --regenerate-golden``
(or SYMCOST_REGENERATE_GOLDEN=1) and read the diff.

The compile checks run pdflatex; they are skipped where it is absent, except
in CI (CI=true), where a missing pdflatex fails them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import sympy

import symcost as sc
from symcost.printing.markup import LaTeX, escape_latex, escape_markdown, tex
from symcost.printing.jinja import builtin, document, to_html, to_text
from symcost.symbols import C_in, C_out, D, H, K, P, S, W

GOLDEN = Path(__file__).parent / "golden"
SPECIALS = "_ % & # $ { } ~ ^ \\"


# -- fixed inputs -------------------------------------------------------------

def alexnet_conv1() -> sc.Conv2d:
    return sc.Conv2d(96, 11, stride=4, name="conv1")


def separable_vs_standard() -> sc.Comparison:
    sep = sc.SeparableConv2d(C_out, K, padding="same")
    std = sc.Conv2d(C_out, K, padding="same")
    return sc.comparison(sep, std, "flops", sc.Shape(C_in, W, W), solve_for=C_out, labels=("separable", "standard"))


def small_net() -> sc.Report:
    block = sc.Sequential(sc.Conv2d(32, 3, padding=1, bias=False), sc.BatchNorm2d(), sc.ReLU(), name="stem")
    head = sc.Sequential(sc.AdaptiveAvgPool2d(1), sc.Flatten(), sc.Linear(10), name="head")
    return sc.Sequential(block, sc.MaxPool2d(2, name="pool"), head, name="").analyze(sc.Shape(3, H, W))


def special_names() -> sc.Report:
    """Every character LaTeX treats specially, in layer and container names."""
    body = sc.Sequential(sc.Conv2d(8, 3, padding=1, name="conv_1 {50%}"), sc.ReLU(name="a&b #2 $x"),
                         name="grp~^\\")
    return sc.Sequential(body, sc.MaxPool2d(2, name="<pool>|"), name="").analyze(sc.Shape(3, 16, 16))


def vgg16_divisible() -> sc.Report:
    return sc.zoo.vgg16().analyze(sc.Shape(3, H, W), floor="divisible")


#: name -> rendering; the suffix says the format.
CASES = {
    "derivation_conv1.tex": lambda: alexnet_conv1().to_latex(shape=sc.Shape(3, 227, 227)),
    "derivation_conv1.md": lambda: alexnet_conv1().to_markdown(shape=sc.Shape(3, 227, 227)),
    "derivation_conv1.html": lambda: to_html(alexnet_conv1(), shape=sc.Shape(3, 227, 227)),
    "derivation_dilated_symbolic.tex": lambda: sc.Conv2d(C_out, K, stride=S, padding=P, dilation=D)
    .cost(sc.Shape(C_in, H, W)).to_latex(),
    "derivation_cost_values.tex": lambda: sc.Conv2d(C_out, K, stride=S, padding=P).cost(sc.Shape(C_in, W, W))
    .to_latex(values={"C_in": 3, "C_out": 96, "K": 11, "S": 4, "P": 0, "W": 227}),
    "derivation_transposed_macs.tex": lambda: sc.ConvTranspose2d(16, 4, stride=2, padding=1)
    .to_latex(shape=sc.Shape(32, 8, 8), convention="macs"),
    "derivation_batchnorm_canonical.tex": lambda: sc.BatchNorm2d().to_latex(),
    "table_small_symbolic.tex": lambda: small_net().to_latex(),
    "table_small_both_units.tex": lambda: small_net().to_latex(values={"H": 32, "W": 32}, units=True,
                                                             caption="A small network", label="tab:small"),
    "table_small_both.md": lambda: small_net().to_markdown(values={"H": 32, "W": 32}),
    "table_small_symbolic.md": lambda: small_net().to_markdown(metric="macs"),
    "table_small_numeric.html": lambda: to_html(small_net(), values={"H": 32, "W": 32}, columns="numeric"),
    "table_small_both.txt": lambda: to_text(small_net(), values={"H": 32, "W": 32}),
    "table_specials.tex": lambda: special_names().to_latex(),
    "table_specials.md": lambda: special_names().to_markdown(),
    "table_alexnet_numeric.tex": lambda: sc.zoo.alexnet().analyze(sc.Shape(3, 224, 224)).to_latex(),
    "table_vgg16_both.tex": lambda: vgg16_divisible().to_latex(values={"H": 224, "W": 224}, caption="VGG-16"),
    "table_resnet18_symbolic_macs.tex": lambda: sc.zoo.resnet18().analyze(sc.Shape(3, H, W), floor="divisible")
    .to_latex(metric="macs"),
    "comparison_separable.tex": lambda: separable_vs_standard().to_latex(),
    "comparison_separable.md": lambda: separable_vs_standard().to_markdown(),
    "comparison_separable.html": lambda: to_html(separable_vs_standard()),
    "document_alexnet_units.tex": lambda: sc.zoo.alexnet().analyze(sc.Shape(3, 224, 224))
    .to_latex(standalone=True, units=True, caption=LaTeX(r"AlexNet at $224 \times 224$")),
}


@pytest.fixture
def regenerate(request) -> bool:
    return bool(request.config.getoption("--regenerate-golden") or os.environ.get("SYMCOST_REGENERATE_GOLDEN"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str, regenerate: bool) -> None:
    rendered = CASES[name]()
    path = GOLDEN / name
    if regenerate:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
    assert path.exists(), f"no golden file {path}; run with --regenerate-golden"
    assert rendered == path.read_text(encoding="utf-8"), f"{name} changed; rerun with --regenerate-golden if intended"


def test_every_golden_file_has_a_case() -> None:
    assert sorted(p.name for p in GOLDEN.iterdir()) == sorted(CASES)


# -- LaTeX that compiles --------------------------------------------------------

def pdflatex() -> str:
    """The pdflatex executable: skipped where it is absent, but in CI a missing one is a failure."""
    found = shutil.which("pdflatex")
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("pdflatex is missing in CI: .ci/run installs texlive-latex-base and -recommended")
        pytest.skip("pdflatex is not installed (apt-get install texlive-latex-base texlive-latex-recommended)")
    return found


def compile_latex(source: str, directory: Path, name: str = "doc") -> Path:
    """Compile a standalone document with ``pdflatex -halt-on-error``; return the PDF.

    A longtable settles its column widths over later runs, as in any document:
    pdflatex runs again while its log asks for it.
    """
    executable = pdflatex()
    (directory / f"{name}.tex").write_text(source, encoding="utf-8")
    for _ in range(4):
        run = subprocess.run([executable, "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
                             cwd=directory, capture_output=True, text=True, timeout=120, check=False)
        assert run.returncode == 0, f"pdflatex failed on {name}:\n" + run.stdout[-3000:]
        if "Rerun LaTeX" not in (directory / f"{name}.log").read_text(errors="replace"):
            break
    return directory / f"{name}.pdf"


def standalone(source: str) -> str:
    return source if source.lstrip().startswith("\\documentclass") else document(source)


@pytest.mark.parametrize("name", sorted(n for n in CASES if n.endswith(".tex")))
def test_golden_latex_compiles(name: str, tmp_path: Path) -> None:
    pdf = compile_latex(standalone((GOLDEN / name).read_text(encoding="utf-8")), tmp_path)
    assert pdf.stat().st_size > 1000
    assert "Overfull \\hbox" not in (tmp_path / "doc.log").read_text(errors="replace")


def test_special_characters_in_names_compile_and_print_literally(tmp_path: Path) -> None:
    source = special_names().to_latex(standalone=True)
    for escaped in (r"conv\_1 \{50\%\}", r"a\&b \#2 \$x", r"grp\textasciitilde{}\textasciicircum{}\textbackslash{}",
                    r"\textless{}pool\textgreater{}\textbar{}"):
        assert escaped in source
    pdf = compile_latex(source, tmp_path)
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: checked the escaped source only")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for literal in ("conv_1 {50%}", "a&b #2 $x", "grp~^\\", "<pool>|"):
        assert literal in text, f"{literal!r} not printed literally in:\n{text}"


def test_report_mimebundle_has_three_types_and_its_latex_compiles(tmp_path: Path) -> None:
    bundle = vgg16_divisible()._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/latex", "text/html"}
    assert "\\begin{longtable}" in bundle["text/latex"] and "\\toprule" in bundle["text/latex"]
    assert "$64 \\times H \\times W$" in bundle["text/html"]
    assert "features" in bundle["text/plain"] and "Conv2d" in bundle["text/plain"]
    compile_latex(document(bundle["text/latex"]), tmp_path)


@pytest.mark.parametrize("subject", [
    lambda: alexnet_conv1(),
    lambda: sc.Conv2d(C_out, K, stride=S, padding=P).cost(sc.Shape(C_in, W, W)),
    separable_vs_standard,
    lambda: sc.derive(sc.Linear(10), sc.Shape(512)),
], ids=["layer", "cost", "comparison", "derivation"])
def test_math_bundles_typeset_in_latex(subject, tmp_path: Path) -> None:
    obj = subject()
    bundle = obj._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/latex", "text/html"}
    assert bundle["text/latex"].startswith("$\\displaystyle \\begin{aligned}")
    assert bundle["text/latex"].endswith("\\end{aligned}$")
    compile_latex(document(bundle["text/latex"]), tmp_path)


def test_mimebundle_honours_include_and_exclude() -> None:
    rep = small_net()
    assert set(rep._repr_mimebundle_(include=["text/html"])) == {"text/html"}
    assert set(rep._repr_mimebundle_(exclude=["text/latex"])) == {"text/plain", "text/html"}


# -- what the renderings say ----------------------------------------------------

def test_separable_ratio_prints_as_papers_write_it() -> None:
    # the ratio as derived: the two costs over each other, then lowest terms
    assert (r"&= \frac{2 C_{\mathrm{in}} W^{2} \left(K^{2} + C_{\mathrm{out}}\right)}"
            r"{2 C_{\mathrm{in}} C_{\mathrm{out}} K^{2} W^{2}} = \frac{1}{C_{\mathrm{out}}} + \frac{1}{K^{2}}"
            in separable_vs_standard().to_latex())
    assert r"C_{\mathrm{out}} &= \frac{K^{2}}{K^{2} - 1}" in separable_vs_standard().to_latex()
    macs = sc.comparison(sc.SeparableConv2d(C_out, K, padding="same", bias=False),
                         sc.Conv2d(C_out, K, padding="same", bias=False), "flops", sc.Shape(C_in, W, W),
                         convention="macs")
    assert macs.ratio == 1 / C_out + 1 / K**2
    assert r"\frac{1}{C_{\mathrm{out}}} + \frac{1}{K^{2}}" in macs._repr_latex_()


def test_comparison_is_immutable_and_exact() -> None:
    c = separable_vs_standard()
    with pytest.raises(AttributeError):
        c.ratio = 0  # type: ignore[misc]
    assert c.break_even == (K**2 / (K**2 - 1),)


def test_derivation_of_alexnet_conv1_matches_published_figures() -> None:
    """AlexNet conv1 on 227x227: 55x55x96 output, 34,944 parameters, 105,415,200 MACs."""
    d = sc.derive(alexnet_conv1(), sc.Shape(3, 227, 227))
    values = {step.key: step.value for step in d.steps}
    assert values["H_out"] == 55 and values["W_out"] == 55
    assert (values["params"], values["macs"]) == (34944, 105415200)
    latex = alexnet_conv1().to_latex(shape=sc.Shape(3, 227, 227))
    assert r"\left\lfloor \frac{227 - 11 + 2 \cdot 0}{4} \right\rfloor + 1 = 55" in latex
    assert "105{,}415{,}200" in latex


@pytest.mark.parametrize("layer, shape", [
    (sc.Conv2d(64, (3, 5), stride=(1, 2), padding=(1, 2), dilation=2), (3, 32, 32)),
    (sc.Conv2d(32, 3, padding=1, groups=32, bias=False), (32, 56, 56)),
    (sc.ConvTranspose2d(16, 3, stride=2, padding=1, output_padding=1), (32, 8, 8)),
    (sc.SeparableConv2d(64, 3, padding=1), (32, 56, 56)),
    (sc.MaxPool2d(3, stride=2, ceil_mode=True), (64, 55, 55)),
    (sc.BatchNorm2d(64), (64, 8, 8)),
    (sc.Linear(10), (512,)),
    (sc.Conv2d(64, 3, padding="same"), (3, 32, 32)),
])
def test_derivation_values_equal_the_layer_cost(layer, shape) -> None:
    """The symbolic twin with its values put back is the layer itself, quantity by quantity."""
    cost = layer.cost(sc.Shape(*shape))
    d = sc.derive(layer, sc.Shape(*shape))
    expected = {"params": cost.params.total, "macs": cost.macs, "flops": cost.flops()}
    got = {step.key: step.value for step in d.steps}
    assert {k: got[k] for k in expected} == expected
    assert tuple(step.value for step in d.steps if step.symbols for _ in step.symbols) == tuple(cost.out_shape)


def test_columns_need_numbers_and_say_so() -> None:
    with pytest.raises(sc.InvalidArgumentError, match="columns other than 'symbolic' need numbers"):
        small_net().to_latex(columns="numeric")
    with pytest.raises(sc.InvalidArgumentError, match="columns must be one of"):
        small_net().to_latex(columns="wide")
    with pytest.raises(sc.InvalidArgumentError, match="metric must be one of"):
        small_net().to_latex(metric="params")


def test_long_tables_use_longtable() -> None:
    assert "\\begin{longtable}" in vgg16_divisible().to_latex()           # 40 layers in 2 groups
    alexnet = sc.zoo.alexnet().analyze(sc.Shape(3, 224, 224))
    assert "\\begin{tabular}" in alexnet.to_latex()                       # 22 layers
    assert "\\begin{longtable}" in alexnet.to_latex(longtable=True)
    assert "\\begin{tabular}" in vgg16_divisible().to_latex(longtable=False)


def test_numbers_are_grouped_or_in_units_without_siunitx() -> None:
    rep = sc.zoo.alexnet().analyze(sc.Shape(3, 224, 224))
    assert "61,100,840" in rep.to_latex() and "61.1M" in rep.to_latex(units=True)
    assert "siunitx" not in rep.to_latex(standalone=True) and "\\num" not in rep.to_latex()


def test_groups_follow_containers_with_subtotals() -> None:
    md = sc.zoo.alexnet().analyze(sc.Shape(3, 224, 224)).to_markdown()
    assert "| ***features*** | | | *2,469,696* | *1,312,324,608* | |" in md
    assert "| ***classifier*** |" in md and "| **Total** |" in md


# -- escaping and the environment ------------------------------------------------------

def test_latex_escape_is_one_pass() -> None:
    assert escape_latex("\\{") == r"\textbackslash{}\{"   # the braces of the escape are not escaped again
    assert escape_latex(SPECIALS) == (r"\_ \% \& \# \$ \{ \} \textasciitilde{} \textasciicircum{} "
                                      r"\textbackslash{}")
    assert escape_latex("line\nbreak") == "line break"


def test_markdown_escape() -> None:
    assert escape_markdown("a_b|c*d$e") == r"a\_b\|c\*d\$e"


def test_finalize_routes_formulas_marked_latex_and_text() -> None:
    assert tex(sympy.Integer(4089184256)) == "4{,}089{,}184{,}256"
    assert isinstance(escape_latex("x"), LaTeX)
    page = document("$x_1$", title="a_b")
    assert "\\section*{a\\_b}" in page and "\n$x_1$\n" in page


def test_builtin_templates_refuse_missing_variables() -> None:
    import jinja2

    with pytest.raises(jinja2.UndefinedError):
        builtin("table.tex", {})


def test_environment_is_built_once_from_package_data() -> None:
    from symcost.printing.jinja import environment, latex_environment

    assert environment() is environment() and latex_environment() is latex_environment()
    assert {"table.tex", "derivation.tex", "comparison.tex", "document.tex"} <= set(environment().list_templates())


# -- users' templates, sandboxed ------------------------------------------------------

def test_user_template_renders_the_same_view_model(tmp_path: Path) -> None:
    template = tmp_path / "rows.tex"
    template.write_text("%% for g in groups\n%% for r in g.rows\n\\VAR{r.qualified} & $\\VAR{r.params.latex}$ \\\\\n"
                        "%% endfor\n%% endfor\n", encoding="utf-8")
    assert sc.render(special_names(), template).splitlines()[0] == r"grp\textasciitilde{}\textasciicircum{}" \
        r"\textbackslash{}.conv\_1 \{50\%\} & $224$ \\"
    assert special_names().to_latex(template=template, standalone=True).startswith("\\documentclass")


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__ }}",
    "{{ model.__class__.__mro__[1].__subclasses__() }}",
    "{{ groups.append(1) }}",
    "{{ cycler.__init__.__globals__ }}",
])
def test_sandbox_refuses_python_internals(source: str, tmp_path: Path) -> None:
    template = tmp_path / "evil.md"
    template.write_text(source, encoding="utf-8")
    with pytest.raises(sc.TemplateSecurityError, match="unsafe|undefined"):
        sc.render(small_net(), template)


def test_user_template_errors_are_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "typo.md").write_text("{{ modle }}", encoding="utf-8")
    with pytest.raises(sc.TemplateError, match="'modle' is undefined; the view model has .*model"):
        sc.render(small_net(), tmp_path / "typo.md")
    (tmp_path / "broken.tex").write_text("\\BLOCK{for x in}", encoding="utf-8")
    with pytest.raises(sc.TemplateError, match="line 1"):
        sc.render(small_net(), tmp_path / "broken.tex")
    with pytest.raises(sc.TemplateError, match="unknown format"):
        sc.render(small_net(), tmp_path / "x.docx")
    with pytest.raises(sc.TemplateError, match="goes in shape="):
        alexnet_conv1().to_latex(sc.Shape(3, 227, 227))


def test_every_layer_kind_displays_and_its_derivation_compiles(tmp_path: Path) -> None:
    """Each registered kind, on its catalogue shape and on numbers: three types, LaTeX that typesets."""
    from symcost.layers.catalogue import examples

    blocks = []
    for example in examples():
        layer = example.layer
        bundle = layer._repr_mimebundle_()
        assert set(bundle) == {"text/plain", "text/latex", "text/html"}, layer.kind
        blocks.append(bundle["text/latex"])
        numeric = example.cost().subs({"C_in": 8, "C": 8, "H": 12, "W": 10, "C_out": 4, "K": 3, "S": 2, "P": 1,
                                       "D_in": 6, "D_out": 5, "s": 2})
        blocks.append(numeric._repr_latex_())
    compile_latex(document("\n\n".join(blocks)), tmp_path)
