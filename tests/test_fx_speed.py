"""The fx route's speed-ups keep every value: reports reused, fast paths checked against hand-derived numbers."""

from __future__ import annotations

import pytest
import sympy
import torch

import symcost as sc
from symcost.core.arguments import strict
from symcost.symbols import H, W


class Small(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x).relu()


def test_from_torch_analyze_reuses_the_report_of_its_strict_reading():
    net = sc.from_torch(Small().eval(), (3, H, W), capture="fx")
    rep = net.analyze()
    assert net.analyze() is rep  # the strict reading's report, not walked again
    # by hand: out = floor((9 + 2 - 3)/2) + 1 = 5 per axis; 8*27 weights + 8 biases; 27 MACs per output
    at = {H: 9, W: 9}
    assert (rep.total.params.subs(at), rep.total.macs.subs(at)) == (224, 8 * 5 * 5 * 27)
    assert rep.out_shape.subs(H=9, W=10) == sc.Shape(8, 5, 5)


def test_a_report_made_outside_strict_is_checked_again_inside_it():
    net = sc.Model(sc.Sequential(sc.Flatten(), sc.Linear(10, in_features=400, name="fc")), name="probe",
                   input_shape=sc.Shape(1, H, W))
    assert net.analyze().total.macs == 10 * H * W  # lenient: 400 = H*W is not decided
    with strict(), pytest.raises(sc.ShapeError, match="in_features is 400 but the input has H\\*W features"):
        net.analyze()
    with strict():
        assert net.analyze(sc.Shape(1, 20, 20)).total.macs == 4000


def test_a_report_is_kept_per_shape_convention_and_name():
    net = sc.Sequential(sc.Conv2d(4, 3, name="c"))
    a = net.analyze(sc.Shape(1, 5, 5))
    assert a.total.macs == 4 * 9 * 9  # 3x3 outputs, 9 taps, 4 channels
    b = net.analyze(sc.Shape(1, 6, 6))
    assert b.total.macs == 4 * 16 * 9
    assert net.analyze(sc.Shape(1, 5, 5)) is a
    assert net.analyze(sc.Shape(1, 5, 5), model="other").model == "other"
    other = net.analyze(sc.Shape(1, 5, 5), "macs")
    assert other is not a and other.convention.name == "macs" and other.total.macs == 4 * 9 * 9
