"""NumPy's layout functions, composed from reshape, transpose, slicing, concatenate, split and where.

Axis moves (moveaxis, swapaxes, rollaxis), atleast_*d, the stacks and splits, tile, repeat,
roll, flip, rot90, diag, diagonal and trace here; pad, tril/triu, broadcast_arrays, the
``*_like`` constants, meshgrid and ``array`` in ``symdiff.layout_more``. Each is built from
existing builders, so every backend, batching rule and second derivative follows from theirs.
"""

from __future__ import annotations

import builtins
import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff import interop
from symdiff.errors import ShapeError, UnsupportedError
from symdiff.graph import Node, short_text
from symdiff.layout_more import (
    append,
    array,
    broadcast_arrays,
    full_like,
    meshgrid,
    ones_like,
    pad,
    tril,
    triu,
    zeros_like,
)

__all__ = [
    "append",
    "array", "array_split", "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_arrays", "column_stack", "diag",
    "diagonal", "dsplit", "dstack", "flip", "fliplr", "flipud", "full_like", "hsplit", "hstack", "meshgrid",
    "moveaxis", "ones_like", "pad", "repeat", "roll", "rollaxis", "rot90", "row_stack", "swapaxes", "tile", "trace",
    "tril", "triu", "vsplit", "vstack", "zeros_like",
]


def _node(x: Any, what: str) -> Node:
    return sd.as_node(x, f"{what} argument")


def _on_axis(node: Node, axis: int, item: slice) -> Node:
    """``node[:, ..., item]`` with ``item`` on ``axis``."""
    return sd.getitem(node, (slice(None),) * axis + (item,))


def _axis_list(value: Any, node: Node, what: str) -> list[int]:
    """One axis or a sequence of distinct axes, in the order given."""
    items = sd._items(value)
    axes = [sd._axis(a, node, what) for a in (items if items is not None else (value,))]
    if len(set(axes)) != len(axes):
        raise ShapeError(f"{what} of {short_text(node, 2)}: repeated axis in {sd._shown(value)}")
    return axes


# ---- axis moves --------------------------------------------------------------------------------


def moveaxis(a: Any, source: Any, destination: Any) -> Node:
    """``np.moveaxis``: the ``source`` axes moved to ``destination``, the others kept in order."""
    node = _node(a, "moveaxis")
    src = _axis_list(source, node, "moveaxis source")
    dst = _axis_list(destination, node, "moveaxis destination")
    if len(src) != len(dst):
        raise ShapeError(f"moveaxis: source {sd._shown(source)} and destination {sd._shown(destination)} "
                         "must have the same number of elements")
    order = [i for i in range(node.ndim) if i not in src]
    for to, start in sorted(zip(dst, src, strict=True)):
        order.insert(to, start)
    return sd.transpose(node, tuple(order))


def swapaxes(a: Any, axis1: int, axis2: int) -> Node:
    node = _node(a, "swapaxes")
    order = list(range(node.ndim))
    i, j = sd._axis(axis1, node, "swapaxes axis1"), sd._axis(axis2, node, "swapaxes axis2")
    order[i], order[j] = j, i
    return sd.transpose(node, tuple(order))


def rollaxis(a: Any, axis: int, start: int = 0) -> Node:
    """``np.rollaxis``: ``axis`` moved to stand before ``start`` (which may be ``ndim``)."""
    node = _node(a, "rollaxis")
    n = node.ndim
    moved = sd._axis(axis, node, "rollaxis axis")
    at = sd._int(start, f"rollaxis of {short_text(node, 2)}: start")
    if not -n <= at <= n:
        raise ShapeError(f"rollaxis of {short_text(node, 2)}: start must satisfy {-n} <= start <= {n}, got {at}")
    at = at + n if at < 0 else at
    if moved < at:
        at -= 1
    order = [i for i in range(n) if i != moved]
    order.insert(at, moved)
    return sd.transpose(node, tuple(order))


# ---- at least n dimensions, stacks -------------------------------------------------------------


def _at_least(node: Node, ndim: int) -> Node:
    """NumPy's rule: a vector (n,) becomes (1, n) and, for 3-d, (1, n, 1); a matrix (m, n) becomes (m, n, 1)."""
    if node.ndim >= ndim:
        return node
    if node.ndim == 0:
        return sd.reshape(node, (1,) * ndim)
    if ndim == 2 or node.ndim == 2:
        shape = (1, *node.shape) if ndim == 2 else (*node.shape, 1)
    else:
        shape = (1, *node.shape, 1)
    return sd.reshape(node, shape)


def _each_at_least(arys: Sequence[Any], ndim: int, what: str) -> Node | tuple[Node, ...]:
    nodes = tuple(_at_least(sd.as_node(a, f"{what} argument {i}"), ndim) for i, a in enumerate(arys))
    return nodes[0] if len(nodes) == 1 else nodes


