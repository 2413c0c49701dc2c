"""Each peer preset reproduces that tool's numbers, layer by layer and in total, except where the tool is wrong.

The tools run for real (ptflops 0.7.5, fvcore 0.1.5, thop 0.1.1, torchinfo
1.8.0, pinned in the ``peers`` extra) on torch.nn models; symcost's rows are
weighed with the preset of the same name. Where a tool is wrong, the test
adds the documented divergence (computed here from shapes, by the formula the
README's table gives) instead of copying the error into symcost.
"""

import pytest

torch = pytest.importorskip("torch")
for _tool in ("ptflops", "thop", "torchinfo", "fvcore"):
    pytest.importorskip(_tool)

from torch import nn  # noqa: E402

import peer_runners as peers  # noqa: E402
import symcost as sc  # noqa: E402
import torch_models  # noqa: E402


def small_torch():
    """The issue's test model."""
    return nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                         nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10)).eval()


def small_symcost():
    return sc.Sequential(sc.Conv2d(8, 3, stride=2, padding=1), sc.BatchNorm2d(), sc.ReLU(), sc.MaxPool2d(2),
                         sc.ConvTranspose2d(4, 3, stride=2, padding=1, output_padding=1),
                         sc.AdaptiveAvgPool2d(1), sc.Flatten(), sc.Linear(10))


#: (case id, torch factory, symcost factory, input C,H,W)
CASES = [
    ("small-32", small_torch, small_symcost, (3, 32, 32)),
    ("resnet18-224", lambda: torch_models.resnet(18), sc.zoo.resnet18, (3, 224, 224)),
    ("resnet18-193x161", lambda: torch_models.resnet(18), sc.zoo.resnet18, (3, 193, 161)),
    ("resnet50-224", lambda: torch_models.resnet(50), sc.zoo.resnet50, (3, 224, 224)),
    ("mobilenet_v2-224", torch_models.mobilenet_v2, sc.zoo.mobilenet_v2, (3, 224, 224)),
    ("mobilenet_v2-193x161", torch_models.mobilenet_v2, sc.zoo.mobilenet_v2, (3, 193, 161)),
    # the same, converted from torch rather than taken from the zoo
    ("from_torch-resnet18-193x161", lambda: torch_models.resnet(18),
     lambda: sc.from_torch(torch_models.resnet(18)), (3, 193, 161)),
    ("from_torch-mobilenet_v2-224", torch_models.mobilenet_v2,
     lambda: sc.from_torch(torch_models.mobilenet_v2()), (3, 224, 224)),
]


def torchvision_model(name, **kwargs):
    """A factory for torchvision.models.<name>(weights=None): the real model, so the twins cannot drift.

    Skips the case where torchvision is not installed (conftest's torchvision_shim makes it importable
    where its compiled ops do not load). Never downloads weights.
    """
    def make():
        models = pytest.importorskip("torchvision.models")
        return getattr(models, name)(weights=None, **kwargs).eval()
    return make


# The same peers on torchvision's own models, against the zoo (torchinfo counts these exactly as the twins).
CASES += [
    (f"torchvision-{name}-{'x'.join(map(str, shape[1:])) if shape[1] != shape[2] else shape[1]}",
     torchvision_model(name), getattr(sc.zoo, name), shape)
    for name in ("resnet18", "resnet50", "mobilenet_v2") for shape in ((3, 224, 224), (3, 193, 161))
] + [
    # not in the zoo: converted from torchvision's model itself (SE blocks, Hardswish, Hardsigmoid)
    ("torchvision-from_torch-mobilenet_v3_large-224", torchvision_model("mobilenet_v3_large"),
     lambda: sc.from_torch(torchvision_model("mobilenet_v3_large")()), (3, 224, 224)),
]


# -- where the tools are wrong: tool count - correct count, per row (README, "coming from ...") -------------
def transposed_overcount(row):
    """thop and torchinfo multiply the weight by the output's pixels, not the input's: (x S^2 for stride S)."""
    if row.kind != "ConvTranspose2d":
        return 0
    (_, h_in, w_in), (_, h_out, w_out) = row.cost.in_shape.dims, row.cost.out_shape.dims
    return row.cost.params.weight * (h_out * w_out - h_in * w_in)


def torchinfo_error(row):
    """torchinfo scales by the batch only: BatchNorm gives 2*C, not 2*C*H*W; tokens drop L."""
    error = transposed_overcount(row)
    if row.kind == "BatchNorm2d" and row.cost.params.total:
        error += row.cost.params.total - 2 * row.cost.in_shape.numel
    if row.kind == "Linear" and row.cost.in_shape.rank == 2:
        error -= (row.cost.in_shape[0] - 1) * row.cost.params.total
    return error


