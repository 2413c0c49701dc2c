"""from_torch on hostile inputs: tied weights, shared modules, train-mode branches, unused heads.

Every total is checked against torch itself: parameters and buffers against
``sum(p.numel() for p in model.parameters())`` (each tensor once), MACs
against ``FlopCounterMode`` (2 FLOPs per MAC) on a forward pass in the mode
the model was costed in.
"""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import symcost as sc
from symcost.printing.json_view import report_view
from symcost.printing.text import report_table
from symcost.symbols import H, W

torch.set_num_threads(1)


def torch_macs(model: nn.Module, shape: tuple, *, train: bool = False) -> int:
    """FlopCounterMode's MACs of one forward pass in the given mode (the model's mode is restored)."""
    was = model.training
    model.train(train)
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(torch.zeros(1, *shape))
    finally:
        model.train(was)
    return counter.get_total_flops() // 2


def numel(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def buffers(model: nn.Module) -> int:
    return sum(b.numel() for b in model.buffers())


def modes(model: nn.Module) -> list[bool]:
    return [m.training for m in model.modules()]


# ---------------------------------------------------------------------------
# Tied weights
# ---------------------------------------------------------------------------
class TiedLinear(nn.Module):
    """Two Linear(64, 64) sharing one weight, each with its own bias: 64*64 + 64 + 64 = 4,224 parameters."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(64, 64)
        self.b = nn.Linear(64, 64)
        self.b.weight = self.a.weight

    def forward(self, x):
        return self.b(F.relu(self.a(x)))


def test_tied_linear_weight_is_counted_once():
    model = TiedLinear().eval()
    assert numel(model) == 4224
    rep = sc.from_torch(model, (64,)).analyze()
    assert rep.total.params == numel(model) == 4224
    assert rep.total.macs == torch_macs(model, (64,)) == 2 * 64 * 64  # both products still run
    a, b = rep.row("a"), rep.row("b")
    assert (a.params, a.shared) == (64 * 64 + 64, None)
    assert (b.params, b.shared) == (64, "a")  # only its own bias
    assert b.macs == 64 * 64
    assert rep.unused_params == ()


class TiedHead(nn.Module):
    """A bias-free LM-style head that reuses a projection's weight (GPT-2's tied head, in small)."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(32, 32, bias=False)
        self.mid = nn.Linear(32, 32)
        self.head = nn.Linear(32, 32, bias=False)
        self.head.weight = self.proj.weight

    def forward(self, x):
        return self.head(self.mid(self.proj(x)))


def test_wholly_tied_layer_counts_nothing_and_names_the_first():
    model = TiedHead().eval()
    rep = sc.from_torch(model, (32,)).analyze()
    assert rep.total.params == numel(model) == 32 * 32 + 32 * 32 + 32
    assert rep.total.macs == torch_macs(model, (32,)) == 3 * 32 * 32
    assert (rep.row("head").params, rep.row("head").shared) == (0, "proj")


