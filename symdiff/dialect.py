"""The dialect a function is printed in: its array namespace, function names and float type.

The one emitter and the op printers ask the current dialect for every spelling that differs
between backends, instead of rewriting printed text afterwards. A printer is a small function
of its arguments' texts; the emitter sets the dialect once per function, so the printers need
no extra parameter.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from symdiff.precision import DOUBLE, SINGLE, Precision


@dataclass(frozen=True, eq=False)
class Dialect:
    """NumPy's spellings; a backend that differs subclasses it."""

    namespace: str = "np"
    precision: Precision = DOUBLE
    renamed: Mapping[str, str] = field(default_factory=dict)  # NumPy function name -> this namespace's

    def function(self, name: str) -> str:
        """The namespace's function that NumPy calls ``name``, qualified: ``np.arcsin``."""
        return f"{self.namespace}.{self.renamed.get(name, name)}"

    def scalar(self, text: str) -> str:
        """``text`` as a typed scalar of the float type."""
        return self.precision.scalar(text)

    def size(self, text: str) -> str:
        """A named dimension's size (a Python int) as a scalar of the float type: 1/n is inf at n = 0."""
        return self.precision.scalar(text)

    def zeros(self, shape: str) -> str:
        return self.precision.zeros(shape)

    def eye(self, k: int) -> str:
        """The ``k`` x ``k`` identity of the float type."""
        return f"{self.function('eye')}({k}{self.precision.dtype_keyword()})"

    def constant(self, name: str) -> str:
        """How the body refers to the array constant bound as ``name``."""
        return name


NUMPY = Dialect()
SINGLE_NUMPY = Dialect(precision=SINGLE)
_current: contextvars.ContextVar[Dialect] = contextvars.ContextVar("dialect", default=NUMPY)


def current() -> Dialect:
    """The dialect of the function being printed."""
    return _current.get()


def numpy_in(precision: Precision) -> Dialect:
    return NUMPY if precision.double else SINGLE_NUMPY


@contextlib.contextmanager
def printing(dialect: Dialect) -> Iterator[None]:
    token = _current.set(dialect)
    try:
        yield
    finally:
        _current.reset(token)
