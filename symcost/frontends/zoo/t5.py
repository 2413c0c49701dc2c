"""T5 (``T5ForConditionalGeneration`` / ``T5Model``): an encoder-decoder, every size an int or a symbol.

A network has one input, so T5's two, ``input_ids`` (``n_ctx`` of them, for
the encoder) and ``decoder_input_ids`` (``n_dec_ctx``), come as one sequence
``Shape(n_ctx + n_dec_ctx)``, split first (a view, no cost). The decoder gives
logits ``(n_dec_ctx, n_vocab)``, or its hidden states ``(n_dec_ctx, d_model)``
with ``lm_head=False`` (``T5Model``). Rows are
named as Hugging Face names the modules (``encoder.block.i.layer.0.SelfAttention.q``)::

    >>> from symcost import zoo
    >>> zoo.t5().analyze().total.params
    60506624

What T5 does its own way, and how it is counted:

- The norms are T5's LayerNorm: a scale, no bias, no mean subtracted (``RMSNorm``).
- No projection has a bias; attention has ``n_head`` heads of ``d_kv``
  (``n_head*d_kv`` need not be ``d_model``) and does not scale its scores.
- The relative position bias is one ``Embedding(n_buckets, n_head)`` in the
  first block of each stack, looked up on the bucket table (integer index
  math, a constant) once; every block then adds that ``(n_head, q, k)`` bias to
  its scores, as the additive mask of its attention (the decoder's causal mask
  folded in, as ``transformers`` hands it to SDPA). Cross-attention adds its zero bias.
- The blocks are one :class:`~symcost.networks.containers.Repeat` per stack
  (``n_layer``, ``n_dec_layer``), so each block has one input: a decoder block
  reads the encoder's output ``(n_ctx, d_model)`` and its bias as operands
  (constants), the tensors the encoder and the first block computed.
- ``ffn="relu"`` is T5's ``wi``, ReLU, ``wo``; ``ffn="gated-gelu"`` (T5 v1.1,
  Flan-T5) is ``gelu_tanh(wi_0 x) * wi_1 x`` then ``wo``.
- ``tied=True`` (T5): ``lm_head`` shares ``shared``'s weight (counted once) and
  the decoder's output is scaled by ``d_model**-1/2`` first; ``tied=False``
  (T5 v1.1): the head has its own weight, nothing is scaled.
"""

from __future__ import annotations

import sympy

from ...core.arguments import boolean
from ...core.counts import Params
from ...core.errors import InvalidArgumentError
from ...core.shape import Shape
from ...layers import (GELU, Add, Constant, Embedding, Linear, Mul, Permute, ReLU, RMSNorm, Scale,
                       ScaledDotProductAttention, Split)
from ...networks.containers import Model, Repeat
from ...networks.graph import Graph, Tied
from .transformers import _heads, _merged, _node, _sizes

#: The feed-forward kinds of ``transformers``' ``T5Config.feed_forward_proj`` that the zoo builds.
FFN = ("relu", "gated-gelu")


def _attention(prefix: str, source: str, keys: str, q_len: sympy.Expr, k_len: sympy.Expr, heads: sympy.Expr,
               d_kv: sympy.Expr, d: sympy.Expr) -> list:
    """T5Attention: q from ``source``, k and v from ``keys``, scores unscaled plus the bias, then ``o``."""
    inner = heads * d_kv
    return [
        _node(f"{prefix}.q", Linear(inner, bias=False), source),
        _node(f"{prefix}.k", Linear(inner, bias=False), keys),
        _node(f"{prefix}.v", Linear(inner, bias=False), keys),
        *_heads(f"{prefix}.q", f"{prefix}.q", q_len, heads, d_kv),
        *_heads(f"{prefix}.k", f"{prefix}.k", k_len, heads, d_kv),
        *_heads(f"{prefix}.v", f"{prefix}.v", k_len, heads, d_kv),
        _node(f"{prefix}.position_bias", Constant((heads, q_len, k_len))),
        _node(f"{prefix}.sdpa", ScaledDotProductAttention(scale=1), f"{prefix}.q_heads", f"{prefix}.k_heads",
              f"{prefix}.v_heads", f"{prefix}.position_bias"),
        *_merged(f"{prefix}.merged", f"{prefix}.sdpa", q_len, inner),
        _node(f"{prefix}.o", Linear(d, bias=False), f"{prefix}.merged"),
    ]


def _feed_forward(prefix: str, source: str, d: sympy.Expr, d_ff: sympy.Expr, ffn: str) -> list:
    """T5's DenseReluDense (ReLU) or DenseGatedActDense (gated GELU, tanh form); ends in ``{prefix}.wo``."""
    if ffn == "relu":
        return [_node(f"{prefix}.wi", Linear(d_ff, bias=False), source),
                _node(f"{prefix}.act", ReLU(), f"{prefix}.wi"),
                _node(f"{prefix}.wo", Linear(d, bias=False), f"{prefix}.act")]
    return [_node(f"{prefix}.wi_0", Linear(d_ff, bias=False), source),
            _node(f"{prefix}.act", GELU(approximate="tanh"), f"{prefix}.wi_0"),
            _node(f"{prefix}.wi_1", Linear(d_ff, bias=False), source),
            _node(f"{prefix}.gated", Mul(), f"{prefix}.act", f"{prefix}.wi_1"),
            _node(f"{prefix}.wo", Linear(d, bias=False), f"{prefix}.gated")]


