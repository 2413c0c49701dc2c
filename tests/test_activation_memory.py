"""Activation memory (issue 15): bytes autograd keeps for backward, against what torch's
``saved_tensors_hooks`` sees (tests/saved_memory.py) and against Korthikanti et al. 2022's formulas."""

import pytest
import sympy

import symcost as sc
from symcost.core.errors import SymcostError
from symcost.networks.activation_memory import activation_bytes
from symcost.symbols import B, symbol

l, d, a, V, T = (symbol(n) for n in ("n_layer", "d_model", "n_head", "n_vocab", "n_ctx"))


# -- Korthikanti et al. 2022, section 4.1 and Table 2 (no tensor parallelism), typed from the paper --------
def _layer_bytes(mem, layer: int) -> sympy.Expr:
    return sympy.Add(*(b for name, b in mem.rows if name.startswith(f"transformer.h.{layer}.")))


@pytest.mark.parametrize("recompute, per_layer", [
    ("none", lambda s, b, h, a: s * b * h * (34 + 5 * a * s / h)),   # eq. (1): 34sbh + 5as^2b
    ("selective", lambda s, b, h, a: 34 * s * b * h),                # Table 2, selective activation recomputation
    ("full", lambda s, b, h, a: 2 * s * b * h),                      # Table 2, full activation recomputation
])
def test_korthikanti_per_layer(recompute, per_layer):
    rep = sc.zoo.gpt2(n_layer=2, d_model=d, n_head=a, n_vocab=V, n_ctx=T).analyze(batch=B)
    mem = activation_bytes(rep, dtype="bfloat16", recompute=recompute, convention="korthikanti")
    want = per_layer(T, B, d, a)
    for layer in (0, 1):
        assert sympy.simplify(_layer_bytes(mem, layer) - want) == 0


def test_korthikanti_symbolic_layers():
    """n_layer blocks as one symbolic Repeat: l times the per-layer formula, each block's input counted once."""
    rep = sc.zoo.gpt2(n_layer=l, d_model=d, n_head=a, n_vocab=V, n_ctx=T).analyze(batch=B)
    mem = activation_bytes(rep, dtype="float16", convention="korthikanti")
    blocks = sympy.Add(*(b for name, b in mem.rows if name.startswith("transformer.h.")))
    assert sympy.expand(blocks - l * T * B * d * (34 + 5 * a * T / d)) == 0


def test_symbolic_repeat_equals_unrolled():
    """The carried block input and the last block's output (kept by ln_f) count as the unrolled network does."""
    sizes = dict(d_model=64, n_head=4, n_vocab=100, n_ctx=12)
    for convention, recompute in (("eager", "none"), ("korthikanti", "none"), ("korthikanti", "full")):
        symbolic = sc.zoo.gpt2(n_layer=l, **sizes).analyze(batch=B)
        got = activation_bytes(symbolic, recompute=recompute, convention=convention).total
        for n in (1, 3):
            unrolled = sc.zoo.gpt2(n_layer=n, **sizes).analyze(batch=2)
            want = activation_bytes(unrolled, recompute=recompute, convention=convention).total
            assert got.subs({l: n, B: 2}) == want


def test_shared_storage_counted_once():
    """conv -> relu -> conv: the ReLU's output is kept by the ReLU and by the second conv, once; the input
    is kept by the first conv (for its weight's gradient) although it needs no gradient. Hand count."""
    H, W = symbol("H"), symbol("W")
    net = sc.Sequential(sc.Conv2d(8, 3, padding=1), sc.ReLU(), sc.Conv2d(8, 3, padding=1),
                        sc.Flatten(), sc.Linear(10))
    mem = activation_bytes(net.analyze(sc.Shape(3, H, W), batch=B))
    # input 3HW; relu output 8HW (conv 2 keeps it too); conv 2's output flattened (a view) kept by Linear
    assert sympy.expand(mem.total - 4 * B * (3 * H * W + 8 * H * W + 8 * H * W)) == 0
    assert dict(mem.rows)["3"] == 0  # the flatten is a view: nothing of its own


