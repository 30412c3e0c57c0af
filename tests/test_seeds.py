"""The five seed articles' numbers, reproduced through the scripts in examples/."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import numpy as np
import pytest

import symdiff as sd
from symdiff.ops import OPS
from symdiff.testing import check_grad

pytestmark = pytest.mark.usefixtures("each_backend")  # every test on both backends


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(stem: str):
    spec = importlib.util.spec_from_file_location(stem, EXAMPLES / f"{stem}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_seed000_sum_of_squares_at_2_3() -> None:
    value, grads = load("seed000_variadic_and_reuse").sum_of_squares()
    assert (value, grads) == (13.0, (4.0, 6.0))


@pytest.mark.parametrize(("times", "expected"), [(2, 2.0), (3, 3.0)], ids=["x + x", "(x + x) + x"])
def test_seed000_reused_variable_accumulates(times, expected) -> None:
    assert load("seed000_variadic_and_reuse").reuse(times) == expected


X0 = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


@pytest.mark.parametrize(
    ("build", "values", "out"),
    [
        (lambda a, b: a + b, (X0, X0 * 10), X0 * 11),
        (lambda a: sd.reshape(a, (6,)), (X0,), np.arange(1.0, 7.0)),
        (lambda a: sd.transpose(a), (X0,), X0.T),
        (lambda a: sd.sum(a), (X0,), 21.0),
    ],
    ids=["add", "reshape", "transpose", "sum"],
)
def test_seed001_shape_ops_pass_back_ones(build, values, out) -> None:
    value, grads = load("seed001_tensor_backprop").grad_of_sum(build, *values)
    np.testing.assert_array_equal(value, out)
    for grad in grads:
        np.testing.assert_array_equal(grad, np.ones((2, 3)))


def test_seed001_matmul_gradient_shapes() -> None:
    rng = np.random.default_rng(0)
    out, (gx, gw) = load("seed001_tensor_backprop").grad_of_sum(
        lambda a, b: a @ b, rng.standard_normal((2, 3)), rng.standard_normal((3, 4)))
    assert (out.shape, gx.shape, gw.shape) == ((2, 4), (2, 3), (3, 4))


def test_seed001_split_into_two_outputs_recombined() -> None:
    def separate(a):
        top, bottom = sd.split(a, 2, axis=0)
        return top + bottom

    out, (grad,) = load("seed001_tensor_backprop").grad_of_sum(separate, X0)
    np.testing.assert_array_equal(out, [[5.0, 7.0, 9.0]])
    np.testing.assert_array_equal(grad, np.ones((2, 3)))


def test_seed002_square_forward_and_backward() -> None:
    x = sd.var("x")
    fn = sd.compile(sd.square(x), [x])
    assert fn(2.0)[0] == 4.0
    assert fn(3.0)[1][0] == 6.0


def test_seed002_gradient_check_agrees_with_numerical_differentiation() -> None:
    x = sd.var("x")
    point = float(np.random.default_rng(1).random())
    assert check_grad(sd.square(x), [x], at=[point]) is None
    assert check_grad(sd.exp(x), [x], at=[point]) is None


def test_seed002_numerical_diff_matches_exp() -> None:
    module = load("seed002_square_exp_check")
    x = sd.var("x")
    f = sd.compile(sd.exp(x), [x])
    assert module.numerical_diff(lambda v: f(v)[0], 0.3) == pytest.approx(f(0.3)[1][0], rel=1e-7)


def test_seed002_gradient_check_raises_with_fields_on_a_wrong_rule(monkeypatch) -> None:
    wrong = dataclasses.replace(OPS["exp"], vjp=lambda g, y, x: (g * y * 1.01,))
    monkeypatch.setitem(OPS, "exp", wrong)
    x = sd.var("x", shape=(3,))
    with pytest.raises(sd.GradientError) as info:
        check_grad(sd.sum(sd.exp(x) * np.array([1.0, 3.0, 2.0])), [x], at=[np.array([0.1, 0.2, 0.3])])
    error = info.value
    assert (error.variable, error.index) == ("x", (1,))
    assert error.got == pytest.approx(error.expected * 1.01)
    assert (error.rtol, error.atol) == (1e-5, 1e-7)


def test_seed003_pullback_of_exp_square_squared() -> None:
    module = load("seed003_pullback")
    assert module.derivative() == pytest.approx(3.2974425414, abs=1e-10)
    assert module.derivative() == pytest.approx(4 * 0.5 * np.exp(2 * 0.25), rel=1e-15)
    assert module.article_difference() == pytest.approx(3.2974513346, abs=1e-10)


def test_seed004_baydin_numbers() -> None:
    value, (g1, g2) = load("seed004_baydin_and_relu").baydin_numbers()
    assert round(value, 10) == 11.6520714552
    assert (round(g1, 10), round(g2, 10)) == (5.5, 1.7163378145)


def test_seed004_relu_regression_training_curve() -> None:
    history = load("seed004_baydin_and_relu").train()
    assert round(history[0], 1) == 21228.1
    assert round(history[500], 1) == 540.5
    assert round(history[1000], 1) == 316.1
    assert round(history[2000], 1) == 115.3


def test_seed004_the_articles_sequential_update_ends_at_115_95() -> None:
    assert round(load("seed004_baydin_and_relu").train_like_the_article(), 2) == 115.95
