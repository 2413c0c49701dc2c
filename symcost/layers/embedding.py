"""Embedding and EmbeddingBag: look-up tables over integer token ids, as torch.nn.

:class:`Embedding` maps ids of any shape, e.g. ``(L,)``, to ``(L, D)`` by
copying rows: no arithmetic, ``num_embeddings * embedding_dim`` weights.
:class:`EmbeddingBag` reduces each bag of ``n`` ids (``(L,)`` is one bag ->
``(D,)``; ``(B, L)`` is ``B`` bags -> ``(B, D)``), per bag and feature:
``sum`` n-1 adds; ``mean`` n-1 adds and 1 division; ``max`` n-1
comparisons (no ``padding_idx``: ids skipped by value would make the count
depend on the data)::

    >>> import symcost as sc
    >>> from symcost.symbols import L, D, symbol
    >>> V = symbol("V")
    >>> c = sc.Embedding(V, D).cost(sc.Shape(L))
    >>> c.out_shape, c.params.total, c.flops()
    (Shape(L, D), D*V, 0)
    >>> sc.EmbeddingBag(V, D, mode="mean").cost(sc.Shape(L)).ops.add
    D*(L - 1)
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import OpCounts, Params
from ..core.errors import InvalidArgumentError, ShapeError
from ..core.shape import Shape
from ..core.traffic import INDEX_BYTES, Traffic
from .base import Layer
from .registry import register


def _table(layer: Layer) -> None:
    label = layer.label
    object.__setattr__(layer, "num_embeddings",
                       arg.positive_int(layer.num_embeddings, layer=label, argument="num_embeddings"))
    object.__setattr__(layer, "embedding_dim",
                       arg.positive_int(layer.embedding_dim, layer=label, argument="embedding_dim"))
    if getattr(layer, "padding_idx", None) is not None:
        idx = arg.integer(layer.padding_idx, layer=label, argument="padding_idx")
        n = layer.num_embeddings
        if arg.refuted(idx < n) or arg.refuted(idx >= -n):
            raise InvalidArgumentError(label, "padding_idx", f"must be within num_embeddings ({n})", idx)
        object.__setattr__(layer, "padding_idx", idx)


@register
@dataclass(frozen=True)
class Embedding(Layer):
    num_embeddings: object
    embedding_dim: object
    padding_idx: object = None

    def __post_init__(self) -> None:
        _table(self)

    def _cost(self, ids: Shape) -> Cost:
        return Cost(self.kind, (ids,), Shape(*ids.dims, self.embedding_dim),
                    params=Params(weight=self.num_embeddings * self.embedding_dim),
                    ops=OpCounts(lookup_macs=ids.numel * self.num_embeddings * self.embedding_dim))

    def traffic(self, cost: Cost, size: int) -> Traffic:
        """A gather: the int64 ids and the rows they pick (``L*D``, not the table) read, the rows written."""
        return _gather_traffic(cost, size, rows=cost.in_shape.numel * self.embedding_dim)


@register
@dataclass(frozen=True)
class EmbeddingBag(Layer):
    num_embeddings: object
    embedding_dim: object
    mode: str = "mean"

    def __post_init__(self) -> None:
        _table(self)
        arg.choice(self.mode, ("sum", "mean", "max"), layer=self.label, argument="mode")

    def _cost(self, ids: Shape) -> Cost:
        if ids.rank not in (1, 2):
            raise ShapeError(f"{self.label}: expects one bag of ids (L,) or bags (B, L), got {ids}")
        d = self.embedding_dim
        bags, n = (1, ids.dims[0]) if ids.rank == 1 else ids.dims
        reduce = {"sum": OpCounts(add=n - 1), "mean": OpCounts(add=n - 1, div=1),
                  "max": OpCounts(cmp=n - 1)}[self.mode]
        out = Shape(d) if ids.rank == 1 else Shape(bags, d)
        return Cost(self.kind, (ids,), out, params=Params(weight=self.num_embeddings * d),
                    ops=reduce.scaled(bags * d))

    def traffic(self, cost: Cost, size: int) -> Traffic:
        """The int64 ids and the ``ids*D`` rows they pick read, one row per bag written."""
        return _gather_traffic(cost, size, rows=cost.in_shape.numel * self.embedding_dim)


def _gather_traffic(cost: Cost, size: int, rows: object) -> Traffic:
    return Traffic(gathered=rows * size, inputs=cost.in_shape.numel * INDEX_BYTES, outputs=cost.activations * size)
