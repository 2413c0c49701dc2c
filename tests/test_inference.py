"""Inference with a KV cache (zoo.gpt2_decode, zoo.llama_decode, symcost.analysis.inference) and the
analyses papers quote (symcost.analysis.llm).

References: closed forms derived by hand below; Hugging Face ``transformers`` models built from tiny
configs (no weights), whose decode step with a cache FlopCounterMode counts (CPU attention made visible,
tests/flop_counting.py) and whose cache tensors give numel * element_size.
"""

from __future__ import annotations

import pytest
import sympy

import symcost as sc
from symcost.core.errors import SymcostError
from symcost.symbols import symbol

l, d, a, kv, f, V, T, C = (symbol(n) for n in
                           ("n_layer", "d_model", "n_head", "n_kv_head", "d_ff", "n_vocab", "n_ctx", "n_cache"))


@pytest.fixture(scope="module")
def gpt2_decode():
    return sc.zoo.gpt2_decode(n_layer=l, d_model=d, n_head=a, n_vocab=V, n_cache=C).analyze()


@pytest.fixture(scope="module")
def llama_decode():
    return sc.zoo.llama_decode(n_layer=l, d_model=d, n_head=a, n_kv_head=kv, d_ff=f, n_vocab=V, n_cache=C).analyze()


@pytest.fixture(scope="module")
def gpt2():
    return sc.zoo.gpt2(n_layer=l, d_model=d, n_head=a, n_vocab=V, n_ctx=T).analyze()


# --------------------------------------------------------------------------
# Closed forms, by hand
# --------------------------------------------------------------------------
def test_gpt2_decode_closed_form(gpt2_decode):
    """One token: the four products 12 d^2 per layer, attention over n_cache + 1 keys (q.k and p@v,
    d each), the LM head V d. Parameters are the model's with n_cache + 1 positions."""
    assert sympy.expand(gpt2_decode.total.macs - (l * (12 * d**2 + 2 * (C + 1) * d) + V * d)) == 0
    params = V * d + (C + 1) * d + l * (12 * d**2 + 13 * d) + 2 * d
    assert sympy.expand(gpt2_decode.total.params - params) == 0
    assert gpt2_decode.out_shape == sc.Shape(1, V)


def test_llama_decode_closed_form(llama_decode):
    """q and o: 2 d^2; k and v: 2 d n_kv_head d/n_head; SwiGLU 3 d d_ff; attention 2 (n_cache + 1) d
    (every query head reads its group's keys); the LM head V d."""
    per_layer = 2 * d**2 + 2 * d * kv * d / a + 3 * d * f + 2 * (C + 1) * d
    assert sympy.simplify(llama_decode.total.macs - (l * per_layer + V * d)) == 0


def test_cache_traffic_is_the_cache_read_and_one_token_written(llama_decode):
    """Reads the n_cache cached keys and values (n_kv_head heads of d/n_head), writes one token's."""
    traffic = sc.cache_traffic(llama_decode, "bfloat16")
    assert sympy.simplify(traffic.read - 2 * l * kv * (d / a) * C * 2) == 0
    assert sympy.simplify(traffic.written - 2 * l * kv * (d / a) * 2) == 0
    assert sympy.simplify(traffic.read - sc.kv_cache_bytes(l, kv, d / a, C, "bfloat16")) == 0


def test_kv_cache_bytes_published_sizes():
    """LLaMA-7B (MHA, 32 layers of 32 heads of 128) at 4096 tokens in fp16: 2 GiB; Llama-2-70B (GQA, 8 kv
    heads) 1.25 GiB; an MQA 70B shape 1/8 of that."""
    assert sc.kv_cache_bytes(32, sc.kv_heads(32, "mha"), 128, 4096, "float16") == 2 * 2**30
    assert sc.kv_cache_bytes(80, sc.kv_heads(64, "gqa", group=8), 128, 4096, "bfloat16") == 5 * 2**28
    assert sc.kv_cache_bytes(80, sc.kv_heads(64, "mqa"), 128, 4096, "bfloat16") == 5 * 2**25
    assert sc.kv_cache_bytes(80, 8, 128, 4096, "float8_e4m3fn", batch=4) == 5 * 2**29


