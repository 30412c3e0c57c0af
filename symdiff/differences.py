"""``np.gradient`` (finite differences of sampled values) and ``np.linspace`` with node endpoints.

Both are slices, arithmetic and concatenation of existing ops, so every backend prints them
and their derivatives follow.
"""

from __future__ import annotations

import builtins
import operator
from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff import interop
from symdiff.errors import ShapeError, UnsupportedError
from symdiff.graph import Node
from symdiff.ops import broadcast_shapes

__all__ = ["gradient", "linspace"]


def _along(f: Node, axis: int, start: int | None, stop: int | None) -> Node:
    index = [slice(None)] * f.ndim
    index[axis] = slice(start, stop)
    return f[tuple(index)]


def _spacing(h: Any, n: int, axis: int) -> tuple[float | None, np.ndarray | None]:
    """A uniform step, or the coordinates of the samples along the axis (constants only)."""
    if isinstance(h, Node):
        raise UnsupportedError("gradient: spacings must be constants, not nodes")
    try:
        value = np.asarray(h, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise UnsupportedError(f"gradient: a spacing must be a number or an array of coordinates, got "
                               f"{sd._shown(h)}") from None
    if value.ndim == 0:
        return float(value), None
    if value.shape != (n,):
        raise ShapeError(f"gradient: the coordinates for axis {axis} have shape {value.shape}, the axis length {n}")
    return None, value


def _one_axis(f: Node, axis: int, h: Any, edge_order: int) -> Node:
    n = f.shape[axis]
    if n < edge_order + 1:
        raise ShapeError(f"gradient: axis {axis} has {n} samples; edge_order={edge_order} needs {edge_order + 1}")
    step, coords = _spacing(h, n, axis)

    def at(lo: int | None, hi: int | None) -> Node:
        return _along(f, axis, lo, hi)

    def column(values: np.ndarray) -> np.ndarray:  # per-sample factors, broadcast along the axis
        shape = [1] * f.ndim
        shape[axis] = values.size
        return values.reshape(shape)

    if coords is None:
        step = float(step or 0.0)  # _spacing gives a step whenever it gives no coordinates
        interior = (at(2, None) - at(None, -2)) / (2.0 * step)
        if edge_order == 1:
            first, last = (at(1, 2) - at(0, 1)) / step, (at(-1, None) - at(-2, -1)) / step
        else:
            first = (-1.5 * at(0, 1) + 2.0 * at(1, 2) - 0.5 * at(2, 3)) / step
            last = (0.5 * at(-3, -2) - 2.0 * at(-2, -1) + 1.5 * at(-1, None)) / step
    else:
        dx = np.diff(coords)
        hs, hd = dx[:-1], dx[1:]
        a, b, c = -hd / (hs * (hd + hs)), (hd - hs) / (hd * hs), hs / (hd * (hd + hs))
        interior = column(a) * at(None, -2) + column(b) * at(1, -1) + column(c) * at(2, None)
        if edge_order == 1:
            first, last = (at(1, 2) - at(0, 1)) / dx[0], (at(-1, None) - at(-2, -1)) / dx[-1]
        else:
            d1, d2 = dx[0], dx[1]
            first = (-(2.0 * d1 + d2) / (d1 * (d1 + d2)) * at(0, 1) + (d1 + d2) / (d1 * d2) * at(1, 2)
                     - d1 / (d2 * (d1 + d2)) * at(2, 3))
            d1, d2 = dx[-2], dx[-1]
            last = (d2 / (d1 * (d1 + d2)) * at(-3, -2) - (d2 + d1) / (d1 * d2) * at(-2, -1)
                    + (2.0 * d2 + d1) / (d2 * (d1 + d2)) * at(-1, None))
    if n == 2:
        return sd.concatenate([first, last], axis=axis)
    return sd.concatenate([first, interior, last], axis=axis)


def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Node | tuple[Node, ...]:
    """``np.gradient``: central differences inside, one-sided ones (first or second order) at the ends."""
    node = sd.as_node(f, "gradient argument")
    if axis is None:
        axes: tuple[int, ...] = tuple(range(node.ndim))
    else:  # in the order given, as NumPy returns them
        axes = tuple(sd._axis(a, node, "gradient") for a in (axis if isinstance(axis, (tuple, list)) else [axis]))
        if len(set(axes)) != len(axes):
            raise ShapeError(f"gradient: axis {axis!r} repeats an axis")
    if edge_order not in (1, 2) or isinstance(edge_order, bool):
        raise UnsupportedError(f"gradient: edge_order must be 1 or 2, got {edge_order!r}")
    if not varargs:
        spacings: list[Any] = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        spacings = [varargs[0]] * len(axes)
    elif len(varargs) == len(axes):
        spacings = list(varargs)
    else:
        raise ShapeError(f"gradient: {len(varargs)} spacings given for {len(axes)} axes")
    parts = tuple(_one_axis(node, a, h, edge_order) for a, h in zip(axes, spacings, strict=True))
    return parts[0] if len(parts) == 1 else parts


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype: Any = None, axis: int = 0) -> Any:
    """``np.linspace`` with node (or array) endpoints: ``start + k * step``, the last sample ``stop``."""
    if dtype is not None and np.dtype(dtype) != np.float64:
        raise UnsupportedError(f"linspace: dtype {np.dtype(dtype)} is not supported (symdiff computes in float64)")
    try:
        count = operator.index(num)
    except TypeError:
        raise ShapeError(f"linspace: num must be an int, got {num!r}") from None
    if count < 0:
        raise ShapeError(f"linspace: num must be non-negative, got {count}")
    lo, hi = sd.as_node(start, "linspace start"), sd.as_node(stop, "linspace stop")
    sd._check_size((count, *lo.shape), "linspace")
    try:
        shape = broadcast_shapes(lo.shape, hi.shape)
    except ShapeError:
        raise ShapeError(f"linspace: start of shape {lo.shape} and stop of shape {hi.shape} do not broadcast") from None
    div = count - 1 if endpoint else count
    delta = hi - lo
    ramp = sd.as_node(np.arange(count, dtype=np.float64).reshape((count,) + (1,) * len(shape)))
    if div > 0:
        step = delta / float(div)
        samples = sd.broadcast_to(ramp * step + lo, (count, *shape))
    else:  # one sample (or none): NumPy's step is NaN, and the sample is start
        step = delta * np.nan
        samples = sd.broadcast_to(ramp * delta + lo, (count, *shape))
    if endpoint and count > 1:
        samples = sd.concatenate([samples[: count - 1], sd.broadcast_to(hi, (1, *shape))], axis=0)
    if axis != 0:
        target = sd._axis(axis, samples, "linspace")
        order = [*builtins.range(1, target + 1), 0, *builtins.range(target + 1, samples.ndim)]
        samples = sd.transpose(samples, tuple(order))
    return (samples, step) if retstep else samples


interop.provide({"gradient": gradient, "linspace": linspace})
