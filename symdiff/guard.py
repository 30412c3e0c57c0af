"""Safe-input substitution inside ``where`` branches (DESIGN §8, approach a).

``where(x > 0, log(x), 0)`` at ``x = -1`` must give a finite gradient and no
RuntimeWarning. Inside each branch, every singular op (``log``, ``sqrt``, a
denominator, ...) gets its input replaced by ``where(cond, x, safe)`` with
``safe`` inside its domain, so neither sweep evaluates it outside the domain.
The values the ``where`` selects are unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import symdiff.api as sd
from symdiff.errors import ShapeError
from symdiff.graph import FLOAT, Node, toposort
from symdiff.ops import OPS, broadcast_shapes


def guard_where(roots: Sequence[Node], order: list[Node] | None = None) -> list[Node]:
    """Return ``roots`` rebuilt with every ``where`` branch guarded (``order``: their toposort, if known)."""
    order = toposort(roots) if order is None else order
    if not any(n.op == "where" for n in order):
        return list(roots)
    new: dict[Node, Node] = {}
    for node in order:
        inputs = [new[i] for i in node.inputs]
        if node.op == "where":
            cond, taken, other = inputs
            inputs = [cond, _guard_branch(taken, cond), _guard_branch(other, sd.logical_not(cond))]
        new[node] = sd.rebuild(node, inputs)
    return [new[r] for r in roots]


def _guard_branch(branch: Node, cond: Node) -> Node:
    """Rebuild ``branch`` so its singular ops only ever see in-domain inputs where ``cond`` is false."""
    rebuilt: dict[Node, Node] = {}
    for node in toposort([branch]):
        inputs = [rebuilt[i] for i in node.inputs]
        guard = OPS[node.op].guard if node.op in OPS else None
        if guard and not _exempt(node):
            for position, safe in guard.items():
                x = inputs[position]
                if x.dtype == FLOAT and x.op != "const" and _covers(x.shape, cond.shape):
                    inputs[position] = sd.where(cond, x, safe)
        rebuilt[node] = sd.rebuild(node, inputs)
    return rebuilt[branch]


def _exempt(node: Node) -> bool:
    """``x ** n`` for a whole n >= 0 is defined everywhere: no guard needed."""
    if node.op != "power":
        return False
    value = node.inputs[1].value
    return value is not None and bool(np.all((value == np.round(value)) & (value >= 0)))


def _covers(shape: tuple[int, ...], cond_shape: tuple[int, ...]) -> bool:
    """A guard may not change the input's shape, so the condition must broadcast into it."""
    try:
        return broadcast_shapes(shape, cond_shape) == shape
    except ShapeError:
        return False

