"""The example graphs behind ``symdiff demo`` and the modules committed under ``generated/``."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import symdiff.api as sd
from symdiff.graph import Node
from symdiff.transforms import grad, hessian, jacobian


@dataclass(frozen=True)
class Example:
    """A named value-and-gradient problem."""

    name: str
    title: str
    expr: Node
    wrt: list[Node]
    inputs: list[Node]
    outputs: list[Node] | None = None  # set: a module of ``sd.function(inputs, outputs)``


def baydin() -> Example:
    """Baydin et al.'s running example: f = log(x1) + x1*x2 - sin(x2)."""
    x1, x2 = sd.var("x1"), sd.var("x2")
    f = sd.log(x1) + x1 * x2 - sd.sin(x2)
    return Example("baydin", "f = log(x1) + x1*x2 - sin(x2), differentiated by x1 and x2", f, [x1, x2], [x1, x2])


def relu_regression(points: int | str = "n") -> Example:
    """Mean squared residual of y = w2*relu(w1*x + b1) + b2 against targets t; by default over
    any number of points (the named dimension n)."""
    w1, b1, w2, b2 = (sd.var(n) for n in ("w1", "b1", "w2", "b2"))
    x, t = sd.var("x", shape=(points,)), sd.var("t", shape=(points,))
    y = w2 * sd.relu(w1 * x + b1) + b2
    loss = sd.mean((t - y) ** 2)
    return Example("relu_regression", f"mean((t - (w2*relu(w1*x + b1) + b2))**2) over {points} points",
                   loss, [w1, b1, w2, b2], [w1, b1, w2, b2, x, t])


def tensor_ops() -> Example:
    """Reshape, transpose, sum, matmul and a two-output split on small tensors."""
    x, w = sd.var("x", shape=(2, 3)), sd.var("w", shape=(3, 4))
    top, bottom = sd.split(x, [1], axis=0)
    mixed = (top + bottom) @ w + sd.reshape(sd.transpose(x), (1, 6))[:, :4]
    loss = sd.sum(mixed * mixed) + sd.sum(x @ w)
    return Example("tensor_ops", "sum(((top + bottom) @ w + reshape(x.T, (1, 6))[:, :4])**2) + sum(x @ w)",
                   loss, [x, w], [x, w])


def softmax_cross_entropy(batch: int | str = "n", features: int = 4, classes: int = 3) -> Example:
    """Softmax cross-entropy of a linear model, with the max shift for stability; by default
    over a batch of any size (the named dimension n)."""
    w = sd.var("W", shape=(features, classes))
    x, y = sd.var("X", shape=(batch, features)), sd.var("Y", shape=(batch, classes))
    logits = x @ w
    z = logits - sd.max(logits, axis=1, keepdims=True)
    loss = -sd.mean(sd.sum(y * (z - sd.log(sd.sum(sd.exp(z), axis=1, keepdims=True))), axis=1))
    return Example("softmax_cross_entropy", f"softmax cross-entropy of X @ W against one-hot Y, over {batch} rows",
                   loss, [w], [w, x, y])


def helmholtz_data(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A point x in [0.1, 1]^n, a symmetric A with entries in [-1, 1], and b with b @ x = 0.5."""
    rng = np.random.default_rng(2)
    x0 = rng.uniform(0.1, 1.0, n)
    a = rng.uniform(-1.0, 1.0, (n, n))
    a = (a + a.T) / 2.0
    b = rng.uniform(0.0, 1.0, n)
    b *= 0.5 / math.fsum(b * x0)  # correctly rounded: the same b whatever BLAS kernel runs
    return x0, a, b


def helmholtz(n: int) -> tuple[Node, Node, np.ndarray]:
    """Griewank's Helmholtz energy of a variable x of shape (n,), and the point x0."""
    x0, a, b = helmholtz_data(n)
    x = sd.var("x", shape=(n,))
    bx = b @ x
    ratio = (1.0 + (1.0 + math.sqrt(2.0)) * bx) / (1.0 + (1.0 - math.sqrt(2.0)) * bx)
    energy = sd.sum(x * sd.log(x / (1.0 - bx))) - (x @ a @ x) / (math.sqrt(8.0) * bx) * sd.log(ratio)
    return energy, x, x0


def helmholtz_hessian(n: int = 10) -> Example:
    """The Helmholtz energy with its gradient and Hessian."""
    energy, x, _ = helmholtz(n)
    (gradient,) = grad(energy, [x])
    return Example("helmholtz_hessian", f"Helmholtz energy (n = {n}), its gradient and its Hessian",
                   energy, [x], [x], [energy, gradient, hessian(energy, x)])


def decay_jacobian(points: int = 50) -> Example:
    """Residuals of y = a * exp(-b * t) + c and their Jacobian by p = (a, b, c): forward mode."""
    p = sd.var("p", shape=(3,))
    t, y = sd.var("t", shape=(points,)), sd.var("y", shape=(points,))
    residuals = p[0] * sd.exp(-p[1] * t) + p[2] - y
    return Example("decay_jacobian", "residuals of a * exp(-b * t) + c - y and their Jacobian by (a, b, c)",
                   sd.sum(residuals), [p], [p, t, y], [residuals, jacobian(residuals, p)])


GENERATED: list[Callable[[], Example]] = [baydin, relu_regression, tensor_ops, softmax_cross_entropy,
                                          helmholtz_hessian, decay_jacobian]
