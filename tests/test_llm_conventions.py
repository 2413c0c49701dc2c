"""The LLM presets ``kaplan``, ``chinchilla`` and ``palm`` are identities with their papers' formulas.

Each paper's formula is typed in below from the paper (Kaplan et al. 2020, Table 1; Hoffmann et al.
2022, Appendix F; Chowdhery et al. 2022, Appendix B), in the paper's own variables, and compared
with symcost's count on ``zoo.gpt2`` / ``zoo.llama`` in symbols: the difference simplifies to 0, or to
the exact difference the architecture explains (LLaMA's SwiGLU has a third matrix, its grouped-query
K and V projections are narrower than Kaplan's and Chinchilla's ``d_attn``).
"""

from __future__ import annotations

import pytest
import sympy

import symcost as sc
from symcost.core.conventions import PRESETS
from symcost.core.errors import SymcostError
from symcost.symbols import symbol

l, d, a, kv, f, V, T = (symbol(n) for n in ("n_layer", "d_model", "n_head", "n_kv_head", "d_ff", "n_vocab", "n_ctx"))


@pytest.fixture(scope="module")
def gpt2():
    return sc.zoo.gpt2(n_layer=l, d_model=d, n_head=a, n_vocab=V, n_ctx=T).analyze()


@pytest.fixture(scope="module")
def llama():
    return sc.zoo.llama(n_layer=l, d_model=d, n_head=a, n_kv_head=kv, d_ff=f, n_vocab=V, n_ctx=T).analyze()


def zero(expr) -> bool:
    return sympy.simplify(expr) == 0


# --- Kaplan et al. 2020, Table 1 (per token; n_ctx tokens per sequence) --------------------------------
def kaplan_N(n_layer, d_model, d_attn, d_ff):
    return 2 * d_model * n_layer * (2 * d_attn + d_ff)


def kaplan_C_forward(N, n_layer, n_ctx, d_attn):
    return 2 * N + 2 * n_layer * n_ctx * d_attn


def test_kaplan_is_table_1_on_gpt2(gpt2):
    """GPT-2: d_attn = d_model, d_ff = 4 d_model; per sequence n_ctx * C_forward."""
    N = kaplan_N(l, d, d, 4 * d)
    assert zero(gpt2.total.flops("kaplan") - T * kaplan_C_forward(N, l, T, d))


def test_kaplan_on_llama_differs_by_swiglu_and_gqa(llama):
    """LLaMA has a third MLP matrix (+2 d d_ff per token and layer) and K, V of n_kv_head heads
    (-2*2*d*(d - n_kv_head*d/n_head)); otherwise Table 1 holds: C_forward = 2N + 2 n_layer n_ctx d_attn
    with N its non-embedding matrices."""
    N = kaplan_N(l, d, d, f)
    extra = l * (2 * d * f - 4 * d * (d - kv * d / a))
    assert zero(llama.total.flops("kaplan") - T * (kaplan_C_forward(N, l, T, d) + extra))


def test_kaplan_excludes_the_lm_head_by_its_role_also_after_substitution(gpt2):
    """The de-embedding is excluded by the rule Linear[role=lm_head], data that survives subs."""
    sizes = {"n_layer": 2, "d_model": 8, "n_head": 2, "n_vocab": 11, "n_ctx": 5}
    rep = gpt2.subs(sizes)
    N = kaplan_N(2, 8, 8, 32)
    assert rep.total.flops("kaplan") == 5 * (2 * N + 2 * 2 * 5 * 8) == 16160
    head = next(row for row in rep.rows if row.name == "lm_head")
    assert head.flops("kaplan") == 0 and head.flops("palm") == 2 * 5 * 8 * 11


# --- Hoffmann et al. 2022 (Chinchilla), Appendix F, forward pass --------------------------------------
def chinchilla_forward(seq_len, vocab_size, d_model, num_heads, key_size, ffw_size, num_layers):
    embeddings = 2 * seq_len * vocab_size * d_model
    attention = (2 * 3 * seq_len * d_model * (key_size * num_heads)      # key, query and value projections
                 + 2 * seq_len * seq_len * (key_size * num_heads)        # key @ query logits
                 + 3 * num_heads * seq_len * seq_len                     # softmax
                 + 2 * seq_len * seq_len * (key_size * num_heads)        # softmax @ query reductions
                 + 2 * seq_len * (key_size * num_heads) * d_model)       # final linear
    dense = 2 * seq_len * (d_model * ffw_size + d_model * ffw_size)
    logits = 2 * seq_len * d_model * vocab_size
    return embeddings + num_layers * (attention + dense) + logits


def test_chinchilla_is_appendix_f_on_gpt2(gpt2):
    expected = chinchilla_forward(T, V, d, a, d / a, 4 * d, l)
    assert zero(gpt2.total.flops("chinchilla") - expected)


def test_chinchilla_on_llama_differs_by_swiglu_and_gqa(llama):
    expected = chinchilla_forward(T, V, d, a, d / a, f, l)
    extra = l * (2 * T * d * f - 2 * 2 * T * d * (d - kv * d / a))
    assert zero(llama.total.flops("chinchilla") - (expected + extra))


