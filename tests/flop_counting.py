"""Counting MACs with torch's FlopCounterMode, made to see what it is blind to on the CPU.

FlopCounterMode counts 0 for ``scaled_dot_product_attention`` on the CPU: its
registry holds formulas for the GPU kernels only. :func:`cpu_flash_counted`
registers, for the CPU flash kernel, the formula torch registers for the GPU
flash kernel (``sdpa_flop_count``: both products over the full square of
scores), and takes it back afterwards. Turn the fused fast path of
``nn.MultiheadAttention`` off with ``torch.backends.mha.set_fastpath_enabled(False)``.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from torch.utils.flop_counter import FlopCounterMode, flop_registry, register_flop_formula, sdpa_flop_count


def cpu_flash_flop(query, key, value, *args, out_shape=None, **kwargs) -> int:
    """torch's formula for the GPU flash kernel, applied to the CPU flash kernel's shapes."""
    return sdpa_flop_count(query, key, value)


@contextmanager
def cpu_flash_counted():
    """FlopCounterMode counts 0 for CPU scaled_dot_product_attention; register the flash formula meanwhile."""
    target = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu
    added = target not in flop_registry
    if added:
        register_flop_formula(target)(cpu_flash_flop)
    try:
        yield
    finally:
        if added:
            flop_registry.pop(target, None)


def flop_macs(fn, *args) -> int:
    """MACs of ``fn(*args)`` as FlopCounterMode counts them (FLOPs / 2), CPU attention included."""
    with cpu_flash_counted(), FlopCounterMode(display=False) as mode:
        fn(*args)
    total = mode.get_total_flops()
    assert total % 2 == 0
    return total // 2
