"""sum(((top + bottom) @ w + reshape(x.T, (1, 6))[:, :4])**2) + sum(x @ w)

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


def tensor_ops(x, w):
    """Value and gradient in one forward and one reverse sweep; the gradients come in
    wrt order, each of its variable's shape.
    Compile-time rewrites (rewrites=False turns them off):
        1 x a + a as 2.0 * a

        # 16 forward nodes (ops: add, getitem, item, matmul, mul, reshape, split, sum, transpose), 17 reverse-sweep nodes
        t0 = np.split(x, [1], axis=0)
        t1 = t0[0] + t0[1]
        t2 = x.T
        t3 = t1.dot(w) + t2.reshape((1, 6))[:, :4]
        value = (t3 * t3).sum() + x.dot(w).sum()

    Returns value, (bar_x, bar_w).

    Inputs (label -> parameter, shape):
        x -> x, (2, 3)  [wrt]
        w -> w, (3, 4)  [wrt]

    Conventions:
        maximum/minimum ties split the gradient 1/2 : 1/2; relu'(0) = 0; abs'(0) = 0;
        max reductions share the gradient equally among tied elements;
        where-branches are guarded: the untaken branch adds no NaN or inf to a gradient;
        scalars are numpy.float64 (IEEE: 1/0 is inf, log(-1) is nan, with NumPy's warnings).
        Exact rewrites at construction: x*1, x/1, x**1, x+(-0.0), x-0.0, --x, folding of + - * / and integer powers.
    """
    if type(x) is not np.ndarray or x.dtype != np.float64 or x.shape != (2, 3):
        x = _array_arg(x, 'x', (2, 3))
    if type(w) is not np.ndarray or w.dtype != np.float64 or w.shape != (3, 4):
        w = _array_arg(w, 'w', (3, 4))
    # forward sweep
    t0 = np.split(x, [1], axis=0)
    t1 = t0[0] + t0[1]
    t2 = x.T
    t3 = t1.dot(w) + t2.reshape((1, 6))[:, :4]
    value = (t3 * t3).sum() + x.dot(w).sum()
    # reverse sweep
    t4 = np.broadcast_to(np.float64(1.0), (2, 4))  # VJP of sum
    t5 = w.T  # VJP of matmul
    bar_t3 = 2.0 * t3
    t6 = np.zeros((1, 6))
    t6[:, :4] = bar_t3
    bar_t1 = bar_t3.dot(t5)
    bar_x = t4.dot(t5) + t6.reshape((3, 2)).T + np.concatenate((bar_t1, bar_t1), axis=0)
    bar_w = t2.dot(t4) + t1.T.dot(bar_t3)
    return value, (bar_x, bar_w)
