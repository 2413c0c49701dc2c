"""Small arithmetic in user text, parsed by a whitelist over Python's ``ast``.

Spec files and the command line write values such as ``2*C``, ``alpha*32``
or ``(H - 1)//2 + 1``. Only integers, symbol names, ``+ - * / // **``, unary
signs and parentheses are accepted; text is never handed to ``eval``,
``exec``, ``sympify`` or ``parse_expr``. Length, depth, exponents and the size
of every intermediate number are bounded, so no input can run code or take
long::

    >>> from symcost.symbols import C, H
    >>> parse("2*C + (H - 1)//2", {"C": C, "H": H})
    2*C + floor(H/2 - 1/2)
    >>> parse("__import__('os')", {})
    Traceback (most recent call last):
    symcost.core.expressions.ExpressionError: "__import__('os')": may only use integers, names, + - * / // ** and parentheses, not function calls
"""

from __future__ import annotations

import ast
import math

import sympy

from .errors import SymcostError, did_you_mean

#: Longest expression text accepted.
MAX_LENGTH = 200
#: Deepest expression tree accepted.
MAX_DEPTH = 24
#: Largest integer (in absolute value) any literal or intermediate number may reach.
MAX_NUMBER = 10**18
#: Largest integer exponent of ``**``.
MAX_EXPONENT = 64

_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: sympy.floor(a / b),
    ast.Pow: lambda a, b: a**b,
}

_WHAT = {
    ast.Call: "function calls", ast.Attribute: "attribute access", ast.Subscript: "subscripts",
    ast.Lambda: "lambdas", ast.Compare: "comparisons", ast.BoolOp: "boolean operators",
    ast.IfExp: "conditional expressions", ast.List: "lists", ast.Tuple: "tuples", ast.Dict: "dicts",
    ast.Set: "sets", ast.ListComp: "comprehensions", ast.GeneratorExp: "comprehensions",
    ast.NamedExpr: "assignments", ast.JoinedStr: "f-strings", ast.Starred: "starred expressions",
}


class ExpressionError(ValueError, SymcostError):
    """User text that is not a small arithmetic expression symcost accepts."""

    def __init__(self, text: str, rule: str):
        self.text, self.rule = text, rule
        super().__init__(f"{text!r}: {rule}")


def parse(text: str, names: dict[str, sympy.Symbol]) -> sympy.Expr:
    """The exact SymPy expression ``text`` spells, with ``names`` as its only symbols."""
    if not isinstance(text, str):
        raise ExpressionError(repr(text), "must be text")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(text[:40] + "...", f"is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise ExpressionError(text, "is not an arithmetic expression") from None
    return _Builder(text, names).build(tree.body, 1)


class _Builder:
    def __init__(self, text: str, names: dict[str, sympy.Symbol]):
        self.text, self.names = text, names

    def fail(self, rule: str) -> ExpressionError:
        return ExpressionError(self.text, rule)

    def build(self, node: ast.AST, depth: int) -> sympy.Expr:
        if depth > MAX_DEPTH:
            raise self.fail(f"is nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, ast.Constant):
            return self.constant(node.value)
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = self.build(node.operand, depth + 1)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = self.build(node.left, depth + 1), self.build(node.right, depth + 1)
            if isinstance(node.op, (ast.Div, ast.FloorDiv)) and right.is_zero:
                raise self.fail("divides by zero")
            if isinstance(node.op, ast.Pow):
                self.check_exponent(left, right)
            return self.bounded(_BINARY[type(node.op)](left, right))
        what = _WHAT.get(type(node), f"{type(node).__name__} nodes")
        if isinstance(node, (ast.BinOp, ast.UnaryOp)):
            what = f"the operator {type(node.op).__name__}"
        raise self.fail(f"may only use integers, names, + - * / // ** and parentheses, not {what}")

    def constant(self, value: object) -> sympy.Expr:
        if isinstance(value, bool) or not isinstance(value, int):
            kind = "floats" if isinstance(value, float) else f"{type(value).__name__} literals"
            hint = "; write exact fractions such as 3/4" if isinstance(value, float) else ""
            raise self.fail(f"{kind} are not allowed{hint}")
        return self.bounded(sympy.Integer(value))

    def name(self, identifier: str) -> sympy.Expr:
        if identifier not in self.names:
            hint = did_you_mean(identifier, list(self.names))
            raise self.fail(f"unknown symbol {identifier!r}; {hint}declare it under 'symbols:'")
        return self.names[identifier]

    def check_exponent(self, base: sympy.Expr, exponent: sympy.Expr) -> None:
        if not exponent.is_Integer:
            raise self.fail("exponents must be integers")
        if abs(int(exponent)) > MAX_EXPONENT:
            raise self.fail(f"exponents must be at most {MAX_EXPONENT}")
        if base.is_Integer and abs(int(base)) > 1 and int(exponent) * math.log2(abs(int(base))) > 63:
            raise self.fail("numbers must be at most 10**18")

    def bounded(self, value: sympy.Expr) -> sympy.Expr:
        if value.is_Rational and max(abs(value.p), abs(value.q)) > MAX_NUMBER:
            raise self.fail("numbers must be at most 10**18")
        for power in value.atoms(sympy.Pow):  # (C**64)**64 is C**4096: each step small, the result not
            if power.exp.is_Rational and max(abs(power.exp.p), abs(power.exp.q)) > MAX_EXPONENT:
                raise self.fail(f"exponents must be at most {MAX_EXPONENT}, got {power.exp} after simplifying")
        for atom in value.atoms(sympy.Rational):
            if max(abs(atom.p), abs(atom.q)) > MAX_NUMBER:
                raise self.fail("numbers must be at most 10**18")
        return value
