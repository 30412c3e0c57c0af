"""sd.linalg: values against numpy.linalg, gradients, second derivatives, batching, dispatch, errors, backends."""

from __future__ import annotations

from typing import Any

import array_api_strict as xp
import numpy as np
import pytest

import symdiff as sd
from symdiff.testing import check_grad

la = sd.linalg


def spd(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Random symmetric positive-definite matrices (distinct eigenvalues almost surely)."""
    x = rng.standard_normal(shape)
    return x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])


def well_conditioned(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_normal(shape) + 3.0 * np.eye(shape[-2], shape[-1])


def value(expr: Any, *pairs: tuple[sd.Node, np.ndarray]) -> Any:
    return sd.function([p[0] for p in pairs], expr)(*[p[1] for p in pairs])


def weighted(rng: np.random.Generator, *nodes: sd.Node) -> sd.Node:
    total = sd.as_node(0.0)
    for node in nodes:
        total = total + sd.sum(node * rng.uniform(0.5, 1.5, size=node.shape))
    return total


def fd_jacobian(f: Any, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    y = np.asarray(f(x))
    result = np.zeros(y.shape + x.shape)
    for index in np.ndindex(*x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        result[(..., *index)] = (np.asarray(f(x + step)) - np.asarray(f(x - step))) / (2 * eps)
    return result


# ---- values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("a_shape", "b_shape"), [((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (3,)),
                                                  ((2, 3, 3), (3, 4)), ((3, 3), (2, 3, 1)), ((2, 1, 3, 3), (4, 3, 2)),
                                                  ((1, 1), (1,))])
def test_solve_matches_numpy_with_numpy_2_b_rule(rng: np.random.Generator, a_shape: Any, b_shape: Any) -> None:
    a, b = well_conditioned(rng, a_shape), rng.standard_normal(b_shape)
    A, B = sd.var("A", a_shape), sd.var("B", b_shape)
    x = la.solve(A, B)
    expected = np.linalg.solve(a, b)
    assert x.shape == expected.shape
    np.testing.assert_allclose(value(x, (A, a), (B, b)), expected, rtol=1e-12)
    check_grad(weighted(rng, x), [A, B], at=[a, b], rtol=1e-5)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (1, 1)])
def test_inv_det_slogdet_match_numpy(rng: np.random.Generator, shape: Any) -> None:
    a = well_conditioned(rng, shape)
    a[..., 0, :] *= -1.0  # a negative determinant somewhere
    A = sd.var("A", shape)
    sign, logabs = la.slogdet(A)
    got = value([la.inv(A), la.det(A), sign, logabs], (A, a))
    np.testing.assert_allclose(got[0], np.linalg.inv(a), rtol=1e-12)
    np.testing.assert_allclose(got[1], np.linalg.det(a), rtol=1e-12)
    np.testing.assert_array_equal(got[2], np.linalg.slogdet(a).sign)
    np.testing.assert_allclose(got[3], np.linalg.slogdet(a).logabsdet, rtol=1e-12)
    assert la.slogdet(A).logabsdet is logabs  # a named tuple, as NumPy's
    check_grad(weighted(rng, la.inv(A)), A, at=[a])
    check_grad(weighted(rng, la.det(A)), A, at=[a])
    check_grad(weighted(rng, logabs), A, at=[a])


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_matches_numpy_and_reads_one_triangle(rng: np.random.Generator, shape: Any, upper: bool) -> None:
    a = spd(rng, shape)
    unread = np.tril(np.ones(shape[-2:]), -1) if upper else np.triu(np.ones(shape[-2:]), 1)
    skewed = a + 5.0 * unread  # NumPy reads the other triangle only
    A = sd.var("A", shape)
    factor = la.cholesky(A, upper=upper)
    np.testing.assert_allclose(value(factor, (A, skewed)), np.linalg.cholesky(skewed, upper=upper), rtol=1e-12)
    check_grad(weighted(rng, factor), A, at=[skewed])
    (g,) = sd.function([A], sd.grad(weighted(rng, factor), [A]))(skewed)
    np.testing.assert_array_equal(g * unread, np.zeros(shape))


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_matches_numpy_with_uplo(rng: np.random.Generator, shape: Any, uplo: str) -> None:
    a = rng.standard_normal(shape)  # not symmetric: NumPy reads the UPLO triangle only
    A = sd.var("A", shape)
    w, v = la.eigh(A, UPLO=uplo)
    expected = np.linalg.eigh(a, UPLO=uplo)
    got_w, got_v = value([w, v], (A, a))
    np.testing.assert_allclose(got_w, expected.eigenvalues, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got_v, expected.eigenvectors, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(value(la.eigvalsh(A, uplo), (A, a)), np.linalg.eigvalsh(a, uplo), rtol=1e-12,
                               atol=1e-12)
    assert la.eigh(A, uplo.lower()).eigenvectors is v
    # sign-invariant uses of the eigenvectors: their squares, and a projector
    projector = sd.matmul(v[..., :, :1], sd.transpose(v[..., :, :1], (*range(v.ndim - 2), v.ndim - 1, v.ndim - 2)))
    check_grad(weighted(rng, w, v * v, projector), A, at=[a])


@pytest.mark.parametrize("shape", [(3, 3), (4, 3), (3, 5), (2, 4, 3), (2, 3, 4)])
def test_svd_matches_numpy(rng: np.random.Generator, shape: Any) -> None:
    a = rng.standard_normal(shape)
    A = sd.var("A", shape)
    u, s, vh = la.svd(A, full_matrices=False)
    expected = np.linalg.svd(a, full_matrices=False)
    got = value([u, s, vh], (A, a))
    for part, want in zip(got, expected, strict=True):
        np.testing.assert_allclose(part, want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(value(la.svd(A, compute_uv=False), (A, a)), np.linalg.svd(a, compute_uv=False),
                               rtol=1e-12)
    assert la.svdvals(A) is s
    polar = sd.matmul(u, vh)  # independent of the signs of the singular vectors
    check_grad(weighted(rng, s, polar, u * u, vh * vh), A, at=[a])


def test_svd_full_matrices_default_is_the_reduced_form_for_square_input(rng: np.random.Generator) -> None:
    a = rng.standard_normal((3, 3))
    A = sd.var("A", (3, 3))
    got = value(list(la.svd(A)), (A, a))
    for part, want in zip(got, np.linalg.svd(a), strict=True):
        np.testing.assert_allclose(part, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 3), (5, 3), (3, 5), (2, 4, 2), (2, 2, 4)])
def test_qr_matches_numpy(rng: np.random.Generator, shape: Any) -> None:
    a = rng.standard_normal(shape)
    A = sd.var("A", shape)
    q, r = la.qr(A)
    expected = np.linalg.qr(a)
    got_q, got_r = value([q, r], (A, a))
    np.testing.assert_allclose(got_q, expected.Q, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got_r, expected.R, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(value(la.qr(A, mode="r"), (A, a)), np.linalg.qr(a, mode="r"), rtol=1e-10, atol=1e-12)
    check_grad(weighted(rng, q, r), A, at=[a])


def test_qr_complete_is_accepted_where_it_is_the_reduced_form(rng: np.random.Generator) -> None:
    a = rng.standard_normal((3, 4))
    A = sd.var("A", (3, 4))
    got = value(list(la.qr(A, mode="complete")), (A, a))
    for part, want in zip(got, np.linalg.qr(a, mode="complete"), strict=True):
        np.testing.assert_allclose(part, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4), (2, 3, 2)])
@pytest.mark.parametrize("keywords", [{}, {"rcond": 1e-10}, {"rtol": 1e-8}, {"rtol": None}])
def test_pinv_matches_numpy(rng: np.random.Generator, shape: Any, keywords: dict[str, Any]) -> None:
    a = rng.standard_normal(shape)
    A = sd.var("A", shape)
    x = la.pinv(A, **keywords)
    np.testing.assert_allclose(value(x, (A, a)), np.linalg.pinv(a, **keywords), rtol=1e-10, atol=1e-12)
    if not keywords:
        check_grad(weighted(rng, x), A, at=[a])


def test_pinv_keeps_numpy_cut_off(rng: np.random.Generator) -> None:
    a = np.outer(rng.standard_normal(3), rng.standard_normal(4))  # rank 1
    A = sd.var("A", (3, 4))
    np.testing.assert_allclose(value(la.pinv(A), (A, a)), np.linalg.pinv(a), rtol=1e-8, atol=1e-12)


VECTOR_ORDERS = [None, 2, 1, np.inf, -np.inf, 0, 3, 0.5, -1.5]
MATRIX_ORDERS = [None, "fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf]


@pytest.mark.parametrize("ord", VECTOR_ORDERS)
@pytest.mark.parametrize(("shape", "axis", "keepdims"), [((4,), None, False), ((3, 4), 1, False),
                                                         ((2, 3, 4), -2, True), ((3, 4), (0,), True)])
def test_vector_norms_match_numpy(rng: np.random.Generator, ord: Any,  # noqa: A002
                                  shape: Any, axis: Any, keepdims: bool) -> None:
    x = rng.uniform(0.3, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    X = sd.var("x", shape)
    n = la.norm(X, ord, axis, keepdims)
    np.testing.assert_allclose(value(n, (X, x)), np.linalg.norm(x, ord, axis, keepdims), rtol=1e-12)
    if ord not in (np.inf, -np.inf, 0):  # max/min and the count: checked elsewhere or piecewise constant
        check_grad(weighted(rng, n), X, at=[x])


@pytest.mark.parametrize("ord", MATRIX_ORDERS)
@pytest.mark.parametrize(("shape", "axis", "keepdims"), [((3, 4), None, False), ((2, 3, 4), (2, 0), True),
                                                         ((3, 2, 4), (-3, -1), False)])
def test_matrix_norms_match_numpy(rng: np.random.Generator, ord: Any,  # noqa: A002
                                  shape: Any, axis: Any, keepdims: bool) -> None:
    x = rng.standard_normal(shape)
    X = sd.var("x", shape)
    n = la.norm(X, ord, axis, keepdims)
    expected = np.linalg.norm(x, ord, axis, keepdims)
    assert n.shape == expected.shape
    np.testing.assert_allclose(value(n, (X, x)), expected, rtol=1e-12)
    check_grad(weighted(rng, n), X, at=[x])


def test_norm_of_every_entry_and_the_new_norm_functions(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3, 4))
    X = sd.var("x", (2, 3, 4))
    cases = [(la.norm(X), np.linalg.norm(x)), (la.norm(X, keepdims=True), np.linalg.norm(x, keepdims=True)),
             (la.vector_norm(X), np.linalg.vector_norm(x)),
             (la.vector_norm(X, axis=(0, 2), ord=1, keepdims=True),
              np.linalg.vector_norm(x, axis=(0, 2), ord=1, keepdims=True)),
             (la.matrix_norm(X, ord="nuc"), np.linalg.matrix_norm(x, ord="nuc")),
             (la.matrix_norm(X, keepdims=True), np.linalg.matrix_norm(x, keepdims=True))]
    for node, expected in cases:
        assert node.shape == np.shape(expected)
        np.testing.assert_allclose(value(node, (X, x)), expected, rtol=1e-12)
    check_grad(weighted(rng, cases[3][0], cases[4][0]), X, at=[x])


@pytest.mark.parametrize("p", [None, 2, -2, 1, -1, np.inf, -np.inf, "fro", "nuc"])
@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 3), (3, 5)])
def test_cond_matches_numpy(rng: np.random.Generator, p: Any, shape: Any) -> None:
    x = rng.standard_normal(shape)
    X = sd.var("x", shape)
    if shape[-1] != shape[-2] and p not in (None, 2, -2):
        with pytest.raises(sd.ShapeError, match=r"cond.*\(3, 5\)"):
            la.cond(X, p)
        return
    c = la.cond(X, p)
    np.testing.assert_allclose(value(c, (X, x)), np.linalg.cond(x, p), rtol=1e-10)
    assert np.linalg.cond(X, p) is c
    check_grad(weighted(rng, c), X, at=[x])


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 6, 11, -1, -2, -5])
def test_matrix_power_matches_numpy(rng: np.random.Generator, n: int) -> None:
    a = well_conditioned(rng, (2, 3, 3)) / 3.0
    A = sd.var("A", (2, 3, 3))
    p = la.matrix_power(A, n)
    np.testing.assert_allclose(value(p, (A, a)), np.linalg.matrix_power(a, n), rtol=1e-10)
    if n != 0:
        check_grad(weighted(rng, p), A, at=[a])


@pytest.mark.parametrize("shapes", [[(3,), (3, 5), (5,)], [(2, 3), (3, 4), (4, 5)], [(5, 1), (1, 6), (6, 2)],
                                    [(4,), (4, 6), (6, 2), (2, 3), (3,)], [(3, 4), (4,)]])
def test_multi_dot_matches_numpy(rng: np.random.Generator, shapes: list[Any]) -> None:
    arrays = [rng.standard_normal(s) for s in shapes]
    nodes = [sd.var(f"m{i}", s) for i, s in enumerate(shapes)]
    product = la.multi_dot(nodes)
    expected = np.linalg.multi_dot(arrays)
    assert product.shape == np.shape(expected)
    np.testing.assert_allclose(sd.function(nodes, product)(*arrays), expected, rtol=1e-12)
    check_grad(weighted(rng, product), nodes, at=arrays)


def test_linalg_matmul_outer_matrix_transpose_vecdot(rng: np.random.Generator) -> None:
    a, b, v, w = (rng.standard_normal(s) for s in [(2, 3, 4), (4, 2), (3,), (5,)])
    A, B, V, W = sd.var("A", (2, 3, 4)), sd.var("B", (4, 2)), sd.var("v", (3,)), sd.var("w", (5,))
    cases = [(la.matmul(A, B), np.linalg.matmul(a, b)), (la.outer(V, W), np.linalg.outer(v, w)),
             (la.matrix_transpose(A), np.linalg.matrix_transpose(a)),
             (la.vecdot(A, sd.reshape(V, (3, 1)), axis=-2), np.linalg.vecdot(a, v[:, None], axis=-2))]
    for node, expected in cases:
        fn = sd.function([A, B, V, W], node)
        np.testing.assert_allclose(fn(a, b, v, w), expected, rtol=1e-12)


@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 5), (4, 2)])
@pytest.mark.parametrize("offset", [-4, -1, 0, 2])
def test_diagonal_and_trace_match_numpy(rng: np.random.Generator, shape: Any, offset: int) -> None:
    x = rng.standard_normal(shape)
    x[..., 0, -1] = np.inf  # off the diagonal for these offsets: a strided slice never multiplies it by 0
    X = sd.var("x", shape)
    d, t = la.diagonal(X, offset=offset), la.trace(X, offset=offset)
    got_d, got_t = value([d, t], (X, x))
    np.testing.assert_array_equal(got_d, np.linalg.diagonal(x, offset=offset))
    np.testing.assert_allclose(got_t, np.linalg.trace(x, offset=offset), rtol=1e-12)
    assert np.linalg.diagonal(X, offset=offset) is d
    if d.size:
        check_grad(weighted(rng, d, t), X, at=[rng.standard_normal(shape)])


def test_large_matrices_build_their_triangle_masks_at_run_time(rng: np.random.Generator) -> None:
    m = 260  # past the size where masks are constants of the program
    a = spd(rng, (m, m))
    A = sd.var("A", (m, m))
    (g,) = sd.function([A], sd.grad(sd.sum(la.eigvalsh(A)), [A]))(a)
    np.testing.assert_allclose(g, np.eye(m), atol=1e-10)
    np.testing.assert_allclose(value(la.cholesky(A, upper=True), (A, a)), np.linalg.cholesky(a, upper=True),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", ["cholesky", "eigh", "eigh_upper"])
def test_each_ops_own_vjp_is_the_derivative_of_the_numpy_call(rng: np.random.Generator, op: str) -> None:
    """On a non-symmetric input, as the gradient checker's blame step rebuilds it: one triangle is read."""
    a = spd(rng, (3, 3)) + np.triu(np.full((3, 3), 2.0), 1)  # the unread triangle (lower's, for the op) changed
    if op == "eigh_upper":
        a = a.T
    A = sd.var("A", (3, 3))
    node = sd.api.apply(op, [A])
    outputs = sd.api.outputs(node) if op != "cholesky" else (node,)
    squared = [o * o for o in outputs]  # sign-invariant
    check_grad(weighted(rng, *squared), A, at=[a])


# ---- derivatives: second order, jacobians through batching ----------------------------------


def test_hessian_of_logdet_matches_differences_of_its_gradient(rng: np.random.Generator) -> None:
    a = spd(rng, (3, 3))
    A = sd.var("A", (3, 3))
    logdet = la.slogdet(A).logabsdet
    (gradient,) = sd.grad(logdet, [A])
    np.testing.assert_allclose(value(gradient, (A, a)), np.linalg.inv(a).T, rtol=1e-12)
    hessian = value(sd.hessian(logdet, A), (A, a))
    expected = fd_jacobian(sd.function([A], gradient), a)
    np.testing.assert_allclose(hessian, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("build", [
    lambda A, b: sd.sum(b * la.solve(A, b)),
    lambda A, b: sd.sum(b * sd.matmul(la.cholesky(A), b)),
    lambda A, b: sd.sum(b * la.eigh(A).eigenvalues) + sd.sum(la.eigh(A).eigenvectors[:, 0] * b) ** 2,
    lambda A, b: la.det(A) * sd.sum(b * b),
    lambda A, b: sd.sum(la.svd(A).S * b) + sd.sum(la.qr(A).R * b) + sd.sum(la.pinv(A) * b),
])
def test_hessians_through_the_ops_match_differences_of_the_gradient(rng: np.random.Generator, build: Any) -> None:
    a, b = spd(rng, (3, 3)), rng.standard_normal(3)
    A, B = sd.var("A", (3, 3)), sd.var("b", (3,))
    expr = build(A, B)
    for variable, point in ((A, a), (B, b)):
        (gradient,) = sd.grad(expr, [variable])
        g = sd.function([A, B], gradient)
        hessian = sd.function([A, B], sd.hessian(expr, variable))(a, b)
        if variable is A:
            expected = fd_jacobian(lambda x, g=g: g(x, b), a)
        else:
            expected = fd_jacobian(lambda x, g=g: g(a, x), b)
        np.testing.assert_allclose(hessian, expected, rtol=1e-5, atol=1e-7)
        check_grad(sd.sum(gradient * rng.standard_normal(point.shape)), [A, B], at=[a, b], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
@pytest.mark.parametrize("build", [
    lambda A, b: la.solve(A, b), lambda A, b: la.solve(A, sd.reshape(b, (3, 1)) * b),
    lambda A, b: la.solve(sd.reshape(b, (3, 1, 1)) * A, b), lambda A, b: la.det(A) * b,
    lambda A, b: la.cholesky(A), lambda A, b: la.inv(A), lambda A, b: la.eigh(A).eigenvectors ** 2,
    lambda A, b: la.slogdet(A).logabsdet * b, lambda A, b: la.svd(A).S, lambda A, b: la.qr(A).Q,
    lambda A, b: la.pinv(A),
])
def test_jacobians_through_the_ops_match_differences(rng: np.random.Generator, mode: str, build: Any) -> None:
    a, b = spd(rng, (3, 3)), rng.standard_normal(3)
    A, B = sd.var("A", (3, 3)), sd.var("b", (3,))
    expr = build(A, B)
    f = sd.function([A, B], expr)
    for variable in (A, B):
        jac = sd.function([A, B], sd.jacobian(expr, variable, mode=mode))(a, b)
        expected = fd_jacobian(lambda x: f(x, b), a) if variable is A else fd_jacobian(lambda x: f(a, x), b)
        np.testing.assert_allclose(jac, expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("build", [
    lambda A, b: la.solve(A, b), lambda A, b: la.solve(A, sd.reshape(b, (3, 1))), lambda A, b: la.det(A) * b[0],
    lambda A, b: la.cholesky(A), lambda A, b: la.eigh(A).eigenvalues * b, lambda A, b: la.svd(A).S * b,
    lambda A, b: la.qr(A).R, lambda A, b: la.pinv(A), lambda A, b: la.slogdet(A).logabsdet,
])
def test_jacobians_of_batched_inputs(rng: np.random.Generator, build: Any) -> None:
    a, b = spd(rng, (2, 3, 3)), rng.standard_normal(3)
    A, B = sd.var("A", (2, 3, 3)), sd.var("b", (3,))
    expr = build(A, B)
    f = sd.function([A, B], expr)
    for variable in (A, B):
        jac = sd.function([A, B], sd.jacobian(expr, variable))(a, b)
        expected = fd_jacobian(lambda x: f(x, b), a) if variable is A else fd_jacobian(lambda x: f(a, x), b)
        np.testing.assert_allclose(jac, expected, rtol=1e-5, atol=1e-7)


# ---- degenerate eigenvalues -----------------------------------------------------------------


def test_eigh_at_a_repeated_eigenvalue(rng: np.random.Generator) -> None:
    q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    a = q @ np.diag([1.0, 1.0, 2.0]) @ q.T
    A = sd.var("A", (3, 3))
    w, v = la.eigh(A)
    (values_gradient,) = sd.function([A], sd.grad(sd.sum(w), [A]))(a)
    np.testing.assert_allclose(values_gradient, np.eye(3), atol=1e-12)  # the trace's: right at the tie
    (top,) = sd.function([A], sd.grad(w[2], [A]))(a)  # the simple eigenvalue: its projector, by the lower triangle
    projector = np.outer(q[:, 2], q[:, 2])
    np.testing.assert_allclose(top, np.tril(2 * projector) - np.diag(np.diag(projector)), atol=1e-10)
    exact = np.diag([1.0, 1.0, 2.0])  # eigenvalues exactly equal: the eigenvectors have no derivative
    (trace_gradient,) = sd.function([A], sd.grad(sd.sum(w), [A]))(exact)
    np.testing.assert_array_equal(trace_gradient, np.eye(3))
    with np.errstate(divide="ignore", invalid="ignore"):
        (vectors_gradient,) = sd.function([A], sd.grad((v[0, 0] + v[1, 0]) ** 2, [A]))(exact)
    assert not np.all(np.isfinite(vectors_gradient))


# ---- the VJPs reuse the forward results -----------------------------------------------------


def body(source: str) -> str:
    """The generated code past its docstring."""
    return source.split('"""')[2]


def test_adjoints_solve_with_the_transpose_and_share_the_inverse() -> None:
    A, b = sd.var("A", (3, 3)), sd.var("b", (3,))
    solving = body(sd.compile(sd.sum(la.solve(A, b) ** 2), wrt=[A, b]).source)
    assert "np.linalg.inv" not in solving and "np.linalg.solve(A.T" in solving
    sharing = body(sd.compile(la.det(A) + sd.sum(la.inv(A)), wrt=[A]).source)
    assert sharing.count("np.linalg.inv(") == 1
    factor = body(sd.compile(sd.sum(la.cholesky(A)), wrt=[A]).source)
    assert "np.linalg.inv" not in factor and factor.count("np.linalg.cholesky(") == 1


# ---- NumPy dispatch -------------------------------------------------------------------------


def test_numpy_linalg_functions_dispatch_to_the_builders() -> None:
    A, B, b = sd.var("A", (2, 3, 3)), sd.var("B", (3, 4)), sd.var("b", (3,))
    assert np.linalg.solve(A, b) is la.solve(A, b)
    assert np.linalg.inv(A) is la.inv(A)
    assert np.linalg.det(A) is la.det(A)
    assert np.linalg.slogdet(A) == la.slogdet(A)
    assert np.linalg.cholesky(A, upper=True) is la.cholesky(A, upper=True)
    assert np.linalg.eigh(A, UPLO="U") == la.eigh(A, "U")
    assert np.linalg.eigvalsh(A) is la.eigvalsh(A)
    assert np.linalg.svd(B, full_matrices=False) == la.svd(B, full_matrices=False)
    assert np.linalg.svd(B, compute_uv=False) is la.svdvals(B)
    assert np.linalg.svdvals(B) is la.svdvals(B)
    assert np.linalg.qr(B) == la.qr(B)
    assert np.linalg.pinv(B, rtol=1e-9) is la.pinv(B, rtol=1e-9)
    assert np.linalg.norm(B, "nuc") is la.norm(B, "nuc")
    assert np.linalg.norm(A, axis=-1, keepdims=True) is la.norm(A, axis=-1, keepdims=True)
    assert np.linalg.vector_norm(A, ord=3) is la.vector_norm(A, ord=3)
    assert np.linalg.matrix_norm(A, ord=1) is la.matrix_norm(A, ord=1)
    assert np.linalg.matrix_power(A, 3) is la.matrix_power(A, 3)
    assert np.linalg.multi_dot([b, B]) is la.multi_dot([b, B])
    assert np.linalg.matrix_transpose(A) is la.matrix_transpose(A)
    assert np.linalg.outer(b, b) is la.outer(b, b)
    assert np.linalg.slogdet(A).logabsdet is la.slogdet(A)[1]


def test_unsupported_numpy_linalg_calls_raise_by_name() -> None:
    A = sd.var("A", (3, 3))
    with pytest.raises(sd.UnsupportedError, match="lstsq"):
        np.linalg.lstsq(A, A)
    with pytest.raises(sd.UnsupportedError, match="eig"):
        np.linalg.eig(A)
    with pytest.raises(sd.UnsupportedError, match="out"):
        np.linalg.multi_dot([A, A], out=np.zeros((3, 3)))


# ---- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("build", [la.inv, la.det, la.slogdet, la.cholesky, la.eigh, la.eigvalsh,
                                   lambda a: la.matrix_power(a, 2), lambda a: la.solve(a, np.ones(2))])
def test_non_square_input_raises_shape_error_naming_op_and_shape(build: Any) -> None:
    with pytest.raises(sd.ShapeError, match=r"\(2, 3\)") as error:
        build(sd.var("A", (2, 3)))
    message = str(error.value)
    assert any(name in message for name in ("inv", "det", "slogdet", "cholesky", "eigh", "matrix_power", "solve"))


@pytest.mark.parametrize(("build", "words"), [
    (lambda a: la.solve(a, sd.var("b", (4,))), "solve.*b of shape"),
    (lambda a: la.solve(a, sd.var("b", (2, 4, 1))), "solve.*M = 3"),
    (lambda a: la.solve(a, 1.0), "solve"),
    (lambda a: la.svd(sd.var("v", (3,))), r"svd.*\(3,\)"),
    (lambda a: la.qr(sd.var("v", (3,))), r"qr.*\(3,\)"),
    (lambda a: la.pinv(sd.var("v", (3,))), r"pinv.*\(3,\)"),
    (lambda a: la.norm(sd.var("t", (2, 2, 2)), 2), "1-d or 2-d"),
    (lambda a: la.norm(a, axis=(0, 1, 0)), "3 axes"),
    (lambda a: la.norm(a, axis=(1, 1)), "repeated"),
    (lambda a: la.multi_dot([a]), "at least two"),
    (lambda a: la.multi_dot([a, sd.var("t", (3, 3, 3)), a]), "array 1"),
    (lambda a: la.outer(a, a), "1-d"),
])
def test_bad_shapes_raise_shape_error(build: Any, words: str) -> None:
    with pytest.raises(sd.ShapeError, match=words):
        build(sd.var("A", (3, 3)))


def test_an_axis_out_of_range_raises_axis_error() -> None:
    with pytest.raises(sd.api.AxisError):
        la.norm(sd.var("A", (3, 3)), axis=2)


@pytest.mark.parametrize(("build", "keyword"), [
    (lambda a: la.eigh(a, UPLO="X"), "UPLO"), (lambda a: la.eigvalsh(a, UPLO=0), "UPLO"),
    (lambda a: la.svd(sd.var("w", (3, 4))), "full_matrices"), (lambda a: la.svd(a, hermitian=True), "hermitian"),
    (lambda a: la.qr(a, mode="raw"), "mode"), (lambda a: la.qr(sd.var("t", (4, 3)), mode="complete"), "mode"),
    (lambda a: la.pinv(a, hermitian=True), "hermitian"), (lambda a: la.pinv(a, rcond=np.ones(3)), "rcond"),
    (lambda a: la.pinv(a, rcond=1e-3, rtol=1e-3), "rtol and rcond"),
    (lambda a: la.matrix_power(a, 1.5), "n="), (lambda a: la.matrix_power(a, True), "n="),
    (lambda a: la.norm(sd.var("v", (3,)), "fro"), "ord='fro'"), (lambda a: la.norm(a, 3), "ord=3"),
    (lambda a: la.norm(a, "max"), "ord='max'"), (lambda a: la.norm(a, [1]), "ord="),
    (lambda a: la.norm(a, axis=[0, 1]), "axis="), (lambda a: la.cholesky(a, upper="yes"), "upper"),
    (lambda a: la.multi_dot([a, a], out=np.zeros((3, 3))), "out="),
])
def test_unsupported_keyword_values_raise_naming_the_keyword(build: Any, keyword: str) -> None:
    with pytest.raises(sd.UnsupportedError, match=keyword):
        build(sd.var("A", (3, 3)))


# ---- backends -------------------------------------------------------------------------------


@pytest.mark.parametrize(("build", "name"), [(la.inv, "inv"), (la.det, "det"), (lambda a: la.slogdet(a)[1], "slogdet"),
                                             (la.cholesky, "cholesky"), (la.eigvalsh, "eigh"),
                                             (lambda a: la.svd(a).S, "svd"), (lambda a: la.qr(a).R, "qr"),
                                             (la.pinv, "pinv"), (lambda a: la.solve(a, a), "solve")])
def test_numba_refuses_each_op_by_name(build: Any, name: str) -> None:
    A = sd.var("A", (3, 3))
    with pytest.raises(sd.UnsupportedError, match=f"numba backend cannot compute.*{name}"):
        sd.compile(sd.sum(build(A)), wrt=[A], backend="numba")


def test_array_api_backend_agrees_with_numpy(rng: np.random.Generator) -> None:
    a, b = spd(rng, (2, 3, 3)), rng.standard_normal(3)
    A, B = sd.var("A", (2, 3, 3)), sd.var("b", (3,))
    u, s, vh = la.svd(A)
    q, r = la.qr(A)
    expr = (sd.sum(la.solve(A, B) ** 2) + sd.sum(la.slogdet(A).logabsdet) + sd.sum(la.det(A))
            + sd.sum(la.inv(A)) + weighted(rng, la.cholesky(A), la.eigh(A).eigenvalues, la.eigh(A).eigenvectors ** 2,
                                            s, sd.matmul(u, vh), q, r, la.pinv(A, rtol=1e-12), la.norm(A, 2, (1, 2))))
    expected_value, expected_grads = sd.compile(expr, wrt=[A, B])(a, b)
    source = sd.compile(expr, wrt=[A, B], backend="array_api")
    got_value, got_grads = source(xp.asarray(a), xp.asarray(b))
    assert isinstance(got_value, xp.asarray(0.0).__class__)
    np.testing.assert_allclose(float(got_value), expected_value, rtol=1e-12)
    for got, want in zip(got_grads, expected_grads, strict=True):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-9, atol=1e-12)
    assert "np." not in body(source.source)


def test_array_api_refuses_the_upper_triangle_eigh_by_name() -> None:
    A = sd.var("A", (3, 3))
    with pytest.raises(sd.UnsupportedError, match="array_api backend cannot compute eigh_upper"):
        sd.compile(sd.sum(la.eigvalsh(A, UPLO="U")), wrt=[A], backend="array_api")


def test_float32(rng: np.random.Generator) -> None:
    a = spd(rng, (2, 3, 3))
    A = sd.var("A", (2, 3, 3))
    expr = sd.sum(la.slogdet(A).logabsdet) + sd.sum(la.eigvalsh(A) ** 2) + sd.sum(la.solve(A, np.ones(3)))
    got, (g,) = sd.compile(expr, wrt=[A], dtype=np.float32)(a.astype(np.float32))
    want, (w,) = sd.compile(expr, wrt=[A])(a)
    assert g.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5)
    np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)
