"""Bytes read and written (issue 16): checked against a brute-force count over the tensors torch's kernels touch.

The reference runs the torch module under a dispatch mode and, for every ATen call that is not a view
(its output shares no storage with an input), adds the bytes of its tensor arguments and of its result.
Documented departures, outputs a CPU eager kernel writes only for backward or by choice of
implementation: max_pool2d's int64 indices, flash attention's logsumexp, layer norm's mean and rstd;
the reference counts the first output of those. An embedding (and index_select) reads the rows it
gathers, not the table: the reference counts the ids and, for the table, as many bytes as the rows it returns.
"""

from __future__ import annotations

import pytest
import sympy

import symcost as sc
from symcost.core.traffic import Traffic
from symcost.symbols import B, symbol

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional


def brute_force_bytes(module, *inputs) -> int:
    """Bytes moved by the non-view ATen calls of ``module(*inputs)`` (batch of one, eval, no grad)."""
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten

    total = 0

    class Count(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            nonlocal total
            out = func(*args, **(kwargs or {}))
            ins = [t for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)]
            outs = [t for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor)]
            storages = {t.untyped_storage().data_ptr() for t in ins}
            if outs and outs[0].untyped_storage().data_ptr() in storages:
                return out  # a view: no bytes move
            name = str(func)
            if name.startswith(("aten.max_pool2d_with_indices", "aten._scaled_dot_product_flash_attention",
                                "aten.native_layer_norm")):
                outs = outs[:1]
            nbytes = lambda t: t.numel() * t.element_size()  # noqa: E731
            if name.startswith("aten.embedding"):
                total += nbytes(args[1]) + 2 * nbytes(outs[0])  # ids and the gathered rows in, rows out
                return out
            if name.startswith("aten.index_select"):
                total += nbytes(args[2]) + 2 * nbytes(outs[0])  # index and the selected entries in, out
                return out
            total += sum(nbytes(t) for t in ins) + sum(nbytes(t) for t in outs)
            return out

    module.eval()
    with torch.no_grad(), Count():
        module(*inputs)
    return total


class _SDPA(nn.Module):
    def __init__(self, causal: bool) -> None:
        super().__init__()
        self.causal = causal

    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)


class _Add(nn.Module):
    def forward(self, a, b):
        return a + b


class _IndexSelect(nn.Module):
    def forward(self, x):
        return torch.index_select(x, 1, torch.tensor([0, 2, 3]))


class _MaskedFill(nn.Module):
    def forward(self, x, mask):
        return x.masked_fill(mask, 0.0)


