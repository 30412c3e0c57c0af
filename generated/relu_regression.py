"""mean((t - (w2*relu(w1*x + b1) + b2))**2) over n points

Written by symdiff; regenerate with `symdiff regenerate`. Imports only numpy and math.
"""

from __future__ import annotations

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


def relu_regression(w1, b1, w2, b2, x, t):
    """Value and gradient in one forward and one reverse sweep; the gradients come in
    wrt order, each of its variable's shape.
    Compile-time rewrites (rewrites=False turns them off):
        2 x sum(a*b) of vectors as a dot product
        3 x scalar factors multiplied before the array

        # 15 forward nodes (ops: add, mean, mul, power, relu, sub), 15 reverse-sweep nodes
        t0 = w1 * x + b1
        t1 = np.maximum(t0, 0.0)
        t2 = t - (w2 * t1 + b2)
        value = (t2 ** 2).sum() / n

    Returns value, (bar_w1, bar_b1, bar_w2, bar_b2).

    Inputs (label -> parameter, shape):
        w1 -> w1, ()  [wrt]
        b1 -> b1, ()  [wrt]
        w2 -> w2, ()  [wrt]
        b2 -> b2, ()  [wrt]
        x -> x, (n,)  [data]
        t -> t, (n,)  [data]

    Dimensions (sizes read from the arguments on every call):
        n = x.shape[0]

    Conventions:
        maximum/minimum ties split the gradient 1/2 : 1/2; relu'(0) = 0; abs'(0) = 0;
        max reductions share the gradient equally among tied elements;
        where-branches are guarded: the untaken branch adds no NaN or inf to a gradient;
        scalars are numpy.float64 (IEEE: 1/0 is inf, log(-1) is nan, with NumPy's warnings).
        Exact rewrites at construction: x*1, x/1, x**1, x+(-0.0), x-0.0, --x, folding of + - * / and integer powers.
    """
    if type(w1) is not float and type(w1) is not np.float64:
        w1 = _scalar_arg(w1, 'w1')
    if type(b1) is not float and type(b1) is not np.float64:
        b1 = _scalar_arg(b1, 'b1')
    if type(w2) is float:
        w2 = np.float64(w2)
    elif type(w2) is not np.float64:
        w2 = _scalar_arg(w2, 'w2')
    if type(b2) is not float and type(b2) is not np.float64:
        b2 = _scalar_arg(b2, 'b2')
    if type(x) is not np.ndarray or x.dtype != np.float64 or x.ndim != 1:
        x = _array_arg(x, 'x', (None,), dims=(('n', 'x'),))
    n = x.shape[0]
    if type(t) is not np.ndarray or t.dtype != np.float64 or t.shape != (n,):
        t = _array_arg(t, 't', (n,), dims=(('n', 'x'),))
    # forward sweep
    t0 = w1 * x + b1
    t1 = np.maximum(t0, 0.0)
    t2 = t - (w2 * t1 + b2)
    value = (t2 ** 2).sum() / n
    # reverse sweep
    t3 = -(1.0 / np.float64(n) * 2.0)
    bar_t0 = w2 * t3 * t2 * (t0 > 0.0)
    bar_w1 = bar_t0.dot(x)
    bar_b1 = bar_t0.sum()
    t4 = t3 * t2  # VJP of sub at t2
    bar_w2 = t4.dot(t1)
    bar_b2 = t4.sum()
    return value, (bar_w1, bar_b1, bar_w2, bar_b2)
