r"""Rendering through Jinja2 templates: LaTeX, Markdown, HTML and plain text.

Templates ship in ``symcost/templates`` and load through one environment,
built once (:func:`environment`). ``.tex`` templates use a LaTeX overlay of
it: ``\VAR{...}`` and ``\BLOCK{...}`` delimiters, ``%%`` line statements,
``%#`` line comments, and a ``finalize`` hook that sends SymPy expressions
to :func:`symcost.printing.markup.tex`, passes :class:`~symcost.printing.markup.LaTeX` through
and escapes any other text in one pass. Markdown escapes its own specials;
HTML is autoescaped. Both use ``StrictUndefined``: a missing variable is an
error, never an empty string. Python builds the view model
(:mod:`symcost.printing.template_views`); templates only lay it out::

    >>> import symcost as sc
    >>> print(to_latex(sc.Linear(10, name="fc_1"), shape=sc.Shape(512)))
    \begin{align*}
      D_{\mathrm{out}} &= 10 \\
      \text{params} &= D_{\mathrm{in}} D_{\mathrm{out}} + D_{\mathrm{out}} = 512 \cdot 10 + 10 = 5{,}130 \\
      \text{MACs} &= D_{\mathrm{in}} D_{\mathrm{out}} = 512 \cdot 10 = 5{,}120 \\
      \text{FLOPs} &= 2 D_{\mathrm{in}} D_{\mathrm{out}} = 2 \cdot 512 \cdot 10 = 10{,}240 \\
      &\text{with } D_{\mathrm{in}} = 512,\ D_{\mathrm{out}} = 10
    \end{align*}
    <BLANKLINE>

Your own templates go through :func:`render`, in Jinja2's immutable sandbox:
they see the same view model and nothing of Python's internals.
"""

from __future__ import annotations

import contextvars
import functools
import os
import re
from pathlib import Path

import jinja2
import sympy
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..core.errors import TemplateError, TemplateSecurityError
from .markup import LaTeX, Verbatim, escape_latex, escape_markdown, tex

#: Jinja2 syntax of ``.tex`` templates: nothing that collides with TeX's braces or ``%`` comments.
LATEX_SYNTAX = {
    "block_start_string": r"\BLOCK{",
    "block_end_string": "}",
    "variable_start_string": r"\VAR{",
    "variable_end_string": "}",
    "comment_start_string": r"\#{",
    "comment_end_string": "}",
    "line_statement_prefix": "%%",
    "line_comment_prefix": "%#",
}
#: Output formats by template suffix.
FORMATS = {".tex": "latex", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
           ".txt": "text"}


def _value(value: object) -> object:
    if isinstance(value, Verbatim):
        return value
    if value is None:
        raise TemplateError("a template printed None; test it with {% if %} first")
    if isinstance(value, sympy.Basic):
        return tex(value)
    return value


def finalize_latex(value: object) -> str:
    r"""How a ``.tex`` template prints a value: formulas as LaTeX, marked LaTeX as is, text escaped.

        >>> from symcost.symbols import C_in
        >>> finalize_latex(C_in), finalize_latex(LaTeX(r"\alpha")), finalize_latex("50%")
        ('C_{\\mathrm{in}}', '\\alpha', '50\\%')
    """
    value = _value(value)
    return value if isinstance(value, (LaTeX, Verbatim)) else escape_latex(value)


def finalize_markdown(value: object) -> str:
    """How a Markdown template prints a value: text escaped, LaTeX kept (a ``|`` becomes ``\\vert``)."""
    value = _value(value)
    if isinstance(value, Verbatim):
        return value
    if isinstance(value, LaTeX):
        return value.replace("|", r"\vert ")
    return escape_markdown(value)


def finalize_plain(value: object) -> object:
    """HTML (autoescaped afterwards) and plain text print values as they are."""
    return _value(value)


_FINALIZERS = {"latex": finalize_latex, "markdown": finalize_markdown, "html": finalize_plain,
               "text": finalize_plain}


