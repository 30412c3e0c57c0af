"""A loop body on small arrays, split into scalars: one node per entry.

An RK4 step on a state of two entries is about forty operations on arrays of two, each
costing NumPy's call overhead (a microsecond) for two flops. Split into its entries, the
same step is operations on scalars, which the NumPy backend runs on Python floats and numba
keeps in registers. ``split_body`` does this when every value in the body has a fixed shape
of at most ``SMALL`` entries and every op has a rule here: elementwise ops entry by entry,
layout ops (indexing, reshapes, stacks) by the entries they move, sums and means by adding
the entries they reduce, small matrix products written out. Anything else keeps the body
as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

import symdiff.api as sd
from symdiff.graph import BOOL, FLOAT, INT, TUPLE, Node, make_const, make_var, toposort
from symdiff.ops import ELEMENTWISE, OPS
from symdiff.sparsity_rules import along_axes_map, positions

SMALL = 16  # entries: an array this small is cheaper as scalars
SCALARS_MAX = 20000  # scalar nodes a split body may have; past it the arrays stay
# ops that move entries where their attributes say, whatever the values (a sort moves them by
# value, a gather by an index known at run time: neither is here)
MOVING = ("broadcast_to", "getitem", "reshape", "transpose", "concatenate", "split", "item", "scatter")


@dataclass(frozen=True)
class Split:
    """The scalar body's placeholders and outputs, entry by entry, for each array one."""

    carry_in: tuple[tuple[Node, ...], ...]
    x_in: tuple[tuple[Node, ...], ...]
    closed_in: tuple[tuple[Node, ...], ...]
    carry_out: tuple[tuple[Node, ...], ...]
    y_out: tuple[tuple[Node, ...], ...]


def split_body(carry_in: Sequence[Node], x_in: Sequence[Node], closed_in: Sequence[Node],
               carry_out: Sequence[Node], y_out: Sequence[Node]) -> Split | None:
    """The body entry by entry, or None where it is not small, already scalar, or has an op
    without a rule here."""
    placeholders = [*carry_in, *x_in, *closed_in]
    order = toposort([*carry_out, *y_out])
    nodes = [*placeholders, *order]
    if not all(_small(n) for n in nodes) or all(n.shape == () for n in nodes):
        return None
    entries: dict[Node, list[Node]] = {}
    for p in placeholders:
        entries[p] = [p] if p.shape == () else [make_var(f"{p.label}_{i}", (), p.dtype) for i in range(p.size)]
    made = 0
    for node in order:
        if node in entries:
            continue
        found = _entries(node, entries)
        if found is None:
            return None
        entries[node] = found
        made += len(found)
        if made > SCALARS_MAX:
            return None

    def of(group: Sequence[Node]) -> tuple[tuple[Node, ...], ...]:
        return tuple(tuple(entries[n]) for n in group)

    return Split(of(carry_in), of(x_in), of(closed_in), of(carry_out), of(y_out))


def _small(node: Node) -> bool:
    if node.dtype == TUPLE:
        return node.op == "split"
    return (node.dtype in (FLOAT, BOOL, INT) and all(isinstance(d, int) for d in node.shape)
            and node.size <= SMALL)


def _entries(node: Node, entries: dict[Node, list[Node]]) -> list[Node] | None:
    op = OPS.get(node.op)
    if node.op == "const":
        value = node.value
        return None if value is None else [make_const(np.asarray(v, dtype=value.dtype)) for v in value.ravel()]
    if op is None or node.op == "var":
        return None  # a variable the body did not close over, or an unknown op
    if node.dtype == TUPLE:  # a split: its pieces are read through item
        return []
    if op.kind == ELEMENTWISE:
        columns = [np.broadcast_to(positions(i.shape), node.shape).ravel() for i in node.inputs]
        return [sd.apply(node.op, [entries[i][int(c[e])] for i, c in zip(node.inputs, columns, strict=True)],
                         node.attrs) for e in range(node.size)]
    if node.op in ("sum", "mean"):
        (x,) = node.inputs
        slot, into = along_axes_map(node.shape, x.shape, node.attrs[0])
        total: list[Node | None] = [None] * node.size
        for s, i in zip(slot.tolist(), into.tolist(), strict=True):
            part = entries[x][i]
            total[s] = part if total[s] is None else total[s] + part
        count = x.size // max(node.size, 1)
        out = [t if t is not None else sd.as_node(0.0) for t in total]
        return [t / float(count) for t in out] if node.op == "mean" and count else out
    if node.op == "matmul":
        return _matmul(node, entries)
    if node.op in MOVING:
        return _moved(node, entries)
    return None


def _moved(node: Node, entries: dict[Node, list[Node]]) -> list[Node] | None:
    """A layout op: each output entry is one input entry, or zero where it holds none."""
    from symdiff.sparsity import layout_map

    if not all(i.dtype == FLOAT or i.value is not None for i in node.inputs):
        return None  # indexed by a node: which entry is read is known only at run time
    sources = [node.inputs[0].inputs[0]] if node.op == "item" else list(node.inputs)
    if node.dtype != FLOAT or any(s.dtype != FLOAT and s.value is None for s in sources):
        return None  # the map follows float entries only: a moved mask or index stays an array
    out: list[Node | None] = [None] * node.size
    for source, moved in zip(sources, layout_map(node), strict=True):
        if source.dtype != FLOAT:
            continue
        if moved is None:
            return None  # the probe could not tell which entries move where
        at, into = moved
        for e, i in zip(at.tolist(), into.tolist(), strict=True):
            out[e] = entries[source][i]
    zero = make_const(np.asarray(0.0))
    return [e if e is not None else zero for e in out]


def _matmul(node: Node, entries: dict[Node, list[Node]]) -> list[Node] | None:
    a, b = node.inputs
    if a.ndim > 2 or b.ndim > 2 or a.dtype != FLOAT or b.dtype != FLOAT:
        return None
    rows, inner = (1, a.shape[0]) if a.ndim == 1 else a.shape
    cols = 1 if b.ndim == 1 else b.shape[1]
    ea, eb = entries[a], entries[b]
    out = []
    for i in range(rows):
        for j in range(cols):
            total = ea[i * inner] * eb[j]
            for k in range(1, inner):
                total = total + ea[i * inner + k] * eb[k * cols + j]
            out.append(total)
    return out
