"""NumPy functions built from ops already in the table, so they add no derivative rule.

``clip``, ``dot``, ``outer``, ``trace``, ``diag``, ``stack`` and ``einsum`` with one or two
operands. ``einsum`` multiplies the operands with their axes lined up by broadcasting and sums
the contracted ones: simple, and every derivative follows, but its temporary spans all the
subscripts (``ij,jk->ik`` holds i*j*k numbers); use ``@`` for large matrix products.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff.errors import ShapeError, UnsupportedError
from symdiff.graph import Node, short_text


def clip(x: Any, lo: Any = None, hi: Any = None) -> Node:
    """``minimum(maximum(x, lo), hi)``; either bound may be None. The gradient is 0 outside."""
    node = sd.as_node(x, "clip argument")
    if lo is not None:
        node = sd.maximum(node, lo)
    if hi is not None:
        node = sd.minimum(node, hi)
    return node


def dot(a: Any, b: Any) -> Node:
    """``np.dot`` for scalars, vectors and matrices."""
    x, y = sd.as_node(a, "dot first argument"), sd.as_node(b, "dot second argument")
    if x.ndim == 0 or y.ndim == 0:
        return x * y
    if x.ndim > 2 or y.ndim > 2:
        raise UnsupportedError("dot of arrays with more than 2 dimensions; use sd.matmul or sd.einsum")
    return sd.matmul(x, y)


def outer(a: Any, b: Any) -> Node:
    """``np.outer``: both arguments flattened."""
    x, y = sd.as_node(a, "outer first argument"), sd.as_node(b, "outer second argument")
    return sd.reshape(x, (x.size, 1)) * sd.reshape(y, (y.size,))


def trace(x: Any) -> Node:
    """The sum of a matrix's diagonal."""
    node = _matrix(x, "trace")
    rows, cols = node.shape
    return sd.sum(node * _identity(rows, cols, f"trace of {short_text(node, 2)}"))


def diag(x: Any) -> Node:
    """``np.diag``: a vector becomes a diagonal matrix, a matrix gives its diagonal."""
    node = sd.as_node(x, "diag argument")
    if node.ndim == 1:
        return sd.reshape(node, (node.size, 1)) * _identity(node.size, node.size, f"diag of {short_text(node, 2)}")
    node = _matrix(node, "diag")
    k = min(node.shape)
    square = node if node.shape == (k, k) else node[:k, :k]
    return sd.sum(square * _identity(k, k, "diag"), axis=1)


EYE_LIMIT = 2**16  # entries: a smaller identity is a constant of the generated code


def _identity(rows: int, cols: int, what: str) -> Any:
    """The rows x cols identity: a constant when small, else compared from two ranges at call time,
    so that building allocates O(rows + cols) and not O(rows * cols)."""
    sd._check_size((rows, cols), what)
    if rows * cols <= EYE_LIMIT:
        return np.eye(rows, cols)
    indices = sd.as_node(np.arange(float(max(rows, cols))))
    return sd.tofloat(sd.equal(sd.reshape(indices[:rows], (rows, 1)), indices[:cols]))


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


def einsum(subscripts: str, *operands: Any) -> Node:
    """``np.einsum`` for one or two operands, explicit (``ij,jk->ik``) or implicit (``ij,jk``)."""
    if len(operands) not in (1, 2):
        raise UnsupportedError(f"einsum takes one or two operands here, got {len(operands)}")
    if not isinstance(subscripts, str):
        raise UnsupportedError(f"einsum: subscripts must be a string such as 'ij,jk->ik', got {sd._shown(subscripts)}")
    inputs, output = _parse(subscripts, len(operands))
    nodes = [sd.as_node(o, f"einsum operand {i}") for i, o in enumerate(operands)]
    letters: list[str] = []
    for labels in inputs:
        letters += [c for c in labels if c not in letters]
    sizes: dict[str, int] = {}
    lined: list[Node] = []
    for labels, node in zip(inputs, nodes, strict=True):
        if len(labels) != node.ndim:
            raise ShapeError(f"einsum: subscripts {labels!r} for an operand of shape {node.shape}")
        for letter, size in zip(labels, node.shape, strict=True):
            if sizes.setdefault(letter, size) != size:
                raise ShapeError(f"einsum: index {letter!r} has sizes {sizes[letter]} and {size}")
        order = sorted(range(len(labels)), key=lambda i: letters.index(labels[i]))
        moved = sd.transpose(node, tuple(order)) if order != list(range(len(labels))) else node
        lined.append(sd.reshape(moved, tuple(sizes[c] if c in labels else 1 for c in letters)))
    product = lined[0] if len(lined) == 1 else lined[0] * lined[1]
    full = sd.broadcast_to(product, tuple(sizes[c] for c in letters))
    summed = tuple(i for i, c in enumerate(letters) if c not in output)
    result = sd.sum(full, axis=summed) if summed else full
    kept = [c for c in letters if c in output]
    final = tuple(kept.index(c) for c in output)
    return sd.transpose(result, final) if final != tuple(range(len(final))) else result


def _parse(subscripts: str, count: int) -> tuple[list[str], str]:
    text = subscripts.replace(" ", "")
    left, arrow, right = text.partition("->")
    inputs = left.split(",")
    if len(inputs) != count or not all(s.isalpha() or s == "" for s in [*inputs, right]):
        raise UnsupportedError(f"einsum subscripts {subscripts!r}: letters only, one group per operand, no '...'")
    if any(len(set(s)) != len(s) for s in inputs):
        raise UnsupportedError(f"einsum subscripts {subscripts!r}: a repeated index within one operand (a diagonal)")
    every = "".join(inputs)
    if not arrow:
        right = "".join(sorted(c for c in set(every) if every.count(c) == 1))
    if len(set(right)) != len(right) or any(c not in every for c in right):
        raise UnsupportedError(f"einsum subscripts {subscripts!r}: bad output indices {right!r}")
    return inputs, right


def _matrix(x: Any, what: str) -> Node:
    node = sd.as_node(x, f"{what} argument")
    if node.ndim != 2:
        raise ShapeError(f"{what} needs a matrix, got shape {node.shape}")
    return node
