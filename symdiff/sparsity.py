"""Structural sparsity: which entries of a Jacobian or a Hessian can be non-zero.

Each node gets a pattern, a boolean matrix in compressed rows (``indptr``, ``indices``): its
flat entries by the columns of ``wrt`` (the variables flattened in C order and concatenated).
A ``wrt`` variable's pattern is the identity on its columns; every other leaf, and every
integer or boolean node, has none. An op's pattern is the union, over its inputs, of the
input's pattern composed with the op's dependency map (``sparsity_rules``): elementwise ops
broadcast, reductions merge, layout ops move (their map is found by running the op on the
positions themselves), and ops with no finer rule read everything. The pattern never misses a
non-zero for any input value; it may keep some that are always zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff.compiler import evaluate
from symdiff.dims import is_symbolic
from symdiff.errors import UnsupportedError
from symdiff.graph import FLOAT, TUPLE, Node, make_var, toposort
from symdiff.ops import ELEMENTWISE, LAYOUT, OPS, REDUCTION, STRUCTURE
from symdiff.sparsity_rules import DepMap, broadcast_map, positions, reduction_rule

MAX_PAIRS = 1 << 26  # dependency pairs one op may list before the pattern is refused as too dense to build


@dataclass(frozen=True)
class Pattern:
    """The structural non-zeros of a ``shape[0]`` x ``shape[1]`` matrix, sorted by row then column."""

    rows: np.ndarray
    cols: np.ndarray
    shape: tuple[int, int]

    @property
    def nnz(self) -> int:
        return int(self.rows.size)

    @property
    def density(self) -> float:
        return self.nnz / max(self.shape[0] * self.shape[1], 1)

    def to_scipy(self) -> Any:
        """The pattern as a ``scipy.sparse.csr_array`` of ones (needs SciPy)."""
        from scipy import sparse

        return sparse.csr_array((np.ones(self.nnz), (self.rows, self.cols)), shape=self.shape)

    def to_dense(self) -> np.ndarray:
        dense = np.zeros(self.shape, dtype=bool)
        dense[self.rows, self.cols] = True
        return dense

    def __repr__(self) -> str:
        return f"Pattern(shape={self.shape}, nnz={self.nnz}, density={self.density:.3g})"


@dataclass(frozen=True)
class _Rows:
    """A node's pattern in compressed rows: entry r may depend on columns indices[indptr[r]:indptr[r+1]]."""

    indptr: np.ndarray
    indices: np.ndarray

    @classmethod
    def from_pairs(cls, rows: np.ndarray, cols: np.ndarray, size: int, ncols: int) -> _Rows:
        keys = np.sort(rows.astype(np.int64) * max(ncols, 1) + cols)  # a sort: NumPy's unique hashes, slowly
        keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if keys.size else keys
        rows, cols = keys // max(ncols, 1), keys % max(ncols, 1)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=size))]).astype(np.int64)
        return cls(indptr, cols.astype(np.int64))

    @classmethod
    def empty(cls, size: int) -> _Rows:
        return cls(np.zeros(size + 1, dtype=np.int64), np.zeros(0, dtype=np.int64))

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        counts = np.diff(self.indptr)
        return np.repeat(np.arange(counts.size, dtype=np.int64), counts), self.indices

    def through(self, out: np.ndarray, into: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) pairs of the output: entry out[e] gets every column of input entry into[e]."""
        counts = self.indptr[into + 1] - self.indptr[into]
        total = int(counts.sum())
        if total > MAX_PAIRS:
            raise UnsupportedError(f"sparsity: {total} dependency pairs in one op; the pattern is too dense to build "
                                   "(use the dense sd.jacobian)")
        rows = np.repeat(out, counts)
        step = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        return rows, self.indices[np.repeat(self.indptr[into], counts) + step]


def columns(wrt: Sequence[Node]) -> dict[Node, int]:
    """Each variable's first column: the variables flattened in C order, concatenated in order."""
    offsets, start = {}, 0
    for v in wrt:
        offsets[v] = start
        start += v.size
    return offsets


def jacobian_pattern(outputs: Sequence[Node], wrt: Sequence[Node]) -> Pattern:
    """The pattern of the Jacobian of ``outputs`` (flattened, concatenated) by ``wrt``."""
    for node in [*outputs, *wrt]:
        if node.dtype != TUPLE and is_symbolic(node.shape):
            raise UnsupportedError(f"sparsity of {node.label or node.op}: its shape {node.shape} has named "
                                   "dimensions; give their sizes (sd.sparsity(..., sizes={...}))")
    offsets = columns(wrt)
    ncols = sum(v.size for v in wrt)
    found: dict[Node, _Rows] = {}
    for node in toposort(list(outputs)):
        found[node] = _pattern(node, found, offsets, ncols)
    rows, cols, start = [], [], 0
    for node in outputs:
        r, c = found[node].pairs()
        rows.append(r + start)
        cols.append(c)
        start += node.size
    pattern = _Rows.from_pairs(np.concatenate(rows), np.concatenate(cols), start, ncols)
    r, c = pattern.pairs()
    return Pattern(r, c, (start, ncols))


