"""Substituting numbers re-checks every rule a layer enforces, in every entry point.

A rule broken by numbers given later (``Cost.subs``, ``Report.subs``, the
CLI's ``--set``, ``sweep``, ``compare``) is refused with the message the
layer gives when constructed with those numbers, led by the row
(``layer N "name" (Kind)``). Expected messages and values are written out by
hand or come from torch.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest
import sympy

import symcost as sc
from symcost.cli import main
from symcost.layers.adaptive_pooling import widest_bin
from symcost.symbols import H, K, P, S, W, D, symbol

G, n, q = symbol("G"), symbol("n"), symbol("q")
HALF, THREE_HALVES = sympy.Rational(1, 2), sympy.Rational(3, 2)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- the layer rules, after substitution ---------------------------------------------------------
#: (symbolic layer, numbers, the same layer written with the numbers, the message both must give)
CASES = {
    "groups 0": (lambda: sc.Conv2d(8, 3, groups=G), {"G": 0}, lambda: sc.Conv2d(8, 3, groups=0),
                 "Conv2d: groups must be a positive integer, got 0"),
    "groups 3 on 8 channels": (lambda: sc.Conv2d(8, 3, groups=G), {"G": 3}, lambda: sc.Conv2d(8, 3, groups=3),
                               "Conv2d: groups must divide out_channels (8), got 3"),
    "groups -8": (lambda: sc.Conv2d(8, 3, groups=G), {"G": -8}, lambda: sc.Conv2d(8, 3, groups=-8),
                  "Conv2d: groups must be a positive integer, got -8"),
    "K=0": (lambda: sc.Conv2d(8, K), {"K": 0}, lambda: sc.Conv2d(8, 0),
            "Conv2d: kernel_size must be a positive integer, got 0"),
    "K=3/2": (lambda: sc.Conv2d(8, K), {"K": THREE_HALVES}, lambda: sc.Conv2d(8, THREE_HALVES),
              "Conv2d: kernel_size must be a positive integer, got 3/2"),
    "P=-1": (lambda: sc.Conv2d(8, 3, padding=P), {"P": -1}, lambda: sc.Conv2d(8, 3, padding=-1),
             "Conv2d: padding must be an integer >= 0, got -1"),
    "D=0": (lambda: sc.Conv2d(8, 3, dilation=D), {"D": 0}, lambda: sc.Conv2d(8, 3, dilation=0),
            "Conv2d: dilation must be a positive integer, got 0"),
    "S=1/2": (lambda: sc.Conv2d(8, 3, stride=S), {"S": HALF}, lambda: sc.Conv2d(8, 3, stride=HALF),
              "Conv2d: stride must be a positive integer, got 1/2"),
    "same with S=2": (lambda: sc.Conv2d(8, 3, stride=S, padding="same"), {"S": 2},
                      lambda: sc.Conv2d(8, 3, stride=2, padding="same"),
                      "Conv2d: padding='same' needs stride 1, as in torch, got (2, 2)"),
    "max pool padding above half the kernel": (
        lambda: sc.MaxPool2d(2, padding=P), {"P": 2}, lambda: sc.MaxPool2d(2, padding=2),
        "MaxPool2d: padding must be at most half the kernel size (1), as torch requires, got 2"),
    "output_padding >= stride": (
        lambda: sc.ConvTranspose2d(8, 3, stride=2, output_padding=q), {"q": 2},
        lambda: sc.ConvTranspose2d(8, 3, stride=2, output_padding=2),
        "ConvTranspose2d: output_padding must be smaller than the stride (2) or the dilation (1), got 2"),
    "zero scale divisor": (lambda: sc.Scale(q, divide=True), {"q": 0}, lambda: sc.Scale(0, divide=True),
                           "Scale: factor must not be zero, got 0"),
    "negative pad": (lambda: sc.Pad2d(q), {"q": -1}, lambda: sc.Pad2d(-1),
                     "Pad2d: padding must be an integer >= 0, got -1"),
    "separable K=0": (lambda: sc.SeparableConv2d(8, K), {"K": 0}, lambda: sc.SeparableConv2d(8, 0),
                      "SeparableConv2d: kernel_size must be a positive integer, got 0"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_report_subs_refuses_what_construction_refuses(case):
    make, values, direct, message = CASES[case]
    with pytest.raises(sc.SymcostError) as built:
        direct()
    assert str(built.value) == message
    report = sc.Sequential(sc.ReLU(name="first"), make()).analyze(sc.Shape(8, 16, 16))
    with pytest.raises(type(built.value)) as substituted:
        report.subs(values)
    text = str(substituted.value)
    assert text.endswith(message), text
    kind = message.split(":")[0]
    assert f'layer 1 "1" ({kind}) on input (8, 16, 16): ' in text, text  # the row, DESIGN's prefix
    assert "\n" not in text


@pytest.mark.parametrize("case", sorted(CASES))
def test_cost_subs_refuses_too(case):
    make, values, _, message = CASES[case]
    cost = make().cost(sc.Shape(8, 16, 16))
    with pytest.raises(sc.SymcostError) as err:
        cost.subs(values)
    assert str(err.value).endswith(message)


def test_valid_numbers_still_substitute_to_the_hand_count():
    # Conv2d(8, K, groups=G) on 8x16x16, K=3, G=2: 3*3*(8/2)*8 weights + 8 bias = 296 params;
    # output 14x14, MACs 3*3*4 * 8*14*14 = 56448
    cost = sc.Conv2d(8, K, groups=G).cost(sc.Shape(8, 16, 16)).subs(K=3, G=2)
    assert (cost.params.total, cost.macs) == (296, 56448)
    rep = sc.Sequential(sc.Conv2d(8, K, groups=G)).analyze(sc.Shape(8, 16, 16)).subs(K=3, G=2)
    assert (rep.total.params, rep.total.macs) == (296, 56448)


@pytest.mark.parametrize("times", [0, -2, HALF])
def test_repeat_times_substituted_is_refused_as_at_construction(times):
    with pytest.raises(sc.SymcostError) as built:
        sc.Repeat(sc.ReLU(), times)
    shown = "1/2" if times == HALF else str(times)
    assert str(built.value) == f"Repeat: times must be a positive integer, got {shown}"
    report = sc.Sequential(sc.Repeat(sc.Conv2d(8, 3, padding=1), n)).analyze(sc.Shape(8, 4, 4))
    with pytest.raises(type(built.value)) as substituted:
        report.subs(n=times)
    assert str(substituted.value).endswith(str(built.value))
    assert 'layer 0 "0.i" (Conv2d)' in str(substituted.value)
    # a valid count: 3 convs of 3*3*8*8 + 8 = 584 params each
    assert report.subs(n=3).total.params == 3 * 584


def test_input_sizes_that_are_not_sizes_are_refused():
    report = sc.Sequential(sc.Conv2d(8, 3)).analyze(sc.Shape(3, H, W))
    for bad in (0, -2):
        with pytest.raises(sc.ShapeError, match=f"input \\(3, H, W\\): Shape: entry 1 must be a positive integer, "
                                                f"got {bad}"):
            report.subs(H=bad, W=bad)
    with pytest.raises(sc.ShapeError, match='layer 0 "0" \\(Conv2d\\) on input \\(3, 2, 2\\): Conv2d: kernel_size '
                                            "does not fit in the padded input height"):
        report.subs(H=2, W=2)


def test_vgg16_at_31_names_the_row(capsys):
    # 31 -> pools halve to 15, 7, 3, 1: the fifth pool (features.30) gets a 1x1 map
    code, out, err = run(capsys, "report", "vgg16", "--set", "H=W=31")
    assert code == 2 and out == ""
    assert err.startswith('symcost: error: vgg16: with H=31, W=31: layer 30 "features.30" (MaxPool2d) on input '
                          "(512, 1, 1): MaxPool2d: kernel_size does not fit"), err
    assert err.count("\n") == 1


@pytest.mark.parametrize("values", ["H=W=0", "H=W=-2", "H=W=1"])
def test_report_set_refuses_sizes_the_network_cannot_take(capsys, values):
    code, out, err = run(capsys, "report", "vgg16", "--set", values)
    assert code == 2 and out == "" and err.startswith("symcost: error: vgg16: with H=")
    assert err.count("\n") == 1


# -- sweep -------------------------------------------------------------------------------------
@pytest.mark.parametrize("grid", ["H=W=0:3", "H=W=-2:1", "H=W=1:40"])
def test_cli_sweep_refuses_points_that_report_refuses(capsys, grid):
    code, out, err = run(capsys, "sweep", "vgg16", "--set", grid)
    assert code == 2 and out == ""
    first = int(grid.split("=")[-1].split(":")[0])
    assert err.startswith(f"symcost: error: vgg16: with H={first}, W={first}: "), err
    assert err.count("\n") == 1


def test_library_sweep_checks_the_report_rules():
    report = sc.Sequential(sc.Conv2d(8, 3), sc.MaxPool2d(2)).analyze(sc.Shape(3, H, W))
    macs = report.total.macs
    with pytest.raises(sc.ShapeError, match='with H=3, W=5: layer 1 "1" \\(MaxPool2d\\) on input \\(8, 1, 3\\)'):
        sc.sweep(macs, rules=report, H=range(3, 10), W=range(5, 10))
    grid = sc.sweep(macs, rules=report, H=[6, 7], W=[6], exact=True)
    assert (grid.at(H=6, W=6), grid.at(H=7, W=6)) == (3 * 3 * 3 * 8 * 16, 3 * 3 * 3 * 8 * 20)


def test_sweep_over_a_layer_argument_is_checked(tmp_path, capsys):
    spec = tmp_path / "k.yaml"
    spec.write_text(textwrap.dedent("""\
        name: k
        input: [3, 16, 16]
        symbols: [G]
        layers:
          - {kind: conv2d, out_channels: 12, kernel_size: 3, groups: G}
    """))
    code, out, err = run(capsys, "sweep", str(spec), "--input", "12,16,16", "--set", "G=1:4")
    assert code == 0, err  # 1, 2, 3, 4 all divide 12
    code, out, err = run(capsys, "sweep", str(spec), "--input", "12,16,16", "--set", "G=3:5")
    assert code == 2
    assert err.rstrip().endswith("Conv2d: groups must divide out_channels (12), got 5"), err


def test_checked_sweep_of_a_million_points_is_fast():
    net = sc.Sequential(sc.Conv2d(16, 7, stride=2, padding=3), sc.MaxPool2d(3, stride=2, padding=1),
                        sc.Residual(sc.Conv2d(16, 3, padding=1)), sc.Conv2d(32, 3, stride=2, padding=1),
                        sc.AdaptiveAvgPool2d(1), sc.Flatten(), sc.Linear(10))
    report = net.analyze(sc.Shape(3, H, W))
    macs = report.total.macs
    start = time.perf_counter()
    sc.sweep(macs, rules=report, H=range(32, 1032), W=range(32, 1032))
    assert time.perf_counter() - start < 5


# -- compare -----------------------------------------------------------------------------------
def test_compare_refuses_numbers_that_break_a_layer_rule(capsys):
    code, out, err = run(capsys, "compare", "conv2d(C_out, K)", "conv2d(C_out, 3)", "--set", "K=-1")
    assert code == 2 and out == ""
    assert err == "symcost: error: conv2d(C_out, K): with K=-1: Conv2d: kernel_size must be a positive integer, " \
                  "got -1\n"


def test_compare_models_at_sizes_they_cannot_take(capsys):
    code, out, err = run(capsys, "compare", "vgg16", "resnet18", "--set", "H=W=1")
    assert code == 2 and err.startswith('symcost: error: vgg16: with H=1, W=1: layer 4 "features.4" (MaxPool2d)')


def test_compare_ratio_with_a_zero_denominator_is_refused(capsys):
    code, out, err = run(capsys, "compare", "conv2d(8, 3)", "relu()", "--metric", "params")
    assert code == 2
    assert err == "symcost: error: ratio: b must have a nonzero params: A/B is undefined, got 0\n"
    with pytest.raises(sc.SymcostError, match="nonzero flops"):
        sc.ratio(sc.Conv2d(8, 3), sympy.Integer(0), "flops", sc.Shape(3, 8, 8))


# -- receptive fields ----------------------------------------------------------------------------
def test_symbolic_kernel_in_a_residual_keeps_its_field():
    rep = sc.Sequential(sc.Residual(sc.Conv2d(8, K, padding="same"))).analyze(sc.Shape(8, 32, 32))
    assert rep.subs(K=5).rf.size == (5, 5)  # one 5x5 conv: field 5, the identity's is 1
    assert rep.subs(K=5).rf.padding == (2, 2)


def test_symbolic_kernel_in_a_concat_takes_the_larger_branch():
    net = sc.Sequential(sc.Concat(sc.Conv2d(8, K, padding="same"), sc.Conv2d(8, 3, padding=1)))
    rep = net.analyze(sc.Shape(8, 32, 32))
    assert rep.subs(K=5).rf.size == (5, 5) and rep.subs(K=5).rf.padding == (2, 2)
    assert rep.subs(K=1).rf.size == (3, 3) and rep.subs(K=1).rf.padding == (1, 1)


def _torch_widest(size: int, bins: int) -> int:
    """Widest window of torch's adaptive average pool: the inputs each output's gradient reaches."""
    import torch

    x = torch.zeros(1, 1, size, 1, requires_grad=True)
    out = torch.nn.functional.adaptive_avg_pool2d(x, (bins, 1))
    return max(int((torch.autograd.grad(out[0, 0, i, 0], x, retain_graph=True)[0] != 0).sum())
               for i in range(bins))


@pytest.mark.torch
def test_widest_adaptive_bin_matches_torch_for_numbers_and_symbols():
    pytest.importorskip("torch")
    I, O = sympy.symbols("I O", integer=True, positive=True)
    symbolic = widest_bin(I, O)
    for size in range(1, 14):
        for bins in range(1, 8):
            expected = _torch_widest(size, bins)
            assert widest_bin(sympy.Integer(size), sympy.Integer(bins)) == expected, (size, bins)
            assert symbolic.xreplace({I: size, O: bins}) == expected, (size, bins)


def test_receptive_fields_are_whole_numbers_and_flagged_when_windows_differ(capsys):
    rep = sc.zoo.vgg16().analyze(sc.Shape(3, H, W)).subs(H=300, W=300)
    for row in rep.rows:
        assert all(s.is_Integer for s in row.rf.size), (row.name, row.rf.size)
    # features end on a 9x9 map; adaptive pool to 7: bins of 2 and 3 (torch: the widest is 3)
    pool = rep.row("avgpool")
    before = rep.rows[rep.rows.index(pool) - 1]
    assert pool.rf.size[0] == before.rf.size[0] + (3 - 1) * 32
    assert rep.rf.note and "largest" in rep.rf.note
    assert sc.zoo.vgg16().analyze().rf.note == ""  # 224: 7 divides 7, every window alike
    code, out, err = run(capsys, "report", "vgg16", "--set", "H=W=300", "--format", "json")
    import json

    total = json.loads(out)["total"]["rf"]
    assert isinstance(total["size"]["value"], int) and "largest" in total["note"]
    code, out, err = run(capsys, "report", "vgg16", "--format", "json")
    assert "note" not in json.loads(out)["total"]["rf"]


# -- flatten and separable conv ------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("start_dim", [-1, -2, -3, 1, 2, 3])
def test_flatten_negative_dims_as_torch(start_dim):
    torch = pytest.importorskip("torch")
    expected = tuple(torch.flatten(torch.zeros(2, 3, 4, 5), start_dim).shape[1:])
    assert tuple(int(d) for d in sc.Flatten(start_dim=start_dim).cost(sc.Shape(3, 4, 5)).out_shape) == expected


@pytest.mark.torch
@pytest.mark.parametrize("start_dim", [4, 5, -5])
def test_flatten_out_of_range_dims_are_refused_as_torch_refuses(start_dim):
    torch = pytest.importorskip("torch")
    with pytest.raises(IndexError):
        torch.flatten(torch.zeros(2, 3, 4, 5), start_dim)
    with pytest.raises(sc.SymcostError, match=rf"Flatten: start_dim must select a dimension 1\.\.3 .*got {start_dim}"):
        sc.Flatten(start_dim=start_dim).cost(sc.Shape(3, 4, 5))


def test_flatten_from_a_spec_takes_negative_dims(tmp_path):
    spec = tmp_path / "f.yaml"
    spec.write_text("input: [3, 4, 5]\nlayers: [{kind: flatten, start_dim: -2}]\n")
    from symcost.frontends import spec as spec_module

    assert spec_module.load(str(spec)).analyze().out_shape == sc.Shape(3, 20)


def test_separable_same_stride_2_names_separable(capsys, tmp_path):
    with pytest.raises(sc.SymcostError) as err:
        sc.SeparableConv2d(8, 3, stride=2, padding="same", name="sep")
    assert str(err.value) == 'SeparableConv2d "sep": padding=\'same\' needs stride 1, as in torch, got (2, 2)'
    spec = tmp_path / "s.yaml"
    spec.write_text("input: [3, 8, 8]\nlayers: [{kind: separable_conv2d, out_channels: 8, kernel_size: 3, "
                    "padding: same, stride: 2}]\n")
    code, out, err = run(capsys, "report", str(spec))
    assert code == 2 and "SeparableConv2d: padding='same' needs stride 1" in err and "Conv2d:" not in \
        err.replace("SeparableConv2d:", "")


def test_no_traceback_from_the_shell():
    result = subprocess.run([sys.executable, "-m", "symcost", "compare", "conv2d(8, K)", "conv2d(8, 3)", "--set",
                             "K=0"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr and result.stderr.count("\n") == 1
