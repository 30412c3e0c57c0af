"""The benchmark workloads: each has a symdiff graph, a hand-written NumPy forward and reverse
sweep (the reference, NumPy ufuncs even on scalars), the forward pass alone, and its data.

Every function here takes and returns plain floats and arrays, so the peers (SymPy, JAX,
PyTorch) can be checked against the hand-written results.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import symdiff as sd
from symdiff.gallery import helmholtz_data

SQRT2 = math.sqrt(2.0)


@dataclass
class Workload:
    """One row of the table."""

    id: str
    what: str
    expr: sd.Node
    wrt: list[sd.Node]
    inputs: list[sd.Node]
    args: list[Any]
    hand: Callable[..., Any]  # forward + reverse by hand: (value, grads)
    value: Callable[..., Any]  # forward alone
    scalar_args: bool = False  # W1a, W5: Python floats, one argument per scalar
    notes: list[str] = field(default_factory=list)


def baydin_scalars() -> Workload:
    x1, x2 = sd.var("x1"), sd.var("x2")
    f = sd.log(x1) + x1 * x2 - sd.sin(x2)

    def hand(a, b):
        return np.log(a) + a * b - np.sin(b), (b + 1.0 / a, a - np.cos(b))

    def value(a, b):
        return np.log(a) + a * b - np.sin(b)

    return Workload("W1a", "log(x1) + x1*x2 - sin(x2) on Python floats", f, [x1, x2], [x1, x2], [2.0, 5.0],
                    hand, value, scalar_args=True)


def baydin_arrays(n: int = 10**6) -> Workload:
    x1, x2 = sd.var("x1", shape=(n,)), sd.var("x2", shape=(n,))
    f = sd.sum(sd.log(x1) + x1 * x2 - sd.sin(x2))
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.5, 2.0, n), rng.uniform(-3.0, 3.0, n)

    def hand(a, b):
        return np.sum(np.log(a) + a * b - np.sin(b)), (b + 1.0 / a, a - np.cos(b))

    def value(a, b):
        return np.sum(np.log(a) + a * b - np.sin(b))

    return Workload("W1b", f"the same on arrays of {n:.0e} elements, value summed", f, [x1, x2], [x1, x2], [a, b],
                    hand, value)


def relu_regression(points: np.ndarray, label: str, what: str) -> Workload:
    w1, b1, w2, b2 = (sd.var(n) for n in ("w1", "b1", "w2", "b2"))
    x, t = sd.var("x", shape=points.shape), sd.var("t", shape=points.shape)
    loss = sd.sum((t - (w2 * sd.relu(w1 * x + b1) + b2)) ** 2)
    targets = 5 * np.maximum(0, 2 * points - 1) + 1

    def hand(w1, b1, w2, b2, x, t):
        v = w1 * x + b1
        h = np.maximum(v, 0.0)
        r = t - (w2 * h + b2)
        gy = -2.0 * r
        gv = gy * w2 * (v > 0)
        return np.dot(r, r), (np.dot(gv, x), np.sum(gv), np.dot(gy, h), np.sum(gy))

    def value(w1, b1, w2, b2, x, t):
        r = t - (w2 * np.maximum(w1 * x + b1, 0.0) + b2)
        return np.dot(r, r)

    return Workload(label, what, loss, [w1, b1, w2, b2], [w1, b1, w2, b2, x, t],
                    [1.0, 1.0, 1.0, 1.0, points, targets], hand, value)


def mlp() -> Workload:
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((256, 784)), rng.standard_normal((256, 10))
    W1v, W2v = rng.standard_normal((784, 256)) / math.sqrt(784), rng.standard_normal((256, 10)) / math.sqrt(256)
    b1v, b2v = np.zeros(256), np.zeros(10)
    W1, b1 = sd.var("W1", shape=(784, 256)), sd.var("b1", shape=(256,))
    W2, b2 = sd.var("W2", shape=(256, 10)), sd.var("b2", shape=(10,))
    Xv, Yv = sd.var("X", shape=(256, 784)), sd.var("Y", shape=(256, 10))
    loss = sd.mean((sd.tanh(Xv @ W1 + b1) @ W2 + b2 - Yv) ** 2)

    def hand(W1, b1, W2, b2, X, Y):
        h = np.tanh(X @ W1 + b1)
        r = h @ W2 + b2 - Y
        go = r * (2.0 / r.size)
        ga = (go @ W2.T) * (1.0 - h * h)
        return np.mean(r * r), (X.T @ ga, ga.sum(axis=0), h.T @ go, go.sum(axis=0))

    def value(W1, b1, W2, b2, X, Y):
        r = np.tanh(X @ W1 + b1) @ W2 + b2 - Y
        return np.mean(r * r)

    return Workload("W3", "2-layer tanh MLP, batch 256, 784-256-10", loss, [W1, b1, W2, b2],
                    [W1, b1, W2, b2, Xv, Yv], [W1v, b1v, W2v, b2v, X, Y], hand, value)


def helmholtz(n: int) -> Workload:
    x0, A, b = helmholtz_data(n)
    x = sd.var("x", shape=(n,))
    bx = b @ x
    ratio = (1.0 + (1.0 + SQRT2) * bx) / (1.0 + (1.0 - SQRT2) * bx)
    f = sd.sum(x * sd.log(x / (1.0 - bx))) - (x @ A @ x) / (math.sqrt(8.0) * bx) * sd.log(ratio)

    def hand(x):
        s = b @ x
        Ax = A @ x
        q = x @ Ax
        up, down = 1.0 + (1.0 + SQRT2) * s, 1.0 + (1.0 - SQRT2) * s
        L = np.log(up / down)
        c = math.sqrt(8.0) * s
        logs = np.log(x / (1.0 - s))
        value = x @ logs - q / c * L
        dL = (1.0 + SQRT2) / up - (1.0 - SQRT2) / down
        ds = x.sum() / (1.0 - s) - q * (dL * s - L) / (math.sqrt(8.0) * s * s)
        return value, (logs + 1.0 + ds * b - (2.0 * L / c) * Ax,)

    def value(x):
        s = b @ x
        return x @ np.log(x / (1.0 - s)) - (x @ (A @ x)) / (math.sqrt(8.0) * s) * np.log(
            (1.0 + (1.0 + SQRT2) * s) / (1.0 + (1.0 - SQRT2) * s))

    label = "W4a" if n == 10 else "W4b" if n == 100 else f"W4 n={n}"
    return Workload(label, f"Griewank's Helmholtz energy, n = {n}", f, [x], [x], [x0], hand, value)


def prod_sin(n: int) -> Workload:
    xs = [sd.var(f"x{i}") for i in range(n)]
    f = sd.sin(xs[0])
    for v in xs[1:]:
        f = f * sd.sin(v)
    args = list(np.random.default_rng(3).uniform(0.5, 1.5, n))

    def hand(*x):
        s = [np.sin(v) for v in x]
        prefix = [1.0]
        for v in s:
            prefix.append(prefix[-1] * v)
        grads = [0.0] * n
        suffix = 1.0
        for i in range(n - 1, -1, -1):
            grads[i] = prefix[i] * suffix * np.cos(x[i])
            suffix *= s[i]
        return prefix[-1], tuple(grads)

    def value(*x):
        p = 1.0
        for v in x:
            p *= np.sin(v)
        return p

    return Workload(f"W5 prod_sin n={n}", f"prod_i sin(x_i), {n} scalar variables", f, xs, xs, args, hand, value,
                    scalar_args=True)


def nested_chain(k: int) -> Workload:
    x, y = sd.var("x"), sd.var("y")
    z = x
    for _ in range(k):
        z = sd.sin(z * y + sd.cos(z))

    def hand(x0, y0):
        zs = [x0]
        for _ in range(k):
            zs.append(np.sin(zs[-1] * y0 + np.cos(zs[-1])))
        gz, gy = 1.0, 0.0
        for i in range(k - 1, -1, -1):
            zi = zs[i]
            c = np.cos(zi * y0 + np.cos(zi)) * gz
            gy += c * zi
            gz = c * (y0 - np.sin(zi))
        return zs[-1], (gz, gy)

    def value(x0, y0):
        z = x0
        for _ in range(k):
            z = np.sin(z * y0 + np.cos(z))
        return z

    return Workload(f"W5 chain k={k}", f"x <- sin(x*y + cos(x)), {k} times", z, [x, y], [x, y], [0.7, 1.3], hand,
                    value, scalar_args=True)


def all_workloads(quick: bool = False) -> list[Workload]:
    n_big = 10**5 if quick else 10**6
    relu_small = np.arange(-2, 5, 0.1)
    relu_big = np.linspace(-2, 5, n_big, endpoint=False)
    loads = [
        baydin_scalars(),
        baydin_arrays(n_big),
        relu_regression(relu_small, "W2a", "ReLU regression loss, 70 points"),
        relu_regression(relu_big, "W2b", f"ReLU regression loss, {n_big:.0e} points"),
        mlp(),
        helmholtz(10),
        helmholtz(100),
    ]
    for n in (10, 30, 100):
        loads.append(prod_sin(n))
    for k in (10, 30, 100):
        loads.append(nested_chain(k))
    return loads
