"""Activation memory: the bytes of the tensors autograd keeps for backward in one training step.

Each row's layer saves what :mod:`symcost.layers.saved_tensors` lists for its kind. A row's
inputs name the rows that made them (``Row.inputs``), so a tensor saved by several ops (a
convolution's input that a ReLU saved as its output) is one storage, counted once, and a
view (``Layer.aliases_input``: reshapes, transposes, splits) is its base's storage. The
network's input counts when an op saves it (a first convolution does, for its weight's
gradient). Sizes are per sample times the report's batch::

    >>> import symcost as sc
    >>> from symcost.symbols import B, H, W
    >>> net = sc.Sequential(sc.Conv2d(8, 3, padding=1), sc.ReLU(), sc.Conv2d(8, 3, padding=1))
    >>> mem = activation_bytes(net.analyze(sc.Shape(3, H, W), batch=B))
    >>> mem.rows        # conv0 keeps the input, the ReLU its output, which conv2 keeps too
    (('0', 12*B*H*W), ('1', 32*B*H*W), ('2', 0))

A symbolic Repeat (``n_layer`` blocks) is counted exactly: its block's input is the
previous pass's output, one storage per pass. ``recompute="full"`` keeps only what enters
each block (a row name's prefix up to its first index, ``layer1.0``, ``transformer.h.3``:
what ``torch.utils.checkpoint`` would wrap); ``"selective"`` drops attention's core
(Korthikanti et al. 2022). A storage saved by several rows is listed at the first (a Repeat's
last output, kept by the rows after it, at those rows).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations

import sympy

from ..core.dtypes import bytes_per_element
from ..core.errors import InvalidArgumentError, SymcostError, with_context
from ..layers.saved_tensors import SAVED_TENSOR_TABLES, Saved, Saves, saved_tensors
from .report import CopyRef, Report, TensorRef

RECOMPUTE = ("none", "selective", "full")


@dataclass(frozen=True)
class ActivationMemory:
    """Bytes autograd keeps per row, for the report's batch; ``detail`` lists each row's saved tensors."""

    rows: tuple[tuple[str, sympy.Expr], ...]
    dtype: str = "float32"
    recompute: str = "none"
    convention: str = "eager"
    detail: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def total(self) -> sympy.Expr:
        return sympy.Add(*(b for _, b in self.rows))


def activation_bytes(report: Report, *, dtype: str = "float32", recompute: str = "none",
                     convention: str = "eager") -> ActivationMemory:
    """The bytes of the distinct storages autograd keeps for backward over ``report``'s rows."""
    act = bytes_per_element(dtype, owner="activation_bytes")
    if recompute not in RECOMPUTE:
        raise InvalidArgumentError("activation_bytes", "recompute", f"must be one of {', '.join(RECOMPUTE)}",
                                   recompute)
    if not isinstance(convention, str) or convention not in SAVED_TENSOR_TABLES:
        raise InvalidArgumentError("activation_bytes", "convention",
                                   f"must be one of {', '.join(SAVED_TENSOR_TABLES)}", convention)
    return _Counter(report, act, dtype, recompute, convention).run()


def _block(name: str) -> str | None:
    """A row's block: its name up to its first index component (``layer1.0``), None outside any."""
    parts = name.split(".")
    for i, part in enumerate(parts[:-1]):
        if re.fullmatch(r"\d+|i", part):
            return ".".join(parts[: i + 1])
    return None


