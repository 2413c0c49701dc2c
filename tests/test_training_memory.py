"""The training memory ledger: weights, gradients and optimizer states per precision and optimizer (checked
against torch.optim's own state tensors and "Transformer Math 101"), the peak, the largest batch, the CLI
and the figure. The activation bytes themselves are part B's (tests/test_activation_memory.py)."""

from __future__ import annotations

import json

import pytest
import sympy

import symcost as sc
from symcost.cli import main
from symcost.symbols import B, symbol

RESNET18_PARAMS = 11_689_512  # sum(p.numel() for p in torchvision.models.resnet18().parameters())


@pytest.fixture(scope="module")
def resnet():
    return sc.zoo.resnet18().analyze(batch=B)


# -- Transformer Math 101 (EleutherAI): bytes per parameter ---------------------------------------------
@pytest.mark.parametrize("precision, optimizer, weights, gradients, optimizer_bytes", [
    ("bf16-mixed", "adamw", 2, 2, 12),      # fp32 master + momentum + variance
    ("bf16-mixed", "adam", 2, 2, 12),
    ("bf16-mixed", "adam-8bit", 2, 2, 6),   # fp32 master + 1-byte momentum + 1-byte variance
    ("bf16-mixed", "sgd-momentum", 2, 2, 8),  # fp32 master + momentum
    ("fp16-mixed", "adamw", 2, 2, 12),
    ("fp32", "adamw", 4, 4, 8),             # the weights are the master copy
    ("fp32", "sgd", 4, 4, 0),
])
def test_bytes_per_parameter_follow_transformer_math(resnet, precision, optimizer, weights, gradients,
                                                     optimizer_bytes):
    memory = resnet.training(precision, optimizer).memory
    assert (memory.weights, memory.gradients, memory.optimizer) == (
        weights * RESNET18_PARAMS, gradients * RESNET18_PARAMS, optimizer_bytes * RESNET18_PARAMS)


def test_dtype_names_mean_the_precisions(resnet):
    assert resnet.training("bfloat16").memory == resnet.training("bf16-mixed").memory


def test_peak_adds_the_ledger_and_the_largest_output():
    """Linear(8) on 4 then ReLU, fp32 AdamW: 40 params; the largest output is 8 elements per sample."""
    tr = sc.Sequential(sc.Linear(8), sc.ReLU()).analyze(sc.Shape(4), batch=B).training()
    m = tr.memory
    assert (m.weights, m.gradients, m.optimizer, m.transient) == (160, 160, 320, 32 * B)
    assert m.peak == 640 + m.activations + 32 * B


# -- against torch.optim's own state tensors -----------------------------------------------------------------
torch = pytest.importorskip("torch")


def _pair():
    nn = torch.nn
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.LayerNorm(8 * 6 * 6),
                          nn.Linear(8 * 6 * 6, 10))
    net = sc.Sequential(sc.Conv2d(8, 3), sc.BatchNorm2d(8), sc.ReLU(), sc.Flatten(), sc.LayerNorm(8 * 6 * 6),
                        sc.Linear(10))
    return model, net.analyze(sc.Shape(3, 8, 8))


def _state_bytes(model, optimizer) -> int:
    """Bytes of every state tensor torch.optim keeps after one step, the scalar step counters left out."""
    model(torch.randn(2, 3, 8, 8)).sum().backward()
    optimizer.step()
    return sum(t.numel() * t.element_size() for p in model.parameters()
               for name, t in optimizer.state[p].items() if torch.is_tensor(t) and name != "step")


