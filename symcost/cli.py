"""The ``symcost`` command. This is the one module that prints.

    symcost report vgg16                          # a table with totals, exact numbers
    symcost report net.yaml --input 3,H,W         # formulas in H and W
    symcost report resnet50 --set H=W=512 --format json
    symcost compare "separableconv2d(C_out, K, padding=same)" "conv2d(C_out, K, padding=same)"
    symcost sweep resnet50 --set H=W=128:512:32 --metric macs
    symcost layers | explain Conv2d | zoo

Errors are one line on stderr and exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import ast
import csv
import inspect
import io
import json
import os
import re
import sys
from pathlib import Path

import sympy

from . import __version__
from .layers import catalogue
from .frontends import spec, zoo
from .analysis.compare import Comparison, break_even, metric_of, ratio
from .analysis.derivation import derive
from .networks.containers import Model
from .printing.numbers import formula, number, with_units
from .core.errors import SymcostError, UnknownModelError, did_you_mean, with_context
from .core.evaluate import substitute
from .core.expressions import parse
from .networks.floors import FLOOR_MODES
from .networks.validity import check_grid
from .layers.base import Layer
from .core.shape import Shape
from .core.symbols import known, symbol
from .analysis.sweep import MAX_POINTS, check_points, sweep
from .printing.text import report_table, table
from .printing.json_view import quantity, report_view
from .printing.peer_views import peer_view

FORMATS = ("text", "markdown", "latex", "json")
METRICS = ("params", "macs", "flops", "activations")
SPEC_SUFFIXES = (".yaml", ".yml", ".json")
#: Longest layer call accepted by ``compare``.
MAX_CALL = 500
#: File types ``sweep --plot`` writes.
PLOT_SUFFIXES = (".png", ".pdf", ".svg")
#: Input sizes ``--set H=...`` / ``--set W=...`` make symbolic when the model's own input is numbers.
SIZES = {"H", "W"}


class UsageError(ValueError, SymcostError):
    """A command-line value symcost cannot use."""


class OutputError(OSError, SymcostError):
    """The result could not be written (``-o``, ``--plot`` or stdout)."""


# -- reading the command line ---------------------------------------------------
def load_model(name: str, arguments: dict | None = None) -> tuple[Model, str]:
    """A zoo model (built with ``arguments``, see :func:`zoo_settings`) or a spec file, and the label errors
    lead with."""
    if "(" in name and not Path(name).is_file():
        return zoo_call(name), name
    if _is_spec(name):
        if not Path(name).is_file():
            raise UsageError(f"{name}: no such spec file")
        return spec.load(name), Path(name).name
    return zoo.get(name, **(arguments or {})), name


def _is_spec(name: str) -> bool:
    return name.lower().endswith(SPEC_SUFFIXES) or "/" in name or Path(name).is_file()


def zoo_settings(name: str, values: dict) -> tuple[dict, dict]:
    """``--set`` values naming an argument of zoo model ``name``'s factory (``n_ctx`` of gpt2), which build
    the model, and the others, which substitute its symbols; all are the others for a spec or a call."""
    parameters = zoo_arguments(name)
    built = {k: v for k, v in values.items() if k in parameters}
    return built, {k: v for k, v in values.items() if k not in built}


def zoo_arguments(name: str) -> set[str]:
    """The keyword arguments of zoo model ``name``'s factory; none for a spec, a call or an unknown name."""
    if "(" in name or _is_spec(name):
        return set()
    try:
        factory = zoo.factory(name)
    except UnknownModelError:  # load_model says so
        return set()
    return {p.name for p in inspect.signature(factory).parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def zoo_call(text: str) -> Model:
    """``mobilenet_v1(alpha=1/2)``: a zoo model built with keyword arguments (literals or safe expressions)."""
    kind, positional, keywords = parse_call(text, "a zoo model", "mobilenet_v1(alpha=1/2)")
    if positional:
        raise UsageError(f"{text!r}: give zoo arguments by name, e.g. mobilenet_v1(alpha=1/2)")
    kwargs = {}
    for key, node in keywords:
        value = _call_value(text, node)
        kwargs[key] = parse(value, known()) if _is_expression(node) else value
    try:
        return zoo.get(kind, **kwargs)
    except TypeError as err:
        if isinstance(err, SymcostError):
            raise
        raise UsageError(f"{text!r}: {err}") from None


def _is_expression(node: ast.AST) -> bool:
    return not isinstance(node, (ast.Constant, ast.Tuple, ast.List))


def load_torch_model(target: str, args: argparse.Namespace) -> tuple[Model, str]:
    """``package.module:factory``: imports the module (running its code) and converts ``factory()``."""
    import importlib
    import os

    module_name, _, factory_name = target.partition(":")
    if not all(part.isidentifier() for part in module_name.split(".")) or not factory_name.isidentifier():
        raise UsageError(f"--from-torch {target!r}: write MODULE:FACTORY, e.g. mypkg.models:resnet")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as err:  # the module's own code failed: any exception, reported on one line
        raise UsageError(f"--from-torch {target!r}: cannot import {module_name!r}: {type(err).__name__}: {err}") from None
    factory = getattr(module, factory_name, None)
    if not callable(factory):
        raise UsageError(f"--from-torch {target!r}: {module_name} has no callable {factory_name!r}")
    from .frontends.pytorch import from_torch

    shape = parse_input(args.input) if args.input is not None else None
    dtype = _INPUT_DTYPES[getattr(args, "input_dtype", None) or "float"]
    if dtype is not None and shape is None:
        raise UsageError("--input-dtype needs --input (token ids: --input L --input-dtype long)")
    try:
        built = factory()
    except Exception as err:  # user code: whatever it raises becomes one line
        raise UsageError(f"--from-torch {target!r}: {factory_name}() failed: {type(err).__name__}: {err}") from None
    if dtype is not None:
        import torch

        dtype = getattr(torch, dtype)
    return from_torch(built, shape, dtype=dtype), target


#: --input-dtype: the torch dtype of a --from-torch model's input (token ids are long).
_INPUT_DTYPES = {"float": None, "long": "long", "int": "int32"}


def input_shape(args: argparse.Namespace, model: Model, symbolic: bool) -> Shape | None:
    """``--input``, else (C, H, W) when sizes are bound or swept and the model's input is numbers,
    else the model's own input (a spec's ``[3, 2*H, 2*H]`` is kept)."""
    if args.input is not None:
        return parse_input(args.input)
    if model.input_shape is None:
        raise UsageError(f"{model.name}: has no 'input'; give one with --input, e.g. --input 3,H,W")
    numeric = not model.input_shape.free_symbols
    if symbolic and numeric and model.input_shape.is_feature_map:
        return Shape(model.input_shape.C, known()["H"], known()["W"])
    return None


def parse_input(text: str) -> Shape:
    """``3,H,W`` -> Shape(3, H, W)."""
    if not text.strip():
        raise UsageError("--input '': give the input shape, e.g. --input 3,224,224 or --input 3,H,W")
    entries = [e.strip() for e in text.split(",")]
    return Shape(*(parse(e, known()) for e in entries))


def parse_settings(items: list[str], *, ranges: bool = False) -> dict[str, object]:
    """``H=224``, ``H=W=224`` (names sharing a value) and, for sweeps, ``H=128:512:32`` or ``H=1,2,3``."""
    return {name: value for names, value in parse_groups(items, ranges=ranges) for name in names}


def parse_groups(items: list[str], *, ranges: bool = False) -> list[tuple[list[str], object]]:
    """Each ``--set`` as (its names, its value): only ``H=W=...`` ties names; a name is set once."""
    groups: list[tuple[list[str], object]] = []
    seen: set[str] = set()
    for item in items:
        *names, text = [part.strip() for part in item.split("=")]
        if not names or not text or not all(names):
            raise UsageError(f"--set {item!r}: write NAME=VALUE (or NAME=NAME=VALUE)")
        value = parse_range(item, text) if ranges else parse(text, known())
        for name in names:
            if not name.isidentifier():
                raise UsageError(f"--set {item!r}: {name!r} is not a symbol name")
            if name in seen:
                raise UsageError(f"--set {item!r}: {name} is set twice")
            seen.add(name)
        groups.append((names, value))
    return groups


def check_settings(values: dict, names: set[str], subject: str, arguments: set[str] = frozenset()) -> None:
    """Every ``--set`` name must be a symbol of ``subject`` (whose free symbols are ``names``); a zoo
    model's factory ``arguments`` (taken already) are named in the message too."""
    for name in values:
        if name not in names:
            have = f"its symbols are {', '.join(sorted(names))}" if names else "it has no symbols (every size is a number)"
            if arguments:
                have += f"; its arguments are {', '.join(sorted(arguments))}"
            hint = did_you_mean(name, sorted(names | set(arguments)))
            raise UsageError(f"--set {name}: {subject} has no symbol {name!r}; {hint}{have}")


def report_symbols(report: object) -> set[str]:
    """The names of a report's free symbols: its input, output, totals, receptive field and rows."""
    total = report.total
    exprs = [*report.input_shape, *report.out_shape, total.params, total.buffers, total.macs, total.flops(),
             total.activations, *report.rf.size, *report.rf.stride, *report.rf.padding]
    exprs += [d for row in report.rows for d in row.cost.out_shape]
    return {s.name for e in exprs for s in getattr(e, "free_symbols", ())}  # Shape entries are SymPy expressions


def parse_range(item: str, text: str) -> list[int]:
    """``128:512:32`` (stop included), ``1,2,3`` or one value, as ints."""
    if ":" in text:
        parts = [parse(p, {}) for p in text.split(":")]
        if len(parts) not in (2, 3) or not all(p.is_Integer for p in parts):
            raise UsageError(f"--set {item!r}: a range is START:STOP[:STEP] in integers")
        start, stop, step = (int(p) for p in (*parts, 1)[:3])
        if step < 1 or stop < start:
            raise UsageError(f"--set {item!r}: a range needs STEP >= 1 and STOP >= START")
        values = range(start, stop + 1, step)  # lazy: its length is checked before anything is built
    else:
        values = [parse(p, {}) for p in text.split(",")]
        if not all(v.is_Integer for v in values):
            raise UsageError(f"--set {item!r}: sweep values must be integers")
        values = [int(v) for v in values]
    if len(values) > 10**7:
        raise UsageError(f"--set {item!r}: at most 10,000,000 values per symbol")
    return values


def parse_call(text: str, what: str = "a layer", example: str = "conv2d(64, 3, padding=1)",
               ) -> tuple[str, list[ast.AST], list[tuple[str, ast.AST]]]:
    """``name(a, b, key=value)`` read with ``ast`` (never run): the name, positional and keyword nodes."""
    if len(text) > MAX_CALL:
        raise UsageError(f"{text[:40]!r}...: longer than {MAX_CALL} characters")
    try:
        call = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        call = None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
        form = "kind(arguments)" if what == "a layer" else "name(arguments)"
        raise UsageError(f"{text!r}: write {what} as {form}, e.g. {example}")
    keywords = []
    for k in call.keywords:
        if k.arg is None:
            raise UsageError(f"{text!r}: ** arguments are not allowed")
        if k.arg in [key for key, _ in keywords]:
            raise UsageError(f"{text!r}: keyword {k.arg!r} is given twice")
        keywords.append((k.arg, k.value))
    if any(isinstance(a, ast.Starred) for a in call.args):
        raise UsageError(f"{text!r}: * arguments are not allowed")
    return call.func.id, list(call.args), keywords


def parse_layer(text: str) -> Layer:
    """``conv2d(C_out, K, stride=2, padding=same)``: a call whose arguments are spec values."""
    kind, args, keywords = parse_call(text)
    builder = spec._Builder(text)
    item: dict[str, object] = {"kind": kind}
    try:
        cls = spec.layer_class(kind)
    except SymcostError:
        return builder.layer(kind, item, "layer")
    positional = [f.name for f in cls.arguments()]
    if len(args) > len(positional):
        raise UsageError(f"{text!r}: {cls.__name__} takes at most {len(positional)} positional arguments")
    for key, node in list(zip(positional, args)) + keywords:
        if key in item:
            raise UsageError(f"{text!r}: {key!r} is given twice (by position and by name)")
        item[key] = _call_value(text, node)
    return builder.layer(kind, item, "layer")


def _call_value(text: str, node: ast.AST) -> object:
    """A literal (int, bool, text, pair) as is; anything else as expression text for the safe parser."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)):
        return node.value
    if isinstance(node, (ast.Tuple, ast.List)):
        return [_call_value(text, e) for e in node.elts]
    segment = ast.get_source_segment(text, node)
    return segment if segment is not None else ""


# -- commands -------------------------------------------------------------------
def analyzed_report(args: argparse.Namespace, command: str = "report") -> tuple[object, str]:
    """The report ``args`` ask for (model or --from-torch, --input, --convention, --floor, --set), and its label."""
    if (args.model is None) == (getattr(args, "from_torch", None) is None):
        raise UsageError(f"{command} takes a MODEL_OR_FILE or --from-torch MODULE:FACTORY (one of them)")
    values = parse_settings(args.set)
    if getattr(args, "from_torch", None):
        model, label = load_torch_model(args.from_torch, args)
    else:
        arguments, values = zoo_settings(args.model, values)
        model, label = load_model(args.model, arguments)
    shape = input_shape(args, model, symbolic=bool(SIZES & set(values)))
    try:
        report = model.analyze(shape, args.convention, floor=args.floor)
    except SymcostError as err:
        raise _from_file(err, label) from None
    check_settings(values, report_symbols(report), label, zoo_arguments(args.model) if args.model else set())
    try:
        if values:
            report = report.subs(values)
    except SymcostError as err:
        raise _from_file(err, label) from None
    return report, label


def roofline_command(args: argparse.Namespace) -> str:
    """The per-layer roofline table on a device (``--plot`` also draws it)."""
    from .core.hardware import load_hardware
    from .printing.tables import render

    from .networks.roofline import compute_bound_at

    batch = _batch(args.batch)
    if args.crossover and not isinstance(batch, sympy.Symbol):
        raise UsageError("--crossover solves for the batch: give it as a symbol, e.g. --batch B")
    extra = load_hardware(args.hardware_file) if args.hardware_file else None
    report, _ = analyzed_report(args, "roofline")
    rf = report.batched(batch).roofline(args.hardware, args.dtype, convention=args.convention, extra=extra)
    if args.plot:
        from .printing.roofline_figure import plot_roofline

        plot_roofline(rf, args.plot)
    out = render(rf, args.format).rstrip("\n")  # write() ends the output with one newline
    if not args.crossover:
        return out
    at = compute_bound_at(rf.total, batch)
    if args.format == "json":
        return json.dumps({**json.loads(out), "crossover": {"symbol": str(batch), "value": quantity(at)}}, indent=2)
    if at == sympy.oo:
        line = "whole model: memory-bound at every batch (no crossover)"
    elif at.is_number and at <= 1:
        line = f"whole model: compute-bound at every batch (the crossing, {batch} = {at}, is at most 1)"
    else:
        shown = f" (~{float(at):.4g})" if at.is_number else ""
        line = f"whole model: compute-bound from {batch} = {at}{shown}"
    from .printing.markup import escape_latex, escape_markdown

    if args.format == "text":
        return out + "\n" + line
    return out + "\n\n" + (escape_markdown(line) if args.format == "markdown" else escape_latex(line) + r"\par")


def _batch(text: str) -> object:
    """``--batch``: a positive integer or a symbol name (``B``)."""
    if text.isdigit() and len(text) <= 18 and int(text) > 0:
        return int(text)
    if text.isidentifier() and len(text) <= 32:
        return symbol(text)
    raise UsageError(f"--batch {text!r}: give a positive integer or a symbol name such as B")


def report_command(args: argparse.Namespace) -> str:
    if args.traffic and args.format not in ("text", "json"):
        raise UsageError("--traffic shows in --format text or json; for markdown, use symcost roofline")
    report, _ = analyzed_report(args)
    if args.view is not None:  # the tool's own text layout
        if args.format != "text" or args.units or args.convention != "exact":
            raise UsageError(f"--as {args.view} prints {args.view}'s own text layout and counts; "
                             "leave out --format, --units and --convention")
        return str(peer_view(report, args.view, dtype=args.dtype))
    if args.format == "json":
        return json.dumps(report_view(report, args.dtype, traffic=args.traffic), indent=2)
    if args.format == "text":
        return report_table(report_view(report, args.dtype, traffic=args.traffic, named=not args.expand),
                            units=args.units)
    options = {"units": args.units, "expand": args.expand, "fields": args.columns, "group_by": args.group_by}
    if args.metric is not None:
        options["metric"] = args.metric
    if args.format == "markdown":
        return report.to_markdown(**options)
    _check_label(args.label)
    return report.to_latex(standalone=args.standalone, caption=args.caption, label=args.label, **options)


#: What a LaTeX label may hold: it goes into \label{...} and \ref{...} as is.
_LABEL = re.compile(r"[A-Za-z0-9:._/+-]{1,100}\Z")


def _check_label(label: str | None) -> None:
    if label is not None and not _LABEL.match(label):
        raise UsageError(f"--label {label[:40]!r}: a label may hold only letters, digits and : . _ / + - "
                         "(1 to 100 characters), e.g. tab:resnet50")


def train_command(args: argparse.Namespace) -> str:
    """One training step: the memory ledger and FLOPs (symcost.networks.training), batch ``B`` unless set."""
    from .core.symbols import B
    from .printing.training_view import training_json

    arguments, values = zoo_settings(args.model, parse_settings(args.set))
    model, label = load_model(args.model, arguments)
    try:
        over = parse_groups([args.over], ranges=True) if args.over else []
    except UsageError as err:  # parse_groups speaks of --set
        raise UsageError(str(err).replace("--set", "--over", 1)) from None
    if (args.plot is None) != (args.over is None):
        raise UsageError("train: --plot PNG and --over NAME=START:STOP[:STEP] go together")
    if args.plot is not None and not args.plot.lower().endswith(PLOT_SUFFIXES):
        raise UsageError(f"--plot {args.plot!r}: write a {', '.join(PLOT_SUFFIXES)} file")
    memory = _memory_bytes(args.memory) if args.memory is not None else None
    shape = input_shape(args, model, symbolic=bool(SIZES & (set(values) | {n for g, _ in over for n in g})))
    try:
        report = model.analyze(shape, args.convention, floor=args.floor, batch=B)
        check_settings({**values, **{n: 0 for g, _ in over for n in g}}, report_symbols(report), label,
                       zoo_arguments(args.model))
        step = report.training(args.precision, args.optimizer, args.recompute)
        if over:
            from .printing.memory_figure import memory_figure
            import matplotlib.pyplot as plt

            (names, points), = over
            if len(names) != 1 or names[0] in values:
                raise UsageError("--over: one NAME, not also given by --set")
            plt.close(memory_figure(step, names[0], points, args.plot, fixed=values))
        if values:
            step = step.subs(values)
    except SymcostError as err:
        raise _from_file(err, label) from None
    if args.format == "json":
        return json.dumps(training_json(step, convention=args.convention, memory_bytes=memory), indent=2)
    options = {"convention": args.convention, "units": args.units, "memory_bytes": memory}
    if args.format == "markdown":
        return step.to_markdown(**options)
    if args.format == "latex":
        return step.to_latex(**options)
    from .printing.jinja import to_text

    return to_text(step, **options)


def _memory_bytes(text: str) -> sympy.Expr:
    """``--memory 80*10**9``: a positive integer of bytes."""
    value = parse(text, {})
    if not (value.is_Integer and value > 0):
        raise UsageError(f"--memory {text!r}: give a positive integer of bytes, e.g. 80*10**9")
    return value


def _from_file(err: SymcostError, label: str) -> SymcostError:
    """Analysis errors of a spec file lead with the file, as its loading errors do."""
    return err if str(err).startswith(f"{label}:") else with_context(err, label)


def compare_command(args: argparse.Namespace) -> str:
    values = parse_settings(args.set)
    subjects = []
    for text in (args.a, args.b):
        if "(" in text and not _is_model_call(text):
            shape = parse_input(args.input if args.input is not None else "C_in,H,W")
            cost = parse_layer(text).cost(shape)
            try:  # the numbers must keep the layer's rules, as in report
                if values:
                    cost.subs(values)
            except SymcostError as err:
                raise with_context(err, text) from None
            expr = metric_of(cost, args.metric, convention=args.convention)
            symbols = {s.name for s in expr.free_symbols}
        else:
            model, label = load_model(text)
            shape = input_shape(args, model, symbolic=bool(SIZES & set(values)))
            try:
                report = model.analyze(shape, args.convention, floor=args.floor)
                symbols = report_symbols(report)
                if values:  # Report.subs checks the floor mode's divisibility, as report does
                    report = report.subs({k: v for k, v in values.items() if k in symbols})
            except SymcostError as err:
                raise _from_file(err, label) from None
            expr = metric_of(report, args.metric, convention=args.convention)
        subjects.append((text, expr, symbols))
    (name_a, a, symbols_a), (name_b, b, symbols_b) = subjects
    check_settings(values, symbols_a | symbols_b, "neither A nor B")
    a, b = substitute(a, values), substitute(b, values)
    result = {"a": name_a, "b": name_b, "metric": args.metric, "convention": args.convention,
              "a_cost": quantity(a), "b_cost": quantity(b), "ratio": quantity(ratio(a, b, args.metric))}
    if args.break_even:
        symbol = known().get(args.break_even)
        if symbol is None:
            raise UsageError(f"--break-even {args.break_even!r}: unknown symbol")
        result["break_even"] = {"symbol": args.break_even,
                                "solutions": [quantity(s) for s in break_even(a, b, symbol)]}
    if args.format == "json":
        return json.dumps(result, indent=2)
    if args.format in ("latex", "markdown"):
        symbol = known()[args.break_even] if args.break_even else None
        shown = Comparison(a, b, ratio(a, b, args.metric), args.metric, args.convention, (name_a, name_b), symbol,
                           tuple(break_even(a, b, symbol)) if symbol is not None else ())
        return shown.to_latex(standalone=args.standalone) if args.format == "latex" else shown.to_markdown()
    lines = [f"A  {name_a}", f"   {args.metric} = {_cell(result['a_cost'], a)}",
             f"B  {name_b}", f"   {args.metric} = {_cell(result['b_cost'], b)}",
             f"ratio A/B = {_cell(result['ratio'], ratio(a, b, args.metric))}"]
    if "break_even" in result:
        shown = ", ".join(formula(s) for s in break_even(a, b, known()[args.break_even])) or "none"
        lines.append(f"break-even {args.break_even} = {shown}")
    return "\n".join(lines)


def _is_model_call(text: str) -> bool:
    """``mobilenet_v1(alpha=1/2)`` names a zoo model; ``conv2d(...)`` a layer."""
    head = text.split("(", 1)[0].strip()
    return head.replace("_", "").replace("-", "").lower() in {n.replace("_", "").lower() for n in zoo.names()}


def _cell(q: dict, expr: sympy.Expr) -> str:
    return number(q["value"]) if q["value"] is not None else formula(expr)


def sweep_command(args: argparse.Namespace) -> str:
    groups = parse_groups(args.set, ranges=True)
    arguments, _ = zoo_settings(args.model, dict.fromkeys(n for names, _ in groups for n in names))
    model, label = load_model(args.model, {n: symbol(n) for n in arguments})  # a swept zoo argument: its symbol
    check_points({" = ".join(names): values for names, values in groups}, args.max_points)
    if not groups:
        raise UsageError("sweep needs at least one --set NAME=START:STOP[:STEP]")
    if args.plot is not None and not args.plot.lower().endswith(PLOT_SUFFIXES):
        raise UsageError(f"--plot {args.plot!r}: write a {', '.join(PLOT_SUFFIXES)} file")
    swept = {name for names, _ in groups for name in names}
    shape = input_shape(args, model, symbolic=bool(SIZES & swept))
    try:
        report = model.analyze(shape, args.convention, floor=args.floor)
    except SymcostError as err:
        raise _from_file(err, label) from None
    check_settings(dict.fromkeys(swept), report_symbols(report), label)
    expr = metric_of(report, args.metric, convention=args.convention)
    tied = {known()[n]: known()[names[0]] for names, _ in groups for n in names[1:]}
    expr = expr.xreplace(tied)
    axes = {names[0]: list(values) for names, values in groups}
    left = sorted(s.name for s in expr.free_symbols if s.name not in axes)
    if left:
        raise UsageError(f"sweep: {', '.join(left)} still free; give each a --set")
    unused = [" = ".join(names) for names, _ in groups if known()[names[0]] not in expr.free_symbols]
    if unused:
        raise UsageError(f"sweep: the {args.metric} of {report.model} do not depend on {', '.join(unused)}; "
                         f"sweep only symbols the {args.metric} depend on")
    try:  # every layer's rules, at every point
        check_grid(report, {tuple(names): values for names, values in groups})
    except SymcostError as err:
        raise _from_file(err, label) from None
    result = sweep(expr, exact=True, progress=args.progress or None, max_points=args.max_points,
                   **{n: v for n, v in axes.items()})
    labels = [" = ".join(names) for names, _ in groups]
    rows = [[*(str(point[n]) for n in axes), str(value)] for point, value in result.rows()]
    if args.plot:
        _plot(args.plot, labels, rows, args.metric, report.model)
    if args.format == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([*labels, args.metric])
        writer.writerows(rows)
        return out.getvalue().rstrip("\n")
    shown_rows = [[*r[:-1], number(int(r[-1]), args.units)] for r in rows]
    header = (*labels, f"{args.metric} ({args.convention})" if args.metric == "flops" else args.metric)
    lines = table(header, shown_rows, right=set(header))
    return "\n".join([f"{report.model}: {args.metric} over {len(rows):,} points", lines[0],
                      "-" * len(lines[0]), *lines[1:]])


def _plot(path: str, labels: list[str], rows: list[list[str]], metric: str, model: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install 'symcost[plot]'") from None
    figure, axis = plt.subplots(figsize=(6, 4))
    if len(labels) == 1:
        axis.plot([int(r[0]) for r in rows], [int(r[-1]) for r in rows], marker="o")
        axis.set_xlabel(labels[0])
    else:
        series: dict[str, list] = {}
        for r in rows:
            series.setdefault(r[1], []).append((int(r[0]), int(r[-1])))
        for key, points in series.items():
            axis.plot(*zip(*points), marker="o", label=f"{labels[1]} = {key}")
        axis.set_xlabel(labels[0])
        axis.legend(fontsize="small")
    from matplotlib.ticker import FuncFormatter

    axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: with_units(sympy.Integer(round(value)))))
    axis.set_ylabel({"macs": "MACs", "flops": "FLOPs"}.get(metric, metric))
    axis.set_title(model)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    try:
        figure.savefig(path, dpi=120)
    except OSError as err:
        raise OutputError(f"--plot {path!r}: cannot write: {err.strerror or err}") from None
    finally:
        plt.close(figure)


def zoo_command(args: argparse.Namespace) -> str:
    rows = []
    for name in zoo.names():
        model = zoo.get(name)
        total = model.analyze().total
        rows.append({"name": name, "input": [str(d) for d in model.input_shape],
                     "params": quantity(total.params), "macs": quantity(total.macs)})
    if args.format == "json":
        return json.dumps(rows, indent=2)
    cells = [[r["name"], "(" + ", ".join(r["input"]) + ")", number(r["params"]["value"], args.units),
              number(r["macs"]["value"], args.units)] for r in rows]
    lines = table(("model", "input", "params", "MACs"), cells, right={"params", "MACs"})
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def layers_command(args: argparse.Namespace) -> str:
    rows = []
    for ex in catalogue.examples():
        cost = ex.cost()
        rows.append([cost.kind, " ".join(str(s) for s in ex.inputs), formula(cost.params.total),
                     formula(cost.flops())])
    lines = table(("kind", "input", "params", "exact FLOPs"), rows)
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def explain_command(args: argparse.Namespace) -> str:
    if "(" in args.kind:
        return _explain_call(args)
    if args.input is not None:
        raise UsageError(f"explain {args.kind}: --input needs a layer call, e.g. \"conv2d(96, 11, stride=4)\"")
    ex = catalogue.example(args.kind)
    cost = ex.cost()
    quantities = {
        "output": cost.out_shape, "params (weight)": cost.params.weight, "params (bias)": cost.params.bias,
        "buffers": cost.params.buffer_total, "MACs": cost.macs,
        **{f"ops: {k}": v for k, v in cost.ops.as_dict().items() if k != "macs" and v != 0},
        "FLOPs (exact)": cost.flops(), "FLOPs (macs)": cost.flops("macs"), "activations": cost.activations,
    }
    if args.format == "json":
        return json.dumps({"kind": cost.kind, "layer": repr(ex.layer), "input": [str(s) for s in ex.inputs],
                           **{k: ([str(d) for d in v] if isinstance(v, Shape) else quantity(v))
                              for k, v in quantities.items()}}, indent=2)
    if args.format == "markdown":
        return cost.to_markdown()
    if args.format == "latex":
        return cost.to_latex()
    rows = [["layer", repr(ex.layer)], ["input", ", ".join(str(s) for s in ex.inputs)],
            *[[k, str(v) if isinstance(v, Shape) else formula(v)] for k, v in quantities.items()],
            *[[f"receptive field step {i + 1}", f"kernel {s.kernel}, stride {s.stride}, padding {s.padding}"]
              for i, s in enumerate(cost.rf)]]
    lines = table(("quantity", "formula"), rows)
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def _explain_call(args: argparse.Namespace) -> str:
    """The derivation of one layer call: each quantity's general formula, the numbers put in, the value."""
    layer = parse_layer(args.kind)
    shapes = (parse_input(args.input),) if args.input is not None else ()
    derivation = derive(layer, *shapes)
    if args.format == "markdown":
        return derivation.to_markdown()
    if args.format == "latex":
        return derivation.to_latex()
    values = dict(derivation.values)
    steps = derivation.steps
    if args.format == "json":
        return json.dumps({"layer": args.kind, "kind": derivation.general.kind,
                           "values": {str(k): quantity(v) for k, v in values.items()},
                           "steps": [{"key": st.key, "name": st.name, "general": quantity(st.general),
                                      "value": quantity(st.value)} for st in steps]}, indent=2)
    numbers = {**values, **{sym: substitute(dim, values) for sym, dim in derivation.outputs}}
    rows = [[st.name if not st.symbols else f"{st.name} {' = '.join(map(str, st.symbols))}",
             formula(st.general), _put_in(st.general, numbers),
             number(st.value) if st.value.is_Integer else formula(st.value)] for st in steps]
    lines = table(("quantity", "formula", "with the numbers", "value"), rows, right={"value"})
    given = ", ".join(f"{k} = {v}" for k, v in values.items())
    return "\n".join([f"{args.kind} on {', '.join(str(s) for s in derivation.result.in_shapes)}"
                      + (f", with {given}" if given else ""), lines[0], "-" * len(lines[0]), *lines[1:]])


def _put_in(expr: sympy.Expr, numbers: dict) -> str:
    """``expr`` with the numbers written in, unevaluated (``3*96*11**2 + 96``); blank if none applies."""
    if not expr.free_symbols & set(numbers):
        return ""
    shown = {sym: sympy.Symbol(str(v) if v.is_Integer and v >= 0 else f"({v})") for sym, v in numbers.items()
             if sym in expr.free_symbols}  # stand-ins named by the numbers, so nothing evaluates
    return str(expr.xreplace(shown))


# -- the parser -----------------------------------------------------------------
def _analysis_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", metavar="C,H,W", help="input shape, e.g. 3,224,224 or 3,H,W (default: the model's)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="bind symbols, e.g. --set H=224 or --set H=W=224 (repeatable)")
    parser.add_argument("--convention", default="exact", help="FLOP convention: exact, macs, flops2, ...")
    parser.add_argument("--floor", choices=FLOOR_MODES, default="exact",
                        help="exact keeps floors; divisible assumes exact division (polynomials)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="symcost", description="Exact symbolic costs of neural networks.")
    parser.add_argument("--version", action="version", version=f"symcost {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    report = sub.add_parser("report", help="a network's cost: per-layer table and totals")
    report.add_argument("model", metavar="MODEL_OR_FILE", nargs="?",
                        help="a zoo name (symcost zoo) or a .yaml/.json spec")
    report.add_argument("--from-torch", metavar="MODULE:FACTORY",
                        help="import MODULE (this runs its code) and convert the torch.nn.Module FACTORY() returns")
    report.add_argument("--input-dtype", choices=sorted(_INPUT_DTYPES), default=None,
                        help="--from-torch: the input's dtype (long for token ids); float by default")
    _analysis_options(report)
    report.add_argument("--format", choices=FORMATS, default="text")
    report.add_argument("--units", action="store_true", help="K/M/G units instead of exact numbers")
    report.add_argument("--as", dest="view", metavar="TOOL",
                        help="show the report as a seed tool prints it: torchstat or torchsummary (numbers only)")
    report.add_argument("--columns", metavar="LIST", help="columns of a LaTeX table, e.g. params,macs,rf "
                        "(of type, output, params, macs, flops, rf)")
    report.add_argument("--metric", choices=("macs", "flops"), help="the operations column of a LaTeX/Markdown table")
    report.add_argument("--group-by", choices=("layer", "stage"), default="layer",
                        help="stage: one row per container with its subtotals")
    report.add_argument("--standalone", action="store_true", help="LaTeX: a whole document that compiles alone")
    report.add_argument("--caption", help="LaTeX: the table's caption (escaped)")
    report.add_argument("--label", help="LaTeX: the table's \\label, e.g. tab:resnet50")
    report.add_argument("--expand", action="store_true",
                        help="write every size in full instead of naming it (H_1 = ceil(H/2), listed under the table)")
    report.add_argument("--dtype", default="float32", help="dtype of param_bytes (float32, float16, ...)")
    report.add_argument("--traffic", action="store_true",
                        help="also the bytes each layer reads and writes, for --dtype (json: a bytes object per layer)")
    report.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")

    roof = sub.add_parser("roofline", help="per-layer arithmetic intensity and time bound on a device")
    roof.add_argument("model", metavar="MODEL_OR_FILE", nargs="?",
                      help="a zoo name (symcost zoo) or a .yaml/.json spec")
    roof.add_argument("--from-torch", metavar="MODULE:FACTORY",
                      help="import MODULE (this runs its code) and convert the torch.nn.Module FACTORY() returns")
    _analysis_options(roof)
    roof.set_defaults(convention="flops2")
    roof.add_argument("--hardware", required=True,
                      help="a preset (h100-sxm, a100-80gb, ...) or an entry of --hardware-file")
    roof.add_argument("--hardware-file", metavar="YAML",
                      help="your own hardware entries (layout: symcost/core/data/hardware.yaml)")
    roof.add_argument("--dtype", default="bfloat16", help="element type of weights and activations (default bfloat16)")
    roof.add_argument("--format", choices=("text", "markdown", "latex", "json"), default="text")
    roof.add_argument("--batch", default="1", metavar="N",
                      help="samples per pass: an integer or a symbol such as B (weights are read once per pass)")
    roof.add_argument("--crossover", action="store_true",
                      help="also solve for the batch at which the whole model turns compute-bound (--batch B)")
    roof.add_argument("--plot", metavar="PNG", help="also draw the roofline to PNG (needs matplotlib)")
    roof.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")

    compare = sub.add_parser("compare", help="the ratio of two layers' or two models' costs")
    compare.add_argument("a", metavar="A", help="a layer such as 'conv2d(C_out, K, padding=same)', a zoo name or a spec")
    compare.add_argument("b", metavar="B")
    _analysis_options(compare)
    compare.add_argument("--metric", choices=METRICS, default="flops")
    compare.add_argument("--break-even", metavar="SYMBOL", help="solve A = B for SYMBOL")
    compare.add_argument("--format", choices=FORMATS, default="text")
    compare.add_argument("--standalone", action="store_true", help="LaTeX: a whole document that compiles alone")
    compare.add_argument("-o", "--output", metavar="FILE")

    sweep_ = sub.add_parser("sweep", help="a model's cost over a grid of sizes")
    sweep_.add_argument("model", metavar="MODEL_OR_FILE")
    _analysis_options(sweep_)
    sweep_.add_argument("--metric", choices=METRICS, default="macs")
    sweep_.add_argument("--format", choices=("table", "csv"), default="table")
    sweep_.add_argument("--units", action="store_true")
    sweep_.add_argument("--plot", metavar="PNG", help="also plot to PNG (needs matplotlib)")
    sweep_.add_argument("--progress", action="store_true", help="show progress on stderr")
    sweep_.add_argument("--max-points", type=int, default=MAX_POINTS, metavar="N",
                        help=f"refuse grids of more than N points (default {MAX_POINTS:,})")
    sweep_.add_argument("-o", "--output", metavar="FILE")

    train = sub.add_parser("train", help="one training step: memory ledger and FLOPs (batch B)")
    train.add_argument("model", metavar="MODEL_OR_FILE")
    _analysis_options(train)
    train.add_argument("--optimizer", default="adamw", help="sgd, sgd-momentum, adam, adamw, adam-8bit, adafactor")
    train.add_argument("--precision", default="fp32", help="fp32, bf16-mixed or fp16-mixed")
    train.add_argument("--recompute", default="none", help="activation recomputation: none, selective or full")
    train.add_argument("--memory", metavar="BYTES", help="also the largest batch that fits BYTES, e.g. 80*10**9")
    train.add_argument("--format", choices=FORMATS, default="text")
    train.add_argument("--units", action="store_true", help="K/M/G units instead of exact numbers")
    train.add_argument("--plot", metavar="PNG", help="stacked memory bars to PNG (needs matplotlib), with --over")
    train.add_argument("--over", metavar="NAME=START:STOP[:STEP]", help="the size the bars run over: B or n_ctx")
    train.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")

    zoo_ = sub.add_parser("zoo", help="the built-in models")
    zoo_.add_argument("--format", choices=("text", "json"), default="text")
    zoo_.add_argument("--units", action="store_true")

    sub.add_parser("layers", help="every layer kind with its formulas")
    explain = sub.add_parser("explain", help="every formula of one layer kind")
    explain.add_argument("kind", help="a layer kind (conv2d) or a call (\"conv2d(96, 11, stride=4)\")")
    explain.add_argument("--input", metavar="C,H,W", help="the call's input shape, e.g. 3,227,227")
    explain.add_argument("--format", choices=FORMATS, default="text")
    return parser


COMMANDS = {"report": report_command, "roofline": roofline_command, "compare": compare_command,
            "sweep": sweep_command, "train": train_command,
            "zoo": zoo_command, "layers": layers_command, "explain": explain_command}


def main(argv: list[str] | None = None) -> int:
    """Run one command. Every failure ends here: one line ``symcost: error: ...`` on stderr, status 2."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        for i, arg in enumerate(argv, start=1):
            if not _is_utf8(arg):
                raise UsageError(f"argument {i} ({arg!r}) is not valid UTF-8")
        args = build_parser().parse_args(argv)
        output = getattr(args, "output", None)
        if output is not None and not output.strip():
            raise UsageError("-o '': give a file name")
        write(COMMANDS[args.command](args), output)
    except (SymcostError, RecursionError) as err:
        message = str(err) if isinstance(err, SymcostError) else "input nested too deeply"
        _print_error(message)
        return 2
    return 0


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # bytes that were not UTF-8 arrive as lone surrogates
        return False
    return True


def write(text: str, output: str | None) -> None:
    """``text`` to the file ``output`` (UTF-8), else to stdout; any failure is an OutputError."""
    if output is not None:
        try:
            Path(output).write_text(text + "\n", encoding="utf-8")
        except OSError as err:
            raise OutputError(f"-o {output!r}: cannot write: {err.strerror or err}") from None
        return
    if sys.stdout is None:  # started with stdout closed (>&-)
        raise OutputError("stdout is closed: nothing was written; use -o FILE")
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except UnicodeEncodeError as err:
        encoding = getattr(sys.stdout, "encoding", None) or "its encoding"
        raise OutputError(f"stdout ({encoding}) cannot show {err.object[err.start:err.end]!r}; "
                          "set PYTHONIOENCODING=utf-8 or use -o FILE") from None
    except (OSError, ValueError) as err:  # a full disk, a reader that left (EPIPE), a closed stream
        _drop_stdout()
        raise OutputError(f"cannot write to stdout: {getattr(err, 'strerror', None) or err}") from None


def _drop_stdout() -> None:
    """Point stdout at the null device, so the interpreter's last flush has nothing left to fail on."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass


def _print_error(message: str) -> None:
    if sys.stderr is None:
        return
    line = f"symcost: error: {message}\n"
    try:
        sys.stderr.write(line)
        sys.stderr.flush()
    except UnicodeEncodeError:
        sys.stderr.write(line.encode("ascii", "backslashreplace").decode("ascii"))
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
