"""Memory traffic: the bytes a cost reads and writes, for a dtype (:class:`Traffic`).

A layer run as one kernel reads its weights (parameters and the buffers it
uses) and its inputs, and writes its outputs; each tensor once. That is the
least any implementation moves through main memory, the figure a roofline
divides by bandwidth. Element counts become bytes through
:func:`symcost.core.dtypes.bytes_per_element`, so every count is exact::

    >>> import symcost as sc
    >>> t = sc.Conv2d(8, 3, padding=1).cost(sc.Shape(3, 32, 32)).traffic("float32")
    >>> t.weights, t.inputs, t.outputs, t.total
    (896, 12288, 32768, 45952)

The rules, one place each:

* the default (:func:`default_traffic`): every input read, every parameter and
  used buffer read, every output written;
* a layer whose output is a view of its input (``Layer.aliases_input``:
  reshapes, permutes, eval dropout) moves nothing; an in-place op (``ReLU(inplace=True)``)
  still reads and writes its tensor, it only saves the allocation;
* a layer that moves something else says so in its ``traffic`` hook: Embedding
  reads the gathered rows (``L*D``, not the table) and its int64 ids;
  SeparableConv2d writes and reads back its depthwise output; Parameter and
  Constant hand a tensor to the layer that reads it and move nothing themselves;
* BatchNorm's ``num_batches_tracked`` is not read at inference
  (:data:`UNREAD_BUFFERS`).

``weights`` are read once per pass, whatever the batch; ``gathered``
(Embedding's rows), ``inputs`` and ``outputs`` scale with the samples
(:meth:`Traffic.scaled`). A composite layer (MultiheadAttention, LSTM, GRU)
counts as one fused kernel: what it moves at least.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import sympy

from .counts import exact
from .dtypes import bytes_per_element
from .evaluate import substitute

Expr = sympy.Expr
ZERO = sympy.Integer(0)

#: Buffers a forward pass at inference never reads (a counter torch bumps in training only).
UNREAD_BUFFERS = frozenset({"num_batches_tracked"})
#: Bytes of an index (torch.long): Embedding's ids, index_select's index.
INDEX_BYTES = bytes_per_element("int64")
#: Bytes of a mask element (torch.bool): MaskedFill's mask.
BOOL_BYTES = bytes_per_element("bool")


@dataclass(frozen=True)
class Traffic:
    """Bytes moved: ``weights`` (once per pass), ``gathered`` weight rows, ``inputs`` read, ``outputs`` written."""

    weights: Expr = ZERO
    gathered: Expr = ZERO
    inputs: Expr = ZERO
    outputs: Expr = ZERO

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, exact(getattr(self, f.name)))

    @property
    def read(self) -> Expr:
        """Bytes read: weights, gathered rows and inputs."""
        return self.weights + self.gathered + self.inputs

    @property
    def written(self) -> Expr:
        return self.outputs

    @property
    def total(self) -> Expr:
        """Every byte moved, read and written."""
        return self.read + self.written

    def __add__(self, other: "Traffic") -> "Traffic":
        return Traffic(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @staticmethod
    def sum(items) -> "Traffic":
        """Field-wise sum, one ``Add`` per field."""
        items = list(items)
        return Traffic(*(sympy.Add(*(getattr(t, f.name) for t in items)) for f in fields(Traffic)))

    def scaled(self, count: object = 1, runs: object = 1) -> "Traffic":
        """``count`` runs over ``runs`` samples in all: weights scale by ``count``, the rest by ``runs``."""
        return Traffic(self.weights * count, self.gathered * runs, self.inputs * runs, self.outputs * runs)

    def as_dict(self) -> dict[str, Expr]:
        return {"weights": self.weights, "gathered": self.gathered, "inputs": self.inputs,
                "outputs": self.outputs, "read": self.read, "written": self.written, "total": self.total}

    def map_exprs(self, fn) -> "Traffic":
        return Traffic(*(fn(getattr(self, f.name)) for f in fields(self)))

    def subs(self, values: dict | None = None, /, **by_name: object) -> "Traffic":
        return self.map_exprs(lambda e: substitute(e, values, **by_name))


def default_traffic(cost, size: int) -> Traffic:
    """Every input read, the parameters and used buffers read, every output written (``size`` bytes each)."""
    params = cost.params
    used = sympy.Add(*(v for name, v in params.buffers if name not in UNREAD_BUFFERS))
    return Traffic(weights=(params.total + used) * size,
                   inputs=sympy.Add(*(s.numel for s in cost.in_shapes)) * size,
                   outputs=cost.activations * size)


def cost_traffic(cost, dtype: str = "float32") -> Traffic:
    """The bytes ``cost`` moves with elements of ``dtype``: its layer's ``traffic`` hook, else the default."""
    size = bytes_per_element(dtype, owner="traffic")
    hook = getattr(cost.layer, "traffic", None)
    return hook(cost, size) if hook is not None else default_traffic(cost, size)