# ---------------------------------------------------------------------------
# A module called several times: ops at every call, tensors once
# ---------------------------------------------------------------------------
class Reused(nn.Module):
    """One conv + BatchNorm pair applied twice, and one ReLU module used three times (torchvision's ``relu``)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.stem = nn.Conv2d(3, 8, 1)

    def forward(self, x):
        x = self.relu(self.stem(x))
        x = self.relu(self.bn(self.conv(x)))
        return self.relu(self.bn(self.conv(x)))


def test_module_called_twice_costs_its_ops_twice_and_its_tensors_once():
    model = Reused().eval()
    rep = sc.from_torch(model, sc.Shape(3, H, W)).analyze()
    assert rep.total.params == numel(model) == 3 * 8 + 8 + 9 * 8 * 8 + 8 + 2 * 8
    assert rep.total.buffers == buffers(model) == 2 * 8 + 1  # running mean, var, num_batches_tracked
    for size in [(12, 12), (7, 10)]:
        assert sc.evaluate(rep.total.macs, H=size[0], W=size[1]) == torch_macs(model, (3, *size))
    convs = [r for r in rep.rows if r.name == "conv"]
    bns = [r for r in rep.rows if r.name == "bn"]
    assert [r.params for r in convs] == [9 * 8 * 8 + 8, 0] and [r.shared for r in convs] == [None, "conv"]
    assert [r.cost.params.buffer_total for r in bns] == [17, 0] and bns[1].shared == "bn"
    assert convs[0].macs == convs[1].macs == 9 * 8 * 8 * H * W
    relus = [r for r in rep.rows if r.name == "relu"]
    assert len(relus) == 3 and all(r.shared is None for r in relus)  # nothing to share: no tensors
    assert sc.evaluate(sum(r.flops() for r in relus), H=5, W=5) == 3 * 8 * 25


# ---------------------------------------------------------------------------
# Train mode: eval by default, train=True on request, the model's mode restored
# ---------------------------------------------------------------------------
class TrainBranch(nn.Module):
    """An extra 3x3 conv only in training: eval MACs 3*3*3*8*H*W, train adds 3*3*8*8*H*W."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.extra = nn.Conv2d(8, 8, 3, padding=1, bias=False)

    def forward(self, x):
        x = self.conv(x)
        if self.training:
            x = self.extra(x)
        return x.mean((2, 3))


def test_train_mode_model_is_costed_in_eval_by_default_and_left_in_train():
    model = TrainBranch()  # a fresh module is in train mode
    assert model.training
    before = modes(model)
    rep = sc.from_torch(model, (3, 16, 16)).analyze()
    assert modes(model) == before
    assert rep.total.macs == torch_macs(model, (3, 16, 16), train=False) == 3 * 3 * 3 * 8 * 16 * 16
    assert rep.total.params == numel(model)  # extra is unused in eval, counted and listed apart
    assert [(u.name, u.params) for u in rep.unused_params] == [("extra", 3 * 3 * 8 * 8)]


def test_train_true_costs_the_training_branch_and_keeps_eval_mode():
    model = TrainBranch().eval()
    before = modes(model)
    rep = sc.from_torch(model, sc.Shape(3, H, W), train=True).analyze()
    assert modes(model) == before
    assert sc.evaluate(rep.total.macs, H=16, W=16) == torch_macs(model, (3, 16, 16), train=True) \
        == (3 * 3 * 3 * 8 + 3 * 3 * 8 * 8) * 16 * 16
    assert rep.total.params == numel(model) and rep.unused_params == ()


class MixedModes(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 1)
        self.b = nn.Sequential(nn.Conv2d(4, 4, 1), nn.BatchNorm2d(4))

    def forward(self, x):
        return self.b(self.a(x))


def test_mixed_submodule_modes_are_restored():
    model = MixedModes().train()
    model.b[1].eval()
    before = modes(model)
    sc.from_torch(model, (3, 4, 4))
    sc.from_torch(model, (3, 4, 4), train=True)
    assert modes(model) == before


