"""One training step of a report: FLOPs (forward, backward, recomputed forward) and a memory ledger.

``rep.training(dtype, optimizer, recompute)`` returns a :class:`Training`::

    >>> import symcost as sc
    >>> rep = sc.Sequential(sc.Linear(8), sc.ReLU(), sc.Linear(2)).analyze(sc.Shape(4))
    >>> tr = rep.training()
    >>> rep.total.flops("flops2"), tr.flops("flops2")   # the first layer computes no grad-input
    (96, 224)
    >>> tr.memory.weights, tr.memory.gradients, tr.memory.optimizer   # 58 parameters, fp32 AdamW
    (232, 232, 464)

FLOPs. Each row costs its forward, its backward from :mod:`symcost.layers.backward` (the gradient
for its inputs apart from that for its parameters) and, with recomputation, its forward again. An
input needs a gradient only when it requires grad: it was computed from a parameter. The network's
input and token ids do not, so the first layer computes no grad-input (ResNet's ``conv1``, an
``Embedding``), and neither does any layer before the first parameter.

Which inputs require grad is :attr:`Report.requires_grad` (:mod:`symcost.networks.dataflow`), the
same facts activation memory uses. A symbolic ``Repeat`` whose first pass reads an input that needs no
gradient is counted exactly: its first pass (a share ``1/times`` of the rows' instances) computes no
grad-input before the block's first parameter, its later passes do.

The forward is the report's own count, as in evaluation mode: for ``macs`` and ``flops2`` a training-mode
forward is the same; under ``exact`` the dropout masks and BatchNorm's batch statistics of a training-mode
forward are not added.

Recomputation (activation checkpointing):

* ``"none"``: nothing recomputed;
* ``"full"`` (Megatron-LM style): every row before the output layer runs its forward again during
  the backward; the output layer (the last row that holds parameters, own or tied: the LM head, the
  classifier) and whatever follows it run once. For a GPT this is Megatron's
  ``96*B*T*l*d**2*(1 + T/(6*d) + V/(16*l*d))`` with attention's backward as 4 products (explicit
  attention); a fused kernel's backward recomputes ``Q K^T`` once more;
* ``"selective"`` (Korthikanti et al. 2022): attention's core runs again: the rows of a fused
  ``ScaledDotProductAttention``, the heads' attention inside ``MultiheadAttention``, and for an
  explicit attention the products of two activations (``MatMul``, ``Bmm``, ``Baddbmm``, ``Einsum``
  rows), ``Softmax`` rows and a dropout right after a softmax.

Memory, in bytes, per precision and optimizer (EleutherAI, "Transformer Math 101", Anthony, Biderman
and Schoelkopf 2023, https://blog.eleuther.ai/transformer-math/):

* ``weights``: the parameters in the compute dtype, 4 bytes each in fp32, 2 in bf16/fp16;
* ``gradients``: one per parameter in the same dtype (4 or 2 bytes);
* ``optimizer``: in mixed precision the fp32 master copy (4 bytes per parameter), plus the states:
  SGD none, SGD with momentum 4 (one fp32 buffer), Adam/AdamW 8 (fp32 momentum and variance),
  8-bit Adam 2 (one byte each; bitsandbytes' per-block absmax statistics left out, as the source
  does). Mixed-precision AdamW is 12 bytes per parameter, 8-bit Adam 6 and SGD with momentum 8, the
  source's numbers. Adafactor (torch.optim.Adafactor, no first moment) keeps a factored fp32 second
  moment: for a weight of 2 or more axes ``(..., r, c)`` a row statistic (``numel/c`` entries) and a
  column statistic (``numel/r``), for a vector (biases, norms) its full size;
* ``activations``: what autograd keeps for backward (:mod:`symcost.networks.activation_memory`), in
  the compute dtype;
* ``peak``: weights + gradients + optimizer + activations + the largest row output (the gradient of
  that tensor, alive during the backward while the saved activations are not yet freed): everything
  allocated at the end of the forward with the gradients kept between steps
  (``zero_grad(set_to_none=False)``), and the largest transient. An upper estimate of the step's
  high-water mark, linear in the batch, so :meth:`Training.max_batch` solves it for ``B``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property

import sympy

from ..core.conventions import count_flops, get_convention
from ..core.counts import OpCounts
from ..core.display_hook import Displayable
from ..core.dtypes import bytes_per_element
from ..core.errors import ArgumentTypeError, InvalidArgumentError, SymcostError, with_context
from ..core.evaluate import substitute
from ..layers.attention import attention_ops
from ..layers.backward import Backward, backward
from .activation_memory import activation_bytes
from .report import Report, Row, _largest

#: precision -> (compute dtype of weights, gradients and activations; master copy dtype or None)
PRECISIONS: dict[str, tuple[str, str | None]] = {
    "fp32": ("float32", None),
    "bf16-mixed": ("bfloat16", "float32"),
    "fp16-mixed": ("float16", "float32"),
}
#: the dtype names ``dtype=`` also accepts, and the precision each means
DTYPE_PRECISIONS = {"float32": "fp32", "bfloat16": "bf16-mixed", "float16": "fp16-mixed"}
#: optimizer -> the dtype of each state it keeps per parameter ("factored": Adafactor's row/column statistics)
OPTIMIZERS: dict[str, tuple[str, ...] | str] = {
    "sgd": (),
    "sgd-momentum": ("float32",),
    "adam": ("float32", "float32"),
    "adamw": ("float32", "float32"),
    "adam-8bit": ("uint8", "uint8"),
    "adafactor": "factored",
}
RECOMPUTE = ("none", "selective", "full")
#: kinds whose only learned tensors are vectors (Adafactor keeps them whole)
_VECTOR_PARAMS = ("LayerNorm", "RMSNorm", "GroupNorm", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d",
                  "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d")
_PRODUCTS_OF_ACTIVATIONS = ("MatMul", "Bmm", "Baddbmm", "Einsum")


def _choice(value: object, allowed, argument: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise InvalidArgumentError("training", argument, f"must be one of {', '.join(allowed)}", value)
    return value


def precision_of(dtype: object) -> str:
    """The precision a ``dtype`` names: a precision (``bf16-mixed``) or a dtype (``bfloat16``)."""
    if isinstance(dtype, str) and dtype in DTYPE_PRECISIONS:
        return DTYPE_PRECISIONS[dtype]
    return _choice(dtype, [*PRECISIONS, *DTYPE_PRECISIONS], "dtype")


@dataclass(frozen=True)
class TrainingRow:
    """One row's share of a step (batch and repeats included): its operations (saved bytes: :attr:`Training.saved`)."""

    name: str
    kind: str
    forward: OpCounts
    grad_input: OpCounts
    grad_weight: OpCounts
    recompute: OpCounts

    @property
    def ops(self) -> OpCounts:
        return self.forward + self.grad_input + self.grad_weight + self.recompute

    def flops(self, convention: object = "flops2") -> sympy.Expr:
        return count_flops(self.ops, _plain(convention))


