"""Hardware presets, the roofline, crossovers and the decode rate bound (issue 16).

Expected values are derived by hand from the datasheet figures and the layers' formulas;
crossovers are checked by substituting the integers on both sides of the crossing point.
"""

from __future__ import annotations

import json
import math

import pytest
import sympy

import symcost as sc
from symcost.cli import main
from symcost.core.errors import HardwareError, SymcostError, UnknownHardwareError
from symcost.core.hardware import get_hardware, load_hardware, loads_hardware, presets
from symcost.networks.roofline import compute_bound_at, tokens_per_second
from symcost.symbols import B, symbol

T12 = 10**12

# Datasheet figures, dense (half the sparse figure where only that is printed): (peak bf16 FLOP/s, bytes/s).
DATASHEET = {
    "a100-40gb": (312 * T12, 1555 * 10**9),
    "a100-80gb": (312 * T12, 2039 * 10**9),
    "h100-sxm": (sympy.Rational(1979, 2) * T12, sympy.Rational(335, 100) * T12),
    "h100-pcie": (sympy.Rational(1513, 2) * T12, 2 * T12),
    "h200": (sympy.Rational(1979, 2) * T12, sympy.Rational(48, 10) * T12),
    "b200": (sympy.Rational(45, 20) * 10**15, sympy.Rational(77, 10) * T12),
    "rtx-4090": (sympy.Rational(1652, 10) * T12, 1008 * 10**9),
    "epyc-9654": (96 * sympy.Rational(24, 10) * 10**9 * 16 * 2 * 2, 12 * 4800 * 10**6 * 8),
}


@pytest.mark.parametrize("key", sorted(DATASHEET))
def test_presets_hold_the_datasheet_figures_exactly(key):
    hw = get_hardware(key)
    peak, bandwidth = DATASHEET[key]
    assert (hw.peak_flops("bfloat16"), hw.bandwidth) == (peak, bandwidth)
    assert isinstance(hw.bandwidth, sympy.Rational) and hw.source.startswith("https://")
    assert hw.ridge("bfloat16") == sympy.Rational(peak) / bandwidth


def test_every_preset_lists_float32_and_bfloat16():
    assert set(DATASHEET) == set(presets())
    for hw in presets().values():
        assert {"float32", "bfloat16"} <= set(hw.peak) and all(v > 0 for v in hw.peak.values())


def _linear_roofline(K, N, batch=1):
    rep = sc.Sequential(sc.Linear(N, bias=False)).analyze(sc.Shape(K))
    return (rep.batched(batch) if batch != 1 else rep).roofline("h100-sxm", "bfloat16")


def test_a_matrix_vector_product_is_memory_bound():
    rf = _linear_roofline(4096, 4096)
    # flops2: 2*K*N; bytes (bf16): 2*(K*N weights + K in + N out)
    flops, nbytes = 2 * 4096 * 4096, 2 * (4096 * 4096 + 2 * 4096)
    assert (rf.total.flops, rf.total.bytes) == (flops, nbytes)
    assert rf.total.intensity == sympy.Rational(flops, nbytes)
    assert rf.total.time == sympy.Rational(nbytes) / DATASHEET["h100-sxm"][1]
    assert rf.total.bound == "memory" and rf.rows[0].bound == "memory"


def test_the_batch_crossover_of_a_linear_layer_holds_on_both_sides():
    K = N = 4096
    rf = _linear_roofline(K, N, B)
    P, M = DATASHEET["h100-sxm"]
    # 2*K*N*B*M = P*(2*K*N + 2*B*(K + N))  =>  B* = P*K*N / (K*N*M - P*(K + N))
    expected = P * K * N / (K * N * M - P * (K + N))
    b_star = compute_bound_at(rf.total, B)
    assert b_star == expected
    below, above = math.floor(b_star), math.ceil(b_star)
    assert rf.subs(B=below).total.bound == "memory"
    assert rf.subs(B=above).total.bound == "compute"
    assert rf.subs(B=above).total.time == sympy.Rational(2 * K * N * above) / P