def _format_of(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        raise TemplateError(f"template {name!r}: unknown format; name it .tex, .md, .html or .txt")
    return FORMATS[suffix]


@jinja2.pass_context
def _finalize(context: jinja2.runtime.Context, value: object) -> object:
    return _FINALIZERS[_format_of(context.name or "x.txt")](value)


def _with_filters(env: jinja2.Environment) -> jinja2.Environment:
    """The ``verbatim`` filter marks what a template built itself (a macro's output): printed as is."""
    env.filters["verbatim"] = Verbatim
    return env


def _options(fmt: str) -> dict:
    common = {"undefined": jinja2.StrictUndefined, "trim_blocks": True, "lstrip_blocks": True,
              "keep_trailing_newline": True}
    if fmt == "latex":
        return {**common, **LATEX_SYNTAX, "autoescape": False, "finalize": finalize_latex}
    return {**common, "autoescape": fmt == "html", "finalize": _FINALIZERS[fmt]}


@functools.cache
def environment() -> jinja2.Environment:
    """The one environment of the built-in templates (Markdown, HTML, text), built once.

    ``.tex`` templates load through its LaTeX overlay (:func:`latex_environment`).
    """
    options = _options("html")
    options["finalize"] = _finalize
    options["autoescape"] = jinja2.select_autoescape(["html", "htm"], default_for_string=False)
    return _with_filters(jinja2.Environment(loader=jinja2.PackageLoader("symcost.printing", "templates"), **options))


@functools.cache
def latex_environment() -> jinja2.Environment:
    """The overlay of :func:`environment` for ``.tex`` templates: TeX-friendly delimiters, LaTeX escaping."""
    return environment().overlay(**_options("latex"))


#: Longest text, list or output a user's template may build, in characters or items.
MAX_TEMPLATE_SIZE = 1_000_000
#: Most steps (loop iterations, calls, operators) one rendering of a user's template may take.
MAX_TEMPLATE_STEPS = 1_000_000
#: Largest integer a user's template may compute, in bits (about 30,000 digits).
MAX_TEMPLATE_BITS = 100_000

_STEPS: contextvars.ContextVar[list[int]] = contextvars.ContextVar("symcost_template_steps")
#: A width or precision in a %- or {}-format spec (``%99999999s``, ``{:>99999999}``), or a ``*`` width.
_FORMAT_WIDTH = re.compile(r"%[-+ #0]*(\d+|\*)?(?:\.(\d+|\*))?|\{[^{}]*:[^{}]*?(\d+)[^{}]*\}")


def _bound(what: str, limit: str) -> TemplateError:
    return TemplateError(f"{what}: user templates are bounded ({limit})")


def _step(count: int = 1) -> None:
    budget = _STEPS.get(None)
    if budget is None:
        return
    budget[0] -= count
    if budget[0] < 0:
        raise _bound("the template takes too many steps", f"at most {MAX_TEMPLATE_STEPS:,} loop iterations, "
                     "calls and operations; see symcost.printing.jinja.MAX_TEMPLATE_STEPS")


def _check_size(value: object) -> object:
    if isinstance(value, (str, list, tuple, dict)) and len(value) > MAX_TEMPLATE_SIZE:
        raise _bound(f"a value of {len(value):,} items", f"at most {MAX_TEMPLATE_SIZE:,}")
    if isinstance(value, int) and value.bit_length() > MAX_TEMPLATE_BITS:
        raise _bound("a number", f"at most {MAX_TEMPLATE_BITS:,} bits")
    return value


def _check_format(spec: object) -> None:
    """Refuse widths and precisions that would print megabytes (``%99999999s``, ``{:>99999999}``)."""
    if not isinstance(spec, str):
        return
    for match in _FORMAT_WIDTH.finditer(spec):
        for number in match.groups():
            if number == "*" or (number and int(number) > MAX_TEMPLATE_SIZE):
                raise _bound(f"format {spec[:40]!r}", f"widths at most {MAX_TEMPLATE_SIZE:,}, no '*' widths")


def _predicted(operator: str, left: object, right: object) -> None:
    """Refuse an operator whose result would be too big, before computing it."""
    sized = (str, list, tuple)
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, sized) and isinstance(times, int) and len(seq) * max(times, 0) > MAX_TEMPLATE_SIZE:
                raise _bound(f"repeating {len(seq):,} items {times:,} times", f"at most {MAX_TEMPLATE_SIZE:,} items")
        if isinstance(left, int) and isinstance(right, int) and (
                left.bit_length() + right.bit_length() > MAX_TEMPLATE_BITS):
            raise _bound("a product", f"numbers of at most {MAX_TEMPLATE_BITS:,} bits")
    elif operator == "**":
        if isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and (
                right * left.bit_length() > MAX_TEMPLATE_BITS):
            raise _bound("a power", f"numbers of at most {MAX_TEMPLATE_BITS:,} bits")
    elif operator == "+":
        if isinstance(left, sized) and isinstance(right, sized) and len(left) + len(right) > MAX_TEMPLATE_SIZE:
            raise _bound("a concatenation", f"at most {MAX_TEMPLATE_SIZE:,} items")
    elif operator == "%" and isinstance(left, str):
        _check_format(left)


