"""from_torch's routes: torch.fx first where it reads the whole model right at every size, torch.export next,
one recorded forward pass last.

Every count is checked against torch itself: parameters against ``sum(p.numel())``, MACs against
FlopCounterMode / 2 at two input sizes, from one symbolic derivation. The route a model takes is
``Model.capture``. Small models and inputs keep the file fast.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

import symcost as sc  # noqa: E402
from symcost.symbols import H, W, symbol  # noqa: E402
from flop_counting import flop_macs  # noqa: E402
from torch import nn  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.usefixtures("mha_fast_path_off")]
M = torchvision.models
L = symbol("L")


def numel(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def torch_macs(model: nn.Module, size: tuple, *, train: bool = False) -> int:
    mode = model.training
    model.train(train)
    try:
        with torch.no_grad():
            return flop_macs(model, torch.zeros(1, 3, *size))
    finally:
        model.train(mode)


def agrees_with_torch(model: nn.Module, net: sc.Model, sizes: list, *, train: bool = False) -> None:
    rep = net.analyze()
    assert rep.total.params == numel(model)
    for h, w in sizes:
        assert sc.evaluate(rep.total.macs, H=h, W=w) == torch_macs(model, (h, w), train=train), (h, w)


class Probe(nn.Module):
    """A small CNN with what the routes could read differently: an in-place residual add and ReLU, a module
    called twice (its tensors counted once), an unused head, dropout."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True))
        self.block = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(8, 8)
        self.head = nn.Linear(8, 4)
        self.aux = nn.Linear(8, 4)  # never called

    def forward(self, x):
        x = self.stem(x)
        y = self.block(x)
        y += x
        y = y.relu_()
        y = torch.flatten(self.pool(y), 1)
        y = self.fc(self.drop(y))
        return self.head(self.fc(y))


# ---------------------------------------------------------------------------
# Plain CNNs: torch.fx, exact at every size
# ---------------------------------------------------------------------------
CNNS = {
    "resnet18": lambda: M.resnet18(num_classes=10),
    "squeezenet1_1": lambda: M.squeezenet1_1(num_classes=10),
    "densenet": lambda: M.DenseNet(growth_rate=8, block_config=(2, 2), num_init_features=16, bn_size=2,
                                   num_classes=10),
}


@pytest.mark.parametrize("name", list(CNNS))
def test_a_plain_cnn_is_read_by_fx_and_matches_torch_at_two_sizes(name):
    model = CNNS[name]().eval()
    net = sc.from_torch(model, (3, H, W))
    assert net.capture == "fx" and net.notes == ()
    assert net.input_shape == sc.Shape(3, H, W)
    agrees_with_torch(model, net, [(64, 64), (72, 96)])


def test_stochastic_depth_passes_its_input_in_eval_so_efficientnet_is_read_by_fx():
    model = M.efficientnet_b0(num_classes=10).eval()
    net = sc.from_torch(model, (3, H, W))
    assert net.capture == "fx" and net.notes == ()
    agrees_with_torch(model, net, [(64, 64), (72, 56)])
    with pytest.raises(sc.UnsupportedModuleError, match="stochastic_depth.*drops samples or rows at random"):
        sc.from_torch(model, (3, H, W), capture="fx", train=True)


def test_a_torch_module_subclass_keeping_its_forward_is_read_as_its_base():
    model = M.video.r3d_18(num_classes=5).eval()  # Conv3DSimple extends nn.Conv3d
    T = symbol("T")
    net = sc.from_torch(model, (3, T, H, W))
    assert net.capture == "fx"
    rep = net.analyze()
    assert rep.total.params == numel(model)
    for t, h, w in [(4, 32, 32), (6, 40, 48)]:
        assert sc.evaluate(rep.total.macs, T=t, H=h, W=w) == flop_macs(model, torch.zeros(1, 3, t, h, w))


class Tripled(nn.Conv2d):
    def forward(self, x):  # not nn.Conv2d's forward: read through, not as a convolution
        return super().forward(x) * 3


class Strided(nn.Conv2d):
    def _conv_forward(self, x, weight, bias):  # nn.Conv2d's forward, calling another convolution
        return nn.functional.conv2d(x, weight, bias, 2, self.padding, self.dilation, self.groups)


@pytest.mark.parametrize("cls", [Tripled, Strided])
def test_a_torch_module_subclass_with_its_own_methods_is_not_read_as_its_base(cls):
    model = nn.Sequential(cls(3, 4, 3), nn.ReLU()).eval()
    net = sc.from_torch(model, (3, H, W))
    assert net.capture == "export"
    agrees_with_torch(model, net, [(16, 16), (21, 12)])


