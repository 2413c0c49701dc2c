"""Which inputs require grad (symcost.networks.dataflow), the one fact training FLOPs and activation
memory share: a symbolic Repeat whose first pass reads the network's input, checked against the
unrolled network and torch's FlopCounterMode over a real backward."""

from __future__ import annotations

import pytest
import sympy

import symcost as sc
from symcost.symbols import symbol

n, m = symbol("n"), symbol("m")


def _block():
    return sc.Sequential(sc.ReLU(), sc.Linear(8), sc.GELU())


def _net(times):
    return sc.Sequential(sc.Repeat(_block(), times), sc.Linear(3))


def test_first_pass_of_a_symbolic_repeat_takes_no_grad_input():
    """The block's first pass reads the network's input: its ReLU and Linear compute no grad-input."""
    grads = _net(n).analyze(sc.Shape(8)).requires_grad
    relu, linear, gelu = grads[:3]
    for grads in (relu, linear):  # first pass: 1/n of the instances; the others: (n - 1)/n
        cases = dict(grads.cases)
        assert set(cases) == {(False,), (True,)}
        assert sympy.simplify(cases[(False,)] - 1 / n) == 0 and sympy.simplify(cases[(True,)] - (n - 1) / n) == 0
    assert gelu.cases == (((True,), 1),)
    assert relu.needs == (True,) and sympy.simplify(relu.records - (n - 1) / n) == 0


@pytest.mark.parametrize("times", [1, 2, 3, 5])
def test_symbolic_repeat_step_flops_equal_the_unrolled_network(times):
    symbolic = _net(n).analyze(sc.Shape(8), batch=2).training()
    unrolled = _net(times).analyze(sc.Shape(8), batch=2).training()
    assert len(unrolled.report.rows) == 3 * times + 1  # really unrolled
    for convention in ("exact", "macs", "flops2"):
        want = unrolled.flops(convention)
        assert sympy.simplify(symbolic.flops(convention).subs(n, times) - want) == 0
        assert symbolic.subs(n=times).flops(convention) == want
    for part in ("grad_input", "grad_weight"):
        assert sympy.simplify(symbolic.part(part).executed.subs(n, times) - unrolled.part(part).executed) == 0


def test_symbolic_repeat_step_matches_torch_flop_counter():
    """torch runs no grad-input for the first pass's Linear (its input does not require grad)."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    times, batch = 3, 2
    torch.manual_seed(0)
    blocks = [torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(8, 8), torch.nn.GELU()) for _ in range(times)]
    model = torch.nn.Sequential(*blocks, torch.nn.Linear(8, 3))
    x = torch.randn(batch, 8)
    with FlopCounterMode(display=False) as mode:
        model(x).sum().backward()
    tr = _net(n).analyze(sc.Shape(8), batch=sympy.Integer(batch)).training()
    assert tr.flops("flops2").subs(n, times) == mode.get_total_flops()
    # by hand: 4 Linears forward and grad-weight, grad-input for all but the first: 11 products
    assert mode.get_total_flops() == 2 * batch * (3 * 8 * 8 + 8 * 3) * 3 - 2 * batch * 8 * 8


@pytest.mark.parametrize("outer,inner", [(1, 1), (2, 3), (3, 2)])
def test_nested_symbolic_repeats_step_flops_equal_unrolled(outer, inner):
    def net(o, i):
        return sc.Sequential(sc.Repeat(sc.Sequential(sc.Repeat(sc.Sequential(sc.ReLU(), sc.Linear(6)), i),
                                                     sc.Tanh()), o), sc.Linear(2))

    symbolic = net(n, m).analyze(sc.Shape(6)).training()
    unrolled = net(outer, inner).analyze(sc.Shape(6)).training()
    assert sympy.simplify(symbolic.flops("exact").subs({n: outer, m: inner}) - unrolled.flops("exact")) == 0


def test_a_block_without_parameters_keeps_every_pass_gradient_free():
    rep = sc.Sequential(sc.Repeat(sc.Sequential(sc.ReLU(), sc.Tanh()), n), sc.Linear(2)).analyze(sc.Shape(4))
    assert [g.needs for g in rep.requires_grad] == [(False,), (False,), (False,)]
    assert rep.training().part("grad_input").executed == 0


def test_a_padded_concat_branch_keeps_its_gradient_flag():
    """F.pad's copy of the network's input needs no gradient; the convolution branch does."""
    net = sc.Concat(sc.Conv2d(2, 3, padding=1), sc.MaxPool2d(3, stride=1), pad=True)
    rep = net.analyze(sc.Shape(2, 6, 6))
    assert rep.requires_grad[-1].needs == (True, False)


def test_activation_memory_and_training_read_the_same_flags():
    rep = sc.Sequential(sc.ReLU(), sc.Linear(4), sc.ReLU()).analyze(sc.Shape(4))
    tr = rep.training()
    assert [row.grad_input.executed for row in tr.rows] == [0, 0, 4]
    assert tr.saved[0] == 0  # autograd records nothing for the first ReLU: its input needs no gradient


def test_too_deeply_nested_symbolic_repeats_are_refused():
    from symcost.networks.dataflow import MAX_SYMBOLIC_NESTING

    net = sc.Linear(2)
    for k in range(MAX_SYMBOLIC_NESTING + 1):
        net = sc.Repeat(sc.Sequential(net, sc.ReLU()), symbol(f"r{k}"))
    rep = sc.Sequential(sc.Linear(2), net).analyze(sc.Shape(2))
    with pytest.raises(sc.InvalidArgumentError, match="at most 10 symbolic Repeats"):
        rep.training()
