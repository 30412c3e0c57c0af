"""The op records of ``sd.special``: primitives whose NumPy code calls ``scipy.special``.

Each is elementwise, prints ``scipy.special.<name>(...)`` (the record's ``module`` makes the
generated code import ``scipy.special``), and is refused by the numba and array API backends,
which cannot call SciPy. SciPy is optional: registering the records imports nothing, and
building a node checks that SciPy is there (the shape rule asks, so every way of building one
does). VJPs are built from these ops and the built-in ones, in forms that stay finite and
accurate where the textbook formula loses digits, so they can be differentiated again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import symdiff.api as sd
from symdiff.dialect import current as current_dialect
from symdiff.errors import EmitError, UnsupportedError
from symdiff.graph import Node, Shape
from symdiff.op_table import SympyFunction
from symdiff.ops import ELEMENTWISE, OPS, Op, Vjp, _sympy, broadcast, register, same_shape
from symdiff.printers import ATOM, Printer, typed
from symdiff.source_text import number_text

MODULE = "scipy.special"
REFUSED = ("numba", "array_api")  # numba cannot call SciPy; the array API standard has no special functions
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
HALF_SQRT_PI = math.sqrt(math.pi) / 2.0
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
SQRT_2PI = math.sqrt(2.0 * math.pi)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
INV_SQRT2 = 1.0 / math.sqrt(2.0)
POSITIVE = ((0.2, 3.0),)


def require_scipy(what: str) -> None:
    """Raise ``UnsupportedError`` unless ``scipy.special`` can be imported."""
    try:
        import scipy.special  # noqa: F401
    except ImportError:
        raise UnsupportedError(f"sd.special.{what} calls scipy.special, and SciPy is not installed; "
                               "install it with `pip install symdiff[scipy]`") from None


def _scipy_shape(name: str, rule: Callable[[Sequence[Shape], tuple[Any, ...]], Shape]) -> Callable[..., Shape]:
    def shape(shapes: Sequence[Shape], attrs: tuple[Any, ...]) -> Shape:
        require_scipy(name)
        return rule(shapes, attrs)

    return shape


def _typed_args(a: Sequence[str], node: Node) -> list[str]:
    """Scalar constants as float32 scalars in single precision: SciPy's ufuncs take a Python float as float64."""
    if current_dialect().precision.double:
        return list(a)
    return [typed(text, child) for text, child in zip(a, node.inputs, strict=True)]


def _scipy_call(function: str) -> Printer:
    return lambda a, node: f"scipy.special.{function}({', '.join(_typed_args(a, node))})"


def node(name: str, *inputs: Node) -> Node:
    """The special op ``name`` on float nodes."""
    return sd.apply(name, list(inputs))


def special(name: str, vjp: Vjp, sympy: Callable[..., Any] | None, domain: tuple[tuple[float, float], ...],
            guard: dict[int, float] | None = None, function: str | None = None,
            printer: Printer | None = None, prec: int = ATOM) -> None:
    """Register an elementwise op that calls ``scipy.special.<function>`` (default: ``name``)."""
    arity = len(domain)
    rule = same_shape if arity == 1 else broadcast
    register(Op(name, _scipy_shape(name, rule), printer or _scipy_call(function or name), vjp, prec=prec,
                sympy=sympy, domain=domain, guard=guard, kind=ELEMENTWISE, module=MODULE, refused=REFUSED))


def sym(function: str) -> SympyFunction:
    """A SymPy function that is the op for real arguments: ``from_sympy`` maps it back to the op."""
    return SympyFunction(function)


def _sp() -> Any:
    return _sympy()


# ---- VJP helpers ----------------------------------------------------------------------------


def ratio(x: Node, y: Node) -> Node:
    """x / y, and 0 where x is 0 even if y is 0 (the gradient of xlogy-like ops at x = 0)."""
    both_zero = sd.logical_and(sd.equal(x, 0.0), sd.equal(y, 0.0))
    return x / sd.where(both_zero, 1.0, y)


def nonzero(x: Node) -> Node:
    """x with 0 replaced by 1: a denominator whose quotient a ``where`` discards at 0."""
    return sd.where(sd.equal(x, 0.0), 1.0, x)


