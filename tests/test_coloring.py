"""Column, row and star colourings: checked by their defining properties, by brute force on small
graphs, and by compressing random matrices with the pattern and reading every entry back."""

from __future__ import annotations

import time

import numpy as np
import pytest

from symdiff.coloring import (
    column_coloring,
    column_recovery,
    is_valid_column_coloring,
    row_coloring,
    star_coloring,
    star_recovery,
)


def tridiagonal(n: int) -> tuple[np.ndarray, np.ndarray]:
    return banded(n, 1)


def banded(n: int, half: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (i, j) with |i - j| <= half."""
    i, j = np.meshgrid(np.arange(n), np.arange(-half, half + 1), indexing="ij")
    j = i + j
    keep = (j >= 0) & (j < n)
    return i[keep], j[keep]


def stencil(k: int) -> tuple[np.ndarray, np.ndarray]:
    """The Jacobian of the 5-point Laplacian on a k × k grid: each row is a point and its neighbours."""
    a, b = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    rows, cols = [], []
    for da, db in ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)):
        keep = (a + da >= 0) & (a + da < k) & (b + db >= 0) & (b + db < k)
        rows.append((a * k + b)[keep])
        cols.append(((a + da) * k + b + db)[keep])
    return np.concatenate(rows), np.concatenate(cols)


def arrowhead(n: int) -> tuple[np.ndarray, np.ndarray]:
    """A dense first row and column, and the diagonal."""
    dense = np.zeros((n, n), dtype=bool)
    dense[0, :] = dense[:, 0] = True
    dense[np.arange(n), np.arange(n)] = True
    return np.nonzero(dense)


def block_diagonal(blocks: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    dense = np.kron(np.eye(blocks, dtype=bool), np.ones((size, size), dtype=bool))
    return np.nonzero(dense)


def random_pattern(m: int, n: int, density: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    return np.nonzero(np.random.default_rng(seed).random((m, n)) < density)


def random_symmetric(n: int, density: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    dense = rng.random((n, n)) < density
    dense |= dense.T
    dense[np.arange(n), np.arange(n)] = rng.random(n) < 0.5  # some diagonal entries, not all
    return np.nonzero(dense)


def count(colors: np.ndarray) -> int:
    return int(colors.max()) + 1 if colors.size else 0


def assert_columns_recover(rows, cols, shape, colors) -> None:
    """A random J with the pattern, compressed to J @ S, gives back every non-zero."""
    m, n = shape
    assert colors.shape == (n,) and colors.dtype == np.int64
    assert colors.min(initial=0) >= 0 and set(np.unique(colors)) == set(range(count(colors)))
    values = np.random.default_rng(3).uniform(1.0, 2.0, size=len(rows))
    compressed = np.zeros((m, count(colors)))
    np.add.at(compressed, (rows, colors[cols]), values)
    np.testing.assert_array_equal(compressed[rows, column_recovery(rows, cols, colors)], values)
    assert is_valid_column_coloring(rows, cols, shape, colors)


def assert_rows_recover(rows, cols, shape, colors) -> None:
    """The same for reverse mode: S.T @ J gives back every non-zero."""
    assert_columns_recover(cols, rows, (shape[1], shape[0]), colors)


def adjacency(rows, cols, n: int) -> list[set[int]]:
    neighbours: list[set[int]] = [set() for _ in range(n)]
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        if i != j:
            neighbours[i].add(j)
            neighbours[j].add(i)
    return neighbours


def assert_star(rows, cols, n: int, colors: np.ndarray) -> None:
    """Proper, and every path on four vertices shows three colours (all paths, by brute force)."""
    assert colors.shape == (n,)
    neighbours = adjacency(rows, cols, n)
    color = colors.tolist()
    for b in range(n):
        for c in neighbours[b]:
            assert color[b] != color[c], (b, c)
            for a in neighbours[b] - {c}:
                for d in neighbours[c] - {a, b}:
                    assert len({color[a], color[b], color[c], color[d]}) >= 3, (a, b, c, d)


def assert_star_recovers(rows, cols, n: int, colors: np.ndarray, seed: int = 0) -> None:
    """A random symmetric H with the pattern, compressed to H @ S, gives back every non-zero."""
    rng = np.random.default_rng(seed)
    h = np.zeros((n, n))
    h[rows, cols] = rng.uniform(1.0, 2.0, size=len(rows))
    h = np.triu(h) + np.triu(h, 1).T
    seeds = np.zeros((n, count(colors)))
    seeds[np.arange(n), colors] = 1.0
    compressed = h @ seeds
    read_row, read_color = star_recovery(rows, cols, colors)
    assert read_row.shape == read_color.shape == rows.shape
    np.testing.assert_array_equal(compressed[read_row, read_color], h[rows, cols])


def test_tridiagonal() -> None:
    rows, cols = tridiagonal(500)
    columns = column_coloring(rows, cols, (500, 500))
    assert count(columns) == 3
    assert_columns_recover(rows, cols, (500, 500), columns)
    assert count(row_coloring(rows, cols, (500, 500))) == 3
    star = star_coloring(rows, cols, 500)
    assert count(star) <= 3
    assert_star(rows, cols, 500, star)
    assert_star_recovers(rows, cols, 500, star)


def test_five_point_stencil() -> None:
    rows, cols = stencil(100)
    shape = (10_000, 10_000)
    columns = column_coloring(rows, cols, shape)
    assert 5 <= count(columns) <= 6  # five columns share the row of an interior point
    assert_columns_recover(rows, cols, shape, columns)
    assert count(row_coloring(rows, cols, shape)) <= 6


def test_five_point_stencil_star() -> None:
    rows, cols = stencil(20)
    star = star_coloring(rows, cols, 400)
    assert count(star) <= count(column_coloring(rows, cols, (400, 400)))
    assert_star(rows, cols, 400, star)
    assert_star_recovers(rows, cols, 400, star)


@pytest.mark.parametrize("half", [1, 2, 5])
def test_banded(half: int) -> None:
    n = 300
    rows, cols = banded(n, half)
    columns = column_coloring(rows, cols, (n, n))
    # columns within 2 * half of each other share a row, and j mod (2 * half + 1) is a colouring
    assert count(columns) == 2 * half + 1
    assert_columns_recover(rows, cols, (n, n), columns)
    star = star_coloring(rows, cols, n)
    assert count(star) <= count(columns)
    assert_star(rows, cols, n, star)
    assert_star_recovers(rows, cols, n, star)


def test_block_diagonal() -> None:
    rows, cols = block_diagonal(12, 4)
    columns = column_coloring(rows, cols, (48, 48))
    assert count(columns) == 4
    assert_columns_recover(rows, cols, (48, 48), columns)
    star = star_coloring(rows, cols, 48)
    assert count(star) == 4  # each block is a clique
    assert_star(rows, cols, 48, star)
    assert_star_recovers(rows, cols, 48, star)


def test_arrowhead() -> None:
    n = 40
    rows, cols = arrowhead(n)
    columns = column_coloring(rows, cols, (n, n))
    assert count(columns) == n  # the first row holds every column
    assert_columns_recover(rows, cols, (n, n), columns)
    star = star_coloring(rows, cols, n)
    assert count(star) <= 3 and count(star) < count(columns)
    assert_star(rows, cols, n, star)
    assert_star_recovers(rows, cols, n, star)


def test_arrowhead_is_not_quadratic() -> None:
    n = 50_000
    rows = np.concatenate([np.zeros(n, dtype=np.int64), np.arange(1, n)])
    cols = np.concatenate([np.arange(n), np.zeros(n - 1, dtype=np.int64)])
    start = time.perf_counter()
    star = star_coloring(rows, cols, n)
    read_row, _ = star_recovery(rows, cols, star)
    assert time.perf_counter() - start < 5.0
    assert count(star) == 2
    # the hub's row mixes all leaves, so the leaves' entries are read in the leaves' rows
    leaves = rows > 0
    np.testing.assert_array_equal(read_row[leaves], rows[leaves])


@pytest.mark.parametrize("seed", range(5))
def test_random_rectangular(seed: int) -> None:
    m, n = 70, 50
    rows, cols = random_pattern(m, n, 0.06, seed)
    columns = column_coloring(rows, cols, (m, n))
    assert_columns_recover(rows, cols, (m, n), columns)
    assert count(columns) >= np.bincount(rows, minlength=m).max()
    by_rows = row_coloring(rows, cols, (m, n))
    assert by_rows.shape == (m,)
    assert_rows_recover(rows, cols, (m, n), by_rows)


@pytest.mark.parametrize("seed", range(6))
def test_random_symmetric(seed: int) -> None:
    n = 60
    rows, cols = random_symmetric(n, 0.05, seed)
    star = star_coloring(rows, cols, n)
    assert_star(rows, cols, n, star)
    assert_star_recovers(rows, cols, n, star, seed)
    assert count(star) <= count(column_coloring(rows, cols, (n, n)))


@pytest.mark.parametrize("seed", range(3))
def test_star_from_one_triangle(seed: int) -> None:
    """Half of a symmetric pattern is made whole: the same colours, and recovery of both halves."""
    n = 50
    rows, cols = random_symmetric(n, 0.08, seed)
    lower = rows >= cols
    star = star_coloring(rows[lower], cols[lower], n)
    np.testing.assert_array_equal(star, star_coloring(rows, cols, n))
    assert_star_recovers(rows, cols, n, star, seed)


def test_dense() -> None:
    m, n = 7, 12
    rows, cols = np.nonzero(np.ones((m, n), dtype=bool))
    columns = column_coloring(rows, cols, (m, n))
    assert count(columns) == n
    assert_columns_recover(rows, cols, (m, n), columns)
    assert count(row_coloring(rows, cols, (m, n))) == m
    square = np.nonzero(np.ones((n, n), dtype=bool))
    assert count(star_coloring(*square, n)) == n


def test_diagonal() -> None:
    i = np.arange(30)
    assert count(column_coloring(i, i, (30, 30))) == 1
    assert count(row_coloring(i, i, (30, 30))) == 1
    star = star_coloring(i, i, 30)
    np.testing.assert_array_equal(star, np.zeros(30, dtype=np.int64))
    assert_star_recovers(i, i, 30, star)


def test_empty_rows_and_columns() -> None:
    rows = np.array([1, 1, 3, 3, 3, 6])
    cols = np.array([0, 4, 4, 5, 2, 2])
    shape = (8, 9)
    columns = column_coloring(rows, cols, shape)
    assert columns.shape == (9,)
    unused = np.setdiff1d(np.arange(9), cols)
    np.testing.assert_array_equal(columns[unused], 0)
    assert_columns_recover(rows, cols, shape, columns)
    by_rows = row_coloring(rows, cols, shape)
    np.testing.assert_array_equal(by_rows[np.setdiff1d(np.arange(8), rows)], 0)
    assert_rows_recover(rows, cols, shape, by_rows)


def test_no_nonzeros() -> None:
    none = np.zeros(0, dtype=np.int64)
    np.testing.assert_array_equal(column_coloring(none, none, (3, 4)), np.zeros(4, dtype=np.int64))
    np.testing.assert_array_equal(row_coloring(none, none, (3, 4)), np.zeros(3, dtype=np.int64))
    np.testing.assert_array_equal(star_coloring(none, none, 5), np.zeros(5, dtype=np.int64))
    assert column_coloring(none, none, (0, 0)).shape == (0,)
    read_row, read_color = star_recovery(none, none, np.zeros(5, dtype=np.int64))
    assert read_row.shape == read_color.shape == (0,)


def test_rectangular_structured() -> None:
    """A wide pattern (each row reads a window of columns) and its transpose."""
    m, n = 40, 130
    rows = np.repeat(np.arange(m), 6)
    cols = (3 * rows + np.tile(np.arange(6), m)) % n
    columns = column_coloring(rows, cols, (m, n))
    assert count(columns) == 6
    assert_columns_recover(rows, cols, (m, n), columns)
    by_rows = row_coloring(rows, cols, (m, n))
    assert by_rows.shape == (m,)
    assert_rows_recover(rows, cols, (m, n), by_rows)
    np.testing.assert_array_equal(row_coloring(cols, rows, (n, m)), columns)


def test_deterministic_and_independent_of_the_order_of_the_nonzeros() -> None:
    rows, cols = stencil(30)
    shuffle = np.random.default_rng(1).permutation(len(rows))
    first = column_coloring(rows, cols, (900, 900))
    np.testing.assert_array_equal(first, column_coloring(rows, cols, (900, 900)))
    np.testing.assert_array_equal(first, column_coloring(rows[shuffle], cols[shuffle], (900, 900)))
    np.testing.assert_array_equal(row_coloring(rows, cols, (900, 900)),
                                  row_coloring(rows[shuffle], cols[shuffle], (900, 900)))
    star = star_coloring(rows, cols, 900)
    np.testing.assert_array_equal(star, star_coloring(rows[shuffle], cols[shuffle], 900))
    read_row, read_color = star_recovery(rows[shuffle], cols[shuffle], star)
    again_row, again_color = star_recovery(rows, cols, star)
    np.testing.assert_array_equal(read_row, again_row[shuffle])
    np.testing.assert_array_equal(read_color, again_color[shuffle])


def test_duplicate_entries_are_one_entry() -> None:
    rows, cols = tridiagonal(20)
    twice_rows, twice_cols = np.concatenate([rows, rows]), np.concatenate([cols, cols])
    np.testing.assert_array_equal(column_coloring(twice_rows, twice_cols, (20, 20)),
                                  column_coloring(rows, cols, (20, 20)))


def test_invalid_colorings_are_detected() -> None:
    rows, cols = tridiagonal(10)
    assert not is_valid_column_coloring(rows, cols, (10, 10), np.zeros(10, dtype=np.int64))
    assert not is_valid_column_coloring(rows, cols, (10, 10), np.arange(10) % 2)
    assert is_valid_column_coloring(rows, cols, (10, 10), np.arange(10) % 3)
    assert not is_valid_column_coloring(rows, cols, (10, 10), np.arange(9) % 3)
    assert not is_valid_column_coloring(rows, cols, (10, 10), np.arange(10) % 3 - 1)


def test_star_recovery_refuses_a_proper_coloring_that_is_not_a_star_coloring() -> None:
    rows, cols = tridiagonal(4)  # the path 0-1-2-3
    with pytest.raises(ValueError, match="not a star colouring"):
        star_recovery(rows, cols, np.array([0, 1, 0, 1]))
    assert_star_recovers(rows, cols, 4, np.array([0, 1, 2, 0]))  # three colours on the path suffice
    with pytest.raises(ValueError, match="not a star colouring"):
        star_recovery(rows, cols, np.zeros(4, dtype=np.int64))


def test_bad_arguments() -> None:
    rows, cols = tridiagonal(5)
    with pytest.raises(ValueError, match="outside the shape"):
        column_coloring(rows, cols, (5, 4))
    with pytest.raises(ValueError, match="outside the shape"):
        star_coloring(rows, cols, 4)
    with pytest.raises(ValueError, match="one length"):
        column_coloring(rows, cols[:-1], (5, 5))
    with pytest.raises(ValueError, match="integers"):
        column_coloring(rows.astype(float), cols, (5, 5))
    with pytest.raises(ValueError, match="non-negative integers"):
        star_recovery(rows, cols, np.full(5, -1))


@pytest.mark.parametrize(("pattern", "n", "bound"), [(tridiagonal(100_000), 100_000, 5.0),
                                                      (stencil(100), 10_000, 5.0)], ids=["tridiagonal", "stencil"])
def test_large_patterns_color_in_linear_time(pattern, n: int, bound: float) -> None:
    """A loose bound (the machine may be busy) that still catches quadratic work or deep recursion."""
    rows, cols = pattern
    start = time.perf_counter()
    columns = column_coloring(rows, cols, (n, n))
    elapsed = time.perf_counter() - start
    assert elapsed < bound
    assert is_valid_column_coloring(rows, cols, (n, n), columns)
    star = star_coloring(rows, cols, n)
    star_recovery(rows, cols, star)
    assert time.perf_counter() - start < 3 * bound