class Untraceable(nn.Module):
    """A data-dependent branch (fx cannot trace it) and an op with no counterpart."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x):
        if x.sum() >= 0:  # always, on zeros
            x = torch.sort(self.conv(x), dim=1).values
        return x


def test_mode_is_restored_when_conversion_raises():
    model = Untraceable().train()
    model.conv.eval()
    before = modes(model)
    with pytest.raises(sc.UnsupportedModuleError):
        sc.from_torch(model, (3, 4, 4))
    assert modes(model) == before
    with pytest.raises(sc.UnsupportedModuleError):
        sc.from_torch(model)  # fx fails, no numeric input
    assert modes(model) == before


def test_train_must_be_a_bool():
    with pytest.raises(sc.ArgumentTypeError, match="train must be True or False"):
        sc.from_torch(TrainBranch(), (3, 8, 8), train="yes")


# ---------------------------------------------------------------------------
# Unused parameters: counted, listed apart
# ---------------------------------------------------------------------------
class BasicConv(nn.Module):
    def __init__(self, cin: int, cout: int, k: int, **kw):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, bias=False, **kw)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)), inplace=True)


class AuxHead(nn.Module):
    def __init__(self, cin: int, classes: int):
        super().__init__()
        self.conv0 = BasicConv(cin, 8, 1)
        self.fc = nn.Linear(8, classes)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.conv0(x), (1, 1))
        return self.fc(torch.flatten(x, 1))


class MiniInception(nn.Module):
    """inception_v3's shape in small: branches joined by cat, an auxiliary head only in training."""

    def __init__(self, classes: int = 10):
        super().__init__()
        self.stem = BasicConv(3, 16, 3, stride=2)
        self.b1 = BasicConv(16, 8, 1)
        self.b3 = nn.Sequential(BasicConv(16, 8, 1), BasicConv(8, 8, 3, padding=1))
        self.AuxLogits = AuxHead(16, classes)
        self.fc = nn.Linear(16, classes)
        self.scale = nn.Parameter(torch.ones(1))  # a loose tensor no layer reads

    def forward(self, x):
        x = self.stem(x)
        aux = self.AuxLogits(x) if self.training else None
        x = torch.cat([self.b1(x), self.b3(x)], 1)
        x = self.fc(torch.flatten(F.adaptive_avg_pool2d(x, (1, 1)), 1))
        return x if aux is None else x + aux


AUX_PARAMS = 16 * 8 + 2 * 8 + 8 * 10 + 10
AUX_BUFFERS = 2 * 8 + 1


def test_unused_auxiliary_head_is_counted_and_listed_apart():
    model = MiniInception().eval()
    rep = sc.from_torch(model, sc.Shape(3, H, W)).analyze()
    assert rep.total.params == numel(model)
    assert rep.total.buffers == buffers(model)
    assert [(u.name, u.params, u.buffers) for u in rep.unused_params] == \
        [("scale", 1, 0), ("AuxLogits", AUX_PARAMS, AUX_BUFFERS)]
    assert sum(r.params for r in rep.rows) == numel(model) - AUX_PARAMS - 1
    assert not any(r.name.startswith("AuxLogits") for r in rep.rows)
    assert sc.evaluate(rep.total.macs, H=33, W=29) == torch_macs(model, (3, 33, 29))
    numbers = rep.subs(H=33, W=29)
    assert numbers.unused_params == rep.unused_params and numbers.total.params == numel(model)
    assert sc.from_torch(model, sc.Shape(3, H, W)).analyze(floor="divisible").total.params == numel(model)


def test_unused_head_is_used_in_training_mode():
    model = MiniInception()
    rep = sc.from_torch(model, (3, 33, 29), train=True).analyze()
    assert [u.name for u in rep.unused_params] == ["scale"]
    assert rep.total.params == numel(model)
    assert rep.total.macs == torch_macs(model, (3, 33, 29), train=True)


