"""Functions a user would differentiate on day one, checked by finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff as sd
from symdiff.testing import check_grad

pytestmark = pytest.mark.usefixtures("each_backend")  # every test on both backends


def rosenbrock(x):
    return sd.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def test_rosenbrock_on_a_10_vector_matches_the_closed_form_gradient() -> None:
    x = sd.var("x", shape=(10,))
    point = np.linspace(-1.2, 1.1, 10)
    value, (grad,) = sd.compile(rosenbrock(x), [x])(point)
    expected = np.zeros(10)
    expected[:-1] = -400.0 * point[:-1] * (point[1:] - point[:-1] ** 2) - 2.0 * (1.0 - point[:-1])
    expected[1:] += 200.0 * (point[1:] - point[:-1] ** 2)
    np.testing.assert_allclose(grad, expected, rtol=1e-13)
    assert value == pytest.approx(np.sum(100 * (point[1:] - point[:-1] ** 2) ** 2 + (1 - point[:-1]) ** 2))


def test_rosenbrock_minimum_has_zero_gradient() -> None:
    x = sd.var("x", shape=(10,))
    value, (grad,) = sd.compile(rosenbrock(x), [x])(np.ones(10))
    assert value == 0.0 and not grad.any()


def test_logistic_regression() -> None:
    rng = np.random.default_rng(0)
    w, b = sd.var("w", shape=(5,)), sd.var("b")
    X, y = rng.standard_normal((30, 5)), (rng.random(30) > 0.5) * 1.0
    z = X @ w + b
    loss = sd.mean(sd.log1p(sd.exp(-z)) + (1.0 - y) * z)
    check_grad(loss, [w, b], at=[rng.standard_normal(5), 0.3])


def test_two_layer_tanh_mlp() -> None:
    rng = np.random.default_rng(1)
    X, Y = sd.var("X", shape=(8, 6)), sd.var("Y", shape=(8, 2))
    W1, b1 = sd.var("W1", shape=(6, 5)), sd.var("b1", shape=(5,))
    W2, b2 = sd.var("W2", shape=(5, 2)), sd.var("b2", shape=(2,))
    loss = sd.mean((sd.tanh(X @ W1 + b1) @ W2 + b2 - Y) ** 2)
    at = [rng.standard_normal(s) * 0.5 for s in ((6, 5), (5,), (5, 2), (2,), (8, 6), (8, 2))]
    check_grad(loss, [W1, b1, W2, b2], inputs=[W1, b1, W2, b2, X, Y], at=at)


def test_batch_norm_then_quadratic_loss() -> None:
    rng = np.random.default_rng(2)
    x, gamma, beta = sd.var("x", shape=(6, 3)), sd.var("gamma", shape=(3,)), sd.var("beta", shape=(3,))
    mu = sd.mean(x, axis=0, keepdims=True)
    var = sd.mean((x - mu) ** 2, axis=0, keepdims=True)
    y = gamma * (x - mu) / sd.sqrt(var + 1e-5) + beta
    loss = sd.sum(y * np.arange(18.0).reshape(6, 3))
    check_grad(loss, [x, gamma, beta], at=[rng.standard_normal((6, 3)), rng.random(3) + 0.5, rng.random(3)])


def test_matrix_factorisation_with_observed_mask() -> None:
    rng = np.random.default_rng(3)
    U, V = sd.var("U", shape=(7, 2)), sd.var("V", shape=(5, 2))
    R = rng.random((7, 5))
    mask = rng.random((7, 5)) > 0.3
    loss = sd.sum(sd.where(mask, (U @ V.T - R) ** 2, 0.0)) + 0.1 * (sd.sum(U * U) + sd.sum(V * V))
    check_grad(loss, [U, V], at=[rng.standard_normal((7, 2)), rng.standard_normal((5, 2))])


def helmholtz(x, A, b, RT=1.0):
    """Griewank's Helmholtz energy: RT sum x log(x / (1 - b.x)) - x.A.x / (sqrt(8) b.x) log(...)."""
    bx = b @ x
    s2 = np.sqrt(2.0)
    log_ratio = sd.log((1.0 + (1.0 + s2) * bx) / (1.0 + (1.0 - s2) * bx))
    return RT * sd.sum(x * sd.log(x / (1.0 - bx))) - (x @ A @ x) / (np.sqrt(8.0) * bx) * log_ratio


@pytest.mark.parametrize("n", [10, 100])
def test_helmholtz_energy_with_x_at_A_at_x(n: int) -> None:
    rng = np.random.default_rng(4)
    x = sd.var("x", shape=(n,))
    A = rng.random((n, n))
    A = (A + A.T) / 2
    b = np.full(n, 0.9 / n) * rng.random(n)
    point = rng.uniform(0.1, 1.0, n)
    check_grad(helmholtz(x, A, b), [x], at=[point], rtol=1e-6)


def test_softmax_cross_entropy_gradient_is_softmax_minus_target() -> None:
    rng = np.random.default_rng(5)
    logits = sd.var("z", shape=(4, 3))
    target = np.eye(3)[[0, 2, 1, 1]]
    z = logits - sd.max(logits, axis=1, keepdims=True)
    loss = -sd.sum(target * (z - sd.log(sd.sum(sd.exp(z), axis=1, keepdims=True))))
    point = rng.standard_normal((4, 3))
    _, (grad,) = sd.compile(loss, [logits])(point)
    soft = np.exp(point) / np.exp(point).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(grad, soft - target, rtol=1e-12, atol=1e-15)
