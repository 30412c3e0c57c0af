"""Elementwise NumPy functions beyond the core table: inverse hyperbolics, logarithms and powers
of 2 and 10, rounding, remainders, NaN-ignoring extremes, floating-point predicates, and the
functions that are identities on real input (positive, conj, real; imag gives zeros).

Each ufunc is one primitive that prints the NumPy ufunc itself (or, for reciprocal, deg2rad and
rad2deg, the one IEEE operation it is), so values equal NumPy's bit for bit. ``round``, ``fix``,
``nan_to_num``'s keywords, ``real`` and ``imag`` are built on them. Piecewise-constant functions
(floor, ceil, trunc, rint, floor_divide, heaviside by its first argument) have zero gradient;
remainder and fmod have gradient 1 by their first argument and -floor(a/b), resp. -trunc(a/b),
by the second, away from the jumps.
"""

from __future__ import annotations

import functools
import math
import numbers
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff import interop
from symdiff.api import ArrayLike, _binary, _float, _unary, apply, as_node
from symdiff.arithmetic import integers
from symdiff.dialect import current as current_dialect
from symdiff.errors import UnsupportedError
from symdiff.graph import BOOL, FLOAT, Node
from symdiff.integers import INTEGER_OPERATORS
from symdiff.losses import sigmoid
from symdiff.op_table import POSITIVE, SympyFunction, power_vjp, sym, unary
from symdiff.ops import (
    ELEMENTWISE,
    SAME_TEXT,
    STEPS,
    Op,
    Vjp,
    _piecewise,
    _sympy,
    broadcast,
    register,
    same_shape,
)
from symdiff.printers import ATOM, Printer, call, function_call, math_form, spelled

LN2 = math.log(2.0)
LN10 = math.log(10.0)
DEG2RAD = math.pi / 180.0  # NumPy's deg2rad and rad2deg multiply by these, as math.radians does
RAD2DEG = 180.0 / math.pi
JUMPS_AWAY = ((2.2, 2.8), (1.0, 1.05))  # a / b stays inside (2, 3): no jump of floor or trunc near test points


# ---- SymPy forms ------------------------------------------------------------------------------


@functools.cache
def _flat(name: str) -> Any:
    """SymPy's ``floor`` or ``ceiling`` with derivative 0: SymPy leaves d/dx floor(x)
    unevaluated, and evaluating that at a point recurses without end."""
    sympy = _sympy()
    base = getattr(sympy, name)
    return type(base.__name__, (base,), {"fdiff": lambda self, argindex=1: sympy.S.Zero})


@dataclass(frozen=True)
class StepFunction(SympyFunction):
    """A SymPy step function by name (floor, ceiling), whose derivative SymPy evaluates to 0;
    ``from_sympy`` maps SymPy's own function of that name back to the op."""

    def __call__(self, *args: Any) -> Any:
        return _flat(self.name)(*args)


def _sympy_trunc(a: Any) -> Any:
    return _piecewise((_flat("floor")(a), a >= 0), (_flat("ceiling")(a), True))


def _sympy_rint(a: Any) -> Any:
    """Round half to even: floor(a + 1/2), less one at a tie whose upper neighbour is odd."""
    sympy = _sympy()
    floor = _flat("floor")
    up = floor(a + sympy.S.Half)
    odd_tie = sympy.And(sympy.Eq(up, a + sympy.S.Half), sympy.Eq(up - 2 * floor(up / 2), 1))
    return _piecewise((up - 1, odd_tie), (up, True))


def _sympy_copysign(a: Any, b: Any) -> Any:
    size = _piecewise((a, a >= 0), (-a, True))  # not Abs: SymPy cannot differentiate Abs of a real expression
    return _piecewise((size, b >= 0), (-size, True))


def _sympy_sinc(a: Any) -> Any:
    sympy = _sympy()
    return _piecewise((1, sympy.Eq(a, 0)), (sympy.sin(sympy.pi * a) / (sympy.pi * a), True))


def _sympy_cbrt(a: Any) -> Any:
    third = _sympy().Rational(1, 3)
    return _piecewise((a**third, a >= 0), (-((-a) ** third), True))


def _infinite(a: Any) -> bool:
    sympy = _sympy()
    return a in (sympy.oo, -sympy.oo, sympy.zoo)


# SymPy's reals are finite: the predicates are constant except on SymPy's own NaN and infinities
def _sympy_isnan(a: Any) -> Any:
    return _sympy().true if a is _sympy().nan else _sympy().false


