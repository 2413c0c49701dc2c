"""What eager PyTorch's autograd keeps for backward, measured: the reference for activation memory.

``saved_storage_bytes(model, inputs)`` runs one training-mode forward under
``torch.autograd.graph.saved_tensors_hooks`` and adds up the bytes of every
distinct storage a saved tensor lives in (``untyped_storage().data_ptr()``),
leaving out the model's parameters and buffers. A view saved by one op and its
base saved by another count once, as they share one storage.
"""

from __future__ import annotations

import torch


def saved_storages(model: torch.nn.Module, inputs: tuple) -> dict[int, tuple[int, str, tuple]]:
    """Every distinct storage autograd saves in a forward of ``model`` on ``inputs``:
    {data_ptr: (bytes, dtype, shape of the first tensor saved in it)}; parameters and buffers left out."""
    model.train()
    owned = {t.untyped_storage().data_ptr() for t in (*model.parameters(), *model.buffers())}
    seen: dict[int, tuple[int, str, tuple]] = {}
    alive = []  # every saved tensor stays referenced, so no storage is freed and its address reused

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        alive.append(tensor)
        if tensor.layout == torch.strided and tensor.device.type != "meta":
            storage = tensor.untyped_storage()
            ptr = storage.data_ptr()
            if ptr not in owned and ptr not in seen and storage.nbytes():
                seen[ptr] = (storage.nbytes(), str(tensor.dtype).removeprefix("torch."), tuple(tensor.shape))
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(*inputs)
    del out
    return seen


def saved_storage_bytes(model: torch.nn.Module, inputs: tuple) -> int:
    """Bytes of the distinct storages autograd keeps for backward (no parameters, no buffers)."""
    return sum(size for size, _, _ in saved_storages(model, inputs).values())