def test_crossover_with_free_sizes_is_a_formula():
    d = symbol("d")
    rep = sc.Sequential(sc.Linear(d, bias=False)).analyze(sc.Shape(d)).batched(B)
    point = rep.roofline("a100-80gb", "bfloat16").total
    P, M = DATASHEET["a100-80gb"]
    b_star = compute_bound_at(point, B)
    assert sympy.simplify(b_star - P * d / (d * M - 2 * P)) == 0
    value = b_star.subs(d, 1024)
    assert point.map_exprs(lambda e: e.subs({d: 1024, B: math.floor(value)})).bound == "memory"
    assert point.map_exprs(lambda e: e.subs({d: 1024, B: math.ceil(value)})).bound == "compute"


def test_a_layer_without_weights_never_crosses():
    rep = sc.Sequential(sc.ReLU()).analyze(sc.Shape(64)).batched(B)
    assert compute_bound_at(rep.roofline("h100-sxm", "float32").total, B) == sympy.oo


def test_the_roofline_of_a_symbolic_model_renders():
    C, H = symbol("C"), symbol("H")
    rep = sc.Sequential(sc.Conv2d(C, 3, padding=1, bias=False), sc.ReLU()).analyze(sc.Shape(C, H, H))
    rf = rep.roofline("h100-sxm", "bfloat16")
    conv = rf.rows[0]
    # flops2 = 2*9*C*C*H*H; bytes = 2*(9*C*C + 2*C*H*H)
    assert sympy.simplify(conv.intensity - 9 * C * H**2 / (9 * C + 2 * H**2)) == 0
    assert isinstance(conv.bound, sympy.Basic)  # a condition in C and H
    text = rf.to_text()
    assert "compute if" in text and "conv" not in text.split("\n")[0]
    assert rf.subs(C=1024, H=56).rows[0].bound == "compute"  # intensity 9*1024*3136/(9*1024 + 6272) > 295
    assert rf.subs(C=16, H=14).rows[0].bound == "memory"


def test_json_is_exact_and_markdown_escapes_names():
    rep = sc.Sequential(sc.Linear(8, name="fc|x")).analyze(sc.Shape(8))
    rf = rep.roofline("rtx-4090", "float32")
    data = json.loads(rf.to_json())
    assert data["total"]["bytes"]["value"] == 4 * (72 + 16)
    assert data["hardware"]["bandwidth"]["value"] == 1008 * 10**9
    assert "fc\\|x" in rf.to_markdown()


def _decode_step(h, e):
    """One token's attention step over a KV cache of T tokens: q projection, SDPA, out projection."""
    T, d = symbol("T_cache"), h * e
    nodes = [sc.Node("q", sc.Linear(d), ["input"]),
             sc.Node("heads", sc.Reshape((h, 1, e)), ["q"]),
             sc.Node("k_cache", sc.Constant((h, T, e), buffer=True), ()),
             sc.Node("v_cache", sc.Constant((h, T, e), buffer=True), ()),
             sc.Node("attn", sc.ScaledDotProductAttention(), ["heads", "k_cache", "v_cache"]),
             sc.Node("merge", sc.Reshape((1, d)), ["attn"]),
             sc.Node("out", sc.Linear(d), ["merge"])]
    return sc.Graph(nodes, output="out").analyze(sc.Shape(1, d)), T, d


def test_decode_tokens_per_second_is_bandwidth_over_bytes():
    rep, T, d = _decode_step(12, 64)
    rate = tokens_per_second(rep, "h100-sxm", "bfloat16")
    M = DATASHEET["h100-sxm"][1]
    # bf16 bytes: 2 linears (2*(d^2 + d) weights, 2d in, 2d out) + attention (2d q, 4*T*d k and v, 2d out)
    for t in (1, 512, 8192):
        assert rate.subs(T, t) == M / (4 * d**2 + 16 * d + 4 * d * t)


