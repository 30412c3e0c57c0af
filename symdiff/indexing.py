"""Indexing builders: ``x[...]``, take, scatter, iteration and ``len``, and ``describe``."""

from __future__ import annotations

import builtins
import numbers
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from symdiff.api import (  # defined before api imports this module
    ArrayLike,
    _shown,
    apply,
    as_node,
)
from symdiff.dims import Dim, DimensionError, slice_length
from symdiff.errors import GraphError, ShapeError, UnsupportedError
from symdiff.graph import (
    TUPLE,
    Node,
    Shape,
    short_text,
)
from symdiff.shaping import reshape


def _index_attrs(shape: Shape, index: Any) -> tuple[Any, ...]:
    items = list(index) if isinstance(index, tuple) else [index]
    for item in items:
        plain = isinstance(item, (numbers.Integral, slice)) and not isinstance(item, (bool, np.bool_))
        if item is not Ellipsis and not plain:
            raise UnsupportedError(f"index {_shown(item)}: only ints, slices, None and ... are supported (no arrays)")
    ellipses = [i for i, item in enumerate(items) if item is Ellipsis]
    if len(ellipses) > 1:
        raise UnsupportedError("an index may hold only one Ellipsis")
    if ellipses:
        at = ellipses[0]
        items[at : at + 1] = [slice(None)] * (len(shape) - (len(items) - 1))
    if len(items) > len(shape):
        raise ShapeError(f"too many indices ({len(items)}) for shape {shape}")
    attrs: list[Any] = []
    for dim, item in zip(shape, items):  # noqa: B905 (fewer items than dims: the rest are whole)
        if isinstance(dim, Dim):
            attrs.append(_named_item(item, dim, shape))
            continue
        if isinstance(item, slice):
            try:
                start, stop, step = item.indices(dim)
            except ValueError:  # a zero step, which NumPy refuses with a ValueError too
                raise ShapeError(f"index {_shown(item)} for shape {shape}: slice step cannot be zero") from None
            except TypeError:
                raise UnsupportedError(f"index {_shown(item)}: slice bounds must be ints or None") from None
            forward = step > 0
            if not len(range(start, stop, step)):  # empty; a negative step's start may then be -1, not "the last"
                attrs.append((0, 0, None))
                continue
            attrs.append((
                None if start == (0 if forward else dim - 1) else start,
                None if stop == (dim if forward else -1) else stop,
                None if step == 1 else step,
            ))
        else:
            if not -dim <= int(item) < dim:
                raise ShapeError(f"index {_shown(int(item))} is out of range for axis of length {dim} in shape {shape}")
            attrs.append(int(item) % dim)
    while attrs and attrs[-1] == (None, None, None):
        attrs.pop()
    return tuple(attrs)


def _named_item(item: Any, dim: Dim, shape: Shape) -> Any:
    """An index item on a named axis, kept as written (``x[-3:]``, ``x[-1]``): the printed index
    means what it says once the call has checked that the axis is long enough."""
    if not isinstance(item, slice):
        return int(item)
    for bound in (item.start, item.stop, item.step):
        if bound is not None and not (isinstance(bound, numbers.Integral) and not isinstance(bound, bool)):
            raise UnsupportedError(f"index {_shown(item)}: slice bounds must be ints or None")
    if item.step == 0:
        raise ShapeError(f"index {_shown(item)} for shape {shape}: slice step cannot be zero")
    canonical = tuple(None if v is None else int(v) for v in (item.start, item.stop, item.step))
    start, stop, step = canonical
    if step == -1 and start is None and stop is None:
        return canonical
    if step == 1:
        step = None
    slice_length((start, stop, step), dim)  # a DimensionError for a step it cannot take
    return (None if start == 0 else start, stop, step)


def getitem(x: ArrayLike, index: Any) -> Node:
    node = as_node(x, "indexed value")
    items = list(index) if isinstance(index, tuple) else [index]
    if builtins.any(isinstance(item, (list, np.ndarray, Node)) for item in items):
        from symdiff.gather import advanced_getitem  # gather builds on this module

        return advanced_getitem(node, items)
    if not any(item is None for item in items):
        return take(node, _index_attrs(node.shape, index))
    # None (np.newaxis) adds a unit axis where it stands: index without them, then reshape
    taken = take(node, _index_attrs(node.shape, tuple(item for item in items if item is not None)))
    return reshape(taken, _with_new_axes(items, node.ndim, taken.shape))


def _with_new_axes(items: list[Any], ndim: int, taken: Shape) -> tuple[int, ...]:
    """The shape NumPy gives ``x[items]``: ``taken`` (the shape without the Nones) with a 1 for
    each None, placed among the axes as the items place it."""
    consumed = sum(1 for item in items if item is not None and item is not Ellipsis)
    expanded: list[Any] = []
    for item in items:
        expanded += [slice(None)] * (ndim - consumed) if item is Ellipsis else [item]
    dims = iter(taken)
    shape: list[int] = []
    for item in expanded:
        if item is None:
            shape.append(1)
        elif isinstance(item, slice):
            shape.append(next(dims))
    return (*shape, *dims)  # the axes no item reached


def take(node: Node, index: tuple[Any, ...]) -> Node:
    """Basic indexing with canonical index attrs (ints and (start, stop, step) triples)."""
    if not index:
        return node
    return apply("getitem", [node], (index,))


def scatter(g: Node, shape: Shape, index: tuple[Any, ...]) -> Node:
    """Zeros of ``shape`` with ``g`` written at ``index``: the adjoint of indexing."""
    return apply("scatter", [g], (shape, (index,)))


def scatter_sum(parts: Sequence[Node]) -> Node:
    """One buffer for many scatters into the same shape: ``x[0] + x[1] + ...`` costs O(n), not O(n^2)."""
    inputs = [g for p in parts for g in p.inputs]
    indices = tuple(index for p in parts for index in p.attrs[1])
    return apply("scatter", inputs, (parts[0].attrs[0], indices))


def iterate(x: Node) -> Iterator[Node]:
    for i in builtins.range(length(x)):
        yield take(x, (i,))


def length(x: Node) -> int:
    if x.dtype == TUPLE:
        raise GraphError(f"the tuple returned by split must be unpacked before use: {short_text(x)}")
    if x.ndim == 0:
        raise GraphError(f"len() of a scalar node: {short_text(x)}")
    if isinstance(x.shape[0], Dim):
        raise DimensionError(f"len() of {short_text(x)}, or iterating over it: its first axis has the named size "
                             f"{x.shape[0]}, known only when the function runs; index it or use a reduction instead")
    return int(x.shape[0])
