"""Recurrent layers: LSTM and GRU, as torch.nn.LSTM and torch.nn.GRU on one sequence.

The input is ``(L, input_size)`` (``L`` may stay a symbol); the outputs are
``output (L, D*H_out)``, then ``h_n (D*num_layers, H_out)`` (and, for LSTM,
``c_n (D*num_layers, hidden_size)``) in ``more_outputs``, where ``D`` is 2
when bidirectional and ``H_out`` is ``proj_size`` (LSTM) or ``hidden_size``.

Per step, layer and direction, the gate pre-activations ``W_ih x + b_ih`` and
``W_hh h + b_hh`` are dot products (``macs``) and bias adds (``bias``); the
first step multiplies the zero initial state all the same. Then per unit, with
torch's documented formulas (sigmoid = 1 exp, 1 add, 1 division; tanh = 1
special):

* LSTM: 4 adds (the two pre-activations summed per gate), 3 sigmoids, 2 tanh,
  ``c' = f*c + i*g`` (2 multiplies, 1 add), ``h' = o*tanh(c')`` (1 multiply);
  with ``proj_size`` then ``h' = W_hr h'`` (``macs``);
* GRU: ``r``, ``z`` = sigmoid of a sum (2 adds each with the sigmoid's),
  ``n = tanh(gi_n + r*gh_n)`` (1 multiply, 1 add), ``h' = (1 - z)*n + z*h``
  (2 multiplies, 2 adds).

    >>> import symcost as sc
    >>> from symcost.symbols import symbol
    >>> L = symbol("L")
    >>> cost = sc.GRU(4, 8).cost(sc.Shape(L, 4))
    >>> cost.out_shapes, cost.params.total, cost.macs
    ((Shape(L, 8), Shape(1, 8)), 336, 288*L)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import OpCounts, Params
from ..core.errors import InvalidArgumentError, ShapeError
from ..core.shape import Shape
from .base import Layer
from .matmul import same_size
from .registry import register


@dataclass(frozen=True)
class _Recurrent(Layer):
    input_size: object
    hidden_size: object
    num_layers: object = 1
    bias: bool = True
    batch_first: bool = False
    bidirectional: bool = False

    #: gates per unit (rows of W_ih / W_hh per hidden unit)
    gates: ClassVar[int] = 1
    #: per step and unit, the pointwise operations after the gate pre-activations
    pointwise: ClassVar[OpCounts] = OpCounts()

    def __post_init__(self) -> None:
        label = self.label
        for name in ("input_size", "hidden_size", "num_layers"):
            object.__setattr__(self, name, arg.positive_int(getattr(self, name), layer=label, argument=name))
        for name in ("bias", "batch_first", "bidirectional"):
            arg.boolean(getattr(self, name), layer=label, argument=name)

    @property
    def _out_size(self) -> sympy.Expr:
        return self.hidden_size

    def _extra_state(self, directions: sympy.Expr) -> tuple[Shape, ...]:
        return ()

    def _step(self) -> tuple[OpCounts, sympy.Expr]:
        """Per step and direction, beyond the gate products: the operations and the projection weights."""
        return self.pointwise.scaled(self.hidden_size), sympy.Integer(0)

    def _cost(self, shape: Shape) -> Cost:
        label = self.label
        if shape.rank != 2:
            raise ShapeError(f"{label}: expects a sequence (L, input_size) per sample, got {shape}")
        length, d_in = shape.dims
        same_size(label, f"input_size and the input's features {shape}", self.input_size, d_in)
        directions = 2 if self.bidirectional else 1
        out, rows = self._out_size, self.gates * self.hidden_size
        pointwise, extra_weight = self._step()

        def one_layer(width: sympy.Expr) -> tuple[OpCounts, sympy.Expr, sympy.Expr]:
            """A layer's operations over the sequence, and its weights and biases, both directions."""
            macs = rows * (width + out)
            bias_adds = 2 * rows if self.bias else 0
            step = OpCounts(mul=macs, add=macs - 2 * rows + bias_adds, macs=macs, bias=bias_adds) + pointwise
            return (step.scaled(length * directions), directions * (macs + extra_weight),
                    directions * bias_adds)

        first, later = one_layer(d_in), one_layer(directions * out)  # later layers read both directions
        rest = self.num_layers - 1
        ops = first[0] + later[0].scaled(rest)
        weight, bias = first[1] + rest * later[1], first[2] + rest * later[2]
        state = Shape(directions * self.num_layers, out)
        return Cost(self.kind, (shape,), Shape(length, directions * out), params=Params(weight, bias), ops=ops,
                    more_outputs=(state, *self._extra_state(directions)))


@register
@dataclass(frozen=True)
class LSTM(_Recurrent):
    """nn.LSTM(input_size, hidden_size, num_layers, bias, batch_first, bidirectional, proj_size)."""

    proj_size: object = 0

    gates = 4
    pointwise = OpCounts(mul=3, add=8, div=3, special=5)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "proj_size", arg.nonnegative_int(self.proj_size, layer=self.label,
                                                                 argument="proj_size"))
        if arg.proven(self.proj_size >= self.hidden_size):
            raise InvalidArgumentError(self.label, "proj_size", f"must be smaller than hidden_size ({self.hidden_size})",
                                       self.proj_size)

    @property
    def _out_size(self) -> sympy.Expr:
        return self.hidden_size if self.proj_size == 0 else self.proj_size

    def _extra_state(self, directions: sympy.Expr) -> tuple[Shape, ...]:
        return (Shape(directions * self.num_layers, self.hidden_size),)

    def _step(self) -> tuple[OpCounts, sympy.Expr]:
        ops, weight = super()._step()
        if self.proj_size == 0:
            return ops, weight
        macs = self.proj_size * self.hidden_size
        return ops + OpCounts(mul=macs, add=macs - self.proj_size, macs=macs), weight + macs


@register
@dataclass(frozen=True)
class GRU(_Recurrent):
    """nn.GRU(input_size, hidden_size, num_layers, bias, batch_first, bidirectional)."""

    gates = 3
    pointwise = OpCounts(mul=3, add=7, div=2, special=3)
