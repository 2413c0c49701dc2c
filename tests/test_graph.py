"""Graph: a DAG of nodes equals the same network written with containers; junctions name both sides.

No torch here: the graphs are built by hand. ``tests/test_from_torch.py``
checks graphs read from torch models.
"""

from __future__ import annotations

import pytest
import sympy

import symcost as sc
from symcost.symbols import C, H, W


def residual_tree() -> sc.Sequential:
    body = sc.Sequential(sc.Conv2d(C, 3, padding=1, bias=False, name="conv1"), sc.BatchNorm2d(name="bn1"),
                         sc.ReLU(name="relu"), sc.Conv2d(2 * C, 3, stride=2, padding=1, name="conv2"), name="")
    shortcut = sc.Sequential(sc.Conv2d(2 * C, 1, stride=2, bias=False), sc.BatchNorm2d(), name="downsample")
    return sc.Sequential(sc.Conv2d(C, 7, stride=2, padding=3, name="stem"),
                         sc.Residual(body, shortcut, name="block"), sc.ReLU(name="relu"))


def residual_graph() -> sc.Graph:
    return sc.Graph([
        sc.Node("stem", sc.Conv2d(C, 7, stride=2, padding=3), ["input"]),
        sc.Node("block.conv1", sc.Conv2d(C, 3, padding=1, bias=False), ["stem"]),
        sc.Node("block.bn1", sc.BatchNorm2d(), ["block.conv1"]),
        sc.Node("block.relu", sc.ReLU(), ["block.bn1"]),
        sc.Node("block.conv2", sc.Conv2d(2 * C, 3, stride=2, padding=1), ["block.relu"]),
        sc.Node("block.downsample.0", sc.Conv2d(2 * C, 1, stride=2, bias=False), ["stem"]),
        sc.Node("block.downsample.1", sc.BatchNorm2d(), ["block.downsample.0"]),
        sc.Node("block.add", sc.Add(), ["block.conv2", "block.downsample.1"]),
        sc.Node("relu", sc.ReLU(), ["block.add"]),
    ], output="relu")


def concat_tree() -> sc.Concat:
    return sc.Concat(sc.Sequential(sc.Conv2d(16, 1, name="conv"), name="a"),
                     sc.Sequential(sc.MaxPool2d(3, stride=1, padding=1, name="pool"), sc.Conv2d(8, 1, name="proj"),
                                   name="b"), name="mix")


def concat_graph() -> sc.Graph:
    return sc.Graph([
        sc.Node("mix.a.conv", sc.Conv2d(16, 1), ["input"]),
        sc.Node("mix.b.pool", sc.MaxPool2d(3, stride=1, padding=1), ["input"]),
        sc.Node("mix.b.proj", sc.Conv2d(8, 1), ["mix.b.pool"]),
        sc.Node("mix.concat", sc.Cat(), ["mix.a.conv", "mix.b.proj"]),
    ], output="mix.concat")


SHAPES = [sc.Shape(3, H, W), sc.Shape(3, 57, 40)]


def same_report(a: sc.Report, b: sc.Report, *, kinds: bool = True) -> None:
    assert [r.name for r in a.rows] == [r.name for r in b.rows]
    if kinds:
        assert a.rows == b.rows
    for x, y in zip(a.rows, b.rows):
        assert (x.cost.out_shape, x.params, x.macs, x.flops(), x.rf) == (y.cost.out_shape, y.params, y.macs,
                                                                          y.flops(), y.rf)
    assert (a.out_shape, a.rf) == (b.out_shape, b.rf)
    for quantity in ("params", "buffers", "macs", "activations"):
        assert sympy.expand(getattr(a.total, quantity) - getattr(b.total, quantity)) == 0, quantity
    assert sympy.expand(a.total.flops() - b.total.flops()) == 0


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_residual_graph_equals_the_container(shape):
    same_report(residual_graph().analyze(shape), residual_tree().analyze(shape))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_concat_graph_equals_the_container(shape):
    """The join is a Cat row where the container has a Concat row; everything else is the same."""
    a, b = concat_graph().analyze(shape), concat_tree().analyze(shape)
    same_report(a, b, kinds=False)
    assert [r.kind for r in a.rows][-1] == "Cat" and [r.kind for r in b.rows][-1] == "Concat"


