"""Reverse mode: adjoint *nodes* for every node between an output and the ``wrt`` variables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import symdiff.api as sd
from symdiff.errors import NoVJPError, ShapeError
from symdiff.graph import TUPLE, Node, graph_window, toposort
from symdiff.guard import Guarded
from symdiff.ops import OPS


class Reverse(NamedTuple):
    """The reverse pass's result."""

    cotangents: dict[Node, Node]  # forward node -> its adjoint node
    origin: dict[Node, Node]  # each new reverse-sweep node -> the forward node whose VJP built it


def adjoints(output: Node, wrt: Sequence[Node], seed: Node, order: list[Node] | None = None,
             branches: Guarded | None = None) -> Reverse:
    """Walk once in reverse topological order, accumulating each node's cotangent.

    Only nodes on a path from a ``wrt`` variable to ``output`` receive adjoints: data
    inputs and constants get none, and no zero arrays are built for them. ``branches`` (from
    ``guard``) masks the contributions that leave a where-branch with its condition, so the
    untaken side adds strong zeros.
    """
    guarded = Guarded([output], {}) if branches is None else branches
    order = toposort([output]) if order is None else order
    known = set(order)
    origin: dict[Node, Node] = {}
    active = depends_on(order, set(wrt))
    adjoint: dict[Node, Node] = {}
    pending: dict[Node, list[Node]] = {output: [seed]} if output in active else {}
    slots: dict[Node, list[Node | None]] = {}  # per-output cotangents of split nodes
    weak: set[Node] = set()  # nodes given a part that may be non-zero where their branch is unused
    for node in reversed(order):
        parts = pending.pop(node, None)
        strong = node not in weak
        if parts is not None:
            adjoint[node], strong = guarded.cotangent(node, _total(parts), strong)
            _attribute([adjoint[node]], None, known, origin)  # a sum of parts: no single VJP made it
        if node.op == "item":
            _collect_item(slots, node, adjoint.get(node))
            continue
        cotangent = slots.get(node) if node.dtype == TUPLE else adjoint.get(node)
        if cotangent is None or not node.inputs:
            continue
        op = OPS[node.op]
        if op.vjp is None:
            raise NoVJPError(f"op '{node.op}' has no VJP rule; it appears in\n{graph_window(node)}")
        contributions = op.vjp(cotangent, node, *node.inputs)
        if len(contributions) != len(node.inputs):
            raise NoVJPError(
                f"the VJP of '{node.op}' returned {len(contributions)} entries for {len(node.inputs)} inputs"
                f"\n{graph_window(node)}"
            )
        for position, (child, part) in enumerate(zip(node.inputs, contributions, strict=True)):
            if part is None or child not in active:
                continue
            part, kept = guarded.contribution(node, child, sd.as_node(part), strong)
            fitted = _fit(part, child, node, position)
            if not kept:
                weak.add(child)
            pending.setdefault(child, []).append(fitted)
            _attribute([fitted], node, known, origin)
    return Reverse(adjoint, origin)


def _total(parts: list[Node]) -> Node:
    """Sum a node's cotangent contributions, once, when the walk reaches it.

    Scatters (adjoints of indexing) into one array share a single buffer, so summing
    ``x[0], x[1], ..., x[n]`` costs O(n) rather than n zero arrays.
    """
    scatters = [p for p in parts if p.op == "scatter"]
    terms = [p for p in parts if p.op != "scatter"]
    if scatters:
        terms.append(scatters[0] if len(scatters) == 1 else sd.scatter_sum(scatters))
    total = terms[0]
    for term in terms[1:]:
        total = sd.add(total, term)
    return total


def _attribute(roots: Iterable[Node], source: Node | None, known: set[Node], origin: dict[Node, Node]) -> None:
    """Record ``source`` as the origin of every node its VJP just built (for provenance comments)."""
    stack = [r for r in roots if r not in known]
    while stack:
        node = stack.pop()
        if node in known:
            continue
        known.add(node)
        if source is not None:
            origin[node] = source
        for child in node.inputs:
            if child not in known:
                stack.append(child)


def _collect_item(slots: dict[Node, list[Node | None]], item: Node, cotangent: Node | None) -> None:
    """One output of a multi-output op: its cotangent fills that output's slot."""
    if cotangent is None:
        return
    parent = item.inputs[0]
    parts = slots.setdefault(parent, [None] * len(parent.shape))
    existing = parts[item.attrs[0]]
    parts[item.attrs[0]] = cotangent if existing is None else sd.add(existing, cotangent)


def _fit(part: Node, child: Node, node: Node, position: int) -> Node:
    """Reduce a broadcast cotangent to the input's shape, and check the rule got it right."""
    if isinstance(part, Node) and part.shape == child.shape:
        return part
    try:
        fitted = sd.sum_to(sd.as_node(part), child.shape)
    except ShapeError:
        fitted = None
    if fitted is None or fitted.shape != child.shape:
        raise NoVJPError(
            f"the VJP of '{node.op}' gave input {position} a cotangent of shape {sd.as_node(part).shape}, "
            f"which does not reduce to the input's shape {child.shape}\n{graph_window(node)}"
        )
    return fitted


def depends_on(order: Sequence[Node], sources: set[Node]) -> set[Node]:
    """Nodes with a path from any of ``sources`` (``order`` is topological)."""
    active = set()
    for node in order:
        if node in sources or any(child in active for child in node.inputs):
            active.add(node)
    return active
