"""Segmentation heads and video splits through from_torch: LRASPP's two grids, ``torch.tensor_split``.

LRASPP adds a high-resolution branch to a low-resolution one interpolated to
the first's size (``F.interpolate(x, size=low.shape[-2:])``): the two sit on
different grids, so no (size, stride, padding) describes the sum. Its costs
are still exact (checked against ``sum(p.numel())`` and FlopCounterMode / 2),
and its receptive field is reported undefined, with the reason, in every
format. The receptive-field expectations below are derived by hand with the
recurrence of Araujo et al. (Distill 2019): ``r += (K - 1)*j``, ``p += P*j``,
``j *= S``. ``tensor_split`` is checked piece by piece against torch.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import symcost as sc  # noqa: E402
from symcost.networks.base import NO_INPUT  # noqa: E402
from symcost.printing.json_view import report_view  # noqa: E402
from symcost.printing.text import report_table  # noqa: E402
from symcost.symbols import C, H, K, W, symbol  # noqa: E402
from flop_counting import flop_macs  # noqa: E402

pytestmark = pytest.mark.torch


def macs_at(rep, **sizes):
    return int(sc.evaluate(rep.total.macs, **sizes)) if rep.total.macs.free_symbols else int(rep.total.macs)


# ---------------------------------------------------------------------------
# Receptive fields of two grids joined (symcost only, hand-derived)
# ---------------------------------------------------------------------------
h_low, w_low = symbol("h_low"), symbol("w_low")


def two_grids(up: sc.Upsample, dims: tuple = ()) -> sc.Graph:
    """low = conv3 s2 p1 (field 3, stride 2, pad 1); high = conv3 s2 p1 on low (7, 4, 3); up(high) + low."""
    return sc.Graph([
        sc.Node("low", sc.Conv2d(4, 3, stride=2, padding=1), ["input"]),
        sc.Node("high", sc.Conv2d(4, 3, stride=2, padding=1), ["low"]),
        sc.Node("up", up, ["high"], dims=dims),
        sc.Node("add", sc.Add(), ["up", "low"]),
    ], output="add")


TO_LOW = (sc.Dim(h_low, "low", 2), sc.Dim(w_low, "low", 3))


def test_an_exact_factor_of_two_keeps_one_grid_and_the_largest_field():
    # nearest x2: stride 4 * 1/2 = 2, the low branch's; field max(3, 7) = 7 with its padding 3
    rep = two_grids(sc.Upsample(scale_factor=2)).analyze(sc.Shape(3, 16, 16))
    assert (rep.rf.size, rep.rf.stride, rep.rf.padding) == ((7, 7), (2, 2), (3, 3))
    assert rep.rf.undefined == "" and rep.notes == ()
    # the same sum with the size taken from the other tensor, on a size both grids divide: one grid again
    rep = two_grids(sc.Upsample(size=(h_low, w_low)), TO_LOW).analyze(sc.Shape(3, 16, 16))
    assert (rep.rf.size, rep.rf.stride, rep.rf.padding) == ((7, 7), (2, 2), (3, 3))


@pytest.mark.parametrize("shape", [sc.Shape(3, 14, 14), sc.Shape(3, H, W)], ids=["14x14", "HxW"])
def test_a_size_taken_from_another_tensor_leaves_the_sum_undefined_with_its_reason(shape):
    # 14 -> low 7 -> high 4 -> back to 7: stride 4*4/7 = 16/7 beside 2 (inputs in order: up, low);
    # symbolically 4*ceil(H/4)/ceil(H/2)
    rep = two_grids(sc.Upsample(size=(h_low, w_low)), TO_LOW).analyze(shape)
    add = rep.row("add")
    assert add.rf.undefined and add.rf.size == add.rf.stride == add.rf.padding == ()
    stride = "16/7" if shape.dims[1] == 14 else "(4*ceil(H/4)/ceil(H/2), 4*ceil(W/4)/ceil(W/2))"
    assert add.rf.undefined == (f'Add "add" joins branches on different grids (effective strides {stride} and 2), '
                                "so no single size, stride and padding describes its output")
    assert rep.rf == add.rf and rep.notes == (f"receptive field undefined: {add.rf.undefined}",)
    # the rows before the join keep their hand-derived fields; the costs are all there
    assert (rep.row("high").rf.size, rep.row("high").rf.stride, rep.row("high").rf.padding) == ((7, 7), (4, 4), (3, 3))
    assert rep.total.params == (4 * 3 * 9 + 4) + (4 * 4 * 9 + 4)


def test_on_the_grid_of_the_total_stride_the_two_branches_agree_again():
    # floor="divisible" puts H = 4*h: ceil(H/4)/ceil(H/2) = 1/2, so the stride is 4/2 = 2, the low branch's
    rep = two_grids(sc.Upsample(size=(h_low, w_low)), TO_LOW).analyze(sc.Shape(3, H, W), floor="divisible")
    assert (rep.rf.size, rep.rf.stride, rep.rf.padding) == ((7, 7), (2, 2), (3, 3)) and rep.notes == ()
    assert [a.expr for a in rep.assumptions] == [H / 4, W / 4]


def test_a_latex_report_with_an_undefined_field_compiles(tmp_path):
    from test_render import compile_latex

    rep = two_grids(sc.Upsample(size=(h_low, w_low)), TO_LOW).analyze(sc.Shape(3, H, W))
    source = rep.to_latex(standalone=True)
    assert source.count("\\text{undefined}") == 2  # the add's row and the total
    compile_latex(source, tmp_path)


def test_an_undefined_field_stays_undefined_after_more_layers_and_substitution():
    net = sc.Sequential(two_grids(sc.Upsample(size=(h_low, w_low)), TO_LOW), sc.Conv2d(4, 3, padding=1), sc.ReLU())
    rep = net.analyze(sc.Shape(3, H, W))
    assert all(row.rf.undefined for row in rep.rows[-2:])
    bound = rep.subs(H=16, W=16)
    assert bound.rf.undefined == rep.rf.undefined and bound.total.macs == net.analyze(sc.Shape(3, 16, 16)).total.macs
    with pytest.raises(sc.ShapeError, match="receptive field is undefined"):
        rep.rf.centre(0)


def test_an_output_computed_from_parameters_only_and_a_repeat_over_it_report_no_field():
    # before: the report's field was None (renderers failed) and Repeat compared None's stride
    g = sc.Graph([sc.Node("p", sc.Parameter((4, 5, 5)), ()),
                  sc.Node("r", sc.Repeat(sc.Sequential(sc.ReLU()), times=K), ["p"])], output="r")
    rep = g.analyze(sc.Shape(4, 5, 5))
    assert rep.rf.undefined == NO_INPUT and rep.total.params == 100
    assert rep.total.flops() == K * 100
    assert f"receptive field undefined: {NO_INPUT}" in report_table(report_view(rep, "float32"))


# ---------------------------------------------------------------------------
# LRASPP (torchvision's head on a tiny backbone)
# ---------------------------------------------------------------------------
class TinyBackbone(nn.Module):
    """``low``: stride 2 (high resolution), ``high``: stride 4 (low resolution), as LRASPP reads them."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.b = nn.Conv2d(4, 6, 3, stride=2, padding=1)

    def forward(self, x):
        low = self.a(x)
        return {"low": low, "high": self.b(low)}


