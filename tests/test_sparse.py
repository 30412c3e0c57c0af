"""Sparse Jacobians and Hessians against the dense ones, at random points.

Each structure is built as an ordinary graph; the sparse function must give exactly the
dense derivative's entries (so a pattern that misses a non-zero, or a colouring that mixes
two columns, fails), and the pattern must hold every entry the dense one has.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import symdiff as sd

pytest.importorskip("scipy")


def dense_jacobian(expr: sd.Node, wrt: list[sd.Node], inputs: list[sd.Node], args: list[Any]) -> np.ndarray:
    blocks = [sd.jacobian(expr, w) for w in wrt]
    values = sd.function(inputs, blocks)(*args)
    return np.concatenate([np.reshape(v, (expr.size, w.size)) for v, w in zip(values, wrt, strict=True)], axis=1)


def dense_hessian(expr: sd.Node, wrt: list[sd.Node], inputs: list[sd.Node], args: list[Any]) -> np.ndarray:
    flat = sd.concatenate([sd.reshape(g, (g.size,)) for g in sd.grad(expr, wrt)])
    return dense_jacobian(flat, wrt, inputs, args)


def banded(x):
    return sd.sin(x[2:]) * x[:-2] + x[1:-1] ** 2


def block_diagonal(x):
    blocks = sd.reshape(x, (4, 3))
    return sd.reshape(sd.tanh(blocks @ np.arange(9.0).reshape(3, 3)) * sd.sum(blocks, axis=1, keepdims=True), (12,))


def arrowhead(x):
    return sd.concatenate([sd.sum(x * x)[None], x[1:] * x[0]])


def random_sparse(x):
    mask = np.random.default_rng(9).random((10, 12)) < 0.2
    return sd.exp(np.where(mask, np.linspace(-1, 1, 120).reshape(10, 12), 0.0) @ x) + x[:10] * x[2:]


def dense(x):
    return sd.outer(x, x).sum(axis=0) * sd.log(1.0 + sd.sum(x * x))


def with_where(x):
    return sd.where(x[1:] > x[:-1], x[1:] ** 2, -x[:-1]) + sd.maximum(x[1:], 0.1)


def with_indexing(x):
    return x[[0, 3, 3, 7]] * x[::-1][:4] + sd.sort(x)[-4:]


def with_reductions(x):
    rows = sd.reshape(x, (3, 4))
    return sd.concatenate([sd.mean(rows, axis=0), sd.max(rows, axis=1), sd.logsumexp(rows, axis=1), sd.cumsum(x)[:2]])


CASES: dict[str, tuple[Callable[[sd.Node], sd.Node], int]] = {
    "banded": (banded, 12), "block-diagonal": (block_diagonal, 12), "arrowhead": (arrowhead, 12),
    "random-sparse": (random_sparse, 12), "dense": (dense, 6), "where": (with_where, 12),
    "indexing": (with_indexing, 12), "reductions": (with_reductions, 12),
}


@pytest.mark.parametrize("mode", ["forward", "reverse", None])
@pytest.mark.parametrize("name", list(CASES))
def test_a_sparse_jacobian_equals_the_dense_one(name: str, mode: str | None) -> None:
    build, n = CASES[name]
    x = sd.var("x", (n,))
    expr = build(x)
    fn = sd.sparse_jacobian(expr, x, mode=mode)
    rng = np.random.default_rng(1)
    for _ in range(3):
        point = rng.uniform(0.2, 1.5, n) * rng.choice([-1.0, 1.0], n)
        value, jac = fn(point)
        want = dense_jacobian(expr, [x], [x], [point])
        np.testing.assert_allclose(value, sd.evaluate(expr, {x: point}), rtol=1e-14)
        assert jac.shape == want.shape == (expr.size, n)
        np.testing.assert_allclose(jac.toarray(), want, rtol=1e-12, atol=1e-14)
        assert not np.any(want[~fn.pattern.to_dense()]), "the dense Jacobian has a non-zero the pattern lacks"
    assert fn.colors <= n
    if mode is not None:
        assert mode in fn.mode and mode in fn.source


def test_columns_of_several_variables_are_concatenated_in_wrt_order() -> None:
    a, b, data = sd.var("a", (3,)), sd.var("b", (2, 2)), sd.var("d", (3,))
    expr = sd.concatenate([a * data, sd.reshape(b, (4,)) ** 3, (sd.sum(b) * a[:1])])
    fn = sd.sparse_jacobian(expr, [a, b], inputs=[a, b, data])
    point = [np.array([0.5, -1.0, 2.0]), np.array([[1.0, 2.0], [-0.5, 0.3]]), np.array([3.0, 4.0, 5.0])]
    _, jac = fn(*point)
    np.testing.assert_allclose(jac.toarray(), dense_jacobian(expr, [a, b], [a, b, data], point), rtol=1e-13)
    assert jac.shape == (8, 7)


def test_coo_needs_no_scipy_and_csr_index_arrays_are_shared_read_only() -> None:
    x = sd.var("x", (5,))
    coo = sd.sparse_jacobian(x[1:] * x[:-1], x, format="coo")
    _, (data, rows, cols) = coo(np.arange(1.0, 6.0))
    dense = np.zeros((4, 5))
    dense[rows, cols] = data
    np.testing.assert_array_equal(dense, dense_jacobian(x[1:] * x[:-1], [x], [x], [np.arange(1.0, 6.0)]))
    csr = sd.sparse_jacobian(x[1:] * x[:-1], x)
    first, second = csr(np.ones(5))[1], csr(np.full(5, 2.0))[1]
    assert np.shares_memory(first.indices, second.indices) and not first.indices.flags.writeable
    assert first.data is not second.data and first.data[0] == 1.0


def poisson(side: int) -> tuple[sd.Node, sd.Node]:
    u = sd.var("u", (side, side))
    padded = sd.pad(u, 1)
    lap = padded[:-2, 1:-1] + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:] - 4.0 * u
    return sd.reshape(lap + 0.1 * u ** 3, (side * side,)), u


def test_the_poisson_residual_has_the_five_point_stencil_and_few_colours() -> None:
    side = 30
    residual, u = poisson(side)
    pattern = sd.sparsity(residual, u)
    grid = np.arange(side * side).reshape(side, side)
    want = np.eye(side * side, dtype=bool)
    for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        src = grid[max(di, 0):side + min(di, 0), max(dj, 0):side + min(dj, 0)]
        dst = grid[max(-di, 0):side + min(-di, 0), max(-dj, 0):side + min(-dj, 0)]
        want[dst.ravel(), src.ravel()] = True
    np.testing.assert_array_equal(pattern.to_dense(), want)
    fn = sd.sparse_jacobian(residual, u)
    assert fn.colors <= 6
    point = np.random.default_rng(2).normal(size=(side, side))
    np.testing.assert_allclose(fn(point)[1].toarray(), dense_jacobian(residual, [u], [u], [point]), rtol=1e-13)


def rosenbrock(n: int) -> tuple[sd.Node, sd.Node]:
    x = sd.var("x", (n,))
    return sd.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2), x


@pytest.mark.parametrize("name", ["rosenbrock", *CASES])
def test_a_sparse_hessian_equals_the_dense_one(name: str) -> None:
    if name == "rosenbrock":
        expr, x = rosenbrock(15)
    else:
        build, n = CASES[name]
        x = sd.var("x", (n,))
        out = build(x)
        expr = sd.sum(out * out)
    fn = sd.sparse_hessian(expr, x)
    rng = np.random.default_rng(3)
    for _ in range(3):
        point = rng.uniform(0.3, 1.2, x.size)
        _, gradient, hess = fn(point)
        want = dense_hessian(expr, [x], [x], [point])
        np.testing.assert_allclose(hess.toarray(), want, rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(gradient, sd.compile(expr, [x])(point)[1][0], rtol=1e-13)
        assert not np.any(want[~fn.pattern.to_dense()])
    if name == "rosenbrock":
        assert fn.colors <= 3


def test_hessian_sparsity_is_symmetric_and_tridiagonal_for_the_chained_rosenbrock() -> None:
    expr, x = rosenbrock(8)
    pattern = sd.hessian_sparsity(expr, x)
    band = np.abs(np.subtract.outer(np.arange(8), np.arange(8))) <= 1
    np.testing.assert_array_equal(pattern.to_dense(), band)


def test_bad_arguments_raise_clear_errors() -> None:
    x = sd.var("x", (3,))
    with pytest.raises(sd.GraphError, match="mode must be"):
        sd.sparse_jacobian(x * 2.0, x, mode="sideways")
    with pytest.raises(sd.GraphError, match="format must be"):
        sd.sparse_jacobian(x * 2.0, x, format="dense")
    with pytest.raises(sd.GraphError, match="scalar"):
        sd.sparse_hessian(x * 2.0, x)
    n = sd.var("y", ("n",))
    with pytest.raises(sd.UnsupportedError, match="named dimensions"):
        sd.sparsity(n * 2.0, n)


def test_named_dimensions_get_a_pattern_and_a_function_per_size() -> None:
    x, w = sd.var("x", ("n",)), sd.var("w", (2,))
    residual = x[1:] - x[:-1] ** 2 * w[0] + sd.mean(x) * w[1]
    fn = sd.sparse_jacobian(residual, [x, w], inputs=[x, w])
    hess = sd.sparse_hessian(sd.sum(residual ** 2), [x, w], inputs=[x, w])
    rng = np.random.default_rng(4)
    for n in (4, 9, 4):
        point = [rng.normal(size=n), np.array([0.5, 2.0])]
        fixed_x, fixed_w = sd.var("x", (n,)), sd.var("w", (2,))
        fixed = fixed_x[1:] - fixed_x[:-1] ** 2 * fixed_w[0] + sd.mean(fixed_x) * fixed_w[1]
        value, jac = fn(*point)
        np.testing.assert_allclose(value, sd.evaluate(fixed, dict(zip([fixed_x, fixed_w], point, strict=True))))
        np.testing.assert_allclose(jac.toarray(), dense_jacobian(fixed, [fixed_x, fixed_w], [fixed_x, fixed_w], point),
                                   rtol=1e-13, atol=1e-15)
        _, _, h = hess(*point)
        want = dense_hessian(sd.sum(fixed ** 2), [fixed_x, fixed_w], [fixed_x, fixed_w], point)
        np.testing.assert_allclose(h.toarray(), want, rtol=1e-12, atol=1e-13)
        assert fn.at(n=n).pattern.shape == (n - 1, n + 2)
    assert sorted(fn.built) == [(4,), (9,)]  # built once per size
    assert sd.sparsity(residual, [x, w], sizes={"n": 6}).shape == (5, 8)
    with pytest.raises(sd.ArgumentError, match="needs n >= 1"):
        fn(np.zeros(0), np.ones(2))


def test_a_scan_output_reads_every_input_of_the_loop() -> None:
    x, c0 = sd.var("x", (3,)), sd.var("c0")
    final, ys = sd.scan(lambda c, xi: (c + xi ** 2, c * xi), c0, x)
    assert sd.sparsity(ys, x).nnz == 9
    assert sd.hessian_sparsity(final ** 2, x).nnz == 9


def test_pieces_of_split_keep_their_positions_in_hessian_patterns() -> None:
    x = sd.var("x", (6,))
    assert sd.hessian_sparsity(sd.sum(sd.stack([x[:3], x[3:]]) ** 3), x).nnz == 6
    assert sd.hessian_sparsity(sd.sum(sd.roll(x, 1) * x ** 2), x).nnz == 18
    long = sd.var("y", (2000,))
    fn = sd.sparse_hessian(sd.sum(sd.diff(sd.pad(long, 1, mode="edge")) ** 4), long)
    assert fn.pattern.nnz == 5998 and fn.colors <= 3


def test_dense_rows_and_products_are_refused_or_avoided_clearly() -> None:
    x, p = sd.var("x", (20000,)), sd.var("p")
    fn = sd.sparse_jacobian(x ** 2 - p, [x, p])  # the column of p is full: the rows are not coloured
    assert fn.colors == 2 and "too many to colour" in fn.mode
    with pytest.raises(sd.UnsupportedError, match="too costly; use the other mode"):
        sd.sparse_jacobian(x ** 2 - p, [x, p], mode="reverse")
    a, b = sd.var("A", (500, 500)), sd.var("B", (500, 500))
    with pytest.raises(sd.UnsupportedError, match="too dense"):
        sd.sparsity(a @ b, [a, b])


def test_named_sizes_are_checked_and_the_per_size_function_says_what_it_lacks() -> None:
    x = sd.var("x", ("n",))
    fn = sd.sparse_jacobian(x * 2.0, x)
    with pytest.raises(sd.ArgumentError, match="no size given for the dimension n"):
        sd.sparsity(x * 2.0, x, sizes={"m": 5})
    with pytest.raises(sd.ArgumentError, match="non-negative int"):
        sd.sparsity(x * 2.0, x, sizes={"n": 2.5})
    with pytest.raises(sd.UnsupportedError, match=r"f.at\(n=...\).pattern"):
        _ = fn.pattern
    with pytest.raises(sd.UnsupportedError, match="give their sizes"):
        sd.sparsity(x * 2.0, x)
    with pytest.raises(sd.UnsupportedError, match="named dimensions"):
        sd.scipy_constraint(x ** 2, [x], 0.0, 1.0)
