"""Seed 003: the pullback of z = (exp(x^2))^2, whose derivative is 4x exp(2x^2).

At x = 0.5 the exact derivative is 3.2974425414; the article prints only its finite
difference with eps = 1e-3, 3.2974513346. Both are shown.
"""

import math

import symdiff as sd


def derivative(x0: float = 0.5) -> float:
    x = sd.var("x")
    a = sd.square(x)  # a = f(x)
    y = sd.exp(a)  # y = g(a)
    z = sd.square(y)  # z = h(y)
    return float(sd.compile(z, wrt=[x])(x0)[1][0])


def article_difference(x0: float = 0.5, eps: float = 1e-3) -> float:
    z = lambda v: math.exp(v * v) ** 2
    return (z(x0 + eps) - z(x0 - eps)) / (2 * eps)


if __name__ == "__main__":
    print(f"reverse mode: {derivative():.10f}  (4x exp(2x^2) = {4 * 0.5 * math.exp(0.5):.10f})")
    print(f"finite difference, eps = 1e-3 (the article's number): {article_difference():.10f}")
