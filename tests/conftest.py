"""Collection rules: torch-only helpers are skipped cleanly where torch is absent."""

import importlib.util

import pytest

import torchvision_shim

# torchvision's compiled ops do not load on every torch build (here: a CUDA torchvision wheel on a
# CPU torch), which makes `import torchvision` / `import timm` raise; torchvision_shim.py explains
# the fix.  Set up here, before any test module is imported, it applies on the first
# `import torchvision` (so sessions that never import torchvision do not import torch); a no-op
# where torch or torchvision is absent.
torchvision_shim.install_on_import()

# torch_models.py defines reference networks in torch.nn for the zoo tests.
collect_ignore = [] if importlib.util.find_spec("torch") else ["torch_models.py", "peer_runners.py"]


def pytest_addoption(parser):
    """``--regenerate-golden`` rewrites tests/golden/ from the current renderings (or SYMCOST_REGENERATE_GOLDEN=1)."""
    parser.addoption("--regenerate-golden", action="store_true", default=False,
                     help="rewrite the golden files of tests/test_render.py instead of comparing with them")


@pytest.fixture
def mha_fast_path_off():
    """nn.MultiheadAttention's fused fast path is invisible to FlopCounterMode: off while comparing."""
    torch = pytest.importorskip("torch")
    before = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    yield
    torch.backends.mha.set_fastpath_enabled(before)
