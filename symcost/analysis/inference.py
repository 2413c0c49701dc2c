"""Inference of a decoder with a KV cache: the cache's size, and what one decode step reads and writes.

Prefill of ``T`` tokens is the forward of ``T`` tokens (``zoo.gpt2(n_ctx=T)``): it computes the keys and
values a cache then stores, ``kv_cache_bytes(..., n_tokens=T)``. One decode step is its own model
(``zoo.gpt2_decode(n_cache=T_cache)``): one new token attends to the ``T_cache`` cached keys and values
and its own. Its report prints like any report (MACs per layer and in total); :func:`cache_traffic` reads
from it the bytes of cache the step reads and writes.

The cache holds, per layer, a key and a value of ``n_kv_head * d_head`` elements per token:
``n_kv_head = n_head`` for multi-head attention, ``n_head / k`` for grouped-query attention (``k``
query heads per key/value head) and ``1`` for multi-query attention::

    >>> from symcost.analysis.inference import kv_cache_bytes
    >>> kv_cache_bytes(n_layer=32, n_kv_head=32, d_head=128, n_tokens=4096, dtype="float16")  # LLaMA-7B
    2147483648
    >>> kv_cache_bytes(n_layer=80, n_kv_head=8, d_head=128, n_tokens=4096, dtype="bfloat16")  # Llama-2-70B
    1342177280
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..core.arguments import positive_int
from ..core.dtypes import bytes_per_element
from ..core.errors import InvalidArgumentError
from ..networks.report import Report

#: What marks a report's rows as KV cache: the cached operand and the cache with the new token written.
KV_CACHE_ROLE = "kv_cache"


def kv_cache_bytes(n_layer: object, n_kv_head: object, d_head: object, n_tokens: object, dtype: str = "float16",
                   batch: object = 1) -> sympy.Expr:
    """Bytes of a KV cache: a key and a value of ``n_kv_head * d_head`` elements per token, layer and sequence,
    ``2 * n_layer * n_kv_head * d_head * n_tokens * batch * bytes_per_element(dtype)``. Every size may be a
    symbol."""
    sizes = [positive_int(v, layer="kv_cache_bytes", argument=name) for name, v in
             (("n_layer", n_layer), ("n_kv_head", n_kv_head), ("d_head", d_head), ("n_tokens", n_tokens),
              ("batch", batch))]
    return sympy.Integer(2) * sympy.Mul(*sizes) * bytes_per_element(dtype, owner="kv_cache_bytes")


def kv_heads(n_head: object, attention: str = "mha", group: object = None) -> sympy.Expr:
    """Key/value heads of multi-head (``"mha"``: ``n_head``), grouped-query (``"gqa"``: ``n_head / group``) or
    multi-query (``"mqa"``: 1) attention."""
    heads = positive_int(n_head, layer="kv_heads", argument="n_head")
    if attention == "mha":
        return heads
    if attention == "mqa":
        return sympy.Integer(1)
    if attention != "gqa":
        raise InvalidArgumentError("kv_heads", "attention", "must be one of mha, gqa, mqa", attention)
    if group is None:
        raise InvalidArgumentError("kv_heads", "group", "is needed for gqa (query heads per key/value head)", group)
    k = positive_int(group, layer="kv_heads", argument="group")
    n = heads / k
    if n.is_integer is False or (n.is_number and not n.is_integer):
        raise InvalidArgumentError("kv_heads", "group", f"must divide n_head={heads}", k)
    return n


@dataclass(frozen=True)
class CacheTraffic:
    """Bytes of KV cache one decode step reads (the cache before the step) and writes (the new token's key
    and value, every layer), in ``dtype``."""

    read: sympy.Expr
    written: sympy.Expr
    dtype: str

    @property
    def total(self) -> sympy.Expr:
        return self.read + self.written


def cache_traffic(report: Report, dtype: str = "float16") -> CacheTraffic:
    """What a decode step's report (``zoo.gpt2_decode``, ``zoo.llama_decode``) reads from and writes to its
    KV cache: the rows with ``role="kv_cache"``. The cached operands are read; each append (a ``Cat``)
    writes its output less the cache it extends. Counted per layer run (``n_layer`` times) and sample."""
    size = bytes_per_element(dtype, owner="cache_traffic")
    read, written = [], []
    for row in report.rows:
        layer = row.cost.layer
        if getattr(layer, "role", None) != KV_CACHE_ROLE:
            continue
        if row.cost.in_shapes:  # the append: output less the cache it extends
            written.append(row.runs * (row.cost.out_shape.numel - row.cost.in_shapes[0].numel))
        else:  # the cached operand
            read.append(row.runs * row.cost.out_shape.numel)
    if not read:
        raise InvalidArgumentError("cache_traffic", "report", "has no KV cache rows (role kv_cache): "
                                   "pass the report of a decode step such as zoo.gpt2_decode", report.model)
    return CacheTraffic(sympy.expand(sympy.Add(*read) * size), sympy.expand(sympy.Add(*written) * size), dtype)
