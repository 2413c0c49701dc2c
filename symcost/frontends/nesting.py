"""The leaves of nested call arguments and outputs, shared by both torch routes.

    >>> flat(((1, [2, 3]), {"a": 4}))
    [1, 2, 3, 4]
"""

from __future__ import annotations


def flat(value: object) -> list:
    """Every leaf of nested tuples, lists and dict values, in order."""
    if isinstance(value, (tuple, list)):
        return [v for item in value for v in flat(item)]
    if isinstance(value, dict):
        return [v for item in value.values() for v in flat(item)]
    return [value]