def test_bad_arguments_and_unknown_kind_are_errors(monkeypatch):
    rep = sc.Sequential(sc.Linear(4)).analyze(sc.Shape(3))
    with pytest.raises(SymcostError, match="recompute"):
        activation_bytes(rep, recompute="some")
    with pytest.raises(SymcostError, match="dtype"):
        activation_bytes(rep, dtype="float13")
    with pytest.raises(SymcostError, match="convention"):
        activation_bytes(rep, convention="paper")
    from symcost.layers import saved_tensors

    monkeypatch.delitem(saved_tensors.EAGER, "SwiGLU")  # every kind has an entry: take one out
    unknown = sc.Sequential(sc.Linear(6), sc.SwiGLU()).analyze(sc.Shape(4, 6))
    with pytest.raises(SymcostError, match=r'layer 1 "1" \(SwiGLU\): SwiGLU: .*no entry in the \'eager\' table'):
        activation_bytes(unknown)


# -- against torch ---------------------------------------------------------------------------------------
torch = pytest.importorskip("torch")
from saved_memory import saved_storage_bytes  # noqa: E402


@pytest.mark.parametrize("model, shape, batch", [
    ("resnet18", (3, 64, 64), 2), ("resnet18", (3, 40, 56), 1),
    ("mobilenet_v2", (3, 64, 64), 2), ("mobilenet_v2", (3, 32, 48), 1),
])
def test_torchvision_models_match_saved_tensors(model, shape, batch):
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    net = getattr(torchvision.models, model)()
    want = saved_storage_bytes(net, (torch.randn(batch, *shape),))
    rep = getattr(sc.zoo, model)().analyze(sc.Shape(*shape), batch=batch)
    assert activation_bytes(rep).total == want


def _transformers():
    pytest.importorskip("torchvision")  # the shim makes transformers' optional torchvision import work
    return pytest.importorskip("transformers")


@pytest.mark.parametrize("n_layer, d_model, n_head, n_ctx, batch, dtype",
                         [(1, 64, 4, 12, 2, "float32"), (2, 48, 2, 20, 1, "bfloat16")])
def test_hf_gpt2_matches_saved_tensors(n_layer, d_model, n_head, n_ctx, batch, dtype):
    """GPT2LMHeadModel, SDPA, no dropout (zoo.gpt2 has none), no KV cache (training), GELU(tanh) as torch's
    kernel (``gelu_pytorch_tanh``; HF's default ``gelu_new`` is a Python composite that keeps 3 more tensors).
    HF looks ``wpe`` up with position ids, an int64 arange of n_ctx it keeps; zoo.gpt2 reads the table."""
    transformers = _transformers()
    torch.manual_seed(0)
    cfg = transformers.GPT2Config(n_layer=n_layer, n_embd=d_model, n_head=n_head, vocab_size=100,
                                  n_positions=n_ctx, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                                  attn_implementation="sdpa", activation_function="gelu_pytorch_tanh",
                                  use_cache=False, bos_token_id=0, eos_token_id=0)
    model = transformers.GPT2LMHeadModel(cfg).to(getattr(torch, dtype))
    want = saved_storage_bytes(model, (torch.randint(0, 100, (batch, n_ctx)),))
    rep = sc.zoo.gpt2(n_layer=n_layer, d_model=d_model, n_head=n_head, n_vocab=100, n_ctx=n_ctx).analyze(batch=batch)
    assert activation_bytes(rep, dtype=dtype).total == want - 8 * n_ctx


@pytest.mark.parametrize("n_layer, d_model, n_head, n_kv, d_ff, n_ctx, batch, dtype",
                         [(1, 64, 4, 2, 96, 12, 2, "float32"), (2, 32, 4, 4, 80, 10, 1, "float16")])
