"""Decoder-only transformers: GPT-2 and LLaMA, with every size an int or a symbol.

Both take token ids ``Shape(n_ctx)`` and give logits ``(n_ctx, n_vocab)``; the
``n_layer`` blocks are one :class:`~symcost.networks.containers.Repeat`, so a
symbolic ``n_layer`` counts the block ``n_layer`` times. Rows are named as
Hugging Face names the modules (``transformer.h.i.attn.c_attn``,
``model.layers.i.mlp.gate_proj``)::

    >>> from symcost import zoo
    >>> zoo.gpt2().analyze().total.params
    124439808
    >>> zoo.llama().analyze().total.params
    6738415616

The head size is ``d_model / n_head`` (``d_model`` must be a multiple of
``n_head``; with symbols it stays the quotient, which the reshapes and the
rotary tables take as is). GPT-2's LM head is tied to ``wte``: its row counts no
parameters, as ``GPT2LMHeadModel.parameters()`` lists the shared weight once.
Position tables count ``n_ctx`` positions: the input's length is the context.

``gpt2`` and ``llama`` are the forward of ``n_ctx`` tokens (a prefill); ``gpt2_decode`` and
``llama_decode`` are one decode step with a KV cache of ``n_cache`` tokens, whose cache rows carry
``role="kv_cache"`` (see :mod:`symcost.analysis.inference`). Each LM head is ``role="lm_head"``, which
the ``kaplan`` convention leaves out.
"""

from __future__ import annotations

import sympy

from ...core.arguments import positive_int
from ...core.counts import Params
from ...core.errors import InvalidArgumentError
from ...core.shape import Shape
from ...layers import (GELU, Add, Cat, Chunk, Constant, Embedding, LayerNorm, Linear, Mul, Neg, Parameter, Reshape,
                       RMSNorm, ScaledDotProductAttention, SiLU, Slice, Split, Transpose)
from ...networks.containers import Model, Repeat
from ...networks.graph import Graph, Node, Tied


def _sizes(model: str, **sizes: object) -> dict[str, sympy.Expr]:
    return {name: positive_int(value, layer=model, argument=name) for name, value in sizes.items()}


def _head_size(model: str, d_model: sympy.Expr, n_head: sympy.Expr) -> sympy.Expr:
    """``d_model / n_head``; an error where both are numbers and do not divide."""
    size = d_model / n_head
    if size.is_integer is False or (size.is_number and not size.is_integer):
        raise InvalidArgumentError(model, "d_model", f"must be a multiple of n_head={n_head}", d_model)
    return size


def _node(name: str, op: object, *inputs: object, **kwargs: object) -> Node:
    return Node(name, op, list(inputs), **kwargs)


def _heads(prefix: str, source: object, t: sympy.Expr, count: sympy.Expr, size: sympy.Expr) -> list[Node]:
    """(T, count*size) -> (count, T, size): the view and transpose before attention."""
    return [_node(f"{prefix}_view", Reshape((t, count, size)), source),
            _node(f"{prefix}_heads", Transpose(1, 2), f"{prefix}_view")]


def _merged(prefix: str, source: str, t: sympy.Expr, width: sympy.Expr) -> list[Node]:
    """(heads, T, size) -> (T, heads*size): the transpose and reshape after attention."""
    return [_node(f"{prefix}_t", Transpose(1, 2), source), _node(prefix, Reshape((t, width)), f"{prefix}_t")]


def _attention_inputs(prefix: str, k: str, v: str, cache: sympy.Expr | None, count: sympy.Expr,
                      size: sympy.Expr) -> tuple[list[Node], str, str]:
    """The keys and values attention reads: the new ones, or with a cache of ``cache`` tokens before them.

    The cache is an operand of ``count`` heads by ``cache`` positions (``role="kv_cache"``); the new keys and
    values are appended to it along the positions (the cache write, ``Cat`` with ``role="kv_cache"``)."""
    if cache is None:
        return [], k, v
    nodes = []
    for name, source in (("k", k), ("v", v)):
        nodes += [_node(f"{prefix}.{name}_past", Constant((count, cache, size), role="kv_cache")),
                  _node(f"{prefix}.{name}_cache", Cat(dim=2, role="kv_cache"), f"{prefix}.{name}_past", source)]
    return nodes, f"{prefix}.k_cache", f"{prefix}.v_cache"