@pytest.fixture(scope="module")
def lraspp():
    import tests.torchvision_shim as shim

    shim.install()
    from torchvision.models.segmentation.lraspp import LRASPP

    model = LRASPP(TinyBackbone(), 4, 6, num_classes=3, inter_channels=8).eval()
    return model, sc.from_torch(model, (3, H, W)).analyze()


def test_lraspp_converts_symbolically_and_matches_torch(lraspp):
    model, rep = lraspp
    assert rep.total.params == sum(p.numel() for p in model.parameters())
    assert rep.total.macs.free_symbols == {H, W} and rep.out_shape == sc.Shape(3, H, W)
    for h, w in ((16, 16), (21, 19), (13, 30)):  # 21, 19, 13: not multiples of the stride 4
        assert macs_at(rep, H=h, W=w) == flop_macs(model, torch.zeros(1, 3, h, w))
    # the high-resolution classifier (1x1, 4 -> 3) by hand, on the ceil(H/2) x ceil(W/2) map
    low = rep.row("classifier.low_classifier")
    assert sc.evaluate(low.macs, H=21, W=19) == 4 * 3 * 11 * 10


def test_lraspp_reports_its_field_undefined_with_the_reason_in_every_format(lraspp):
    _, rep = lraspp
    reason = rep.row("classifier.add").rf.undefined
    assert reason.startswith('Add "classifier.add" joins branches on different grids (effective strides 2 and ')
    assert rep.rf.undefined == reason and f"receptive field undefined: {reason}" in rep.notes
    assert rep.row("backbone.b").rf.size == (7, 7)  # defined before the join
    text = report_table(report_view(rep, "float32", named=True))
    assert "Receptive field    undefined (see Note)" in text
    assert "receptive field undefined: Add" in text
    add_line = next(line for line in text.splitlines() if line.startswith("classifier.add "))
    assert add_line.rstrip().endswith("undefined")
    view = json.loads(json.dumps(report_view(rep)))
    assert view["total"]["rf"] == {"size": None, "stride": None, "padding": None,
                                   "width": {"size": None, "stride": None, "padding": None}, "undefined": reason}
    assert view["layers"][-1]["rf"]["undefined"] == reason
    assert f"receptive field undefined: {reason}" in view["notes"]
    markdown = rep.to_markdown()
    assert "| $\\text{undefined}$ |" in markdown  # escaped as Markdown text: 4\*ceil(H/4)
    assert f"Note: receptive field undefined: {reason}".replace("*", "\\*") in markdown
    latex = rep.to_latex()
    assert "\\text{undefined}" in latex and "receptive field undefined: Add" in latex
    # numbers in: the field stays undefined (never a wrong number), the costs become integers
    bound = rep.subs(H=21, W=19)
    assert bound.rf.undefined == reason and bound.total.macs.is_Integer


