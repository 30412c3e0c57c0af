"""grad, vjp, jvp, hvp, function and pullback: graphs that re-enter the same pipeline."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy

import symdiff as sd
from symdiff.gallery import helmholtz
from symdiff.graph import free_variables, toposort

pytestmark = pytest.mark.usefixtures("each_backend")  # every test on both backends

RNG = np.random.default_rng(11)


def central(f, x: np.ndarray, direction: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    return (np.asarray(f(x + eps * direction)) - np.asarray(f(x - eps * direction))) / (2 * eps)


def test_grad_gives_nodes_of_each_variables_shape_that_compile_like_compile() -> None:
    w, X = sd.var("w", shape=(3,)), sd.var("X", shape=(4, 3))
    b = sd.var("b")
    loss = sd.sum(sd.tanh(X @ w + b) ** 2)
    gw, gX, gb = sd.grad(loss, [w, X, b])
    assert (gw.shape, gX.shape, gb.shape) == ((3,), (4, 3), ())
    point = [RNG.normal(size=3), RNG.normal(size=(4, 3)), 0.3]
    got = sd.function([w, X, b], [gw, gX, gb])(*point)
    _, expected = sd.compile(loss, [w, X, b])(*point)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-14)


def test_grad_of_an_unused_variable_is_zero_of_its_shape() -> None:
    x, y = sd.var("x", shape=(2,)), sd.var("y", shape=(3,))
    (gy,) = sd.grad(sd.sum(sd.sin(x)), [y])
    np.testing.assert_array_equal(sd.function([x, y], gy)(np.ones(2), np.ones(3)), np.zeros(3))


def test_grad_rejects_a_non_scalar_expression() -> None:
    x = sd.var("x", shape=(3,))
    with pytest.raises(sd.ShapeError, match=r"sd\.vjp"):
        sd.grad(sd.sin(x), [x])


def test_third_derivative_of_a_scalar_matches_sympy() -> None:
    x = sd.var("x")
    f = sd.exp(sd.sin(x) * x)
    (d1,) = sd.grad(f, [x])
    (d2,) = sd.grad(d1, [x])
    (d3,) = sd.grad(d2, [x])
    s = sympy.Symbol("s")
    expected = [float(sympy.diff(sympy.exp(sympy.sin(s) * s), s, k).subs(s, 0.7)) for k in (1, 2, 3)]
    np.testing.assert_allclose(sd.function([x], [d1, d2, d3])(0.7), expected, rtol=1e-12)


def chain_third_derivative_size(length: int) -> int:
    x = sd.var("x")
    y = x
    for _ in range(length):
        y = sd.sin(y) * 0.9 + x
    d = y
    for _ in range(3):
        (d,) = sd.grad(d, [x])
    return len(toposort([d]))


def test_nested_grad_stays_linear_in_the_chain_length() -> None:
    sizes = [chain_third_derivative_size(n) for n in (50, 100, 200)]
    assert sizes[1] / sizes[0] < 2.1 and sizes[2] / sizes[1] < 2.1, sizes


def test_vjp_of_a_matrix_valued_expression_matches_central_differences() -> None:
    A = sd.var("A", shape=(3, 4))
    v = sd.var("v", shape=(4,))
    out = sd.exp(A * 0.5) * v + A @ sd.reshape(v, (4, 1))
    cotangent = RNG.normal(size=(3, 4))
    gA, gv = sd.vjp(out, [A, v], cotangent)
    a0, v0 = RNG.normal(size=(3, 4)), RNG.normal(size=4)
    got_A, got_v = sd.function([A, v], [gA, gv])(a0, v0)
    forward = sd.function([A, v], out)
    dA, dv = RNG.normal(size=(3, 4)), RNG.normal(size=4)
    expected = np.sum(cotangent * central(lambda t: forward(a0 + t * dA, v0 + t * dv), 0.0, 1.0))
    np.testing.assert_allclose(np.sum(got_A * dA) + got_v @ dv, expected, rtol=1e-7)


def test_vjp_checks_the_cotangent_shape() -> None:
    x = sd.var("x", shape=(3,))
    with pytest.raises(sd.ShapeError, match=r"cotangent has shape \(2,\)"):
        sd.vjp(sd.sin(x), [x], np.ones(2))


def test_jvp_is_the_directional_derivative_and_forgets_its_probe() -> None:
    x, s = sd.var("x", shape=(3,)), sd.var("s")
    out = sd.sin(x) * s + sd.sum(x * x) * x
    t_x, t_s = RNG.normal(size=3), 0.4
    tangent = sd.jvp(out, [x, s], [t_x, t_s])
    assert {v.label for v in free_variables([tangent])} <= {"x", "s"}
    x0, s0 = RNG.normal(size=3), 1.7
    got = sd.function([x, s], tangent)(x0, s0)
    forward = sd.function([x, s], out)
    expected = central(lambda t: forward(x0 + t * t_x, s0 + t * t_s), 0.0, 1.0)
    np.testing.assert_allclose(got, expected, rtol=1e-7)


def test_jvp_needs_one_tangent_of_each_variables_shape() -> None:
    x = sd.var("x", shape=(3,))
    with pytest.raises(sd.GraphError, match="1 tangents given for 2"):
        sd.jvp(sd.sin(x), [x, sd.var("y")], [np.ones(3)])
    with pytest.raises(sd.ShapeError, match=r"tangents\[0\] has shape \(2,\)"):
        sd.jvp(sd.sin(x), [x], [np.ones(2)])


def test_hvp_is_the_hessian_times_a_vector() -> None:
    x = sd.var("x", shape=(4,))
    A = RNG.normal(size=(4, 4))
    f = x @ A @ x + sd.sum(sd.exp(x) * x)
    v = RNG.normal(size=4)
    x0 = RNG.normal(size=4)
    got = sd.function([x], sd.hvp(f, x, v))(x0)
    hessian = A + A.T + np.diag(np.exp(x0) * (x0 + 2.0))
    np.testing.assert_allclose(got, hessian @ v, rtol=1e-12)


def test_function_computes_shared_work_once_and_keeps_output_order(each_backend: str) -> None:
    x = sd.var("x", shape=(5,))
    shared = sd.exp(sd.sin(x))
    f = sd.function([x], [sd.sum(shared), shared * 2.0, x], name="several")
    if each_backend == "numba":  # the sine is in the kernel's loop, once
        assert f.source.split("\n\n\ndef ")[0].count("math.sin(") == 1 and "\ndef several(x):" in f.source
    else:
        assert f.source.split('"""')[2].count("np.sin(") == 1 and f.source.startswith("def several(x):")
    x0 = RNG.normal(size=5)
    total, doubled, same = f(x0)
    np.testing.assert_allclose(total, np.sum(np.exp(np.sin(x0))), rtol=1e-15)
    np.testing.assert_allclose(doubled, 2.0 * np.exp(np.sin(x0)), rtol=1e-15)
    np.testing.assert_array_equal(same, x0)
    assert same is not x0  # outputs never alias inputs