class RecordedTied(nn.Module):
    """Read from one forward pass (data-dependent branch), with a tied weight and a pruned module."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(16, 16)
        self.b = nn.Linear(16, 16)
        self.b.weight = self.a.weight
        self.dead = nn.Linear(16, 4)

    def forward(self, x):
        y = self.a(x)
        self.dead(y)  # its result is never used
        if x.sum() >= 0:  # always, on zeros
            y = self.b(y)
        return y


def test_recorded_forward_counts_each_tensor_once():
    model = RecordedTied().train()
    rep = sc.from_torch(model, (16,)).analyze()
    assert model.training
    assert rep.total.params == numel(model) == 16 * 16 + 16 + 16 + 16 * 4 + 4
    assert (rep.row("b").params, rep.row("b").shared) == (16, "a")
    assert [(u.name, u.params) for u in rep.unused_params] == [("dead", 16 * 4 + 4)]
    assert rep.total.macs == 2 * 16 * 16  # torch also runs dead (64 MACs), whose result nothing reads
    assert torch_macs(model, (16,)) == 2 * 16 * 16 + 16 * 4


# ---------------------------------------------------------------------------
# Outputs: text and JSON show shared rows and unused tensors
# ---------------------------------------------------------------------------
def test_text_and_json_show_shared_rows_and_unused_params():
    view = report_view(sc.from_torch(TiedLinear(), (64,)).analyze())
    assert [layer["shared"] for layer in view["layers"]] == [None, None, "a"]
    assert view["unused_params"] == [] and view["total"]["params"]["value"] == 4224
    text = report_table(view)
    assert "64*" in text and "* Shared           b: tensors counted at a" in text
    assert "Params             4,224" in text

    view = json.loads(json.dumps(report_view(sc.from_torch(MiniInception(), (3, 16, 16)).analyze())))
    assert [(u["name"], u["params"]["value"], u["buffers"]["value"]) for u in view["unused_params"]] == \
        [("scale", 1, 0), ("AuxLogits", AUX_PARAMS, AUX_BUFFERS)]
    text = report_table(view)
    assert f"Unused             AuxLogits: {AUX_PARAMS} params, {AUX_BUFFERS} buffers" in text


def test_cli_json_lists_unused_params(tmp_path, monkeypatch, capsys):
    from symcost import cli

    (tmp_path / "symcost_unused_head_model.py").write_text(
        "from torch import nn\n"
        "class Headed(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__(); self.fc = nn.Linear(4, 4); self.aux = nn.Linear(4, 2)\n"
        "    def forward(self, x):\n"
        "        return self.fc(x)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    status = cli.main(["report", "--from-torch", "symcost_unused_head_model:Headed", "--input", "4", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert status in (0, None)
    assert out["total"]["params"]["value"] == 4 * 4 + 4 + 4 * 2 + 2
    assert [(u["name"], u["params"]["value"]) for u in out["unused_params"]] == [("aux", 10)]


# ---------------------------------------------------------------------------
# Graph: the tie is data of a node
# ---------------------------------------------------------------------------
def test_graph_tied_node_checks_its_first_node():
    lin = sc.Linear(4, in_features=4)
    with pytest.raises(sc.InvalidArgumentError, match="tied"):
        sc.Graph([sc.Node("fc", lin, ["input"], tied=sc.Tied("later"))], output="fc")
    with pytest.raises(sc.ArgumentTypeError, match="tied must be symcost.Tied"):
        sc.Graph([sc.Node("fc", lin, ["input"], tied="fc0")], output="fc")
    g = sc.Graph([sc.Node("fc1", lin, ["input"]), sc.Node("fc2", lin, ["fc1"], tied=sc.Tied("fc1"))],
                 output="fc2")
    rep = g.analyze(sc.Shape(4))
    assert rep.total.params == 20 and rep.total.macs == 32 and rep.row("fc2").shared == "fc1"


# ---------------------------------------------------------------------------
# torchvision's inception_v3, when torchvision imports
# ---------------------------------------------------------------------------
def test_torchvision_inception_v3_counts_its_aux_head():
    try:
        import torchvision
    except Exception as err:  # noqa: BLE001  (a torchvision built for another torch fails in many ways)
        pytest.skip(f"torchvision does not import: {type(err).__name__}")
    model = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=False).eval()
    rep = sc.from_torch(model, (3, 75, 75)).analyze()  # its smallest input: fast
    assert rep.total.params == numel(model) == 27_161_264
    assert rep.total.buffers == buffers(model)
    assert [u.name for u in rep.unused_params] == ["AuxLogits"]
    assert rep.unused_params[0].params == sum(p.numel() for p in model.AuxLogits.parameters())
    assert rep.total.macs == torch_macs(model, (3, 75, 75))
    assert not model.training
