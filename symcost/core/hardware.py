"""Hardware presets as data: peak FLOP/s per dtype and memory bandwidth, each citing its datasheet.

The presets are one table shipped with the package (``core/data/hardware.yaml``);
users add their own in a YAML file of the same layout (:func:`load_hardware`).
Every figure is read exactly, as the decimal the datasheet prints::

    >>> h100 = get_hardware("h100-sxm")
    >>> h100.peak_flops("bfloat16"), h100.bandwidth
    (989500000000000, 3350000000000)
    >>> h100.ridge("bfloat16")          # FLOPs per byte where the two roofs meet
    19790/67

A file entry::

    my-gpu:
      name: My GPU
      source: https://example.com/datasheet.pdf
      bandwidth: 1.5 TB/s
      peak: {float32: 30 TFLOP/s, bfloat16: 240 TFLOP/s}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from importlib import resources
from pathlib import Path

import sympy

from .dtypes import DTYPE_BYTES
from .errors import HardwareError, UnknownHardwareError, did_you_mean

#: Largest hardware file read, in bytes.
MAX_BYTES = 100_000
#: Most entries one file may hold.
MAX_ENTRIES = 200
#: Longest text a figure may be ("989.5 TFLOP/s").
MAX_FIGURE = 40

_SCALE = {"": 1, "K": 10**3, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_FIGURE = re.compile(r"^\s*([0-9]{1,20}(?:\.[0-9]{1,20})?)\s*([KGTPE]?)(FLOP/s|B/s)\s*$")


@dataclass(frozen=True)
class Hardware:
    """One device: ``peak`` FLOP/s by dtype name, ``bandwidth`` in bytes/s, and where they come from."""

    key: str
    name: str
    bandwidth: sympy.Rational
    peak: dict = field(default_factory=dict, hash=False)
    source: str = ""

    def peak_flops(self, dtype: str) -> sympy.Rational:
        """Peak FLOP/s for ``dtype``; a dtype the entry does not list is one clear error."""
        if dtype not in self.peak:
            listed = ", ".join(self.peak) or "none"
            raise HardwareError(f"hardware {self.key!r}: no peak FLOP/s for dtype {dtype!r} (it lists {listed})")
        return self.peak[dtype]

    def ridge(self, dtype: str) -> sympy.Rational:
        """The ridge point: arithmetic intensity (FLOPs per byte) where compute and memory roofs meet."""
        return self.peak_flops(dtype) / self.bandwidth

    def __repr__(self) -> str:
        return f"Hardware({self.key!r}: {self.name}, {self.bandwidth} B/s, peak {dict(self.peak)})"


def parse_figure(value: object, unit: str, where: str) -> sympy.Rational:
    """``"989.5 TFLOP/s"`` or ``"3.35 TB/s"`` (or a plain number in ``unit``) as an exact positive Rational."""
    if isinstance(value, bool):
        raise HardwareError(f"{where}: must be a number with unit {unit}, got {value!r}")
    if isinstance(value, int):
        number = Fraction(value)
    elif isinstance(value, float):  # YAML reads 19.5 as a float: take the decimal as written
        if value != value or value in (float("inf"), float("-inf")):
            raise HardwareError(f"{where}: must be a finite number, got {value!r}")
        number = Fraction(repr(value))
    elif isinstance(value, str) and len(value) <= MAX_FIGURE:
        match = _FIGURE.match(value)
        if not match or match.group(3) != unit:
            raise HardwareError(f"{where}: must be a number with unit {unit} (prefix G, T or P allowed), "
                                f"such as '1.5 T{unit}', got {value!r}")
        number = Fraction(match.group(1)) * _SCALE[match.group(2)]
    else:
        shown = value if not isinstance(value, str) else value[:MAX_FIGURE] + "..."
        raise HardwareError(f"{where}: must be a number with unit {unit}, got {shown!r}")
    if number <= 0:
        raise HardwareError(f"{where}: must be positive, got {value!r}")
    return sympy.Rational(number.numerator, number.denominator)


def _entry(key: object, data: object, label: str) -> Hardware:
    if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", key):
        raise HardwareError(f"{label}: hardware names are 1 to 64 letters, digits, '-', '_' or '.', got {key!r}")
    where = f"{label}: {key}"
    if not isinstance(data, dict):
        raise HardwareError(f"{where}: must be a mapping with bandwidth and peak, got {type(data).__name__}")
    unknown = sorted(str(k) for k in data if k not in ("name", "source", "bandwidth", "peak"))
    if unknown:
        raise HardwareError(f"{where}: unknown field {unknown[0]!r} (fields: name, source, bandwidth, peak)")
    for name in ("bandwidth", "peak"):
        if name not in data:
            raise HardwareError(f"{where}: needs {name}")
    for name in ("name", "source"):
        if name in data and not (isinstance(data[name], str) and len(data[name]) <= 300 and data[name].isprintable()):
            raise HardwareError(f"{where}: {name} must be one line of printable text, at most 300 characters")
    peaks = data["peak"]
    if not isinstance(peaks, dict) or not peaks:
        raise HardwareError(f"{where}: peak must map dtype names to FLOP/s, such as {{bfloat16: 312 TFLOP/s}}")
    peak = {}
    for dtype, value in peaks.items():
        if dtype not in DTYPE_BYTES:
            hint = did_you_mean(str(dtype), list(DTYPE_BYTES))
            raise HardwareError(f"{where}: peak: unknown dtype {dtype!r}; {hint}dtypes: {', '.join(DTYPE_BYTES)}")
        peak[dtype] = parse_figure(value, "FLOP/s", f"{where}: peak: {dtype}")
    return Hardware(key=key, name=data.get("name", key), bandwidth=parse_figure(data["bandwidth"], "B/s",
                    f"{where}: bandwidth"), peak=peak, source=data.get("source", ""))


def loads_hardware(text: str, label: str = "<hardware>") -> dict[str, Hardware]:
    """The entries of a hardware YAML text, each validated (one line per error)."""
    import yaml

    if len(text) > MAX_BYTES:
        raise HardwareError(f"{label}: is more than {MAX_BYTES:,} characters; hardware files may be at most that")
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise HardwareError(f"{label}: YAML aliases are not allowed")
        data = yaml.load(text, Loader=yaml.SafeLoader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as err:
        problem = (getattr(err, "problem", None) or str(err)).splitlines()[0]
        mark = getattr(err, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        raise HardwareError(f"{label}: not valid YAML{at}: {problem}") from None
    if not isinstance(data, dict) or not data:
        raise HardwareError(f"{label}: must map hardware names to entries (name, source, bandwidth, peak)")
    if len(data) > MAX_ENTRIES:
        raise HardwareError(f"{label}: holds {len(data)} entries; at most {MAX_ENTRIES}")
    return {entry.key: entry for entry in (_entry(k, v, label) for k, v in data.items())}


def load_hardware(path: str | Path) -> dict[str, Hardware]:
    """The entries of the hardware YAML file at ``path`` (read at most :data:`MAX_BYTES`)."""
    label = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as err:
        raise HardwareError(f"{label}: cannot read: {err.strerror or err}") from None
    if len(raw) > MAX_BYTES:
        raise HardwareError(f"{label}: is more than {MAX_BYTES:,} bytes; hardware files may be at most that")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HardwareError(f"{label}: is not UTF-8 text") from None
    return loads_hardware(text, label)


@lru_cache(maxsize=1)
def presets() -> dict[str, Hardware]:
    """The shipped presets, by name."""
    text = resources.files("symcost.core").joinpath("data/hardware.yaml").read_text(encoding="utf-8")
    return loads_hardware(text, "hardware.yaml")


def get_hardware(hardware: object, extra: dict[str, Hardware] | None = None) -> Hardware:
    """A :class:`Hardware` as is, or the preset (or ``extra`` entry) of that name."""
    if isinstance(hardware, Hardware):
        return hardware
    table = {**presets(), **(extra or {})}
    if isinstance(hardware, str) and hardware in table:
        return table[hardware]
    hint = did_you_mean(str(hardware), list(table)) if isinstance(hardware, str) else ""
    raise UnknownHardwareError(f"unknown hardware {hardware!r}; {hint}known: {', '.join(table)}")
