"""torchvision imports and builds a model once tests/torchvision_shim.py is installed (by conftest)."""

import pytest


def test_torchvision_builds_resnet18():
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    model = torchvision.models.resnet18(weights=None).eval()
    with torch.no_grad():
        out = model(torch.zeros(1, 3, 64, 64))
    assert out.shape == (1, 1000)
    assert sum(p.numel() for p in model.parameters()) == 11_689_512


def test_shim_is_idempotent_and_narrow():
    pytest.importorskip("torch")
    import torch.library

    import torchvision_shim

    assert torchvision_shim.install() is True
    wrapper = torch.library.register_fake
    assert torchvision_shim.install() is True
    assert torch.library.register_fake is wrapper           # no double wrapping
    # Outside the torchvision namespace a missing op still raises, as without the shim.
    with pytest.raises(RuntimeError):
        torch.library.register_fake("symcost_no_such_ns::no_such_op")(lambda x: x)
