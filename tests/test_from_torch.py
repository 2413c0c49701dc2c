"""from_torch against torch itself: parameters, FlopCounterMode's MACs, module names, errors.

Each model is derived once, symbolically in its input size; the formula is
then substituted at three sizes and must equal ``FlopCounterMode / 2``
(torch counts 2 FLOPs per MAC) on a real forward pass at each size.
"""

from __future__ import annotations

import functools
import importlib
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F
import torch_models
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import symcost as sc
from symcost.core.evaluate import substitute
from symcost.symbols import H, W, symbols

h, w = symbols("h w")
torch.set_num_threads(1)


def torch_macs(model: nn.Module, shape: tuple) -> int:
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, *shape))
    return counter.get_total_flops() // 2


def numel(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------------------
# Two small models written here, in the functional style torchvision avoids
# ---------------------------------------------------------------------------
class Block(nn.Module):
    """A ResNet basic block with functional ReLU and an in-place sum."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out, inplace=True)


class ResNetStyle(nn.Module):
    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        self.layer1 = Block(16, 16, 1)
        self.layer2 = Block(16, 32, 2)
        self.layer3 = Block(32, 64, 2)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.stem(x))), 3, 2, 1)
        x = self.layer3(self.layer2(self.layer1(x)))
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(x.view(x.size(0), -1))


class InvertedResidual(nn.Module):
    """MobileNetV2's block, with a squeeze-and-excitation gate and hardswish."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.expand = nn.Sequential(nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(True))
        self.dw = nn.Sequential(nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
                                nn.BatchNorm2d(hidden), nn.Hardswish())
        self.se_reduce = nn.Conv2d(hidden, hidden // 4, 1)
        self.se_expand = nn.Conv2d(hidden // 4, hidden, 1)
        self.project = nn.Sequential(nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.dw(self.expand(x))
        gate = y.mean((2, 3), keepdim=True)
        gate = torch.sigmoid(self.se_expand(F.relu(self.se_reduce(gate))))
        y = self.project(y * gate)
        return x + y if self.use_res else y


class MobileNetV2Style(nn.Module):
    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6(inplace=True)),
            InvertedResidual(16, 16, 1, 1),
            InvertedResidual(16, 24, 2, 6),
            InvertedResidual(24, 24, 1, 6),
            InvertedResidual(24, 40, 2, 6),
        )
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(40, num_classes))

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x.mean(dim=[2, 3]), 1)
        return self.classifier(x)


#: (model factory, symbolic input shape, its symbols -> each of three sizes)
SIZES = [(224, 224), (193, 161), (256, 320)]
MODELS = {
    "resnet18": (lambda: torch_models.resnet(18), sc.Shape(3, H, W)),
    "resnet50": (lambda: torch_models.resnet(50), sc.Shape(3, H, W)),
    "mobilenet_v2": (lambda: torch_models.mobilenet_v2(), sc.Shape(3, H, W)),
    "alexnet": (lambda: torch_models.alexnet(), sc.Shape(3, H, W)),
    "vgg11_bn": (lambda: torch_models.vgg(11, batch_norm=True), sc.Shape(3, H, W)),
    "unet_16": (lambda: torch_models.unet(base=16), sc.Shape(3, H, W)),
    "fusionnet": (lambda: torch_models.fusionnet(1, 1), sc.Shape(1, 16 * h, 16 * w)),
    "resnet_style": (lambda: ResNetStyle().eval(), sc.Shape(3, H, W)),
    "mobilenet_v2_style": (lambda: MobileNetV2Style().eval(), sc.Shape(3, H, W)),
}


@functools.cache
def converted(case: str) -> tuple[nn.Module, sc.Model, sc.Report]:
    make, shape = MODELS[case]
    model = make()
    net = sc.from_torch(model)
    return model, net, net.analyze(shape)


def values(case: str, size: tuple[int, int]) -> tuple[dict, tuple]:
    """Symbol values and the torch input shape of one of the three sizes."""
    if case == "fusionnet":  # sides are multiples of 16: 224x224, 160x96, 256x320
        sides = {(224, 224): (14, 14), (193, 161): (10, 6), (256, 320): (16, 20)}[size]
        return {"h": sides[0], "w": sides[1]}, (1, 16 * sides[0], 16 * sides[1])
    return {"H": size[0], "W": size[1]}, (3, *size)


@pytest.mark.torch
@pytest.mark.parametrize("case", list(MODELS))
def test_params_equal_torch(case):
    model, _, rep = converted(case)
    assert rep.total.params == numel(model)