def _sympy_isinf(a: Any) -> Any:
    return _sympy().true if _infinite(a) else _sympy().false


def _sympy_isfinite(a: Any) -> Any:
    return _sympy().false if a is _sympy().nan or _infinite(a) else _sympy().true


# ---- VJPs ---------------------------------------------------------------------------------------

# d/dx sinc(x) = (cos(pi x) - sinc(x)) / x cancels near 0: for |x| < 1/4 its Taylor series in x
# is used, whose first omitted term is below 1e-14 of the derivative there (the direct form's error
# at 1/4 is about 1e-15)
_SINC_SERIES = tuple((-1) ** k * 2 * k * math.pi ** (2 * k) / math.factorial(2 * k + 1) for k in range(1, 8))


def _sinc_vjp(g: Node, y: Node, x: Node) -> tuple[Node]:
    near = sd.less(sd.abs(x), 0.25)
    square = sd.square(x)
    series: Any = _SINC_SERIES[-1]
    for coefficient in reversed(_SINC_SERIES[:-1]):
        series = coefficient + square * series
    away = (sd.cos(math.pi * x) - y) / sd.where(near, 1.0, x)  # the taken branch never divides by a small x
    return (g * sd.where(near, x * series, away),)


def _taken(a: Node, b: Node, wins: Any) -> Node:
    """1 where ``a`` is the result of fmax/fmin (it wins, or ``b`` is NaN), 1/2 on ties, else 0."""
    return sd.where(sd.logical_or(wins(a, b), isnan(b)), 1.0, sd.where(sd.equal(a, b), 0.5, 0.0))


def _nan_ignoring(wins: Any) -> Vjp:
    return lambda g, y, a, b: (g * _taken(a, b, wins), g * _taken(b, a, wins))


def _arctan2_vjp(g: Node, y: Node, a: Node, b: Node) -> tuple[Node, Node]:
    r = hypot(a, b)  # b / (a*a + b*b) as (b / r) / r: no overflow of the squares
    return g * (b / r) / r, -(g * (a / r)) / r


def _no_gradient(g: Node, y: Node, x: Node) -> tuple[None]:
    return (None,)


def _float_power_printer(a: Sequence[str], node: Node) -> str:
    """np.float_power computes in float64 whatever its inputs: single-precision code calls np.power."""
    return f"{spelled('float_power' if current_dialect().precision.double else 'power')}({a[0]}, {a[1]})"


# ---- builders of the ops below (each reads its op's record when called) ------------------------


def _of_one(name: str, doc: str | None = None) -> Callable[[ArrayLike], Node]:
    def build(x: ArrayLike) -> Node:
        return _unary(name, x)

    build.__name__ = build.__qualname__ = name
    build.__doc__ = doc or f"NumPy's ``{name}``, elementwise."
    return build


def _of_two(name: str, doc: str | None = None) -> Callable[[ArrayLike, ArrayLike], Node]:
    def build(x1: ArrayLike, x2: ArrayLike) -> Node:
        if name in INTEGER_OPERATORS and (whole := integers(name, x1, x2)) is not None:
            return whole
        return apply(name, [_float(n) for n in _binary(name, x1, x2)])

    build.__name__ = build.__qualname__ = name
    build.__doc__ = doc or f"NumPy's ``{name}``, elementwise and broadcasting."
    return build


arccosh, arctanh, log2, log10, exp2 = (_of_one(n) for n in ("arccosh", "arctanh", "log2", "log10", "exp2"))
cbrt = _of_one("cbrt", "The real cube root, negative for negative x.")
reciprocal, deg2rad, rad2deg = (_of_one(n) for n in ("reciprocal", "deg2rad", "rad2deg"))
radians, degrees = deg2rad, rad2deg
floor, ceil, trunc = (_of_one(n, f"NumPy's ``{n}``; its gradient is zero.") for n in ("floor", "ceil", "trunc"))
rint = _of_one("rint", "The nearest integer, ties to even; its gradient is zero.")
sinc = _of_one("sinc", "sin(pi x) / (pi x), and 1 at 0.")
isnan, isinf, isfinite = (_of_one(n, f"NumPy's ``{n}``: boolean, no gradient.") for n in ("isnan", "isinf", "isfinite"))
arctan2 = _of_two("arctan2", "The angle of the point (x2, x1), in [-pi, pi].")
hypot, copysign, float_power = (_of_two(n) for n in ("hypot", "copysign", "float_power"))
logaddexp2 = _of_two("logaddexp2", "log2(2**x1 + 2**x2) without overflow.")
fmax = _of_two("fmax", "The elementwise maximum ignoring NaN (NaN only where both are); ties split the gradient.")
fmin = _of_two("fmin", "The elementwise minimum ignoring NaN (NaN only where both are); ties split the gradient.")
remainder = _of_two("remainder", "``x1 % x2``, with the sign of the divisor as Python's ``%``.")
mod = remainder
fmod = _of_two("fmod", "C's remainder, with the sign of the dividend.")
floor_divide = _of_two("floor_divide", "``x1 // x2``, the quotient that goes with ``remainder``; no gradient.")
heaviside = _of_two("heaviside", "0 where x1 < 0, x2 where x1 == 0, 1 where x1 > 0.")


