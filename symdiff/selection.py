"""``np.partition`` on nodes, and ``count_nonzero``.

``partition`` prints NumPy's own call, so the values are NumPy's, order of the other elements
included; its gradient goes back through ``np.argpartition`` with the same ``kth``, which
selects the same permutation (introselect on the same values). As for ``sort``, two ops move a
cotangent along that permutation and back, each the other's VJP, so it differentiates again.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff import batch as batching
from symdiff import interop
from symdiff.dims import Dim, DimensionError
from symdiff.errors import ShapeError, UnsupportedError
from symdiff.graph import INT, Node
from symdiff.ops import INTEGERS, LAYOUT, REDUCTION, SORTS, Op, reduced, register, same_shape
from symdiff.printers import ATOM, spelled
from symdiff.sparsity_rules import along_axis_rule

__all__ = ["count_nonzero", "partition"]


def _order(text: str, node: Node) -> str:
    axis, kth = node.attrs
    return f"{spelled('argpartition')}({text}, {list(kth)}, axis={axis})"


def _take(a: Sequence[str], node: Node) -> str:
    return f"{spelled('take_along_axis')}({a[0]}, {_order(a[1], node)}, axis={node.attrs[0]})"


def _put(a: Sequence[str], node: Node) -> str:  # the argsort of a permutation is its inverse
    inverse = f"{spelled('argsort')}({_order(a[1], node)}, axis={node.attrs[0]})"
    return f"{spelled('take_along_axis')}({a[0]}, {inverse}, axis={node.attrs[0]})"


# NumPy only: numba's partition takes no axis, and the array API standard has no partition
MOVES: dict[str, Any] = {"kind": LAYOUT, "layout": True, "strong_zeros": True, "refused": ("numba", "array_api"),
                         "batch": batching.axis_rule, "convention": SORTS, "sparsity": along_axis_rule}
register(Op("partition", same_shape,
            lambda a, n: f"{spelled('partition')}({a[0]}, {list(n.attrs[1])}, axis={n.attrs[0]})",
            lambda g, y, x: (sd.apply("partition_put", [g, x], y.attrs),), arg_prec=(ATOM,), **MOVES))
register(Op("partition_take", same_shape, _take,
            lambda g, y, v, key: (sd.apply("partition_put", [g, key], y.attrs), None), **MOVES))
register(Op("partition_put", same_shape, _put,
            lambda g, y, v, key: (sd.apply("partition_take", [g, key], y.attrs), None), **MOVES))


def partition(a: Any, kth: Any, axis: int | None = -1, kind: str = "introselect", order: None = None) -> Node:
    """``np.partition``: the ``kth`` elements in their sorted places, smaller ones before, larger after."""
    node = sd.as_node(a, "partition argument")
    if kind != "introselect":
        raise UnsupportedError(f"partition: kind must be 'introselect', got {sd._shown(kind)}")
    if order is not None:
        raise UnsupportedError("partition: order= (field names of structured arrays) is not supported")
    if axis is None:
        node, axis = sd.ravel(node), 0
    if node.ndim == 0:
        raise ShapeError("partition of a scalar: give an array of at least one dimension")
    ax = sd._axis(axis, node, "partition")
    n = node.shape[ax]
    if isinstance(n, Dim):
        raise DimensionError(f"partition: axis {ax} has the named size {n}, and kth needs a concrete length to be "
                             "checked against; sort the axis instead")
    items = sd._items(kth)
    picks = []
    for item in items if items is not None else (kth,):
        try:
            k = operator.index(item)
        except TypeError:
            raise ShapeError(f"partition: kth must be ints, got {sd._shown(kth)}") from None
        if isinstance(item, (bool, np.bool_)) or not -n <= k < n:
            raise ShapeError(f"partition: kth {sd._shown(item)} is out of bounds for an axis of length {n}")
        picks.append(k % n)
    return node if n <= 1 else sd.apply("partition", [node], (ax, tuple(picks)))


def _count_printer(a: Sequence[str], node: Node) -> str:
    axes, keepdims = node.attrs
    whole = len(axes) == node.inputs[0].ndim
    axis = "" if whole and not keepdims else f", axis={axes}"
    return f"{spelled('count_nonzero')}({a[0]}{axis}{', keepdims=True' if keepdims else ''})"


register(Op("count_nonzero", reduced, _count_printer, lambda g, y, x: (None,), arg_prec=(ATOM,), dtype=INT,
            kind=REDUCTION, refused=("numba", "array_api"), convention=INTEGERS))


def count_nonzero(a: Any, axis: Any = None, *, keepdims: bool = False) -> Node:
    """``np.count_nonzero``: an int64 node, the number of non-zero (true) elements."""
    node = sd.as_node(a, "count_nonzero argument")
    axes = sd._axes(axis, node, "count_nonzero")
    return sd.apply("count_nonzero", [node], (axes, sd._flag(keepdims, "count_nonzero keepdims")))


interop.provide({"partition": partition, "count_nonzero": count_nonzero})
