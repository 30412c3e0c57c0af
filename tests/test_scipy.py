"""scipy_objective with scipy.optimize.minimize: Rosenbrock and a logistic regression."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

import symdiff as sd

pytestmark = pytest.mark.usefixtures("each_backend")  # every test on both backends


def rosenbrock(n: int = 10):
    x = sd.var("x", shape=(n,))
    return sd.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2), x


@pytest.mark.parametrize("method", ["BFGS", "L-BFGS-B"])
@pytest.mark.parametrize("start", [0.0, -1.0], ids=["from 0", "from -1"])
def test_rosenbrock_reaches_the_optimum_at_one(method: str, start: float) -> None:
    f, x = rosenbrock()
    objective = sd.scipy_objective(f, [x])
    options = {"gtol": 1e-9} if method == "BFGS" else {"gtol": 1e-10, "ftol": 1e-15}
    result = minimize(objective, np.full(10, start), jac=True, method=method, options=options)
    np.testing.assert_allclose(result.x, np.ones(10), atol=1e-6)
    assert result.fun < 1e-12


def test_from_minus_1_2_bfgs_stops_at_the_local_minimum() -> None:
    f, x = rosenbrock()
    start = np.ones(10)
    start[0] = -1.2
    result = minimize(sd.scipy_objective(f, [x]), start, jac=True, method="BFGS")
    assert result.success and abs(result.fun - 3.9866) < 1e-3 and result.x[0] < -0.99


def test_hess_and_hessp_drive_newton_methods() -> None:
    f, x = rosenbrock()
    objective = sd.scipy_objective(f, [x])
    exact = minimize(objective, np.zeros(10), jac=True, hess=objective.hess, method="trust-exact")
    products = minimize(objective, np.zeros(10), jac=True, hessp=objective.hessp, method="trust-ncg")
    np.testing.assert_allclose(exact.x, np.ones(10), atol=1e-7)
    np.testing.assert_allclose(products.x, np.ones(10), atol=1e-5)
    point, direction = np.linspace(-1, 1, 10), np.arange(10.0)
    np.testing.assert_allclose(objective.hessp(point, direction), objective.hess(point) @ direction, rtol=1e-12)


def test_logistic_regression_with_data_passed_as_args() -> None:
    rng = np.random.default_rng(6)
    features, truth = rng.normal(size=(200, 3)), np.array([1.5, -2.0, 0.5])
    labels = (rng.uniform(size=200) < 1.0 / (1.0 + np.exp(-(features @ truth + 0.3)))).astype(float)
    w, b = sd.var("w", shape=(3,)), sd.var("b")
    X, y = sd.var("X", shape=(200, 3)), sd.var("y", shape=(200,))
    logits = X @ w + b
    loss = sd.sum(sd.softplus(logits) - y * logits)
    objective = sd.scipy_objective(loss, [w, b], [w, b, X, y])
    theta0 = objective.pack(np.zeros(3), 0.0)
    fitted = minimize(objective, theta0, jac=True, args=(features, labels), method="BFGS", options={"gtol": 1e-9})
    newton = minimize(objective, theta0, jac=True, hess=objective.hess, args=(features, labels), method="trust-exact")
    np.testing.assert_allclose(fitted.x, newton.x, atol=1e-6)
    weights, bias = objective.unpack(fitted.x)
    assert weights.shape == (3,) and isinstance(bias, float)
    probabilities = 1.0 / (1.0 + np.exp(-(features @ weights + bias)))
    np.testing.assert_allclose(features.T @ (probabilities - labels), 0.0, atol=1e-6)  # the score equations


def test_pack_and_unpack_check_their_arguments() -> None:
    w, b = sd.var("w", shape=(2, 2)), sd.var("b")
    objective = sd.scipy_objective(sd.sum(w * w) + b * b, [w, b])
    theta = objective.pack(np.arange(4.0).reshape(2, 2), 5.0)
    np.testing.assert_array_equal(theta, [0.0, 1.0, 2.0, 3.0, 5.0])
    value, gradient = objective(theta)
    assert value == 14.0 + 25.0 and isinstance(value, float)
    np.testing.assert_array_equal(gradient, 2.0 * theta)
    with pytest.raises(sd.ArgumentError, match="needs shape"):
        objective.pack(np.zeros(4), 1.0)
    with pytest.raises(sd.ArgumentError, match="theta must have shape"):
        objective.unpack(np.zeros(3))