# ---- the ops --------------------------------------------------------------------------------------


def binary(name: str, vjp: Vjp, sympy: Any, domain: tuple[tuple[float, float], ...],
           printer: Printer | None = None, **facts: Any) -> None:
    register(Op(name, broadcast, printer or function_call(name), vjp, sympy=sympy, domain=domain,
                kind=ELEMENTWISE, weak_scalar=True, ufunc=name, **facts))


def _math2(name: str) -> tuple[Printer, int, tuple[int, ...]]:
    return call(f"math.{name}({{0}}, {{1}})"), ATOM, (0,)


# Plain-float forms only where math.<f> gives NumPy's bits; numba's loops print them too, so none
# for cbrt and fmod, which numba's math lacks. 1 / sinh(y) is 1 / sqrt(x*x - 1) without squaring x.
unary("arccosh", lambda g, y, x: (g / sd.sinh(y),), sym("acosh"), ((1.2, 3.0),), guard={0: 2.0},
      scalar=math_form("acosh"), array_api="acosh")
unary("arctanh", lambda g, y, x: (g / ((1.0 - x) * (1.0 + x)),), sym("atanh"), ((-0.9, 0.9),), guard={0: 0.0},
      scalar=math_form("atanh"), array_api="atanh")
unary("log2", lambda g, y, x: (g / (LN2 * x),), lambda a: _sympy().log(a) / _sympy().log(2), POSITIVE,
      guard={0: 1.0}, scalar=math_form("log2"))
unary("log10", lambda g, y, x: (g / (LN10 * x),), lambda a: _sympy().log(a) / _sympy().log(10), POSITIVE,
      guard={0: 1.0}, scalar=math_form("log10"))
unary("exp2", lambda g, y, x: (g * (LN2 * y),), lambda a: 2**a, guard={0: 0.0}, scalar=math_form("exp2"),
      refused=("array_api",))
unary("cbrt", lambda g, y, x: (g / (3.0 * sd.square(y)),), _sympy_cbrt, POSITIVE, guard={0: 1.0},
      refused=("array_api",))
# 1.0 / x is np.reciprocal, and x * (pi / 180) np.deg2rad, bit for bit; every backend prints them
unary("reciprocal", lambda g, y, x: (-g * sd.square(y),), lambda a: 1 / a, ((0.5, 2.0),), guard={0: 1.0},
      printer=call("1.0 / {0}"), prec=14, arg_prec=(15,), scalar=SAME_TEXT)
unary("deg2rad", lambda g, y, x: (g * DEG2RAD,), lambda a: a * _sympy().pi / 180,
      printer=call("{0} * " + repr(DEG2RAD)), prec=14, arg_prec=(14,), scalar=SAME_TEXT)
unary("rad2deg", lambda g, y, x: (g * RAD2DEG,), lambda a: a * 180 / _sympy().pi,
      printer=call("{0} * " + repr(RAD2DEG)), prec=14, arg_prec=(14,), scalar=SAME_TEXT)
# no plain-float forms: math.floor returns an int, and float(math.ceil(-0.5)) is 0.0 where NumPy gives -0.0
unary("floor", _no_gradient, StepFunction("floor"), ((1.1, 1.9),), convention=STEPS)
unary("ceil", _no_gradient, StepFunction("ceiling"), ((1.1, 1.9),), convention=STEPS)
unary("trunc", _no_gradient, _sympy_trunc, ((1.1, 1.9),), convention=STEPS)
# the standard's round is half to even, as rint is
unary("rint", _no_gradient, _sympy_rint, ((1.6, 2.4),), array_api="round", convention=STEPS)
register(Op("sinc", same_shape, function_call("sinc"), _sinc_vjp, sympy=_sympy_sinc, kind=ELEMENTWISE,
            refused=("array_api",)))
