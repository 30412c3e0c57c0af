"""Integer-array indexing: ``x[[0, 2]]``, ``x[i, j]``, ``logits[np.arange(n), labels]``, masks.

Two ops carry it. ``gather`` indexes ``lead`` untouched axes and then one axis per index array,
all of one broadcast shape (``x[:, i, j]``); ``scatter_add`` is its adjoint, ``np.add.at`` into
zeros, so repeated indices add up. ``getitem`` reduces any NumPy advanced index to basic
slicing, a transpose, one ``gather`` and a reshape for the Nones, placing the broadcast index
axes where NumPy places them. Index arrays are int64 constants or integer variables.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff import batch as batching
from symdiff import interop
from symdiff.dialect import current as current_dialect
from symdiff.dims import Dim, DimensionError
from symdiff.errors import ShapeError, UnsupportedError
from symdiff.graph import BOOL, FLOAT, INT, Node, Shape, make_const, short_text
from symdiff.ops import LAYOUT, REPEATS, STRUCTURE, Op, attr_shape, broadcast_shapes, register
from symdiff.printers import ATOM, shape_text, spelled
from symdiff.sparsity_rules import gather_rule, scatter_add_rule


def _gather_shape(shapes: Sequence[Shape], attrs: tuple[Any, ...]) -> Shape:
    (lead,), x, index = attrs, shapes[0], shapes[1:]
    if lead + len(index) > len(x):
        raise ShapeError(f"too many indices ({lead + len(index)}) for shape {x}")
    return (*x[:lead], *broadcast_shapes(*index), *x[lead + len(index):])


def _gather_requirements(node: Node) -> list[tuple[Any, int, str]]:
    """Constant indices into a named axis need the axis longer than the largest of them."""
    x, index = node.inputs[0], node.inputs[1:]
    found = []
    for dim, i in zip(x.shape[node.attrs[0]:], index, strict=False):
        if isinstance(dim, Dim) and i.value is not None and i.size:
            largest = int(np.max(i.value))
            found.append((dim, largest + 1, f"integer-array index {largest} on an axis of size {dim}"))
    return found


def _subscript(lead: int, index: Sequence[str]) -> str:
    return ", ".join([":"] * lead + list(index))


def _scatter_add_statement(target: str, a: Sequence[str], node: Node) -> list[str]:
    shape, lead = node.attrs
    where = ["slice(None)"] * lead + list(a[1:])
    index = where[0] if len(where) == 1 else f"({', '.join(where)})"
    return [f"{target} = {current_dialect().zeros(shape_text(shape))}",
            f"{spelled('add')}.at({target}, {index}, {a[0]})"]


def by_scalars(node: Node, backend: str) -> bool:
    """Every index is one integer: numba's basic indexing, and one ``+=`` for the adjoint."""
    return backend == "numba" and all(i.shape == () for i in node.inputs[1:])


def numba_scatter_add(target: str, a: Sequence[str], node: Node) -> list[str]:
    shape, lead = node.attrs
    return [f"{target} = np.zeros({shape_text(shape)})", f"{target}[{_subscript(lead, a[1:])}] += {a[0]}"]


def _gather_rule(node: Node, inputs: list[Node], flags: list[bool], k: int) -> Node:
    if any(flags[1:]):
        raise UnsupportedError("an index array cannot carry a batch axis (jacobian, hessian)")
    return gather(inputs[0], inputs[1:], node.attrs[0] + 1)


def _scatter_add_rule(node: Node, inputs: list[Node], flags: list[bool], k: int) -> Node:
    if any(flags[1:]):
        raise UnsupportedError("an index array cannot carry a batch axis (jacobian, hessian)")
    shape, lead = node.attrs
    return scatter_add(batching._stacked(inputs[0], flags[0], k), inputs[1:], (k, *shape), lead + 1)


# NumPy's fancy indexing and ufunc.at have no counterpart in numba's nopython mode or in the
# array API standard (which has take, but no scatter with accumulation); numba takes one
# integer per indexed axis (a loop's index): basic indexing, and ``+=`` for the adjoint
register(Op("gather", _gather_shape, lambda a, n: f"{a[0]}[{_subscript(n.attrs[0], a[1:])}]",
            lambda g, y, x, *index: (scatter_add(g, index, x.shape, y.attrs[0]), *(None for _ in index)),
            arg_prec=(ATOM,), layout=True, kind=LAYOUT, strong_zeros=True, batch=_gather_rule,
            refused=("numba", "array_api"), taken_by=by_scalars, convention=REPEATS, requires=_gather_requirements,
            sparsity=gather_rule, reads_integers=True))
register(Op("scatter_add", attr_shape, lambda a, n: "",
            lambda g, y, part, *index: (gather(g, index, y.attrs[1]), *(None for _ in index)),
            statement=_scatter_add_statement, kind=STRUCTURE, strong_zeros=True, batch=_scatter_add_rule,
            refused=("numba", "array_api"), taken_by=by_scalars, sparsity=scatter_add_rule, reads_integers=True))