class _Counter:
    def __init__(self, report: Report, act: int, dtype: str, recompute: str, convention: str):
        self.report, self.act, self.dtype, self.recompute, self.convention = report, act, dtype, recompute, convention
        self.rows = report.rows
        self.saves: list[Saves] = []
        for index, row in enumerate(self.rows):
            try:
                self.saves.append(saved_tensors(row.cost.layer, convention, kind=row.kind))
            except SymcostError as err:
                raise with_context(err, f'activation memory: layer {index} "{row.name}" ({row.kind})') from None
        self.grads = report.requires_grad  # which inputs require grad (networks/dataflow.py), in any pass

    # -- which storage a tensor lives in -------------------------------------------------------
    def _aliases(self, p: int) -> bool:
        saves, row = self.saves[p], self.rows[p]
        if saves.aliases is not None:
            return saves.aliases
        return bool(getattr(row.cost.layer, "aliases_input", False)) and bool(row.inputs)

    def _resolve(self, ref: object, reader: int, i: int) -> list[tuple[tuple, tuple]]:
        """(storage key, instance selector) pairs of the storages ``ref`` may live in."""
        if ref is None or isinstance(ref, CopyRef):  # a copy no row made (F.pad): its own storage
            return [(("unknown", reader, i), ())]
        while isinstance(ref, TensorRef) and ref.row is not None and self._aliases(ref.row):  # a view: its base
            reader, i, ref = ref.row, 0, self.rows[ref.row].inputs[0]
        if ref is None or isinstance(ref, CopyRef):
            return [(("unknown", reader, i), ())]
        if isinstance(ref, TensorRef):
            if ref.row is None:
                return [(("input",), ())]
            return [((ref.row, ref.output), ())]
        parts = list(self._resolve(ref.first, reader, i)) if ref.carried else []
        step = ("carried" if ref.carried else "final", ref.times)
        for key, sel in self._resolve(ref.last, reader, i):
            position = key[1] if key[0] == "unknown" else key[0]
            inside = isinstance(position, int) and ref.span[0] <= position < ref.span[1]
            parts.append((key, sel + (step,) if inside else sel))
        return parts

    def _key_elements(self, key: tuple) -> tuple[sympy.Expr, sympy.Expr]:
        """(instances in one forward pass, elements) of a storage key, for the report's batch.

        A ``Parameter`` used as an operand, or a ``Constant`` registered as a buffer, is no activation
        (torch's saved storages leave parameters and buffers out): nothing."""
        batch = self.report.batch
        if key == ("input",):
            return sympy.Integer(1), batch * self.report.input_shape.numel
        if key[0] == "unknown":
            row = self.rows[key[1]]
            return row.count, batch * row.cost.in_shapes[key[2]].numel
        row = self.rows[key[0]]
        if row.kind == "Parameter" or (row.kind == "Constant" and getattr(row.cost.layer, "buffer", False)):
            return row.count, sympy.Integer(0)
        return row.count, batch * row.cost.out_shapes[key[1]].numel

    # -- what each row keeps -------------------------------------------------------------------
    def _kept(self, p: int) -> list[tuple[Saved, object]]:
        """The saved tensors of row ``p`` after recomputation, each with the tensor it is (None: the row's own)."""
        row, saved = self.rows[p], self.saves[p].saved
        if not self.grads[p].recorded:  # no input needs a gradient and no weight: autograd records nothing
            return []
        if self.recompute == "selective":
            saved = tuple(s for s in saved if not s.core)
        elif self.recompute == "full" and _block(row.name) is not None:
            block = _block(row.name)
            kept = []
            for i, ref in enumerate(row.inputs):
                entering = self._entering(ref, block)
                if entering is not None:
                    like = next((s for s in saved if s.what == "input" and s.index == i), None)
                    kept.append((Saved("input", i, dtype=like.dtype if like else "activation"), entering))
            return kept
        return [(s, row.inputs[s.index] if s.what == "input" and s.index < len(row.inputs) else None) for s in saved]

    def _entering(self, ref: object, block: str) -> object:
        """The part of tensor ``ref`` that enters ``block`` from outside it (a checkpointed block keeps it), or None."""
        if ref is None or isinstance(ref, CopyRef):
            return None
        if isinstance(ref, TensorRef):
            return ref if ref.row is None or _block(self.rows[ref.row].name) != block else None
        if ref.carried:
            if block == ref.name or block.startswith(ref.name + "."):
                return ref  # the block is one pass: the previous pass's output enters it too
            return self._entering(ref.first, block)
        return ref if self._entering(ref.last, block) is not None else None

    def _bytes(self, dtype: str) -> int:
        if dtype == "activation":
            return self.act
        return bytes_per_element(dtype, owner="saved tensor")

    def run(self) -> ActivationMemory:
        batch = self.report.batch
        per_row = [sympy.Integer(0)] * len(self.rows)
        detail: list[list[str]] = [[] for _ in self.rows]
        storages: dict[tuple, dict] = {}  # key -> {"readers": [(row, selector), ...], "dtype": str}
        for p, row in enumerate(self.rows):
            for s, ref in self._kept(p):
                needs = self.grads[p].needs
                if s.needs is not None and not any(needs[j] for j in s.needs if j < len(needs)):
                    continue
                if s.upcast and self.act < 4:  # a float32 copy of a 16-bit input, the op's own
                    s = Saved("new", dtype="float32", shape=lambda c, i=s.index: c.in_shapes[i], role="float32 copy")
                if s.what == "new":
                    try:
                        numel = s.shape(row.cost).numel
                    except (IndexError, AttributeError, TypeError) as err:
                        raise InvalidArgumentError(f'layer {p} "{row.name}" ({row.kind})', "saved tensor",
                                                   f"{s.role} has no shape here ({err})", None) from None
                    per_row[p] += row.count * (batch if s.per_sample else 1) * numel * self._bytes(s.dtype)
                    detail[p].append(s.describe())
                    continue
                if s.what == "input":
                    if s.optional and s.index >= len(row.cost.in_shapes):  # not called with that input
                        continue
                    if s.index >= len(row.inputs):
                        raise InvalidArgumentError(
                            f'activation memory: layer {p} "{row.name}" ({row.kind})', "inputs",
                            f"must name the tensor of input {s.index}, which autograd keeps (rows made by "
                            f"analyze() record them; this one has {len(row.cost.in_shapes)} input shapes)",
                            len(row.inputs))
                    parts = self._resolve(ref, p, s.index)
                else:
                    parts = self._resolve(TensorRef(p, s.index), p, 0)
                detail[p].append(s.describe())
                for key, sel in parts:
                    entry = storages.setdefault(key, {"readers": [], "dtype": s.dtype})
                    entry["readers"].append((p, sel))
        for key, entry in storages.items():  # each reader is listed with the passes it adds to the earlier ones
            count, numel = self._key_elements(key)
            size = count * numel * self._bytes(entry["dtype"])
            seen: set = set()
            before = sympy.Integer(0)
            for p, sel in entry["readers"]:
                if sel in seen:
                    continue
                seen.add(sel)
                now = _fraction(seen, key, self.rows)
                per_row[p] += size * (now - before)
                before = now
        return ActivationMemory(
            rows=tuple((row.name, sympy.factor_terms(b)) for row, b in zip(self.rows, per_row)),
            dtype=self.dtype, recompute=self.recompute, convention=self.convention,
            detail=tuple((row.name, tuple(d)) for row, d in zip(self.rows, detail)))