ERFCX_SERIES_FROM = 50.0  # beyond it 2x erfcx(x) - 2/sqrt(pi) would lose more than 5e-13 to cancellation
# 2/sqrt(pi) (-1)^k (2k - 1)!! for k = 1..6: the asymptotic series of erfcx' in u = 1/(2x^2), which past
# ERFCX_SERIES_FROM is exact to 1e-17 and does not cancel
ERFCX_SERIES = tuple(TWO_OVER_SQRT_PI * (-1.0) ** k * math.prod(range(1, 2 * k, 2)) for k in range(1, 7))


def erfcx_slope(x: Node, y: Node) -> Node:
    """erfcx'(x) = 2x erfcx(x) - 2/sqrt(pi), and its asymptotic series for large x, where that cancels."""
    large = sd.greater(x, ERFCX_SERIES_FROM)
    kept = sd.where(large, x, ERFCX_SERIES_FROM)  # x only where the series is used
    u = 0.5 / kept / kept  # not 0.5 / x^2: x^2 overflows past 1e154
    series: Any = ERFCX_SERIES[-1]
    for c in reversed(ERFCX_SERIES[:-1]):  # Horner form
        series = series * u + c
    return sd.where(large, series * u, 2.0 * x * y - TWO_OVER_SQRT_PI)


def normal_hazard(x: Node) -> Node:
    """phi(x) / Phi(x), the derivative of log_ndtr: sqrt(2/pi) / erfcx(-x/sqrt(2)) for x < 0, where phi and
    Phi both underflow; the plain ratio for x >= 0, where it underflows only as the answer does."""
    left = sd.less(x, 0.0)
    right = sd.where(left, 0.0, x)  # the plain ratio is evaluated only at x >= 0
    plain = INV_SQRT_2PI * sd.exp(-0.5 * sd.square(right)) / node("ndtr", right)
    return sd.where(left, SQRT_2_OVER_PI / node("erfcx", -INV_SQRT2 * x), plain)


def _beta_slopes(a: Node, b: Node) -> tuple[Node, Node]:
    """d/da and d/db of log|B(a, b)|: digamma(a) - digamma(a + b), and the same for b."""
    both = node("digamma", a + b)
    return node("digamma", a) - both, node("digamma", b) - both


def polygamma_order(n: Node) -> int:
    """The order of a polygamma node, held by its constant first input."""
    if n.op != "const" or n.value is None:
        raise EmitError("polygamma: the order must be a constant")
    return int(n.value)


def polygamma(order: int, x: Node) -> Node:
    """polygamma(order, x) for an int order >= 0: digamma itself for order 0."""
    if order == 0:
        return node("digamma", x)
    return node("polygamma", sd.as_node(float(order)), x)


def _polygamma_printer(a: Sequence[str], n: Node) -> str:
    # SciPy's own formula, spelled with the ufunc zeta so that float32 stays float32
    order = polygamma_order(n.inputs[0])
    sign = 1.0 if order % 2 else -1.0
    coefficient = sign * math.factorial(order) if order <= 170 else sign * math.inf
    zeta = f"scipy.special.zeta({order + 1}, {_typed_args(a, n)[1]})"
    return zeta if coefficient == 1.0 else f"{number_text(coefficient)[0]} * {zeta}"


# ---- the records ---------------------------------------------------------------------------

special("gammaln", lambda g, y, x: (g * node("digamma", x),), lambda a: _sp().re(_sp().loggamma(a)), POSITIVE,
        guard={0: 1.0})
special("digamma", lambda g, y, x: (g * polygamma(1, x),), lambda a: _sp().polygamma(0, a), POSITIVE, guard={0: 1.0},
        function="psi")
special("polygamma", lambda g, y, n, x: (None, g * polygamma(polygamma_order(n) + 1, x)),
        lambda n, a: _sp().polygamma(n, a), ((1.0, 3.0), (0.2, 3.0)), guard={1: 1.0},
        printer=_polygamma_printer, prec=14)
special("gamma", lambda g, y, x: (g * (y * node("digamma", x)),), sym("gamma"), ((0.2, 4.0),), guard={0: 1.0})
special("beta", lambda g, y, a, b: tuple(g * (y * s) for s in _beta_slopes(a, b)), sym("beta"), POSITIVE * 2,
        guard={0: 1.0, 1: 1.0})
special("betaln", lambda g, y, a, b: tuple(g * s for s in _beta_slopes(a, b)),
        lambda a, b: _sp().log(_sp().beta(a, b)), POSITIVE * 2, guard={0: 1.0, 1: 1.0})