# np.nan_to_num(x) with NumPy's defaults, whose largest finite value is the float type's own (float32's
# too); other replacement values are where-branches around it
register(Op("nan_to_num", same_shape, function_call("nan_to_num"),
            lambda g, y, x: (sd.where(isfinite(x), g, 0.0),), sympy=lambda a: a, kind=ELEMENTWISE,
            refused=("array_api",)))
for _name, _form in (("isnan", _sympy_isnan), ("isinf", _sympy_isinf), ("isfinite", _sympy_isfinite)):
    register(Op(_name, same_shape, function_call(_name), lambda g, y, x: (None,), dtype=BOOL, sympy=_form,
                kind=ELEMENTWISE, ufunc=_name, scalar=math_form(_name)))

binary("arctan2", _arctan2_vjp, sym("atan2"), ((-2.0, 2.0), (0.5, 2.0)), guard={1: 1.0}, scalar=_math2("atan2"),
       array_api="atan2")
binary("hypot", lambda g, y, a, b: (g * (a / y), g * (b / y)), lambda a, b: _sympy().sqrt(a**2 + b**2),
       ((-2.0, 2.0), (0.5, 2.0)), guard={0: 1.0})
binary("logaddexp2", lambda g, y, a, b: (g * sigmoid(LN2 * (a - b)), g * sigmoid(LN2 * (b - a))),
       lambda a, b: _sympy().log(2**a + 2**b) / _sympy().log(2), ((-2.0, 2.0), (-2.0, 2.0)), refused=("array_api",))
# of two equal zeros numba's fmax and fmin return the first, NumPy either one (by its position in
# the array); no plain-float form: Python's max and min treat NaN differently
binary("fmax", _nan_ignoring(sd.greater), lambda a, b: _sympy().Max(a, b), ((-2.0, 2.0), (-1.9, 1.9)),
       refused=("array_api",))
binary("fmin", _nan_ignoring(sd.less), lambda a, b: _sympy().Min(a, b), ((-2.0, 2.0), (-1.9, 1.9)),
       refused=("array_api",))
# numba's remainder gives +0.0 where NumPy gives the divisor's sign, and its floor_divide is
# floor(a / b) (1 // -inf is -0.0, NumPy's -1.0): numba refuses both
binary("remainder", lambda g, y, a, b: (g, -g * floor_divide(a, b)),
       lambda a, b: a - b * _flat("floor")(a / b), JUMPS_AWAY, guard={1: 1.0},
       scalar=(call("{0} % {1}"), 14, (14, 15)), refused=("numba",))
binary("fmod", lambda g, y, a, b: (g, -g * trunc(a / b)), lambda a, b: a - b * _sympy_trunc(a / b), JUMPS_AWAY,
       guard={1: 1.0}, refused=("array_api",))
binary("floor_divide", lambda g, y, a, b: (None, None), lambda a, b: _flat("floor")(a / b), JUMPS_AWAY,
       guard={1: 1.0}, scalar=(call("{0} // {1}"), 14, (14, 15)), refused=("numba",), convention=STEPS)
binary("copysign", lambda g, y, a, b: (g * sd.where(sd.equal(y, a), 1.0, -1.0), None), _sympy_copysign,
       ((-2.0, 2.0), (-2.0, 2.0)), scalar=_math2("copysign"))
binary("heaviside", lambda g, y, x, h: (None, sd.where(sd.equal(x, 0.0), g, 0.0)),
       lambda x, h: _piecewise((0, x < 0), (h, _sympy().Eq(x, 0)), (1, True)), ((-2.0, 2.0), (0.0, 1.0)),
       refused=("numba", "array_api"), convention="heaviside(x1, x2): gradient 0 by x1; by x2, 1 where x1 == 0;")
binary("float_power", power_vjp, lambda a, b: a**b, ((0.5, 2.0), (-1.5, 1.5)), printer=_float_power_printer,
       guard={0: 1.0}, array_api="pow")


# ---- functions built on the ops ---------------------------------------------------------------------


def positive(x: ArrayLike) -> Node:
    """``+x``: the node itself (a boolean counts as 0/1)."""
    return _float(as_node(x, "positive argument"))


def conjugate(x: ArrayLike) -> Node:
    """The complex conjugate of real input: the node itself (a boolean counts as 0/1)."""
    return _float(as_node(x, "conjugate argument"))


