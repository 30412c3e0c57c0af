"""Scale: a wide sum of 1e5 terms and a random DAG of 1e4 nodes compile and run (the 1e5 chain is in
test_compile.py). Compile time and memory are measured by benchmarks/scaling.py, not asserted here."""

from __future__ import annotations

import numpy as np

import symdiff as sd
from symdiff.graph import toposort


def test_a_wide_sum_of_100000_indexed_terms() -> None:
    n = 100_000
    x = sd.var("x", shape=(n,))
    total = x[0] * x[0]
    for i in range(1, n):
        total = total + x[i] * x[i]
    point = np.linspace(-1.0, 1.0, n)
    value, (grad,) = sd.compile(total, [x])(point)
    assert value == np.sum(point * point) or abs(value - np.sum(point * point)) < 1e-9 * n
    np.testing.assert_allclose(grad, 2.0 * point, rtol=1e-15)


def test_a_random_dag_of_10000_nodes() -> None:
    rng = np.random.default_rng(0)
    xs = [sd.var(f"x{i}") for i in range(6)]
    pool = list(xs)
    while len(pool) < 20_000:
        a, b = pool[rng.integers(len(pool))], pool[rng.integers(max(0, len(pool) - 30), len(pool))]
        c = float(rng.uniform(0.3, 0.6))
        pick = rng.integers(3)
        pool.append(c * (a + b) if pick == 0 else sd.tanh(a * b) if pick == 1 else sd.sin(a) * c)
    total = sd.sum(sd.concatenate([sd.reshape(p, (1,)) for p in pool[-50:]]))
    assert len(toposort([total])) >= 10_000
    point = list(np.linspace(0.1, 0.6, 6))
    value, grads = sd.compile(total, xs)(*point)
    assert np.isfinite(value)
    # one directional difference is enough here; the op-by-op checks live elsewhere
    direction = rng.standard_normal(6)
    f = sd.compile(total, xs)
    h = 1e-6
    up = f(*(p + h * d for p, d in zip(point, direction, strict=True)))[0]
    down = f(*(p - h * d for p, d in zip(point, direction, strict=True)))[0]
    assert abs((up - down) / (2 * h) - float(np.dot(grads, direction))) < 1e-5 * max(1.0, abs(value))
