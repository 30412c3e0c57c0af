"""scipy_constraint and scipy_objective(sparse=True) against dense derivatives, and trust-constr end to end."""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pytest

import symdiff as sd
from symdiff.scipy_objective import _substitute

optimize = pytest.importorskip("scipy.optimize")


def swing_up(steps: int = 20):
    h = 2.0 / steps
    theta, omega, u = (sd.var(name, (steps + 1,)) for name in ("theta", "omega", "u"))
    gravity = sd.var("g")
    accel = u - gravity * sd.sin(theta)
    dynamics = sd.concatenate([
        theta[1:] - theta[:-1] - h / 2 * (omega[1:] + omega[:-1]),
        omega[1:] - omega[:-1] - h / 2 * (accel[1:] + accel[:-1]),
        sd.stack([theta[0], omega[0], theta[-1] - math.pi, omega[-1]]),
    ])
    return dynamics, h * sd.sum(u * u), [theta, omega, u], gravity


def on_one_vector(expr: sd.Node, wrt: list[sd.Node], theta: sd.Node) -> sd.Node:
    """``expr`` with the three trajectories read from consecutive pieces of ``theta``."""
    pieces = [theta[:21], theta[21:42], theta[42:]]
    return _substitute(expr, dict(zip(wrt, pieces, strict=True)))


def test_the_constraint_has_the_dense_jacobian_and_lagrangian_hessian_with_bound_data() -> None:
    dynamics, _, wrt, gravity = swing_up()
    constraint = sd.scipy_constraint(dynamics, wrt, 0.0, 0.0, inputs=[*wrt, gravity], data=[9.81])
    rng = np.random.default_rng(0)
    x, v = rng.normal(size=63), rng.normal(size=dynamics.size)
    theta = sd.var("all", (63,))
    flat = on_one_vector(dynamics, wrt, theta)
    dense_jac = sd.function([theta, gravity], sd.jacobian(flat, theta))(x, 9.81)
    dense_hess = sd.function([theta, gravity], sd.hessian(sd.sum(v * flat), theta))(x, 9.81)
    np.testing.assert_allclose(constraint.fun(x), sd.function([theta, gravity], flat)(x, 9.81), rtol=1e-14)
    np.testing.assert_allclose(constraint.jac(x).toarray(), dense_jac, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(constraint.hess(x, v).toarray(), dense_hess, rtol=1e-12, atol=1e-14)


def test_a_wrong_number_of_data_values_is_refused() -> None:
    dynamics, _, wrt, gravity = swing_up()
    with pytest.raises(sd.ArgumentError, match="0 data values given for the inputs \\['g'\\]"):
        sd.scipy_constraint(dynamics, wrt, 0.0, 0.0, inputs=[*wrt, gravity])
    with pytest.raises(sd.ArgumentError, match="2 data values given"):
        sd.scipy_constraint(dynamics, wrt, 0.0, 0.0, inputs=[*wrt, gravity], data=[9.81, 1.0])


def test_a_sparse_objective_hessian_equals_the_dense_one() -> None:
    x = sd.var("x", (30,))
    energy = sd.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
    sparse_objective = sd.scipy_objective(energy, [x], sparse=True)
    dense_objective = sd.scipy_objective(energy, [x])
    point = np.random.default_rng(1).uniform(-1, 1, 30)
    np.testing.assert_allclose(sparse_objective.hess(point).toarray(), dense_objective.hess(point), rtol=1e-13)


def _at_gravity(fn, t):
    return fn(t, 9.81)


def test_trust_constr_with_sparse_derivatives_reaches_the_dense_optimum() -> None:
    dynamics, effort, wrt, gravity = swing_up()
    results = []
    for sparse in (True, False):
        objective = sd.scipy_objective(effort, wrt, sparse=sparse)
        if sparse:
            constraint = sd.scipy_constraint(dynamics, wrt, 0.0, 0.0, inputs=[*wrt, gravity], data=[9.81])
        else:  # the dense derivatives of the same constraints
            c = on_one_vector(dynamics, wrt, objective.theta)
            values = sd.function([objective.theta, gravity], c)
            jac = sd.function([objective.theta, gravity], sd.jacobian(c, objective.theta))
            constraint = optimize.NonlinearConstraint(functools.partial(_at_gravity, values), 0.0, 0.0,
                                                      jac=functools.partial(_at_gravity, jac))
        start = objective.pack(np.linspace(0, math.pi, 21), np.zeros(21), np.zeros(21))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results.append(optimize.minimize(objective, start, jac=True, hess=objective.hess, method="trust-constr",
                                             constraints=[constraint], options={"gtol": 1e-10, "xtol": 1e-12}))
    ours, dense = results
    assert ours.status in (1, 2) and dense.status in (1, 2)
    assert ours.fun == pytest.approx(dense.fun, rel=1e-6)
    np.testing.assert_allclose(ours.x, dense.x, atol=1e-5)
    assert abs(ours.x[20] - math.pi) < 1e-8
