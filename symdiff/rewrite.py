"""Compile-time rewrites for speed: equal mathematically, not bit for bit.

Unlike the exact construction-time rewrites, these change the order of floating-point
operations, so they run only when ``compile(..., rewrites=True)`` (the default) and the
generated header says which ones applied.

- ``sum(a * b)`` over the whole of two vectors of one shape becomes ``a @ b``: one BLAS dot
  instead of a temporary array and a reduction. ``sum(a ** 2)`` becomes ``a @ a``.
"""

from __future__ import annotations

from collections.abc import Sequence

import symdiff.api as sd
from symdiff.graph import FLOAT, Node, toposort


def dot_products(roots: Sequence[Node]) -> tuple[dict[Node, Node], int]:
    """Old node -> rebuilt node, with whole-vector sums of products as dot products; and how many."""
    new: dict[Node, Node] = {}
    made = 0
    for node in toposort(roots):
        inputs = [new[i] for i in node.inputs]
        pair = _vector_pair(node, inputs)
        if pair is not None:
            new[node] = sd.matmul(*pair)
            made += 1
        else:
            new[node] = sd.rebuild(node, inputs)
    return new, made


def _vector_pair(node: Node, inputs: list[Node]) -> tuple[Node, Node] | None:
    """The two vectors whose dot product ``node`` is, if it is ``sum(a * b)`` or ``sum(a ** 2)``."""
    if node.op != "sum" or node.shape != () or node.attrs[1]:
        return None
    (term,) = inputs
    if term.ndim != 1 or term.dtype != FLOAT:
        return None
    if term.op == "mul":
        a, b = term.inputs
        if a.shape == b.shape == term.shape and a.dtype == b.dtype == FLOAT:
            return a, b
    if term.op == "power":
        base, exponent = term.inputs
        if exponent.op == "const" and exponent.value is not None and exponent.value.shape == () \
                and float(exponent.value) == 2.0 and base.shape == term.shape:
            return base, base
    if term.op == "square" and term.inputs[0].shape == term.shape:
        return term.inputs[0], term.inputs[0]
    return None
