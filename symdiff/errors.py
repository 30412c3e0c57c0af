"""The error hierarchy. Every error symdiff raises on purpose is a ``SymdiffError``."""

from __future__ import annotations

from typing import Any


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


class UnsupportedAttributeError(UnsupportedError, AttributeError):
    """An ``ndarray`` attribute or method that nodes do not have (``hasattr`` still says False)."""


class ArgumentError(SymdiffError, TypeError, ValueError):
    """A compiled function got the wrong number, type or shape of arguments."""


class OpDefinitionError(SymdiffError, ValueError):
    """A user-defined op whose structure is wrong: arity, importability, VJP entries, or a name clash."""


class GradientError(SymdiffError, AssertionError):
    """A gradient check found a mismatch; the fields locate the worst element.

    When the check could blame one node's rule, ``op`` names that op and ``node`` is the node;
    otherwise both are ``None``.
    """

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
        op: str | None = None,
        node: Any = None,
    ) -> None:
        super().__init__(message)
        self.variable = variable
        self.index = index
        self.got = got
        self.expected = expected
        self.rtol = rtol
        self.atol = atol
        self.op = op
        self.node = node