def test_hf_llama_matches_saved_tensors(n_layer, d_model, n_head, n_kv, d_ff, n_ctx, batch, dtype):
    """LlamaForCausalLM, SDPA, no KV cache. HF computes the rotary cos and sin once per forward, of shape
    (1, n_ctx, head size), and every layer's q and k products keep those two; zoo.llama has its own cos
    and sin per layer, for q and for k, per sample: 4*n_layer*batch tables against HF's 2. With 16-bit
    activations HF's RMSNorm keeps a float32 copy of its input (the table's ``upcast``)."""
    transformers = _transformers()
    torch.manual_seed(0)
    cfg = transformers.LlamaConfig(num_hidden_layers=n_layer, hidden_size=d_model, num_attention_heads=n_head,
                                   num_key_value_heads=n_kv, intermediate_size=d_ff, vocab_size=100,
                                   max_position_embeddings=n_ctx, use_cache=False, attn_implementation="sdpa",
                                   attention_dropout=0.0, bos_token_id=0, eos_token_id=0, pad_token_id=0)
    model = transformers.LlamaForCausalLM(cfg).to(getattr(torch, dtype))
    want = saved_storage_bytes(model, (torch.randint(0, 100, (batch, n_ctx)),))
    rep = sc.zoo.llama(n_layer=n_layer, d_model=d_model, n_head=n_head, n_kv_head=n_kv, d_ff=d_ff, n_vocab=100,
                       n_ctx=n_ctx).analyze(batch=batch)
    table = n_ctx * (d_model // n_head) * {"float32": 4, "float16": 2}[dtype]
    assert activation_bytes(rep, dtype=dtype).total == want + (4 * n_layer * batch - 2) * table


#: kind -> (symcost layer, torch module), each after a 1x1 convolution so its input needs a gradient
TABLE = {
    "ReLU": (sc.ReLU(), lambda: torch.nn.ReLU()),
    "ReLU inplace": (sc.ReLU(), lambda: torch.nn.ReLU(inplace=True)),
    "ReLU6": (sc.ReLU6(), lambda: torch.nn.ReLU6(inplace=True)),
    "LeakyReLU": (sc.LeakyReLU(), lambda: torch.nn.LeakyReLU()),
    "GELU": (sc.GELU(), lambda: torch.nn.GELU()),
    "SiLU": (sc.SiLU(), lambda: torch.nn.SiLU()),
    "Sigmoid": (sc.Sigmoid(), lambda: torch.nn.Sigmoid()),
    "Tanh": (sc.Tanh(), lambda: torch.nn.Tanh()),
    "Hardswish": (sc.Hardswish(), lambda: torch.nn.Hardswish()),
    "Hardsigmoid": (sc.Hardsigmoid(), lambda: torch.nn.Hardsigmoid()),
    "Softmax": (sc.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1)),
    "LogSoftmax": (sc.LogSoftmax(dim=-1), lambda: torch.nn.LogSoftmax(dim=-1)),
    "MaxPool2d": (sc.MaxPool2d(2), lambda: torch.nn.MaxPool2d(2)),
    "AvgPool2d": (sc.AvgPool2d(3, stride=2), lambda: torch.nn.AvgPool2d(3, stride=2)),
    "AdaptiveAvgPool2d": (sc.AdaptiveAvgPool2d(1), lambda: torch.nn.AdaptiveAvgPool2d(1)),
    "AdaptiveAvgPool2d 7x7": (sc.AdaptiveAvgPool2d(7), lambda: torch.nn.AdaptiveAvgPool2d(7)),
    "AdaptiveAvgPool2d (1, None)": (sc.AdaptiveAvgPool2d((1, None)), lambda: torch.nn.AdaptiveAvgPool2d((1, None))),
    "AdaptiveMaxPool2d": (sc.AdaptiveMaxPool2d(3), lambda: torch.nn.AdaptiveMaxPool2d(3)),
    "BatchNorm2d": (sc.BatchNorm2d(), lambda: torch.nn.BatchNorm2d(4)),
    "LayerNorm": (sc.LayerNorm((6, 8)), lambda: torch.nn.LayerNorm((6, 8))),
    "Dropout": (sc.Dropout(0.3), lambda: torch.nn.Dropout(0.3)),
    "Dropout p=0": (sc.Dropout(0.0), lambda: torch.nn.Dropout(0.0)),
    "Flatten": (sc.Flatten(), lambda: torch.nn.Flatten()),
    "Conv2d": (sc.Conv2d(5, 3, padding=1), lambda: torch.nn.Conv2d(4, 5, 3, padding=1)),
    "GroupNorm": (sc.GroupNorm(2), lambda: torch.nn.GroupNorm(2, 4)),
    "InstanceNorm2d": (sc.InstanceNorm2d(), lambda: torch.nn.InstanceNorm2d(4)),
    "Exp": (sc.Exp(), lambda: _Fn(torch.exp)),
    "Sqrt": (sc.Sqrt(), lambda: _Fn(lambda x: torch.sqrt(x))),
    "Rsqrt": (sc.Rsqrt(), lambda: _Fn(torch.rsqrt)),
    "Log": (sc.Log(), lambda: _Fn(torch.log)),
    "Abs": (sc.Abs(), lambda: _Fn(torch.abs)),
    "Erf": (sc.Erf(), lambda: _Fn(torch.erf)),
    "Clamp": (sc.Clamp(min=0, max=1), lambda: _Fn(lambda x: x.clamp(0, 1))),
    "Pow": (sc.Pow(2), lambda: _Fn(lambda x: x.pow(2))),
    "Var": (sc.Var(dim=1), lambda: _Fn(lambda x: x.var(dim=1))),
    "GLU": (sc.GLU(dim=1), lambda: _Fn(lambda x: torch.nn.functional.glu(x, dim=1))),
    "Amax": (sc.Amax(dim=3), lambda: _Fn(lambda x: x.amax(dim=3))),
    "Pad2d": (sc.Pad2d(1), lambda: torch.nn.ZeroPad2d(1)),
    "Upsample": (sc.Upsample(scale_factor=2), lambda: torch.nn.Upsample(scale_factor=2)),
}


