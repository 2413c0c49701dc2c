"""The torchstat and torchsummary views against the real tools (the ``peers`` extra), run here.

torchstat 0.0.7 and torchsummary 1.5.1 run on torchvision's ResNet-18, VGG-16
and AlexNet at 224x224; the views of ``sc.zoo.resnet18/vgg16/alexnet`` must give
the tools' numbers line by line, except where a tool is wrong. Those places
(README, "The seed tools' views") are written out here by hand, per module
type, and asserted exactly.
"""

import contextlib
import io
import re

import pytest
import sympy

import symcost as sc
from symcost.printing.peer_views import peer_view

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
torchstat = pytest.importorskip("torchstat")
torchsummary = pytest.importorskip("torchsummary")
nn = torch.nn

MODELS = ["resnet18", "vgg16", "alexnet"]
MB = 1024 ** 2
#: Called as functions or operators in torchvision, not modules: no hook sees them.
NOT_MODULES = {"Flatten", "Add"}


@pytest.fixture(scope="module")
def reports():
    return {name: getattr(sc.zoo, name)().analyze() for name in MODELS}


@pytest.fixture(scope="module")
def models():
    """torchvision's models, built on the meta device and zero-filled: initialising VGG-16 takes seconds."""
    built = {}
    for name in MODELS:
        with torch.device("meta"):
            model = getattr(torchvision.models, name)()
        model = model.to_empty(device="cpu")
        with torch.no_grad():
            for tensor in (*model.parameters(), *model.buffers()):
                tensor.zero_()
        built[name] = model
    return built


def _run_torchstat(model):
    """torchstat's leaf nodes and its printed report; its class-level patches are undone after."""
    import numpy as np
    import pandas as pd
    from torchstat import ModelStat
    from torchstat.reporter import report_format

    classes = {type(m) for m in model.modules()}
    saved = {cls: cls.__dict__.get("__call__") for cls in classes}
    patched = {"long": not hasattr(np, "long"), "append": not hasattr(pd.DataFrame, "append")}
    if patched["long"]:
        np.long = np.int64  # removed in numpy 1.24; torchstat's hook still uses it
    if patched["append"]:  # removed in pandas 2
        pd.DataFrame.append = lambda self, row: pd.concat([self, row.to_frame().T])
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # its "[MAdd]: ... is not supported!" lines
            nodes = ModelStat(model, (3, 224, 224))._analyze_model()
        text = report_format(nodes)
    finally:
        for cls, call in saved.items():
            if call is None:
                if "__call__" in cls.__dict__:
                    delattr(cls, "__call__")
            else:
                cls.__call__ = call
        if patched["long"]:
            del np.long
        if patched["append"]:
            del pd.DataFrame.append
    return nodes, text


def _expected_from_torchstat(node, module):
    """The line symcost prints for torchstat's node: torchstat's numbers, corrected where it is wrong."""
    c_in = node.input_shape
    n_in = int(torch.Size(node.input_shape).numel())
    n_out = int(torch.Size(node.output_shape).numel())
    line = {"input shape": tuple(node.input_shape), "output shape": tuple(node.output_shape),
            "params": int(node.parameter_quantity), "MAdd": int(node.MAdd), "Flops": int(node.Flops),
            "MemRead(B)": int(node.Memory[0]), "MemWrite(B)": int(node.Memory[1])}
    memory = float(node.inference_memory)
    if isinstance(module, nn.Linear) and module.bias is not None:  # torchstat drops the bias add
        line["MAdd"] += module.out_features
        line["Flops"] += module.out_features
    if isinstance(module, nn.AdaptiveAvgPool2d):  # unsupported there: 0; one add or divide per input element
        line["MAdd"] += n_in
        line["Flops"] += n_in
        line["MemRead(B)"] += 4 * n_in
        line["MemWrite(B)"] += 4 * n_out
    if isinstance(module, nn.BatchNorm2d):  # inference reads weight, bias, mean and variance: 4*C, not 2*C
        line["MemRead(B)"] += 4 * 2 * c_in[0]
    if isinstance(module, (nn.ReLU, nn.Dropout)):  # in place / the input itself: no new memory
        memory = 0.0
    line["MemR+W(B)"] = line["MemRead(B)"] + line["MemWrite(B)"]
    return line, memory


