"""f = log(x1) + x1*x2 - sin(x2), differentiated by x1 and x2

Written by symdiff; regenerate with `symdiff regenerate`. Imports only numpy and math.
"""

from __future__ import annotations

import math

import numpy as np


class ArgumentError(TypeError, ValueError):
    """A wrong number, type or shape of arguments."""


def _scalar_arg(value, name: str, dtype=np.float64):
    """Convert a real scalar to ``dtype`` (IEEE semantics for 1/0, 0**-1, ...); reject the rest."""
    if isinstance(value, (bool, np.bool_)):
        raise ArgumentError(f"argument {name!r}: expected a real number, got a bool")
    if isinstance(value, (int, float, np.integer, np.floating)):
        try:
            return dtype(value)
        except OverflowError:  # an int past float's range: NumPy and float() refuse it too
            raise ArgumentError(f"argument {name!r}: an int of {int(value).bit_length()} bits does not fit "
                                f"{np.dtype(dtype).name}") from None
    array = value if isinstance(value, np.ndarray) else None
    if array is not None and array.shape == () and array.dtype.kind in "iuf":
        return dtype(array)
    shape = getattr(value, "shape", None)
    raise ArgumentError(
        f"argument {name!r}: expected a real scalar of shape (), got {type(value).__name__}"
        + (f" of shape {shape}" if shape is not None else "")
    )


def baydin(x1, x2):
    """Value and gradient in one forward and one reverse sweep; the gradients come in
    wrt order, each of its variable's shape.
    Compile-time rewrites (rewrites=False turns them off):
        2 x negation merged into an addition or product

        # 7 forward nodes (ops: add, log, mul, sin, sub), 5 reverse-sweep nodes
        value = np.log(x1) + x1 * x2 - np.sin(x2)

    Returns value, (bar_x1, bar_x2).

    Inputs (label -> parameter, shape):
        x1 -> x1, ()  [wrt]
        x2 -> x2, ()  [wrt]

    Conventions:
        maximum/minimum ties split the gradient 1/2 : 1/2; relu'(0) = 0; abs'(0) = 0;
        max reductions share the gradient equally among tied elements;
        where-branches are guarded: the untaken branch adds no NaN or inf to a gradient;
        scalars are numpy.float64 (IEEE: 1/0 is inf, log(-1) is nan, with NumPy's warnings).
        Exact rewrites at construction: x*1, x/1, x**1, x+(-0.0), x-0.0, --x, folding of + - * / and integer powers.
        All scalars: math and float arithmetic first; the NumPy sweeps where math raises or a
        result is not finite, so IEEE results and NumPy's warnings are as on the NumPy path.
    """
    if type(x1) is not float:
        x1 = _scalar_arg(x1, 'x1', float)
    if type(x2) is not float:
        x2 = _scalar_arg(x2, 'x2', float)
    try:
        # forward sweep
        value = math.log(x1) + x1 * x2 - math.sin(x2)
        # reverse sweep
        bar_x1 = x2 + 1.0 / x1
        bar_x2 = x1 - math.cos(x2)
        if math.isfinite(value + bar_x1 + bar_x2):
            return value, (bar_x1, bar_x2)
    except (ArithmeticError, ValueError):
        pass  # math raised where NumPy returns inf or nan with a warning
    # a non-finite result, or math refused: the NumPy sweeps give IEEE's answer and NumPy's warnings
    x1 = np.float64(x1)
    x2 = np.float64(x2)
    # forward sweep
    value = np.log(x1) + x1 * x2 - np.sin(x2)
    # reverse sweep
    bar_x1 = x2 + 1.0 / x1
    bar_x2 = x1 - np.cos(x2)
    return value, (bar_x1, bar_x2)