class _Fn(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_saved_tensor_table_matches_torch(name):
    """One layer after a 1x1 convolution, on a (4, 6, 8) sample, batch 3: the bytes torch keeps."""
    layer, module = TABLE[name]
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(4, 4, 1), module())
    want = saved_storage_bytes(net, (torch.randn(3, 4, 6, 8),))
    rep = sc.Sequential(sc.Conv2d(4, 1), layer).analyze(sc.Shape(4, 6, 8), batch=3)
    assert activation_bytes(rep).total == want


def test_no_gradient_no_saved_tensors():
    """A ReLU on the network's input (which needs no gradient) records nothing, as in torch; the convolution
    after it keeps the ReLU's output for its weight's gradient."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Conv2d(4, 4, 1), torch.nn.ReLU())
    want = saved_storage_bytes(net, (torch.randn(2, 4, 5, 5),))
    rep = sc.Sequential(sc.ReLU(), sc.Conv2d(4, 1), sc.ReLU()).analyze(sc.Shape(4, 5, 5), batch=2)
    assert activation_bytes(rep).total == want == 2 * 2 * 4 * 25 * 4


def _nested(n, m):
    inner = sc.Sequential(sc.LayerNorm(8), sc.Linear(8), sc.ReLU())
    outer = sc.Sequential(sc.Repeat(inner, m), sc.Linear(8), sc.GELU())
    return sc.Sequential(sc.Linear(8), sc.Repeat(outer, n), sc.LayerNorm(8), sc.Linear(4))


@pytest.mark.parametrize("recompute", ["none", "full"])
def test_nested_symbolic_repeats_equal_unrolled(recompute):
    n, m = symbol("n"), symbol("m")
    got = activation_bytes(_nested(n, m).analyze(sc.Shape(5, 3), batch=B), recompute=recompute)
    for nn, mm in ((1, 1), (2, 3), (3, 2)):
        want = activation_bytes(_nested(nn, mm).analyze(sc.Shape(5, 3), batch=2), recompute=recompute).total
        assert got.total.subs({n: nn, m: mm, B: 2}) == want
        # a report with numbers substituted keeps which rows made which tensors
        subbed = _nested(n, m).analyze(sc.Shape(5, 3), batch=B).subs(n=nn, m=mm, B=2)
        assert activation_bytes(subbed, recompute=recompute).total == want


def test_symbolic_sizes_then_numbers():
    """ResNet-18 in H, W and B (exact floors and floor='divisible'): numbers put in afterwards give the
    count of the numeric report (which test_torchvision_models_match_saved_tensors checks against torch)."""
    H, W = symbol("H"), symbol("W")
    numeric = activation_bytes(sc.zoo.resnet18().analyze(sc.Shape(3, 64, 64), batch=2)).total
    assert numeric == 3663360  # torch's saved_tensors_hooks, batch 2 at 64x64
    for floor in ("exact", "divisible"):
        rep = sc.zoo.resnet18().analyze(sc.Shape(3, H, W), floor=floor, batch=B)
        assert activation_bytes(rep).total.subs({H: 64, W: 64, B: 2}) == numeric
        assert activation_bytes(rep.subs(H=64, W=64, B=2)).total == numeric