def ptflops_double_count(row):
    """ptflops' default total adds the F.* call inside nn.ReLU, nn.GELU, pooling and upsampling modules."""
    if row.cost.layer is None or row.cost.layer.origin != "module":
        return 0
    if row.kind in ("ReLU", "GELU", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d"):
        return row.cost.in_shape.numel
    return row.cost.out_shape.numel if row.kind == "Upsample" else 0


#: preset -> (run the tool: (total, per layer) or total only, error per row in the per-layer numbers, in the total)
def functional(row):
    """ptflops' per-layer printout (module hooks) leaves out functional calls; its total has them."""
    return -row.flops("ptflops") if row.cost.layer is not None and row.cost.layer.origin != "module" else 0


TOOLS = {
    "ptflops": (peers.ptflops_layers, lambda row: 0, functional),
    "fvcore": (peers.fvcore, lambda row: 0, lambda row: 0),
    "thop": (peers.thop, transposed_overcount, transposed_overcount),
    "torchinfo": (peers.torchinfo, torchinfo_error, torchinfo_error),
}


@pytest.fixture(scope="module", params=CASES, ids=[c[0] for c in CASES])
def case(request):
    _, make_torch, make_symcost, shape = request.param
    report = make_symcost().analyze(sc.Shape(*shape))
    return make_torch(), report, shape


def per_name(report, value):
    sums = {}
    for row in report.rows:
        sums[row.name] = sums.get(row.name, 0) + value(row)
    return sums


@pytest.mark.parametrize("preset", list(TOOLS))
def test_preset_matches_the_tool_layer_by_layer_and_in_total(case, preset):
    model, report, shape = case
    run, layer_error, total_error = TOOLS[preset]
    total, layers = run(model, shape)
    expected = per_name(report, lambda row: row.flops(preset) + layer_error(row))
    for name, count in layers.items():  # a module with no row (dropout in eval: nothing runs) counts 0
        assert count == expected.get(name, 0), \
            f"{preset}: layer {name}: tool {count}, preset+divergence {expected.get(name, 0)}"
    modules = {row.name for row in report.rows if row.cost.layer is not None and row.cost.layer.origin == "module"}
    shown = {name for name, value in expected.items() if value and name in modules}
    assert shown <= set(layers), f"{preset}: rows the tool does not list: {sorted(shown - set(layers))[:5]}"
    assert total == report.total.flops(preset) + sum(total_error(row) for row in report.rows)


def test_ptflops_total_is_the_preset_plus_its_double_count(case):
    model, report, shape = case
    assert peers.ptflops_total(model, shape) == \
        report.total.flops("ptflops") + sum(ptflops_double_count(row) for row in report.rows)
    # with functional counting off, ptflops counts each module once: no divergence left
    without = peers.ptflops_total(model, shape, count_functional=False)
    functional = sum(row.flops("ptflops") for row in report.rows if row.cost.layer.origin == "function")
    assert without == report.total.flops("ptflops") - functional


def test_ptflops_aten_and_torchvision(case):
    model, report, shape = case
    assert peers.ptflops_aten_total(model, shape) == report.total.flops("ptflops-aten")
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, *shape))
    assert counter.get_total_flops() // 2 == report.total.flops("torchvision") == report.total.macs


def test_small_model_numbers_for_the_record():
    """The issue's model on 1x3x32x32, every preset (the README table)."""
    report = small_symcost().analyze(sc.Shape(3, 32, 32))
    totals = {p: report.total.flops(p) for p in ("exact", "macs", "ptflops", "ptflops-aten", "fvcore", "thop",
                                                   "torchinfo")}
    assert totals == {"exact": 157264, "macs": 73768, "ptflops": 86066, "ptflops-aten": 76850,
                      "fvcore": 78888, "thop": 82988, "torchinfo": 80946}


@pytest.mark.parametrize("name, make_symcost, preset, tool", [
    ("resnet50", sc.zoo.resnet50, 4_111_413_224, 4_089_238_376),
    ("mobilenet_v2", sc.zoo.mobilenet_v2, 314_131_496, 300_809_384),
    ("mobilenet_v3_large", lambda: sc.from_torch(torchvision_model("mobilenet_v3_large")()), 225_396_736, 216_621_520),
])
def test_torchinfo_on_torchvision_differs_from_the_preset_by_batchnorm_only(name, make_symcost, preset, tool):
    """The README's torchinfo row, measured on torchvision's own models at 224x224.

    torchinfo 1.8.0 weighs every non-conv parameter by the batch alone (``output_size[0] * numel``),
    so a BatchNorm2d counts 2*C whatever its map size; the preset counts 2*C*H*W. That is the whole
    gap: every other layer agrees, and the twins give torchinfo the same numbers as torchvision.
    """
    model = torchvision_model(name)()
    report = make_symcost().analyze(sc.Shape(3, 224, 224))
    total, _ = peers.torchinfo(model, (3, 224, 224))
    assert (report.total.flops("torchinfo"), total) == (preset, tool)
    batchnorms = [row for row in report.rows if row.kind == "BatchNorm2d"]
    assert preset - tool == sum(2 * row.cost.in_shape.numel - row.cost.params.total for row in batchnorms)