def test_fx_and_export_give_the_same_counts():
    model = Probe().eval()
    fx, export = (sc.from_torch(model, (3, H, W), capture=c) for c in ("fx", "export"))
    assert (fx.capture, export.capture) == ("fx", "export")
    a, b = fx.analyze(), export.analyze()
    assert a.total.params == b.total.params == numel(model)
    for part in ("parameters", "ops", "activations", "peak_activations"):  # the same formulas
        assert getattr(a.total, part) == getattr(b.total, part), part
    for h, w in [(16, 16), (33, 20)]:
        assert sc.evaluate(a.total.macs, H=h, W=w) == torch_macs(model, (h, w))
    assert [(u.name, u.params) for u in a.unused_params] == [(u.name, u.params) for u in b.unused_params] == [("aux", 36)]
    assert "Dropout" not in {r.kind for r in a.rows} | {r.kind for r in b.rows}  # eval: nothing runs, no row


def test_training_mode_through_fx():
    model = Probe().eval()
    net = sc.from_torch(model, (3, H, W), train=True)
    assert net.capture == "fx" and not model.training
    assert "Dropout" in {r.kind for r in net.analyze().rows}
    agrees_with_torch(model, net, [(16, 16), (20, 24)], train=True)


# ---------------------------------------------------------------------------
# What fx cannot read right goes to torch.export
# ---------------------------------------------------------------------------
def test_vit_asserts_its_size_so_export_reads_it_at_that_size():
    model = M.VisionTransformer(image_size=32, patch_size=8, num_layers=1, num_heads=2, hidden_dim=16, mlp_dim=32,
                                num_classes=10).eval()
    with pytest.raises(sc.UnsupportedModuleError, match=r"torch\._assert"):
        sc.from_torch(model, (3, H, W), capture="fx")
    net = sc.from_torch(model, (3, H, W))
    assert net.capture == "export" and tuple(net.input_shape.dims) == (3, 32, 32)
    assert any("H = 32" in n for n in net.notes) and any("W = 32" in n for n in net.notes)
    rep = net.analyze()
    assert rep.total.params == numel(model) and rep.total.macs == torch_macs(model, (32, 32))