def _counted(iterable: object) -> object:
    """What a user's ``{% for %}`` loop iterates: every item is a step."""
    for item in iterable:
        _step()
        yield item


def _bounded_filter(filter_, *, width: int | None = None, spec: int | None = None):
    """``filter_`` with its width argument (position ``width``) or format string (``spec``) bounded."""
    @functools.wraps(filter_)
    def bounded(*args: object, **kwargs: object) -> object:
        if width is not None and len(args) > width and isinstance(args[width], int) and args[width] > MAX_TEMPLATE_SIZE:
            raise _bound(f"{filter_.__name__.removeprefix('do_')} width {args[width]:,}", f"at most {MAX_TEMPLATE_SIZE:,}")
        if spec is not None and len(args) > spec:
            _check_format(args[spec])
        return _check_size(filter_(*args, **kwargs))
    return bounded


def _refuse_loading(name: str) -> None:
    raise TemplateError(f"a user template may not include, import or extend other templates (asked for {name!r})")


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox with every resource bounded: sizes, numbers, steps; no loading of templates.

    Operators and calls are checked before they run (``'a'*10**10`` never
    allocates), loops count their iterations, and :func:`render` caps the
    output; each limit names itself in its error.
    """

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def call_binop(self, context, operator, left, right):
        _step()
        _predicted(operator, left, right)
        return _check_size(super().call_binop(context, operator, left, right))

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (Jinja2's signature)
        _step()
        for value in (*args, *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_TEMPLATE_SIZE:
                raise _bound(f"calling with the number {value:,}", f"numbers passed to calls at most "
                             f"{MAX_TEMPLATE_SIZE:,}")
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str) and getattr(__obj, "__name__", "") == "replace" and len(args) >= 2:
            old, new = (str(a) for a in args[:2])
            if len(owner) + (len(owner) + 1) * max(len(new) - len(old), 0) > MAX_TEMPLATE_SIZE:
                raise _bound("a replace", f"at most {MAX_TEMPLATE_SIZE:,} characters")
        return _check_size(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value):  # the sandbox's str.format / format_map: the spec is checked first
        owner = getattr(value, "__self__", None)
        if isinstance(owner, str) and getattr(value, "__name__", "") in ("format", "format_map"):
            _check_format(owner)
        return super().wrap_str_format(value)

    def _parse(self, source, name, filename):
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, "_symcost_counted", [], [], None, None, lineno=loop.lineno)
        return tree


@functools.cache
def sandbox(fmt: str) -> ImmutableSandboxedEnvironment:
    """The sandboxed environment users' templates of format ``fmt`` run in, built once."""
    env = _with_filters(_BoundedSandbox(loader=jinja2.FunctionLoader(_refuse_loading), **_options(fmt)))
    env.filters["_symcost_counted"] = _counted
    for name, width in (("center", 1), ("indent", 1), ("wordwrap", 1), ("truncate", 1)):
        env.filters[name] = _bounded_filter(env.filters[name], width=width)
    env.filters["format"] = _bounded_filter(env.filters["format"], spec=0)
    return env


def builtin(name: str, view: dict) -> str:
    """Render the built-in template ``name`` (e.g. ``table.tex``) with ``view``."""
    env = latex_environment() if name.endswith(".tex") else environment()
    return env.get_template(name).render(view).strip() + "\n"


#: A table wider than this many points (a default article's text width) gets a landscape page in a standalone
#: document; tables are laid out to fit it (see symcost.printing.template_views.latex_layout), so this is rare.
TEXT_WIDTH = 345


def document(body: str, *, title: str | None = None, landscape: bool = False) -> str:
    r"""``body`` in a LaTeX document that compiles on its own with pdflatex.

    It needs nothing outside texlive-latex-base and -recommended: article,
    amsmath, graphicx, booktabs, longtable, caption, geometry (Latin Modern and T1 when
    installed).
    """
    return builtin("document.tex", {"body": LaTeX(body), "title": title, "landscape": landscape})


# -- the renderings -------------------------------------------------------------

def _view(obj: object, options: dict) -> tuple[str, dict]:
    from .template_views import view_of

    return view_of(obj, **options)


