"""Network spec files (YAML or JSON): the DESIGN.md format, read defensively.

    name: tiny
    input: [3, H, W]
    symbols: [n]                  # extra symbols (or {n: {latex: 'n'}})
    layers:
      - {kind: conv2d, name: conv1, out_channels: 32, kernel_size: 3, stride: 2, padding: 1}
      - {kind: residual, body: [...], shortcut: [...]}
      - {kind: concat, branches: [[...], [...]]}
      - {kind: repeat, times: n, body: [...]}

Kinds match case-insensitively with underscores ignored; arguments are
torch.nn's. Values are ints, bools, symbol names or small arithmetic
(:mod:`symcost.core.expressions`). Every error is one line naming the file, the
layer path (``layers[3].body[1]``), the argument and the rule, with the
closest valid name when one was misspelt::

    >>> model = loads("input: [3, H, W]\\nlayers: [{kind: Conv2d, out_channels: 2*C, kernel_size: 3}]")
    >>> model.analyze().total.params
    56*C
    >>> loads("layers: [{kind: conv2d, out_channels: 8, kernel_size: 3, strides: 2}]", "net.yaml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    symcost.core.errors.SpecError: net.yaml: layers[0]: Conv2d has no argument 'strides'; did you mean 'stride'? ...
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import stat
import sys
from pathlib import Path

import sympy
import yaml

from ..core import symbols as sym
from ..core.arguments import display_name
from ..core.shape import MAX_RANK
from ..layers.upsample import MODES as UPSAMPLE_MODES
from ..networks.containers import Concat, Model, Repeat, Residual, Sequential
from ..core.errors import SpecError, SymcostError, UnknownLayerError, did_you_mean
from ..core.expressions import ExpressionError, parse
from ..layers.registry import kinds, layer_class
from ..core.shape import Shape

#: Largest spec file read, in bytes.
MAX_BYTES = 1_000_000
#: Most layers and containers in one spec.
MAX_NODES = 10_000
#: Deepest nesting of containers.
MAX_NESTING = 32
#: Largest integer literal.
MAX_INT = 10**18

TOP_LEVEL = ("name", "input", "symbols", "layers")
CONTAINERS = {"sequential": ("layers",), "residual": ("body", "shortcut", "join"),
              "concat": ("branches", "pad", "join"), "repeat": ("times", "body")}
#: Arguments whose value may be one of these words rather than a number.
WORDS = {"padding": ("same", "valid"), "mode": (*UPSAMPLE_MODES, "constant", "reflect", "replicate", "circular",
                                             "row", "batch", "sum", "mean", "max"), "approximate": ("none", "tanh")}
#: Arguments whose value is text, taken as written (the layer parses and checks it).
TEXT = {"equation"}
#: torch.nn arguments that change no count; accepted and ignored.
IGNORED = {"inplace", "eps", "momentum"}


def load(path: str | Path) -> Model:
    """The model a spec file describes; its input (if given) is the model's default input."""
    path = Path(path)
    label = path.name
    if path.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise SpecError(f"{label}: spec files end in .yaml, .yml or .json")
    try:
        with open(path, "rb") as handle:  # one open: what is checked is what is read
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise SpecError(f"{label}: is not a regular file; spec files are read from regular files only")
            if info.st_size > MAX_BYTES:
                raise SpecError(f"{label}: is {info.st_size:,} bytes; spec files may be at most {MAX_BYTES:,}")
            raw = handle.read(MAX_BYTES + 1)  # never more than the bound, whatever the file claims
        if len(raw) > MAX_BYTES:
            raise SpecError(f"{label}: is more than {MAX_BYTES:,} bytes; spec files may be at most {MAX_BYTES:,}")
    except OSError as err:
        raise SpecError(f"{label}: cannot read: {err.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError(f"{label}: is not UTF-8 text") from None
    return loads(text, label, json_format=path.suffix.lower() == ".json", default_name=path.stem)


def loads(text: str, label: str = "<spec>", *, json_format: bool = False, default_name: str = "spec") -> Model:
    """The model spec ``text`` describes (YAML, or JSON with ``json_format``)."""
    data = _parse_json(text, label) if json_format else _parse_yaml(text, label)
    return _Builder(label).model(data, default_name)


#: PyYAML's safe loader, in C when libyaml is there (several times faster on big specs).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


#: arguments that take a list of any length (a shape, dims, pads), not a (height, width) pair
SEQUENCES = frozenset({"shape", "dims", "sizes", "pad", "split_size_or_sections", "shifts", "dim",
                       "normalized_shape"})


def _refuse_aliases(text: str) -> None:
    """No anchors/aliases: no "billion laughs", no recursive nodes (checked on the event stream)."""
    for event in yaml.parse(text, Loader=_SAFE_LOADER):
        if isinstance(event, yaml.AliasEvent):
            raise yaml.YAMLError(f"line {event.start_mark.line + 1}: YAML aliases (*{event.anchor}) are not allowed")


def _parse_yaml(text: str, label: str) -> object:
    try:
        _refuse_aliases(text)
        return yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = (getattr(err, "problem", None) or str(err)).splitlines()[0]  # one line, whatever libyaml says
        raise SpecError(f"{label}: malformed YAML: {where}{problem}") from None
    except RecursionError:
        raise SpecError(f"{label}: malformed YAML: nested too deeply") from None
    except ValueError as err:  # an integer literal longer than Python converts (4,300 digits)
        raise SpecError(f"{label}: malformed YAML: {_first_line(err)}; numbers must be at most 10**18") from None


def _first_line(err: Exception) -> str:
    """Python's refusal of a huge integer literal, in a few words."""
    text = str(err)
    if "digits" in text:
        return f"an integer literal has more than {sys.get_int_max_str_digits():,} digits"
    return (text.splitlines() or [type(err).__name__])[0][:120]


def _parse_json(text: str, label: str) -> object:
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as err:
        raise SpecError(f"{label}: malformed JSON: line {err.lineno} column {err.colno}: {err.msg}") from None
    except RecursionError:
        raise SpecError(f"{label}: malformed JSON: nested too deeply") from None
    except ValueError as err:  # an integer literal longer than Python converts (4,300 digits)
        raise SpecError(f"{label}: malformed JSON: {_first_line(err)}; numbers must be at most 10**18") from None


def _refuse_constant(name: str) -> None:
    raise json.JSONDecodeError(f"{name} is not a number spec files accept", name, 0)


class _Builder:
    """Turns parsed data into containers and layers, tracking the path of every node."""

    def __init__(self, label: str):
        self.label = label
        self.names = dict(sym.BUILTINS)
        self.nodes = 0

    def fail(self, path: str, message: str) -> SpecError:
        return SpecError(f"{self.label}: {path}: {message}" if path else f"{self.label}: {message}")

    # -- the document --------------------------------------------------------
    def model(self, data: object, default_name: str) -> Model:
        if data is None:
            raise SpecError(f"{self.label}: is empty; a spec needs at least 'layers'")
        if not isinstance(data, dict):
            raise SpecError(f"{self.label}: must be a mapping with {', '.join(TOP_LEVEL)}, got {_kind_of(data)}")
        self.check_keys("", data, TOP_LEVEL, "the spec")
        if "layers" not in data:
            raise SpecError(f"{self.label}: has no 'layers'")
        if "symbols" in data:
            self.declare(data["symbols"])
        name = data.get("name", default_name)
        if not isinstance(name, str) or not name:
            raise self.fail("name", f"must be text, got {_kind_of(name)}")
        try:
            display_name(name, layer="the spec")
        except SymcostError as err:
            raise self.fail("name", str(err)) from None
        shape = self.input_shape(data["input"]) if "input" in data else None
        body = self.sequence(data["layers"], "layers", depth=0)
        return Model(body, name=name, input_shape=shape)

    def declare(self, declared: object) -> None:
        if isinstance(declared, list):
            for i, name in enumerate(declared):
                if not isinstance(name, str):
                    raise self.fail(f"symbols[{i}]", f"a symbol is a name, got {_kind_of(name)}")
            declared = {name: {} for name in declared}
        if not isinstance(declared, dict):
            raise self.fail("symbols", f"must be a list of names or a mapping, got {_kind_of(declared)}")
        for name, options in declared.items():
            where = f"symbols.{name}"
            if options is None:
                options = {}
            if not isinstance(name, str):
                raise self.fail("symbols", f"a symbol is a name, got {_kind_of(name)}")
            if not isinstance(options, dict):
                raise self.fail(where, "each symbol is a name, optionally with {latex: ..., integer: ...}")
            self.check_keys(where, options, ("latex", "integer"), f"symbol {name!r}")
            integer = options.get("integer", True)
            latex = options.get("latex")
            if not isinstance(integer, bool) or not (latex is None or isinstance(latex, str)):
                raise self.fail(where, "latex must be text and integer true or false")
            try:
                self.names[name] = sym.symbol(name, latex, integer=integer)
            except ValueError as err:
                raise self.fail(where, str(err)) from None

    def input_shape(self, value: object) -> Shape:
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_RANK:
            raise self.fail("input", f"must be a list of 1 to {MAX_RANK} sizes such as [3, H, W], "
                            f"got {_kind_of(value)}")
        dims = [self.value(v, f"input[{i}]", "size") for i, v in enumerate(value)]
        try:
            return Shape(*dims)
        except SymcostError as err:
            raise self.fail("input", str(err)) from None

    # -- layers and containers -----------------------------------------------
    def sequence(self, items: object, path: str, depth: int) -> Sequential:
        if not isinstance(items, list) or not items:
            raise self.fail(path, f"must be a non-empty list of layers, got {_kind_of(items)}")
        return Sequential(*(self.node(item, f"{path}[{i}]", depth) for i, item in enumerate(items)), source=path)

    def node(self, item: object, path: str, depth: int) -> object:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(path, f"a spec may hold at most {MAX_NODES:,} layers")
        if depth > MAX_NESTING:
            raise self.fail(path, f"containers are nested deeper than {MAX_NESTING} levels")
        if not isinstance(item, dict):
            raise self.fail(path, f"must be a mapping with a 'kind', got {_kind_of(item)}")
        kind = item.get("kind")
        if not isinstance(kind, str):
            raise self.fail(path, f"needs a 'kind' (text), got {_kind_of(kind)}")
        name = item.get("name")
        if name is not None and (not isinstance(name, str) or not name):
            raise self.fail(path, f"name must be non-empty text, got {_kind_of(name)}")
        if name is not None:
            try:
                display_name(name, layer=kind if isinstance(kind, str) else "layer")
            except SymcostError as err:
                raise self.fail(path, str(err)) from None
        container = kind.replace("_", "").lower()
        if container in CONTAINERS:
            return self.container(container, item, path, depth, name)
        return self.layer(kind, item, path)

    def container(self, kind: str, item: dict, path: str, depth: int, name: str | None) -> object:
        self.check_keys(path, item, ("kind", "name", *CONTAINERS[kind]), kind)
        need = {"sequential": "layers", "residual": "body", "concat": "branches", "repeat": "body"}[kind]
        if need not in item:
            raise self.fail(path, f"{kind} needs '{need}'")
        if kind == "sequential":
            inner = self.sequence(item["layers"], f"{path}.layers", depth + 1)
            return Sequential(*inner.children, name=name, source=path)
        if kind == "residual":  # the body is transparent: rows read block1.conv2, as DESIGN.md names them
            body = Sequential(*self.sequence(item["body"], f"{path}.body", depth + 1).children, name="",
                              source=f"{path}.body")
            shortcut = (self.sequence(item["shortcut"], f"{path}.shortcut", depth + 1)
                        if item.get("shortcut") is not None else None)
            join = self.text(item.get("join", "add"), f"{path}.join")
            return Residual(body, shortcut, name=name, join=join, source=path)
        if kind == "concat":
            branches = item["branches"]
            if not isinstance(branches, list) or len(branches) < 2:
                raise self.fail(f"{path}.branches", f"must be a list of two or more layer lists, got {_kind_of(branches)}")
            parts = [self.sequence(b, f"{path}.branches[{i}]", depth + 1) for i, b in enumerate(branches)]
            pad = item.get("pad", False)
            if not isinstance(pad, bool):
                raise self.fail(f"{path}.pad", f"must be true or false, got {_kind_of(pad)}")
            join = self.text(item.get("join", "concat"), f"{path}.join")
            return Concat(*parts, name=name, pad=pad, join=join, source=path)
        times = self.value(item.get("times"), f"{path}.times", "times")
        body = self.sequence(item["body"], f"{path}.body", depth + 1)
        try:
            return Repeat(body, times, name=name, source=path)
        except SymcostError as err:
            raise self.fail(path, str(err)) from None

    def layer(self, kind: str, item: dict, path: str) -> object:
        try:
            cls = layer_class(kind)
        except UnknownLayerError:
            raise self.fail(path, _unknown("kind", kind, [*kinds(), *CONTAINERS])) from None
        fields = cls.arguments()
        allowed = [f.name for f in fields]
        types = {f.name: str(f.type) for f in fields}
        arguments = {}
        for key, value in item.items():
            if not isinstance(key, str):
                raise self.fail(path, f"{cls.__name__}: argument names are text, got {_kind_of(key)}")
            if key in ("kind", "name"):
                continue
            if key in IGNORED:
                continue
            if key not in allowed:
                raise self.fail(path, _unknown("argument", key, allowed, owner=cls.__name__))
            if types[key] == "bool" and not isinstance(value, bool):
                raise self.fail(f"{path}.{key}", f"{key} must be true or false, got {_kind_of(value)}")
            arguments[key] = self.argument(value, f"{path}.{key}", key)
        missing = [f.name for f in fields if f.name not in arguments
                   and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        if missing:
            raise self.fail(path, f"{cls.__name__} needs {', '.join(repr(m) for m in missing)}")
        try:
            return cls(**arguments, name=item.get("name"), source=path)
        except SymcostError as err:
            raise self.fail(path, str(err)) from None

    # -- values ----------------------------------------------------------------
    def argument(self, value: object, path: str, argument: str) -> object:
        if argument in TEXT:
            return self.text(value, path)
        if isinstance(value, list) and argument in SEQUENCES:
            if not 1 <= len(value) <= 32 or any(isinstance(v, (list, dict)) for v in value):
                raise self.fail(path, f"must be a flat list of 1 to 32 values, got {len(value)} values")
            return tuple(self.argument(v, path, argument) for v in value)
        if isinstance(value, list):
            if len(value) > MAX_RANK:  # the layer checks the length it takes (a pair, a triple...)
                raise self.fail(path, f"must be one value or a list of at most {MAX_RANK}, got {len(value)} values")
            return tuple(None if v is None else self.argument(v, path, argument) for v in value)
        if isinstance(value, str) and value in WORDS.get(argument, ()):
            return value
        if isinstance(value, str) and argument in WORDS and value.isidentifier() and value not in self.names:
            words = ", ".join(repr(w) for w in WORDS[argument])
            raise self.fail(path, f"{argument} must be a number, an expression or one of {words}, got {value!r}")
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self.fail(path, f"must be a finite number, got {value}")
            return value  # the layer refuses it where its formulas need an exact number
        return self.value(value, path, argument)

    def value(self, value: object, path: str, argument: str) -> object:
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            if abs(value) > MAX_INT:
                raise self.fail(path, f"{argument} must be at most 10**18 in size, got a {len(str(abs(value)))}-digit number")
            return value
        if isinstance(value, str):
            try:
                return parse(value, self.names)
            except ExpressionError as err:
                raise self.fail(path, str(err)) from None
        if value is None:
            raise self.fail(path, f"{argument} is missing or null")
        raise self.fail(path, f"{argument} must be an integer, a symbol or an expression, got {_kind_of(value)}")

    def text(self, value: object, path: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(path, f"must be non-empty text, got {_kind_of(value)}")
        return value

    def check_keys(self, path: str, mapping: dict, allowed: tuple, owner: str) -> None:
        for key in mapping:
            if not isinstance(key, str):
                raise self.fail(path, f"{owner}: keys are text, got {_kind_of(key)}")
            if key not in allowed:
                raise self.fail(path, _unknown("key", str(key), list(allowed), owner=owner))


def _unknown(what: str, given: str, valid: list[str], owner: str | None = None) -> str:
    """``Conv2d has no argument 'strides'; did you mean 'stride'? arguments: ...``."""
    head = f"{owner} has no {what} {given!r}" if owner else f"unknown {what} {given!r}"
    return f"{head}; {did_you_mean(given, valid)}{what}s: {', '.join(valid)}"


def _kind_of(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"a list of {len(value)}" if value else "an empty list"
    return f"{type(value).__name__} {value!r}"[:80]
