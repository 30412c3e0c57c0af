"""Which input entries each output entry of an op reads: the per-op facts behind ``sparsity``.

A rule takes a node and returns, per input, a dependency map ``(out, into)`` of two int64
arrays: output entry ``out[e]`` may depend on input entry ``into[e]`` (flat C-order
positions). ``None`` for an input means every output entry may read every entry of it. A
rule may be conservative (list a pair that is always zero) but never miss one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from symdiff.graph import FLOAT, Node
from symdiff.printers import to_index

DepMap = tuple[np.ndarray, np.ndarray] | None
PAIRS_LISTED = 1 << 24  # a rule lists at most this many candidate pairs before it falls back to "all"


def positions(shape: Sequence[int]) -> np.ndarray:
    return np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.int64).reshape(tuple(shape))


def broadcast_map(out_shape: Sequence[int], in_shape: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Output entry i reads the input entry NumPy broadcasting puts at i."""
    out = np.arange(int(np.prod(out_shape, dtype=np.int64)), dtype=np.int64)
    return out, np.broadcast_to(positions(in_shape), tuple(out_shape)).ravel()


def along_axes_map(out_shape: Sequence[int], in_shape: Sequence[int], axes: Sequence[int]) -> tuple[
        np.ndarray, np.ndarray]:
    """Output entries read every input entry that agrees with them off ``axes`` (a reduction; with
    ``out_shape == in_shape``, a conservative rule for sort, cumsum and partition along an axis)."""
    kept = tuple(1 if a in axes else d for a, d in enumerate(in_shape))
    slot = np.broadcast_to(np.arange(int(np.prod(kept, dtype=np.int64)), dtype=np.int64).reshape(kept),
                           tuple(in_shape)).ravel()
    into = np.arange(slot.size, dtype=np.int64)
    if tuple(out_shape) == tuple(in_shape):  # each output reads its whole fibre: expand the slots
        fibre = np.argsort(slot, kind="stable")
        counts = np.bincount(slot, minlength=int(np.prod(kept, dtype=np.int64)))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        width = counts[slot]
        out = np.repeat(into, width)
        first = np.repeat(starts[slot], width)
        step = np.arange(out.size, dtype=np.int64) - np.repeat(np.cumsum(width) - width, width)
        return out, fibre[first + step]
    return slot, into


def reduction_rule(node: Node) -> list[DepMap]:
    (x,) = node.inputs
    return [along_axes_map(node.shape, x.shape, node.attrs[0])]


def along_axis_rule(node: Node) -> list[DepMap]:
    """sort, cumsum and their kin along ``attrs[0]``: every entry of a fibre reads the whole fibre.
    A second input is the sort key, which only orders: no derivative flows into it."""
    x = node.inputs[0]
    nothing = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    return [along_axes_map(x.shape, x.shape, (node.attrs[0] % max(x.ndim, 1),)), *([nothing] * (len(node.inputs) - 1))]


def matmul_rule(node: Node) -> list[DepMap]:
    """out[..., i, j] reads a[..., i, k] and b[..., k, j] for every k where the other factor may be
    non-zero: a constant factor's zeros remove pairs."""
    a, b = node.inputs
    a2 = a.shape if a.ndim > 1 else (1, *a.shape)
    b2 = b.shape if b.ndim > 1 else (*b.shape, 1)
    batch = np.broadcast_shapes(a2[:-2], b2[:-2])
    m, k, p = a2[-2], a2[-1], b2[-1]
    if int(np.prod(batch, dtype=np.int64)) * m * k * p > PAIRS_LISTED:
        return [None, None]  # too many to list: every output reads both factors (the caller may refuse)
    a_pos = np.broadcast_to(positions(a.shape).reshape(a2), (*batch, m, k))
    b_pos = np.broadcast_to(positions(b.shape).reshape(b2), (*batch, k, p))
    a_mask = _may_be_nonzero(a).reshape(a2)
    b_mask = _may_be_nonzero(b).reshape(b2)
    out = positions((*batch, m, p))
    # pairs (out[..., i, j], k): through a, need b[..., k, j] != 0; through b, need a[..., i, k] != 0
    through_b = np.broadcast_to(b_mask[..., None, :, :], (*batch, m, k, p))  # [..., i, k, j]
    through_a = np.broadcast_to(a_mask[..., :, :, None], (*batch, m, k, p))
    out_ikj = np.broadcast_to(out[..., :, None, :], (*batch, m, k, p))
    a_ikj = np.broadcast_to(a_pos[..., :, :, None], (*batch, m, k, p))
    b_ikj = np.broadcast_to(b_pos[..., None, :, :], (*batch, m, k, p))
    maps: list[DepMap] = []
    for mask, source in ((through_b, a_ikj), (through_a, b_ikj)):
        maps.append((out_ikj[mask], source[mask]))
    return maps


def scatter_rule(node: Node) -> list[DepMap]:
    """zeros(shape) with each part placed (and overlapping parts added) at its basic index."""
    shape, indices = node.attrs
    where = positions(shape)
    return [(where[to_index(index)].ravel(), np.arange(part.size, dtype=np.int64))
            for part, index in zip(node.inputs, indices, strict=True)]


def scatter_add_rule(node: Node) -> list[DepMap]:
    """zeros(shape) with g added at constant indices: g's entry e lands on one output entry."""
    g, *index = node.inputs
    if any(i.value is None for i in index):
        return [None, *([None] * len(index))]
    shape, lead = node.attrs
    where = positions(shape)[_lead_index(lead, index)]
    return [(np.broadcast_to(where, g.shape).ravel(), np.arange(g.size, dtype=np.int64)), *([None] * len(index))]


def gather_rule(node: Node) -> list[DepMap]:
    """x[:, ..., i0, i1, ...] at constant indices reads one entry of x per output entry."""
    x, *index = node.inputs
    if any(i.value is None for i in index):
        return [None, *([None] * len(index))]
    lead = node.attrs[0]
    read = positions(x.shape)[_lead_index(lead, index)]
    return [(np.arange(read.size, dtype=np.int64), read.ravel()), *([None] * len(index))]


def _lead_index(lead: int, index: Sequence[Node]) -> tuple[Any, ...]:
    """``[:, ..., i0, i1, ...]`` with ``lead`` full slices and the constant index arrays."""
    return tuple([slice(None)] * lead) + tuple(np.asarray(i.value) for i in index)


def _may_be_nonzero(node: Node) -> np.ndarray:
    """Where a factor may be non-zero: a float constant's non-zeros, else everywhere."""
    if node.value is not None and node.dtype == FLOAT:
        return np.asarray(node.value) != 0
    return np.ones(node.shape, dtype=bool)
