"""Sparse Jacobians and Hessians against hand-written sparse code and the dense derivatives.

Run: python benchmarks/sparse.py [--rounds 21] [--out benchmarks/sparse.md]

- Pendulum swing-up, trapezoidal collocation with T = 500 steps (1,004 constraints, 1,503
  unknowns): ``sparse_jacobian`` compile time, colours, call time against a hand-written
  sparse Jacobian (fixed CSR structure, only the cosines computed per call) and against the
  dense ``sd.jacobian``; then ``scipy.optimize.minimize(method="trust-constr")`` with each.
- Chained Rosenbrock: ``sparse_hessian`` colours, compile and call time at n = 1e3, 1e4, 1e5,
  and Newton's method with ``scipy.sparse.linalg.spsolve`` from the standard start.
- 2-D Poisson residual on a 100 x 100 grid: the pattern against the 5-point stencil, colours.

Call times are paired and interleaved (see ``named_dims.py``): the median ratio of blocks of
calls over the rounds, with a 95% interval.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

import numpy as np
from named_dims import arguments, block_calls, paired_ratio, report, timed_block
from scipy import optimize, sparse
from scipy.sparse.linalg import spsolve

import symdiff as sd

GRAVITY, STEPS, FINAL_TIME = 9.81, 500, 3.0


def pendulum(steps: int = STEPS) -> tuple[sd.Node, sd.Node, sd.Node]:
    """(constraints, objective, z): z = (theta_0..T, omega_0..T, u_0..T)."""
    n = steps + 1
    h = FINAL_TIME / steps
    z = sd.var("z", (3 * n,))
    theta, omega, u = z[:n], z[n:2 * n], z[2 * n:]
    accel = -GRAVITY * sd.sin(theta) + u
    c = sd.concatenate([
        theta[1:] - theta[:-1] - 0.5 * h * (omega[1:] + omega[:-1]),
        omega[1:] - omega[:-1] - 0.5 * h * (accel[1:] + accel[:-1]),
        sd.stack([theta[0], omega[0], theta[-1] - math.pi, omega[-1]]),
    ])
    return c, h * sd.sum(u * u), z


class HandPendulumJacobian:
    """The fastest hand-written sparse Jacobian: the CSR structure and the constant entries are
    built once; a call computes the 2T cosine entries and copies them into a fresh data array."""

    def __init__(self, steps: int = STEPS) -> None:
        n, h = steps + 1, FINAL_TIME / steps
        k = np.arange(steps)
        rows, cols, vals = [], [], []

        def put(r: np.ndarray, c: np.ndarray, v: Any) -> None:
            rows.append(r)
            cols.append(c)
            vals.append(np.broadcast_to(np.asarray(v, dtype=float), r.shape))

        put(k, k + 1, 1.0)
        put(k, k, -1.0)
        put(k, n + k, -0.5 * h)
        put(k, n + k + 1, -0.5 * h)
        put(steps + k, n + k + 1, 1.0)
        put(steps + k, n + k, -1.0)
        put(steps + k, 2 * n + k, -0.5 * h)
        put(steps + k, 2 * n + k + 1, -0.5 * h)
        self.first = sum(r.size for r in rows)
        put(steps + k, k, 0.0)  # d/d theta_k: 0.5 h g cos(theta_k), filled per call
        put(steps + k, k + 1, 0.0)
        put(2 * steps + np.arange(4), np.array([0, n, n - 1, 2 * n - 1]), 1.0)
        r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
        order = np.lexsort((c, r))
        self.where = np.argsort(order)  # unsorted position -> CSR position
        self.base = v[order]
        self.indices = c[order]
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=2 * steps + 4))])
        self.shape = (2 * steps + 4, 3 * n)
        self.slot_k = self.where[self.first:self.first + steps]
        self.slot_k1 = self.where[self.first + steps:self.first + 2 * steps]
        self.n, self.h = n, h

    def __call__(self, z: np.ndarray) -> Any:
        factor = 0.5 * self.h * GRAVITY * np.cos(z[:self.n])
        data = self.base.copy()
        data[self.slot_k] = factor[:-1]
        data[self.slot_k1] = factor[1:]
        return sparse.csr_array((data, self.indices, self.indptr), shape=self.shape)

    def value_and_jacobian(self, z: np.ndarray) -> tuple[np.ndarray, Any]:
        """The constraints and the Jacobian together, as sd.sparse_jacobian returns them; the
        constraints are written into one preallocated vector."""
        n, h = self.n, self.h
        theta, omega, u = z[:n], z[n:2 * n], z[2 * n:]
        accel = u - GRAVITY * np.sin(theta)
        c = np.empty(2 * (n - 1) + 4)
        c[:n - 1] = theta[1:] - theta[:-1] - 0.5 * h * (omega[1:] + omega[:-1])
        c[n - 1:2 * (n - 1)] = omega[1:] - omega[:-1] - 0.5 * h * (accel[1:] + accel[:-1])
        c[-4:] = theta[0], omega[0], theta[-1] - math.pi, omega[-1]
        return c, self(z)


def pendulum_rows(rounds: int) -> list[str]:
    c, objective, z = pendulum()
    start = time.perf_counter()
    fn = sd.sparse_jacobian(c, z)
    compile_time = time.perf_counter() - start
    hand = HandPendulumJacobian()
    dense = sd.function([z], [c, sd.jacobian(c, z)])
    rng = np.random.default_rng(0)
    point = rng.normal(size=z.size)
    got = fn(point)[1].toarray()
    assert np.allclose(got, hand(point).toarray(), rtol=1e-13, atol=1e-15)
    assert np.allclose(fn(point)[0], hand.value_and_jacobian(point)[0], rtol=1e-13, atol=1e-15)
    assert np.allclose(got, dense(point)[1], rtol=1e-13, atol=1e-15)
    ratio, low, high = paired_ratio(lambda: fn(point), lambda: hand.value_and_jacobian(point), rounds)
    hand_call = timed_block(lambda: hand.value_and_jacobian(point),
                            block_calls(lambda: hand.value_and_jacobian(point), 0.05))
    dense_ratio, dense_low, dense_high = paired_ratio(lambda: dense(point), lambda: hand(point), max(rounds // 3, 9))
    rows = [f"| pendulum T = {STEPS}, Jacobian {fn.pattern.shape[0]} x {fn.pattern.shape[1]}, "
            f"{fn.pattern.nnz} non-zeros | {compile_time:.2f} s | {fn.colors} ({fn.mode.split(',')[0]}) "
            f"| {ratio:.2f}x [{low:.2f}, {high:.2f}] | hand value and Jacobian {hand_call * 1e6:.0f} µs; "
            f"dense sd.jacobian {dense_ratio:.0f}x [{dense_low:.0f}, {dense_high:.0f}] |"]
    rows += trust_constr_rows(c, objective, z, fn, hand)
    return rows


def trust_constr_rows(c: sd.Node, objective: sd.Node, z: sd.Node, fn: sd.SparseFunction,
                      hand: HandPendulumJacobian) -> list[str]:
    value = sd.function([z], c)
    f = sd.compile(objective, [z])
    n = STEPS + 1
    start_point = np.concatenate([np.linspace(0.0, math.pi, n), np.zeros(2 * n)])
    results = {}
    for label, jac in (("symdiff sparse", lambda x: fn(x)[1]), ("hand sparse", hand)):
        constraint = optimize.NonlinearConstraint(value, 0.0, 0.0, jac=jac, hess=optimize.BFGS())
        began = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = optimize.minimize(lambda x: f(x)[0], start_point, jac=lambda x: f(x)[1][0],
                                       hess=optimize.BFGS(), method="trust-constr", constraints=[constraint],
                                       options={"maxiter": 300, "gtol": 1e-8, "xtol": 1e-10})
        results[label] = (result, time.perf_counter() - began)
    (ours, t_ours), (theirs, t_theirs) = results["symdiff sparse"], results["hand sparse"]
    return [f"| trust-constr, pendulum T = {STEPS} | | | {t_ours / t_theirs:.2f}x the time | "
            f"iterations {ours.nit} vs hand {theirs.nit}; objective {ours.fun:.8f} vs {theirs.fun:.8f} "
            f"(difference {abs(ours.fun - theirs.fun):.1e}); max |z - z_hand| {np.abs(ours.x - theirs.x).max():.1e}; "
            f"{t_ours:.1f} s vs {t_theirs:.1f} s; status {ours.status} / {theirs.status} |"]


def rosenbrock(n: int) -> tuple[sd.Node, sd.Node]:
    x = sd.var("x", (n,))
    return sd.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2), x


def newton(fn: sd.SparseFunction, x: np.ndarray) -> tuple[int, float]:
    """Damped Newton with spsolve: the step solves (H + lambda I) s = -g; a step that lowers the
    value is taken and lambda shrinks, otherwise lambda grows (Levenberg), so indefinite
    Hessians far from the minimum are handled. Returns the iterations and the gradient norm."""
    eye = sparse.eye_array(x.size, format="csc")
    damping = 1e-3
    value, g, h = fn(x)
    for iteration in range(500):
        if np.linalg.norm(g) < 1e-8:
            return iteration, float(np.linalg.norm(g))
        step = spsolve((h + damping * eye).tocsc(), -g)
        trial = fn(x + step)
        if trial[0] < value:
            x, (value, g, h), damping = x + step, trial, damping / 3
        else:
            damping *= 4
    return 500, float(np.linalg.norm(g))


def rosenbrock_rows(rounds: int) -> list[str]:
    rows = []
    for n in (1_000, 10_000, 100_000):
        expr, x = rosenbrock(n)
        start = time.perf_counter()
        fn = sd.sparse_hessian(expr, x)
        compile_time = time.perf_counter() - start
        point = np.linspace(-1.0, 1.0, n)
        fn(point)
        call = timed_block(lambda: fn(point), block_calls(lambda: fn(point), 0.1))  # noqa: B023
        standard = np.concatenate([[-1.2], np.ones(n - 1)])  # the chained form's usual start (-1.2, 1, 1, ...)
        iterations, norm = newton(fn, standard)
        rows.append(f"| chained Rosenbrock n = {n:.0e}, Hessian nnz {fn.pattern.nnz} | {compile_time:.2f} s "
                    f"| {fn.colors} | {call * 1e3:.2f} ms a call ({call / n * 1e9:.0f} ns per unknown) "
                    f"| Newton + spsolve from (-1.2, 1, 1, ...): {iterations} iterations, |grad| {norm:.1e} |")
    return rows


def poisson_rows() -> list[str]:
    side = 100
    u = sd.var("u", (side, side))
    padded = sd.pad(u, 1)
    lap = padded[:-2, 1:-1] + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:] - 4.0 * u
    residual = sd.reshape(lap + 0.1 * u ** 3, (side * side,))
    start = time.perf_counter()
    fn = sd.sparse_jacobian(residual, u)
    compile_time = time.perf_counter() - start
    grid = np.arange(side * side).reshape(side, side)
    stencil = {(int(i), int(i)) for i in grid.ravel()}
    for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        src = grid[max(di, 0):side + min(di, 0), max(dj, 0):side + min(dj, 0)].ravel()
        dst = grid[max(-di, 0):side + min(-di, 0), max(-dj, 0):side + min(-dj, 0)].ravel()
        stencil |= {(int(a), int(b)) for a, b in zip(dst, src, strict=True)}
    found = set(zip(fn.pattern.rows.tolist(), fn.pattern.cols.tolist(), strict=True))
    return [f"| Poisson 100 x 100, Jacobian nnz {fn.pattern.nnz} | {compile_time:.2f} s | {fn.colors} "
            f"| | pattern equals the 5-point stencil: {found == stencil} |"]


def main() -> None:
    args = arguments(__doc__, 21)
    lines = ["| problem | compile | colours | call time | notes |", "|---|---|---|---|---|"]
    lines += pendulum_rows(args.rounds)
    lines += rosenbrock_rows(args.rounds)
    lines += poisson_rows()
    report(lines, args.out, "Sparse derivatives", "sparse.py", " Call ratios are against the hand-written "
           "sparse Jacobian, paired and interleaved (median, 95% interval).")


if __name__ == "__main__":
    main()