def test_graph_in_a_model_and_in_a_sequential():
    """Rows are named from the model's root, or under the graph's name inside a container."""
    shape = sc.Shape(3, H, W)
    model = sc.Model(residual_graph(), name="net", input_shape=shape)
    assert model.analyze().rows == residual_graph().analyze(shape).rows
    nested = sc.Sequential(sc.Graph(residual_graph().nodes, "relu", name="g"), sc.ReLU(name="out"))
    assert [r.name for r in nested.analyze(shape).rows][:2] == ["g.stem", "g.block.conv1"]
    assert [r.name for r in nested.analyze(shape).rows][-1] == "out"


def test_padded_skip_with_size_symbols_equals_concat_pad():
    """A pad to another node's size, written with Dim symbols, equals Concat(pad=True) (plus a Pad2d row)."""
    down = sc.Sequential(sc.MaxPool2d(2, name="pool"), sc.Conv2d(8, 3, padding=1, name="conv"), name="down")
    up = sc.Sequential(down, sc.ConvTranspose2d(8, 2, stride=2, name="up"), name="")
    tree = sc.Concat(sc.Identity(name="skip"), up, pad=True, name="join")
    h, w = sympy.Dummy("h", integer=True, positive=True), sympy.Dummy("w", integer=True, positive=True)
    uh, uw = sympy.Dummy("uh", integer=True, positive=True), sympy.Dummy("uw", integer=True, positive=True)
    dh, dw = h - uh, w - uw
    pad = sc.Pad2d((sympy.floor(dw / 2), dw - sympy.floor(dw / 2), sympy.floor(dh / 2), dh - sympy.floor(dh / 2)))
    graph = sc.Graph([
        sc.Node("skip", sc.Identity(), ["input"]),
        sc.Node("pool", sc.MaxPool2d(2), ["input"]),
        sc.Node("conv", sc.Conv2d(8, 3, padding=1), ["pool"]),
        sc.Node("up", sc.ConvTranspose2d(8, 2, stride=2), ["conv"]),
        sc.Node("pad", pad, ["up"], dims=[sc.Dim(h, "skip", 2), sc.Dim(w, "skip", -1),
                                         sc.Dim(uh, "up", 2), sc.Dim(uw, "up", 3)]),
        sc.Node("concat", sc.Cat(), ["skip", "pad"]),
    ], output="concat")
    for shape in (sc.Shape(4, H, W), sc.Shape(4, 33, 20)):
        a, b = graph.analyze(shape), tree.analyze(shape)
        assert a.out_shape == b.out_shape
        assert a.rf == b.rf
        assert sympy.expand(a.total.flops() - b.total.flops()) == 0
        assert a.row("pad").cost.out_shape == sc.Shape(8, *a.row("skip").cost.out_shape.dims[1:])


def test_floor_divisible_works_on_graphs():
    rep = residual_graph().analyze(sc.Shape(3, H, W), floor="divisible")
    assert [a.expr for a in rep.assumptions] == [H / 4, W / 4]
    assert rep.subs(H=64, W=96).total.macs == residual_graph().analyze(sc.Shape(3, 64, 96)).total.macs