special("erf", lambda g, y, x: (g * (TWO_OVER_SQRT_PI * sd.exp(-sd.square(x))),), sym("erf"), ((-2.0, 2.0),))
special("erfc", lambda g, y, x: (g * (-TWO_OVER_SQRT_PI * sd.exp(-sd.square(x))),), sym("erfc"), ((-2.0, 2.0),))
special("erfinv", lambda g, y, x: (g * (HALF_SQRT_PI * sd.exp(sd.square(y))),), sym("erfinv"), ((-0.9, 0.9),),
        guard={0: 0.0})
# SymPy cannot evaluate its own erfcinv numerically: the form is erfinv(1 - x)
special("erfcinv", lambda g, y, x: (g * (-HALF_SQRT_PI * sd.exp(sd.square(y))),),
        lambda a: _sp().erfinv(1 - a), ((0.1, 1.9),),
        guard={0: 1.0})
special("erfcx", lambda g, y, x: (g * erfcx_slope(x, y),), lambda a: _sp().exp(a**2) * _sp().erfc(a), ((-2.0, 3.0),))
special("ndtr", lambda g, y, x: (g * (INV_SQRT_2PI * sd.exp(-0.5 * sd.square(x))),),
        lambda a: _sp().erfc(-a / _sp().sqrt(2)) / 2, ((-3.0, 3.0),))
special("log_ndtr", lambda g, y, x: (g * normal_hazard(x),),
        lambda a: _sp().log(_sp().erfc(-a / _sp().sqrt(2)) / 2), ((-3.0, 3.0),))
special("ndtri", lambda g, y, x: (g * (SQRT_2PI * sd.exp(0.5 * sd.square(y))),),
        lambda a: _sp().sqrt(2) * _sp().erfinv(2 * a - 1), ((0.05, 0.95),), guard={0: 0.5})

special("i0", lambda g, y, x: (g * node("i1", x),), lambda a: _sp().besseli(0, a), ((-3.0, 3.0),))
# i1'(x) = i0(x) - i1(x)/x, whose limit at 0 is 1/2; as exp(|x|) (i0e(x) - i1e(x)/x) it is inf, not
# inf - inf, where i0 and i1 overflow
special("i1", lambda g, y, x: (g * sd.where(sd.equal(x, 0.0), 0.5, sd.exp(sd.abs(x)) * (node("i0e", x) - node(
            "i1e", x) / nonzero(x))),),
        lambda a: _sp().besseli(1, a), ((-3.0, 3.0),))
special("i0e", lambda g, y, x: (g * (node("i1e", x) - sd.sign(x) * y),),
        lambda a: _sp().exp(-_sp().Abs(a)) * _sp().besseli(0, a), ((0.2, 3.0),))
special("i1e", lambda g, y, x: (g * sd.where(sd.equal(x, 0.0), 0.5,
                                             node("i0e", x) - sd.sign(x) * y - y / nonzero(x)),),
        lambda a: _sp().exp(-_sp().Abs(a)) * _sp().besseli(1, a), ((0.2, 3.0),))

# x log y and relatives: 0 where x is 0, whatever y; d/dy is then 0 too
special("xlogy", lambda g, y, a, b: (g * sd.log(b), g * ratio(a, b)), lambda a, b: a * _sp().log(b),
        ((-2.0, 2.0), (0.2, 3.0)), guard={1: 1.0})
special("xlog1py", lambda g, y, a, b: (g * sd.log1p(b), g * ratio(a, 1.0 + b)), lambda a, b: a * _sp().log(1 + b),
        ((-2.0, 2.0), (-0.5, 2.0)), guard={1: 0.0})
special("entr", lambda g, y, x: (-g * (sd.log(x) + 1.0),), lambda a: -a * _sp().log(a), POSITIVE, guard={0: 1.0})
special("rel_entr", lambda g, y, a, b: (g * (sd.log(a) - sd.log(b) + 1.0), -g * ratio(a, b)),
        lambda a, b: a * _sp().log(a / b), POSITIVE * 2, guard={0: 1.0, 1: 1.0})
special("kl_div", lambda g, y, a, b: (g * (sd.log(a) - sd.log(b)), g * (1.0 - ratio(a, b))),
        lambda a, b: a * _sp().log(a / b) - a + b, POSITIVE * 2, guard={0: 1.0, 1: 1.0})

NAMES = tuple(name for name, op in OPS.items() if op.module == MODULE)
