"""Hostile inputs through the API: each ends in one clear SymcostError, fast, within bounded memory.

Every case runs under :func:`guard`: an alarm turns a hang into a failure
(not a stuck test run) and a cap on the address space turns a runaway
allocation into a MemoryError (a failure) instead of exhausting the machine.
Expected values are derived by hand or by brute force over torch's rules.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import resource
import signal
import time

import pytest
import sympy

import symcost as sc
from symcost.cli import main
from symcost.core.errors import SymcostError, TemplateError
from symcost.core.geometry import window_out_size
from symcost.symbols import C, H, W

SECONDS = 5  # each case must finish well within this, even on a loaded machine (they take < 1 s alone)
HEADROOM = 1 << 30  # bytes of address space a case may add


class Hang(Exception):
    pass


@contextlib.contextmanager
def guard(seconds: int = SECONDS):
    def alarm(*_):
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    used = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
    limit = used + HEADROOM if hard == resource.RLIM_INFINITY else min(hard, used + HEADROOM)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    signal.alarm(seconds)
    start = time.perf_counter()
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    assert time.perf_counter() - start < seconds


def refused(call, fragment: str, kind: type = SymcostError) -> str:
    """``call()`` raises a ``kind`` (a SymcostError) whose one-line message holds ``fragment``."""
    with guard():
        with pytest.raises(kind) as info:
            call()
    message = str(info.value)
    assert isinstance(info.value, SymcostError) and "\n" not in message and fragment in message, message
    return message


# -- repeats, adaptive pools, powers, digits -----------------------------------------

def test_a_huge_repeat_is_counted_once_not_unrolled():
    for times in (10**6, 10**18):
        with guard():
            report = sc.Repeat(sc.ReLU(), times).analyze(sc.Shape(3, 8, 8))
        assert report.total.flops() == 192 * times  # ReLU: one op per element, 3*8*8 per pass
        assert len(report.rows) == 1 and report.rows[0].count == times


def test_a_huge_repeat_of_a_shape_changing_block_is_refused():
    refused(lambda: sc.Repeat(sc.Conv2d(3, 3, stride=2), 10**18).analyze(sc.Shape(3, 64, 64)),
            "would unroll to more than 10,000 rows, so the block is counted once, so the block must keep its shape")


def test_a_small_repeat_is_still_unrolled():
    report = sc.Repeat(sc.Conv2d(3, 3, stride=2), 3).analyze(sc.Shape(3, 64, 64))
    assert [r.name for r in report.rows] == ["0", "1", "2"] and report.out_shape == sc.Shape(3, 7, 7)


def brute_coverage(size: int, bins: int) -> tuple[int, int]:
    """Total and widest bin length of torch's adaptive bins, one by one."""
    lengths = [-(-(i + 1) * size // bins) - (i * size // bins) for i in range(bins)]
    return sum(lengths), max(lengths)


def test_adaptive_pools_over_many_bins_are_closed_forms():
    from symcost.layers.adaptive_pooling import bin_coverage, widest_bin

    for size, bins in itertools.product(range(1, 30), range(1, 40)):
        assert (bin_coverage(sympy.Integer(size), sympy.Integer(bins)),
                widest_bin(sympy.Integer(size), sympy.Integer(bins))) == brute_coverage(size, bins)
    with guard():
        cost = sc.AdaptiveAvgPool2d(10**18).cost(sc.Shape(3, 8, 8))
    # 10**18 bins over 8 positions: each bin reads 1 position (gcd 8), so I + O - gcd = 10**18 per axis
    assert cost.flops() == 3 * (10**18) ** 2  # adds = covered - outputs = 0; one division per output


def test_adaptive_pool_sum_over_too_many_bins_is_refused():
    cost = sc.AdaptiveAvgPool2d(10**6).cost(sc.Shape(3, H, W))
    refused(lambda: sc.evaluate(cost.flops(), H=8, W=8), "at most 100,000 are evaluated")


def test_nested_exponents_are_bounded_after_simplifying():
    from symcost.core.expressions import parse

    refused(lambda: parse("((C**64)**64)**64", {"C": C}), "exponents must be at most 64, got 4096")
    refused(lambda: parse("C**64*C**64", {"C": C}), "exponents must be at most 64, got 128")
    assert parse("(C**8)**8", {"C": C}) == C**64


def test_numbers_past_four_thousand_digits_are_refused():
    refused(lambda: sc.evaluate(C**600, C=10**18), "more than 4,000 digits")
    assert sc.evaluate(C**200, C=10**18) == 10**3600


def test_cli_refuses_a_result_too_long_to_print(tmp_path, capsys):
    spec = tmp_path / "wide.yaml"
    spec.write_text("input: [C, H, W]\nlayers: [{kind: conv2d, out_channels: 'C**64*H**64*W**64*K**64', kernel_size: 1}]\n")
    with guard():
        status = main(["report", str(spec), "--set", "C=H=W=K=10**18"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "more than 4,000 digits" in err, err


# -- ceil_mode pools ---------------------------------------------------------------

def torch_ceil_out(size: int, k: int, s: int, p: int, d: int) -> int:
    """torch's pooling_output_shape with ceil_mode=True."""
    out = -(-(size + 2 * p - d * (k - 1) - 1) // s) + 1
    if (out - 1) * s >= size + p:
        out -= 1
    return out


def test_ceil_mode_matches_torch_and_builds_no_piecewise():
    for k, s, p, d in itertools.product(range(1, 6), range(1, 6), range(3), range(1, 3)):
        if p > k / 2:
            continue
        formula = window_out_size(H, k, s, d, 2 * p, ceil_mode=True, pad_left=p)
        assert not formula.has(sympy.Piecewise), formula
        for size in range(max(1, d * (k - 1) + 1 - 2 * p), 40):
            assert formula.subs(H, size) == torch_ceil_out(size, k, s, p, d), (k, s, p, d, size)


def test_five_ceil_mode_pools_on_symbolic_sizes_are_fast():
    for kernel, stride in ((3, 2), (2, 3)):  # decided (never drops), and undecided (a compact Min)
        net = sc.Sequential(*[sc.MaxPool2d(kernel, stride, ceil_mode=True) for _ in range(5)])
        with guard():
            report = net.analyze(sc.Shape(C, H, W))
            flops = report.total.flops()
            numbers = report.subs(C=3, H=2000, W=2000)
        size = 2000
        for _ in range(5):
            size = torch_ceil_out(size, kernel, stride, 0, 1)
        assert numbers.out_shape == sc.Shape(3, size, size) and not flops.has(sympy.Piecewise)


# -- containers and API errors ------------------------------------------------------

def test_sequential_of_a_non_layer_is_a_symcost_error():
    refused(lambda: sc.Sequential(5), "Sequential: children must be symcost layers or containers, got int 5",
            TypeError)


def test_deep_nesting_is_refused_at_construction():
    def build():
        net = sc.ReLU()
        for _ in range(2000):
            net = sc.Sequential(net)
    refused(build, "may nest containers at most 100 deep")


def test_report_row_of_an_unknown_name_is_a_symcost_key_error():
    report = sc.Sequential(sc.ReLU()).analyze(sc.Shape(3, 8, 8))
    refused(lambda: report.row("x"), "no layer 'x' in report 'Sequential'", KeyError)


def test_elasticity_of_a_plain_number():
    assert sc.elasticity(5, H) == 0  # a constant does not grow with H
    refused(lambda: sc.elasticity(0, H), "must not be zero")


def test_names_with_control_characters_are_refused():
    refused(lambda: sc.Sequential(sc.ReLU(name="x\x1b[31m")).analyze(sc.Shape(3, 8, 8)),
            "name must be printable text without control characters")
    refused(lambda: sc.Sequential(sc.ReLU(name="a\nb")).analyze(sc.Shape(3, 8, 8)), "without control characters")
    refused(lambda: sc.Sequential(sc.ReLU()).analyze(sc.Shape(3, 8, 8), model="m\r"), "Report: model must be")


def test_latex_display_names_are_validated():
    for bad, fragment in ((r"n \text{\input{/etc/hostname}}", r"may not use \input"),
                          ("n$ <img src=x onerror=alert(1)> $", "may not contain '$'"),
                          (r"\write18{ls}", r"may not use \write"), ("x_{1", "unbalanced braces")):
        with pytest.raises(ValueError, match="latex display name") as info:
            sc.symbols.symbol("n_tex", bad)
        assert fragment in str(info.value)
    assert sc.symbols.latex(sc.symbols.symbol("n_ok", r"n_{\mathrm{ok}}")) == r"n_{\mathrm{ok}}"


# -- spec loading --------------------------------------------------------------------

def test_spec_load_refuses_a_symlink_to_dev_zero(tmp_path):
    from symcost.frontends import spec

    link = tmp_path / "zero.yaml"
    link.symlink_to("/dev/zero")
    refused(lambda: spec.load(link), "is not a regular file")


# -- sweeps -------------------------------------------------------------------------

def test_sweep_is_capped_before_building_the_grid():
    refused(lambda: sc.sweep(C * H * W, C=3, H=range(1, 3001), W=range(1, 3002)),
            "make 9,003,000 points (C: 1 x H: 3,000 x W: 3,001), more than max_points=2,000,000")
    refused(lambda: sc.sweep(H * W, H=range(1, 10**8), W=range(1, 10**8)), "more than max_points")
    refused(lambda: sc.sweep(H, H=iter(range(10**9))), "has more than max_points=2,000,000 values")
    assert sc.sweep(H * W, H=range(1, 11), W=range(1, 11), max_points=100, exact=True).at(H=10, W=7) == 70
    refused(lambda: sc.sweep(H * W, H=range(1, 11), W=range(1, 11), max_points=99), "max_points=99")


@pytest.mark.parametrize("ranges", [["--set", "H=1:3000", "--set", "W=1:3001"], ["--set", "H=W=1:10**8"]])
def test_cli_sweep_is_capped(ranges, capsys):
    with guard():
        status = main(["sweep", "tests/specs/tiny.yaml", *ranges])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and err.startswith("symcost: error: "), err
    assert "max_points" in err or "values per symbol" in err, err


def test_cli_max_points_raises_and_lowers_the_cap(capsys):
    assert main(["sweep", "tests/specs/tiny.yaml", "--set", "H=W=1:4", "--set", "n=1:3", "--max-points", "11"]) == 2
    assert "make 12 points" in capsys.readouterr().err
    assert main(["sweep", "tests/specs/tiny.yaml", "--set", "H=W=1:4", "--set", "n=1:3", "--max-points", "12",
                 "--format", "csv"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 13  # a header and 4 x 3 points


# -- user templates -------------------------------------------------------------------

TEMPLATES = {
    "string_repeat": ("{{ 'a'*10**10 }}", "repeating 1 items 10,000,000,000 times"),
    "list_repeat": ("{{ [1]*10**9 }}", "at most 1,000,000 items"),
    "center_filter": ("{{ 'x'|center(10**10) }}", "center width 10,000,000,000"),
    "center_method": ("{{ 'x'.center(10**10) }}", "calling with the number 10,000,000,000"),
    "percent_width": ("{{ '%999999999s' % 'x' }}", "format '%999999999s'"),
    "format_width": ("{{ '{:>999999999}'.format(1) }}", "format '{:>999999999}'"),
    "format_filter": ("{{ '%999999999d'|format(1) }}", "format '%999999999d'"),
    "nested_ranges": ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                      "at most 1,000,000 loop iterations"),
    "doubling": ("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}"
                 "{% endfor %}{{ ns.s }}", "a concatenation"),
    "huge_power": ("{{ 7**(10**7) }}", "a power"),
    "output": ("{% for i in range(99999) %}{{ 'abcdefghij' * 100 }}{% endfor %}", "the output"),
    "range": ("{% for i in range(10**6) %}{% endfor %}", "Range too big"),
    "recursion": ("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "recursion too deep"),
    "include": ("{% include 'x.txt' %}", "may not include, import or extend other templates"),
    "extends": ("{% extends 'base.txt' %}", "may not include, import or extend"),
}


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_hostile_templates_end_in_a_template_error(name, tmp_path):
    source, fragment = TEMPLATES[name]
    path = tmp_path / "user.txt"
    path.write_text(source)
    refused(lambda: sc.render(sc.ReLU(), path), fragment, TemplateError)


def test_a_fair_template_still_renders(tmp_path):
    path = tmp_path / "fair.md"
    path.write_text("{% for i in range(3) %}{{ '%3d'|format(i) }}{{ 'x'|center(5) }}|{% endfor %}{{ 2**64 }}")
    assert sc.render(sc.ReLU(), path) == "  0  x  |  1  x  |  2  x  |18446744073709551616"


# -- peak activations -------------------------------------------------------------------

def test_peak_activations_prune_in_linear_time():
    from symcost.networks.report import _largest

    values = [k * H * W for k in range(1, 2001)] + [C * H * W + H * W]
    with guard():
        peak = _largest(values)
    assert peak == sympy.Max(2000 * H * W, C * H * W + H * W, evaluate=False)
    assert _largest([H**3 - 3 * H, H**3]) == H**3  # H**3 >= H**3 - 3*H for every positive H
    assert set(_largest([(H + 1) ** 2, H * W]).args) == {(H + 1) ** 2, H * W}  # incomparable: both kept


# -- solving and divisible floors ----------------------------------------------------------

def test_break_even_of_a_high_degree_difference_is_refused_quickly():
    refused(lambda: sc.break_even(C**64 + 3 * C**2 + 1, 5 * C**63 + 7, C, "flops"),
            "cost difference has degree 64 in C; break-even points are solved in closed form up to degree 4")
    assert sc.break_even(C**2, 3 * C, C, "flops") == (3,)  # C**2 = 3*C at C = 3


def test_divisible_floors_on_deeply_symbolic_convs_are_budgeted():
    from symcost.networks import floors
    from symcost.symbols import symbol

    convs = [sc.Conv2d(symbol(f"c{i}"), symbol(f"k{i}"), stride=symbol(f"s{i}")) for i in range(3)]
    net = sc.Sequential(*convs)
    report = net.analyze(sc.Shape(C, H, W), floor="divisible")  # small enough: polynomials
    assert not report.total.macs.has(sympy.floor)
    budget = floors.MAX_DIVISIBLE_TERMS
    try:
        floors.MAX_DIVISIBLE_TERMS = 50  # the same network past a lowered budget: refused, not expanded
        refused(lambda: net.analyze(sc.Shape(C, H, W), floor="divisible"),
                "'divisible' would expand this network's formulas into more than 50 terms")
    finally:
        floors.MAX_DIVISIBLE_TERMS = budget
