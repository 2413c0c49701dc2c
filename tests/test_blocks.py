"""Whole blocks of today's networks, written in symcost layers with symbolic sizes, against torch.

Each block is derived once with symbols (sequence length ``L``, width ``d`` as
heads times head size, the map's ``H`` and ``W``), then substituted at three
sizes; the parameters must equal ``sum(p.numel())`` of the same block written in
torch.nn, and the MACs FlopCounterMode's count / 2 (CPU attention made visible,
see ``tests/flop_counting.py``).
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

import symcost as sc  # noqa: E402
from flop_counting import flop_macs  # noqa: E402
from symcost.symbols import H, L, W, symbol  # noqa: E402

a, e, kv, f = (symbol(n) for n in ("n_head", "d_head", "n_kv_head", "d_ff"))
d = a * e


def N(name, op, *inputs):  # noqa: N802 - a node, briefly
    return sc.Node(name, op, list(inputs))


def heads(prefix: str, source: str, count, size) -> list:
    """(L, count*size) -> (count, L, size): the view and transpose every attention makes."""
    return [N(f"{prefix}_view", sc.Reshape((L, count, size)), source),
            N(f"{prefix}_heads", sc.Transpose(1, 2), f"{prefix}_view")]


def merged(prefix: str, source: str, count, size) -> list:
    return [N(f"{prefix}_t", sc.Transpose(1, 2), source), N(prefix, sc.Reshape((L, count * size)), f"{prefix}_t")]


# --------------------------------------------------------------------------
# GPT-2: pre-LayerNorm, fused qkv, causal attention, GELU (tanh) MLP of 4*d
# --------------------------------------------------------------------------
class TorchGPT2Block(nn.Module):
    def __init__(self, d_model: int, n_head: int):
        super().__init__()
        self.n_head = n_head
        self.ln_1, self.ln_2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.c_attn, self.c_proj = nn.Linear(d_model, 3 * d_model), nn.Linear(d_model, d_model)
        self.c_fc, self.mlp_proj = nn.Linear(d_model, 4 * d_model), nn.Linear(4 * d_model, d_model)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.n_head, c // self.n_head).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, t, c)
        x = x + self.c_proj(y)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


def gpt2_block() -> sc.Graph:
    return sc.Graph([
        N("ln_1", sc.LayerNorm(d), "input"),
        N("c_attn", sc.Linear(3 * d), "ln_1"),
        N("qkv", sc.Split(d, dim=2), "c_attn"),
        *heads("q", ("qkv", 0), a, e), *heads("k", ("qkv", 1), a, e), *heads("v", ("qkv", 2), a, e),
        N("attn", sc.ScaledDotProductAttention(is_causal=True), "q_heads", "k_heads", "v_heads"),
        *merged("y", "attn", a, e),
        N("c_proj", sc.Linear(d), "y"),
        N("add_1", sc.Add(), "input", "c_proj"),
        N("ln_2", sc.LayerNorm(d), "add_1"),
        N("c_fc", sc.Linear(4 * d), "ln_2"),
        N("gelu", sc.GELU(approximate="tanh"), "c_fc"),
        N("mlp_proj", sc.Linear(d), "gelu"),
        N("add_2", sc.Add(), "add_1", "mlp_proj"),
    ], output="add_2")


# --------------------------------------------------------------------------
# LLaMA: RMSNorm, rotary position embedding, grouped-query attention, SwiGLU
# --------------------------------------------------------------------------
def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class TorchLlamaBlock(nn.Module):
    def __init__(self, n_head: int, n_kv_head: int, d_head: int, d_ff: int):
        super().__init__()
        d_model = n_head * d_head
        self.shape = (n_head, n_kv_head, d_head)
        self.input_layernorm, self.post_attention_layernorm = nn.RMSNorm(d_model), nn.RMSNorm(d_model)
        self.q_proj = nn.Linear(d_model, n_head * d_head, bias=False)
        self.k_proj = nn.Linear(d_model, n_kv_head * d_head, bias=False)
        self.v_proj = nn.Linear(d_model, n_kv_head * d_head, bias=False)
        self.o_proj = nn.Linear(n_head * d_head, d_model, bias=False)
        self.gate_proj, self.up_proj = nn.Linear(d_model, d_ff, bias=False), nn.Linear(d_model, d_ff, bias=False)
        self.down_proj = nn.Linear(d_ff, d_model, bias=False)
        self.register_buffer("inv_freq", 1.0 / 10000 ** (torch.arange(0, d_head, 2).float() / d_head), persistent=False)

    def forward(self, x):
        b, t, _ = x.shape
        n_head, n_kv_head, d_head = self.shape
        angles = torch.outer(torch.arange(t, dtype=torch.float32), self.inv_freq)
        cos, sin = torch.cat((angles, angles), -1).cos(), torch.cat((angles, angles), -1).sin()
        h = self.input_layernorm(x)
        q = self.q_proj(h).view(b, t, n_head, d_head).transpose(1, 2)
        k = self.k_proj(h).view(b, t, n_kv_head, d_head).transpose(1, 2)
        v = self.v_proj(h).view(b, t, n_kv_head, d_head).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        x = x + self.o_proj(y.transpose(1, 2).reshape(b, t, n_head * d_head))
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


def rotary(prefix: str, source: str, count) -> list:
    """x*cos + rotate_half(x)*sin on (count, L, e); cos and sin are computed tables (constants)."""
    return [
        N(f"{prefix}_cos", sc.Constant((L, e))), N(f"{prefix}_sin", sc.Constant((L, e))),
        N(f"{prefix}_halves", sc.Chunk(2, dim=-1), source),
        N(f"{prefix}_neg", sc.Neg(), (f"{prefix}_halves", 1)),
        N(f"{prefix}_rot", sc.Cat(dim=-1), f"{prefix}_neg", (f"{prefix}_halves", 0)),
        N(f"{prefix}_xcos", sc.Mul(), source, f"{prefix}_cos"),
        N(f"{prefix}_xsin", sc.Mul(), f"{prefix}_rot", f"{prefix}_sin"),
        N(f"{prefix}_rope", sc.Add(), f"{prefix}_xcos", f"{prefix}_xsin"),
    ]


def llama_block() -> sc.Graph:
    return sc.Graph([
        N("input_layernorm", sc.RMSNorm(d), "input"),
        N("q_proj", sc.Linear(a * e, bias=False), "input_layernorm"),
        N("k_proj", sc.Linear(kv * e, bias=False), "input_layernorm"),
        N("v_proj", sc.Linear(kv * e, bias=False), "input_layernorm"),
        *heads("q", "q_proj", a, e), *heads("k", "k_proj", kv, e), *heads("v", "v_proj", kv, e),
        *rotary("q", "q_heads", a), *rotary("k", "k_heads", kv),
        N("attn", sc.ScaledDotProductAttention(is_causal=True, enable_gqa=True), "q_rope", "k_rope", "v_heads"),
        *merged("y", "attn", a, e),
        N("o_proj", sc.Linear(d, bias=False), "y"),
        N("add_1", sc.Add(), "input", "o_proj"),
        N("post_attention_layernorm", sc.RMSNorm(d), "add_1"),
        N("gate_proj", sc.Linear(f, bias=False), "post_attention_layernorm"),
        N("up_proj", sc.Linear(f, bias=False), "post_attention_layernorm"),
        N("act", sc.SiLU(), "gate_proj"),
        N("gated", sc.Mul(), "act", "up_proj"),
        N("down_proj", sc.Linear(d, bias=False), "gated"),
        N("add_2", sc.Add(), "add_1", "down_proj"),
    ], output="add_2")


# --------------------------------------------------------------------------
# ViT encoder block (torchvision's EncoderBlock): nn.MultiheadAttention, GELU MLP
# --------------------------------------------------------------------------
class TorchViTBlock(nn.Module):
    def __init__(self, d_model: int, n_head: int, mlp_dim: int):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(d_model, eps=1e-6), nn.LayerNorm(d_model, eps=1e-6)
        self.self_attention = nn.MultiheadAttention(d_model, n_head, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(d_model, mlp_dim), nn.GELU(), nn.Dropout(0.0), nn.Linear(mlp_dim, d_model),
                                 nn.Dropout(0.0))

    def forward(self, x):
        h = self.ln_1(x)
        h, _ = self.self_attention(h, h, h, need_weights=False)
        x = x + h
        return x + self.mlp(self.ln_2(x))


def vit_block() -> sc.Graph:
    return sc.Graph([
        N("ln_1", sc.LayerNorm(d), "input"),
        N("self_attention", sc.MultiheadAttention(d, a, batch_first=True), "ln_1"),
        N("add_1", sc.Add(), "input", "self_attention"),
        N("ln_2", sc.LayerNorm(d), "add_1"),
        N("mlp.0", sc.Linear(f), "ln_2"),
        N("mlp.1", sc.GELU(), "mlp.0"),
        N("mlp.2", sc.Dropout(0.0), "mlp.1"),
        N("mlp.3", sc.Linear(d), "mlp.2"),
        N("mlp.4", sc.Dropout(0.0), "mlp.3"),
        N("add_2", sc.Add(), "add_1", "mlp.4"),
    ], output="add_2")


# --------------------------------------------------------------------------
# ConvNeXt block (torchvision's CNBlock): depthwise 7x7, channels-last LayerNorm and MLP, layer scale
# --------------------------------------------------------------------------
class TorchConvNeXtBlock(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1, self.pwconv2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)
        self.layer_scale = nn.Parameter(torch.full((dim, 1, 1), 1e-6))

    def forward(self, x):
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.pwconv2(F.gelu(self.pwconv1(self.norm(y)))).permute(0, 3, 1, 2)
        return x + self.layer_scale * y


C = symbol("C")


def convnext_block() -> sc.Graph:
    return sc.Graph([
        N("dwconv", sc.Conv2d(C, 7, padding=3, groups=C), "input"),
        N("to_last", sc.Permute((0, 2, 3, 1)), "dwconv"),
        N("norm", sc.LayerNorm(C), "to_last"),
        N("pwconv1", sc.Linear(4 * C), "norm"),
        N("act", sc.GELU(), "pwconv1"),
        N("pwconv2", sc.Linear(C), "act"),
        N("to_first", sc.Permute((0, 3, 1, 2)), "pwconv2"),
        N("layer_scale", sc.Parameter((C, 1, 1))),
        N("scaled", sc.Mul(), "layer_scale", "to_first"),
        N("stochastic_depth", sc.StochasticDepth(0.0, "row"), "scaled"),
        N("add", sc.Add(), "input", "stochastic_depth"),
    ], output="add")


def check(report: sc.Report, module: nn.Module, values: dict, example) -> None:
    numbers = report.batched(example.shape[0]).subs(values)  # the torch example holds a batch
    assert numbers.total.params == sum(p.numel() for p in module.parameters())
    module.eval()
    with torch.no_grad():
        out = module(example)
        assert numbers.total.macs == flop_macs(module, example)
    assert tuple(int(x) for x in numbers.out_shape) == tuple(out.shape[1:])


@pytest.mark.parametrize("t, n_head, d_head", [(5, 2, 4), (16, 4, 8), (33, 3, 6)])
def test_gpt2_block(t, n_head, d_head):
    report = gpt2_block().analyze(sc.Shape(L, d))
    module = TorchGPT2Block(n_head * d_head, n_head)
    check(report, module, {"L": t, "n_head": n_head, "d_head": d_head}, torch.randn(2, t, n_head * d_head))


@pytest.mark.parametrize("t, n_head, n_kv_head, d_head, d_ff", [(5, 4, 2, 4, 24), (16, 4, 1, 8, 40),
                                                               (9, 6, 3, 6, 50)])
def test_llama_block(t, n_head, n_kv_head, d_head, d_ff):
    report = llama_block().analyze(sc.Shape(L, d))
    module = TorchLlamaBlock(n_head, n_kv_head, d_head, d_ff)
    check(report, module, {"L": t, "n_head": n_head, "n_kv_head": n_kv_head, "d_head": d_head, "d_ff": d_ff},
          torch.randn(2, t, n_head * d_head))


@pytest.mark.parametrize("t, n_head, d_head, mlp_dim", [(5, 2, 4, 16), (17, 4, 8, 64), (50, 3, 6, 30)])
def test_vit_block(t, n_head, d_head, mlp_dim):
    report = vit_block().analyze(sc.Shape(L, d))
    module = TorchViTBlock(n_head * d_head, n_head, mlp_dim)
    torch.backends.mha.set_fastpath_enabled(False)  # its fused path hides the products from FlopCounterMode
    try:
        check(report, module, {"L": t, "n_head": n_head, "d_head": d_head, "d_ff": mlp_dim},
              torch.randn(2, t, n_head * d_head))
    finally:
        torch.backends.mha.set_fastpath_enabled(True)


@pytest.mark.parametrize("c, h, w", [(8, 7, 7), (16, 14, 9), (12, 20, 20)])
def test_convnext_block(c, h, w):
    report = convnext_block().analyze(sc.Shape(C, H, W))
    check(report, TorchConvNeXtBlock(c), {"C": c, "H": h, "W": w}, torch.randn(2, c, h, w))


def test_block_closed_forms_read_as_by_hand():
    """GPT-2's block in closed form: 12 d^2 + 13 d parameters; attention is 2 L^2 d MACs of the full square."""
    rep = gpt2_block().analyze(sc.Shape(L, d))
    assert (rep.total.params - (12 * d**2 + 13 * d)).expand() == 0
    assert (rep.total.ops.attn_macs - 2 * L**2 * d).expand() == 0
    assert (rep.total.macs - (12 * L * d**2 + 2 * L**2 * d)).expand() == 0


