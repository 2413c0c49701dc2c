"""sc.zoo.gpt2 and sc.zoo.llama: derived once with symbols, checked against published parameter counts,
the closed form of GPT-2 by hand, and Hugging Face ``transformers`` models built from tiny configs."""

from __future__ import annotations

import sympy
import pytest

import symcost as sc
from symcost.core.errors import SymcostError
from symcost.symbols import symbol

l, d, a, kv, f, V, T = (symbol(n) for n in ("n_layer", "d_model", "n_head", "n_kv_head", "d_ff", "n_vocab", "n_ctx"))
SYMBOLS = {"n_layer": l, "d_model": d, "n_head": a, "n_vocab": V, "n_ctx": T}


@pytest.fixture(scope="module")
def gpt2_symbolic():
    return sc.zoo.gpt2(**SYMBOLS).analyze()


@pytest.fixture(scope="module")
def llama_symbolic():
    return sc.zoo.llama(**SYMBOLS, n_kv_head=kv, d_ff=f).analyze()


def test_gpt2_closed_form(gpt2_symbolic):
    """Embeddings V d + T d, n_layer blocks of 12 d^2 + 13 d, final LayerNorm 2 d; the tied head adds nothing."""
    params = gpt2_symbolic.total.params
    assert sympy.expand(params - (V * d + T * d + l * (12 * d**2 + 13 * d) + 2 * d)) == 0
    assert gpt2_symbolic.out_shape == sc.Shape(T, V)


@pytest.mark.parametrize("sizes, published", [
    ({"n_layer": 12, "d_model": 768, "n_head": 12, "n_vocab": 50257, "n_ctx": 1024}, 124_439_808),  # GPT-2 small
    ({"n_layer": 48, "d_model": 1600, "n_head": 25, "n_vocab": 50257, "n_ctx": 1024}, 1_557_611_200),  # GPT-2 XL
])
def test_gpt2_published_counts(gpt2_symbolic, sizes, published):
    assert gpt2_symbolic.subs(sizes).total.params == published


@pytest.mark.parametrize("sizes, published", [
    ({"n_layer": 32, "d_model": 4096, "n_head": 32, "n_kv_head": 32, "d_ff": 11008, "n_vocab": 32000,
      "n_ctx": 2048}, 6_738_415_616),  # LLaMA-7B
    ({"n_layer": 80, "d_model": 8192, "n_head": 64, "n_kv_head": 8, "d_ff": 28672, "n_vocab": 32000,
      "n_ctx": 4096}, 68_976_648_192),  # Llama-2-70B
])
def test_llama_published_counts(llama_symbolic, sizes, published):
    assert llama_symbolic.subs(sizes).total.params == published


def test_defaults_are_published_and_found_by_name():
    assert sc.zoo.get("GPT-2").analyze().total.params == 124_439_808
    assert sc.zoo.get("llama").analyze().total.params == 6_738_415_616
    assert {"gpt2", "llama"} <= set(sc.zoo.names())


def test_symbolic_layers_count_the_block_n_layer_times():
    """n_layer symbolic: one block row per kind, counted n_layer times; MACs linear in n_layer."""
    rep = sc.zoo.gpt2(n_layer=l, d_model=64, n_head=4, n_vocab=100, n_ctx=8).analyze()
    per_block = 8 * (12 * 64**2) + 2 * 8 * 8 * 64  # the four products of 12 d^2 per token, attention 2 T^2 d
    head = 8 * 64 * 100
    assert sympy.expand(rep.total.macs - (l * per_block + head)) == 0


@pytest.mark.parametrize("factory, sizes, argument", [
    (sc.zoo.gpt2, {"d_model": 30, "n_head": 4}, "d_model"),
    (sc.zoo.llama, {"d_model": 30, "n_head": 4}, "d_model"),
    (sc.zoo.llama, {"n_head": 32, "n_kv_head": 5}, "n_head"),
    (sc.zoo.gpt2, {"n_layer": 0}, "n_layer"),
])
def test_bad_sizes_raise_one_line(factory, sizes, argument):
    with pytest.raises(SymcostError, match=argument) as err:
        factory(**sizes)
    assert "\n" not in str(err.value)


# --------------------------------------------------------------------------
# Hugging Face transformers, tiny configs built locally (no weights downloaded)
# --------------------------------------------------------------------------
torch = pytest.importorskip("torch")


def _hf():
    return pytest.importorskip("transformers")


TINY_GPT2 = {"n_layer": 2, "d_model": 32, "n_head": 4, "n_vocab": 101}
TINY_LLAMA = {"n_layer": 2, "d_model": 32, "n_head": 4, "n_kv_head": 2, "d_ff": 40, "n_vocab": 101}


def _macs(model, t: int) -> int:
    from flop_counting import flop_macs
    ids = torch.randint(0, 101, (1, t), generator=torch.Generator().manual_seed(t))
    with torch.no_grad():
        return flop_macs(model, ids)


@pytest.fixture(scope="module")
def hf_gpt2():
    hf = _hf()
    config = hf.GPT2Config(n_layer=2, n_embd=32, n_head=4, vocab_size=101, n_positions=16, bos_token_id=0,
                           eos_token_id=0, attn_implementation="sdpa")
    return hf.GPT2LMHeadModel(config).eval()


@pytest.fixture(scope="module")
def hf_llama():
    hf = _hf()
    config = hf.LlamaConfig(num_hidden_layers=2, hidden_size=32, num_attention_heads=4, num_key_value_heads=2,
                            intermediate_size=40, vocab_size=101, max_position_embeddings=64, bos_token_id=0,
                            eos_token_id=0, attn_implementation="sdpa")
    return hf.LlamaForCausalLM(config).eval()


def test_gpt2_params_equal_huggingface(gpt2_symbolic, hf_gpt2):
    """The tied head's weight is counted once, as parameters() lists it once."""
    assert gpt2_symbolic.subs(**TINY_GPT2, n_ctx=16).total.params == sum(p.numel() for p in hf_gpt2.parameters())


def test_llama_params_equal_huggingface(llama_symbolic, hf_llama):
    assert llama_symbolic.subs(**TINY_LLAMA, n_ctx=64).total.params == sum(p.numel() for p in hf_llama.parameters())


@pytest.mark.parametrize("t", [5, 11])
def test_gpt2_macs_equal_huggingface(gpt2_symbolic, hf_gpt2, t):
    """Every product of a forward on (1, t) ids, the LM head's logits at all t positions included."""
    assert gpt2_symbolic.subs(**TINY_GPT2, n_ctx=t).total.macs == _macs(hf_gpt2, t)


@pytest.mark.parametrize("t", [5, 11])
def test_llama_macs_equal_huggingface(llama_symbolic, hf_llama, t):
    assert llama_symbolic.subs(**TINY_LLAMA, n_ctx=t).total.macs == _macs(hf_llama, t)
