"""Sparse Jacobians and Hessians: the graph's own sparsity, coloured seeds, one batched sweep.

The structural pattern comes from ``sparsity.jacobian_pattern``. Columns that share no row
are given one colour (``coloring``); one tangent per colour, batched into a single
directional derivative, yields the compressed Jacobian ``J S``, from which each non-zero is
read at a fixed place. Reverse mode colours the rows instead. Hessians are the Jacobian of
the gradient, compressed by a star colouring of their symmetric pattern.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff.batch import batch
from symdiff.coloring import column_coloring, row_coloring, star_coloring, star_recovery
from symdiff.errors import GraphError, UnsupportedError
from symdiff.graph import TUPLE, Node, make_var, notes, toposort
from symdiff.pipeline import variables
from symdiff.sparsity import Pattern, jacobian_pattern, symmetric
from symdiff.specialise import PerSize, is_named, names_in, specialise
from symdiff.transforms import function, grad, jvp, vjp

FORMATS = ("csr", "coo")


def sparsity(expr: Any, wrt: Node | Sequence[Node], *, sizes: Mapping[str, int] | None = None) -> Pattern:
    """The structural non-zeros of the Jacobian of ``expr`` (flattened in C order) by ``wrt``
    (the variables flattened and concatenated): never misses an entry that can be non-zero.
    A graph with named dimensions needs their ``sizes``."""
    root, wrt_list = _at(sd.tofloat(sd.as_node(expr, "expr")), _wrt(wrt), sizes)
    return jacobian_pattern([root], wrt_list)


def hessian_sparsity(expr: Any, wrt: Node | Sequence[Node], *, sizes: Mapping[str, int] | None = None) -> Pattern:
    """The symmetric structural pattern of the Hessian of a scalar ``expr`` by ``wrt``."""
    root, wrt_list = _at(_scalar(expr, "hessian_sparsity"), _wrt(wrt), sizes)
    return symmetric(jacobian_pattern([_flat(grad(root, wrt_list))], wrt_list))


def _at(root: Node, wrt: list[Node], sizes: Mapping[str, int] | None) -> tuple[Node, list[Node]]:
    if sizes is None or not is_named([root, *wrt]):
        return root, wrt
    (concrete_root,), concrete_wrt = specialise([root], wrt, sizes)
    return concrete_root, concrete_wrt


class SparseFunction:
    """A compiled function returning dense values and sparse derivative matrices.

    ``pattern`` is the derivative's pattern, ``colors`` the number of seeds, ``mode`` how it is
    computed, ``source`` the generated code (which returns the compressed matrix; the call
    reads each non-zero from it at a fixed place)."""

    def __init__(self, compiled: Any, pattern: Pattern, colors: int, mode: str, read: np.ndarray,
                 layout: str) -> None:
        self._compiled, self.pattern, self.colors, self.mode, self.format = compiled, pattern, colors, mode, layout
        self.source: str = compiled.source
        self._read = read
        counts = np.bincount(pattern.rows, minlength=pattern.shape[0])
        # SciPy's own index type for this size, so that each matrix shares these arrays, not a copy
        index = np.int32 if max(pattern.nnz, *pattern.shape) < 2**31 else np.int64
        self.indptr = _frozen(np.concatenate([[0], np.cumsum(counts)]).astype(index))
        self.indices = _frozen(pattern.cols.astype(index))
        self.rows = _frozen(pattern.rows.astype(index))

    def _matrix(self, compressed: np.ndarray) -> Any:
        data = np.asarray(compressed).ravel()[self._read]  # a fresh array on every call
        if self.format == "coo":
            return data, self.rows, self.indices
        from scipy import sparse

        return sparse.csr_array((data, self.indices, self.indptr), shape=self.pattern.shape)

    def __call__(self, *args: Any) -> Any:
        *dense, compressed = self._compiled(*args)
        return (*dense, self._matrix(compressed))


def sparse_jacobian(expr: Any, wrt: Node | Sequence[Node], inputs: Sequence[Node] | None = None, *,
                    mode: str | None = None, format: str = "csr", backend: str = "numpy",  # noqa: A002
                    name: str = "value_and_sparse_jacobian") -> SparseFunction | PerSize:
    """``f(*args) -> (value, J)`` with ``J`` of shape ``(expr.size, n)`` as a ``scipy.sparse.csr_array``
    (``format="coo"``: ``(data, rows, cols)`` arrays, no SciPy needed).

    The columns are the ``wrt`` variables flattened in C order and concatenated in order.
    ``mode`` ``"forward"`` (one seed per colour of the columns) or ``"reverse"`` (per colour of
    the rows); by default the side with fewer colours, written in the header."""
    _check_format(format)
    if mode is not None and mode not in ("forward", "reverse"):
        raise GraphError(f"sparse_jacobian: mode must be 'forward', 'reverse' or None, got {mode!r}")
    root, wrt_list = sd.tofloat(sd.as_node(expr, "expr")), _wrt(wrt)
    input_list = wrt_list if inputs is None else variables(inputs, "inputs")
    if is_named([root, *input_list, *wrt_list]):
        return _per_size(root, wrt_list, input_list, "sparse_jacobian", lambda r, w, i: sparse_jacobian(
            r, w, i, mode=mode, format=format, backend=backend, name=name))
    pattern = jacobian_pattern([root], wrt_list)
    m, n = pattern.shape
    # colouring a side builds the graph of its conflicts: a dense row makes the column graph
    # complete, so a side that costs too much is left out (and refused when it is asked for)
    by_column, by_row = _colors(pattern, "forward", mode), _colors(pattern, "reverse", mode)
    columns, rows = _count(by_column), _count(by_row)
    if by_column is not None and (by_row is None or columns <= rows):
        probe = make_var("sparse_tangent", (n,))
        tangent = jvp(root, wrt_list, _slices(probe, wrt_list))
        (compressed,) = batch([tangent], probe, sd.as_node(_seeds(by_column, columns, n)))
        compressed = sd.reshape(compressed, (columns, m))
        read, colors = by_column[pattern.cols] * m + pattern.rows, columns
        chosen = (f"forward mode, {columns} seeds: one directional derivative per colour of the columns "
                  f"(the rows would need {_needs(by_row, rows)})")
    elif by_row is not None:
        probe = make_var("sparse_cotangent", root.shape)
        pulled = _flat(vjp(root, wrt_list, probe))
        seeds = _seeds(by_row, rows, m).reshape(rows, *root.shape)
        (compressed,) = batch([pulled], probe, sd.as_node(seeds))
        read, colors = by_row[pattern.rows] * n + pattern.cols, rows
        chosen = (f"reverse mode, {rows} seeds: one pullback per colour of the rows "
                  f"(the columns would need {_needs(by_column, columns)})")
    else:
        raise UnsupportedError(f"sparse_jacobian: the pattern ({pattern!r}) has a row and a column too dense to "
                               "colour either side; use the dense sd.jacobian")
    outputs = fold_seeds([root, compressed])
    notes[outputs[-1]] = f"compressed sparse Jacobian of a {m} x {n} pattern with {pattern.nnz} non-zeros; {chosen}"
    compiled = function(input_list, outputs, name, backend=backend)
    return SparseFunction(compiled, pattern, colors, chosen, _frozen(read), format)


def sparse_hessian(expr: Any, wrt: Node | Sequence[Node], inputs: Sequence[Node] | None = None, *,
                   format: str = "csr", backend: str = "numpy",  # noqa: A002  (scipy.sparse's word)
                   name: str = "value_grad_and_sparse_hessian") -> SparseFunction | PerSize:
    """``f(*args) -> (value, gradient, H)`` for a scalar ``expr``: the gradient flat over the
    ``wrt`` columns, ``H`` the full symmetric Hessian as a sparse matrix (``format`` as in
    ``sparse_jacobian``). One Hessian-vector product per colour of a star colouring."""
    _check_format(format)
    root, wrt_list = _scalar(expr, "sparse_hessian"), _wrt(wrt)
    input_list = wrt_list if inputs is None else variables(inputs, "inputs")
    if is_named([root, *input_list, *wrt_list]):
        return _per_size(root, wrt_list, input_list, "sparse_hessian", lambda r, w, i: sparse_hessian(
            r, w, i, format=format, backend=backend, name=name))
    gradient = _flat(grad(root, wrt_list))
    pattern = symmetric(jacobian_pattern([gradient], wrt_list))
    n = pattern.shape[0]
    colors = star_coloring(pattern.rows, pattern.cols, n)
    count = _count(colors)
    read_row, read_color = star_recovery(pattern.rows, pattern.cols, colors)
    probe = make_var("sparse_tangent", (n,))
    product = jvp(gradient, wrt_list, _slices(probe, wrt_list))  # forward over reverse
    (compressed,) = batch([product], probe, sd.as_node(_seeds(colors, count, n)))
    chosen = f"{count} Hessian-vector products, one per colour of a star colouring"
    outputs = fold_seeds([root, gradient, compressed])
    notes[outputs[-1]] = f"compressed sparse Hessian, {n} x {n} with {pattern.nnz} non-zeros; {chosen}"
    compiled = function(input_list, outputs, name, backend=backend)
    return SparseFunction(compiled, pattern, count, chosen, _frozen(read_color * n + read_row), format)


def _per_size(root: Node, wrt: list[Node], inputs: list[Node], what: str,
              build: Callable[[Node, list[Node], list[Node]], SparseFunction | PerSize]) -> PerSize:
    """Named dimensions: the pattern, the colouring and the code are made once for each new set
    of sizes the arguments bring, and kept (``f.at(n=...)`` gives the function for one set)."""
    names = names_in([root, *inputs, *wrt])

    def at(sizes: dict[str, int]) -> SparseFunction | PerSize:
        (r,), rest = specialise([root], [*wrt, *inputs], sizes)
        return build(r, rest[:len(wrt)], rest[len(wrt):])

    return PerSize(inputs, names, at, what)


def fold_seeds(roots: Sequence[Node]) -> list[Node]:
    """``roots`` with every subgraph that reads only constants (the seeds' share of the batched
    sweep: their splits, scalings and scatters) computed once, now, and made a constant."""
    order = toposort(list(roots))
    constant = {n for n in order if n.op == "const"}
    for node in order:
        if node.inputs and all(i in constant for i in node.inputs):
            constant.add(node)
    used_outside = {i for n in order if n not in constant for i in n.inputs} | set(roots)  # a set: == builds nodes
    frontier = [n for n in order if n in constant and n.inputs and n.dtype != TUPLE and n in used_outside]
    if not frontier:
        return list(roots)
    values = function([], frontier, "seeds")()
    new: dict[Node, Node] = {n: sd.as_node(np.asarray(v)) for n, v in zip(frontier, values, strict=True)}
    for node in order:
        if node in new or not node.inputs:
            continue
        inputs = [new.get(i, i) for i in node.inputs]
        new[node] = sd.rebuild(node, inputs)
    return [new.get(r, r) for r in roots]


COLORING_PAIRS = 1 << 26  # conflict pairs a colouring may build (the sum over rows of their length squared)


def _colors(pattern: Pattern, side: str, mode: str | None) -> np.ndarray | None:
    """The colouring of one side (``forward``: the columns), or None when it is not asked for or
    too dense to build; asked for explicitly and too dense, it is refused."""
    if mode is not None and mode != side:
        return None
    lines = pattern.rows if side == "forward" else pattern.cols  # columns conflict within a row
    counts = np.bincount(lines, minlength=pattern.shape[0 if side == "forward" else 1]).astype(np.int64)
    if int((counts * counts).sum()) > COLORING_PAIRS:
        if mode is not None:
            coloured, line = ("columns", "row") if side == "forward" else ("rows", "column")
            raise UnsupportedError(f"sparse_jacobian: mode={mode!r} colours the {coloured}, but a {line} with "
                                   f"{int(counts.max())} entries makes that too costly; use the other mode")
        return None
    if side == "forward":
        return column_coloring(pattern.rows, pattern.cols, pattern.shape)
    return row_coloring(pattern.rows, pattern.cols, pattern.shape)


def _needs(colors: np.ndarray | None, count: int) -> str:
    return "too many to colour" if colors is None else str(count)


def _seeds(colors: np.ndarray, count: int, size: int) -> np.ndarray:
    """One row per colour: ones at the entries of that colour."""
    seeds = np.zeros((count, size))
    seeds[colors, np.arange(size)] = 1.0
    return seeds


def _count(colors: np.ndarray | None) -> int:
    return int(colors.max()) + 1 if colors is not None and colors.size else 0


def _slices(flat: Node, wrt: Sequence[Node]) -> list[Node]:
    """The pieces of a flat vector shaped as the ``wrt`` variables, in order."""
    pieces, start = [], 0
    for v in wrt:
        pieces.append(sd.reshape(flat[start:start + v.size], v.shape))
        start += v.size
    return pieces


def _flat(parts: Sequence[Node]) -> Node:
    flats = [sd.reshape(p, (p.size,)) for p in parts]
    return flats[0] if len(flats) == 1 else sd.concatenate(flats)


def _wrt(wrt: Node | Sequence[Node]) -> list[Node]:
    listed = variables([wrt] if isinstance(wrt, Node) else wrt, "wrt")
    if not listed:
        raise GraphError("sparse derivatives need at least one wrt variable")
    return listed


def _scalar(expr: Any, what: str) -> Node:
    root = sd.tofloat(sd.as_node(expr, "expr"))
    if root.shape != ():
        raise GraphError(f"{what} needs a scalar expression, got shape {root.shape}")
    return root


def _check_format(layout: str) -> None:
    if not isinstance(layout, str) or layout not in FORMATS:
        raise GraphError(f"format must be one of {FORMATS}, got {layout!r}")
    if layout == "csr":
        try:
            import scipy.sparse  # noqa: F401
        except ImportError:
            raise UnsupportedError("format='csr' needs SciPy (pip install symdiff[scipy]); "
                                   "format='coo' gives (data, rows, cols) arrays without it") from None


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array
