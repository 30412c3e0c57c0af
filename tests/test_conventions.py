"""DESIGN §8: the fixed choices at points where no derivative exists, and NaN-free where-branches."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import symdiff as sd

pytestmark = pytest.mark.usefixtures("each_backend")  # every test on both backends


def grad_at(expr_of, value, shape=()):
    x = sd.var("x", shape=shape)
    return sd.compile(sd.sum(expr_of(x)), [x])(value)[1][0]


def test_maximum_tie_splits_the_gradient_in_half() -> None:
    assert grad_at(lambda x: sd.maximum(x, 0.0), 0.0) == 0.5


def test_minimum_tie_splits_the_gradient_in_half() -> None:
    x, y = sd.var("x"), sd.var("y")
    assert sd.compile(sd.minimum(x, y), [x, y])(1.0, 1.0)[1] == (0.5, 0.5)


def test_relu_derivative_at_zero_is_zero() -> None:
    assert grad_at(sd.relu, 0.0) == 0.0
    assert grad_at(sd.relu, 1e-300) == 1.0


def test_abs_derivative_at_zero_is_zero() -> None:
    assert grad_at(sd.abs, 0.0) == 0.0


def test_max_reduction_shares_the_gradient_among_ties() -> None:
    np.testing.assert_array_equal(grad_at(sd.max, np.array([1.0, 3.0, 3.0, 2.0]), (4,)), [0.0, 0.5, 0.5, 0.0])


def test_max_over_an_axis_shares_ties_per_row() -> None:
    value = np.array([[2.0, 2.0, 2.0], [1.0, 5.0, 0.0]])
    expected = [[1 / 3, 1 / 3, 1 / 3], [0.0, 1.0, 0.0]]
    np.testing.assert_allclose(grad_at(lambda x: sd.max(x, axis=1), value, (2, 3)), expected)


@pytest.mark.parametrize(
    ("build", "point"),
    [
        (lambda x: sd.where(x > 0, sd.sqrt(x), 0.0), 0.0),
        (lambda x: sd.where(x > 0, sd.log(x), 0.0), -1.0),
        (lambda x: sd.where(x > 0, 1.0 / x, 0.0), 0.0),
        (lambda x: sd.where(x <= 0, 0.0, sd.sqrt(x) * sd.log(x)), -2.0),
        (lambda x: sd.where(x < 0.5, sd.arcsin(x), 0.0), 2.0),
        (lambda x: sd.where(x < 100.0, sd.exp(x), 0.0), 1000.0),
    ],
    ids=["sqrt at 0", "log below 0", "reciprocal at 0", "false branch", "arcsin outside", "exp overflow"],
)
def test_untaken_where_branch_leaks_no_nan_and_no_warning(build, point) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = sd.var("x")
        value, (grad,) = sd.compile(build(x), [x])(point)
    assert np.isfinite(value) and grad == 0.0


def test_where_on_arrays_selects_and_guards_per_element() -> None:
    x = sd.var("x", shape=(4,))
    fn = sd.compile(sd.sum(sd.where(x > 0, sd.sqrt(x), -x)), [x])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, (grad,) = fn(np.array([-1.0, 0.0, 4.0, 9.0]))
    assert value == 1.0 + 0.0 + 2.0 + 3.0
    np.testing.assert_allclose(grad, [-1.0, -1.0, 0.25, 1 / 6])


def test_the_conventions_are_printed_in_the_header() -> None:
    x = sd.var("x")
    source = sd.compile(sd.relu(x), [x]).source
    for phrase in ("ties split", "relu'(0) = 0", "abs'(0) = 0", "tied elements", "untaken branch"):
        assert phrase in source


def test_outside_where_ieee_rules_hold_with_numpy_warnings(each_backend: str) -> None:
    x = sd.var("x")
    fn = sd.compile(sd.log(x), [x])
    if each_backend == "numba":  # error_model="numpy": IEEE results without NumPy's warnings
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            value, _ = fn(-1.0)
    else:
        with pytest.warns(RuntimeWarning):
            value, _ = fn(-1.0)
    assert np.isnan(value)
