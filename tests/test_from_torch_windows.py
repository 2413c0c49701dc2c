"""Windowed attention through from_torch: Swin v1 and v2 (sizes padded to a multiple of the window).

Every count is checked against something independent: sizes against brute-force integers, parameters
against ``sum(p.numel())``, MACs against FlopCounterMode / 2 at sizes that are and are not multiples of the
window, from one symbolic derivation per model.
"""

from __future__ import annotations

import math

import pytest
import sympy

import symcost as sc
from symcost.core.arguments import proven
from symcost.core.canonical import ceil_div, floor_div, mod
from symcost.symbols import H, W

# -- sizes torch writes with Mod: one form without Mod ----------------------------------------------------


@pytest.mark.parametrize("n", [2, 3, 7, 8])
def test_a_size_padded_to_the_window_is_n_times_its_ceiling(n):
    padded = W + mod(n - mod(W, n), n)  # swin: W + (window - W % window) % window
    assert padded == n * sympy.ceiling(W / n)
    if n > 2:
        assert W - mod(W, n) == n * sympy.floor(W / n)
    else:  # W % 2 is written for padding (PatchMerging pads W % 2): W + W % 2 = 2*ceil(W/2)
        assert W + mod(W, 2) == 2 * sympy.ceiling(W / 2)
    for w in range(1, 51):
        assert padded.subs(W, w) == w + (n - w % n) % n
        assert (W - mod(W, n)).subs(W, w) == w - w % n