def test_multiply_by_a_broadcast_gate():
    """A squeeze-and-excitation gate (C, 1, 1) times a map: a Mul row; the map's field carries on."""
    graph = sc.Graph([
        sc.Node("conv", sc.Conv2d(8, 3, padding=1), ["input"]),
        sc.Node("squeeze", sc.Mean((2, 3), keepdim=True), ["conv"]),
        sc.Node("gate", sc.Sigmoid(), ["squeeze"]),
        sc.Node("scale", sc.Mul(), ["conv", "gate"]),
    ], output="scale")
    rep = graph.analyze(sc.Shape(3, H, W))
    assert rep.out_shape == sc.Shape(8, H, W)
    assert rep.row("scale").flops() == 8 * H * W
    assert rep.rf == rep.row("conv").rf


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------
def two_branches(join: sc.Layer) -> sc.Graph:
    return sc.Graph([
        sc.Node("a", sc.Conv2d(8, 3, padding=1), ["input"]),
        sc.Node("b", sc.Conv2d(8, 3, stride=2, padding=1), ["input"]),
        sc.Node("join", join, ["a", "b"]),
    ], output="join")


@pytest.mark.parametrize("join, rule", [
    (sc.Add(), r"Add: input shapes \(8, 32, 32\) and \(8, 16, 16\) do not match"),
    (sc.Cat(), r"Cat: inputs \(8, 32, 32\) and \(8, 16, 16\) differ outside dimension 1"),
])
def test_junction_errors_name_both_sides(join, rule):
    with pytest.raises(sc.ShapeError, match=rule) as info:
        two_branches(join).analyze(sc.Shape(3, 32, 32))
    assert str(info.value).startswith(f'layer 2 "join" ({join.kind}) on inputs "a" (8, 32, 32) and "b" (8, 16, 16): ')


def test_symbolic_junction_suggests_a_grid():
    with pytest.raises(sc.ShapeError, match=r"H = 16\*h"):
        two_branches(sc.Add()).analyze(sc.Shape(3, H, W))


def test_error_inside_a_node_leads_with_its_source():
    graph = sc.Graph([sc.Node("fc", sc.Linear(10, in_features=100, source="head.fc"), ["input"])], output="fc")
    with pytest.raises(sc.ShapeError) as info:
        graph.analyze(sc.Shape(8))
    assert str(info.value).startswith('head.fc: layer 0 "fc" (Linear) on input (8,): ')


@pytest.mark.parametrize("build, error, message", [
    (lambda: sc.Graph([sc.Node("a", sc.ReLU(), ["x"])], "a"), sc.InvalidArgumentError,
     "Graph node \"a\": inputs must name 'input' or an earlier node, got 'x'"),
    (lambda: sc.Graph([sc.Node("a", sc.ReLU(), ["b"]), sc.Node("b", sc.ReLU(), ["input"])], "b"),
     sc.InvalidArgumentError, "Graph node \"a\": inputs must name 'input' or an earlier node, got 'b'"),
    (lambda: sc.Graph([sc.Node("a", sc.ReLU(), ["input"]), sc.Node("a", sc.ReLU(), ["a"])], "a"),
     sc.InvalidArgumentError, "Graph node \"a\": name must be new (not the input or an earlier node), got 'a'"),
    (lambda: sc.Graph([sc.Node("input", sc.ReLU(), ["input"])], "input"), sc.InvalidArgumentError,
     "Graph node \"input\": name must be new (not the input or an earlier node), got 'input'"),
    (lambda: sc.Graph([sc.Node("a", sc.ReLU(), ["input"])], "b"), sc.InvalidArgumentError,
     "Graph: output must name 'input' or a node, got 'b'"),
    (lambda: sc.Graph([sc.Node("a", sc.ReLU(), [])], "a"), sc.InvalidArgumentError,
     "Graph node \"a\": inputs must name at least one input, got ()"),
    (lambda: sc.Graph([sc.Node("a", sc.Sequential(sc.ReLU()), ["input", "input"])], "a"), sc.InvalidArgumentError,
     "Graph node \"a\": inputs must be one input for a network, got ('input', 'input')"),
    (lambda: sc.Graph([sc.Node("a", "relu", ["input"])], "a"), sc.ArgumentTypeError,
     "Graph node \"a\": op must be a symcost layer or network, got str"),
])
def test_malformed_graphs_are_refused(build, error, message):
    with pytest.raises(error) as info:
        build()
    assert str(info.value) == message