def test_chinchilla_table_a4_first_row(gpt2):
    """L=10, d=640, ffw=2560, 10 heads of 64, sequence 2048, vocabulary 32,000: the forward pass without
    embeddings and logits, times 3 (forward + backward), is 929,877,196,800 per sequence (Table A4)."""
    rep = gpt2.subs(n_layer=10, d_model=640, n_head=10, n_ctx=2048, n_vocab=32000)
    body = sum(row.flops("chinchilla") for row in rep.rows if row.name not in ("transformer.wte", "lm_head"))
    assert 3 * body == 929_877_196_800
    assert rep.total.flops("chinchilla") - body == 2 * (2 * 2048 * 32000 * 640)  # embeddings + logits


# --- Chowdhery et al. 2022 (PaLM), Appendix B -----------------------------------------------------------
def palm_training_per_token(N, L, H, Q, T_):
    return 6 * N + 12 * L * H * Q * T_


def test_palm_is_the_forward_third_of_6N_12LHQT(gpt2, llama):
    """N: every weight matrix a token passes through, the (tied) LM head included; forward = 1/3."""
    n_gpt2 = l * 12 * d**2 + V * d
    assert zero(gpt2.total.flops("palm") - T * palm_training_per_token(n_gpt2, l, a, d / a, T) / 3)
    n_llama = l * (2 * d**2 + 2 * d * kv * d / a + 3 * d * f) + V * d
    assert zero(llama.total.flops("palm") - T * palm_training_per_token(n_llama, l, a, d / a, T) / 3)


def test_palm_n_is_the_parameter_count_less_what_no_matmul_uses(gpt2):
    """For GPT-2 PaLM's N is the parameter count less the position table, the biases and the norms."""
    sizes = {"n_layer": 12, "d_model": 768, "n_head": 12, "n_vocab": 50257, "n_ctx": 1024}
    rep = gpt2.subs(sizes)
    biases_norms = 12 * (3 * 768 + 768 + 4 * 768 + 768 + 4 * 768) + 2 * 768
    N = 124_439_808 - 1024 * 768 - biases_norms
    assert rep.total.flops("palm") == 1024 * (2 * N + 4 * 12 * 12 * 64 * 1024)


def test_exact_counts_the_executed_triangle(gpt2):
    """exact counts the causal triangle: its attention products are n_ctx(n_ctx+1)/2 scores per head."""
    attn = next(row for row in gpt2.rows if row.kind == "ScaledDotProductAttention")
    ops = attn.cost.ops
    assert zero(ops.attn_scores - a * T**2)
    assert zero((ops.macs - ops.masked_macs) - 2 * a * T * (T + 1) / 2 * (d / a))


def test_presets_are_documented():
    for name in ("kaplan", "chinchilla", "palm"):
        assert "20" in PRESETS[name].description  # names the paper and its year


def test_embedding_lookup_macs_count_only_under_chinchilla():
    c = sc.Embedding(7, 3).cost(sc.Shape(5))
    assert c.ops.lookup_macs == 5 * 7 * 3
    assert (c.flops(), c.flops("macs"), c.flops("flops2"), c.flops("chinchilla")) == (0, 0, 0, 2 * 5 * 7 * 3)


def test_chinchilla_counts_an_explicit_softmax_as_the_fused_kernel():
    """softmax(q k^T) v written as MatMul, Softmax, MatMul counts what the fused kernel counts under
    chinchilla: 2 per product MAC (2 H T^2 e) and 3 per score (H T^2)."""
    H, e = symbol("H"), symbol("e")
    explicit = sc.Graph([
        sc.Node("k_t", sc.Transpose(2, 3), ["input"]),
        sc.Node("scores", sc.MatMul(), ["input", "k_t"]),
        sc.Node("p", sc.Softmax(dim=-1), ["scores"]),
        sc.Node("out", sc.MatMul(), ["p", "input"]),
    ], output="out")  # q = k = v: self-attention on one tensor
    shape = sc.Shape(H, T, e)
    fused = sc.ScaledDotProductAttention().cost(shape, shape, shape)
    expected = 2 * 2 * H * T**2 * e + 3 * H * T**2
    assert zero(fused.flops("chinchilla") - expected)
    assert zero(explicit.analyze(shape).total.flops("chinchilla") - expected)


@pytest.mark.parametrize("role", [5, "lm head", ""])
def test_a_role_a_selector_cannot_name_is_refused(role):
    with pytest.raises(SymcostError, match="role") as err:
        sc.Linear(3, role=role).cost(sc.Shape(4))
    assert "\n" not in str(err.value)


def test_megatron_training_formula_is_palm_forward_recomputed(gpt2):
    """Narayanan et al. 2021 (Megatron-LM), training FLOPs per batch with activation recomputation:
    96 B s l h^2 (1 + s/(6h) + V/(16 l h)). It is 4 forwards of the blocks (forward, recomputed forward,
    backward twice) and 3 of the LM head (not recomputed), each counted as ``palm`` counts it."""
    B = 1
    megatron = 96 * B * T * l * d**2 * (1 + T / (6 * d) + V / (16 * l * d))
    head = next(row for row in gpt2.rows if row.name == "lm_head").flops("palm")
    blocks = gpt2.total.flops("palm") - head
    assert zero(megatron - (4 * blocks + 3 * head))
