"""softmax cross-entropy of X @ W against one-hot Y, over n rows

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


def _logsumexp(x, axes: tuple[int, ...], keepdims: bool):
    """log(sum(exp(x))) over ``axes``, shifted by the maximum; an infinite maximum is not shifted."""
    peak = np.max(x, axis=axes, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    with np.errstate(divide="ignore"):  # log(0) = -inf is the answer for an all -inf slice
        total = np.log(np.sum(np.exp(x - peak), axis=axes, keepdims=True)) + peak
    return total if keepdims else np.squeeze(total, axis=axes)


def softmax_cross_entropy(W, X, Y):
    """Value and gradient in one forward and one reverse sweep; the gradients come in
    wrt order, each of its variable's shape.
    Compile-time rewrites (rewrites=False turns them off):
        1 x log(sum(exp(x))) as logsumexp(x)
        2 x scalar factor moved out of a sum
        1 x scalar factors multiplied before the array
        1 x negation merged into an addition or product

        # 12 forward nodes (ops: logsumexp, matmul, max, mean, mul, neg, sub, sum), 19 reverse-sweep nodes
        t0 = X.dot(W)
        t1 = t0.max(axis=1, keepdims=True)
        t2 = t0 - t1
        t3 = t2 - _logsumexp(t2, (1,), True)
        value = -((Y * t3).sum(axis=1).sum() / n)

    Returns value, (bar_W,).

    Inputs (label -> parameter, shape):
        W -> W, (4, 3)  [wrt]
        X -> X, (n, 4)  [data]
        Y -> Y, (n, 3)  [data]

    Dimensions (sizes read from the arguments on every call):
        n = X.shape[0]

    Conventions:
        maximum/minimum ties split the gradient 1/2 : 1/2; relu'(0) = 0; abs'(0) = 0;
        max reductions share the gradient equally among tied elements;
        where-branches are guarded: the untaken branch adds no NaN or inf to a gradient;
        scalars are numpy.float64 (IEEE: 1/0 is inf, log(-1) is nan, with NumPy's warnings).
        Exact rewrites at construction: x*1, x/1, x**1, x+(-0.0), x-0.0, --x, folding of + - * / and integer powers.
    """
    if type(W) is not np.ndarray or W.dtype != np.float64 or W.shape != (4, 3):
        W = _array_arg(W, 'W', (4, 3))
    if type(X) is not np.ndarray or X.dtype != np.float64 or X.ndim != 2 or X.shape[1] != 4:
        X = _array_arg(X, 'X', (None, 4), dims=(('n', 'X'), None))
    n = X.shape[0]
    if type(Y) is not np.ndarray or Y.dtype != np.float64 or Y.shape != (n, 3):
        Y = _array_arg(Y, 'Y', (n, 3), dims=(('n', 'X'), None))
    # forward sweep
    t0 = X.dot(W)
    t1 = t0.max(axis=1, keepdims=True)
    t2 = t0 - t1
    t3 = t2 - _logsumexp(t2, (1,), True)
    value = -((Y * t3).sum(axis=1).sum() / n)
    # reverse sweep
    t4 = -1.0 / np.float64(n)  # VJP of mean
    bar_t2 = t4 * Y + -t4 * Y.sum(axis=1, keepdims=True) * np.exp(t3)
    t5 = np.float64(t0 == t1)  # VJP of max at t1
    bar_W = X.T.dot(bar_t2 - bar_t2.sum(axis=1, keepdims=True) * (t5 / t5.sum(axis=1, keepdims=True)))
    return value, (bar_W,)
