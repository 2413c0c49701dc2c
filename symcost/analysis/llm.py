"""What papers quote about transformers, derived from a report in symbols: the share of FLOPs in attention,
the context length where attention costs as much as the MLP, and the ratio of a count to ``2*N*T``.

A *part* of a report is a set of rows: a kind (``"ScaledDotProductAttention"``), a substring of row names
(``"mlp."``) or a predicate on a row. Worked example, GPT-2 in symbols, under PaLM's count (every matmul,
attention over the full square)::

    >>> import symcost as sc
    >>> from symcost.symbols import symbol
    >>> l, d, a, V, T = (symbol(n) for n in ("n_layer", "d_model", "n_head", "n_vocab", "n_ctx"))
    >>> rep = sc.zoo.gpt2(n_layer=l, d_model=d, n_head=a, n_vocab=V, n_ctx=T).analyze()
    >>> crossover(rep, "ScaledDotProductAttention", "mlp.", T, "palm")   # attention's products = the MLP's
    4*d_model
    >>> crossover(rep, "ScaledDotProductAttention", "mlp.", T, "kaplan")  # Kaplan counts the causal half
    8*d_model
    >>> attention_fraction(rep, "palm")
    2*n_ctx*n_layer/(12*d_model*n_layer + 2*n_ctx*n_layer + n_vocab)
    >>> crossover(rep, ATTENTION, lambda row: row.kind == "Linear" and row.cost.layer.role != "lm_head", T,
    ...           "kaplan")  # Kaplan et al.: the context term is small while n_ctx < 12 d_model
    12*d_model
"""

from __future__ import annotations

from collections.abc import Callable

import sympy

from ..core.arguments import to_expr
from ..core.errors import InvalidArgumentError
from ..networks.report import Report, Row

#: The rows of attention's score products and softmax (the part that grows with the context).
ATTENTION = "ScaledDotProductAttention"

Part = str | Callable[[Row], bool]


def _selects(part: Part) -> Callable[[Row], bool]:
    if callable(part):
        return part
    if not isinstance(part, str) or not part:
        raise InvalidArgumentError("part_flops", "part", "must be a layer kind, a substring of row names or a "
                                   "predicate on a row", part)
    return lambda row: row.kind == part or part in row.name


def part_flops(report: Report, part: Part, convention: object = "exact") -> sympy.Expr:
    """FLOPs of the rows ``part`` selects (see the module docstring), under ``convention``."""
    rows = [row for row in report.rows if _selects(part)(row)]
    if not rows:
        raise InvalidArgumentError("part_flops", "part", f"selects no row of {report.model}", part)
    return sympy.expand(sympy.Add(*(row.flops(convention) for row in rows)))


def attention_fraction(report: Report, convention: object = "exact") -> sympy.Expr:
    """The share of the total FLOPs in attention's score products and softmax, a function of the sizes
    (``n_ctx`` among them), in lowest terms. It tends to 1 as ``n_ctx`` grows and to 0 as it shrinks."""
    return sympy.factor(sympy.cancel(part_flops(report, ATTENTION, convention) / report.total.flops(convention)))


def crossover(report: Report, part: Part, other: Part, symbol: sympy.Symbol, convention: object = "exact") -> object:
    """The positive value of ``symbol`` (e.g. ``n_ctx``) at which ``part`` costs as many FLOPs as ``other``:
    one expression when a single positive root exists, else the tuple of positive roots."""
    if not isinstance(symbol, sympy.Symbol):
        raise InvalidArgumentError("crossover", "symbol", "must be a SymPy symbol", symbol)
    difference = sympy.factor(part_flops(report, part, convention) - part_flops(report, other, convention))
    roots = [r for r in sympy.solve(difference, symbol) if r.is_positive is not False and r != 0]
    if not roots:
        raise InvalidArgumentError("crossover", "symbol", f"{symbol} has no positive value where the two parts "
                                   "cost the same", symbol)
    return roots[0] if len(roots) == 1 else tuple(roots)


def ratio_to_2nt(report: Report, n_params: object, tokens: object, convention: object = "exact") -> sympy.Expr:
    """A forward's FLOPs under ``convention`` over ``2*N*T``, the rule of thumb (``6*N*T`` for a training step,
    ``2*N*T`` its forward), in lowest terms. ``n_params`` is the ``N`` the rule means (non-embedding
    parameters for Kaplan et al.), ``tokens`` the tokens the report processes."""
    n = to_expr(n_params, layer="ratio_to_2nt", argument="n_params")  # no text: strings are refused
    t = to_expr(tokens, layer="ratio_to_2nt", argument="tokens")
    return sympy.factor(sympy.cancel(report.total.flops(convention) / (2 * n * t)))