@pytest.mark.parametrize("name", MODELS)
def test_torchstat_view_equals_torchstat_where_it_is_right(name, reports, models):
    model = models[name].eval()
    nodes, text = _run_torchstat(model)
    view = peer_view(reports[name], "torchstat")
    by_name: dict = {}
    for row in view.rows:
        by_name.setdefault(row["module name"], []).append(row)
    seen = set()
    for node in nodes:
        expected, memory = _expected_from_torchstat(node, model.get_submodule(node.name))
        lines = by_name.get(node.name)
        assert lines, node.name
        for line in lines:  # a module called twice (ResNet's relu) is one torchstat line, two of symcost's
            assert {k: line[k] for k in expected} == expected, node.name
            assert abs(float(line["memory(MB)"]) - memory) < 1e-6, node.name
        seen.add(node.name)
    called_twice = {n: len(rows) for n, rows in by_name.items() if len(rows) > 1}
    assert called_twice == ({f"layer{i}.{j}.relu": 2 for i in range(1, 5) for j in range(2)}
                            if name == "resnet18" else {})
    extra = [row for row in view.rows if row["module name"] not in seen]
    for row in extra:  # the residual add (in place: no new memory) and flatten (a view)
        n = 1
        for size in row["output shape"]:
            n *= size
        if row["module name"].endswith(".add"):
            assert (row["MAdd"], row["Flops"], row["MemRead(B)"], row["MemWrite(B)"]) == (n, n, 8 * n, 4 * n)
        else:
            assert row["module name"] == "flatten"
            assert (row["MAdd"], row["Flops"], row["MemR+W(B)"]) == (0, 0, 0)
        assert row["memory(MB)"] == 0
    assert len(extra) == (9 if name == "resnet18" else 1)
    # the totals block: every line but the memory ones equals torchstat's, once the lines above are accounted
    for key in ("params", "MAdd", "Flops", "MemR+W(B)"):
        assert view.totals[key] == sum(row[key] for row in view.rows)
    assert f"Total params: {view.totals['params']:,}" in text
    assert f"Total params: {view.totals['params']:,}\n" in view.text + "\n"
    from torchstat.reporter import round_value  # the tool's own formatting of its totals block

    header, ours = text.splitlines()[0], view.text.splitlines()[0]
    columns = ["module name", "input shape", "output shape", "params", "memory(MB)", "MAdd", "Flops", "MemRead(B)",
               "MemWrite(B)", "duration[%]", "MemR+W(B)"]
    assert sorted(columns, key=header.index) == columns  # torchstat's order; the view leaves out the duration
    assert sorted(columns[:9] + columns[10:], key=ours.index) == columns[:9] + columns[10:]
    assert "duration" not in ours

    assert f"Total MAdd: {round_value(view.totals['MAdd'])}MAdd" in view.text.splitlines()
    assert f"Total Flops: {round_value(view.totals['Flops'])}Flops" in view.text.splitlines()
    assert f"Total MemR+W: {round_value(view.totals['MemR+W(B)'], True)}B" in view.text.splitlines()
    assert f"Total memory: {float(view.totals['memory(MB)']):.2f}MB" in view.text.splitlines()


def test_torchstat_totals_block_of_resnet18(reports):
    """Hand-checked against torchstat's block: MAdd and Flops differ by the lines torchstat misses."""
    view = peer_view(reports["resnet18"], "torchstat")
    relu_second_calls = adds = 2 * (64 * 56 * 56 + 128 * 28 * 28 + 256 * 14 * 14 + 512 * 7 * 7)  # 752,640
    fc_bias, avgpool = 1000, 512 * 7 * 7
    assert view.totals["MAdd"] == 3_638_757_912 + fc_bias + avgpool + relu_second_calls + adds
    assert view.totals["Flops"] == 1_821_399_040 + fc_bias + avgpool + relu_second_calls + adds
    assert "Total MAdd: 3.64GMAdd" in view.text and "Total Flops: 1.82GFlops" in view.text
    assert "duration" not in view.rows[0]


def _run_torchsummary(model):
    return _run_torchsummary_on(model, (3, 224, 224))


def _run_torchsummary_on(model, shape):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        torchsummary.summary(model, shape, device="cpu")
    return out.getvalue()


