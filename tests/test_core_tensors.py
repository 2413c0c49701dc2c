"""The core speaks tensors of any rank, batches, and parameters used as operands."""

import pytest
import sympy

import symcost as sc
from symcost.symbols import B, C, D, H, L, W, symbol

T = symbol("T")


@pytest.mark.parametrize("dims", [(), (L,), (L, D), (C, L), (C, H, W), (C, T, H, W), (2, 3, 4, 5, 6)])
def test_shapes_of_any_rank(dims):
    shape = sc.Shape(*dims)
    assert shape.rank == len(dims) and shape.numel == sympy.Mul(*dims)


def test_shape_rank_is_bounded():
    with pytest.raises(sc.ShapeError, match="at most 16 entries"):
        sc.Shape(*([2] * 17))


def test_batch_multiplies_operations_not_parameters():
    # torchvision's published ResNet-18: 11,689,512 parameters, 1.814 GMACs per 224x224 image
    rep = sc.zoo.resnet18().analyze(sc.Shape(3, 224, 224), batch=B)
    assert rep.total.params == 11_689_512
    assert rep.total.macs == 1_814_073_344 * B
    assert rep.subs(B=8).total.macs == 8 * 1_814_073_344
    assert rep.rows[0].macs == 118_013_952 * B  # conv1: 7*7*3*64 * 112*112
    with pytest.raises(sc.InvalidArgumentError, match="batch"):
        sc.zoo.resnet18().analyze(batch=0)


def test_batch_matches_torch_flop_counter():
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(8 * 6 * 6, 10))
    net = sc.Sequential(sc.Conv2d(8, 3, padding=1), sc.ReLU(), sc.Flatten(), sc.Linear(10))
    for batch in (1, 3, 5):
        with FlopCounterMode(display=False) as counter:
            model(torch.zeros(batch, 3, 6, 6))
        assert net.analyze(sc.Shape(3, 6, 6), batch=batch).total.macs == counter.get_total_flops() // 2


def test_parameters_as_operands_count_as_torch_counts_them():
    torch = pytest.importorskip("torch")

    class Tokens(torch.nn.Module):  # a ViT stem: class token, position embedding, layer scale
        def __init__(self, n, d):
            super().__init__()
            self.proj = torch.nn.Linear(d, d)
            self.cls_token = torch.nn.Parameter(torch.zeros(1, 1, d))
            self.pos = torch.nn.Parameter(torch.zeros(1, n + 1, d))
            self.gamma = torch.nn.Parameter(torch.ones(d))

        def forward(self, x):
            x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), self.proj(x)], dim=1)
            return (x + self.pos) * self.gamma

    graph = sc.Graph([
        sc.Node("proj", sc.Linear(D), ["input"]),
        sc.Node("cls_token", sc.Parameter((1, D)), ()),
        sc.Node("cat", sc.Cat(dim=1), ["cls_token", "proj"]),  # torch counts dims with the batch
        sc.Node("pos", sc.Parameter((L + 1, D)), ()),
        sc.Node("add", sc.Add(), ["cat", "pos"]),
        sc.Node("gamma", sc.Parameter((D,)), ()),
        sc.Node("scale", sc.Mul(), ["add", "gamma"]),
    ], output="scale")
    rep = graph.analyze(sc.Shape(L, D))
    for n, d in ((4, 8), (16, 32)):
        module = Tokens(n, d)
        numbers = rep.subs(L=n, D=d)
        assert numbers.total.params == sum(p.numel() for p in module.parameters())
        assert numbers.out_shape.dims == tuple(module(torch.zeros(1, n, d)).shape[1:])


def test_constant_buffer_counts_as_a_buffer():
    graph = sc.Graph([sc.Node("mask", sc.Constant((L, L), buffer=True), ()),
                      sc.Node("add", sc.Add(), ["input", "mask"])], output="add")
    rep = graph.analyze(sc.Shape(L, L))
    assert (rep.total.params, rep.total.buffers) == (0, L**2)
