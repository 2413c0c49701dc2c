"""Let ``import torchvision`` (and ``import timm``) work when torchvision's compiled ops are missing.

Why: the torchvision wheel installed here (0.28.0, a CUDA build) ships ``_C.so``, which does not
load against the CPU-only torch wheel.  torchvision itself copes with that for most of its
operators (``torchvision.extension._has_ops()`` turns False and ``_meta_registrations.register_meta``
skips them), but ``torchvision/_meta_registrations.py`` also registers two fake kernels
unconditionally at import time::

    @torch.library.register_fake("torchvision::nms")
    @torch.library.register_fake("torchvision::qnms")

and ``torch.library.register_fake`` raises ``RuntimeError: operator torchvision::nms does not exist``
because the op was never defined.  That aborts ``import torchvision``, and with it ``import timm``.

What :func:`install` does, and nothing else: it replaces ``torch.library.register_fake`` with a thin
wrapper that, **only** for an operator named by a string in the ``torchvision::`` namespace **and only
when torch has no schema for that operator**, skips the registration and hands the function back
unchanged (the decorator becomes the identity).  Every other call -- other namespaces, OpOverload or
CustomOpDef objects, torchvision ops that do exist (a working torchvision build) -- goes to the
original function untouched, with the same arguments.

Why it is safe: a fake (meta) kernel is only consulted when the operator is dispatched under
FakeTensor/meta tracing; an operator that does not exist can never be dispatched, so there is nothing
for the skipped kernel to serve.  The only behaviour lost is that calling the missing op
(``torchvision.ops.nms`` and the detection models that need it) still fails -- exactly as it would
without the shim, with torchvision's own "Couldn't load custom C++ ops" error.  Classification,
segmentation and video models use plain ``torch.nn`` layers and are unaffected.

:func:`install` is idempotent, does nothing when torch is not installed, and does not import
torchvision itself.  Use it from a script::

    import torchvision_shim; torchvision_shim.install()
    import torchvision

:func:`install_on_import` (what ``tests/conftest.py`` calls) defers the same :func:`install` to the
first ``import torchvision`` (``import timm`` included), so a test session that never imports
torchvision does not import torch either.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.util
import sys

_NAMESPACE = "torchvision::"


def _op_exists(qualname: str) -> bool:
    """True when torch knows a schema for ``qualname`` (``"ns::name"`` or ``"ns::name.overload"``)."""
    import torch

    name, _, overload = qualname.partition(".")
    try:
        torch._C._dispatch_find_schema_or_throw(name, overload)
    except RuntimeError:
        return False
    return True


def install() -> bool:
    """Make ``torch.library.register_fake`` tolerate missing ``torchvision::`` ops.

    Returns True when the wrapper is in place (now or from an earlier call), False when torch is
    not installed (then nothing is changed).
    """
    if importlib.util.find_spec("torch") is None:
        return False
    import torch.library

    original = torch.library.register_fake
    if getattr(original, "_symcost_torchvision_shim", False):
        return True

    @functools.wraps(original)
    def register_fake(op, func=None, /, *args, **kwargs):
        if isinstance(op, str) and op.startswith(_NAMESPACE) and not _op_exists(op):
            # The op was never defined (torchvision's _C extension did not load): there is no
            # kernel to attach a fake to, so skip it, as torchvision's own register_meta does.
            if func is None:
                return lambda fn: fn
            return func
        if func is None:
            return original(op, *args, **kwargs)
        return original(op, func, *args, **kwargs)

    register_fake._symcost_torchvision_shim = True
    register_fake._symcost_original = original
    torch.library.register_fake = register_fake
    return True


class _InstallBeforeTorchvision(importlib.abc.MetaPathFinder):
    """Runs :func:`install` when ``torchvision`` is first imported, then steps aside; finds nothing itself."""

    def find_spec(self, fullname, path, target=None):
        if fullname == "torchvision":
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            install()
        return None  # the ordinary finders import torchvision


def install_on_import() -> bool:
    """Arrange for :func:`install` to run just before torchvision is first imported (now, if it already is).

    Returns False, changing nothing, when torch or torchvision is not installed.
    """
    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("torchvision") is None:
        return False
    if "torchvision" in sys.modules:
        return install()
    if not any(isinstance(finder, _InstallBeforeTorchvision) for finder in sys.meta_path):
        sys.meta_path.insert(0, _InstallBeforeTorchvision())
    return True