def _gpt2(model: str, sizes: dict[str, sympy.Expr], t: sympy.Expr, cache: sympy.Expr | None) -> Model:
    """GPT-2 on ``t`` new tokens; with ``cache`` tokens already in the KV cache (then ``t`` is 1)."""
    d, heads, vocab = sizes["d_model"], sizes["n_head"], sizes["n_vocab"]
    e = _head_size(model, d, heads)
    cached, k, v = _attention_inputs("attn", "attn.k_heads", "attn.v_heads", cache, heads, e)
    block = Graph([
        _node("ln_1", LayerNorm(d), "input"),
        _node("attn.c_attn", Linear(3 * d), "ln_1"),
        _node("attn.qkv", Split(d, dim=2), "attn.c_attn"),
        *_heads("attn.q", ("attn.qkv", 0), t, heads, e), *_heads("attn.k", ("attn.qkv", 1), t, heads, e),
        *_heads("attn.v", ("attn.qkv", 2), t, heads, e),
        *cached,
        _node("attn.sdpa", ScaledDotProductAttention(is_causal=cache is None), "attn.q_heads", k, v),
        *_merged("attn.merged", "attn.sdpa", t, d),
        _node("attn.c_proj", Linear(d), "attn.merged"),
        _node("add_1", Add(), "input", "attn.c_proj"),
        _node("ln_2", LayerNorm(d), "add_1"),
        _node("mlp.c_fc", Linear(4 * d), "ln_2"),
        _node("mlp.act", GELU(approximate="tanh"), "mlp.c_fc"),
        _node("mlp.c_proj", Linear(d), "mlp.act"),
        _node("add_2", Add(), "add_1", "mlp.c_proj"),
    ], output="add_2")
    if cache is None:  # every position of the context: wpe(arange(n_ctx))
        positions = [_node("transformer.wpe", Parameter((t, d)))]
    else:  # the table holds the context after this step; the new token reads its last row
        positions = [_node("transformer.wpe.weight", Parameter((cache + 1, d))),
                     _node("transformer.wpe", Slice(1, start=-1), "transformer.wpe.weight")]
    body = Graph([
        _node("transformer.wte", Embedding(vocab, d), "input"),
        *positions,
        _node("transformer.embed", Add(), "transformer.wte", "transformer.wpe"),
        _node("transformer.h", Repeat(block, sizes["n_layer"]), "transformer.embed"),
        _node("transformer.ln_f", LayerNorm(d), "transformer.h"),
        _node("lm_head", Linear(vocab, bias=False, role="lm_head"), "transformer.ln_f",
              tied=Tied("transformer.wte", Params(weight=vocab * d))),
    ], output="lm_head")
    return Model(body, name=model, input_shape=Shape(t))


def gpt2(n_layer: object = 12, d_model: object = 768, n_head: object = 12, n_vocab: object = 50257,
         n_ctx: object = 1024) -> Model:
    """GPT-2 (``GPT2LMHeadModel``): pre-LayerNorm blocks, fused qkv, causal attention, GELU(tanh) MLP of
    ``4*d_model``, learned positions, final LayerNorm, LM head tied to ``wte``. Defaults: GPT-2 small.

    The forward of ``n_ctx`` tokens: a training step's forward, or the prefill of a prompt of ``n_ctx``
    tokens (its keys and values are what a KV cache stores, see :func:`gpt2_decode`)."""
    s = _sizes("gpt2", n_layer=n_layer, d_model=d_model, n_head=n_head, n_vocab=n_vocab, n_ctx=n_ctx)
    return _gpt2("gpt2", s, s["n_ctx"], None)


def gpt2_decode(n_layer: object = 12, d_model: object = 768, n_head: object = 12, n_vocab: object = 50257,
                n_cache: object = 1024) -> Model:
    """One decode step of GPT-2 with a KV cache: one new token attends to the ``n_cache`` cached keys and
    values and its own (``n_cache + 1``, no mask), as ``GPT2LMHeadModel`` with ``past_key_values`` of
    length ``n_cache`` runs it. Each layer's ``attn.k_past``/``attn.v_past`` rows are the cache read,
    ``attn.k_cache``/``attn.v_cache`` the cache with the new token's keys and values written
    (``role="kv_cache"``). The position table holds ``n_cache + 1`` positions."""
    s = _sizes("gpt2_decode", n_layer=n_layer, d_model=d_model, n_head=n_head, n_vocab=n_vocab, n_cache=n_cache)
    return _gpt2("gpt2_decode", s, sympy.Integer(1), s["n_cache"])


def _rotary(prefix: str, source: str, t: sympy.Expr, e: sympy.Expr) -> list[Node]:
    """x*cos + rotate_half(x)*sin on (heads, T, e); cos and sin are computed tables (constants)."""
    return [
        _node(f"{prefix}_cos", Constant((t, e))), _node(f"{prefix}_sin", Constant((t, e))),
        _node(f"{prefix}_halves", Chunk(2, dim=-1), source),
        _node(f"{prefix}_neg", Neg(), (f"{prefix}_halves", 1)),
        _node(f"{prefix}_rot", Cat(dim=-1), f"{prefix}_neg", (f"{prefix}_halves", 0)),
        _node(f"{prefix}_xcos", Mul(), source, f"{prefix}_cos"),
        _node(f"{prefix}_xsin", Mul(), f"{prefix}_rot", f"{prefix}_sin"),
        _node(f"{prefix}_rope", Add(), f"{prefix}_xcos", f"{prefix}_xsin"),
    ]