def test_a_batched_decode_step_turns_compute_bound_at_the_crossover():
    rep, T, d = _decode_step(32, 128)
    point = rep.batched(B).roofline("h100-sxm", "bfloat16").total
    b_star = compute_bound_at(point, B)
    P, M = DATASHEET["h100-sxm"]
    # F = B*(4d^2 + 4Td); Q = 4d^2 + 4d + B*(12d + 4Td)
    expected = P * (4 * d**2 + 4 * d) / ((4 * d**2 + 4 * T * d) * M - P * (12 * d + 4 * T * d))
    assert sympy.simplify(b_star - expected) == 0
    value = b_star.subs(T, 4)
    assert value > 1
    at = lambda b: point.map_exprs(lambda e: e.subs({T: 4, B: b})).bound  # noqa: E731
    assert (at(math.floor(value)), at(math.ceil(value))) == ("memory", "compute")
    # a long cache: per sequence the step reads 4*T*d bytes of keys and values for 4*T*d FLOPs, below the ridge
    # whatever the batch, so no batch crosses (the root is negative)
    assert b_star.subs(T, 8192) < 0


HW_FILE = """
my-gpu:
  name: My GPU
  source: https://example.com/my-gpu.pdf
  bandwidth: 1.5 TB/s
  peak: {float32: 30 TFLOP/s, bfloat16: 240 TFLOP/s}
"""


def test_a_user_hardware_file_is_read_exactly(tmp_path):
    path = tmp_path / "hw.yaml"
    path.write_text(HW_FILE)
    hw = load_hardware(path)["my-gpu"]
    assert (hw.peak_flops("bfloat16"), hw.bandwidth, hw.ridge("bfloat16")) == (240 * T12, 15 * 10**11, 160)
    assert get_hardware("my-gpu", load_hardware(path)) == hw and get_hardware("h100-sxm").key == "h100-sxm"


@pytest.mark.parametrize("text, message", [
    ("g: {bandwidth: 1 TB/s, peak: {float32: 3 TB/s}}", "g: peak: float32: must be a number with unit FLOP/s"),
    ("g: {bandwidth: 1 TB/s, peak: {fp32: 3 TFLOP/s}}", "g: peak: unknown dtype 'fp32'"),
    ("g: {peak: {float32: 3 TFLOP/s}}", "g: needs bandwidth"),
    ("g: {bandwidth: -1, peak: {float32: 3}}", "g: bandwidth: must be positive"),
    ("g: {bandwidth: .nan, peak: {float32: 3}}", "g: bandwidth: must be a finite number"),
    ("g: {bandwidth: 1 TB/s, peak: {float32: 3 TFLOP/s}, clock: 2}", "unknown field 'clock'"),
    ("g: &a {bandwidth: 1, peak: {float32: 3}}\nh: *a", "YAML aliases are not allowed"),
    ("- 1\n- 2", "must map hardware names to entries"),
    ("g: {bandwidth: '" + "9" * 5000 + "', peak: {float32: 3}}", "g: bandwidth: must be a number"),
    ("g: [unclosed", "not valid YAML"),
])
def test_bad_hardware_entries_are_one_line_errors(text, message):
    with pytest.raises(HardwareError) as err:
        loads_hardware(text, "hw.yaml")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_unknown_hardware_and_dtype_name_what_exists():
    with pytest.raises(UnknownHardwareError, match="did you mean 'h100-sxm'"):
        get_hardware("h100-sx")
    with pytest.raises(HardwareError, match="no peak FLOP/s for dtype 'float16' .it lists float64, float32, bfloat16"):
        get_hardware("epyc-9654").peak_flops("float16")


SPEC = """
name: tiny
input: [3, H, W]
layers:
  - {kind: conv2d, name: conv1, out_channels: 16, kernel_size: 3, padding: 1}
  - {kind: relu}
  - {kind: flatten}
  - {kind: linear, out_features: 10}
"""