def atleast_1d(*arys: Any) -> Node | tuple[Node, ...]:
    return _each_at_least(arys, 1, "atleast_1d")


def atleast_2d(*arys: Any) -> Node | tuple[Node, ...]:
    return _each_at_least(arys, 2, "atleast_2d")


def atleast_3d(*arys: Any) -> Node | tuple[Node, ...]:
    return _each_at_least(arys, 3, "atleast_3d")


def _float64(dtype: Any) -> bool:
    """Whether ``dtype`` is None or float64, the one dtype a node's numbers have."""
    try:
        return dtype is None or np.dtype(dtype) == np.float64
    except TypeError:
        return False


def _joined(tup: Any, what: str, ndim: int, dtype: Any = None, casting: str = "same_kind") -> list[Node]:
    if not _float64(dtype):
        raise UnsupportedError(f"{what}: dtype must be None or float64, got {sd._shown(dtype)}")
    if casting != "same_kind":
        raise UnsupportedError(f"{what}: casting must be 'same_kind', got {sd._shown(casting)}")
    arrays = sd.array_list(tup, what)
    if not arrays:
        raise ShapeError(f"{what} needs at least one array")
    return [_at_least(sd.as_node(a, f"{what} argument {i}"), ndim) for i, a in enumerate(arrays)]


def vstack(tup: Sequence[Any], *, dtype: Any = None, casting: str = "same_kind") -> Node:
    return sd.concatenate(_joined(tup, "vstack", 2, dtype, casting), axis=0)


def row_stack(tup: Sequence[Any], *, dtype: Any = None, casting: str = "same_kind") -> Node:
    """NumPy's older name of ``vstack``."""
    return sd.concatenate(_joined(tup, "row_stack", 2, dtype, casting), axis=0)


def hstack(tup: Sequence[Any], *, dtype: Any = None, casting: str = "same_kind") -> Node:
    nodes = _joined(tup, "hstack", 1, dtype, casting)
    return sd.concatenate(nodes, axis=0 if nodes[0].ndim == 1 else 1)


def dstack(tup: Sequence[Any]) -> Node:
    return sd.concatenate(_joined(tup, "dstack", 3), axis=2)


def column_stack(tup: Sequence[Any]) -> Node:
    """Vectors become columns, matrices join as they are, along axis 1."""
    nodes = _joined(tup, "column_stack", 0)
    return sd.concatenate([sd.reshape(n, (n.size, 1)) if n.ndim < 2 else n for n in nodes], axis=1)


# ---- splits ------------------------------------------------------------------------------------


def array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> tuple[Node, ...]:
    """``np.array_split``: like ``split``, but ``n`` sections need not divide the axis (the first ones are longer)."""
    node = _node(ary, "array_split")
    if node.ndim == 0:
        raise ShapeError("array_split needs an array of at least one dimension")
    ax = sd._axis(axis, node, "array_split")
    if sd._items(indices_or_sections) is not None:
        return sd.split(node, indices_or_sections, axis=ax)
    sections = sd._int(indices_or_sections, f"array_split of {short_text(node, 2)}: indices_or_sections")
    if sections <= 0:
        raise ShapeError(f"array_split of {short_text(node, 2)}: the number of sections must be positive, "
                         f"got {sections}")
    if sections > builtins.max(node.shape[ax], 1) * 2**20:  # more empty pieces than memory holds
        raise ShapeError(f"array_split of {short_text(node, 2)}: {sections} sections is too many")
    each, extra = divmod(node.shape[ax], sections)
    sizes = [each + 1] * extra + [each] * (sections - extra)
    return sd.split(node, list(itertools.accumulate(sizes))[:-1], axis=ax)


def _split_on(ary: Any, indices_or_sections: Any, what: str, least: int, axis: int) -> tuple[Node, ...]:
    node = _node(ary, what)
    if node.ndim < least:
        raise ShapeError(f"{what} needs an array of at least {least} dimensions, got shape {node.shape}")
    try:
        return sd.split(node, indices_or_sections, axis=axis)
    except ShapeError as error:
        raise ShapeError(f"{what}: {error}") from None


def hsplit(ary: Any, indices_or_sections: Any) -> tuple[Node, ...]:
    node = _node(ary, "hsplit")
    return _split_on(node, indices_or_sections, "hsplit", 1, 1 if node.ndim > 1 else 0)


def vsplit(ary: Any, indices_or_sections: Any) -> tuple[Node, ...]:
    return _split_on(ary, indices_or_sections, "vsplit", 2, 0)


def dsplit(ary: Any, indices_or_sections: Any) -> tuple[Node, ...]:
    return _split_on(ary, indices_or_sections, "dsplit", 3, 2)


# ---- repetition and rotation -------------------------------------------------------------------


