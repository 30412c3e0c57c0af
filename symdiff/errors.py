"""The error hierarchy. Every error symdiff raises on purpose is a ``SymdiffError``."""

from __future__ import annotations


class SymdiffError(Exception):
    """Root of every error symdiff raises on purpose."""


class GraphError(SymdiffError):
    """A malformed graph: missing inputs, a bad variable, a node used as a bool."""


class ShapeError(SymdiffError, ValueError):
    """Shapes that do not fit the op, found when the graph is built."""


class NoVJPError(SymdiffError):
    """An op without a derivative rule, or a rule that returned the wrong structure."""


class EmitError(SymdiffError):
    """The code generator could not print a node."""


class UnsupportedError(SymdiffError, TypeError):
    """A NumPy function or argument form that symdiff does not implement."""


class ArgumentError(SymdiffError, TypeError, ValueError):
    """A compiled function got the wrong number, type or shape of arguments."""


class GradientError(SymdiffError, AssertionError):
    """A gradient check found a mismatch; the fields locate the worst element."""

    def __init__(
        self,
        message: str,
        *,
        variable: str,
        index: tuple[int, ...],
        got: float,
        expected: float,
        rtol: float,
        atol: float,
    ) -> None:
        super().__init__(message)
        self.variable = variable
        self.index = index
        self.got = got
        self.expected = expected
        self.rtol = rtol
        self.atol = atol