# (symcost layer, per-sample input shapes, torch module, torch inputs with a batch of one)
CASES = {
    "conv2d": (sc.Conv2d(16, 3, stride=2, padding=1), [(3, 17, 17)], nn.Conv2d(3, 16, 3, 2, 1), None),
    "conv2d_groups_nobias": (sc.Conv2d(8, 3, groups=4, bias=False), [(8, 9, 9)],
                             nn.Conv2d(8, 8, 3, groups=4, bias=False), None),
    "linear": (sc.Linear(7), [(5,)], nn.Linear(5, 7), None),
    "batchnorm2d": (sc.BatchNorm2d(6), [(6, 5, 5)], nn.BatchNorm2d(6), None),
    "relu": (sc.ReLU(), [(4, 6, 6)], nn.ReLU(), None),
    "maxpool2d": (sc.MaxPool2d(2), [(3, 8, 8)], nn.MaxPool2d(2), None),
    "avgpool2d": (sc.AvgPool2d(3, stride=2), [(3, 9, 9)], nn.AvgPool2d(3, 2), None),
    "layernorm": (sc.LayerNorm(12), [(5, 12)], nn.LayerNorm(12), None),
    "embedding": (sc.Embedding(50, 8), [(6,)], nn.Embedding(50, 8), [torch.randint(0, 50, (1, 6))]),
    "flatten": (sc.Flatten(), [(3, 4, 4)], nn.Flatten(), None),
    "dropout_eval": (sc.Dropout(0.1), [(10,)], nn.Dropout(0.1), None),
    "sdpa": (sc.ScaledDotProductAttention(), [(2, 5, 4), (2, 7, 4), (2, 7, 4)], _SDPA(False), None),
    "sdpa_causal": (sc.ScaledDotProductAttention(is_causal=True), [(2, 6, 4)] * 3, _SDPA(True), None),
    "add_broadcast": (sc.Add(), [(4, 5, 5), (4, 1, 1)], _Add(), None),
    "index_select": (sc.IndexSelect(1, 3), [(4, 6, 5)], _IndexSelect(), None),
    "masked_fill": (sc.MaskedFill(), [(6, 8), (6, 1)], _MaskedFill(),
                    [torch.randn(1, 6, 8), torch.rand(1, 6, 1) > 0.5]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_traffic_equals_the_bytes_torch_kernels_touch(case):
    layer, shapes, module, inputs = CASES[case]
    inputs = inputs or [torch.randn(1, *s) for s in shapes]
    cost = layer.cost(*(sc.Shape(*s) for s in shapes))
    assert cost.traffic("float32").total == brute_force_bytes(module, *inputs)


def test_separable_conv_moves_what_its_two_torch_convs_move():
    layer = sc.SeparableConv2d(16, 3, padding=1)
    module = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.Conv2d(8, 16, 1))
    cost = layer.cost(sc.Shape(8, 6, 6))
    assert cost.traffic("float32").total == brute_force_bytes(module, torch.randn(1, 8, 6, 6))


def test_bytes_scale_with_the_dtype_and_split_into_reads_and_writes():
    # Conv2d(8, 3, padding=1) on 3x32x32: 3*9*8 + 8 = 224 weights, 3072 inputs, 8192 outputs
    t16 = sc.Conv2d(8, 3, padding=1).cost(sc.Shape(3, 32, 32)).traffic("bfloat16")
    assert (t16.weights, t16.inputs, t16.outputs) == (448, 6144, 16384)
    assert (t16.read, t16.written, t16.total) == (448 + 6144, 16384, 448 + 6144 + 16384)
    assert all(isinstance(v, sympy.Integer) for v in t16.as_dict().values())


def test_views_and_parameters_move_nothing():
    shape = sc.Shape(6, 4, 4)
    for layer in (sc.Flatten(), sc.Permute((0, 1, 3, 2)), sc.Identity(), sc.Dropout(0.5), sc.Reshape((6, 16))):
        assert layer.cost(shape).traffic().total == 0, layer
    assert sc.Parameter((4, 4)).cost().traffic().total == 0  # the layer that uses it reads it


def test_embedding_reads_the_gathered_rows_not_the_table():
    V, D, L = symbol("V"), symbol("D"), symbol("L")
    t = sc.Embedding(V, D).cost(sc.Shape(L)).traffic("bfloat16")
    assert (t.weights, t.gathered, t.inputs, t.outputs) == (0, 2 * L * D, 8 * L, 2 * L * D)


def test_embedding_bag_reads_every_gathered_row_and_writes_one_per_bag():
    V, D, L = symbol("V"), symbol("D"), symbol("L")
    t = sc.EmbeddingBag(V, D, mode="sum").cost(sc.Shape(L)).traffic("float32")
    assert (t.gathered, t.inputs, t.outputs) == (4 * L * D, 8 * L, 4 * D)


def test_batchnorm_reads_its_running_statistics_but_not_the_counter():
    t = sc.BatchNorm2d(6).cost(sc.Shape(6, 5, 5)).traffic("float32")
    assert t.weights == 4 * 6 * 4  # weight, bias, running_mean, running_var; num_batches_tracked unread


def test_report_rows_read_weights_once_per_pass_and_activations_per_sample():
    rep = sc.Sequential(sc.Linear(10), sc.ReLU()).analyze(sc.Shape(4)).batched(B)
    # Linear: 4*10 + 10 weights; per sample 4 in, 10 out. ReLU: 10 in, 10 out.
    assert rep.row("0").traffic("float32").total == 4 * (50 + B * (4 + 10))
    assert sympy.expand(rep.total.traffic("float32").total - 4 * (50 + B * 34)) == 0


def test_a_repeated_block_reads_each_copy_of_its_weights():
    rep = sc.Repeat(sc.Sequential(sc.Linear(8)), times=symbol("n")).analyze(sc.Shape(8))
    n = symbol("n")
    assert sympy.expand(rep.total.traffic("float32").total - 4 * n * (72 + 16)) == 0


def test_a_tied_weight_is_read_by_every_layer_that_uses_it():
    lin = sc.Linear(4, in_features=4)
    g = sc.Graph([sc.Node("fc1", lin, ["input"]),
                  sc.Node("fc2", lin, ["fc1"], tied=sc.Tied("fc1", sc.Params(weight=16)))], output="fc2")
    rep = g.analyze(sc.Shape(4))
    assert rep.total.params == 24  # the weight once, each bias
    assert [row.traffic("float32").weights for row in rep.rows] == [80, 80]


def test_traffic_substitutes_to_exact_integers():
    H = symbol("H")
    t = sc.Conv2d(4, 3, padding=1).cost(sc.Shape(2, H, H)).traffic("float16")
    assert t.subs(H=10).total == 2 * (2 * 9 * 4 + 4 + 2 * 100 + 4 * 100)


def test_an_unknown_dtype_is_one_clear_error():
    with pytest.raises(ValueError, match=r"traffic: dtype must be one of float64, .*got 'float13'"):
        sc.ReLU().cost(sc.Shape(3)).traffic("float13")


def test_traffic_adds_field_by_field():
    a, b = Traffic(1, 2, 3, 4), Traffic(10, 20, 30, 40)
    assert a + b == Traffic.sum([a, b]) == Traffic(11, 22, 33, 44)
    assert a.scaled(2, 3) == Traffic(2, 6, 9, 12)


def test_cli_report_adds_bytes_per_layer_when_asked(capsys):
    import json

    from symcost.cli import main

    assert main(["report", "alexnet", "--traffic", "--dtype", "bfloat16", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    conv1 = data["layers"][0]["bytes"]
    # AlexNet conv1: 64*3*11*11 + 64 weights, 3*224*224 in, 64*55*55 out; bfloat16
    assert conv1["total"]["value"] == 2 * (64 * 363 + 64 + 3 * 224 * 224 + 64 * 55 * 55)
    assert conv1["dtype"] == "bfloat16" and data["total"]["bytes"]["total"]["value"] > conv1["total"]["value"]
    assert main(["report", "alexnet", "--format", "json"]) == 0
    assert "bytes" not in json.loads(capsys.readouterr().out)["layers"][0]  # the contract, unless asked
    assert main(["report", "alexnet", "--traffic"]) == 0
    assert "Bytes moved" in capsys.readouterr().out
    assert main(["report", "alexnet", "--traffic", "--format", "markdown"]) == 2
    assert capsys.readouterr().err.startswith("symcost: error: --traffic shows in --format text or json")


def test_a_substituted_report_moves_exact_integers_even_where_a_hook_reads_the_layer():
    V, D, L, m = symbol("V"), symbol("D"), symbol("L"), symbol("m")
    emb = sc.Sequential(sc.Embedding(V, D)).analyze(sc.Shape(L)).subs(V=100, D=8, L=5)
    assert emb.total.traffic("float32").total == 5 * 8 + 4 * (40 + 40)  # int64 ids, rows read, rows written
    sep = sc.Sequential(sc.SeparableConv2d(8, 3, depth_multiplier=m)).analyze(sc.Shape(4, 6, 6)).subs(m=2)
    # depthwise 4 -> 8 channels (3x3, 6x6 -> 4x4), pointwise 8 -> 8; weights 8*9 + 8 + 8*8 + 8 = 152
    assert sep.total.traffic("float32").total == 4 * (152 + 4 * 36 + 2 * 8 * 16 + 8 * 16)
