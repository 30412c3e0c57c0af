"""Batching: a graph evaluated for ``k`` values of one variable at once, along a new leading axis.

``batch(roots, variable, values)`` substitutes ``values`` (shape ``(k, *variable.shape)``) for
``variable``. Every node that depends on it is rebuilt with a leading axis of length ``k``:
elementwise ops and reductions by their kind, the others by the rule their op record names
(the ``*_rule`` functions here); the rest of the graph is shared as it is. This is how
``jacobian`` and ``hessian`` seed a whole identity matrix through one pullback or one
directional derivative, instead of building one graph per row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import symdiff.api as sd
from symdiff.errors import ShapeError, UnsupportedError
from symdiff.graph import Node, graph_window, toposort
from symdiff.ops import ELEMENTWISE, OPS, REDUCTION

Rule = Callable[[Node, list[Node], list[bool], int], Node]


def batch(roots: Sequence[Node], variable: Node, values: Node) -> list[Node]:
    """``roots`` with ``variable`` replaced by the batch ``values``; each result has the batch axis first."""
    return batch_all(roots, {variable: values})


def batch_all(roots: Sequence[Node], replaced: dict[Node, Node]) -> list[Node]:
    """``batch`` for several variables at once (a loop body's placeholders), each replaced by a
    batch of ``k`` of its values."""
    sizes = set()
    for variable, values in replaced.items():
        if values.shape[1:] != variable.shape or values.ndim != variable.ndim + 1:
            raise ShapeError(f"batch values of shape {values.shape} do not stack values of shape {variable.shape}")
        sizes.add(values.shape[0])
    if len(sizes) != 1:
        raise ShapeError(f"batches of different sizes {sorted(sizes, key=str)}")
    (k,) = sizes
    new: dict[Node, Node] = dict(replaced)
    batched = set(replaced)
    for node in toposort(roots):
        if node in replaced or not node.inputs:
            continue
        flags = [i in batched for i in node.inputs]
        if not any(flags):
            continue
        rule = _rule(node)
        new[node] = rule(node, [new.get(i, i) for i in node.inputs], flags, k)
        batched.add(node)
    return [new[r] if r in batched else sd.broadcast_to(r, (k, *r.shape)) for r in roots]


def _rule(node: Node) -> Rule:
    op = OPS[node.op]
    if op.batch is not None:
        return op.batch
    if op.kind == ELEMENTWISE:
        return _elementwise
    if op.kind == REDUCTION:
        return _reduction
    raise UnsupportedError(f"op '{node.op}' cannot be batched (jacobian, hessian)\n{graph_window(node)}")


def _align(x: Node, flag: bool, k: int, ndim: int) -> Node:
    """A batched operand padded with unit axes after the batch axis, so broadcasting lines it up."""
    pad = ndim - (x.ndim - 1)
    return sd.reshape(x, (k, *([1] * pad), *x.shape[1:])) if flag and pad > 0 else x


def _stacked(x: Node, flag: bool, k: int) -> Node:
    return x if flag else sd.broadcast_to(x, (k, *x.shape))


def _elementwise(node: Node, inputs: list[Node], flags: list[bool], k: int) -> Node:
    return sd.rebuild(node, [_align(x, f, k, node.ndim) for x, f in zip(inputs, flags, strict=True)])


def _reduction(node: Node, inputs: list[Node], flags: list[bool], k: int) -> Node:
    axes, keepdims = node.attrs
    return sd.apply(node.op, [inputs[0]], (tuple(a + 1 for a in axes), keepdims))


def axis_rule(node: Node, inputs: list[Node], flags: list[bool], k: int) -> Node:
    """Ops along one axis (sort, partition, cumsum; attrs[0] is the axis): every input stacked to
    the batch axis, the op's axis one further on, its other attrs as they are."""
    parts = [_stacked(x, f, k) for x, f in zip(inputs, flags, strict=True)]
    return sd.apply(node.op, parts, (node.attrs[0] + 1, *node.attrs[1:]))


def reshape_rule(node: Node, inputs: list[Node], flags: list[bool], k: int) -> Node:
    return sd.reshape(inputs[0], (k, *node.attrs[0]))


def transpose_rule(node: Node, inputs: list[Node], flags: list[bool], k: int) -> Node:
    return sd.transpose(inputs[0], (0, *(a + 1 for a in node.attrs[0])))


def broadcast_to_rule(node: Node, inputs: list[Node], flags: list[bool], k: int) -> Node:
    return sd.broadcast_to(_align(inputs[0], True, k, node.ndim), (k, *node.attrs[0]))


def getitem_rule(node: Node, inputs: list[Node], flags: list[bool], k: int) -> Node:
    return sd.take(inputs[0], ((None, None, None), *node.attrs[0]))


def scatter_rule(node: Node, inputs: list[Node], flags: list[bool], k: int) -> Node:
    shape, indices = node.attrs
    parts = [_stacked(x, f, k) for x, f in zip(inputs, flags, strict=True)]
    return sd.apply("scatter", parts, ((k, *shape), tuple(((None, None, None), *index) for index in indices)))


def concatenate_rule(node: Node, inputs: list[Node], flags: list[bool], k: int) -> Node:
    parts = [_stacked(x, f, k) for x, f in zip(inputs, flags, strict=True)]
    return sd.concatenate(parts, axis=node.attrs[0] + 1)


def split_rule(node: Node, inputs: list[Node], flags: list[bool], k: int) -> Node:
    cuts, axis = node.attrs
    return sd.apply("split", [inputs[0]], (cuts, axis + 1))


def item_rule(node: Node, inputs: list[Node], flags: list[bool], k: int) -> Node:
    return sd.apply("item", inputs, node.attrs)


def matmul_rule(node: Node, inputs: list[Node], flags: list[bool], k: int) -> Node:
    (a, b), (fa, fb) = inputs, flags
    da, db = (a.ndim - 1 if fa else a.ndim), (b.ndim - 1 if fb else b.ndim)
    if fa and fb and da == db == 1:
        return sd.sum(a * b, axis=1)
    if fa and not fb and da == 1 and db <= 2:
        return sd.matmul(a, b)  # rows of a times b
    if fb and not fa and db == 1 and da <= 2:
        return sd.matmul(b, a if da == 1 else _swap_last(a))  # a @ each row of b, as rows
    # the general case: vectors as matrices, batch axes lined up, the product reshaped back
    a2 = sd.reshape(a, (k, 1, a.shape[-1]) if fa else (1, a.shape[-1])) if da == 1 else a
    b2 = sd.reshape(b, (k, b.shape[-1], 1) if fb else (b.shape[-1], 1)) if db == 1 else b
    rank = max(a2.ndim - fa, b2.ndim - fb)
    return sd.reshape(sd.matmul(_align(a2, fa, k, rank), _align(b2, fb, k, rank)), (k, *node.shape))


def _swap_last(x: Node) -> Node:
    return sd.transpose(x, (*range(x.ndim - 2), x.ndim - 1, x.ndim - 2))