def _bias(stack: str, length: sympy.Expr, buckets: sympy.Expr, heads: sympy.Expr) -> list:
    """The relative position bias of ``stack``'s first block: buckets (an index table) -> (heads, q, k)."""
    table = f"{stack}.block.0.layer.0.SelfAttention.relative_attention_bias"
    return [_node(f"{stack}.relative_position_bucket", Constant((length, length))),
            _node(table, Embedding(buckets, heads), f"{stack}.relative_position_bucket"),
            _node(f"{stack}.position_bias", Permute((0, 3, 1, 2)), table)]


def t5(n_layer: object = 6, d_model: object = 512, n_head: object = 8, d_kv: object = 64, d_ff: object = 2048,
       n_vocab: object = 32128, n_ctx: object = 512, n_dec_ctx: object = None, n_dec_layer: object = None,
       n_buckets: object = 32, *, ffn: str = "relu", tied: bool = True, lm_head: bool = True) -> Model:
    """T5: shared embedding, ``n_layer`` encoder blocks (self-attention, feed-forward) and ``n_dec_layer``
    decoder blocks (causal self-attention, cross-attention, feed-forward), pre-norm, relative position bias.
    ``n_dec_ctx`` and ``n_dec_layer`` default to ``n_ctx`` and ``n_layer``. Defaults: T5-small."""
    if not isinstance(ffn, str) or ffn not in FFN:
        raise InvalidArgumentError("t5", "ffn", f"must be one of {', '.join(FFN)}", ffn)
    boolean(tied, layer="t5", argument="tied")
    boolean(lm_head, layer="t5", argument="lm_head")
    s = _sizes("t5", n_layer=n_layer, d_model=d_model, n_head=n_head, d_kv=d_kv, d_ff=d_ff, n_vocab=n_vocab,
               n_ctx=n_ctx, n_dec_ctx=n_ctx if n_dec_ctx is None else n_dec_ctx,
               n_dec_layer=n_layer if n_dec_layer is None else n_dec_layer, n_buckets=n_buckets)
    d, heads, d_kv_, vocab, src, tgt = s["d_model"], s["n_head"], s["d_kv"], s["n_vocab"], s["n_ctx"], s["n_dec_ctx"]
    encoder_block = Graph([
        _node("layer.0.layer_norm", RMSNorm(d), "input"),
        *_attention("layer.0.SelfAttention", "layer.0.layer_norm", "layer.0.layer_norm", src, src, heads, d_kv_, d),
        _node("layer.0.add", Add(), "input", "layer.0.SelfAttention.o"),
        _node("layer.1.layer_norm", RMSNorm(d), "layer.0.add"),
        *_feed_forward("layer.1.DenseReluDense", "layer.1.layer_norm", d, s["d_ff"], ffn),
        _node("layer.1.add", Add(), "layer.0.add", "layer.1.DenseReluDense.wo"),
    ], output="layer.1.add")
    decoder_block = Graph([
        _node("layer.0.layer_norm", RMSNorm(d), "input"),
        *_attention("layer.0.SelfAttention", "layer.0.layer_norm", "layer.0.layer_norm", tgt, tgt, heads, d_kv_, d),
        _node("layer.0.add", Add(), "input", "layer.0.SelfAttention.o"),
        _node("layer.1.layer_norm", RMSNorm(d), "layer.0.add"),
        _node("encoder_hidden_states", Constant((src, d))),
        *_attention("layer.1.EncDecAttention", "layer.1.layer_norm", "encoder_hidden_states", tgt, src, heads,
                    d_kv_, d),
        _node("layer.1.add", Add(), "layer.0.add", "layer.1.EncDecAttention.o"),
        _node("layer.2.layer_norm", RMSNorm(d), "layer.1.add"),
        *_feed_forward("layer.2.DenseReluDense", "layer.2.layer_norm", d, s["d_ff"], ffn),
        _node("layer.2.add", Add(), "layer.1.add", "layer.2.DenseReluDense.wo"),
    ], output="layer.2.add")
    nodes = [
        _node("ids", Split((src, tgt), dim=1), "input"),  # input_ids, then decoder_input_ids
        _node("shared", Embedding(vocab, d), ("ids", 0)),  # encoder.embed_tokens is this module
        *_bias("encoder", src, s["n_buckets"], heads),
        _node("encoder.block", Repeat(encoder_block, s["n_layer"]), "shared"),
        _node("encoder.final_layer_norm", RMSNorm(d), "encoder.block"),
        _node("decoder.embed_tokens", Embedding(vocab, d), ("ids", 1), tied=Tied("shared")),
        *_bias("decoder", tgt, s["n_buckets"], heads),
        _node("decoder.block", Repeat(decoder_block, s["n_dec_layer"]), "decoder.embed_tokens"),
        _node("decoder.final_layer_norm", RMSNorm(d), "decoder.block"),
    ]
    output = "decoder.final_layer_norm"
    if lm_head and tied:
        nodes += [_node("scale_decoder_outputs", Scale(1 / sympy.sqrt(d)), output),
                  _node("lm_head", Linear(vocab, bias=False), "scale_decoder_outputs",
                        tied=Tied("shared", Params(weight=vocab * d)))]
        output = "lm_head"
    elif lm_head:
        nodes.append(_node("lm_head", Linear(vocab, bias=False), output))
        output = "lm_head"
    return Model(Graph(nodes, output=output), name="t5", input_shape=Shape(src + tgt))
