"""Vision Transformer (``ViTForImageClassification`` / ``ViTModel``), every size an int or a symbol.

An image ``Shape(n_channels, image_size, image_size)`` is cut into patches by a
``patch_size`` convolution of stride ``patch_size``; a class token joins the
``g*g`` patches (``g = floor(image_size / patch_size)``, the convolution's own
output size, so a symbolic image size gives the position table in floors),
learned positions are added, ``n_layer`` pre-LayerNorm blocks run as one
:class:`~symcost.networks.containers.Repeat`, and the class token's final
state goes to the head. Rows are named as Hugging Face names the modules
(``encoder.layer.i.attention.attention.query``)::

    >>> from symcost import zoo
    >>> zoo.vit().analyze().total.params
    86567656

``head=True`` (the default) is ``ViTForImageClassification`` (``classifier``
on the class token, no pooler); ``head=False, pooler=True`` is ``ViTModel``
(``pooler.dense`` + tanh on the class token); both False give the hidden states.
"""

from __future__ import annotations

from ...core.arguments import boolean
from ...core.errors import InvalidArgumentError
from ...core.shape import Shape
from ...layers import (GELU, Add, Cat, Conv2d, Flatten, LayerNorm, Linear, Parameter, ScaledDotProductAttention,
                       Select, Tanh, Transpose)
from ...networks.containers import Model, Repeat
from ...networks.graph import Graph
from .transformers import _head_size, _heads, _merged, _node, _sizes

#: Hugging Face ViT's LayerNorm epsilon (``layer_norm_eps``); it changes no count.
EPS = 1e-12


def vit(image_size: object = 224, patch_size: object = 16, n_layer: object = 12, d_model: object = 768,
        n_head: object = 12, d_ff: object = 3072, n_classes: object = 1000, n_channels: object = 3, *,
        head: bool = True, pooler: bool = False) -> Model:
    """ViT: patch embedding, class token, learned positions, pre-LayerNorm blocks (self-attention, GELU MLP
    of ``d_ff``), final LayerNorm and a linear head on the class token. Defaults: ViT-B/16 at 224, 1000 classes."""
    boolean(head, layer="vit", argument="head")
    boolean(pooler, layer="vit", argument="pooler")
    if head and pooler:
        raise InvalidArgumentError("vit", "pooler", "needs head=False (ViTForImageClassification has no pooler)",
                                   True)
    s = _sizes("vit", image_size=image_size, patch_size=patch_size, n_layer=n_layer, d_model=d_model,
               n_head=n_head, d_ff=d_ff, n_classes=n_classes, n_channels=n_channels)
    d, heads, size, patch = s["d_model"], s["n_head"], s["image_size"], s["patch_size"]
    e = _head_size("vit", d, heads)
    if (size - patch).is_negative:
        raise InvalidArgumentError("vit", "patch_size", f"must be at most image_size={size}", patch)
    projection = Conv2d(d, patch, stride=patch)
    image = Shape(s["n_channels"], size, size)
    grid = projection.cost(image).out_shape  # (d, g, g): the patches the convolution makes
    t = grid[1] * grid[2] + 1  # the patches and the class token
    block = Graph([
        _node("layernorm_before", LayerNorm(d, eps=EPS), "input"),
        _node("attention.attention.query", Linear(d), "layernorm_before"),
        _node("attention.attention.key", Linear(d), "layernorm_before"),
        _node("attention.attention.value", Linear(d), "layernorm_before"),
        *_heads("attention.attention.q", "attention.attention.query", t, heads, e),
        *_heads("attention.attention.k", "attention.attention.key", t, heads, e),
        *_heads("attention.attention.v", "attention.attention.value", t, heads, e),
        _node("attention.attention.sdpa", ScaledDotProductAttention(), "attention.attention.q_heads",
              "attention.attention.k_heads", "attention.attention.v_heads"),
        *_merged("attention.attention.merged", "attention.attention.sdpa", t, d),
        _node("attention.output.dense", Linear(d), "attention.attention.merged"),
        _node("add_1", Add(), "attention.output.dense", "input"),
        _node("layernorm_after", LayerNorm(d, eps=EPS), "add_1"),
        _node("intermediate.dense", Linear(s["d_ff"]), "layernorm_after"),
        _node("intermediate.intermediate_act_fn", GELU(), "intermediate.dense"),
        _node("output.dense", Linear(d), "intermediate.intermediate_act_fn"),
        _node("output.add", Add(), "output.dense", "add_1"),
    ], output="output.add")
    nodes = [
        _node("embeddings.patch_embeddings.projection", projection, "input"),
        _node("embeddings.patch_embeddings.flatten", Flatten(2), "embeddings.patch_embeddings.projection"),
        _node("embeddings.patch_embeddings.tokens", Transpose(1, 2), "embeddings.patch_embeddings.flatten"),
        _node("embeddings.cls_token", Parameter((1, d))),
        _node("embeddings.cat", Cat(dim=1), "embeddings.cls_token", "embeddings.patch_embeddings.tokens"),
        _node("embeddings.position_embeddings", Parameter((t, d))),
        _node("embeddings.add", Add(), "embeddings.cat", "embeddings.position_embeddings"),
        _node("encoder.layer", Repeat(block, s["n_layer"]), "embeddings.add"),
        _node("layernorm", LayerNorm(d, eps=EPS), "encoder.layer"),
    ]
    output = "layernorm"
    if head or pooler:
        nodes.append(_node("class_token", Select(1, 0), "layernorm"))
    if head:
        nodes.append(_node("classifier", Linear(s["n_classes"]), "class_token"))
        output = "classifier"
    if pooler:
        nodes += [_node("pooler.dense", Linear(d), "class_token"), _node("pooler.activation", Tanh(), "pooler.dense")]
        output = "pooler.activation"
    return Model(Graph(nodes, output=output), name="vit", input_shape=image)
