"""Bytes per element of the dtypes symcost sizes memory in: one table for every byte count.

    >>> bytes_per_element("bfloat16"), bytes_per_element("float8_e4m3fn")
    (2, 1)
"""

from __future__ import annotations

from .errors import InvalidArgumentError

#: Storage of one element, by torch's dtype name (``torch.bool`` is one byte, as torch stores it).
DTYPE_BYTES: dict[str, int] = {
    "float64": 8, "float32": 4, "float16": 2, "bfloat16": 2,
    "float8_e4m3fn": 1, "float8_e5m2": 1,
    "int64": 8, "int32": 4, "int16": 2, "int8": 1, "uint8": 1, "bool": 1,
}


def bytes_per_element(dtype: str, *, owner: str = "dtype") -> int:
    """The bytes one element of ``dtype`` takes; an unknown name is one clear error naming ``owner``."""
    if not isinstance(dtype, str) or dtype not in DTYPE_BYTES:
        raise InvalidArgumentError(owner, "dtype", f"must be one of {', '.join(DTYPE_BYTES)}", dtype)
    return DTYPE_BYTES[dtype]