LINE = re.compile(r"^\s*(\w+)-(\d+)\s+(\[[-\d, ]+\])\s+([\d,]+)$")


def _parse_summary(text):
    rows = [(m[1], tuple(int(v) for v in m[3].strip("[]").split(",")), int(m[4].replace(",", "")))
            for m in map(LINE.match, text.splitlines()) if m]
    footer = dict(line.split(": ") for line in text.splitlines() if ": " in line)
    return rows, footer


@pytest.mark.parametrize("name", MODELS)
def test_torchsummary_view_equals_torchsummary_where_it_is_right(name, reports, models):
    model = models[name]
    tool_rows, tool_footer = _parse_summary(_run_torchsummary(model))
    view = peer_view(reports[name], "torchsummary")
    ours, footer = _parse_summary(view.text)
    assert [row["layer"] for row in view.rows] == [f"{k}-{i}" for i, (k, _, _) in enumerate(ours, start=1)]
    blocks = {type(m).__name__ for m in model.modules() if list(m.children()) and not isinstance(
        m, (nn.Sequential, nn.ModuleList))} - {type(model).__name__}
    assert blocks == ({"BasicBlock"} if name == "resnet18" else set())
    layers = [(k, shape, p) for k, shape, p in tool_rows if k not in blocks]
    assert [(k, shape, p) for k, shape, p in ours if k not in NOT_MODULES] == layers
    for key in ("Total params", "Trainable params", "Non-trainable params", "Input size (MB)", "Params size (MB)"):
        assert footer[key] == tool_footer[key], key

    def elements(rows, kinds=None):
        total = 0
        for kind, shape, _ in rows:
            if kinds is None or kind in kinds:
                n = 1
                for size in shape[1:]:
                    n *= size
                total += n
        return total

    # torchsummary: twice every hooked output; symcost: each new tensor once (in-place ReLU, blocks, views: none)
    tool_elements = elements(tool_rows)
    assert tool_footer["Forward/backward pass size (MB)"] == "%0.2f" % (2 * tool_elements * 4 / MB)
    stored = tool_elements - elements(tool_rows, {"ReLU"} | blocks)
    assert view.totals["stored elements"] == stored
    assert footer["Forward/backward pass size (MB)"] == "%0.2f" % (2 * stored * 4 / MB)
    params = int(footer["Total params"].replace(",", ""))
    total = (3 * 224 * 224 + 2 * stored + params) * 4 / MB
    assert footer["Estimated Total Size (MB)"] == "%0.2f" % total


def test_torchsummary_numbers_of_resnet18_by_hand(reports):
    view = peer_view(reports["resnet18"], "torchsummary")
    assert view.text.splitlines()[:4] == [
        "-" * 64,
        "        Layer (type)               Output Shape         Param #",
        "=" * 64,
        "            Conv2d-1         [-1, 64, 112, 112]           9,408",
    ]
    assert view.totals["Total params"] == 11_689_512
    assert view.totals["Input size (MB)"] == sympy.Rational(3 * 224 * 224 * 4, 1024 ** 2)


def test_views_of_a_symbolic_report_ask_for_numbers():
    from symcost.symbols import H, W

    rep = sc.zoo.resnet18().analyze(sc.Shape(3, H, W))
    for tool in ("torchstat", "torchsummary"):
        with pytest.raises(sc.ViewError, match=f"the {tool} view prints numbers.*bind H, W first"):
            peer_view(rep, tool)
    assert "Total MAdd: 3.64GMAdd" in str(rep.subs(H=224, W=224).view("torchstat"))


def test_view_errors_are_one_line():
    rep = sc.Sequential(sc.Linear(3)).analyze(sc.Shape(4))
    with pytest.raises(sc.UnknownViewError, match="unknown view 'thop'; views are torchstat, torchsummary"):
        peer_view(rep, "thop")
    with pytest.raises(sc.ViewError, match="shows one sample"):
        peer_view(rep.batched(8), "torchsummary")
    with pytest.raises(ValueError, match="dtype"):
        peer_view(rep, "torchstat", dtype="float33")
    big = sc.Sequential(sc.Repeat(sc.Sequential(sc.ReLU()), times=10**9)).analyze(sc.Shape(4))
    with pytest.raises(sc.ViewError, match="more than 100,000 layer calls"):
        peer_view(big, "torchsummary")


