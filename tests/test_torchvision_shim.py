"""torchvision imports and builds a model with tests/torchvision_shim.py (conftest sets it up)."""

import subprocess
import sys
from pathlib import Path

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


def test_install_on_import_waits_for_torchvision():
    """Setting the shim up imports nothing; the first `import torchvision` installs it and succeeds."""
    pytest.importorskip("torch")
    pytest.importorskip("torchvision")
    code = ("import sys, torchvision_shim\n"
            "assert torchvision_shim.install_on_import()\n"
            "assert 'torch' not in sys.modules\n"
            "import torchvision, torch.library\n"
            "assert torch.library.register_fake._symcost_torchvision_shim\n"
            "print(torchvision.models.resnet18(weights=None).fc.out_features)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "1000"
