"""NumPy functions built from ops already in the table, so they add no derivative rule.

``clip``, ``outer``, ``select`` and ``stack``; ``dot`` and ``einsum`` are
``symdiff.products``' (matrix products in a greedy contraction order), kept here by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import symdiff.api as sd
from symdiff.errors import ShapeError, UnsupportedError
from symdiff.graph import Node


def clip(x: Any, lo: Any = None, hi: Any = None) -> Node:
    """``minimum(maximum(x, lo), hi)``; either bound may be None. The gradient is 0 outside."""
    node = sd.as_node(x, "clip argument")
    if lo is not None:
        node = sd.maximum(node, lo)
    if hi is not None:
        node = sd.minimum(node, hi)
    return node


def dot(a: Any, b: Any) -> Node:
    """``np.dot`` of any rank (``symdiff.products.dot``)."""
    from symdiff.products import dot as product  # products builds on stack below

    return product(a, b)


def outer(a: Any, b: Any) -> Node:
    """``np.outer``: both arguments flattened."""
    x, y = sd.as_node(a, "outer first argument"), sd.as_node(b, "outer second argument")
    return sd.reshape(x, (x.size, 1)) * sd.reshape(y, (y.size,))


def stack(arrays: Sequence[Any], axis: int = 0) -> Node:
    """``np.stack``: arrays of one shape joined along a new axis."""
    nodes = [sd.as_node(a, f"stack argument {i}") for i, a in enumerate(sd.array_list(arrays, "stack"))]
    if not nodes:
        raise ShapeError("stack needs at least one array")
    shape = nodes[0].shape
    if any(n.shape != shape for n in nodes):
        raise ShapeError(f"stack: every array must have shape {shape}, got {[n.shape for n in nodes]}")
    at = sd._axis(axis, nodes[0], "stack", ndim=len(shape) + 1)  # the new axis counts
    expanded = (*shape[:at], 1, *shape[at:])
    return sd.concatenate([sd.reshape(n, expanded) for n in nodes], axis=at)


def einsum(*operands: Any, **options: Any) -> Node:
    """``np.einsum`` in every form (``symdiff.products.einsum``)."""
    from symdiff.products import einsum as product

    return product(*operands, **options)


def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> Node:
    """``np.select``: the first choice whose condition holds, else ``default``; nested ``where``s."""
    conditions = sd.array_list(condlist, "select condlist")
    choices = sd.array_list(choicelist, "select choicelist")
    if len(conditions) != len(choices):
        raise ShapeError(f"select: {len(conditions)} conditions for {len(choices)} choices")
    result = sd.as_node(default, "select default")
    for i in reversed(range(len(conditions))):  # the first true condition wins: it is applied last
        cond = sd.as_node(conditions[i], f"select condition {i}")
        if cond.dtype != "bool":
            raise UnsupportedError(f"select: condition {i} must be boolean, as in NumPy")
        result = sd.where(cond, sd.as_node(choices[i], f"select choice {i}"), result)
    return result
