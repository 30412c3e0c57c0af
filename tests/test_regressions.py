"""Bugs the fuzzer found, each pinned by the smallest graph that showed it."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff as sd
from symdiff.testing import assert_matches_sympy

pytestmark = pytest.mark.usefixtures("each_backend")  # every test on both backends


@pytest.mark.parametrize(
    "build",
    [lambda v: sd.sign(sd.log(v)) * 0.5 + v, lambda v: sd.abs(sd.log(v)), lambda v: sd.relu(sd.log(v))],
    ids=["sign of log", "abs of log", "relu of log"],
)
def test_kinked_ops_of_possibly_complex_arguments_have_evaluable_sympy_derivatives(build) -> None:
    # SymPy left d/dx sign(log(x)) unevaluated (and recursed on evaluating it) because
    # log(x) is not known to be real; the table now gives these ops Piecewise forms.
    v = sd.var("v")
    assert_matches_sympy(build(v), [v], at=[0.5])


def test_negative_constant_base_with_variable_exponent_has_no_real_derivative(numpy_warns) -> None:
    # d/dx (-1)**x = (-1)**x log(-1) is not real: NaN (with NumPy's warning), never a number.
    x = sd.var("x")
    with numpy_warns(RuntimeWarning, match="invalid value"):
        value, (grad,) = sd.compile(sd.power(-1.0, x), [x])(0.0)
    assert value == 1.0 and np.isnan(grad)


def test_a_relu_inside_a_condition_keeps_a_sympy_form_sympy_can_build() -> None:
    # A Piecewise form of relu put log(0) = zoo into one branch of log(relu(v)), and SymPy
    # refused to compare it with 0 while building the condition; relu is Max(a, 0) again.
    v, w = sd.var("v"), sd.var("w")
    expr = sd.tofloat(sd.logical_and(sd.equal(v, 0.0), sd.log(sd.relu(v)) > 0.0)) * v
    assert_matches_sympy(expr, [v, w], at=[0.5, 0.0])


def test_when_sympy_cannot_evaluate_a_graph_the_check_says_so() -> None:
    # sign(1 / sign(v)): SymPy's Piecewise fold compares zoo (from 1/0 in an untaken piece)
    # with 0 and raises. The check reports UnsupportedError instead of a TypeError from SymPy;
    # the fuzzer then falls back to central differences.
    from symdiff.testing import check_grad

    v = sd.var("v")
    expr = sd.sign(1.0 / sd.sign(v)) * v
    with pytest.raises(sd.UnsupportedError, match="SymPy could not evaluate"):
        assert_matches_sympy(expr, [v], at=[1.0])
    check_grad(expr, [v], at=[1.0])
