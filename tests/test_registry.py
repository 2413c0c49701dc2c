"""The layer registry: one class per kind, forgiving names, no duplicates."""

from dataclasses import dataclass

import pytest

import symcost as sc
from symcost.layers.base import Layer
from symcost.layers.registry import register

EXPECTED_KINDS = {
    "Conv2d", "ConvTranspose2d", "SeparableConv2d", "Linear", "BatchNorm2d",
    "ReLU", "ReLU6", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "SiLU", "Hardswish", "Hardsigmoid",
    "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d",
    "Flatten", "Dropout", "Identity", "Upsample", "Add", "Mul", "Scale",
    "Cat", "Mean", "Pad2d", "Parameter", "Constant",
}


def test_every_kind_of_the_catalogue_is_registered():
    from symcost import layers

    assert EXPECTED_KINDS <= set(sc.kinds())
    assert set(sc.kinds()) == set(layers.__all__) - {"Layer"}  # every exported kind registered, and only those


@pytest.mark.parametrize("name", ["Conv2d", "conv2d", "conv_2d", "CONV2D", "Conv_2d"])
def test_names_match_case_insensitively_without_underscores(name):
    assert sc.layer_class(name) is sc.Conv2d


def test_duplicate_registration_is_refused():
    @dataclass(frozen=True)
    class Conv2d(Layer):  # same name as the real one
        pass

    with pytest.raises(sc.SymcostError, match="layer kind 'Conv2d' is already registered"):
        register(Conv2d)
    assert sc.layer_class("conv2d") is sc.Conv2d