def _fraction(selectors: set, key: tuple, rows: tuple) -> sympy.Expr:
    """The share of a storage's instances (one per pass of each Repeat around it) that some reader keeps.

    A selector lists, from the innermost Repeat outward, which passes a reader sees: ``final`` (the last,
    as the rows after the Repeat read it) or ``carried`` (the others, as the next pass reads it); levels
    past its end are all passes.
    """
    sels = {tuple(sel) for sel in selectors}
    changed = True
    while changed:  # a final and a carried selector that differ at one level together make every pass
        changed = False
        for a, b in combinations(sorted(sels, key=str), 2):
            if len(a) == len(b):
                diff = [k for k in range(len(a)) if a[k] != b[k]]
                if len(diff) == 1 and {a[diff[0]][0], b[diff[0]][0]} == {"final", "carried"} \
                        and a[diff[0]][1] == b[diff[0]][1]:
                    merged = list(a)
                    merged[diff[0]] = ("all", a[diff[0]][1])
                    while merged and merged[-1][0] == "all":
                        merged.pop()
                    sels = (sels - {a, b}) | {tuple(merged)}
                    changed = True
                    break
    kept = [s for s in sels if not any(o != s and _within(s, o) for o in sels)]
    for a, b in combinations(kept, 2):
        if not _disjoint(a, b):
            name = rows[key[0]].name if isinstance(key[0], int) else str(key)
            raise InvalidArgumentError("activation memory", f'tensor of "{name}"',
                                       "is read across nested symbolic Repeats in a way not counted exactly; "
                                       "substitute numbers for the repeat counts", None)
    total = sympy.Integer(0)
    for sel in kept:
        share = sympy.Integer(1)
        for how, times in sel:
            share *= {"final": 1 / times, "carried": 1 - 1 / times, "all": 1}[how]
        total += share
    return total


def _within(a: tuple, b: tuple) -> bool:
    """Every instance ``a`` selects, ``b`` selects too."""
    return all(k >= len(b) or b[k][0] == "all" or (k < len(a) and a[k] == b[k]) for k in range(max(len(a), len(b))))


def _disjoint(a: tuple, b: tuple) -> bool:
    return any({a[k][0], b[k][0]} == {"final", "carried"} for k in range(min(len(a), len(b))))
