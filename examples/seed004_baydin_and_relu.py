"""Seed 004: Baydin's graph with hand-written adjoints, and a ReLU regression by gradient descent.

Training uses the generated gradient of the *mean* squared residual (the article divides
by N), eta = 2e-4, 2000 steps of simultaneous updates. The article's own loop updates w2
first and then reuses the new w2 for w1 and b1; that variant ends at 115.95 instead of
115.34. Both are computed here.
"""

import numpy as np

import symdiff as sd
from symdiff.gallery import baydin, relu_regression

X = np.arange(-2, 5, 0.1)
T = 5 * np.maximum(0, 2 * X - 1) + 1


def baydin_numbers():
    example = baydin()
    return sd.compile(example.expr, example.wrt)(2.0, 5.0)


def train(steps: int = 2000, eta: float = 2e-4, report_every: int = 500) -> dict[int, float]:
    """Sum of squared residuals at every ``report_every`` steps, with simultaneous updates."""
    example = relu_regression(len(X))
    fn = sd.compile(example.expr, example.wrt, example.inputs)
    weights = [1.0, 1.0, 1.0, 1.0]
    history = {}
    for step in range(steps + 1):
        mean_square, grads = fn(*weights, X, T)
        if step % report_every == 0:
            history[step] = float(mean_square) * len(X)
        weights = [w - eta * g for w, g in zip(weights, grads, strict=True)]
    return history


def train_like_the_article(steps: int = 2000, eta: float = 2e-4) -> float:
    """The article's loop: w2 and b2 first, then w1 and b1 with the already-updated w2."""
    example = relu_regression(len(X))
    fn = sd.compile(example.expr, example.wrt, example.inputs)
    w1 = b1 = w2 = b2 = 1.0
    for _ in range(steps):
        _, (g1, gb1, g2, gb2) = fn(w1, b1, w2, b2, X, T)
        new_w2 = w2 - eta * g2
        b2 = b2 - eta * gb2
        # its w1/b1 gradient used the new w2 in place of the old one
        w1 = w1 - eta * g1 * new_w2 / w2
        b1 = b1 - eta * gb1 * new_w2 / w2
        w2 = new_w2
    return float(fn(w1, b1, w2, b2, X, T)[0]) * len(X)


if __name__ == "__main__":
    value, (g1, g2) = baydin_numbers()
    print(f"Baydin at (2, 5): {value:.10f}, {g1:.10f}, {g2:.10f}")
    for step, loss in train().items():
        print(f"step {step:4d}: sum of squared residuals {loss:.1f}")
    print(f"the article's sequential update ends at {train_like_the_article():.2f}")