def gather(x: Node, index: Sequence[Node], lead: int = 0) -> Node:
    """``x[:, ..., i0, i1, ...]`` with ``lead`` full slices first; the index nodes share one shape."""
    return sd.apply("gather", [x, *index], (lead,))


def scatter_add(g: Node, index: Sequence[Node], shape: Shape, lead: int = 0) -> Node:
    """Zeros of ``shape`` with ``g`` added at ``[:, ..., i0, i1, ...]``, repeated indices summed."""
    return sd.apply("scatter_add", [g, *index], (tuple(shape), lead))


# ---- NumPy's advanced indexing ------------------------------------------------------------


def is_advanced(item: Any) -> bool:
    """An index item that selects by an array: a list, an ndarray or a node (not an int or slice)."""
    return isinstance(item, (list, np.ndarray, Node, MaskPart))


def integer_index(item: Any, dim: int, where: str) -> Node:
    """An index array as an int64 node: constants are checked against ``dim`` and made non-negative."""
    if isinstance(item, Node):
        if item.dtype != INT:
            kind = {FLOAT: "a float", BOOL: "a boolean"}.get(item.dtype, "a non-integer")
            raise UnsupportedError(f"{where}: {kind} node cannot index ({short_text(item)}); index with "
                                   "int constants or integer variables (sd.var(..., dtype=np.int64))"
                                   + ("; a boolean node selects a value-dependent number of elements: use "
                                      "sd.where" if item.dtype == BOOL else ""))
        return item
    value = np.asarray(item)
    if value.dtype.kind not in "iu" and not (value.size == 0 and value.dtype.kind == "f"):
        raise UnsupportedError(f"{where}: index arrays must hold integers, got dtype {value.dtype}")
    value = value.astype(np.int64)
    if isinstance(dim, Dim):  # the call checks that the axis is long enough (gather's requirement)
        if value.size and value.min() < 0:
            raise DimensionError(f"{where}: index {int(value.min())} counts from the end of the named axis {dim}, "
                                 "whose length is known only when the function runs; index from the start")
        return make_const(value)
    if value.size and (value.min() < -dim or value.max() >= dim):
        bad = int(value.max() if value.max() >= dim else value.min())
        raise ShapeError(f"{where}: index {bad} is out of bounds for an axis of length {dim}")
    return make_const(np.where(value < 0, value + dim, value))


class MaskPart:
    """One of the ``nonzero`` arrays a boolean mask stands for; the first carries the mask's shape."""

    def __init__(self, positions: np.ndarray, mask_shape: Shape | None) -> None:
        self.positions, self.mask_shape = positions, mask_shape


def _expand(items: list[Any], ndim: int) -> list[Any]:
    """Boolean masks become their ``nonzero`` int arrays; ``...`` becomes full slices."""
    expanded: list[Any] = []
    for item in items:
        if isinstance(item, (list, np.ndarray)) and np.asarray(item).dtype == np.bool_:
            mask = np.asarray(item)
            if mask.ndim == 0:
                raise UnsupportedError("a boolean scalar index (x[True]) is not supported")
            parts = np.nonzero(mask)
            expanded += [MaskPart(p, mask.shape if i == 0 else None) for i, p in enumerate(parts)]
        else:
            expanded.append(item)
    consumed = sum(1 for item in expanded if item is not None and item is not Ellipsis)
    if sum(1 for item in expanded if item is Ellipsis) > 1:
        raise UnsupportedError("an index may hold only one Ellipsis")
    out: list[Any] = []
    for item in expanded:
        out += [slice(None)] * (ndim - consumed) if item is Ellipsis else [item]
    if consumed > ndim:
        raise ShapeError(f"too many indices ({consumed}) for an array of {ndim} dimensions")
    return out + [slice(None)] * (ndim - sum(1 for item in out if item is not None))


