"""Seed 004's ReLU regression trained through the generated gradient, with its figure.

    python examples/relu_regression.py --plot relu.png

The model is y = w2 * relu(w1 * x + b1) + b2 with every weight 1 to start, the targets are
t = 5 * relu(2x - 1) + 1 on x = arange(-2, 5, 0.1), and 2000 steps of gradient descent
(eta = 2e-4, simultaneous updates) run on the mean squared residual. The figure shows the
data, the initial fit and the trained fit, as the article's does. matplotlib is an optional
extra (``pip install -e ".[plot]"``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import symdiff as sd
from symdiff.gallery import relu_regression

X = np.arange(-2, 5, 0.1)
T = 5 * np.maximum(0, 2 * X - 1) + 1
START = (1.0, 1.0, 1.0, 1.0)


def predict(weights: tuple[float, ...], x: np.ndarray = X) -> np.ndarray:
    w1, b1, w2, b2 = weights
    return w2 * np.maximum(w1 * x + b1, 0.0) + b2


def train(steps: int = 2000, eta: float = 2e-4) -> tuple[tuple[float, ...], list[float]]:
    """The trained weights (w1, b1, w2, b2), and the sum of squared residuals every 500 steps."""
    example = relu_regression(len(X))
    fn = sd.compile(example.expr, example.wrt, example.inputs)
    weights, history = list(START), []
    for step in range(steps + 1):
        mean_square, grads = fn(*weights, X, T)
        if step % 500 == 0:
            history.append(float(mean_square) * len(X))
        if step < steps:
            weights = [w - eta * float(g) for w, g in zip(weights, grads, strict=True)]
    return tuple(weights), history


def plot(weights: tuple[float, ...], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    axes.scatter(X, T, color="red", s=12, label="targets t")
    axes.scatter(X, predict(START), color="green", s=12, label="initial fit")
    axes.scatter(X, predict(weights), color="blue", s=12, label="after 2000 steps")
    axes.set_xlabel("x")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", type=Path, help="save the data, the initial and the trained fit to this image")
    args = parser.parse_args()
    weights, history = train()
    for step, loss in zip(range(0, 2001, 500), history, strict=True):
        print(f"step {step:4d}: sum of squared residuals {loss:.1f}")
    print("w1, b1, w2, b2 =", ", ".join(f"{w:.4f}" for w in weights))
    if args.plot is not None:
        plot(weights, args.plot)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
