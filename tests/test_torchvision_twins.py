"""The torch.nn twins in tests/torch_models.py have torchvision's real module structure.

Peer tools count by module structure (torchinfo sums its leaf modules' hooks, one entry per call;
ptflops and thop hook leaves; fvcore attributes ops to the calling module), so a twin that only
matches torchvision on parameters and MACs could still give a peer a different count.  Here each twin
that reproduces a torchvision model must equal it on:

* the module tree: qualified names (with shared modules listed at each place), classes, the shapes of
  each module's own parameters and buffers, and each leaf's repr (``ReLU(inplace=True)``, ``p=0.5``);
* the forward pass: the sequence of module calls with their output shapes, so a module torchvision
  shares (ResNet's one ``relu`` called 3 times per Bottleneck) is shared and called alike in the twin,
  and functional calls (MobileNetV2's ``F.adaptive_avg_pool2d``) stay functional.

Skipped where torch or torchvision is not installed (conftest's torchvision_shim makes torchvision
importable where its compiled ops do not load).  No weights are downloaded; the models are built
and run on the ``meta`` device (shapes only), so the whole file takes seconds.
"""

import pytest

torch = pytest.importorskip("torch")
models = pytest.importorskip("torchvision.models")

import torch_models  # noqa: E402

#: (torchvision name, twin factory)
TWINS = [
    ("alexnet", torch_models.alexnet),
    *[(f"vgg{d}", lambda d=d: torch_models.vgg(d)) for d in (11, 13, 16, 19)],
    *[(f"vgg{d}_bn", lambda d=d: torch_models.vgg(d, batch_norm=True)) for d in (11, 13, 16, 19)],
    *[(f"resnet{d}", lambda d=d: torch_models.resnet(d)) for d in (18, 34, 50, 101, 152)],
    ("mobilenet_v2", torch_models.mobilenet_v2),
]


def structure(model):
    """(name, class, own parameter shapes, own buffer shapes, leaf repr) for every module, duplicates kept."""
    return [
        (name, type(module).__name__,
         [(p, tuple(t.shape)) for p, t in module.named_parameters(recurse=False)],
         [(b, tuple(t.shape)) for b, t in module.named_buffers(recurse=False)],
         "" if list(module.children()) else repr(module))
        for name, module in model.named_modules(remove_duplicate=False)
    ]


def calls(model, shape):
    """The modules the forward pass calls, in order, by qualified name, with their output shapes."""
    names = {id(module): name for name, module in model.named_modules()}
    seen = []
    hooks = [module.register_forward_hook(lambda m, i, o: seen.append((names[id(m)], tuple(o.shape))))
             for module in model.modules()]
    try:
        with torch.no_grad():
            model(torch.zeros(1, *shape, device="meta"))
    finally:
        for hook in hooks:
            hook.remove()
    return seen


@pytest.mark.parametrize("name, twin", TWINS, ids=[t[0] for t in TWINS])
def test_twin_has_torchvisions_module_structure_and_calls(name, twin):
    with torch.device("meta"):  # shapes only: no weight initialisation, no arithmetic
        real = getattr(models, name)(weights=None).eval()
        mine = twin().eval()
    assert structure(mine) == structure(real)
    shape = (3, 129, 97)  # odd and non-square
    assert calls(mine, shape) == calls(real, shape)
