"""Stability rewrites: finite, correct values and gradients where the naive formula overflows
or cancels, with rewrites on; the naive failure itself with rewrites off."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import symdiff as sd

pytestmark = pytest.mark.usefixtures("each_backend")  # every test on both backends


def naive_softplus(x):
    return sd.log(1.0 + sd.exp(x))


def naive_sigmoid(x):
    return 1.0 / (1.0 + sd.exp(-x))


def naive_logsumexp(x):
    return sd.log(sd.sum(sd.exp(x)))


def compiled(build, shape, rewrites: bool):
    x = sd.var("x", shape=shape)
    return sd.compile(sd.sum(build(x)), [x], rewrites=rewrites)


def quietly(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args)


BIG = np.array([-1000.0, 1000.0])


@pytest.mark.parametrize(
    ("build", "expected_value", "expected_grad", "rule"),
    [
        (naive_softplus, 1000.0, [0.0, 1.0], "softplus(x)"),
        (naive_sigmoid, 1.0, [0.0, 0.0], "sigmoid(x)"),
    ],
    ids=["softplus", "sigmoid"],
)
def test_elementwise_rewrites_stay_finite_at_plus_minus_1000(build, expected_value, expected_grad, rule) -> None:
    fn = compiled(build, (2,), True)
    assert rule in fn.source
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, (grad,) = fn(BIG)
    np.testing.assert_allclose(value, expected_value, rtol=1e-15)
    np.testing.assert_allclose(grad, expected_grad, atol=1e-300)
    naive_value, (naive_grad,) = quietly(compiled(build, (2,), False), BIG)
    assert not (np.isfinite(naive_value) and np.all(np.isfinite(naive_grad)) and np.allclose(naive_grad, expected_grad))


def test_logsumexp_rewrite_stays_finite_at_1000() -> None:
    point = np.array([1000.0, 1000.0, -1000.0])
    fn = compiled(naive_logsumexp, (3,), True)
    assert "logsumexp" in fn.source
    value, (grad,) = fn(point)
    np.testing.assert_allclose(value, 1000.0 + math.log(2.0), rtol=1e-15)
    np.testing.assert_allclose(grad, [0.5, 0.5, 0.0], atol=1e-300)
    naive_value, _ = quietly(compiled(naive_logsumexp, (3,), False), point)
    assert naive_value == np.inf


@pytest.mark.parametrize(
    ("build", "exact_value", "exact_grad", "rule"),
    [
        (lambda x: sd.log(1.0 + x), 1e-12 - 5e-25, 1.0 / (1.0 + 1e-12), "log1p(x)"),
        (lambda x: sd.exp(x) - 1.0, 1e-12 + 5e-25, math.exp(1e-12), "expm1(x)"),
    ],
    ids=["log1p", "expm1"],
)
def test_small_argument_rewrites_keep_full_precision(build, exact_value, exact_grad, rule) -> None:
    x = sd.var("x")
    fast = sd.compile(build(x), [x])
    assert rule in fast.source
    value, (grad,) = fast(1e-12)
    np.testing.assert_allclose(value, exact_value, rtol=1e-15)
    np.testing.assert_allclose(grad, exact_grad, rtol=1e-15)
    naive, _ = sd.compile(build(x), [x], rewrites=False)(1e-12)
    assert abs(naive - exact_value) / exact_value > 1e-6  # cancellation: 1 + 1e-12 keeps 4 digits of x


def test_sqrt_of_a_square_is_abs_with_a_zero_gradient_at_zero() -> None:
    x = sd.var("x", shape=(3,))
    fn = sd.compile(sd.sum(sd.sqrt(x**2)), [x])
    assert "sqrt(x**2) as abs(x)" in fn.source
    value, (grad,) = fn(np.array([-2.0, 0.0, 3.0]))
    assert value == 5.0
    np.testing.assert_array_equal(grad, [-1.0, 0.0, 1.0])
    _, (naive,) = quietly(sd.compile(sd.sum(sd.sqrt(x**2)), [x], rewrites=False), np.array([-2.0, 0.0, 3.0]))
    assert np.isnan(naive[1])


def test_grad_differentiates_the_stable_form() -> None:
    x = sd.var("x")
    (g,) = sd.grad(naive_softplus(x), [x])
    (h,) = sd.grad(g, [x])
    values = sd.function([x], [g, h])(1000.0)
    np.testing.assert_allclose(values, [1.0, 0.0], atol=1e-300)


def test_the_adjoint_graph_is_rewritten_too() -> None:
    # exp(x) - x has no pattern; its gradient exp(x) - 1 has one
    x = sd.var("x")
    fn = sd.compile(sd.exp(x) - x, [x])
    reverse = fn.source.split("# reverse sweep")[-1]
    assert "expm1" in reverse and "exp(x) - 1 as expm1(x)" in fn.source
    _, (grad,) = fn(1e-12)
    np.testing.assert_allclose(grad, math.expm1(1e-12), rtol=1e-15)
    _, (naive,) = sd.compile(sd.exp(x) - x, [x], rewrites=False)(1e-12)
    assert abs(naive - math.expm1(1e-12)) / 1e-12 > 1e-6