@pytest.mark.parametrize("call, argument", [
    (lambda: sc.kv_heads(32, "gqa", group=5), "group"),
    (lambda: sc.kv_heads(32, "gqa"), "group"),
    (lambda: sc.kv_heads(32, "mla"), "attention"),
    (lambda: sc.kv_cache_bytes(2, 2, 8, 0), "n_tokens"),
    (lambda: sc.kv_cache_bytes(2, 2, 8, 4, "float12"), "dtype"),
    (lambda: sc.zoo.gpt2_decode(n_cache=0), "n_cache"),
    (lambda: sc.zoo.llama_decode(n_head=32, n_kv_head=5), "n_head"),
    (lambda: sc.cache_traffic(sc.zoo.gpt2(n_layer=1, d_model=8, n_head=2, n_vocab=5, n_ctx=3).analyze()), "report"),
])
def test_bad_inference_arguments_raise_one_line(call, argument):
    with pytest.raises(SymcostError, match=argument) as err:
        call()
    assert "\n" not in str(err.value)


# --------------------------------------------------------------------------
# Analysis papers quote
# --------------------------------------------------------------------------
def test_attention_crossovers(gpt2):
    """Attention's products (4 n_ctx^2 d per layer, full square) equal the MLP's (16 n_ctx d^2) at
    n_ctx = 4 d_model; Kaplan's causal half at 8 d_model; Kaplan's remark: attention equals all weight
    matrices (24 n_ctx d^2 per layer, 2N per token) at n_ctx = 12 d_model."""
    assert sc.crossover(gpt2, "ScaledDotProductAttention", "mlp.", T, "palm") == 4 * d
    assert sc.crossover(gpt2, "ScaledDotProductAttention", "mlp.", T, "kaplan") == 8 * d
    weights = lambda row: row.kind == "Linear" and row.cost.layer.role != "lm_head"  # noqa: E731
    assert sc.crossover(gpt2, "ScaledDotProductAttention", weights, T, "kaplan") == 12 * d


def test_attention_fraction_by_substitution(gpt2):
    """PaLM's count: attention 4 l T^2 d of T (2 (12 l d^2 + V d) + 4 l T d); at GPT-2 small, T = 1024:
    24576 / 185425, typed in from 2*1024*12 / (12*768*12 + 2*1024*12 + 50257)."""
    fraction = sc.attention_fraction(gpt2, "palm")
    expected = 4 * l * T**2 * d / (T * (2 * (12 * l * d**2 + V * d) + 4 * l * T * d))
    assert sympy.simplify(fraction - expected) == 0
    small = {l: 12, d: 768, a: 12, V: 50257, T: 1024}
    assert fraction.subs(small) == sympy.Rational(24576, 185425)
    assert sympy.limit(fraction, T, sympy.oo) == 1


def test_ratio_to_2nt(gpt2):
    """Kaplan per sequence over 2 N T (N = 12 l d^2): 1 + n_ctx/(12 d_model); PaLM adds the LM head:
    1 + n_vocab/(12 n_layer d_model) + n_ctx/(6 d_model); exact tends to 1 as d_model grows."""
    N = 12 * l * d**2
    assert sympy.simplify(sc.ratio_to_2nt(gpt2, N, T, "kaplan") - (1 + T / (12 * d))) == 0
    assert sympy.simplify(sc.ratio_to_2nt(gpt2, N, T, "palm") - (1 + V / (12 * l * d) + T / (6 * d))) == 0
    assert sympy.limit(sc.ratio_to_2nt(gpt2, N, T), d, sympy.oo) == 1
    with pytest.raises(SymcostError, match="n_params"):  # text is never parsed
        sc.ratio_to_2nt(gpt2, "12*n_layer*d_model**2", T)


def test_part_selects_rows_or_refuses(gpt2):
    with pytest.raises(SymcostError, match="part"):
        sc.part_flops(gpt2, "Conv2d")


# --------------------------------------------------------------------------
# Hugging Face transformers: a decode step with a cache, tiny configs (no weights downloaded)
# --------------------------------------------------------------------------
torch = pytest.importorskip("torch")


def _hf():
    return pytest.importorskip("transformers")


def _gpt2(hf, dtype=None):
    config = hf.GPT2Config(n_layer=2, n_embd=32, n_head=4, vocab_size=101, n_positions=64, bos_token_id=0,
                           eos_token_id=0, attn_implementation="sdpa")
    return hf.GPT2LMHeadModel(config).eval()


