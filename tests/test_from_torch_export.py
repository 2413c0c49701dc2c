"""from_torch's torch.export route: symbols, several inputs, dict outputs, errors, modes, parameters, fixed sizes.

Every count is checked against torch: parameters against ``sum(p.numel())``,
MACs against FlopCounterMode / 2 at two sizes from one symbolic derivation.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import symcost as sc  # noqa: E402
from symcost.symbols import H, W, symbol  # noqa: E402
from flop_counting import flop_macs  # noqa: E402

pytestmark = pytest.mark.torch


def macs_at(rep, **sizes):
    return int(sc.evaluate(rep.total.macs, **sizes)) if rep.total.macs.free_symbols else int(rep.total.macs)


class Stem(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        y = self.pool(torch.relu(self.bn(self.conv(x))))
        return self.fc(y.mean((2, 3)))


def test_symbols_map_back_to_the_users_and_match_torch_at_two_sizes():
    model = Stem().eval()
    rep = sc.from_torch(model, (3, H, W)).analyze()
    assert rep.total.macs.free_symbols == {H, W}
    for h, w in ((17, 30), (40, 23)):
        assert macs_at(rep, H=h, W=w) == flop_macs(model, torch.zeros(1, 3, h, w))
    assert rep.total.params == sum(p.numel() for p in model.parameters())
    # the conv's MACs by hand: 8 * 3 * 9 per output position, (H+1)//2 x (W+1)//2 positions
    conv = next(r for r in rep.rows if r.name == "conv")
    assert sc.evaluate(conv.cost.ops.macs, H=17, W=30) == 8 * 27 * 9 * 15


def test_one_symbol_in_two_entries_is_one_size():
    rep = sc.from_torch(Stem().eval(), (3, H, H)).analyze()
    assert rep.total.macs.free_symbols == {H}


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(6, 4)
        self.b = nn.Linear(3, 4)

    def forward(self, x, y):
        return self.a(x) + self.b(y)


def test_several_inputs():
    L = symbol("L")
    model = TwoInputs().eval()
    net = sc.from_torch(model, [(L, 6), (L, 3)])
    rep = net.analyze()
    for n in (5, 9):
        assert macs_at(rep, L=n) == flop_macs(model, torch.zeros(1, n, 6), torch.zeros(1, n, 3)) == n * (24 + 12)


class Heads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Conv2d(3, 4, 3, padding=1)
        self.seg = nn.Conv2d(4, 2, 1)
        self.aux = nn.Conv2d(4, 7, 1)

    def forward(self, x):
        f = self.body(x)
        return {"out": self.seg(f), "aux": self.aux(f)}


def test_every_output_of_a_dict_is_counted():
    model = Heads().eval()
    rep = sc.from_torch(model, (3, H, W)).analyze()
    for h, w in ((8, 8), (12, 5)):
        assert macs_at(rep, H=h, W=w) == flop_macs(model, torch.zeros(1, 3, h, w)) == h * w * (4 * 27 + 8 + 28)


class Unknown(nn.Module):
    def forward(self, x):
        return torch.cumsum(x, 2).flip(3)


def test_unknown_operators_are_named_in_one_error():
    with pytest.raises(sc.UnsupportedModuleError) as info:
        sc.from_torch(Unknown().eval(), (3, H, W))
    message = str(info.value)
    assert "aten.cumsum" in message and "aten.flip" in message
    assert message.count("\n") == 0


class Modes(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(self.bn(self.conv(x)))


def test_eval_mode_by_default_and_the_mode_restored():
    model = Modes().train()
    model.bn.eval()  # a mix, to be restored as it was
    rep = sc.from_torch(model, (3, H, W)).analyze()
    assert model.training and model.conv.training and model.drop.training and not model.bn.training
    assert "Dropout" not in {r.kind for r in rep.rows}  # eval: dropout passes its input through
    assert sc.evaluate(rep.total.macs, H=5, W=6) == 4 * 27 * 12


class Tied(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(50, 8)
        self.head = nn.Linear(8, 50, bias=False)
        self.head.weight = self.emb.weight
        self.unused = nn.Linear(8, 3)

    def forward(self, ids):
        return self.head(self.emb(ids))


def test_tied_weights_once_and_unused_parameters_listed():
    L = symbol("L")
    model = Tied().eval()
    net = sc.from_torch(model, (L,), dtype=torch.long)
    rep = net.analyze()
    assert rep.total.params == sum(p.numel() for p in model.parameters()) == 50 * 8 + 8 * 3 + 3
    assert [u.name for u in net.unused_params] == ["unused"]
    assert sc.evaluate(rep.total.macs, L=7) == flop_macs(model, torch.zeros(1, 7, dtype=torch.long)) == 7 * 400


class Fixed(nn.Module):
    """A position embedding that fixes the input's size to 224, as ViT's does (export's example size)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.pos = nn.Parameter(torch.zeros(1, 4, 224, 224))

    def forward(self, x):
        return self.conv(x) + self.pos


def test_a_size_the_code_fixes_stays_fixed_and_is_noted():
    model = Fixed().eval()
    net = sc.from_torch(model, (3, H, W))
    assert tuple(net.input_shape.dims) == (3, 224, 224)
    assert any("H = 224" in n for n in net.notes) and any("W = 224" in n for n in net.notes)
    rep = net.analyze()
    assert rep.total.macs == flop_macs(model, torch.zeros(1, 3, 224, 224)) == 224 * 224 * 12
    assert rep.total.params == sum(p.numel() for p in model.parameters())


class Proj(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(4, 4))

    def forward(self, x):
        return x @ self.weight


class UsesProj(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = Proj()

    def forward(self, x):
        return torch.relu(self.proj(x))


def test_register_torch_keeps_a_module_whole_on_the_export_route():
    sc.register_torch(Proj, lambda m: sc.Linear(4, bias=False, in_features=4))
    try:
        L = symbol("L")
        rep = sc.from_torch(UsesProj().eval(), (L, 4)).analyze()
    finally:
        from symcost.frontends.pytorch import _REGISTERED
        _REGISTERED.pop(Proj, None)
    assert [r.kind for r in rep.rows] == ["Linear", "ReLU"]
    assert sc.evaluate(rep.total.macs, L=3) == 3 * 16


def test_a_causal_attention_counts_the_full_square():
    class Attn(nn.Module):
        def forward(self, q):
            return nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True)

    L = symbol("L")
    rep = sc.from_torch(Attn().eval(), (2, L, 8)).analyze()
    for n in (5, 9):
        assert sc.evaluate(rep.total.macs, L=n) == flop_macs(Attn(), torch.zeros(1, 2, n, 8)) == 2 * 2 * n * n * 8


TOKENS = '''
from torch import nn
class Tok(nn.Module):
    def __init__(self):
        super().__init__()
        self.e = nn.Embedding(10, 4)
        self.l = nn.Linear(4, 3)
    def forward(self, x):
        return self.l(self.e(x))
def tok():
    return Tok()
'''


def test_cli_report_from_torch_with_a_long_input(tmp_path, monkeypatch, capsys):
    from symcost.cli import main

    (tmp_path / "tokmods13.py").write_text(TOKENS)
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--from-torch", "tokmods13:tok", "--input", "L", "--input-dtype", "long",
                 "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert '"12*L"' in out.replace(" ", "")  # MACs: L tokens x 4 x 3, by hand
    assert main(["report", "--from-torch", "tokmods13:tok", "--input-dtype", "long"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symcost: error: --input-dtype needs --input") and err.count("\n") == 1


def test_register_aten_gives_an_operator_its_layer():
    from symcost.frontends import torch_export

    sc.register_aten("aten.cumsum", lambda op: sc.Identity())
    sc.register_aten("aten.flip", lambda op: torch_export.Uses(sc.Identity(), (op.args[0],)))
    try:
        rep = sc.from_torch(Unknown().eval(), (3, H, W)).analyze()
    finally:
        torch_export._ATEN_REGISTERED.pop("aten.cumsum", None)
        torch_export._ATEN_REGISTERED.pop("aten.flip", None)
    assert [r.kind for r in rep.rows] == ["Identity", "Identity"]
    assert rep.out_shape == sc.Shape(3, H, W)
    with pytest.raises(sc.ArgumentTypeError):
        sc.register_aten(3, lambda op: None)