def test_function_with_one_node_returns_its_value_alone() -> None:
    x = sd.var("x")
    assert sd.function([x], sd.sin(x))(0.5) == math.sin(0.5)


def test_function_reports_missing_inputs_and_bad_outputs() -> None:
    x, y = sd.var("x", shape=(4,)), sd.var("y")
    with pytest.raises(sd.GraphError, match=r"variables \['y'\]"):
        sd.function([x], [x * y])
    with pytest.raises(sd.GraphError, match="split must be unpacked"):
        sd.function([x], [sd.split(x, 2)[0].inputs[0]])
    with pytest.raises(sd.GraphError, match="at least one output"):
        sd.function([x], [])


def test_pullback_reproduces_the_julia_pullback_of_exp_square_squared() -> None:
    # (exp(x^2))^2 at x = 0.5: value e^0.5, derivative 4x e^(2x^2) = 2 e^0.5 (seed 003)
    x = sd.var("x")
    pb = sd.pullback(sd.square(sd.exp(sd.square(x))), [x])
    value, back = pb(0.5)
    assert "def back(cotangent):" in pb.source
    np.testing.assert_allclose(value, math.exp(0.5), rtol=1e-15)
    np.testing.assert_allclose(back(1.0)[0], 2.0 * math.exp(0.5), rtol=1e-15)
    np.testing.assert_allclose(back(0.5)[0], math.exp(0.5), rtol=1e-15)


