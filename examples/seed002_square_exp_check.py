"""Seed 002 (DeZero stage 1): square and exp, numerical differentiation, and a gradient check."""

import numpy as np

import symdiff as sd
from symdiff.testing import check_grad


def numerical_diff(f, x: float, eps: float = 1e-4) -> float:
    """The article's central difference."""
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def main() -> None:
    x = sd.var("x")
    square = sd.compile(sd.square(x), wrt=[x])
    print("square(2) =", square(2.0)[0])
    print("d square/dx at 3 =", square(3.0)[1][0])
    composite = sd.square(sd.exp(sd.square(x)))
    point = float(np.random.default_rng(0).random())
    check_grad(composite, [x], at=[point])  # raises GradientError on a mismatch
    print(f"check_grad agrees with central differences for square(exp(square(x))) at x = {point:.6f}")
    f = sd.compile(composite, wrt=[x])
    print("symbolic:", f(0.5)[1][0], " numerical:", numerical_diff(lambda v: f(v)[0], 0.5))


if __name__ == "__main__":
    main()