class Asserted(nn.Module):
    """Any other size fails the model's own check: the formula must keep W = 24."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        torch._assert(x.shape[-1] == 24, "the width must be 24")
        return self.conv(x)


def test_an_assert_on_a_size_sends_the_model_to_export_which_keeps_the_size():
    model = Asserted().eval()
    net = sc.from_torch(model, (3, H, W))
    assert net.capture == "export" and net.input_shape == sc.Shape(3, H, 24)
    assert any("W = 24" in n for n in net.notes)
    agrees_with_torch(model, net, [(16, 24), (40, 24)])


class FixedLinear(nn.Module):
    """A linear layer sized for one input size after a flatten of the whole map (no pooling): torch runs it at
    224x224 (and a few neighbours) only. Neither torch.fx nor torch.export sees that; symcost must not give a
    formula in H and W."""

    def __init__(self, flatten_by_view: bool = False) -> None:
        super().__init__()
        self.flatten_by_view = flatten_by_view
        self.conv = nn.Conv2d(3, 1, 8, stride=8)
        self.fc = nn.Linear(28 * 28, 10)

    def forward(self, x):
        x = self.conv(x)
        return self.fc(x.view(x.size(0), -1) if self.flatten_by_view else torch.flatten(x, 1))


@pytest.mark.parametrize("by_view", [False, True], ids=["flatten", "view"])
def test_a_linear_layer_sized_for_one_input_size_is_no_formula(by_view):
    model = FixedLinear(by_view).eval()
    with pytest.raises(sc.UnsupportedModuleError, match=r"agree at some input sizes only .*in_features is 784"):
        sc.from_torch(model, (3, H, W), capture="fx")
    # torch.export fails at its example image; the model runs at 224 and not 32 pixels wider or taller: both sizes
    # are fixed there, and the notes say so
    net = sc.from_torch(model, (3, H, W))
    assert net.capture == "export" and net.input_shape == sc.Shape(3, 224, 224)
    assert any(n.startswith("H = 224: the model's code fixes") for n in net.notes)
    assert any(n.startswith("W = 224: the model's code fixes") for n in net.notes)
    assert net.analyze().total.macs == torch_macs(model, (224, 224))
    net = sc.from_torch(model, (3, 224, 224))  # in numbers it is read, by fx, and right
    assert net.capture == "fx"
    rep = net.analyze()
    assert rep.total.params == numel(model) and rep.total.macs == torch_macs(model, (224, 224))


class Reshaped(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 4, stride=4)

    def forward(self, x):
        return self.conv(x).view(1, 2 * 8 * 8)  # right at 32x32 only


def test_a_reshape_to_a_fixed_size_is_checked():
    model = Reshaped().eval()
    with pytest.raises(sc.ShapeError, match=r"shape \(128\) holds 128 elements, the input 2\*floor\(H/4\)"):
        sc.from_torch(model, (3, H, W), capture="fx")
    rep = sc.from_torch(model, (3, 32, 32), capture="fx").analyze()
    assert rep.out_shape == sc.Shape(128)
    with pytest.raises(sc.ShapeError, match="holds 128 elements, the input 162"):
        sc.from_torch(model, (3, 36, 36), capture="fx").analyze()


class TwoOutputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.left = nn.Conv2d(4, 2, 1)
        self.right = nn.Conv2d(4, 3, 3, padding=1)

    def forward(self, x):
        x = self.conv(x).relu()
        return {"out": self.left(x), "aux": self.right(x)}


def test_a_dict_output_is_read_by_export_with_every_output_counted():
    model = TwoOutputs().eval()
    net = sc.from_torch(model, (3, H, W))
    assert net.capture == "export"
    agrees_with_torch(model, net, [(16, 16), (20, 12)])


def test_hugging_face_goes_to_export():
    tf = pytest.importorskip("transformers")
    model = tf.GPT2LMHeadModel(tf.GPT2Config(n_embd=32, n_layer=1, n_head=2, vocab_size=100, n_positions=64)).eval()
    with pytest.raises(sc.UnsupportedModuleError):  # fx cannot read it
        sc.from_torch(model, (L,), capture="fx")
    net = sc.from_torch(model, (L,), dtype=torch.long)
    assert net.capture == "export"
    rep = net.analyze()
    assert rep.total.params == numel(model)
    assert sc.evaluate(rep.total.macs, L=7) == flop_macs(model, torch.zeros(1, 7, dtype=torch.long))


class Branchy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        return self.conv(x) if x.sum() >= 0 else x  # depends on the data: neither fx nor export reads it


def test_numeric_sizes_neither_reader_captures_are_recorded_and_noted():
    model = Branchy().eval()
    net = sc.from_torch(model, (3, 10, 10))
    assert net.capture == "forward"
    assert len(net.notes) == 1 and net.notes[0].startswith("torch.export cannot capture it (")
    assert net.notes[0].endswith("read by one forward pass at this size")
    assert net.analyze().total.macs == torch_macs(model, (10, 10))
    with pytest.raises(sc.UnsupportedModuleError, match=r"torch.export cannot capture it .*; and torch.fx: "
                                                        r"torch.fx cannot trace it"):
        sc.from_torch(model, (3, H, W))


# ---------------------------------------------------------------------------
# The capture argument
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,message", [
    ({"input_shape": (3, 8, 8), "capture": "jit"},
     "from_torch: capture must be one of 'auto', 'fx', 'export', got 'jit'"),
    ({"input_shape": (3, 8, 8), "capture": None},
     "from_torch: capture must be one of 'auto', 'fx', 'export', got None"),
    ({"capture": "export"}, "from_torch: input_shape is needed with capture='export', got None"),
    ({"input_shape": [(3, 8, 8), (3, 8, 8)], "capture": "fx"},
     "from_torch: input_shape must be one shape with capture='fx'"),
])
def test_a_bad_capture_is_one_clear_error(kwargs, message):
    with pytest.raises(sc.InvalidArgumentError) as err:
        sc.from_torch(Probe(), **kwargs)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


# ---------------------------------------------------------------------------
# The strict check under the fx route
# ---------------------------------------------------------------------------
def test_strict_refuses_an_undecided_size_rule_even_after_a_lenient_cached_cost():
    from symcost.core.arguments import strict

    net = sc.Sequential(sc.Flatten(), sc.Linear(10, in_features=400, name="fc"))
    shape = sc.Shape(1, H, W)
    lenient = net.analyze(shape)  # 400 = H*W is not decided: passes, and its cost is cached
    assert lenient.total.macs == 10 * H * W
    with strict(), pytest.raises(sc.ShapeError, match="in_features is 400 but the input has H\\*W features"):
        net.analyze(shape)
    assert net.analyze(shape).total.macs == 10 * H * W  # outside, as before
    with strict():
        assert net.analyze(sc.Shape(1, 20, 20)).total.macs == 4000  # decided: passes
