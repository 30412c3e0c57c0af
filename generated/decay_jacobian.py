"""residuals of a * exp(-b * t) + c - y and their Jacobian by (a, b, c)

Written by symdiff; regenerate with `symdiff regenerate`. Imports only numpy and math.
"""

from __future__ import annotations

import numpy as np


class ArgumentError(TypeError, ValueError):
    """A wrong number, type or shape of arguments."""


def _array_arg(value, name: str, shape: tuple, dtype=np.float64, dims=None):
    """Accept real arrays of ``shape`` as ``dtype`` (ints are cast); reject the rest.

    ``shape`` holds None on an axis whose named dimension this argument binds; ``dims`` names
    each named axis's dimension and the argument that binds it."""
    try:
        array = np.asarray(value)
    except Exception as error:
        raise ArgumentError(f"argument {name!r}: cannot be read as an array ({error})") from None
    if array.dtype.kind not in "iuf":
        raise ArgumentError(f"argument {name!r}: expected a real array of shape {_shape_text(shape, dims)}, "
                            f"got dtype {array.dtype}")
    problem = _shape_problem(name, array.shape, shape, dims)
    if problem:
        raise ArgumentError(problem)
    return np.ascontiguousarray(array, dtype=dtype)


def _shape_text(shape: tuple, dims) -> str:
    """The expected shape as the user declared it: names where dimensions are named."""
    parts = [str(d[0]) if dims is not None and d is not None else str(size)
             for size, d in zip(shape, dims if dims is not None else [None] * len(shape), strict=True)]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def _shape_problem(name: str, got: tuple, shape: tuple, dims):
    """Why ``got`` does not fit ``shape`` (None if it does), naming the dimension and where it was bound."""
    expected = _shape_text(shape, dims)
    if len(got) != len(shape):
        return f"argument {name!r}: expected shape {expected}, got shape {got}"
    first: dict = {}
    for axis, (size, want) in enumerate(zip(got, shape, strict=True)):
        dim = dims[axis] if dims is not None else None
        if want is None:  # this argument binds the dimension: its other axes of that name must agree
            label = dim[0] if dim is not None else axis
            if label in first and got[first[label]] != size:
                other = first[label]
                return (f"argument {name!r}: dimension {label} is {got[other]} on axis {other} but {size} on "
                        f"axis {axis}, in shape {got} (expected {expected})")
            first.setdefault(label, axis)
        elif size != want:
            if dim is None:
                return f"argument {name!r}: expected shape {expected}, got shape {got}"
            where = f"argument {dim[1]!r}" if dim[1] is not None else "the other arguments"
            return (f"argument {name!r}: dimension {dim[0]} is {size} here (axis {axis} of shape {got}), but "
                    f"{want} in {where}")
    return None


C0 = np.array([1.0, 0.0, 0.0]).reshape((3, 1))
C1 = np.array([-0.0, -1.0, -0.0]).reshape((3, 1))
C2 = np.array([0.0, 0.0, 1.0]).reshape((3, 1))

def decay_jacobian(p, t, y):
    """2 output(s) computed together; common subexpressions are computed once.
    Built by transformations:
        jacobian (50, 3) of sub(add(..., ...), y) by 'p', forward mode: one directional derivative seeded with the 3 x 3 identity; by cost, 912 entries against 1.04e+04 in the other mode

        # 22 nodes (ops: add, exp, getitem, mul, neg, sub, transpose)
        C0 = np.array([1.0, 0.0, 0.0]).reshape((3, 1))
        C1 = np.array([-0.0, -1.0, -0.0]).reshape((3, 1))
        C2 = np.array([0.0, 0.0, 1.0]).reshape((3, 1))
        t0 = p[0]
        t1 = np.exp(-p[1] * t)
        out0 = t0 * t1 + p[2] - y
        out1 = (C0 * t1 + C1 * t * t1 * t0 + C2).T

    Returns (out0, out1).

    Inputs (label -> parameter, shape):
        p -> p, (3,)
        t -> t, (50,)
        y -> y, (50,)

    Conventions:
        maximum/minimum ties split the gradient 1/2 : 1/2; relu'(0) = 0; abs'(0) = 0;
        max reductions share the gradient equally among tied elements;
        where-branches are guarded: the untaken branch adds no NaN or inf to a gradient;
        scalars are numpy.float64 (IEEE: 1/0 is inf, log(-1) is nan, with NumPy's warnings).
        Exact rewrites at construction: x*1, x/1, x**1, x+(-0.0), x-0.0, --x, folding of + - * / and integer powers.
    """
    if type(p) is not np.ndarray or p.dtype != np.float64 or p.shape != (3,):
        p = _array_arg(p, 'p', (3,))
    if type(t) is not np.ndarray or t.dtype != np.float64 or t.shape != (50,):
        t = _array_arg(t, 't', (50,))
    if type(y) is not np.ndarray or y.dtype != np.float64 or y.shape != (50,):
        y = _array_arg(y, 'y', (50,))
    t0 = p[0]
    t1 = np.exp(-p[1] * t)
    out0 = t0 * t1 + p[2] - y
    out1 = (C0 * t1 + C1 * t * t1 * t0 + C2).T
    return (out0, out1)