def to_latex(obj: object, template: object = None, standalone: bool = False, **options: object) -> str:
    r"""``obj`` as LaTeX: a report as a booktabs table, a layer, cost or derivation as an
    ``align*`` derivation, a comparison as an ``align*`` block.

    ``template`` is the path of your own ``.tex`` template (see :func:`render`);
    ``standalone=True`` wraps the result in a document that compiles on its own;
    ``inline=True`` gives ``$\displaystyle\begin{aligned}...\end{aligned}$``
    instead of ``align*`` (what Jupyter's MathJax shows). Other options go to
    the view model: :func:`symcost.printing.template_views.table_view` for a report, and
    ``shape``, ``values``, ``convention`` for a layer or a cost.
    """
    inline = bool(options.pop("inline", False))
    if template is not None:
        body, family, wide = render(obj, template, **options), None, False
    else:
        family, view = _view(obj, options)
        body = builtin(f"{family}.tex", {**view, "inline": inline})
        wide = view.get("tex_width", 0) > TEXT_WIDTH
    return document(body, landscape=wide) if standalone else body


def to_markdown(obj: object, template: object = None, **options: object) -> str:
    """``obj`` as Markdown: tables with formulas in ``$...$`` (GitHub, Jupyter, pandoc)."""
    if template is not None:
        return render(obj, template, **options)
    family, view = _view(obj, options)
    return builtin(f"{family}.md", view)


def to_html(obj: object, **options: object) -> str:
    """``obj`` as an HTML fragment, formulas in ``$...$`` for MathJax."""
    family, view = _view(obj, options)
    return builtin(f"{family}.html", view)


def to_text(obj: object, **options: object) -> str:
    """``obj`` as plain text (a report's aligned table, the one layout of :mod:`symcost.printing.text`)."""
    from ..networks.report import Report
    from .json_view import report_view
    from .text import report_table

    if isinstance(obj, Report):
        values = options.pop("values", None)
        report = obj.subs(values) if values else obj
        return report_table(report_view(report, named=not options.pop("expand", False)),
                            units=bool(options.pop("units", False))) + "\n"
    family, view = _view(obj, options)
    return builtin(f"{family}.txt", view)


def render(obj: object, template_path: object, **options: object) -> str:
    r"""Render your own template file against ``obj``'s view model, in Jinja2's sandbox.

    The format follows the suffix: ``.tex`` (``\VAR{}`` / ``\BLOCK{}``
    delimiters, LaTeX escaping), ``.md``, ``.html`` (autoescaped) or ``.txt``.
    The template sees the same plain view model as the built-in ones; reaching
    for Python internals (``''.__class__``) raises
    :class:`~symcost.core.errors.TemplateSecurityError`.
    """
    if not isinstance(template_path, (str, os.PathLike)):
        raise TemplateError(f"template must be the path of a template file, got {type(template_path).__name__} "
                            f"{template_path!r} (a layer's input goes in shape=...)")
    path = Path(template_path)
    fmt = _format_of(path.name)
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as err:
        raise TemplateError(f"template {str(path)!r}: cannot be read ({err.strerror or err})") from None
    _, view = _view(obj, dict(options))
    token = _STEPS.set([MAX_TEMPLATE_STEPS])
    try:
        parts, size = [], 0
        for part in sandbox(fmt).from_string(source).generate(view):
            size += len(part)
            if size > MAX_TEMPLATE_SIZE:
                raise _bound(f"template {str(path)!r}: the output", f"at most {MAX_TEMPLATE_SIZE:,} characters")
            parts.append(part)
        return "".join(parts)
    except TemplateError:
        raise
    except jinja2.exceptions.SecurityError as err:
        raise TemplateSecurityError(f"template {str(path)!r}: {err} Templates see only the view model "
                                    "(dicts, lists, text and numbers), not Python objects") from None
    except jinja2.exceptions.TemplateSyntaxError as err:
        raise TemplateError(f"template {str(path)!r}, line {err.lineno}: {err.message}") from None
    except jinja2.exceptions.UndefinedError as err:
        raise TemplateError(f"template {str(path)!r}: {err.message}; the view model has "
                            f"{', '.join(sorted(view))}") from None
    except OverflowError as err:  # the sandbox's own range() bound
        raise TemplateError(f"template {str(path)!r}: {err}") from None
    except RecursionError:
        raise TemplateError(f"template {str(path)!r}: recursion too deep (a macro calling itself without end?)") from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as err:
        raise TemplateError(f"template {str(path)!r}: {type(err).__name__}: {str(err)[:200]}") from None
    finally:
        _STEPS.reset(token)
