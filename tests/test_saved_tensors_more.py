"""The saved-tensor table's later kinds (issue 15 follow-up), each against the bytes torch's
``saved_tensors_hooks`` sees in a training-mode forward (tests/saved_memory.py), CPU eager."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import symcost as sc  # noqa: E402
from symcost.networks.activation_memory import activation_bytes  # noqa: E402
from saved_memory import saved_storage_bytes  # noqa: E402

N = 3  # samples per batch


class _Net(torch.nn.Module):
    """``forward(x) = fn(self, x)`` with the given submodules and tensors."""

    def __init__(self, fn, **parts):
        super().__init__()
        self.fn = fn
        self.parts = torch.nn.ModuleDict({k: v for k, v in parts.items() if isinstance(v, torch.nn.Module)})
        self.tensors = {k: v for k, v in parts.items() if not isinstance(v, torch.nn.Module)}  # not buffers

    def forward(self, x):
        return self.fn(self.parts, self.tensors, x)


def _check(net, shape, model, x, batch=N):
    torch.manual_seed(0)
    want = saved_storage_bytes(model, (x,))
    got = activation_bytes(net.analyze(shape, batch=batch)).total
    assert got == want


def _graph(*nodes, output):
    return sc.Graph([sc.Node(*n) for n in nodes], output=output)


# -- MultiheadAttention: training mode (no fast path), need_weights True and False --------------------------
L, E, H = 5, 8, 2


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("extra", [{}, {"add_bias_kv": True}, {"add_zero_attn": True, "bias": False},
                                   {"add_bias_kv": True, "add_zero_attn": True}])
@pytest.mark.parametrize("inputs", [1, 2, 3])
def test_multihead_attention(inputs, extra, need_weights):
    """One input: q = k = v (one packed projection); two: key = value; three with kdim, vdim apart."""
    kdim, vdim = (6, 4) if inputs == 3 else (None, None)
    mha = sc.MultiheadAttention(E, H, kdim=kdim, vdim=vdim, need_weights=need_weights, **extra)
    nodes = [("q", sc.Linear(E), ["input"])]
    if inputs >= 2:
        nodes.append(("k", sc.Linear(kdim or E), ["input"]))
    if inputs == 3:
        nodes.append(("v", sc.Linear(vdim), ["input"]))
    nodes.append(("mha", mha, [n[0] for n in nodes]))
    torch.manual_seed(0)
    parts = {"q": torch.nn.Linear(E, E), "k": torch.nn.Linear(E, kdim or E), "v": torch.nn.Linear(E, vdim or E),
             "mha": torch.nn.MultiheadAttention(E, H, kdim=kdim, vdim=vdim, **extra)}

    def fn(p, t, x):
        q = p["q"](x)
        k = p["k"](x) if inputs >= 2 else q
        v = p["v"](x) if inputs == 3 else k
        return p["mha"](q, k, v, need_weights=need_weights)[0]

    _check(_graph(*nodes, output="mha"), sc.Shape(L, E), _Net(fn, **parts), torch.randn(L, N, E))


def test_multihead_attention_need_weights_by_hand():
    """Self-attention, need_weights: x (the first Linear's), y, q|k|v (3LE), q scaled, softmax (H L L), and
    the heads' output (LE), float32, per sample."""
    net = sc.Sequential(sc.Linear(E), sc.MultiheadAttention(E, H))
    got = activation_bytes(net.analyze(sc.Shape(L, E), batch=N)).total
    assert got == N * 4 * (L * E + L * E + 3 * L * E + L * E + H * L * L + L * E)


# -- products --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mat1_grad", [True, False])
def test_addmm(mat1_grad):
    """addmm(bias, mat1, W): W (a parameter) needs mat1 kept; mat1 needs W kept (a parameter: not counted)."""
    mat1 = ("a", sc.Linear(8), ["input"]) if mat1_grad else ("a", sc.Identity(), ["input"])
    net = _graph(mat1, ("w", sc.Parameter((8, 5)), []), ("b", sc.Parameter((5,)), []),
                 ("mm", sc.Addmm(), ["b", "a", "w"]), output="mm")
    torch.manual_seed(0)
    parts = {"a": torch.nn.Linear(8, 8) if mat1_grad else torch.nn.Identity(),
             "w": torch.nn.Linear(8, 5)}
    fn = lambda p, t, x: torch.addmm(p["w"].bias, p["a"](x), p["w"].weight.t())
    _check(net, sc.Shape(6, 8), _Net(fn, **parts), torch.randn(6, 8), batch=1)


def test_baddbmm_keeps_both_batches():
    net = _graph(("a", sc.Linear(8), ["input"]), ("b", sc.Linear(8), ["input"]), ("bt", sc.Transpose(2, 3), ["b"]),
                 ("c", sc.Parameter((2, 6, 6)), []), ("mm", sc.Baddbmm(beta=0.5), ["c", "a", "bt"]), output="mm")
    torch.manual_seed(0)
    c = torch.nn.Parameter(torch.randn(2, 6, 6))
    parts = {"a": torch.nn.Linear(8, 8), "b": torch.nn.Linear(8, 8)}
    model = _Net(lambda p, t, x: torch.baddbmm(t["c"], p["a"](x), p["b"](x).transpose(1, 2), beta=0.5), **parts, c=c)
    model.c = c  # a parameter: not counted
    _check(net, sc.Shape(2, 6, 8), model, torch.randn(2, 6, 8), batch=1)


@pytest.mark.parametrize("equation, torch_equation, relu", [
    ("ij,kj->ik", "bij,bkj->bik", False),
    ("ij,kj->ik", "bij,bkj->bik", True),     # a ReLU keeps its output too: einsum keeps views, one storage
    ("ij,jk", "bij,bjk->bik", False),        # implicit output
    ("ij,ij->i", "bij,bij->bi", True),
    ("ij->ji", "bij->bji", True),             # one operand: nothing kept
])
def test_einsum(equation, torch_equation, relu):
    two = "," in equation
    act = [sc.ReLU()] if relu else []
    nodes = [("a", sc.Sequential(sc.Linear(8), *act), ["input"])]
    if two:
        nodes.append(("b", sc.Linear(8), ["input"]))
        if "jk" in equation:
            nodes.append(("bt", sc.Transpose(1, 2), ["b"]))
    last = nodes[-1][0]
    nodes.append(("e", sc.Einsum(equation), ["a", last] if two else ["a"]))
    torch.manual_seed(0)
    parts = {"a": torch.nn.Sequential(torch.nn.Linear(8, 8), *([torch.nn.ReLU()] if relu else [])),
             "b": torch.nn.Linear(8, 8)}

    def fn(p, t, x):
        a = p["a"](x)
        if not two:
            return torch.einsum(torch_equation, a)
        b = p["b"](x)
        return torch.einsum(torch_equation, a, b.transpose(1, 2) if "jk" in equation else b)

    _check(_graph(*nodes, output="e"), sc.Shape(5, 8), _Net(fn, **parts), torch.randn(N, 5, 8))


def test_einsum_on_the_network_input_keeps_it_for_the_other_operand_only():
    net = _graph(("b", sc.Linear(8), ["input"]), ("e", sc.Einsum("ij,kj->ik"), ["input", "b"]), output="e")
    model = _Net(lambda p, t, x: torch.einsum("bij,bkj->bik", x, p["b"](x)), b=torch.nn.Linear(8, 8))
    _check(net, sc.Shape(5, 8), model, torch.randn(N, 5, 8))


@pytest.mark.parametrize("equation, rule", [("ij,jk,kl->il", "one or two operands"),
                                            ("ij,kl->ik", "sum no label within one operand")])
def test_einsum_not_tabled_is_an_error(equation, rule):
    nodes = [("b", sc.Transpose(1, 2), ["input"]), ("c", sc.Linear(4), ["input"])]
    operands = ["input", "b", "c"] if equation.count(",") == 2 else ["input", "c"]
    net = _graph(*nodes, ("e", sc.Einsum(equation), operands), output="e")
    with pytest.raises(sc.InvalidArgumentError, match=rule):
        activation_bytes(net.analyze(sc.Shape(2, 3)))


# -- selections ------------------------------------------------------------------------------------------
COND = torch.rand(N, 5, 4) > 0.5  # a Constant is per sample, as the model's other tensors


@pytest.mark.parametrize("grad", [True, False])
def test_where_keeps_the_condition(grad):
    """The bool condition (a literal tensor) when x or y needs a gradient; else nothing."""
    xy = (sc.Linear(4), sc.Linear(4)) if grad else (sc.Identity(), sc.Identity())
    net = _graph(("c", sc.Constant((5, 4)), []), ("x", xy[0], ["input"]), ("y", xy[1], ["input"]),
                 ("w", sc.Where(), ["c", "x", "y"]), output="w")
    parts = {"x": torch.nn.Linear(4, 4) if grad else torch.nn.Identity(),
             "y": torch.nn.Linear(4, 4) if grad else torch.nn.Identity()}
    model = _Net(lambda p, t, x: torch.where(t["c"], p["x"](x), p["y"](x)), **parts, c=COND)
    _check(net, sc.Shape(5, 4), model, torch.randn(N, 5, 4))


def test_masked_fill_keeps_the_mask():
    net = _graph(("m", sc.Constant((5, 4)), []), ("x", sc.Linear(4), ["input"]),
                 ("f", sc.MaskedFill(value=-1), ["x", "m"]), output="f")
    model = _Net(lambda p, t, x: p["x"](x).masked_fill(t["m"], -1.0), x=torch.nn.Linear(4, 4), m=COND)
    _check(net, sc.Shape(5, 4), model, torch.randn(N, 5, 4))


def test_index_select_keeps_its_index():
    index = torch.tensor([0, 2, 2])
    net = sc.Sequential(sc.Linear(4), sc.IndexSelect(1, 3))
    model = _Net(lambda p, t, x: torch.index_select(p["l"](x), 1, t["i"]), l=torch.nn.Linear(4, 4), i=index)
    _check(net, sc.Shape(5, 4), model, torch.randn(N, 5, 4))


def test_roll_keeps_nothing():
    net = sc.Sequential(sc.Linear(4), sc.Roll(2, 1), sc.Linear(4))
    model = _Net(lambda p, t, x: p["b"](torch.roll(p["a"](x), 2, 1)), a=torch.nn.Linear(4, 4), b=torch.nn.Linear(4, 4))
    _check(net, sc.Shape(5, 4), model, torch.randn(N, 5, 4))


def test_swiglu():
    net = sc.Sequential(sc.Linear(8), sc.SwiGLU())

    def fn(p, t, x):
        a, b = p["l"](x).chunk(2, -1)
        return torch.nn.functional.silu(a) * b

    _check(net, sc.Shape(5, 8), _Net(fn, l=torch.nn.Linear(8, 8)), torch.randn(N, 5, 8))


def _stochastic_depth(x, p, mode):
    """torchvision.ops.stochastic_depth in training (torchvision 0.2x), copied."""
    if p == 0.0:
        return x
    survival_rate = 1.0 - p
    size = [x.shape[0]] + [1] * (x.ndim - 1) if mode == "row" else [1] * x.ndim
    noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(survival_rate)
    if survival_rate > 0.0:
        noise.div_(survival_rate)
    return x * noise


@pytest.mark.parametrize("p, mode", [(0.2, "row"), (0.2, "batch"), (0.0, "row"), (1.0, "row")])
def test_stochastic_depth(p, mode):
    net = sc.Sequential(sc.Conv2d(4, 1), sc.StochasticDepth(p, mode), sc.ReLU())
    model = _Net(lambda m, t, x: torch.relu(_stochastic_depth(m["c"](x), p, mode)), c=torch.nn.Conv2d(4, 4, 1))
    _check(net, sc.Shape(4, 6, 8), model, torch.randn(N, 4, 6, 8))


def test_separable_conv():
    net = sc.Sequential(sc.Conv2d(4, 1), sc.SeparableConv2d(6, 3, padding=1, depth_multiplier=2))
    model = torch.nn.Sequential(torch.nn.Conv2d(4, 4, 1), torch.nn.Conv2d(4, 8, 3, padding=1, groups=4),
                                torch.nn.Conv2d(8, 6, 1))
    _check(net, sc.Shape(4, 6, 8), model, torch.randn(N, 4, 6, 8))


# -- embedding bags and recurrent layers -------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("length", [5, 7])
def test_embedding_bag(mode, length):
    torch.manual_seed(0)
    model = torch.nn.EmbeddingBag(10, 6, mode=mode)
    _check(sc.Sequential(sc.EmbeddingBag(10, 6, mode=mode)), sc.Shape(length), model,
           torch.randint(0, 10, (N, length)))


def _recurrent(cls, p, t, x):
    return p["rnn"](p["pre"](x))[0]


@pytest.mark.parametrize("kind, options, length", [
    ("GRU", {}, 5), ("GRU", {"num_layers": 2}, 4), ("GRU", {"num_layers": 2, "bidirectional": True}, 3),
    ("GRU", {"bias": False}, 2),
    ("LSTM", {"proj_size": 2}, 5), ("LSTM", {"proj_size": 3, "num_layers": 2, "bidirectional": True}, 4),
])
def test_recurrent_cpu_eager(kind, options, length):
    torch.manual_seed(0)
    rnn = getattr(torch.nn, kind)(4, 6, **options)
    model = _Net(lambda p, t, x: p["rnn"](p["pre"](x))[0], pre=torch.nn.Linear(4, 4), rnn=rnn)
    net = sc.Sequential(sc.Linear(4), getattr(sc, kind)(4, 6, **options))
    _check(net, sc.Shape(length, 4), model, torch.randn(length, N, 4))


def test_lstm_without_projection_is_not_tabled():
    """torch runs it through oneDNN on CPU, whose workspace is page-rounded inside oneDNN."""
    net = sc.Sequential(sc.Linear(4), sc.LSTM(4, 6))
    with pytest.raises(sc.InvalidArgumentError, match=r'layer 1 "1" \(LSTM\).*proj_size.*oneDNN'):
        activation_bytes(net.analyze(sc.Shape(5, 4)))


@pytest.mark.parametrize("operand", ["parameter", "buffer"])
def test_parameters_and_buffers_kept_by_an_op_are_no_activations(operand):
    """A product keeps its other operand: a parameter or a registered buffer, which torch leaves out."""
    make = sc.Parameter((4, 4)) if operand == "parameter" else sc.Constant((4, 4), buffer=True)
    net = _graph(("a", sc.Linear(4), ["input"]), ("w", make, []), ("m", sc.MatMul(), ["a", "w"]), output="m")
    model = _Net(lambda p, t, x: p["a"](x) @ p["w"].weight, a=torch.nn.Linear(4, 4), w=torch.nn.Linear(4, 4))
    if operand == "buffer":
        model.register_buffer("c", torch.randn(4, 4))
        model.fn = lambda p, t, x: p["a"](x) @ model.c
    _check(net, sc.Shape(5, 4), model, torch.randn(N, 5, 4))


# -- dropouts: feature dropouts keep one noise value per channel, p=1 a zero scalar ------------------------
@pytest.mark.parametrize("kind, shape", [
    ("Dropout", (4, 6, 8)), ("AlphaDropout", (4, 6, 8)), ("FeatureAlphaDropout", (4, 6, 8)),
    ("FeatureAlphaDropout", (6,)), ("Dropout1d", (4, 6)), ("Dropout1d", (6,)), ("Dropout2d", (4, 6, 8)),
    ("Dropout2d", (4, 6)), ("Dropout2d", (6,)), ("Dropout3d", (2, 4, 6, 8)), ("Dropout3d", (4, 6, 8)),
])
@pytest.mark.parametrize("p", [0.3, 1.0, 0.0])
def test_dropouts(kind, shape, p):
    import warnings

    net = sc.Sequential(sc.Linear(shape[-1]), getattr(sc, kind)(p))
    model = torch.nn.Sequential(torch.nn.Linear(shape[-1], shape[-1]), getattr(torch.nn, kind)(p))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns on the ranks it reads as unbatched
        _check(net, sc.Shape(*shape), model, torch.randn(N, *shape))


def test_every_kind_has_an_eager_entry():
    from symcost.layers import registry
    from symcost.layers.saved_tensors import EAGER

    assert set(registry.kinds()) - set(EAGER) == set()
