"""power and **: integer and float exponents, negative bases, array exponents, constant bases."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import symdiff as sd
from symdiff.testing import assert_matches_sympy, check_grad

pytestmark = pytest.mark.usefixtures("each_backend")  # every test on both backends


def grads(expr, variables, *values):
    return sd.compile(expr, variables)(*values)[1]


def test_integer_exponent_on_a_negative_base() -> None:
    x = sd.var("x")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (g,) = grads(x**3, [x], -2.0)
    assert g == 12.0


def test_negative_integer_exponent_on_a_negative_base() -> None:
    x = sd.var("x")
    assert grads(x**-2, [x], -2.0) == (pytest.approx(0.25),)


def test_float_exponent_matches_sympy() -> None:
    x = sd.var("x")
    assert_matches_sympy(x**2.5, [x], at=[1.7])


def test_constant_exponent_emits_no_log() -> None:
    x = sd.var("x")
    source = sd.compile(x**2.5 + x**3, [x]).source
    assert "np.log" not in source.split('"""')[2]


def test_constant_array_exponent() -> None:
    x = sd.var("x", shape=(3,))
    check_grad(sd.sum(x ** np.array([1.0, 2.0, 3.0])), [x], at=[np.array([-1.5, 0.5, -2.0])])


def test_variable_base_and_variable_exponent() -> None:
    x, y = sd.var("x"), sd.var("y")
    assert_matches_sympy(x**y, [x, y], at=[1.3, -0.7])


def test_constant_base() -> None:
    x = sd.var("x")
    (g,) = grads(2.0**x, [x], 3.0)
    assert g == pytest.approx(8.0 * np.log(2.0), rel=1e-15)


def test_constant_base_is_not_differentiated(each_backend: str) -> None:
    x = sd.var("x")
    source = sd.compile((-2.0) ** x, [x]).source
    # d/dx needs log(base) once; no d/d(base) is emitted (numba's scalar kernel calls math.log)
    assert source.count("math.log(" if each_backend == "numba" else "np.log") == 1


def test_square_via_numpy_power_prints_readably() -> None:
    x = sd.var("x")
    assert "x ** 2" in sd.compile(np.power(x, 2), [x]).source


def test_zero_exponent_has_zero_gradient_even_at_zero() -> None:
    x = sd.var("x")
    assert grads(x**0, [x], 0.0) == (0.0,)


def test_constant_to_a_fractional_power_follows_ieee_not_python(numpy_warns) -> None:
    x = sd.var("x")
    with numpy_warns(RuntimeWarning):
        value, _ = sd.compile(x + sd.power(-8.0, 0.5), [x])(1.0)
    assert isinstance(value, float) and np.isnan(value)


def test_constant_division_by_zero_folds_to_inf_with_numpy_warning() -> None:
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        folded = sd.as_node(1.0) / 0.0
    assert folded.op == "const" and folded.value == np.inf
