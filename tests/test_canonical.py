"""The canonical form (symcost.core.canonical): an identity over the integers, and one term order."""

import sympy
from hypothesis import given, settings, strategies as st

from symcost.core.canonical import SizeNames, canonical, text
from symcost.symbols import H, K, P, W, C_out

x = sympy.Symbol("x", integer=True)


@settings(max_examples=200, deadline=None)
@given(a=st.integers(1, 9), b=st.integers(1, 9), c=st.integers(-9, 9), d=st.integers(-9, 9), n=st.integers(-50, 200))
def test_collapsed_floors_keep_every_integer_value(a, b, c, d, n):
    # floor((floor((x + c)/a) + d)/b) = floor((x + c + a*d)/(a*b)); floor(n/b) + 1 = ceil((n + 1)/b)
    nested = sympy.floor((sympy.floor((x + c) / a) + d) / b) + 1
    shown = canonical(nested)
    assert shown.subs(x, n) == nested.subs(x, n)
    assert len(shown.atoms(sympy.floor, sympy.ceiling)) <= 1
    # the hand-derived closed form
    assert (sympy.floor(sympy.Rational(n + c + a * d, a * b)) + 1) == nested.subs(x, n)


def test_nested_floors_collapse_to_one():
    resnet_stem = sympy.floor(sympy.floor(H / 2 - sympy.Rational(1, 2)) / 2)
    assert text(resnet_stem) == "floor((H - 1)/4)"
    assert text(resnet_stem + 1) == "ceil(H/4)"
    assert text(sympy.floor((H - 3) / 2) + 1) == "ceil(H/2) - 1"  # H = 5: floor(1) + 1 = 2 = ceil(5/2) - 1


def test_one_term_order_in_text_and_latex():
    from symcost.printing.markup import tex
    assert text(H - K + 2 * P) == "H - K + 2*P" and text(W - K + 2 * P) == "W - K + 2*P"
    assert tex(W - K + 2 * P) == "W - K + 2 P"
    assert text(1 / C_out + 1 / K**2) == "1/C_out + 1/K**2"
    assert tex(1 / C_out + 1 / K**2) == r"\frac{1}{C_{\mathrm{out}}} + \frac{1}{K^{2}}"


def test_size_names_and_totals_by_size():
    h1 = sympy.floor((H - 1) / 2) + 1
    h2 = sympy.floor((sympy.floor((H - 1) / 2) + 1 - 1) / 2) + 1
    names = SizeNames([(64, h1, h1), (128, h2, h2)])
    assert [(str(s), text(e)) for s, e in names.legend] == [("H_1", "ceil(H/2)"), ("H_2", "ceil(H/4)")]
    total = 4 * (811 * h1**2 + 160) + 73728 * h2**2
    assert str(names(total)) == "3244*H_1**2 + 73728*H_2**2 + 640"