def _llama(hf, n_kv_head):
    config = hf.LlamaConfig(num_hidden_layers=2, hidden_size=32, num_attention_heads=4,
                            num_key_value_heads=n_kv_head, intermediate_size=40, vocab_size=101,
                            max_position_embeddings=64, bos_token_id=0, eos_token_id=0, attn_implementation="sdpa")
    return hf.LlamaForCausalLM(config).eval()


def _prefill(model, t: int):
    ids = torch.randint(0, 101, (1, t), generator=torch.Generator().manual_seed(t))
    with torch.no_grad():
        return model(ids, use_cache=True).cache


def _cache_bytes(cache) -> int:
    return sum(t.numel() * t.element_size() for layer in cache.layers for t in (layer.keys, layer.values))


def _decode_counts(model, cache):
    """FlopCounterMode's MACs of one decode step, in total and per module (CPU attention counted)."""
    from torch.utils.flop_counter import FlopCounterMode
    from flop_counting import cpu_flash_counted
    token = torch.tensor([[7]])
    with torch.no_grad(), cpu_flash_counted(), FlopCounterMode(display=False) as mode:
        model(token, cache=cache, use_cache=True)
    per_module = {name: sum(ops.values()) // 2 for name, ops in mode.get_flop_counts().items()}
    return mode.get_total_flops() // 2, per_module


TINY_GPT2 = {"n_layer": 2, "d_model": 32, "n_head": 4, "n_vocab": 101}
TINY_LLAMA = {"n_layer": 2, "d_model": 32, "n_head": 4, "d_ff": 40, "n_vocab": 101}


@pytest.mark.parametrize("n_cache", [1, 9])
def test_gpt2_decode_macs_equal_huggingface(gpt2_decode, n_cache):
    model = _gpt2(_hf())
    total, per_module = _decode_counts(model, _prefill(model, n_cache))
    rep = gpt2_decode.subs(**TINY_GPT2, n_cache=n_cache)
    assert rep.total.macs == total
    # per layer: the rows of one block against the module transformer.h.0
    block = sum(row.cost.macs for row in rep.rows if row.name.startswith("transformer.h."))
    assert block == per_module["GPT2LMHeadModel.transformer.h.0"]
    attn = sum(row.cost.macs for row in rep.rows if row.name.startswith("transformer.h.i.attn."))
    assert attn == per_module["GPT2LMHeadModel.transformer.h.0.attn"]


@pytest.mark.parametrize("n_kv_head, n_cache", [(4, 6), (2, 9), (1, 3)])  # MHA, GQA, MQA
def test_llama_decode_macs_equal_huggingface(llama_decode, n_kv_head, n_cache):
    model = _llama(_hf(), n_kv_head)
    total, per_module = _decode_counts(model, _prefill(model, n_cache))
    rep = llama_decode.subs(**TINY_LLAMA, n_kv_head=n_kv_head, n_cache=n_cache)
    assert rep.total.macs == total
    attn = sum(row.cost.macs for row in rep.rows if row.name.startswith("model.layers.i.self_attn."))
    assert attn == per_module["LlamaForCausalLM.model.layers.0.self_attn"]


@pytest.mark.parametrize("n_kv_head, dtype", [(4, "float32"), (2, "bfloat16"), (1, "float16")])
def test_kv_cache_bytes_equal_huggingface_cache_tensors(llama_decode, n_kv_head, dtype):
    """After a prefill of 11 tokens the cache tensors hold kv_cache_bytes(..., 11); the decode step's
    read is that cache and its write one more token."""
    model = _llama(_hf(), n_kv_head).to(getattr(torch, dtype))
    cache = _prefill(model, 11)
    before = _cache_bytes(cache)
    assert sc.kv_cache_bytes(2, n_kv_head, 8, 11, dtype) == before
    traffic = sc.cache_traffic(llama_decode.subs(**TINY_LLAMA, n_kv_head=n_kv_head, n_cache=11), dtype)
    assert traffic.read == before
    with torch.no_grad():
        model(torch.tensor([[7]]), cache=cache, use_cache=True)
    assert traffic.written == _cache_bytes(cache) - before


def test_gpt2_kv_cache_bytes_equal_huggingface_cache_tensors():
    model = _gpt2(_hf())
    assert sc.kv_cache_bytes(2, 4, 8, 5, "float32") == _cache_bytes(_prefill(model, 5))
