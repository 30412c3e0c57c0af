"""Graph colourings that compress a sparse Jacobian or Hessian into a few dense products.

With a sparsity pattern known in advance, the columns of a Jacobian ``J`` that never share a
row can be summed into one seed without losing an entry: ``B = J @ S``, with ``S[j, c] = 1``
when column ``j`` has colour ``c``, holds every non-zero exactly once, so one forward
directional derivative per colour replaces one per column (rows and reverse mode likewise).
A symmetric Hessian needs fewer products than that: a star colouring lets two columns share
a colour as long as every non-zero can still be read, from its row or from its column.

Patterns are given as the coordinates of their structural non-zeros (``rows``, ``cols``).
The algorithms are greedy and deterministic: the same pattern always gets the same colours.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "column_coloring",
    "column_recovery",
    "is_valid_column_coloring",
    "row_coloring",
    "star_coloring",
    "star_recovery",
]

_PAIRS_PER_CHUNK = 1 << 22  # column pairs generated at once while building the column intersection graph


def _unique(keys: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (a sort and a comparison, faster here than ``np.unique``)."""
    return _counted(keys)[0]


def _counted(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values, sorted, and how often each occurs."""
    ordered = np.sort(keys)
    keep = np.ones(ordered.shape, dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    starts = np.flatnonzero(keep)
    return ordered[starts], np.diff(starts, append=len(ordered))


def _unique_rows(block: np.ndarray) -> np.ndarray:
    """The distinct rows of a 2-D integer array."""
    if len(block) < 2:
        return block
    ordered = block[np.lexsort(block.T[::-1])]
    keep = np.ones(len(ordered), dtype=bool)
    np.any(ordered[1:] != ordered[:-1], axis=1, out=keep[1:])
    return ordered[keep]


def _pattern(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, int, int]:
    """The coordinates as int64 arrays, checked against the shape, each pair once."""
    m, n = (int(s) for s in shape)
    if m < 0 or n < 0:
        raise ValueError(f"the shape must not be negative, got {shape}")
    r, c = np.asarray(rows), np.asarray(cols)
    if r.ndim != 1 or c.ndim != 1 or r.shape != c.shape:
        raise ValueError(f"rows and cols must be 1-D arrays of one length, got shapes {r.shape} and {c.shape}")
    for name, a in (("rows", r), ("cols", c)):
        if a.size and not np.issubdtype(a.dtype, np.integer):
            raise ValueError(f"{name} must hold integers, got dtype {a.dtype}")
    r, c = r.astype(np.int64, copy=False), c.astype(np.int64, copy=False)
    if r.size and (r.min() < 0 or r.max() >= m or c.min() < 0 or c.max() >= n):
        raise ValueError(f"a coordinate lies outside the shape {(m, n)}")
    keys = _unique(r * n + c) if n else r[:0]
    return keys // n if n else keys, keys % n if n else keys, m, n


def _csr(src: np.ndarray, dst: np.ndarray, size: int) -> tuple[list[int], list[int]]:
    """Adjacency lists of a graph from its (already unique, sorted by ``src``) directed edges."""
    indptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=size), out=indptr[1:])
    return indptr.tolist(), dst.tolist()


def _intersection_graph(rows: np.ndarray, cols: np.ndarray, m: int, n: int) -> tuple[list[int], list[int], int]:
    """The column intersection graph (columns adjacent when they share a row), and the largest
    number of non-zeros in a row, a clique in that graph and so a lower bound on the colours.

    ``rows``/``cols`` must be sorted by row, then column. Rows with the same columns add the same
    edges, so each distinct row is expanded once."""
    counts = np.bincount(rows, minlength=m)
    starts = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    pieces: list[np.ndarray] = []
    for k in (np.flatnonzero(np.bincount(counts)[2:]) + 2).tolist():
        members = cols[starts[:-1][counts == k][:, None] + np.arange(k)]
        members = _unique_rows(members)
        first, second = np.triu_indices(k, 1)
        step = max(1, _PAIRS_PER_CHUNK // len(first))
        for lo in range(0, len(members), step):
            block = members[lo:lo + step]
            u, v = block[:, first].ravel(), block[:, second].ravel()
            pieces.append(_unique(np.concatenate([u * n + v, v * n + u])))
    keys = _unique(np.concatenate(pieces)) if pieces else np.zeros(0, dtype=np.int64)
    indptr, indices = _csr(keys // max(n, 1), keys % max(n, 1), n)
    return indptr, indices, int(counts.max()) if m else 0


def _smallest_last(indptr: list[int], indices: list[int]) -> list[int]:
    """A degeneracy ordering: repeatedly remove a vertex of least remaining degree; colour in the
    reverse order of removal, so each vertex meets few coloured neighbours when its turn comes.
    Ties go to the vertex whose degree changed last."""
    size = len(indptr) - 1
    degree = np.diff(np.asarray(indptr, dtype=np.int64)).tolist()
    buckets: list[list[int]] = [[] for _ in range(max(degree, default=0) + 1)]
    for v in range(size - 1, -1, -1):
        buckets[degree[v]].append(v)
    removed = [False] * size
    removal: list[int] = []
    low = 0
    while len(removal) < size:
        bucket = buckets[low]
        if not bucket:
            low += 1
            continue
        v = bucket.pop()
        if removed[v] or degree[v] != low:  # a stale entry: v has moved to a lower bucket
            continue
        removed[v] = True
        removal.append(v)
        for w in indices[indptr[v]:indptr[v + 1]]:
            if not removed[w]:
                d = degree[w] - 1
                degree[w] = d
                buckets[d].append(w)
        if low:
            low -= 1
    removal.reverse()
    return removal


def _greedy(indptr: list[int], indices: list[int], order: list[int]) -> list[int]:
    """First fit: each vertex, in order, takes the smallest colour none of its neighbours has."""
    size = len(indptr) - 1
    colors = [-1] * size
    widest = int(np.diff(np.asarray(indptr, dtype=np.int64)).max()) if size else 0
    forbidden = [-1] * (widest + 2)
    for v in order:
        for w in indices[indptr[v]:indptr[v + 1]]:
            forbidden[colors[w]] = v  # an uncoloured neighbour marks the spare last slot
        c = 0
        while forbidden[c] == v:
            c += 1
        colors[v] = c
    return colors


def _dsatur(indptr: list[int], indices: list[int]) -> list[int]:
    """DSATUR: colour next a vertex whose neighbours already show the most distinct colours, with
    the smallest colour it may take. Ties go to the vertex that reached that count last, and
    at the start to the largest degree (then the lowest index)."""
    size = len(indptr) - 1
    colors = [-1] * size
    seen: list[set[int]] = [set() for _ in range(size)]
    degree = np.diff(np.asarray(indptr, dtype=np.int64))
    # buckets[s]: vertices with s distinct colours around them, the next one last; entries
    # left behind when a vertex moves up are skipped when reached
    buckets: list[list[int]] = [np.lexsort((-np.arange(size), degree)).tolist()]
    top, done = 0, 0
    while done < size:
        bucket = buckets[top]
        if not bucket:
            top -= 1
            continue
        v = bucket.pop()
        taken = seen[v]
        if colors[v] >= 0 or len(taken) != top:
            continue
        c = 0
        while c in taken:
            c += 1
        colors[v] = c
        done += 1
        for w in indices[indptr[v]:indptr[v + 1]]:
            if colors[w] < 0:
                around = seen[w]
                if c not in around:
                    around.add(c)
                    k = len(around)
                    if k == len(buckets):
                        buckets.append([])
                    buckets[k].append(w)
                    top = max(top, k)
    return colors


def _count(colors: list[int]) -> int:
    return max(colors, default=-1) + 1


def _distance_one(indptr: list[int], indices: list[int], lower: int) -> list[int]:
    """A colouring with few colours: smallest-last first fit, and DSATUR when that one has more
    colours than the lower bound; the fewer colours win, smallest-last on a tie."""
    best = _greedy(indptr, indices, _smallest_last(indptr, indices))
    if _count(best) > lower:
        other = _dsatur(indptr, indices)
        if _count(other) < _count(best):
            best = other
    return best


def column_coloring(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Colours of the columns such that two columns sharing a row differ, so that ``J @ S``
    (one seed per colour) holds every non-zero of ``J`` on its own: ``J[i, j]`` is
    ``(J @ S)[i, colors[j]]``. Columns without non-zeros get colour 0."""
    r, c, m, n = _pattern(rows, cols, shape)
    indptr, indices, lower = _intersection_graph(r, c, m, n)
    return np.asarray(_distance_one(indptr, indices, max(lower, 1)), dtype=np.int64).reshape(n)


def row_coloring(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Colours of the rows such that two rows sharing a column differ (the column colouring of
    the transpose), for reverse mode: ``J[i, j]`` is ``(S.T @ J)[colors[i], j]``."""
    return column_coloring(cols, rows, (shape[1], shape[0]))


def column_recovery(rows: np.ndarray, cols: np.ndarray, colors: np.ndarray) -> np.ndarray:
    """Where each non-zero sits in ``B = J @ S`` for a column colouring: ``J[rows[k], cols[k]]``
    is ``B[rows[k], column_recovery(...)[k]]``."""
    return np.asarray(colors, dtype=np.int64)[np.asarray(cols, dtype=np.int64)]


def is_valid_column_coloring(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int], colors: np.ndarray) -> bool:
    """Whether no two columns sharing a row have one colour (so ``J @ S`` loses no entry)."""
    r, c, _, n = _pattern(rows, cols, shape)
    colour = np.asarray(colors)
    if colour.shape != (n,) or (n and (not np.issubdtype(colour.dtype, np.integer) or colour.min() < 0)):
        return False
    if not r.size:
        return True
    colour = colour.astype(np.int64)
    return len(_unique(r * (int(colour.max()) + 1) + colour[c])) == r.size


def _symmetric_edges(rows: np.ndarray, cols: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The off-diagonal entries of a pattern made symmetric, sorted by row, each once."""
    r, c, _, _ = _pattern(rows, cols, (n, n))
    off = r != c
    r, c = r[off], c[off]
    keys = _unique(np.concatenate([r * n + c, c * n + r]))
    return keys // max(n, 1), keys % max(n, 1)


def star_coloring(rows: np.ndarray, cols: np.ndarray, n: int) -> np.ndarray:
    """Colours of the columns of a symmetric ``n × n`` pattern for a compressed Hessian
    ``B = H @ S``: a proper colouring of the adjacency graph (off-diagonal non-zeros are edges)
    in which every path on four vertices shows at least three colours, so that each non-zero
    can be read from ``B`` in its row or in its column (``star_recovery``). Fewer colours than
    a column colouring needs, since symmetry gives every entry two places to be read from.
    The pattern is made symmetric first; the diagonal does not matter."""
    src, dst = _symmetric_edges(rows, cols, n)
    indptr, indices = _csr(src, dst, n)
    # a graph needs 3 colours unless each component is a star (an edge has an end of degree 1)
    degree = np.diff(np.asarray(indptr, dtype=np.int64))
    lower = 1 if not src.size else 3 if np.any(np.minimum(degree[src], degree[dst]) >= 2) else 2
    smallest_last = _smallest_last(indptr, indices)
    best: list[int] = []
    for order, ahead in ((smallest_last, True), (smallest_last, False), (list(range(n)), False)):
        colors = _star(indptr, indices, order, ahead)
        if not best or _count(colors) < _count(best):
            best = colors
        if _count(best) <= lower:
            break
    return np.asarray(best, dtype=np.int64).reshape(n)


def _star(indptr: list[int], indices: list[int], order: list[int], ahead: bool) -> list[int]:
    """Greedy star colouring: each vertex ``v``, in order, takes the smallest colour that is none
    of its neighbours' and closes no two-coloured path on four vertices among the coloured ones:

    * ``v-w-x-y``: not the colour of ``x`` when ``x`` has a second neighbour of ``w``'s colour;
    * ``u-v-w-x``: when two neighbours ``u``, ``w`` of ``v`` share a colour, none of the colours
      around ``w``.

    With ``ahead``, ``v`` also avoids every colour around an uncoloured neighbour, so that two
    neighbours of a vertex share a colour only if it was coloured before both, and the second
    case never arises. Neither variant gives fewer colours on every graph.

    ``around[w]`` maps each colour among ``w``'s coloured neighbours to the first of them,
    ``twice[w]`` holds the colours that appear at least twice there, and ``blocked[w]``, for a
    coloured ``w``, the colours of the first case."""
    size = len(indptr) - 1
    colors = [-1] * size
    around: list[dict[int, int]] = [{} for _ in range(size)]
    twice: dict[int, set[int]] = {}  # these two stay small, so only the vertices that have entries
    blocked: dict[int, set[int]] = {}
    nothing: set[int] = set()
    for v in order:
        forbidden: set[int] = set()
        neighbours = indices[indptr[v]:indptr[v + 1]]
        doubled = twice.get(v, nothing)
        for w in neighbours:
            cw = colors[w]
            if cw >= 0:
                forbidden.add(cw)
                forbidden.update(blocked.get(w, nothing))
                if cw in doubled:
                    forbidden.update(around[w])
            elif ahead:
                forbidden.update(around[w])
        c = 0
        while c in forbidden:
            c += 1
        colors[v] = c
        for w in neighbours:
            seen = around[w]
            if c not in seen:
                seen[c] = v
                now_twice = False
            else:
                again = twice.setdefault(w, set())
                now_twice = c not in again
                again.add(c)
            cw = colors[w]
            if cw >= 0:
                if cw in doubled:  # v has a second neighbour coloured like w
                    blocked.setdefault(w, set()).add(c)
                if seen[c] != v:  # w has a second neighbour coloured like v
                    blocked.setdefault(v, set()).add(cw)
                    if now_twice:
                        blocked.setdefault(seen[c], set()).add(cw)
    return colors


def star_recovery(rows: np.ndarray, cols: np.ndarray, colors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each non-zero of a symmetric ``H`` sits in ``B = H @ S`` for the colouring ``colors``:
    ``H[rows[k], cols[k]] == B[read_row[k], read_color[k]]``.

    An entry ``(i, j)`` is read in row ``i`` when ``j`` is the only column of its colour there,
    else in row ``j`` when ``i`` is the only one of its colour there; a star colouring
    guarantees one of the two. ``ValueError`` when neither holds for some entry."""
    colour = np.asarray(colors)
    if colour.ndim != 1 or (colour.size and (not np.issubdtype(colour.dtype, np.integer) or colour.min() < 0)):
        raise ValueError("colors must be a 1-D array of non-negative integers, one per column")
    colour = colour.astype(np.int64, copy=False)
    n = colour.shape[0]
    r, c, _, _ = _pattern(rows, cols, (n, n))
    order_r, order_c = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    if not order_r.size:
        return order_r.copy(), order_r.copy()
    # all entries of the symmetric pattern, diagonal included, counted per (row, colour)
    full = _unique(np.concatenate([r * n + c, c * n + r]))
    full_r, full_c = full // n, full % n
    width = int(colour.max()) + 1
    cells, counts = _counted(full_r * width + colour[full_c])

    def alone(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Whether column ``j`` is the only column of its colour in row ``i``."""
        return counts[np.searchsorted(cells, i * width + colour[j])] == 1

    in_row = alone(order_r, order_c)
    in_col = alone(order_c, order_r)
    if not np.all(in_row | in_col):
        k = int(np.flatnonzero(~(in_row | in_col))[0])
        raise ValueError(f"the colouring is not a star colouring of the pattern: the entry ({order_r[k]}, "
                         f"{order_c[k]}) shares its colour with another entry both in its row and in its column")
    read_row = np.where(in_row, order_r, order_c)
    read_color = np.where(in_row, colour[order_c], colour[order_r])
    return read_row, read_color
