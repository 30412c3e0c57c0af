"""Compile-time speed rewrites: the same numbers as without them, to rounding, and each
rule seen to apply where it should and not where it should not."""

from __future__ import annotations

import math

import numpy as np
import pytest

import symdiff as sd
from symdiff.testing import check_grad

RNG = np.random.default_rng(0)
SYMMETRIC = (lambda m: (m + m.T) / 2.0)(RNG.uniform(-1, 1, (6, 6)))
SKEWED = RNG.uniform(-1, 1, (6, 6))


def relu_loss():
    w, b = sd.var("w"), sd.var("b")
    x, t = sd.var("x", shape=(50,)), sd.var("t", shape=(50,))
    return sd.sum((t - sd.relu(w * x + b)) ** 2), [w, b], [w, b, x, t], [0.7, 0.1, RNG.normal(size=50),
                                                                         RNG.normal(size=50)]


def weighted_squares():
    v = sd.var("v", shape=(7,))
    return sd.sum(sd.square(v) * 0.5) + sd.sum(v * np.arange(7.0)), [v], [v], [np.linspace(-1, 1, 7)]


def helmholtz_like():
    x = sd.var("x", shape=(6,))
    s = x @ np.linspace(0.05, 0.1, 6)
    f = sd.sum(x * sd.log(x / (1.0 - s))) - (x @ SYMMETRIC @ x) / (math.sqrt(8.0) * s) * sd.log(1.0 + s)
    return f, [x], [x], [RNG.uniform(0.1, 1.0, 6)]


def skewed_quadratic():
    x = sd.var("x", shape=(6,))
    return x @ SKEWED @ x / sd.sum(x), [x], [x], [RNG.uniform(0.5, 1.0, 6)]


def scaled_terms():
    s, v = sd.var("s"), sd.var("v", shape=(5,))
    m = sd.var("m", shape=(5, 3))
    f = sd.sum(-(s * v) / s * v) + sd.sum((s * v) @ m) + sd.sum(v * s + v * (s * s)) + sd.sum((v + v) * 3.0)
    return f, [s, v, m], [s, v, m], [1.3, RNG.normal(size=5), RNG.normal(size=(5, 3))]


PROBLEMS = [relu_loss, weighted_squares, helmholtz_like, skewed_quadratic, scaled_terms]


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.__name__)
def test_rewritten_code_matches_the_plain_code(problem) -> None:
    expr, wrt, inputs, point = problem()
    fast = sd.compile(expr, wrt, inputs)
    plain = sd.compile(expr, wrt, inputs, rewrites=False)
    assert fast.source != plain.source, "no rewrite applied"
    got, expected = fast(*point), plain(*point)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-13)
    for g, e in zip(got[1], expected[1], strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.__name__)
def test_rewritten_gradients_match_central_differences(problem) -> None:
    expr, wrt, inputs, point = problem()
    check_grad(expr, wrt, inputs, at=point)


def header(source: str) -> str:
    return source.split('"""')[1]


def test_sums_of_vector_products_become_dot_products() -> None:
    expr, wrt, inputs, _ = relu_loss()
    fast = sd.compile(expr, wrt, inputs).source
    plain = sd.compile(expr, wrt, inputs, rewrites=False).source
    assert "value = t1.dot(t1)" in fast and "bar_w = bar_t0.dot(x)" in fast
    assert "2 x sum(a*b) of vectors as a dot product" in header(fast)
    assert ".dot(" not in plain.split('"""')[2] and "Compile-time rewrites" not in header(plain)


def test_a_symmetric_quadratic_form_needs_one_matrix_vector_product() -> None:
    expr, wrt, inputs, _ = helmholtz_like()
    body = sd.compile(expr, wrt, inputs).source.split('"""')[2]
    plain = sd.compile(expr, wrt, inputs, rewrites=False).source.split('"""')[2]
    assert body.count("C1") == 1 and plain.count("C1") == 2  # x @ A in the forward sweep, and only there


def test_a_skewed_matrix_keeps_its_transposed_product() -> None:
    expr, wrt, inputs, _ = skewed_quadratic()
    source = sd.compile(expr, wrt, inputs).source
    assert "symmetric" not in header(source) and source.split('"""')[2].count("C0") == 2


def test_scalar_factors_leave_sums_and_products() -> None:
    expr, wrt, inputs, _ = scaled_terms()
    text = header(sd.compile(expr, wrt, inputs).source)
    for rule in ("scalar factor moved out of a sum", "scalar factor moved out of a matrix product",
                 "a + a as 2.0 * a", "common array factored out"):
        assert rule in text, rule


def test_matrix_sums_and_broadcast_products_are_left_alone() -> None:
    m, v = sd.var("m", shape=(3, 3)), sd.var("v", shape=(3,))
    source = sd.compile(sd.sum(m * m) + sd.sum(v * np.arange(3.0)[:, None]), [m, v]).source
    assert "dot product" not in header(source)


def test_the_sum_of_a_broadcast_scalar_is_a_product() -> None:
    w, x = sd.var("w"), sd.var("x", shape=(4, 3))
    expr = sd.sum(w * x + w) + sd.sum(sd.sum(x, axis=0) * w)
    fast, plain = sd.compile(expr, [w, x]), sd.compile(expr, [w, x], rewrites=False)
    assert "sum of a broadcast scalar as a product" in header(fast.source)
    assert "bar_w = t0 + 12.0 + x.sum()" in fast.source  # sum(broadcast_to(1.0, (4, 3))) is 12.0
    point = [1.7, RNG.normal(size=(4, 3))]
    got, expected = fast(*point), plain(*point)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-14)
    for g, e in zip(got[1], expected[1], strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-14)


def test_negations_are_left_to_the_compile_time_pass() -> None:
    x1, x2, v = sd.var("x1"), sd.var("x2"), sd.var("v", shape=(3,))
    f = sd.log(x1) + x1 * x2 - sd.sin(x2) + sd.sum(-(2.0 * v) - -v)
    fast, plain = sd.compile(f, [x1, x2, v]), sd.compile(f, [x1, x2, v], rewrites=False)
    assert "bar_x2 = x1 - np.cos(x2)" in fast.source and "bar_x2 = -1.0 * np.cos(x2) + x1" in plain.source
    assert "(-2.0 * v + v).sum()" in fast.source and "(-(2.0 * v) - -v).sum()" in plain.source
    assert "negation merged into an addition or product" in header(fast.source)
    point = [2.0, 5.0, RNG.normal(size=3)]
    got, expected = fast(*point), plain(*point)
    assert got[0] == expected[0]
    for g, e in zip(got[1], expected[1], strict=True):
        np.testing.assert_array_equal(g, e)