def symmetric(pattern: Pattern) -> Pattern:
    """The union of a square pattern and its transpose."""
    n = pattern.shape[0]
    both = _Rows.from_pairs(np.concatenate([pattern.rows, pattern.cols]),
                            np.concatenate([pattern.cols, pattern.rows]), n, n)
    r, c = both.pairs()
    return Pattern(r, c, pattern.shape)


def _pattern(node: Node, found: dict[Node, _Rows], offsets: dict[Node, int], ncols: int) -> _Rows:
    if node.dtype == TUPLE:  # split's pieces are read through item
        return _Rows.empty(0)
    if node in offsets:
        start = offsets[node]
        return _Rows(np.arange(node.size + 1, dtype=np.int64), np.arange(start, start + node.size, dtype=np.int64))
    if node.dtype != FLOAT or not node.inputs:
        return _Rows.empty(node.size)
    # an item reads its tuple node's inputs: split's one array, or every input of a scan or eigh
    sources = list(node.inputs[0].inputs) if node.op == "item" else list(node.inputs)
    maps = _maps(node)
    rows, cols = [], []
    for source, dep in zip(sources, maps, strict=True):
        pattern = found[source]
        if pattern.indices.size == 0:
            continue
        if dep is None:  # every output entry may read every entry of this input
            reached = np.unique(pattern.indices)
            if node.size * reached.size > MAX_PAIRS:
                raise UnsupportedError(f"sparsity: {node.op} makes {node.size} x {reached.size} dependencies; "
                                       "the pattern is too dense to build (use the dense sd.jacobian)")
            rows.append(np.repeat(np.arange(node.size, dtype=np.int64), reached.size))
            cols.append(np.tile(reached, node.size))
            continue
        r, c = pattern.through(*dep)
        rows.append(r)
        cols.append(c)
    if not rows:
        return _Rows.empty(node.size)
    return _Rows.from_pairs(np.concatenate(rows), np.concatenate(cols), node.size, ncols)


def _maps(node: Node) -> list[DepMap]:
    if node.op == "item":  # a piece of split is moved; outputs of other tuple ops read every input
        tupled = node.inputs[0]
        return _moved(node) if tupled.op == "split" else [None] * len(tupled.inputs)
    op = OPS.get(node.op)
    if op is not None and op.sparsity is not None:
        return list(op.sparsity(node))
    kind = op.kind if op is not None else None
    if kind == ELEMENTWISE:
        return [broadcast_map(node.shape, i.shape) for i in node.inputs]
    if kind == REDUCTION:
        return reduction_rule(node)
    if kind in (LAYOUT, STRUCTURE) and all(i.dtype == FLOAT or i.value is not None for i in node.inputs):
        return _moved(node)
    return [None] * len(node.inputs)


def layout_map(node: Node) -> list[DepMap]:
    """Per input, which of its entries each output entry of a layout op holds (see ``_moved``)."""
    return _moved(node)


def _moved(node: Node) -> list[DepMap]:
    """A layout op's map, found by running it on numbered entries: input k's entries carry the
    codes offset_k + 1, ..., and an output entry's code says which one it holds (0: none)."""
    key: tuple[Any, ...]
    if node.op == "item":
        split = node.inputs[0]
        key = ("item", split.attrs, node.attrs, (split.inputs[0].shape,), ())
    else:
        key = (node.op, node.attrs, tuple(i.shape for i in node.inputs),
               tuple(i.value.tobytes() if i.dtype != FLOAT and i.value is not None else None for i in node.inputs))
    return list(_probe(key, node))


_PROBES: dict[tuple[Any, ...], tuple[DepMap, ...]] = {}  # by op, attrs, shapes and constant indices
PROBES_KEPT = 512


def _probe(key: tuple[Any, ...], node: Node) -> tuple[DepMap, ...]:
    if key in _PROBES:
        return _PROBES[key]
    sources = [node.inputs[0].inputs[0]] if node.op == "item" else list(node.inputs)
    stand_ins: list[Node] = []
    values: dict[Node, np.ndarray] = {}
    starts: list[int | None] = []
    start = 0
    for i, source in enumerate(sources):
        if source.dtype != FLOAT:
            stand_ins.append(source)  # a constant index: kept as it is
            starts.append(None)
            continue
        v = make_var(f"probe{i}", source.shape)
        stand_ins.append(v)
        values[v] = (positions(source.shape) + (start + 1)).astype(np.float64)
        starts.append(start)
        start += source.size
    if node.op == "item":
        replica = sd.apply("item", [sd.apply("split", stand_ins, node.inputs[0].attrs)], node.attrs)
    else:
        replica = sd.apply(node.op, stand_ins, node.attrs)
    codes = np.asarray(evaluate(replica, values) if values else np.zeros(node.shape)).ravel()
    held = np.flatnonzero(codes)
    source_codes = codes[held].astype(np.int64) - 1
    maps: list[DepMap] = []
    for source, first in zip(sources, starts, strict=True):
        if first is None:
            maps.append((np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)))
            continue
        mine = (source_codes >= first) & (source_codes < first + source.size)
        maps.append((held[mine], source_codes[mine] - first))
    if len(_PROBES) >= PROBES_KEPT:
        _PROBES.clear()
    _PROBES[key] = tuple(maps)
    return _PROBES[key]