# ---------------------------------------------------------------------------
# torch.tensor_split
# ---------------------------------------------------------------------------
SPLITS = [
    ((7, 5, 6), 3, 1), ((7, 5, 6), 2, 2), ((6, 5, 9), 4, -1), ((4, 3, 5, 6), 3, 2),   # sections, n % k != 0
    ((8, 5, 6), (1,), 1), ((4, 9, 6), (2, 5), 2), ((4, 9, 6), (-3,), -2), ((6, 9), (1, 4, 8), 2),  # indices
    ((4, 9, 6), (3, 8), 2), ((3, 10), (-4, 7), 2), ((5, 2, 8), [2, 6], 3),      # negative, a list
]


def torch_pieces(shape, cuts, dim):
    return [tuple(t.shape[1:]) for t in torch.tensor_split(torch.zeros(1, *shape), cuts, dim=dim)]


@pytest.mark.parametrize("shape,cuts,dim", SPLITS)
def test_tensor_split_gives_torchs_pieces(shape, cuts, dim):
    cost = sc.TensorSplit(cuts, dim=dim).cost(sc.Shape(*shape))
    assert [tuple(s.dims) for s in cost.out_shapes] == torch_pieces(shape, cuts, dim)
    assert cost.flops() == 0


@pytest.mark.parametrize("cuts", [3, (2,), (1, 4)])
def test_tensor_split_of_a_symbolic_size_matches_torch_at_every_size(cuts):
    cost = sc.TensorSplit(cuts, dim=2).cost(sc.Shape(C, H, W))
    for h in range(5, 12):
        ours = [tuple(int(sc.evaluate(d, C=2, H=h, W=3)) for d in s.dims) for s in cost.out_shapes]
        assert ours == torch_pieces((2, h, 3), cuts, 2)


@pytest.mark.parametrize("shape,cuts,dim", [((2, 5), 7, 2), ((9, 4), (1, 5, 3), 1), ((4, 6), (6,), 2),
                                             ((4, 9, 6), (3, 12), 2), ((3, 10), (-20, 4), 2)])
def test_tensor_split_refuses_an_empty_piece_that_torch_would_return(shape, cuts, dim):
    assert 0 in [p[dim - 1] for p in torch_pieces(shape, cuts, dim)]
    with pytest.raises(sc.ShapeError, match=r"TensorSplit: piece \d+ of \d+ .* is empty"):
        sc.TensorSplit(cuts, dim=dim).cost(sc.Shape(*shape))


@pytest.mark.parametrize("value,rule", [(0, "must be a positive integer"), (K, "must be a number of sections"),
                                        (10_001, "at most 10000 sections")])