def test_floor_ceil_and_mod_equal_pythons_on_integers():
    quarter = sympy.floor(H / 4)
    cases = [(6 * W, 7), (-W, 7), (3 * W + 5, 4), (W - 1, 2), (quarter + mod(quarter, 2) + 1, 2),
             (7 - mod(quarter, 7), 7), (2 * W - 2 * sympy.floor(W / 2), 2)]
    for a, n in cases:
        for v in range(1, 60):
            x = int(a.subs({W: v, H: v}))
            assert floor_div(a, n).subs({W: v, H: v}) == x // n
            assert ceil_div(a, n).subs({W: v, H: v}) == -(-x // n)
            assert mod(a, n).subs({W: v, H: v}) == x % n
    assert not mod(6 * W, 7).has(sympy.Mod)


def test_proven_bounds_floors_and_ceilings_soundly():
    quarter = sympy.floor(H / 4)
    assert proven(7 * sympy.ceiling(quarter / 7) >= quarter)
    assert proven(2 * sympy.floor(W / 2) >= W - 1)
    assert not proven(2 * sympy.floor(W / 2) >= W)  # false at W = 1
    assert not proven(7 * sympy.floor(W / 7) > W - 6)  # false at W = 6
    assert not proven(7 * sympy.ceiling(W / 7) > W)  # false at W = 7


def test_a_slice_from_1_fits_any_dimension():
    # x[:, 1::2] of a symbolic side: ceil((W - 1)/2) entries, as Python's range (no Min left over)
    out = sc.Slice(3, 1, None, 2).cost(sc.Shape(4, H, W)).out_shape
    assert not out.dims[2].has(sympy.Min)
    for w in range(1, 30):
        assert out.dims[2].subs(W, w) == len(range(1, w, 2))


# -- the layers F.normalize needs ---------------------------------------------------------------------------


def test_div_and_norm_count_by_hand():
    L, D = sympy.Symbol("L", positive=True, integer=True), sympy.Symbol("D", positive=True, integer=True)
    norm = sc.Norm(-1, keepdim=True).cost(sc.Shape(L, D))
    assert norm.out_shape == sc.Shape(L, 1)
    assert (norm.ops.mul, norm.ops.add, norm.ops.special) == (L * D, L * (D - 1), L)
    div = sc.Div().cost(sc.Shape(L, D), sc.Shape(L, 1))
    assert div.out_shape == sc.Shape(L, D) and div.ops.div == L * D


# -- models through torch.export ----------------------------------------------------------------------------

torch = pytest.importorskip("torch")
from flop_counting import flop_macs  # noqa: E402

pytestmark = pytest.mark.torch


def macs_at(rep, **sizes):
    return int(sc.evaluate(rep.total.macs, **sizes))


def test_normalize_and_a_product_on_a_constant_table_are_counted_as_torch_counts():
    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.mlp = torch.nn.Linear(2, 8)  # runs on a constant table every forward: FlopCounterMode counts it
            self.register_buffer("table", torch.randn(1, 5, 2))

        def forward(self, x):
            return torch.nn.functional.normalize(x, dim=-1) + self.mlp(self.table).sum()

    model = Model().eval()
    net = sc.from_torch(model, (H, 8))
    rep = net.analyze()
    kinds = {row.cost.kind for row in rep.rows}
    assert {"Norm", "Div", "Linear"} <= kinds
    assert rep.total.params == sum(p.numel() for p in model.parameters())
    for h in (3, 11):
        assert macs_at(rep, H=h) == flop_macs(model, torch.zeros(1, h, 8)) == 5 * 2 * 8


def _swin(v2: bool):
    import tests.torchvision_shim as shim

    shim.install()
    from torchvision.models.swin_transformer import PatchMergingV2, SwinTransformer, SwinTransformerBlockV2

    torch.manual_seed(0)
    extra = {"block": SwinTransformerBlockV2, "downsample_layer": PatchMergingV2} if v2 else {}
    # v1: one stage, a plain and a shifted block (attention mask, torch.roll); v2: two stages of one block, a
    # patch merging between (pads W % 2, slices 0::2 and 1::2); each kept small, as export takes its time
    return SwinTransformer(patch_size=[16, 16], embed_dim=16, depths=[1, 1] if v2 else [2], num_heads=[1, 2],
                           window_size=[7, 7], num_classes=10, **extra).eval()


@pytest.mark.parametrize("v2", [False, True], ids=["swin", "swin_v2"])
def test_a_small_swin_converts_in_h_and_w_and_matches_torch(v2):
    model = _swin(v2)
    net = sc.from_torch(model, (3, H, W))
    rep = net.analyze()
    assert rep.total.macs.free_symbols == {H, W}
    assert not rep.total.macs.has(sympy.Mod)
    assert rep.total.params == sum(p.numel() for p in model.parameters())
    # multiples of the window (112 = 16*7), not (100x72), and several windows per stage (480x544)
    for h, w in ((112, 112), (100, 72), (480, 544)):
        with torch.no_grad():
            assert macs_at(rep, H=h, W=w) == flop_macs(model, torch.zeros(1, 3, h, w)), (h, w)
    if v2:  # the position-bias MLP runs on a constant table each forward: 2*512 + 512*heads MACs per entry
        table = 13 * 13
        mlp = [r for r in rep.rows if "cpb_mlp" in r.name]
        assert sum(r.cost.ops.macs for r in mlp) == table * (2 * 512 + 512 * 1) + table * (2 * 512 + 512 * 2)


def test_a_small_maxvit_keeps_its_fixed_size_and_matches_torch():
    # MaxViT fixes its input size at construction: export fails at the example size, runs (on fake tensors) at
    # 224 and not at 256, so it is exported with 224 as a number: seconds, not minutes
    import tests.torchvision_shim as shim

    shim.install()
    from torchvision.models.maxvit import MaxVit

    torch.manual_seed(0)
    model = MaxVit(input_size=(224, 224), stem_channels=8, partition_size=2, block_channels=[8, 16],
                   block_layers=[1, 1], head_dim=4, stochastic_depth_prob=0.0, num_classes=10).eval()
    net = sc.from_torch(model, (3, H, W))
    assert net.input_shape == sc.Shape(3, 224, 224)
    assert any(note.startswith("H = 224") for note in net.notes)
    rep = net.analyze()
    assert rep.total.params == sum(p.numel() for p in model.parameters())
    with torch.no_grad():
        assert int(rep.total.macs) == flop_macs(model, torch.zeros(1, 3, 224, 224))
    # its attention products are einsums over (batch, grid, heads, ...): the batch letter is dropped
    assert any(row.cost.kind == "Einsum" for row in rep.rows)


def test_sizes_torch_guarded_are_in_the_notes():
    class Branchy(torch.nn.Module):
        def forward(self, x):
            return x * 2 if x.shape[1] >= 10 else x

    net = sc.from_torch(Branchy(), (H, 4))
    assert any(note.startswith("H >= 10:") for note in net.notes)
    assert not sc.from_torch(torch.nn.Identity(), (H, 4)).notes