@dataclass(frozen=True)
class Memory:
    """The step's bytes, each a formula (see the module docstring for what each counts)."""

    weights: sympy.Expr
    gradients: sympy.Expr
    optimizer: sympy.Expr
    activations: sympy.Expr
    transient: sympy.Expr

    @property
    def peak(self) -> sympy.Expr:
        return self.weights + self.gradients + self.optimizer + self.activations + self.transient

    def as_dict(self) -> dict[str, sympy.Expr]:
        return {"weights": self.weights, "gradients": self.gradients, "optimizer": self.optimizer,
                "activations": self.activations, "transient": self.transient, "peak": self.peak}

    def subs(self, values: dict | None = None, /, **by_name: object) -> "Memory":
        return Memory(**{f.name: substitute(getattr(self, f.name), values, **by_name) for f in fields(self)})


def _plain(convention: object):
    conv = get_convention(convention)
    if conv.rules:
        raise InvalidArgumentError("training", "convention", "must weigh counts without per-kind rules (a "
                                   "backward has no peer-tool rules): use exact, macs or flops2", conv.name)
    return conv


@dataclass(frozen=True)
class Training(Displayable):
    """One training step of ``report``: rows, totals, the memory ledger (see the module docstring)."""

    report: Report
    precision: str
    optimizer: str
    recompute: str
    rows: tuple[TrainingRow, ...]

    @cached_property
    def _kept(self):
        compute, _ = PRECISIONS[self.precision]
        return activation_bytes(self.report, dtype=compute, recompute=self.recompute)

    @cached_property
    def saved(self) -> tuple[sympy.Expr, ...]:
        """Bytes autograd keeps, per row of :attr:`rows` (a module called twice: at its first row).

        Computed on first use, so FLOPs alone never need the saved-tensor table."""
        saved: dict[str, sympy.Expr] = {}
        for name, value in self._kept.rows:
            saved[name] = saved.get(name, 0) + value
        return tuple(saved.pop(row.name, sympy.Integer(0)) for row in self.rows)

    @cached_property
    def memory(self) -> Memory:
        """The step's memory ledger (module docstring), computed on first use."""
        report, (compute, master) = self.report, PRECISIONS[self.precision]
        params = report.total.params
        size = bytes_per_element(compute, owner="training")
        states = OPTIMIZERS[self.optimizer]
        if states == "factored":
            entries = sympy.Add(*(row.count * _adafactor_entries(row) for row in report.rows),
                                *(u.params for u in report.unused_params))  # unused tensors: shapes unknown, whole
            state_bytes = entries * bytes_per_element("float32")
        else:
            state_bytes = params * sum(bytes_per_element(s) for s in states)
        master_bytes = params * bytes_per_element(master) if master else 0
        outputs = [row.cost.activations for row in report.rows]
        transient = report.batch * (_largest(outputs) if outputs else report.input_shape.numel) * size
        return Memory(weights=params * size, gradients=params * size, optimizer=master_bytes + state_bytes,
                      activations=self._kept.total, transient=transient)

    @property
    def model(self) -> str:
        return self.report.model

    def __repr__(self) -> str:
        return (f"Training({self.model}: {self.precision}, {self.optimizer}, recompute {self.recompute}; "
                f"batch {self.report.batch}, {len(self.rows)} rows)")

    def part(self, name: str) -> OpCounts:
        """Summed counts of one part: ``forward``, ``grad_input``, ``grad_weight`` or ``recompute``."""
        _choice(name, ("forward", "grad_input", "grad_weight", "recompute"), "part")
        return OpCounts.sum(getattr(r, name) for r in self.rows)

    @property
    def ops(self) -> OpCounts:
        return OpCounts.sum(r.ops for r in self.rows)

    def flops(self, convention: object = None) -> sympy.Expr:
        """FLOPs of the step under ``convention`` (default the report's): forward + backward + recomputed."""
        conv = _plain(self.report.convention if convention is None else convention)
        return count_flops(self.ops, conv)

    def part_flops(self, convention: object = None) -> dict[str, sympy.Expr]:
        conv = _plain(self.report.convention if convention is None else convention)
        return {name: count_flops(self.part(name), conv) for name in ("forward", "grad_input", "grad_weight",
                                                                       "recompute")}

    def subs(self, values: dict | None = None, /, **by_name: object) -> "Training":
        """The same step with numbers: the report's rules checked, then every count substituted."""
        return training(self.report.subs(values, **by_name), dtype=self.precision, optimizer=self.optimizer,
                        recompute=self.recompute)

    def max_batch(self, memory_bytes: object, batch: object = None) -> sympy.Expr:
        """The largest batch whose :attr:`Memory.peak` fits ``memory_bytes``: ``floor((M - fixed)/per_sample)``.

        The peak is linear in the batch (``fixed + B*per_sample``), so the answer is a formula in the
        symbols left (sizes, ``M`` itself). ``batch`` is the report's batch symbol; a report analyzed per
        sample is batched with ``symcost.symbols.B`` first. A result below 1 means one sample does not fit.
        """
        from ..core.symbols import B
        if isinstance(memory_bytes, bool) or not isinstance(memory_bytes, (int, sympy.Expr)):
            raise ArgumentTypeError(f"max_batch: memory_bytes must be an int or a SymPy expression, got "
                                    f"{type(memory_bytes).__name__} {memory_bytes!r}")
        memory = sympy.Integer(memory_bytes) if isinstance(memory_bytes, int) else memory_bytes
        if memory.is_number and not memory.is_positive:
            raise InvalidArgumentError("max_batch", "memory_bytes", "must be positive", memory_bytes)
        b = self.report.batch if batch is None else batch
        if not isinstance(b, sympy.Symbol):
            return self.report.batched(B).training(self.precision, self.optimizer, self.recompute).max_batch(memory)
        peak = self.memory.peak
        per_sample = sympy.diff(peak, b)
        if per_sample.has(b):
            raise InvalidArgumentError("max_batch", "batch", "must enter the peak linearly", b)
        if per_sample == 0:
            raise InvalidArgumentError("max_batch", "batch", "must change the peak (no memory grows with it)", b)
        fixed = peak.subs(b, 0)
        return sympy.floor((memory - fixed) / per_sample)


