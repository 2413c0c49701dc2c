"""BERT (``BertModel`` / ``BertForMaskedLM``): a post-LayerNorm encoder, every size an int or a symbol.

Token ids ``Shape(n_ctx)`` in, hidden states ``(n_ctx, d_model)`` out, or the
pooled ``(d_model,)`` with ``pooler=True`` (the default, as ``BertModel``), or
logits ``(n_ctx, n_vocab)`` with ``mlm_head=True`` (``BertForMaskedLM``, which
has no pooler: give ``pooler=False``). The ``n_layer`` blocks are one
:class:`~symcost.networks.containers.Repeat`. Rows are named as Hugging Face
names the modules (``encoder.layer.i.attention.self.query``)::

    >>> from symcost import zoo
    >>> zoo.bert().analyze().total.params
    109482240
    >>> zoo.bert(pooler=False, mlm_head=True).analyze().total.params
    109514298

The position table holds ``n_positions`` rows (512 in BERT, default ``n_ctx``)
whatever the input's length: the positions ``0..n_ctx-1`` and the token types
(all 0, as ``BertModel`` fills them when none are given) are index tables
(constants) looked up in ``position_embeddings`` and ``token_type_embeddings``.
The MLM decoder's weight is tied to ``word_embeddings`` (counted once, as
``parameters()`` lists it once); its bias is its own.
"""

from __future__ import annotations

from ...core.arguments import boolean
from ...core.counts import Params
from ...core.errors import InvalidArgumentError
from ...core.shape import Shape
from ...layers import (GELU, Add, Constant, Embedding, LayerNorm, Linear, ScaledDotProductAttention, Select,
                       Tanh)
from ...networks.containers import Model, Repeat
from ...networks.graph import Graph, Tied
from .transformers import _head_size, _heads, _merged, _node, _sizes

#: BERT's LayerNorm epsilon (``layer_norm_eps``); it changes no count.
EPS = 1e-12


def bert(n_layer: object = 12, d_model: object = 768, n_head: object = 12, d_ff: object = 3072,
         n_vocab: object = 30522, n_ctx: object = 512, n_type: object = 2, n_positions: object = None, *,
         pooler: bool = True, mlm_head: bool = False) -> Model:
    """BERT: learned positions and token types, post-LayerNorm blocks (self-attention, GELU MLP of ``d_ff``),
    a pooler (dense + tanh on the first token) and optionally the MLM head. Defaults: BERT-base (uncased)."""
    boolean(pooler, layer="bert", argument="pooler")
    boolean(mlm_head, layer="bert", argument="mlm_head")
    if pooler and mlm_head:
        raise InvalidArgumentError("bert", "mlm_head", "needs pooler=False (BertForMaskedLM has no pooler)", True)
    s = _sizes("bert", n_layer=n_layer, d_model=d_model, n_head=n_head, d_ff=d_ff, n_vocab=n_vocab, n_ctx=n_ctx,
               n_type=n_type, n_positions=n_ctx if n_positions is None else n_positions)
    d, heads, t, vocab = s["d_model"], s["n_head"], s["n_ctx"], s["n_vocab"]
    e = _head_size("bert", d, heads)
    block = Graph([
        _node("attention.self.query", Linear(d), "input"),
        _node("attention.self.key", Linear(d), "input"),
        _node("attention.self.value", Linear(d), "input"),
        *_heads("attention.self.q", "attention.self.query", t, heads, e),
        *_heads("attention.self.k", "attention.self.key", t, heads, e),
        *_heads("attention.self.v", "attention.self.value", t, heads, e),
        _node("attention.self.sdpa", ScaledDotProductAttention(), "attention.self.q_heads",
              "attention.self.k_heads", "attention.self.v_heads"),
        *_merged("attention.self.merged", "attention.self.sdpa", t, d),
        _node("attention.output.dense", Linear(d), "attention.self.merged"),
        _node("attention.output.add", Add(), "attention.output.dense", "input"),
        _node("attention.output.LayerNorm", LayerNorm(d, eps=EPS), "attention.output.add"),
        _node("intermediate.dense", Linear(s["d_ff"]), "attention.output.LayerNorm"),
        _node("intermediate.intermediate_act_fn", GELU(), "intermediate.dense"),
        _node("output.dense", Linear(d), "intermediate.intermediate_act_fn"),
        _node("output.add", Add(), "output.dense", "attention.output.LayerNorm"),
        _node("output.LayerNorm", LayerNorm(d, eps=EPS), "output.add"),
    ], output="output.LayerNorm")
    nodes = [
        _node("embeddings.word_embeddings", Embedding(vocab, d), "input"),
        _node("embeddings.token_type_ids", Constant((t,))),
        _node("embeddings.token_type_embeddings", Embedding(s["n_type"], d), "embeddings.token_type_ids"),
        _node("embeddings.add_types", Add(), "embeddings.word_embeddings", "embeddings.token_type_embeddings"),
        _node("embeddings.position_ids", Constant((t,))),
        _node("embeddings.position_embeddings", Embedding(s["n_positions"], d), "embeddings.position_ids"),
        _node("embeddings.add_positions", Add(), "embeddings.add_types", "embeddings.position_embeddings"),
        _node("embeddings.LayerNorm", LayerNorm(d, eps=EPS), "embeddings.add_positions"),
        _node("encoder.layer", Repeat(block, s["n_layer"]), "embeddings.LayerNorm"),
    ]
    output = "encoder.layer"
    if pooler:
        nodes += [_node("pooler.first_token", Select(1, 0), "encoder.layer"),
                  _node("pooler.dense", Linear(d), "pooler.first_token"),
                  _node("pooler.activation", Tanh(), "pooler.dense")]
        output = "pooler.activation"
    if mlm_head:
        nodes += [_node("cls.predictions.transform.dense", Linear(d), "encoder.layer"),
                  _node("cls.predictions.transform.transform_act_fn", GELU(), "cls.predictions.transform.dense"),
                  _node("cls.predictions.transform.LayerNorm", LayerNorm(d, eps=EPS),
                        "cls.predictions.transform.transform_act_fn"),
                  _node("cls.predictions.decoder", Linear(vocab), "cls.predictions.transform.LayerNorm",
                        tied=Tied("embeddings.word_embeddings", Params(weight=vocab * d)))]
        output = "cls.predictions.decoder"
    return Model(Graph(nodes, output=output), name="bert", input_shape=Shape(t))