conj = conjugate
fabs = sd.abs


def real(val: ArrayLike) -> Node:
    """The real part of real input: the node itself."""
    return as_node(val, "real argument")


def imag(val: ArrayLike) -> Node:
    """The imaginary part of real input: zeros of its shape (False for booleans, as in NumPy)."""
    node = as_node(val, "imag argument")
    zero = as_node(False if node.dtype == BOOL else 0.0)
    return sd.broadcast_to(zero, node.shape) if node.shape else zero


def _no_out(out: Any, name: str) -> None:
    if out is not None:
        raise UnsupportedError(f"{name}: out= is not supported on symdiff nodes, which are immutable; "
                               "use the returned node")


def _power_of_ten(n: int) -> float:
    """10.0 ** n as NumPy's round computes it: exact up to 1e8, then by repeated multiplication."""
    if n <= 8:
        return float(10**n)
    result = 1e8
    for _ in range(n - 8):
        result *= 10.0
        if result == math.inf:
            break
    return result


def round(a: ArrayLike, decimals: Any = 0, out: Any = None) -> Node:  # noqa: A001  (NumPy's name)
    """Round to ``decimals`` places, ties to even, as NumPy computes it: rint(a * 10**d) / 10**d,
    or rint(a / 10**-d) * 10**-d for negative d. The gradient is zero."""
    _no_out(out, "round")
    try:
        places = operator.index(decimals)
    except TypeError:
        raise UnsupportedError(f"round: decimals must be an int, got {sd._shown(decimals)}") from None
    if abs(places) > 2**31 - 1:
        raise UnsupportedError(f"round: decimals={places} does not fit a C int, as NumPy requires")
    x = _float(as_node(a, "round argument"))
    if places == 0:
        return rint(x)
    scale = _power_of_ten(abs(places))
    return rint(x * scale) / scale if places > 0 else rint(x / scale) * scale


around = round


def fix(x: ArrayLike, out: Any = None) -> Node:
    """Round towards zero: ``trunc``, which is what NumPy's fix computes."""
    _no_out(out, "fix")
    return trunc(x)


def _replacement(value: Any, keyword: str) -> float:
    if isinstance(value, Node) or not isinstance(value, (numbers.Real, np.bool_)):
        raise UnsupportedError(f"nan_to_num: {keyword} must be a real number, got {sd._shown(value)}")
    return float(value)


def nan_to_num(x: ArrayLike, copy: Any = True, nan: Any = 0.0, posinf: Any = None, neginf: Any = None) -> Node:
    """NaN replaced by ``nan``, inf by ``posinf`` and -inf by ``neginf``; by default the
    infinities become the float type's largest finite values. Nodes are immutable: ``copy``
    changes nothing."""
    if not isinstance(copy, (bool, np.bool_)):
        raise UnsupportedError(f"nan_to_num: copy must be True or False, got {sd._shown(copy)}")
    node = as_node(x, "nan_to_num argument")
    fill = _replacement(nan, "nan")
    high = None if posinf is None else _replacement(posinf, "posinf")
    low = None if neginf is None else _replacement(neginf, "neginf")
    if node.dtype != FLOAT:  # booleans and integers hold no NaN or infinity
        return node
    if node.op == "const" and node.value is not None:
        return as_node(np.nan_to_num(node.value, nan=fill, posinf=high, neginf=low))
    result = apply("nan_to_num", [node])
    if fill != 0.0 or math.copysign(1.0, fill) < 0:
        result = sd.where(isnan(node), fill, result)
    if high is not None:
        result = sd.where(sd.equal(node, math.inf), high, result)
    if low is not None:
        result = sd.where(sd.equal(node, -math.inf), low, result)
    return result


interop.provide({"round": round, "around": around, "fix": fix, "nan_to_num": nan_to_num, "sinc": sinc,
                 "real": real, "imag": imag})

__all__ = [
    "arccosh", "arctan2", "arctanh", "around", "cbrt", "ceil", "conj", "conjugate", "copysign", "deg2rad", "degrees",
    "exp2", "fabs", "fix", "float_power", "floor", "floor_divide", "fmax", "fmin", "fmod", "heaviside", "hypot", "imag",
    "isfinite", "isinf", "isnan", "log2", "log10", "logaddexp2", "mod", "nan_to_num", "positive", "rad2deg", "radians",
    "real", "reciprocal", "remainder", "rint", "round", "sinc", "trunc",
]
