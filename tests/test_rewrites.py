"""Compile-time speed rewrites: the same numbers as without them, to rounding."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff as sd


def relu_loss():
    w, b = sd.var("w"), sd.var("b")
    x, t = sd.var("x", shape=(50,)), sd.var("t", shape=(50,))
    rng = np.random.default_rng(0)
    return sd.sum((t - sd.relu(w * x + b)) ** 2), [w, b], [w, b, x, t], [0.7, 0.1, rng.normal(size=50),
                                                                         rng.normal(size=50)]


def weighted_squares():
    v = sd.var("v", shape=(7,))
    return sd.sum(sd.square(v) * 0.5) + sd.sum(v * np.arange(7.0)), [v], [v], [np.linspace(-1, 1, 7)]


@pytest.mark.parametrize("problem", [relu_loss, weighted_squares], ids=["relu loss", "weighted squares"])
def test_rewritten_code_matches_the_plain_code(problem) -> None:
    expr, wrt, inputs, point = problem()
    fast = sd.compile(expr, wrt, inputs)
    plain = sd.compile(expr, wrt, inputs, rewrites=False)
    got, expected = fast(*point), plain(*point)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-13)
    for g, e in zip(got[1], expected[1], strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-13, atol=1e-15)


def test_sums_of_vector_products_become_dot_products() -> None:
    expr, wrt, inputs, _ = relu_loss()
    fast = sd.compile(expr, wrt, inputs).source
    plain = sd.compile(expr, wrt, inputs, rewrites=False).source
    assert "value = t1 @ t1" in fast and "bar_w = bar_t0 @ x" in fast and "Rewrites: 2 sum(a*b)" in fast
    assert " @ " not in plain.split('"""')[2] and "Rewrites" not in plain


def test_matrix_sums_and_broadcast_products_are_left_alone() -> None:
    m, v = sd.var("m", shape=(3, 3)), sd.var("v", shape=(3,))
    source = sd.compile(sd.sum(m * m) + sd.sum(v * 2.0), [m, v]).source
    assert "Rewrites" not in source