def test_view_escapes_names_in_html():
    rep = sc.Sequential(sc.Linear(3, name="a<b>&c")).analyze(sc.Shape(4))
    view = peer_view(rep, "torchstat")
    assert "a<b>&c" in view.text and "a&lt;b&gt;&amp;c" in view._repr_html_()


def test_cli_as_torchstat_and_errors(capsys):
    from symcost.cli import main

    assert main(["report", "resnet18", "--as", "torchsummary"]) == 0
    out = capsys.readouterr().out
    assert "Forward/backward pass size (MB): 39.44" in out and "Total params: 11,689,512" in out
    assert main(["report", "alexnet", "--input", "3,H,W", "--as", "torchstat"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("symcost: error: the torchstat view prints numbers")
    assert main(["report", "alexnet", "--as", "torchstat", "--format", "json"]) == 2
    assert "leave out --format, --units and --convention" in capsys.readouterr().err
    assert main(["report", "alexnet", "--as", "torchsummary", "--convention", "macs"]) == 2
    assert "leave out --format, --units and --convention" in capsys.readouterr().err
    assert main(["report", "alexnet", "--as", "ptflops"]) == 2
    assert capsys.readouterr().err == "symcost: error: unknown view 'ptflops'; views are torchstat, torchsummary\n"


def test_in_place_and_views_allocate_nothing_by_hand():
    """Conv 3->8, k=3 on 10x10: 8*8*8 = 512 outputs; the ReLU in place, Flatten a view; Dropout copies in training."""
    net = sc.Sequential(sc.Conv2d(8, 3), sc.ReLU(), sc.Flatten(), sc.Dropout(0.5))
    rep = net.analyze(sc.Shape(3, 10, 10))
    assert peer_view(rep, "torchsummary").totals["stored elements"] == 512 + 512
    assert peer_view(rep, "torchsummary", inplace=()).totals["stored elements"] == 512 + 512 + 512
    stat = peer_view(rep, "torchstat")
    assert [row["memory(MB)"] for row in stat.rows] == [sympy.Rational(512 * 4, 1024 ** 2), 0, 0, 0]
    assert [row["MemR+W(B)"] for row in stat.rows] == [(300 + 224 + 512) * 4, 2 * 512 * 4, 0, 0]
    with pytest.raises(sc.ViewError, match="inplace must be a collection of layer kinds"):
        peer_view(rep, "torchstat", inplace="ReLU")


@pytest.mark.parametrize("value, text", [(sympy.Rational(1, 8), "0.12"), (sympy.Rational(3, 8), "0.38"),
                                         (sympy.Rational(1461189, 32768), "44.59"), (sympy.Integer(0), "0.00")])
def test_two_decimals_round_as_percent_format(value, text):
    from symcost.printing.peer_views import fixed

    assert fixed(value) == text == "%0.2f" % float(value)


def test_a_module_called_twice_counts_its_parameters_once():
    """torchsummary adds a module's parameters at every call: 2 x 272 here; the tensor is counted once."""

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc, self.relu = nn.Linear(16, 16), nn.ReLU()

        def forward(self, x):
            return self.fc(self.relu(self.fc(x)))

    model = Twice()
    tool_rows, tool_footer = _parse_summary(_run_torchsummary_on(model, (16,)))
    view = sc.from_torch(model, (16,)).analyze().view("torchsummary")
    ours, footer = _parse_summary(view.text)
    assert [p for _, _, p in tool_rows] == [272, 0, 272] and tool_footer["Total params"] == "544"
    assert [p for _, _, p in ours] == [272, 0, 0] and footer["Total params"] == "272"
    assert sum(p.numel() for p in model.parameters()) == 272


def test_a_module_called_twice_reads_its_weights_at_every_call():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(16, 16)

        def forward(self, x):
            return self.fc(self.fc(x))

    rows = sc.from_torch(Twice(), (16,)).analyze().view("torchstat").rows
    assert [(r["params"], r["MemRead(B)"], r["MemWrite(B)"]) for r in rows] == [(272, (16 + 272) * 4, 64)] * 1 + [
        (0, (16 + 272) * 4, 64)]