@pytest.mark.parametrize("name, make", [
    ("adamw", lambda p: torch.optim.AdamW(p)),
    ("adam", lambda p: torch.optim.Adam(p)),
    ("sgd-momentum", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    ("sgd", lambda p: torch.optim.SGD(p, lr=0.1)),
    ("adafactor", lambda p: torch.optim.Adafactor(p)),  # row and column statistics of the 2-D and 4-D weights
])
def test_optimizer_states_equal_torch_optim(name, make):
    model, rep = _pair()
    assert rep.training("fp32", name).memory.optimizer == _state_bytes(model, make(model.parameters()))
    assert rep.total.params == sum(p.numel() for p in model.parameters())


def test_adafactor_factors_a_linear_weight_by_hand():
    """Linear(10) on 288 features: row statistics 10, column statistics 288, the bias whole (10): fp32."""
    rep = sc.Sequential(sc.Linear(10)).analyze(sc.Shape(288))
    assert rep.training(optimizer="adafactor").memory.optimizer == 4 * (10 + 288 + 10)
    assert rep.training("bf16-mixed", "adafactor").memory.optimizer == 4 * (10 + 288 + 10) + 4 * (288 * 10 + 10)


# -- the largest batch that fits ------------------------------------------------------------------------------
@pytest.mark.parametrize("gib", [1, 8])
def test_max_batch_fits_and_one_more_does_not(resnet, gib):
    tr = resnet.training("bf16-mixed", "adamw")
    memory = gib * 2**30
    largest = tr.max_batch(memory)
    assert largest.is_Integer and largest >= 1
    assert tr.memory.peak.subs(B, largest) <= memory < tr.memory.peak.subs(B, largest + 1)


def test_max_batch_is_a_formula_in_the_sizes_left():
    l, d, a, V, T = (symbol(n) for n in ("n_layer", "d_model", "n_head", "n_vocab", "n_ctx"))
    rep = sc.zoo.gpt2(n_layer=l, d_model=d, n_head=a, n_vocab=V, n_ctx=T).analyze(batch=B)
    tr = rep.training("bf16-mixed", "adamw")
    m = symbol("M")
    formula = tr.max_batch(m)
    assert isinstance(formula, sympy.floor) and m in formula.free_symbols
    sizes = {"n_layer": 2, "d_model": 64, "n_head": 4, "n_vocab": 1000, "n_ctx": 128}
    memory = 10**8
    largest = formula.subs({symbol(k): v for k, v in sizes.items()} | {m: memory})
    peak = tr.memory.peak.subs({symbol(k): v for k, v in sizes.items()})
    assert peak.subs(B, largest) <= memory < peak.subs(B, largest + 1)


def test_a_per_sample_report_is_batched_for_max_batch():
    tr = sc.Sequential(sc.Linear(8), sc.ReLU()).analyze(sc.Shape(4)).training()
    # fixed 640 bytes; per sample: outputs kept 32 + 32 (placeholder) and the largest transient 32
    per_sample = tr.report.batched(B).training().memory.peak.diff(B)
    assert tr.max_batch(640 + 10 * per_sample) == 10


@pytest.mark.parametrize("kwargs, argument", [
    ({"optimizer": "lion"}, "optimizer"), ({"dtype": "int8"}, "dtype"), ({"recompute": "some"}, "recompute")])
def test_bad_settings_are_one_line_errors(resnet, kwargs, argument):
    with pytest.raises(sc.InvalidArgumentError, match=f"training: {argument} must be one of") as err:
        resnet.training(**kwargs)
    assert "\n" not in str(err.value)


def test_max_batch_refuses_a_non_positive_memory(resnet):
    with pytest.raises(sc.InvalidArgumentError, match="memory_bytes must be positive"):
        resnet.training().max_batch(0)
    with pytest.raises(sc.ArgumentTypeError, match="memory_bytes"):
        resnet.training().max_batch(1.5e9)


# -- CLI and figure -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model, settings", [("gpt2(n_ctx=1024)", []), ("gpt2", ["--set", "n_ctx=1024"])])
def test_cli_train_gpt2_prints_the_ledger_and_flops(capsys, model, settings):
    assert main(["train", model, *settings, "--set", "B=8", "--optimizer", "adamw", "--precision", "bf16-mixed",
                 "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    params = 124_439_808  # GPT-2 small, the tied head counted once
    assert out["memory"]["weights"]["value"] == 2 * params
    assert out["memory"]["optimizer"]["value"] == 12 * params
    assert isinstance(out["total"]["flops"]["value"], int) and out["precision"] == "bf16-mixed"


def test_cli_train_text_and_max_batch(capsys):
    assert main(["train", "resnet18", "--precision", "bf16-mixed", "--memory", "8*2**30"]) == 0
    out = capsys.readouterr().out
    assert "Optimizer states" in out and "Peak" in out and "Largest batch in" in out


@pytest.mark.parametrize("argv, message", [
    (["train", "resnet18", "--optimizer", "lion"], "optimizer must be one of"),
    (["train", "resnet18", "--plot", "m.png"], "--plot PNG and --over"),
    (["train", "resnet18", "--memory", "-5"], "positive integer of bytes"),
    (["train", "resnet18", "--set", "Q=3"], "has no symbol 'Q'"),
])
def test_cli_train_errors_are_one_line(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("symcost: error: ") and message in err and err.count("\n") == 1


def test_cli_train_plot_writes_stacked_bars(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "mem.png"
    assert main(["train", "resnet18", "--plot", str(path), "--over", "B=1:8:2", "--format", "json",
                 "-o", str(tmp_path / "out.json")]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_memory_bars_are_exact_integers_per_point(resnet):
    from symcost.printing.memory_figure import memory_bars

    tr = resnet.training("bf16-mixed")
    bars = memory_bars(tr, "B", [1, 2, 4])
    assert bars[0]["weights"] == bars[2]["weights"] == 2 * RESNET18_PARAMS
    one, two, four = (bar["activations"] for bar in bars)  # affine in B: BatchNorm's statistics are per batch
    assert four - one == 3 * (two - one) and 0 < one < two < four


@pytest.mark.parametrize("fmt, marker", [("markdown", "| Peak |"), ("latex", r"\text{Peak}")])
def test_cli_train_renders_markdown_and_latex(capsys, fmt, marker):
    assert main(["train", "alexnet", "--set", "B=2", "--format", fmt, "--precision", "fp16-mixed"]) == 0
    assert marker in capsys.readouterr().out


@pytest.mark.parametrize("over, message", [("B=1:10**12", "--over 'B=1:10**12'"), ("B=1:300", "at most 256")])
def test_cli_train_bounds_the_bars(capsys, tmp_path, over, message):
    assert main(["train", "resnet18", "--plot", str(tmp_path / "m.png"), "--over", over]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("value", [0, -2])
def test_a_symbolic_batch_must_stay_positive_on_substitution(value):
    """Report.subs re-checks the batch as analyze(batch=...) does; the ledger would count nothing at B=0."""
    rep = sc.Sequential(sc.Linear(3)).analyze(sc.Shape(2), batch=B)
    with pytest.raises(sc.InvalidArgumentError, match=f"with B={value}: analyze: batch must be a positive integer"):
        rep.training().subs(B=value)


def test_training_latex_compiles(tmp_path):
    import shutil
    import subprocess

    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex not installed")
    tr = sc.zoo.resnet18().analyze(batch=B).training("bf16-mixed")
    (tmp_path / "t.tex").write_text(tr.to_latex(standalone=True), encoding="utf-8")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"], cwd=tmp_path,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]
