"""Counting MACs with torch's FlopCounterMode, made to see what it is blind to on the CPU.

FlopCounterMode counts 0 for ``scaled_dot_product_attention`` on the CPU: its
registry holds formulas for the GPU kernels only. :func:`cpu_flash_counted`
registers, for the CPU flash kernel, the formula torch registers for the GPU
flash kernel (``sdpa_flop_count``: both products over the full square of
scores), and takes it back afterwards; likewise for its backward, torch's ``sdpa_backward_flop_count``
(the scores recomputed, then four products). Turn the fused fast path of
``nn.MultiheadAttention`` off with ``torch.backends.mha.set_fastpath_enabled(False)``.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from torch.utils.flop_counter import (FlopCounterMode, flop_registry, register_flop_formula, sdpa_backward_flop_count,
                                     sdpa_flop_count)


def cpu_flash_flop(query, key, value, *args, out_shape=None, **kwargs) -> int:
    """torch's formula for the GPU flash kernel, applied to the CPU flash kernel's shapes."""
    return sdpa_flop_count(query, key, value)


def cpu_flash_backward_flop(grad_out, query, key, value, *args, out_shape=None, **kwargs) -> int:
    """torch's formula for the GPU flash kernel's backward, applied to the CPU flash backward's shapes."""
    return sdpa_backward_flop_count(grad_out, query, key, value)


@contextmanager
def cpu_flash_counted():
    """FlopCounterMode counts 0 for CPU scaled_dot_product_attention and its backward; register the flash
    formulas meanwhile."""
    formulas = {torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: cpu_flash_flop,
                torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward: cpu_flash_backward_flop}
    added = [target for target in formulas if target not in flop_registry]
    for target in added:
        register_flop_formula(target)(formulas[target])
    try:
        yield
    finally:
        for target in added:
            flop_registry.pop(target, None)


def flop_macs(fn, *args) -> int:
    """MACs of ``fn(*args)`` as FlopCounterMode counts them (FLOPs / 2), CPU attention included."""
    with cpu_flash_counted(), FlopCounterMode(display=False) as mode:
        fn(*args)
    total = mode.get_total_flops()
    assert total % 2 == 0
    return total // 2