def _llama(model: str, sizes: dict[str, sympy.Expr], t: sympy.Expr, cache: sympy.Expr | None) -> Model:
    """LLaMA on ``t`` new tokens; with ``cache`` tokens already in the KV cache (then ``t`` is 1)."""
    d, heads, kv = sizes["d_model"], sizes["n_head"], sizes["n_kv_head"]
    e = _head_size(model, d, heads)
    group = heads / kv
    if group.is_integer is False or (group.is_number and not group.is_integer):
        raise InvalidArgumentError(model, "n_head", f"must be a multiple of n_kv_head={kv}", heads)
    cached, k, v = _attention_inputs("self_attn", "self_attn.k_rope", "self_attn.v_heads", cache, kv, e)
    block = Graph([
        _node("input_layernorm", RMSNorm(d), "input"),
        _node("self_attn.q_proj", Linear(d, bias=False), "input_layernorm"),
        _node("self_attn.k_proj", Linear(kv * e, bias=False), "input_layernorm"),
        _node("self_attn.v_proj", Linear(kv * e, bias=False), "input_layernorm"),
        *_heads("self_attn.q", "self_attn.q_proj", t, heads, e),
        *_heads("self_attn.k", "self_attn.k_proj", t, kv, e),
        *_heads("self_attn.v", "self_attn.v_proj", t, kv, e),
        *_rotary("self_attn.q", "self_attn.q_heads", t, e), *_rotary("self_attn.k", "self_attn.k_heads", t, e),
        *cached,
        _node("self_attn.sdpa", ScaledDotProductAttention(is_causal=cache is None, enable_gqa=True),
              "self_attn.q_rope", k, v),
        *_merged("self_attn.merged", "self_attn.sdpa", t, d),
        _node("self_attn.o_proj", Linear(d, bias=False), "self_attn.merged"),
        _node("add_1", Add(), "input", "self_attn.o_proj"),
        _node("post_attention_layernorm", RMSNorm(d), "add_1"),
        _node("mlp.gate_proj", Linear(sizes["d_ff"], bias=False), "post_attention_layernorm"),
        _node("mlp.up_proj", Linear(sizes["d_ff"], bias=False), "post_attention_layernorm"),
        _node("mlp.act_fn", SiLU(), "mlp.gate_proj"),
        _node("mlp.gated", Mul(), "mlp.act_fn", "mlp.up_proj"),
        _node("mlp.down_proj", Linear(d, bias=False), "mlp.gated"),
        _node("add_2", Add(), "add_1", "mlp.down_proj"),
    ], output="add_2")
    body = Graph([
        _node("model.embed_tokens", Embedding(sizes["n_vocab"], d), "input"),
        _node("model.layers", Repeat(block, sizes["n_layer"]), "model.embed_tokens"),
        _node("model.norm", RMSNorm(d), "model.layers"),
        _node("lm_head", Linear(sizes["n_vocab"], bias=False, role="lm_head"), "model.norm"),
    ], output="lm_head")
    return Model(body, name=model, input_shape=Shape(t))


def llama(n_layer: object = 32, d_model: object = 4096, n_head: object = 32, n_kv_head: object = 32,
          d_ff: object = 11008, n_vocab: object = 32000, n_ctx: object = 2048) -> Model:
    """LLaMA (``LlamaForCausalLM``): RMSNorm, rotary positions, grouped-query causal attention
    (``n_head`` queries share ``n_kv_head`` keys and values), SwiGLU MLP, no biases, untied LM head.
    Defaults: LLaMA-7B. The forward (or prefill) of ``n_ctx`` tokens; one decode step: :func:`llama_decode`."""
    s = _sizes("llama", n_layer=n_layer, d_model=d_model, n_head=n_head, n_kv_head=n_kv_head, d_ff=d_ff,
               n_vocab=n_vocab, n_ctx=n_ctx)
    return _llama("llama", s, s["n_ctx"], None)


def llama_decode(n_layer: object = 32, d_model: object = 4096, n_head: object = 32, n_kv_head: object = 32,
                 d_ff: object = 11008, n_vocab: object = 32000, n_cache: object = 2048) -> Model:
    """One decode step of LLaMA with a KV cache of ``n_cache`` tokens (``n_kv_head`` heads each), as
    ``LlamaForCausalLM`` with ``past_key_values`` runs it; rows as in :func:`gpt2_decode`."""
    s = _sizes("llama_decode", n_layer=n_layer, d_model=d_model, n_head=n_head, n_kv_head=n_kv_head, d_ff=d_ff,
               n_vocab=n_vocab, n_cache=n_cache)
    return _llama("llama_decode", s, sympy.Integer(1), s["n_cache"])