def test_pullback_of_a_vector_function_takes_a_vector_cotangent() -> None:
    x = sd.var("x", shape=(3,))
    pb = sd.pullback(sd.sin(x) * x, [x])
    x0, c = RNG.normal(size=3), RNG.normal(size=3)
    value, back = pb(x0)
    np.testing.assert_allclose(value, np.sin(x0) * x0, rtol=1e-15)
    np.testing.assert_allclose(back(c)[0], c * (np.cos(x0) * x0 + np.sin(x0)), rtol=1e-14)
    with pytest.raises(sd.ArgumentError, match="cotangent"):
        back(np.ones(2))


def test_helmholtz_hessian_equals_differences_of_the_compiled_gradient() -> None:
    f, x, x0 = helmholtz(100)
    hessian = sd.function([x], sd.hessian(f, x))(x0)
    gradient = sd.compile(f, [x])
    eps = 1e-6
    columns = [(gradient(x0 + eps * e)[1][0] - gradient(x0 - eps * e)[1][0]) / (2 * eps) for e in np.eye(100)]
    difference = np.abs(hessian - np.array(columns).T).max()
    assert difference <= 1e-6 * np.abs(hessian).max(), difference
    np.testing.assert_allclose(hessian, hessian.T, rtol=1e-10, atol=1e-12)


def matrix_products(node: sd.Node) -> int:
    from symdiff.rewrite import Rewriter

    new = Rewriter().run([node])
    final = new.get(node, node)
    return sum(1 for n in toposort([final]) if n.op == "matmul" and min(i.ndim for i in n.inputs) == 2)


def test_helmholtz_hessian_needs_no_matrix_matrix_product() -> None:
    # O(n^2) work: the identity seed meets A only in scalings and vector products
    f, x, _ = helmholtz(30)
    assert matrix_products(sd.hessian(f, x)) == 0