def tile(A: Any, reps: Any) -> Node:
    """Each axis repeated as a whole: a unit axis before it, broadcast, and merged."""
    node = _node(A, "tile")
    items = sd._items(reps)
    counts = tuple(sd._int(r, "tile: reps") for r in (items if items is not None else (reps,)))
    if builtins.any(r < 0 for r in counts):
        raise ShapeError(f"tile: reps must be non-negative, got {sd._shown(reps)}")
    ndim = builtins.max(len(counts), node.ndim)
    counts = (1,) * (ndim - len(counts)) + counts
    shape = (1,) * (ndim - node.ndim) + node.shape
    spread = tuple(d for pair in zip(counts, shape, strict=True) for d in pair)
    lined = sd.reshape(node, tuple(d for s in shape for d in (1, s)))
    try:
        return sd.reshape(sd.broadcast_to(lined, spread), tuple(r * s for r, s in zip(counts, shape, strict=True)))
    except ShapeError as error:
        raise ShapeError(f"tile of {short_text(node, 2)}: {error}") from None


def _repeat_each(node: Node, axis: int, count: int) -> Node:
    """Every element along ``axis`` ``count`` times in a row: a unit axis after it, broadcast, merged."""
    shape = node.shape
    lined = sd.reshape(node, (*shape[: axis + 1], 1, *shape[axis + 1:]))
    wide = sd.broadcast_to(lined, (*shape[: axis + 1], count, *shape[axis + 1:]))
    return sd.reshape(wide, (*shape[:axis], shape[axis] * count, *shape[axis + 1:]))


def repeat(a: Any, repeats: Any, axis: int | None = None) -> Node:
    """``np.repeat``: ``repeats`` an int or one int per element; ``axis=None`` repeats the flattened array."""
    node = _node(a, "repeat")
    if axis is None:
        node, ax = sd.ravel(node), 0
    else:
        ax = sd._axis(axis, node, "repeat")
    if isinstance(repeats, Node):
        raise UnsupportedError("repeat: repeats must be ints known when the graph is built, not a node")
    counts = np.asarray(repeats)
    if counts.dtype.kind not in "iu":
        raise ShapeError(f"repeat: repeats must be ints, got {sd._shown(repeats)}")
    length = node.shape[ax]
    if counts.ndim > 1 or (counts.size != 1 and counts.shape != (length,)):
        raise ShapeError(f"repeat: repeats {sd._shown(repeats)} must be one int or {length} ints (axis {ax})")
    if (counts < 0).any():
        raise ShapeError(f"repeat: repeats may not be negative, got {sd._shown(repeats)}")
    if counts.size == 1:  # one count for every element, as NumPy broadcasts it
        return _repeat_each(node, ax, int(counts.reshape(-1)[0]))
    pieces = []
    start = 0
    for count, run in itertools.groupby(counts.tolist()):  # one piece per run of equal counts
        stop = start + len(list(run))
        if count:
            pieces.append(_repeat_each(_on_axis(node, ax, slice(start, stop)), ax, count))
        start = stop
    return sd.concatenate(pieces, axis=ax) if pieces else _on_axis(node, ax, slice(0, 0))


def roll(a: Any, shift: Any, axis: Any = None) -> Node:
    """``np.roll``: each axis rotated by its shift (shifts on one axis add up), or the flattened array."""
    node = _node(a, "roll")
    if axis is None:
        return sd.reshape(roll(sd.ravel(node), shift, 0), node.shape)
    shift_items, axis_items = sd._items(shift), sd._items(axis)
    shifts = [sd._int(s, "roll: shift") for s in (shift_items if shift_items is not None else (shift,))]
    axes = [sd._axis(x, node, "roll") for x in (axis_items if axis_items is not None else (axis,))]
    if len(shifts) == 1:
        shifts *= len(axes)
    elif len(axes) == 1:
        axes *= len(shifts)
    if len(shifts) != len(axes):
        raise ShapeError(f"roll: shift {sd._shown(shift)} and axis {sd._shown(axis)} do not broadcast together")
    totals = dict.fromkeys(sorted(set(axes)), 0)
    for s, x in zip(shifts, axes, strict=True):
        totals[x] += s
    for x, total in totals.items():
        n = node.shape[x]
        step = total % n if n else 0
        if step:
            node = sd.concatenate([_on_axis(node, x, slice(n - step, None)), _on_axis(node, x, slice(None, n - step))],
                                  axis=x)
    return node


def flip(m: Any, axis: Any = None) -> Node:
    """The order of elements reversed along ``axis`` (every axis when None): one reversed slice."""
    node = _node(m, "flip")
    axes = sd._axes(axis, node, "flip")
    index = tuple(slice(None, None, -1) if i in axes and d > 1 else slice(None) for i, d in enumerate(node.shape))
    return sd.getitem(node, index)


