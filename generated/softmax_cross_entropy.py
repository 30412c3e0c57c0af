"""softmax cross-entropy of X @ W against one-hot Y

Written by symdiff; regenerate with `symdiff regenerate`. Imports only numpy and math.
"""

from __future__ import annotations

import math

import numpy as np


class ArgumentError(TypeError, ValueError):
    """A wrong number, type or shape of arguments."""


MISSING = object()


def _scalar_arg(value: Any, name: str) -> Any:
    """Convert a real scalar to np.float64 (IEEE semantics for 1/0, 0**-1, ...); reject the rest."""
    if isinstance(value, (bool, np.bool_)):
        raise ArgumentError(f"argument {name!r}: expected a real number, got a bool")
    if isinstance(value, (int, float, np.integer, np.floating)):
        return np.float64(value)
    array = value if isinstance(value, np.ndarray) else None
    if array is not None and array.shape == () and array.dtype.kind in "iuf":
        return np.float64(array)
    shape = getattr(value, "shape", None)
    raise ArgumentError(
        f"argument {name!r}: expected a real scalar of shape (), got {type(value).__name__}"
        + (f" of shape {shape}" if shape is not None else "")
    )


def _array_arg(value: Any, name: str, shape: tuple[int, ...]) -> Any:
    """Accept real arrays of exactly ``shape`` as float64 (ints are cast); reject the rest."""
    try:
        array = np.asarray(value)
    except Exception as error:
        raise ArgumentError(f"argument {name!r}: cannot be read as an array ({error})") from None
    if array.dtype.kind not in "iuf":
        raise ArgumentError(f"argument {name!r}: expected a real array of shape {shape}, got dtype {array.dtype}")
    if array.shape != shape:
        raise ArgumentError(f"argument {name!r}: expected shape {shape}, got shape {array.shape}")
    return np.ascontiguousarray(array, dtype=np.float64)


def _call_error(function: str, params: tuple[str, ...], given: tuple[Any, ...], extra: tuple[Any, ...],
                unknown: dict[str, Any]) -> ArgumentError:
    """Describe a call with missing, surplus or unknown arguments."""
    missing = [p for p, v in zip(params, given, strict=True) if v is MISSING]
    problems = []
    if missing:
        problems.append("missing " + ", ".join(missing))
    if extra:
        problems.append(f"{len(extra)} extra positional argument(s)")
    if unknown:
        problems.append("unknown keyword(s) " + ", ".join(sorted(unknown)))
    return ArgumentError(f"{function}() takes {len(params)} argument(s) ({', '.join(params)}): " + "; ".join(problems))


def softmax_cross_entropy(W=MISSING, X=MISSING, Y=MISSING, *_extra, **_unknown):
    """Value and gradient in one forward and one reverse sweep; the gradients come in
    wrt order, each of its variable's shape.

        # 14 forward nodes (ops: exp, log, matmul, max, mean, mul, neg, sub, sum), 18 reverse-sweep nodes
        t0 = X @ W
        t1 = np.max(t0, axis=1, keepdims=True)
        t2 = t0 - t1
        t3 = np.exp(t2)
        t4 = np.sum(t3, axis=1, keepdims=True)
        value = -np.mean(np.sum(Y * (t2 - np.log(t4)), axis=1))

    Returns value, (bar_W,).

    Inputs (label -> parameter, shape):
        W -> W, (4, 3)  [wrt]
        X -> X, (20, 4)  [data]
        Y -> Y, (20, 3)  [data]

    Conventions:
        maximum/minimum ties split the gradient 1/2 : 1/2; relu'(0) = 0; abs'(0) = 0;
        max reductions share the gradient equally among tied elements;
        where-branches are guarded: the untaken branch adds no NaN and no warning;
        scalars are numpy.float64 (IEEE: 1/0 is inf, log(-1) is nan, with NumPy's warnings).
        Exact rewrites at construction: x*1, x+0, --x, folding of + - * / and integer powers.
    """
    if _extra or _unknown or W is MISSING or X is MISSING or Y is MISSING:
        raise _call_error('softmax_cross_entropy', ('W', 'X', 'Y'), (W, X, Y,), _extra, _unknown)
    if type(W) is not np.ndarray or W.dtype != np.float64 or W.shape != (4, 3):
        W = _array_arg(W, 'W', (4, 3))
    if type(X) is not np.ndarray or X.dtype != np.float64 or X.shape != (20, 4):
        X = _array_arg(X, 'X', (20, 4))
    if type(Y) is not np.ndarray or Y.dtype != np.float64 or Y.shape != (20, 3):
        Y = _array_arg(Y, 'Y', (20, 3))
    # forward sweep
    t0 = X @ W
    t1 = np.max(t0, axis=1, keepdims=True)
    t2 = t0 - t1
    t3 = np.exp(t2)
    t4 = np.sum(t3, axis=1, keepdims=True)
    value = -np.mean(np.sum(Y * (t2 - np.log(t4)), axis=1))
    # reverse sweep
    bar_t2 = -0.05 * Y + np.sum(0.05 * Y, axis=1, keepdims=True) / t4 * t3
    t5 = np.float64(t0 == t1)  # VJP of max at t1
    bar_t0 = bar_t2 + np.sum(-bar_t2, axis=1, keepdims=True) * (t5 / np.sum(t5, axis=1, keepdims=True))
    bar_W = np.transpose(X) @ bar_t0
    return value, (bar_W,)