def test_causal_attention_is_a_convention_choice():
    """One GPT-2 block, three readings of its causal attention, each a rule of a convention (data):
    ``exact`` counts the triangle the kernel executes, ``flops2`` the full square (FlopCounterMode),
    and a Kaplan-style convention half the square."""
    rep = gpt2_block().analyze(sc.Shape(L, d))
    ops = rep.total.ops
    assert (ops.attn_macs - 2 * L**2 * d).expand() == 0  # Q K^T and scores x V, full square
    assert (ops.masked_macs - L * (L - 1) * d).expand() == 0  # the strict upper triangle of both products
    assert (rep.total.flops("flops2") - 2 * rep.total.macs).expand() == 0
    half = sc.Convention("half-causal", {"macs": 2, "attn_macs": -1})
    assert (rep.total.flops(half) - (24 * L * d**2 + 2 * L**2 * d)).expand() == 0
    # exact: the executed scores are L(L+1)/2 per head; at L = 4, 2 heads of 3, the scores' products alone
    numbers = rep.subs(L=4, n_head=2, d_head=3)
    attn = next(row for row in numbers.rows if row.kind == "ScaledDotProductAttention")
    assert attn.cost.ops.macs - attn.cost.ops.masked_macs == 2 * 2 * 10 * 3  # 2 products, 2 heads, 10 scores, e = 3