def test_tensor_split_arguments_are_checked(value, rule):
    with pytest.raises(sc.InvalidArgumentError, match=rule):
        sc.TensorSplit(value, dim=1)


class Splits(nn.Module):
    """A class token split off as mvit does (``indices=(1,)``), and three sections of the channels."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 6)
        self.out = nn.Linear(2, 5)

    def forward(self, x):                       # (B, L, 4)
        y = self.fc(x)                          # (B, L, 6)
        cls, rest = torch.tensor_split(y, (1,), dim=1)
        a, b, c = torch.tensor_split(rest, 3, dim=2)
        return self.out(a * b + c).sum(1) + cls[:, 0, :5]


def test_tensor_split_converts_through_torch_export():
    model = Splits().eval()
    L = symbol("L")
    rep = sc.from_torch(model, (L, 4)).analyze()
    assert rep.total.params == sum(p.numel() for p in model.parameters())
    assert {r.kind for r in rep.rows} >= {"TensorSplit"}
    for n in (2, 9):
        assert macs_at(rep, L=n) == flop_macs(model, torch.zeros(1, n, 4)) == 24 * n + 10 * (n - 1)


class PositionTable(nn.Module):
    """mvit_v1's positional encoding (torchvision's ``PositionalEncoding``, absolute): a (T'*H'*W', D) table
    built from parameters alone (``spatial_pos.unsqueeze(0).expand(T', -1, -1)``: dimension 0 is not the batch)."""

    def __init__(self, width=8, thw=(4, 4, 4)):
        super().__init__()
        import tests.torchvision_shim as shim

        shim.install()
        from torchvision.models.video.mvit import PositionalEncoding

        self.proj = nn.Conv3d(3, width, (3, 7, 7), stride=(2, 4, 4), padding=(1, 3, 3))
        self.pos = PositionalEncoding(width, thw[1:], thw[0], False)
        self.fc = nn.Linear(width, 5)

    def forward(self, x):
        return self.fc(self.pos(self.proj(x).flatten(2).transpose(1, 2)))


def test_a_table_built_from_parameters_alone_converts_and_matches_torch():
    model = PositionTable().eval()
    rep = sc.from_torch(model, (3, 8, 16, 16)).analyze()
    assert rep.total.params == sum(p.numel() for p in model.parameters())
    assert rep.total.macs == flop_macs(model, torch.zeros(1, 3, 8, 16, 16))
    # by hand: the conv (8*3*3*7*7 per output, 4*4*4 outputs) and the linear on 1 + 64 tokens
    assert rep.total.macs == 8 * 3 * 147 * 64 + 65 * 8 * 5
    assert rep.out_shape == sc.Shape(65, 5)


def test_sizes_a_guard_ties_to_a_number_are_fixed_at_the_example_and_noted():
    # the table has 8*56*56 + 1 rows: torch requires ceil(T/2)*ceil(H/4)*ceil(W/4) + 1 = 25089, which it cannot
    # solve for each size; mvit's code fixes its input at 16 x 224 x 224 this way
    model = PositionTable(width=2, thw=(8, 56, 56)).eval()
    T = symbol("T")
    net = sc.from_torch(model, (3, T, H, W))
    assert net.input_shape == sc.Shape(3, 16, 224, 224)
    # the export at the usual example fails; H and W do not run 32 pixels larger, so they are exported as numbers,
    # and then torch's guard ties T to the table: 3136*ceil(T/2) + 1 = 25089
    assert net.notes[:2] == ("H = 224: the model's code fixes this size (torch specialised it)",
                             "W = 224: the model's code fixes this size (torch specialised it)")
    assert net.notes[2].startswith("T = 16: the model's code fixes these sizes (torch requires ")
    assert net.notes[2].endswith(" = 25089)")
    rep = net.analyze()
    assert rep.total.params == sum(p.numel() for p in model.parameters())
    assert rep.total.macs == flop_macs(model, torch.zeros(1, 3, 16, 224, 224)) == 2 * 3 * 147 * 25088 + 25089 * 2 * 5


@pytest.mark.parametrize("conv,shape", [
    (nn.Conv3d(4, 4, (3, 3, 3), stride=(1, 2, 2), padding=1, groups=4, bias=False), (2, 4, 5, 9, 7)),  # mvit's pool
    (nn.Conv2d(3, 6, 3, stride=2, padding=1), (3, 3, 11, 10)),
])
def test_a_convolution_on_n_maps_in_one_sample_counts_n_times_its_weights_once(conv, shape):
    nd = conv.weight.dim() - 2
    layer = getattr(sc, f"Conv{nd}d")(conv.out_channels, conv.kernel_size, stride=conv.stride, stacked=True,
                                       padding=conv.padding, groups=conv.groups, bias=conv.bias is not None)
    cost = layer.cost(sc.Shape(*shape))
    with pytest.raises(sc.ShapeError, match="expects a "):  # without stacked=True: one map, as before
        replace(layer, stacked=False).cost(sc.Shape(*shape))
    with pytest.raises(sc.ShapeError, match="with stacked=True expects N maps"):
        layer.cost(sc.Shape(*shape[1:]))
    x = torch.zeros(*shape)  # torch reads the N maps as a batch
    assert tuple(cost.out_shape.dims) == tuple(conv(x).shape)
    assert cost.macs == flop_macs(conv, x)
    assert cost.params.total == sum(p.numel() for p in conv.parameters())


class Einsums(nn.Module):
    """mvit_v2's relative positions: an einsum of an activation with a table, one of two activations, and an
    in-place add into a slice (``attn[:, 1:, 1:] += ...``, a ``copy_``)."""

    def __init__(self):
        super().__init__()
        self.table = nn.Parameter(torch.zeros(5, 6))
        self.q = nn.Linear(6, 6)

    def forward(self, x):                                    # (B, L, 6)
        q = self.q(x)
        scores = torch.einsum("blc,bmc->blm", q, x)          # (B, L, L): L*L*6 MACs
        rel = torch.einsum("blc,kc->blk", q, self.table)     # (B, L, 5): L*5*6 MACs
        scores[:, 1:, 1:] += rel[:, 1:, :1]
        return scores


def test_einsum_and_an_add_into_a_slice_convert_through_torch_export():
    model = Einsums().eval()
    L = symbol("L")
    rep = sc.from_torch(model, (L, 6)).analyze()
    assert rep.total.params == sum(p.numel() for p in model.parameters())
    assert [r.cost.layer.equation for r in rep.rows if r.kind == "Einsum"] == ["lc,mc->lm", "lc,kc->lk"]
    for n in (3, 8):
        assert macs_at(rep, L=n) == flop_macs(model, torch.zeros(1, n, 6)) == 36 * n + 6 * n * n + 30 * n


class FloatOffsets(nn.Module):
    """Offsets computed from a size as a float (mvit_v2's ``max(k_h / q_h, 1.0)``), folded into a constant."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):                                  # (B, L, 4)
        ratio = max(x.shape[1] / 2.0, 1.0)
        offsets = torch.arange(x.shape[1])[:, None] * ratio - (1.0 - x.shape[1])
        return self.fc(x + offsets)


def test_a_size_read_as_a_float_for_a_constant_converts():
    model = FloatOffsets().eval()
    L = symbol("L")
    net = sc.from_torch(model, (L, 4))
    rep = net.analyze()
    assert rep.total.params == 15
    for n in (3, 7):
        assert macs_at(rep, L=n) == flop_macs(model, torch.zeros(1, n, 4)) == 12 * n


class TwoGrids(nn.Module):
    """LRASPP's join without the dict: a map interpolated to another's size, then added."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.b = nn.Conv2d(4, 4, 3, stride=2, padding=1)

    def forward(self, x):
        low = self.a(x)
        high = self.b(low)
        return low + nn.functional.interpolate(high, size=low.shape[-2:], mode="bilinear", align_corners=False)


def test_the_fx_route_gives_the_same_undefined_field():
    net = sc.from_torch(TwoGrids().eval())  # no input shape: read by torch.fx
    assert "different grids" in net.analyze(sc.Shape(3, H, W)).rf.undefined
    assert "effective strides 2 and 16/7" in net.analyze(sc.Shape(3, 14, 14)).rf.undefined
    # on 16 x 16 both grids agree: bilinear's 2-tap window on the (7, 4, 3) field gives 7 + 1*4 = 11, stride 4/2
    rf = net.analyze(sc.Shape(3, 16, 16)).rf
    assert (rf.size, rf.stride, rf.padding, rf.undefined) == ((11, 11), (2, 2), (3, 3), "")
