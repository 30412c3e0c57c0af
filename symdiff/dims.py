"""Named dimensions: sizes known only when the generated function runs.

A ``Dim`` is an integer polynomial of dimension names in a normal form (sorted monomials,
non-zero coefficients), so ``n - 1 + 1`` is ``n`` and two dimensions compare by their form.
Arithmetic that cancels every name gives a plain ``int``. Its ``str`` and ``repr`` are a Python
expression over the names, so a shape prints as the code that computes it at run time:
``(n - 1, 64)``. A question that has no answer for every size (``n > 3``, ``int(n)``) raises
``DimensionError``; names are sizes, so ``n >= 0`` is always true.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from symdiff.errors import ShapeError

Monomial = tuple[str, ...]  # names multiplied together, sorted; () is the constant term


class DimensionError(ShapeError):
    """A named dimension used where a concrete size is needed, or a question no size answers alone."""


class Dim:
    __slots__ = ("_hash", "terms")

    terms: tuple[tuple[Monomial, int], ...]

    def __init__(self, terms: Iterable[tuple[Monomial, int]]) -> None:
        self.terms = tuple(sorted(terms, key=_term_key))
        self._hash = hash(self.terms)

    # ---- arithmetic: the normal form of the result; an int when no name is left
    def __add__(self, other: Any) -> Dim | int:
        if not _operand(other):
            return NotImplemented
        return _normal([*self.terms, *_terms(other)])

    __radd__ = __add__

    def __neg__(self) -> Dim | int:
        return _normal([(m, -c) for m, c in self.terms])

    def __sub__(self, other: Any) -> Dim | int:
        if not _operand(other):
            return NotImplemented
        return _normal([*self.terms, *((m, -c) for m, c in _terms(other))])

    def __rsub__(self, other: Any) -> Dim | int:
        if not _operand(other):
            return NotImplemented
        return _normal([*_terms(other), *((m, -c) for m, c in self.terms)])

    def __mul__(self, other: Any) -> Dim | int:
        if not _operand(other):
            return NotImplemented
        return _normal([(tuple(sorted(m1 + m2)), c1 * c2) for m1, c1 in self.terms for m2, c2 in _terms(other)])

    __rmul__ = __mul__

    def __floordiv__(self, other: Any) -> Dim | int:
        quotient = exact_quotient(self, other)
        if quotient is None:
            raise DimensionError(f"{self} is not known to be a multiple of {other}")
        return quotient

    def __rfloordiv__(self, other: Any) -> Dim | int:
        quotient = exact_quotient(other, self)
        if quotient is None:
            raise DimensionError(f"{other} is not known to be a multiple of {self}")
        return quotient

    def __mod__(self, other: Any) -> int:
        """0 where ``other`` divides every size of this dimension; no other remainder has one value."""
        if exact_quotient(self, other) is None:
            raise DimensionError(f"{self} is not known to be a multiple of {other}")
        return 0

    def __truediv__(self, other: Any) -> Any:
        raise DimensionError(f"{self} / {other}: a named size has no float value while the graph is built")

    def __rtruediv__(self, other: Any) -> Any:
        raise DimensionError(f"{other} / {self}: a named size has no float value while the graph is built")

    def __float__(self) -> float:
        raise DimensionError(f"dimension {self} has no float value while the graph is built")

    # ---- comparisons: equal by normal form; an order only where every size agrees
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Dim) and other.terms == self.terms

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return self._hash

    def __ge__(self, other: Any) -> bool:
        return _at_least(self - other, 0, f"{self} >= {other}")

    def __gt__(self, other: Any) -> bool:
        return _at_least(self - other, 1, f"{self} > {other}")

    def __le__(self, other: Any) -> bool:
        return _at_least(other - self, 0, f"{self} <= {other}")

    def __lt__(self, other: Any) -> bool:
        return _at_least(other - self, 1, f"{self} < {other}")

    # ---- what has no answer before the function runs
    def __index__(self) -> int:
        raise DimensionError(f"dimension {self} has no concrete size when the graph is built")

    __int__ = __index__

    def __bool__(self) -> bool:
        raise DimensionError(f"dimension {self} may or may not be zero: its truth has no answer at build time")

    # ---- text: a Python expression over the names
    def __repr__(self) -> str:
        parts = []
        for monomial, coef in reversed(self.terms):  # names first, the constant last
            factors = [*([] if abs(coef) == 1 and monomial else [str(abs(coef))]), *monomial]
            body = "*".join(factors)
            parts.append(("-" if coef < 0 else "+", body))
        sign, first = parts[0]
        text = ("-" if sign == "-" else "") + first
        return text + "".join(f" {s} {body}" for s, body in parts[1:])

    __str__ = __repr__

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted({name for monomial, _ in self.terms for name in monomial}))

    def at(self, sizes: Mapping[str, int]) -> int:
        """Its value when each name has the size ``sizes`` gives it."""
        return sum(c * math.prod(sizes[name] for name in monomial) for monomial, c in self.terms)

    @property
    def atomic(self) -> bool:
        """One name alone: its text needs no parentheses."""
        return len(self.terms) == 1 and self.terms[0][1] == 1 and len(self.terms[0][0]) == 1

    @property
    def may_be_negative(self) -> bool:
        """Whether some sizes of its names make it negative (a slice too long, a split past the end)."""
        return any(c < 0 for _, c in self.terms)


def _term_key(term: tuple[Monomial, int]) -> tuple[int, Monomial]:
    return (len(term[0]), term[0])


def _operand(value: Any) -> bool:
    """Whether ``value`` is an integer a dimension computes with; a float raises, since a named
    size has no float value while the graph is built (other types may know the operation)."""
    if isinstance(value, Dim) or (isinstance(value, numbers.Integral) and not isinstance(value, bool)):
        return True
    if isinstance(value, numbers.Number):
        raise DimensionError(f"a named dimension takes part only in integer arithmetic while the graph is built, "
                             f"got {value!r}: the size is known only when the function runs")
    return False


def _terms(value: Any) -> tuple[tuple[Monomial, int], ...]:
    return value.terms if isinstance(value, Dim) else (((), int(value)),)


def _normal(terms: Iterable[tuple[Monomial, int]]) -> Dim | int:
    total: dict[Monomial, int] = {}
    for monomial, coef in terms:
        total[monomial] = total.get(monomial, 0) + coef
    kept = [(m, c) for m, c in total.items() if c != 0]
    if not any(m for m, _ in kept):
        return sum(c for _, c in kept)
    return Dim(kept)


def _at_least(difference: Any, bound: int, question: str) -> bool:
    """Whether ``difference >= bound`` for every size of the names (names are >= 0)."""
    if not isinstance(difference, Dim):
        return bool(difference >= bound)
    constant = dict(difference.terms).get((), 0)
    if all(c >= 0 for m, c in difference.terms if m):
        if constant >= bound:
            return True
    raise DimensionError(f"{question} depends on the sizes of {', '.join(difference.names)}")


def exact_quotient(a: Any, b: Any) -> Dim | int | None:
    """``a / b`` where it is an integer polynomial for every size; None where it is not."""
    if not isinstance(b, Dim):
        b = int(b)
        if b == 0:
            return None
        if not isinstance(a, Dim):
            return int(a) // b if int(a) % b == 0 else None
        if any(c % b for _, c in a.terms):
            return None
        return _normal([(m, c // b) for m, c in a.terms])
    if len(b.terms) != 1:  # division by a sum of terms: only a (b * q) with q an int is recognised
        return _ratio(a, b)
    (divisor, coef), = b.terms
    if not isinstance(a, Dim):
        return None
    out = []
    for monomial, c in a.terms:
        rest = list(monomial)
        for name in divisor:
            if name not in rest:
                return None
            rest.remove(name)
        if c % coef:
            return None
        out.append((tuple(rest), c // coef))
    return _normal(out)


def _ratio(a: Any, b: Dim) -> int | None:
    """The int q with ``a == q * b``, if there is one (the monomials of both must match)."""
    if not isinstance(a, Dim) or [m for m, _ in a.terms] != [m for m, _ in b.terms]:
        return None
    (_, c1), (_, c2) = a.terms[0], b.terms[0]
    if c1 % c2:
        return None
    q = c1 // c2
    return q if all(ca == q * cb for (_, ca), (_, cb) in zip(a.terms, b.terms, strict=True)) else None


def named(name: str) -> Dim:
    return Dim([((name,), 1)])


def at_sizes(value: Any, sizes: Mapping[str, int]) -> Any:
    """``value`` (a dimension, or tuples and lists holding them, as op attributes do) with every
    dimension replaced by its value at ``sizes``."""
    if isinstance(value, Dim):
        return value.at(sizes)
    if isinstance(value, (tuple, list)) and any(isinstance(v, (Dim, tuple, list)) for v in value):
        return type(value)(at_sizes(v, sizes) for v in value)
    return value


def is_symbolic(shape: Any) -> bool:
    return any(isinstance(d, Dim) for d in shape)


def dim_names(shapes: Iterable[Sequence[Any]]) -> tuple[str, ...]:
    """Every dimension name in ``shapes``, sorted."""
    return tuple(sorted({n for shape in shapes for d in shape if isinstance(d, Dim) for n in d.names}))


def size(shape: Sequence[Any]) -> Dim | int:
    """The number of elements: an int, or a polynomial of the names."""
    return math.prod(shape)


def concrete(value: Any, what: str) -> int:
    """``value`` as an int, or a DimensionError that says who needed it."""
    if isinstance(value, Dim):
        raise DimensionError(f"{what} needs a concrete size, and dimension {value} is named (known only at run time)")
    return int(value)


NOMINAL = 4096  # the size a cost estimate gives each name: a named axis holds data, so it counts as long


def nominal(value: Any) -> int:
    """An int stand-in for choices that only affect speed (which side of a product to scale)."""
    if not isinstance(value, Dim):
        return int(value)
    return sum(c * NOMINAL ** len(m) for m, c in value.terms)


def surely_at_most(value: Any, bound: Any) -> bool:
    """Whether ``value <= bound`` for every size of the names in either (False where some size
    breaks it)."""
    gap = bound - value
    if not isinstance(gap, Dim):
        return bool(gap >= 0)
    try:
        return gap >= 0
    except DimensionError:
        return False


# ---- slices and indices of a named axis: NumPy's meaning when the axis is long enough -----


def slice_bounds(start: int | None, stop: int | None, step: int | None, dim: Dim) -> tuple[Any, Any]:
    """The first and one-past-last positions of a unit-step slice of a named axis, without
    NumPy's clipping (``requirements`` of the node make the call check that none is needed)."""
    if step not in (None, 1):
        raise DimensionError(f"a slice with step {step} of named dimension {dim} has a length that is not a "
                             "polynomial of the names; slice with step 1 (or [::-1])")
    first = 0 if start is None else start if start >= 0 else dim + start
    last = dim if stop is None else stop if stop >= 0 else dim + stop
    return first, last


def slice_length(item: tuple[Any, Any, Any], dim: Any) -> Any:
    """The length of the canonical slice ``item`` of an axis of length ``dim``."""
    start, stop, step = item
    if not isinstance(dim, Dim):
        return len(range(*slice(start, stop, step).indices(dim)))
    if step == -1 and start is None and stop is None:
        return dim
    first, last = slice_bounds(start, stop, step, dim)
    return last - first


def slice_requirements(item: Any, dim: Any) -> list[tuple[Any, int]]:
    """What a named axis's length must satisfy for an index item to mean what NumPy makes of it."""
    if not isinstance(dim, Dim):
        return []
    if not isinstance(item, tuple):  # an int: it must fall inside the axis
        return [(dim, item + 1 if item >= 0 else -item)]
    start, stop, step = item
    if step == -1:
        return []
    first, last = slice_bounds(start, stop, step, dim)
    return [(first, 0), (last - first, 0), (dim - last, 0)]
