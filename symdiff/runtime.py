"""Argument checks called by generated functions on their slow path.

Generated code tests the exact fast case inline (``type(x) is np.float64``, or a
C-ordered float64 ndarray of the right shape) and calls these only otherwise.
The helpers use nothing but ``np`` and ``ArgumentError``: module files written
to ``generated/`` embed their source, so those modules import only numpy and math; for the
same reason the untyped parameters carry no annotation (``Any`` would need ``typing``).
"""

from __future__ import annotations

import numpy as np

from symdiff.errors import ArgumentError


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


def _int_arg(value, name: str, shape: tuple, dims=None):
    """Accept integers of ``shape`` (as in ``_array_arg``) as int64 (a 0-d one as an int); reject floats and bools."""
    try:
        array = np.asarray(value)
    except Exception as error:
        raise ArgumentError(f"argument {name!r}: cannot be read as an array ({error})") from None
    if array.dtype.kind not in "iu":
        raise ArgumentError(f"argument {name!r}: expected integers of shape {_shape_text(shape, dims)}, "
                            f"got dtype {array.dtype}")
    problem = _shape_problem(name, array.shape, shape, dims)
    if problem:
        raise ArgumentError(problem)
    if array.dtype.kind == "u" and array.size and array.max() > np.iinfo(np.int64).max:
        raise ArgumentError(f"argument {name!r}: an integer does not fit int64")
    return int(array) if shape == () else np.ascontiguousarray(array, dtype=np.int64)


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


def _size_error(requirement: str, sizes):
    """A call whose named dimensions have sizes the graph cannot take (a slice longer than its axis)."""
    shown = ", ".join(f"{name} = {size}" for name, size in sizes.items())
    return ArgumentError(f"{requirement}; got {shown}")


def _logsumexp(x, axes: tuple[int, ...], keepdims: bool):
    """log(sum(exp(x))) over ``axes``, shifted by the maximum; an infinite maximum is not shifted."""
    peak = np.max(x, axis=axes, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    with np.errstate(divide="ignore"):  # log(0) = -inf is the answer for an all -inf slice
        total = np.log(np.sum(np.exp(x - peak), axis=axes, keepdims=True)) + peak
    return total if keepdims else np.squeeze(total, axis=axes)


def _namespace_xp(names: tuple[str, ...], *arrays):
    """The array arguments' namespace; an ArgumentError naming the argument that has none."""
    import array_api_compat  # the array API backend's own dependency: imported only by its code

    try:
        return array_api_compat.array_namespace(*arrays)
    except TypeError:
        pass
    spaces = []
    for name, value in zip(names, arrays, strict=True):
        try:
            spaces.append(f"{name!r} of {array_api_compat.array_namespace(value).__name__}")
        except TypeError:
            raise ArgumentError(f"argument {name!r}: expected a real array, got {type(value).__name__}") from None
    raise ArgumentError(f"arguments from different array namespaces: {', '.join(spaces)}")


def _array_arg_xp(xp, value, name: str, shape: tuple, dims=None):
    """A real array of ``shape`` (as in ``_array_arg``) in namespace ``xp``, as float64 (integers are cast)."""
    dtype = getattr(value, "dtype", None)
    if dtype != xp.float64:
        try:
            real = xp.isdtype(dtype, ("real floating", "integral"))
        except Exception:  # None, or a dtype the namespace does not know
            real = False
        if not real:
            got = f"dtype {dtype}" if dtype is not None else type(value).__name__
            raise ArgumentError(f"argument {name!r}: expected a real array of shape {_shape_text(shape, dims)}, "
                                f"got {got}")
        value = xp.astype(value, xp.float64)
    problem = _shape_problem(name, tuple(value.shape), shape, dims)
    if problem:
        raise ArgumentError(problem)
    return value


def _scalar_arg_xp(xp, value, name: str):
    """A real number or 0-d real array as a 0-d float64 array of ``xp``; reject the rest (bools too)."""
    try:
        array = xp.asarray(value)
        real = array.shape == () and xp.isdtype(array.dtype, ("real floating", "integral"))
    except Exception:  # None, or what the namespace cannot read
        real = False
    if not real:
        shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
        raise ArgumentError(
            f"argument {name!r}: expected a real scalar of shape (), got {type(value).__name__}"
            + (f" of shape {tuple(shape)} and dtype {dtype}" if shape is not None else "")
        )
    return xp.astype(array, xp.float64)


def _copy_xp(xp, value):
    """A copy of an output that may be an input's memory or another output's. JAX arrays are
    immutable and Dask's item assignment touches no other array, so theirs are returned as they are."""
    import array_api_compat

    if array_api_compat.is_jax_namespace(xp) or array_api_compat.is_dask_namespace(xp):
        return value
    return xp.asarray(value, copy=True)


def _logsumexp_xp(xp, x, axes: tuple[int, ...], keepdims: bool):
    """``_logsumexp`` in the functions of the array API standard."""
    peak = xp.max(x, axis=axes, keepdims=True)
    peak = xp.where(xp.isfinite(peak), peak, 0.0)
    total = xp.log(xp.sum(xp.exp(x - peak), axis=axes, keepdims=True)) + peak
    return total if keepdims else xp.squeeze(total, axis=axes)


def _binomial_split(steps: int, free: int) -> int:
    """Where Griewank's schedule puts its next snapshot in ``steps`` steps with ``free`` slots:
    the fewest repetitions r with C(free + r, free) >= steps, and the right part no longer than
    C(free - 1 + r, free - 1) steps, which leaves the left within C(free + r - 1, free)."""
    repeats, reach = 0, 1  # reach = C(free + repeats, free)
    while reach < steps:
        repeats += 1
        reach = reach * (free + repeats) // repeats
    right = reach * free // (free + repeats)  # C(free - 1 + repeats, free - 1)
    return max(1, steps - right)


def _revolve(steps: int, snapshots: int):
    """The actions that reverse ``steps`` steps keeping at most ``snapshots`` carries (Griewank's
    binomial checkpointing): ``(0, slot, t)`` restores the carry of step t from a slot, ``(1, slot, t)``
    stores it there, ``(2, count, t)`` runs ``count`` steps from step t, ``(3, 0, t)`` runs step t's VJP."""
    actions = [(1, 0, 0)]
    stack = [(0, steps, 0, snapshots - 1)]  # (first step, end, slot of the first step's carry, free slots)
    while stack:
        low, high, slot, free = stack.pop()
        count = high - low
        if count == 0:
            continue
        if free == 0 or count == 1:  # from the one carry: each step, the last first
            for t in range(high - 1, low - 1, -1):
                actions.append((0, slot, low))
                if t > low:
                    actions.append((2, t - low, low))
                actions.append((3, 0, t))
            continue
        middle = low + _binomial_split(count, free)
        actions += [(0, slot, low), (2, middle - low, low), (1, slot + 1, middle)]
        stack.append((low, middle, slot, free))  # second: its free slots are the right part's again
        stack.append((middle, high, slot + 1, free - 1))
    return actions


HELPERS = (_scalar_arg, _array_arg, _int_arg, _shape_text, _shape_problem, _size_error,
           _logsumexp, _namespace_xp, _array_arg_xp, _scalar_arg_xp, _copy_xp,
           _logsumexp_xp, _binomial_split, _revolve)