@pytest.mark.torch
@pytest.mark.parametrize("case", list(MODELS))
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_one_symbolic_derivation_gives_torch_macs_at_every_size(case, size):
    model, _, rep = converted(case)
    bound, shape = values(case, size)
    assert substitute(rep.total.macs, **bound) == torch_macs(model, shape)


@pytest.mark.torch
@pytest.mark.parametrize("case", list(MODELS))
def test_module_rows_are_named_as_torch_names_modules(case):
    """Every leaf module that runs is a row under its qualified name; conv and linear rows in torch's order."""
    model, net, rep = converted(case)
    leaves = {name for name, m in model.named_modules() if not list(m.children()) and not isinstance(m, nn.Sequential)
              and not isinstance(m, nn.modules.dropout._DropoutNd)}  # eval: dropout passes its input, no row
    module_rows = [n.row for n in net.body.nodes if n.op.origin == "module"]
    assert set(module_rows) == leaves
    assert [r.name for r in rep.rows] == [n.row for n in net.body.nodes]
    ordered = case not in ("unet_16", "fusionnet")  # the U-nets run their modules in another order
    convs = [r.name for r in rep.rows if r.kind in ("Conv2d", "ConvTranspose2d", "Linear")]
    reference = [name for name, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d,
                                                                             nn.Linear))]
    assert convs == reference if ordered else sorted(convs) == sorted(reference)


def test_symbolic_resnet50_is_81456_macs_per_pixel():
    rep = converted("resnet50")[1].analyze(sc.Shape(3, H, W), floor="divisible")
    assert rep.total.macs == 81456 * H * W + 2048000


def test_functions_methods_and_operators_are_mapped_with_their_origin():
    net = converted("resnet_style")[1]
    nodes = {n.row: n.op for n in net.body.nodes}
    assert (nodes["add"].kind, nodes["add"].origin) == ("Add", "operator")  # out += shortcut(x)
    assert (nodes["max_pool2d"].kind, nodes["max_pool2d"].origin) == ("MaxPool2d", "function")
    assert (nodes["view"].kind, nodes["view"].origin) == ("Flatten", "method")  # x.view(x.size(0), -1)
    assert (nodes["layer1.conv1"].kind, nodes["layer1.conv1"].origin) == ("Conv2d", "module")
    mobile = {n.row: n.op for n in converted("mobilenet_v2_style")[1].body.nodes}
    assert mobile["mean"] == sc.Mean((2, 3), keepdim=True, name="mean") and mobile["mean"].origin == "method"
    assert (mobile["mul"].kind, mobile["mul"].origin, mobile["sigmoid"].origin) == ("Mul", "operator", "function")
    unet = {n.row: n.op for n in converted("unet_16")[1].body.nodes}
    assert unet["cat"] == sc.Cat(1, name="cat") and unet["pad"].kind == "Pad2d"  # padded to the skip's size, any input


def test_fusionnet_halving_is_a_scale():
    rep = converted("fusionnet")[2]
    assert rep.row("truediv").cost.ops.div == 256 * 2 * h * 2 * w  # (deconv_1 + down_4) / 2


def test_fusionnet_off_the_grid_names_both_sides():
    with pytest.raises(sc.ShapeError, match=r'on inputs "deconv_1.2" .* and "down_4.conv_3.2" .*H = 16\*h'):
        converted("fusionnet")[1].analyze(sc.Shape(1, H, W))


def test_error_inside_a_module_leads_with_its_torch_path():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(100, 10))
    with pytest.raises(sc.ShapeError) as info:
        sc.from_torch(model).analyze(sc.Shape(3, 8, 8))
    assert str(info.value).startswith('2: layer 2 "2" (Linear) on input (288,): ')


def test_a_torch_layer_alone():
    rep = sc.from_torch(nn.Conv2d(3, 8, 3, padding=1)).analyze(sc.Shape(3, H, W))
    assert [r.name for r in rep.rows] == ["Conv2d"] and rep.total.macs == 216 * H * W


def test_import_symcost_does_not_import_torch():
    code = "import sys, symcost; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------------