def test_cli_roofline_prints_the_table_json_and_plot(tmp_path, capsys):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(SPEC)
    png = tmp_path / "r.png"
    assert main(["roofline", str(spec), "--hardware", "a100-80gb", "--set", "H=W=8", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "conv1" in out and "ridge" in out and png.stat().st_size > 10_000
    assert main(["roofline", str(spec), "--hardware", "a100-80gb", "--set", "H=W=8", "--format", "json",
                 "--dtype", "float32"]) == 0
    data = json.loads(capsys.readouterr().out)
    # conv1 on 3x8x8: 16*27 + 16 weights, 192 in, 1024 out, float32
    assert data["rows"][0]["bytes"]["value"] == 4 * (16 * 27 + 16 + 192 + 1024)
    assert data["rows"][0]["flops"]["value"] == 2 * 16 * 27 * 64


def test_cli_roofline_reads_a_hardware_file_and_fails_in_one_line(tmp_path, capsys):
    spec, hw = tmp_path / "tiny.yaml", tmp_path / "hw.yaml"
    spec.write_text(SPEC)
    hw.write_text(HW_FILE)
    assert main(["roofline", str(spec), "--hardware", "my-gpu", "--hardware-file", str(hw), "--set", "H=W=4"]) == 0
    assert "My GPU" in capsys.readouterr().out
    hw.write_text("my-gpu: {bandwidth: 1 TB, peak: {float32: 1 TFLOP/s}}")
    assert main(["roofline", str(spec), "--hardware", "my-gpu", "--hardware-file", str(hw)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symcost: error: ") and "bandwidth: must be a number with unit B/s" in err
    assert err.count("\n") == 1
    assert main(["roofline", str(spec), "--hardware", "h100-sxm", "--plot", str(tmp_path / "x.png")]) == 2
    assert "bind every size with --set" in capsys.readouterr().err


def test_plot_needs_numbers():
    rep = sc.Sequential(sc.Linear(symbol("d"))).analyze(sc.Shape(4))
    from symcost.printing.roofline_figure import plot_roofline

    with pytest.raises(SymcostError, match="bind every size"):
        plot_roofline(rep.roofline("h100-sxm"))


def test_latex_of_a_symbolic_roofline_compiles_with_names_escaped(tmp_path):
    import shutil
    import subprocess

    C, H = symbol("C"), symbol("H")
    rep = sc.Sequential(sc.Conv2d(C, 3, padding=1, name="c_1 {50%}"), sc.ReLU()).analyze(sc.Shape(C, H, H))
    source = rep.roofline("h100-sxm").to_latex()
    assert r"c\_1 \{50\%\}" in source and r"compute if $\frac{" in source
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed: checked the escaped source only")
    (tmp_path / "r.tex").write_text("\\documentclass{article}\n\\usepackage[T1]{fontenc}\n"
                                    "\\usepackage[landscape,margin=1cm]{geometry}\n\\begin{document}\n"
                                    f"\\tiny\n{source}\\end{{document}}\n")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "r.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout[-2000:]


def test_crossover_refuses_formulas_too_large_to_expand():
    from symcost.core.traffic import Traffic
    from symcost.networks.roofline import RooflinePoint

    xs = [symbol(f"x{i}") for i in range(14)]
    big = sympy.Mul(*(x + 1 for x in xs))  # 2**14 terms once expanded
    point = RooflinePoint("big", "Linear", B * big, Traffic(weights=big, inputs=B), 10, 1)
    with pytest.raises(ValueError, match="expand to more than 5,000 terms"):
        compute_bound_at(point, B)


def test_the_preset_table_ships_as_package_data():
    import fnmatch
    import tomllib
    from pathlib import Path

    root = Path(sc.__file__).parent
    config = tomllib.loads((root.parent / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["symcost"]
    shipped = [p.relative_to(root).as_posix() for p in (root / "core" / "data").iterdir()]
    assert shipped and all(any(fnmatch.fnmatch(f, p) for p in patterns) for f in shipped)


def test_hostile_hardware_files_fail_in_one_line(tmp_path, capsys):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(SPEC)
    nul = tmp_path / "nul.yaml"
    nul.write_bytes(b"\xff\xfe" * 10)
    big = tmp_path / "big.yaml"
    big.write_text("#" * 200_000)
    ctrl = tmp_path / "ctrl.yaml"
    ctrl.write_text('g: {name: "x\\e[31m", bandwidth: 1 TB/s, peak: {float32: 1 TFLOP/s}}')
    for path, message in ((tmp_path, "cannot read"), (nul, "is not UTF-8"), (big, "more than 100,000 bytes"),
                          (ctrl, "name must be one line of printable text"), (tmp_path / "no.yaml", "cannot read")):
        assert main(["roofline", str(spec), "--hardware", "g", "--hardware-file", str(path), "--set", "H=W=4"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("symcost: error: ") and message in err and err.count("\n") == 1, err


def test_the_plot_shows_dollar_signs_literally(tmp_path):
    hw = loads_hardware('g: {name: "GPU $5", bandwidth: 1 TB/s, peak: {float32: 10 TFLOP/s}}')
    rep = sc.Sequential(sc.Conv2d(8, 3, name="c$1"), sc.Linear(4, name="fc$")).analyze(sc.Shape(3, 8, 8))
    from symcost.printing.roofline_figure import plot_roofline

    fig = plot_roofline(rep.roofline(hw["g"], "float32"), str(tmp_path / "d.png"))
    assert "GPU \\$5" in fig.axes[0].get_title() and (tmp_path / "d.png").stat().st_size > 10_000


def test_a_layer_without_flops_is_memory_bound_at_every_size():
    C, H = symbol("C"), symbol("H")
    rf = sc.Sequential(sc.ReLU()).analyze(sc.Shape(C, H, H)).roofline("h100-sxm")
    assert rf.rows[0].bound == "memory" and rf.rows[0].time == 2 * C * H**2 * 2 / DATASHEET["h100-sxm"][1]


MLP = """
name: mlp
input: [1024]
layers:
  - {kind: linear, out_features: 1024}
  - {kind: linear, out_features: 1024}
"""


def test_cli_batch_and_crossover(tmp_path, capsys):
    spec = tmp_path / "mlp.yaml"
    spec.write_text(MLP)
    base = ["roofline", str(spec), "--hardware", "h100-sxm"]
    assert main([*base, "--batch", "B", "--crossover", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    # by hand, in elements: weights w = 2*(1024*1024 + 1024); per sample FLOPs (flops2) f = 2*2*1024*1024,
    # activations read and written a = 2*(1024 + 1024); bfloat16: 2 bytes each
    P, M = DATASHEET["h100-sxm"]
    w, f, a = 2 * (1024 * 1024 + 1024), 4 * 1024 * 1024, 4 * 1024
    b_star = P * 2 * w / (f * M - P * 2 * a)
    assert data["crossover"]["symbol"] == "B" and data["crossover"]["value"]["value"] == f"{b_star.p}/{b_star.q}"
    for batch, bound in ((math.floor(b_star), "memory"), (math.ceil(b_star), "compute")):
        assert main([*base, "--batch", str(batch)]) == 0
        total = [line for line in capsys.readouterr().out.splitlines() if line.startswith("total")]
        assert total[0].split()[-1] == bound
    assert main([*base, "--batch", "B", "--crossover"]) == 0
    assert f"whole model: compute-bound from B = {b_star.p}/{b_star.q}" in capsys.readouterr().out
    assert main([*base, "--crossover"]) == 2
    assert "give it as a symbol, e.g. --batch B" in capsys.readouterr().err
    assert main([*base, "--batch", "0"]) == 2
    assert "--batch '0': give a positive integer" in capsys.readouterr().err
