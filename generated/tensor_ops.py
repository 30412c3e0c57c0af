"""sum(((top + bottom) @ w + reshape(x.T, (1, 6))[:, :4])**2) + sum(x @ w)

Written by symdiff; regenerate with `symdiff regenerate`. Imports only numpy and math.
"""

from __future__ import annotations

import numpy as np


class ArgumentError(TypeError, ValueError):
    """A wrong number, type or shape of arguments."""


def _array_arg(value, name: str, shape: tuple[int, ...], dtype=np.float64):
    """Accept real arrays of exactly ``shape`` as ``dtype`` (ints are cast); reject the rest."""
    try:
        array = np.asarray(value)
    except Exception as error:
        raise ArgumentError(f"argument {name!r}: cannot be read as an array ({error})") from None
    if array.dtype.kind not in "iuf":
        raise ArgumentError(f"argument {name!r}: expected a real array of shape {shape}, got dtype {array.dtype}")
    if array.shape != shape:
        raise ArgumentError(f"argument {name!r}: expected shape {shape}, got shape {array.shape}")
    return np.ascontiguousarray(array, dtype=dtype)


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