def advanced_getitem(x: Node, items: list[Any]) -> Node:
    """``x[items]`` where some item is an array: NumPy's rules for where the index axes go."""
    items = _expand(items, x.ndim)
    axis = 0
    basic: list[Any] = []
    positions: list[int] = []
    arrays: list[Node] = []
    for at, item in enumerate(items):
        if item is None:
            continue
        if isinstance(item, MaskPart):
            shape = item.mask_shape
            if shape is not None and x.shape[axis : axis + len(shape)] != shape:
                raise ShapeError(f"a boolean index of shape {shape} does not match the indexed axes "
                                 f"{x.shape[axis : axis + len(shape)]} of {x.shape}")
            item = item.positions
        if is_advanced(item) or isinstance(item, numbers.Integral):
            if isinstance(item, (bool, np.bool_)):
                raise UnsupportedError("a boolean scalar index (x[True]) is not supported")
            where = f"index {len(positions)} of an advanced index on {short_text(x)}"
            arrays.append(integer_index(item, x.shape[axis], where))
            positions.append(at)
            basic.append(slice(None))
        else:
            basic.append(item)
        axis += 1
    sliced = sd.getitem(x, tuple(basic))
    try:
        common = broadcast_shapes(*(a.shape for a in arrays))
    except ShapeError:
        shapes = " ".join(str(a.shape) for a in arrays)
        raise ShapeError(f"index arrays of shapes {shapes} do not broadcast together") from None
    arrays = [_broadcast_index(a, common) for a in arrays]
    adjacent = positions == list(range(positions[0], positions[0] + len(positions)))
    axis_of = _axis_numbers(items)
    chosen = [axis_of[p] for p in positions]
    before = [a for a in range(axis_of[positions[0]]) if a not in chosen] if adjacent else []
    rest = [a for a in range(sliced.ndim) if a not in chosen and a not in before]
    order = (*before, *chosen, *rest)
    moved = sd.transpose(sliced, order) if order != tuple(range(sliced.ndim)) else sliced
    taken = gather(moved, arrays, len(before))
    final = _numpy_shape(items, sliced.shape, axis_of, positions, common, adjacent)
    return taken if final == taken.shape else sd.reshape(taken, final)


def _axis_numbers(items: list[Any]) -> dict[int, int]:
    """Which axis of ``x`` each non-None item indexes."""
    numbers_of: dict[int, int] = {}
    for at, item in enumerate(items):
        if item is not None:
            numbers_of[at] = len(numbers_of)
    return numbers_of


def _numpy_shape(items: list[Any], sliced: Shape, axis_of: dict[int, int], positions: list[int],
                 common: Shape, adjacent: bool) -> Shape:
    """NumPy's result shape: the basic dims (a 1 per None) in item order, with the broadcast
    index shape at the first array's place when the arrays are adjacent, else first."""
    shape: list[int] = [] if adjacent else list(common)
    for at, item in enumerate(items):
        if item is None:
            shape.append(1)
        elif at == positions[0] and adjacent:
            shape.extend(common)
        elif at not in positions:
            shape.append(sliced[axis_of[at]])
    return tuple(shape)


def take(a: Any, indices: Any, axis: int | None = None) -> Node:
    """``np.take``: ``a.ravel()[indices]`` for ``axis=None``, else ``indices`` along ``axis``."""
    x = sd.as_node(a, "take argument")
    if axis is None:
        x, axis = sd.ravel(x), 0
    axis = sd._axis(axis, x, "take")
    return gather(x, [integer_index(indices, x.shape[axis], "take indices")], axis)


def positions(shape: Shape) -> Node:
    """0, 1, ... along the one axis of ``shape`` that is not 1: a constant, or made at run time
    where that axis has a named size."""
    size = math.prod(shape)
    if not isinstance(size, Dim):
        return make_const(np.arange(size, dtype=np.int64).reshape(shape))
    return sd.apply("arange", [], (shape,))


def _arange_printer(a: Sequence[str], node: Node) -> str:
    shape = node.attrs[0]
    return f"{spelled('reshape')}({spelled('arange')}({math.prod(shape)}), {shape_text(shape)})"


# positions along a named axis (take_along_axis's broadcast index): only graphs with named dimensions make it
register(Op("arange", attr_shape, _arange_printer, lambda g, y: (), dtype=INT, kind=STRUCTURE))


def take_along_axis(arr: Any, indices: Any, axis: int | None) -> Node:
    """``np.take_along_axis``: ``indices`` has ``arr``'s number of dimensions and broadcasts with it."""
    x = sd.as_node(arr, "take_along_axis argument")
    if axis is None:
        x, axis = sd.ravel(x), 0
    axis = sd._axis(axis, x, "take_along_axis")
    index = integer_index(indices, x.shape[axis], "take_along_axis indices")
    if index.ndim != x.ndim:
        raise ShapeError(f"take_along_axis: indices have {index.ndim} dimensions, the array {x.ndim}")
    arrays: list[Node] = []
    for a in range(x.ndim):
        if a == axis:
            arrays.append(index)
        else:
            shape = [1] * x.ndim
            shape[a] = x.shape[a]
            arrays.append(positions(tuple(shape)))
    try:
        common = broadcast_shapes(*(i.shape for i in arrays))
    except ShapeError:
        raise ShapeError(f"take_along_axis: indices of shape {index.shape} do not broadcast with the array of "
                         f"shape {x.shape} off axis {axis}") from None
    return gather(x, [_broadcast_index(i, common) for i in arrays], 0)


def _broadcast_index(index: Node, shape: Shape) -> Node:
    if index.shape == shape:
        return index
    if index.value is not None:  # a constant: broadcast now, one array in the program
        return make_const(np.ascontiguousarray(np.broadcast_to(index.value, shape)))
    return sd.broadcast_to(index, shape)


interop.provide({"take": take, "take_along_axis": take_along_axis})