def _own_cost(row: Row):
    """The row's cost with its layer's own parameters (a tied row's were moved to the first user)."""
    layer = row.cost.layer
    if row.shared is None or layer is None:
        return row.cost
    return layer.cost(*row.cost.in_shapes)


def _output_layer(rows: tuple[Row, ...]) -> int:
    """The index of the last row that holds parameters (own or tied): the output layer."""
    index = len(rows)
    for i, row in enumerate(rows):
        if row.cost.params.total != 0 or row.shared is not None:
            index = i
    return index


def _selective(rows: tuple[Row, ...], i: int) -> OpCounts:
    """What selective recomputation runs again of row ``i``: attention's core (module docstring)."""
    row = rows[i]
    cost = row.cost
    if row.kind == "ScaledDotProductAttention":
        return cost.ops
    if row.kind == "MultiheadAttention":
        layer = cost.layer
        l_q, e = cost.out_shape.dims
        s = cost.in_shapes[1].dims[0] if len(cost.in_shapes) > 1 else l_q
        keys = s + int(layer.add_bias_kv) + int(layer.add_zero_attn)
        hd = e / layer.num_heads
        return attention_ops(layer.num_heads, l_q, keys, hd, hd)
    if row.kind in _PRODUCTS_OF_ACTIVATIONS and cost.params.total == 0 and row.shared is None and \
            len(cost.in_shapes) >= 2:
        return cost.ops
    if row.kind == "Softmax" or (row.kind.startswith("Dropout") and i > 0 and rows[i - 1].kind == "Softmax"):
        return cost.ops
    return OpCounts()