@pytest.fixture
def run_time_seeds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every identity seed an ``eye`` node, as large ones are, on small problems."""
    from symdiff import transforms

    monkeypatch.setattr(transforms, "EYE_LIMIT", 0)


def test_helmholtz_hessian_from_a_run_time_identity_needs_no_matrix_matrix_product(run_time_seeds: None) -> None:
    f, x, x0 = helmholtz(30)
    hessian = sd.hessian(f, x)
    assert matrix_products(hessian) == 0 and any(n.op == "eye" for n in toposort([hessian]))
    fn = sd.function([x], hessian)
    assert "np.eye(30)" in fn.source
    assert not any(isinstance(v, np.ndarray) and v.shape == (30, 30) and np.array_equal(v, np.eye(30))
                   for v in fn.__globals__.values())  # no identity baked in
    from symdiff import transforms

    transforms.EYE_LIMIT = 2**16  # the same Hessian from a baked identity
    g, y, _ = helmholtz(30)
    np.testing.assert_allclose(fn(x0), sd.function([y], sd.hessian(g, y))(x0), rtol=1e-13)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_jacobians_from_a_run_time_identity_equal_the_baked_one(run_time_seeds: None, mode: str) -> None:
    x = sd.var("x", shape=(3, 2))
    expr = sd.reshape(sd.sin(x) * x[0, 0], (2, 3)) @ np.arange(6.0).reshape(3, 2)
    jacobian = sd.jacobian(expr, x, mode=mode)
    assert any(n.op == "eye" for n in toposort([jacobian]))
    got = sd.function([x], jacobian)
    x0 = RNG.normal(size=(3, 2))
    want = np.array([sd.function([x], sd.grad(sd.sum(expr * e.reshape(2, 2)), [x]))(x0)[0]
                     for e in np.eye(4)]).reshape(2, 2, 3, 2)
    np.testing.assert_allclose(got(x0), want, rtol=1e-14, atol=1e-15)


def test_a_large_identity_seed_is_made_at_run_time() -> None:
    x = sd.var("x", shape=(300,))
    fn = sd.function([x], sd.jacobian(sd.sin(x), x))
    assert "np.eye(300)" in fn.source and "C0" not in fn.__globals__  # nothing of 90,000 entries bound
    x0 = np.linspace(-1.0, 1.0, 300)
    np.testing.assert_array_equal(fn(x0), np.diag(np.cos(x0)))


def test_hessian_of_a_quadratic_form_is_the_symmetrised_matrix() -> None:
    A = RNG.normal(size=(5, 5))
    x = sd.var("x", shape=(5,))
    got = sd.function([x], sd.hessian(x @ A @ x, x))(RNG.normal(size=5))
    np.testing.assert_allclose(got, A + A.T, rtol=1e-15)


def test_jacobian_chooses_its_mode_by_size_and_says_so() -> None:
    x = sd.var("x", shape=(2,))
    wide = sd.function([x], sd.jacobian(sd.reshape(sd.sin(x), (2, 1)) * np.ones(4), x))
    narrow = sd.function([x], sd.jacobian(sd.sum(sd.sin(x)) * x[0], x))
    assert "forward mode" in wide.source and "reverse mode" in narrow.source
    x0 = np.array([0.3, -0.4])
    np.testing.assert_allclose(wide(x0), np.broadcast_to(np.diag(np.cos(x0))[:, None, :], (2, 4, 2)), rtol=1e-15)
    np.testing.assert_allclose(narrow(x0), [np.cos(x0[0]) * x0[0] + np.sum(np.sin(x0)), np.cos(x0[1]) * x0[0]],
                               rtol=1e-14)


def test_jacobian_and_hessian_reject_bad_arguments() -> None:
    x = sd.var("x", shape=(3,))
    with pytest.raises(sd.GraphError, match="mode must be"):
        sd.jacobian(sd.sin(x), x, mode="sideways")
    with pytest.raises(sd.ShapeError, match="needs a scalar"):
        sd.hessian(sd.sin(x), x)
    with pytest.raises(sd.GraphError, match="wrt"):
        sd.jacobian(sd.sin(x), sd.sin(x))


def test_pullback_in_single_precision_matches_double() -> None:
    x = sd.var("x", shape=(4,))
    expr = sd.sum(sd.sin(x) * x)
    at = np.array([0.1, -0.4, 0.9, 1.3])
    value64, back64 = sd.pullback(expr, [x])(at)
    pb32 = sd.pullback(expr, [x], dtype=np.float32)
    assert "np.float32" in pb32.source and "float64" not in pb32.source.split('"""')[2]
    value32, back32 = pb32(at.astype(np.float32))
    (grad32,) = back32(np.float32(2.0))
    (grad64,) = back64(2.0)
    assert isinstance(value32, np.float32) and grad32.dtype == np.float32
    np.testing.assert_allclose(value32, value64, rtol=1e-6)
    np.testing.assert_allclose(grad32, grad64, rtol=1e-6)


def test_pullback_refuses_the_numba_backend_by_name() -> None:
    x = sd.var("x", shape=(2,))
    with pytest.raises(sd.UnsupportedError, match="pullback: the numba backend cannot write pullbacks"):
        sd.pullback(sd.sum(x * x), [x], backend="numba")


def test_the_jacobian_mode_follows_the_cost_of_the_batched_sweep() -> None:
    x = sd.var("x", (40,))
    few_rows = sd.function([x], sd.jacobian(sd.stack([sd.sum(x * x), sd.sum(sd.sin(x))]), x))
    assert "reverse mode" in few_rows.source and "by cost" in few_rows.source
    many_rows = sd.function([x], sd.jacobian(sd.outer(sd.sin(x[:2]), x), x))  # 80 rows, but each reads 2 sines
    assert "forward mode" in many_rows.source
    point = np.linspace(0.1, 1.0, 40)
    np.testing.assert_allclose(many_rows(point), sd.function([x], sd.jacobian(sd.outer(sd.sin(x[:2]), x), x,
                                                                             mode="reverse"))(point), rtol=1e-14)