def fliplr(m: Any) -> Node:
    node = _node(m, "fliplr")
    if node.ndim < 2:
        raise ShapeError(f"fliplr needs an array of at least 2 dimensions, got shape {node.shape}")
    return flip(node, 1)


def flipud(m: Any) -> Node:
    node = _node(m, "flipud")
    if node.ndim < 1:
        raise ShapeError("flipud needs an array of at least 1 dimension, got a scalar")
    return flip(node, 0)


def rot90(m: Any, k: int = 1, axes: Sequence[int] = (0, 1)) -> Node:
    """Rotation by 90 degrees ``k`` times, from the first of ``axes`` towards the second."""
    node = _node(m, "rot90")
    items = sd._items(axes)
    if items is None or len(items) != 2:
        raise ShapeError(f"rot90: axes must hold two axes, got {sd._shown(axes)}")
    first, second = (sd._axis(x, node, "rot90 axes") for x in items)
    if first == second:
        raise ShapeError(f"rot90: axes must be different, got {sd._shown(axes)}")
    turns = sd._int(k, "rot90: k") % 4
    if turns == 0:
        return node
    if turns == 2:
        return flip(node, (first, second))
    order = list(range(node.ndim))
    order[first], order[second] = second, first
    if turns == 1:
        return sd.transpose(flip(node, second), tuple(order))
    return flip(sd.transpose(node, tuple(order)), second)


# ---- diagonals ------------------------------------------------------------------------------------


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Node:
    """``np.diagonal``: the two axes become one last axis, read as a strided slice of their flattened block."""
    node = _node(a, "diagonal")
    if node.ndim < 2:
        raise ShapeError(f"diagonal needs an array of at least 2 dimensions, got shape {node.shape}")
    first, second = sd._axis(axis1, node, "diagonal axis1"), sd._axis(axis2, node, "diagonal axis2")
    if first == second:
        raise ShapeError(f"diagonal of {short_text(node, 2)}: axis1 and axis2 cannot be the same axis ({first})")
    shift = sd._int(offset, f"diagonal of {short_text(node, 2)}: offset")
    rest = [i for i in range(node.ndim) if i not in (first, second)]
    rows, cols = node.shape[first], node.shape[second]
    if shift >= 0:
        start, length = shift, builtins.max(0, builtins.min(rows, cols - shift))
    else:
        start, length = -shift * cols, builtins.max(0, builtins.min(rows + shift, cols))
    moved = sd.transpose(node, (*rest, first, second))
    flat = sd.reshape(moved, (*moved.shape[:-2], rows * cols))
    picked = slice(start, start + (length - 1) * (cols + 1) + 1, cols + 1) if length else slice(0, 0)
    return _on_axis(flat, flat.ndim - 1, picked)


def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None, out: Any = None) -> Node:
    """The sum along a diagonal (``offset``) of the axes ``axis1`` and ``axis2``."""
    if not _float64(dtype):
        raise UnsupportedError(f"trace: dtype must be None or float64, got {sd._shown(dtype)}")
    if out is not None:
        raise UnsupportedError("trace: out= is not supported on symdiff nodes (they are immutable)")
    return sd.sum(diagonal(a, offset, axis1, axis2), axis=-1)


def diag(v: Any, k: int = 0) -> Node:
    """``np.diag``: a vector becomes a square matrix with it on diagonal ``k``; a matrix gives diagonal ``k``."""
    node = _node(v, "diag")
    shift = sd._int(k, f"diag of {short_text(node, 2)}: k")
    if node.ndim == 2:
        return diagonal(node, shift)
    if node.ndim != 1:
        raise ShapeError(f"diag needs a 1-d or 2-d array, got shape {node.shape}")
    n, gap = node.size, builtins.abs(shift)
    if n == 0:
        return sd.broadcast_to(0.0, (gap, gap))
    # each value followed by n zeros, read as n rows of n: the values land on the diagonal, no mask
    wide = sd.concatenate([sd.reshape(node, (n, 1)), sd.broadcast_to(0.0, (n, n))], axis=1)
    square = sd.reshape(sd.reshape(wide, (n * (n + 1),))[: n * n], (n, n))
    if gap == 0:
        return square
    if shift > 0:
        beside = sd.concatenate([sd.broadcast_to(0.0, (n, gap)), square], axis=1)
        return sd.concatenate([beside, sd.broadcast_to(0.0, (gap, n + gap))], axis=0)
    below = sd.concatenate([sd.broadcast_to(0.0, (gap, n)), square], axis=0)
    return sd.concatenate([below, sd.broadcast_to(0.0, (n + gap, gap))], axis=1)


# np.array itself never dispatches (it converts its argument): sd.array is reached by name only
interop.provide({name: globals()[name] for name in __all__ if name != "array"})
