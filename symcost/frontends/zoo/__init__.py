"""Built-in models: real architectures as symcost networks, looked up by name.

Every factory returns a :class:`~symcost.networks.containers.Model` holding the
paper's input size; its rows are named as the torch modules are
(``features.0``, ``layer1.0.downsample.0``). ``MODELS`` lists them all on one
screen; :func:`get` finds one forgivingly (case, ``_`` and ``-`` ignored)::

    >>> from symcost import zoo
    >>> rep = zoo.get("ResNet-50").analyze()
    >>> rep.total.params, rep.total.macs
    (25557032, 4089184256)
    >>> zoo.get("vgg16").analyze().row("features.0").cost.out_shape
    Shape(64, 224, 224)
    >>> zoo.get("resnet51")
    Traceback (most recent call last):
    symcost.core.errors.UnknownModelError: unknown model 'resnet51'; did you mean 'resnet50'? known models: ...

Any input works, symbolic too: ``zoo.resnet50().analyze(sc.Shape(3, H, W))``
gives MACs as exact nested floors in H and W.
"""

from __future__ import annotations

from typing import Callable

from ...networks.containers import Model
from ...core.errors import UnknownModelError, did_you_mean
from .alexnet import alexnet, alexnet2012
from .bert import bert
from .fusionnet import fusionnet
from .mobilenet import mobilenet_v1, mobilenet_v2
from .t5 import t5
from .transformers import gpt2, gpt2_decode, llama, llama_decode
from .resnet import resnet, resnet18, resnet34, resnet50, resnet101, resnet152
from .unet import unet
from .vit import vit
from .vgg import vgg, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn

#: Every built-in model: its zoo name and the factory that builds it.
MODELS: dict[str, Callable[..., Model]] = {
    "alexnet": alexnet,
    "alexnet2012": alexnet2012,
    "vgg11": vgg11,
    "vgg13": vgg13,
    "vgg16": vgg16,
    "vgg19": vgg19,
    "vgg11_bn": vgg11_bn,
    "vgg13_bn": vgg13_bn,
    "vgg16_bn": vgg16_bn,
    "vgg19_bn": vgg19_bn,
    "resnet18": resnet18,
    "resnet34": resnet34,
    "resnet50": resnet50,
    "resnet101": resnet101,
    "resnet152": resnet152,
    "mobilenet_v1": mobilenet_v1,
    "mobilenet_v2": mobilenet_v2,
    "fusionnet": fusionnet,
    "unet": unet,
    "gpt2": gpt2,
    "gpt2_decode": gpt2_decode,
    "llama": llama,
    "llama_decode": llama_decode,
    "bert": bert,
    "vit": vit,
    "t5": t5,
}

__all__ = ["MODELS", "names", "get", "factory", "vgg", "resnet", *MODELS]


def _normalize(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


_BY_KEY = {_normalize(name): name for name in MODELS}


def names() -> list[str]:
    """The zoo names, sorted."""
    return sorted(MODELS)


def factory(name: str) -> Callable[..., Model]:
    """The function that builds the model called ``name`` (found as :func:`get` finds it)."""
    key = _normalize(name) if isinstance(name, str) else None
    if key not in _BY_KEY:
        hint = did_you_mean(name if isinstance(name, str) else "", names())
        raise UnknownModelError(f"unknown model {name!r}; {hint}known models: {', '.join(names())}")
    return MODELS[_BY_KEY[key]]


def get(name: str, **kwargs: object) -> Model:
    """The model called ``name`` (``ResNet-50``, ``resnet_50``, ``resnet50``), built with ``kwargs``."""
    return factory(name)(**kwargs)
