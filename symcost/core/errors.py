"""Exceptions raised by symcost.

Every error is a :class:`SymcostError` and also the matching built-in
(``ValueError``, ``KeyError``, ``TypeError``), so callers can catch either::

    try:
        sc.Conv2d(8, 3, stride=0)
    except ValueError as err:          # or: except sc.SymcostError
        print(err)                     # Conv2d: stride must be a positive integer, got 0
"""

import difflib


class SymcostError(Exception):
    """Base class of every error symcost raises on purpose."""


class InvalidArgumentError(ValueError, SymcostError):
    """A layer argument breaks a rule, e.g. a stride of 0 or a negative padding."""

    def __init__(self, layer: str, argument: str, rule: str, value: object):
        self.layer, self.argument, self.rule, self.value = layer, argument, rule, value
        super().__init__(f"{layer}: {argument} {rule}, got {value!r}")


class ArgumentTypeError(TypeError, SymcostError):
    """An argument has a type symcost never accepts (a float, a string, ...)."""


class ShapeError(ValueError, SymcostError):
    """A layer cannot take the input shape it was given."""


class UnknownLayerError(KeyError, SymcostError):
    """A layer kind name that is not registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UnknownRowError(KeyError, SymcostError):
    """A layer name that is not a row of the report (``report.row(name)``)."""

    def __str__(self) -> str:
        return str(self.args[0])


class UnknownConventionError(KeyError, SymcostError):
    """A convention name that is not one of the presets."""

    def __str__(self) -> str:
        return str(self.args[0])


class RegistryError(ValueError, SymcostError):
    """A layer kind was registered twice under the same name."""


class UnknownModelError(KeyError, SymcostError):
    """A model name that is not in :mod:`symcost.zoo`."""

    def __str__(self) -> str:
        return str(self.args[0])


class DivisibilityError(ValueError, SymcostError):
    """Numbers substituted into a ``floor="divisible"`` report break its exact-division assumption."""


def with_context(err: SymcostError, context: str) -> SymcostError:
    """The same kind of error, its message prefixed by where it happened (``context: message``)."""
    located = type(err).__new__(type(err))
    located.__dict__.update(err.__dict__)
    Exception.__init__(located, f"{context}: {err}")
    return located


class SpecError(ValueError, SymcostError):
    """A spec file that cannot be read as a network: one line with the file, the path and the rule."""


class HardwareError(ValueError, SymcostError):
    """A hardware entry or file that breaks a rule (a figure without its unit, an unknown dtype)."""


class UnknownHardwareError(KeyError, SymcostError):
    """A hardware name that is neither a preset nor an entry of the user's file."""

    def __str__(self) -> str:
        return str(self.args[0])


class TemplateError(ValueError, SymcostError):
    """A template cannot be rendered: a syntax error, a missing variable, an unreadable file."""


class TemplateSecurityError(TemplateError):
    """A user's template reached for Python internals, which the sandbox forbids."""


class UnsupportedModuleError(TypeError, SymcostError):
    """A torch model holds modules or functions with no symcost counterpart; ``unsupported`` lists them all."""

    def __init__(self, message: str, unsupported: tuple[str, ...] = ()):
        super().__init__(message)
        self.unsupported = tuple(unsupported)


def did_you_mean(given: str, valid: list[str]) -> str:
    """``"did you mean 'stride'? "`` for the valid name closest to ``given`` (case, ``_`` and ``-`` ignored), or ``""``.

    >>> did_you_mean("Strides", ["stride", "padding"])
    "did you mean 'stride'? "
    """
    def key(name: str) -> str:
        return name.replace("_", "").replace("-", "").lower()

    by_key = {key(v): v for v in valid}
    close = difflib.get_close_matches(key(given), list(by_key), n=1, cutoff=0.6)
    return f"did you mean {by_key[close[0]]!r}? " if close else ""


class UnknownViewError(KeyError, SymcostError):
    """A peer tool's view that does not exist (``symcost report --as NAME``)."""

    def __str__(self) -> str:
        return str(self.args[0])


class ViewError(ValueError, SymcostError):
    """A report a peer tool's view cannot show: symbols left, a batch, too many lines."""