# The fallback: one forward pass for a model fx cannot trace
# ---------------------------------------------------------------------------
class Up(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.ConvTranspose2d(16, 8, 2, stride=2)

    def forward(self, x, skip):
        x = self.conv(x)
        dy, dx = skip.size(2) - x.size(2), skip.size(3) - x.size(3)
        x = F.pad(x, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return torch.cat([skip, x], dim=1)


class DataDependent(nn.Module):
    """Control flow on values: fx refuses it; one pass at a size reads it."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True))
        self.down = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1))
        self.up = Up()
        self.head = nn.Linear(16, 5)

    def forward(self, x):
        x = self.stem(x)
        if x.sum() >= 0:  # always, on zeros; the test itself costs nothing
            x = x + F.relu(x)
        x = self.up(self.down(x), x)
        return self.head(x.mean((2, 3)))


def test_untraceable_model_goes_through_one_forward_pass():
    model = DataDependent().eval()
    with pytest.raises(torch.fx.proxy.TraceError):
        torch.fx.symbolic_trace(model)
    with pytest.raises(sc.UnsupportedModuleError, match="give a numeric input_shape"):
        sc.from_torch(model)
    net = sc.from_torch(model, (3, 33, 40))
    rep = net.analyze()
    assert rep.total.params == numel(model)
    assert rep.total.macs == torch_macs(model, (3, 33, 40))
    assert [r.name for r in rep.rows] == ["stem.0", "stem.1", "relu", "add", "down.0", "down.1", "up.conv", "pad", "cat",
                                          "mean", "head"]
    assert rep.row("add").cost.in_shapes == (sc.Shape(8, 33, 40),) * 2


# ---------------------------------------------------------------------------
# What has no counterpart: one error that lists everything
# ---------------------------------------------------------------------------
class Proj(nn.Module):
    """A custom layer: a matmul on its own parameter."""

    def __init__(self, features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(features, features))

    def forward(self, x):
        return torch.matmul(x, self.weight)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.rnn = nn.LSTM(8, 8)
        self.proj = Proj(8)


class Tagger(nn.Module):
    def __init__(self, untraceable: bool = False):
        super().__init__()
        self.encoder = Encoder()
        self.untraceable = untraceable

    def forward(self, x):
        x = self.encoder.conv(x)
        if self.untraceable and x.sum() >= 0:
            x = x * 1
        x = torch.flatten(x, 2).mean(2, keepdim=True)
        y, _ = self.encoder.rnn(x.view(1, 1, 8))
        return self.encoder.proj(y)


@pytest.mark.parametrize("untraceable", [False, True], ids=["fx", "forward pass"])
def test_unsupported_modules_and_functions_are_all_listed_once(untraceable):
    # the fx tracer's listing: without an input shape (torch.export, with one, converts the traceable
    # Tagger: it keeps the LSTM whole and reads the matmul's parameter as an operand)
    with pytest.raises(sc.UnsupportedModuleError) as info:
        sc.from_torch(Tagger(untraceable).eval(), (3, 6, 6) if untraceable else None)
    message = str(info.value)
    assert "encoder.rnn (LSTM)" in message
    assert "matmul (torch.matmul) in encoder.proj (Proj)" in message
    assert "reshapes to (1, 1, 8)" in message
    assert len(info.value.unsupported) == 3
    assert isinstance(info.value, TypeError) and isinstance(info.value, sc.SymcostError)
    assert "\n" not in message and "register_torch" in message


def test_a_converter_that_refuses_says_why():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Upsample(scale_factor=2, mode="area"))
    with pytest.raises(sc.UnsupportedModuleError, match=r"1 \(Upsample\): Upsample: mode must be one of"):
        sc.from_torch(model)


# ---------------------------------------------------------------------------
# register_torch
# ---------------------------------------------------------------------------
@pytest.fixture
def registered():
    """register_torch's table, restored after the test."""
    table = importlib.import_module("symcost.frontends.pytorch")._REGISTERED
    before = dict(table)
    yield
    table.clear()
    table.update(before)


class Tokens(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.proj = Proj(8)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.stem(x), 1).flatten(1)
        return self.proj(x)


def test_registered_converter_is_used(registered):
    sc.register_torch(Proj, lambda module: sc.Linear(module.weight.shape[1], bias=False))
    model = Tokens().eval()
    net = sc.from_torch(model)
    rep = net.analyze(sc.Shape(3, H, W))
    assert rep.row("proj").kind == "Linear" and [n.op.origin for n in net.body.nodes][-1] == "module"
    assert rep.total.params == numel(model)
    assert substitute(rep.total.macs, H=20, W=24) == torch_macs(model, (3, 20, 24))


def test_registered_converter_may_return_a_network(registered):
    @sc.register_torch(Proj)
    def _(module):
        return sc.Sequential(sc.Linear(8, bias=False), sc.Identity(name="out"))

    rep = sc.from_torch(Tokens().eval()).analyze(sc.Shape(3, 16, 16))
    assert [r.name for r in rep.rows][-2:] == ["proj.0", "proj.out"]
    assert rep.total.params == numel(Tokens())


def test_register_torch_checks_its_arguments():
    with pytest.raises(sc.ArgumentTypeError):
        sc.register_torch(Proj(8), lambda m: sc.ReLU())
    with pytest.raises(sc.ArgumentTypeError):
        sc.register_torch(Proj, "linear")