def _adafactor_entries(row: Row) -> sympy.Expr:
    """Entries of Adafactor's second-moment statistics for one row's parameters (module docstring)."""
    cost = row.cost
    if cost.params.total == 0:
        return sympy.Integer(0)
    if row.shared is not None:
        raise InvalidArgumentError("training", "optimizer", f'adafactor needs the shapes of row "{row.name}" '
                                   "tensors, of which some are tied; not supported", "adafactor")
    layer, kind, bias = cost.layer, row.kind, cost.params.bias
    if kind in _VECTOR_PARAMS:
        return cost.params.total
    if kind in ("Linear", "Embedding", "EmbeddingBag") or kind.startswith("Conv"):
        shape = _weight_shape(row)
        r, c = shape[-2], shape[-1]
        numel = sympy.Mul(*shape)
        return numel / c + numel / r + bias
    if kind == "Parameter" and len(cost.out_shape.dims) >= 2:
        dims = cost.out_shape.dims
        numel = sympy.Mul(*dims)
        return numel / dims[-1] + numel / dims[-2]
    if kind == "Parameter":
        return cost.params.total
    raise InvalidArgumentError("training", "optimizer", f'adafactor needs the tensor shapes of {kind} (row '
                               f'"{row.name}"), which symcost does not know', "adafactor")


def _weight_shape(row: Row) -> tuple:
    cost, layer, kind = row.cost, row.cost.layer, row.kind
    if kind == "Linear":
        return (cost.out_shape.dims[-1], cost.in_shape.dims[-1])
    if kind in ("Embedding", "EmbeddingBag"):
        return (layer.num_embeddings, layer.embedding_dim)
    kernel = tuple(layer.kernel_size) if isinstance(layer.kernel_size, tuple) else (layer.kernel_size,)
    groups = layer.groups
    c_in, c_out = cost.in_shape.dims[0], cost.out_shape.dims[0]
    if kind.startswith("ConvTranspose"):
        return (c_in, c_out / groups, *kernel)
    return (c_out, c_in / groups, *kernel)


def training(report: Report, *, dtype: str = "float32", optimizer: str = "adamw",
             recompute: str = "none") -> Training:
    """One training step of ``report`` (see the module docstring)."""
    precision = precision_of(dtype)
    _choice(optimizer, OPTIMIZERS, "optimizer")
    _choice(recompute, RECOMPUTE, "recompute")
    output_layer = _output_layer(report.rows)
    rows = []
    for i, (row, grads) in enumerate(zip(report.rows, report.requires_grad)):
        grad_input, grad_weight = OpCounts(), OpCounts()
        runs = row.runs
        for needs, share in grads.cases:  # which inputs need a gradient, on which share of the row's instances
            try:
                back: Backward = backward(_own_cost(row), needs)
            except SymcostError as err:
                raise with_context(err, f'layer {i} "{row.name}" ({row.kind})') from None
            times = runs if share == 1 else sympy.cancel(share * runs)  # (1 - 1/n) * n*B: (n - 1)*B
            grad_input += back.grad_input.scaled(times)
            grad_weight += back.grad_weight.scaled(times)
        if recompute == "full":
            again = row.cost.ops if i < output_layer else OpCounts()
        elif recompute == "selective":
            again = _selective(report.rows, i)
        else:
            again = OpCounts()
        rows.append(TrainingRow(row.name, row.kind, row.cost.ops.scaled(runs), grad_input, grad_weight,
                                again.scaled(runs)))
    return Training(report, precision, optimizer, recompute, tuple(rows))
