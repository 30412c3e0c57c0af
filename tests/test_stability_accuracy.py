"""A stability rewrite never makes a value or a derivative less accurate than the naive form.

Each rule is checked at the extremes of its domain against mpmath at 50 digits: the error with
rewrites on may not exceed the error with them off (nor 4 ulp, where the naive form is exact).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

import symdiff as sd

mpmath.mp.dps = 50

# rule -> (naive form, exact value, exact derivative, points at the extremes of the domain)
RULES = {
    "expm1": (lambda x: sd.exp(x) - 1.0, lambda x: mpmath.expm1(x), lambda x: mpmath.exp(x),
              [-1000.0, -745.0, -700.0, -40.0, -37.0, -1e-12, 1e-300, 1e-12, 1.0, 700.0]),
    "log1p": (lambda x: sd.log(1.0 + x), lambda x: mpmath.log1p(x), lambda x: 1 / (1 + mpmath.mpf(x)),
              [-0.999999, -0.5, -1e-12, 1e-300, 1e-12, 1.0, 1e300]),
    "softplus": (lambda x: sd.log(1.0 + sd.exp(x)), lambda x: mpmath.log1p(mpmath.exp(x)),
                 lambda x: 1 / (1 + mpmath.exp(-x)), [-1000.0, -745.0, -40.0, 0.0, 40.0, 710.0, 1000.0]),
    "sigmoid": (lambda x: 1.0 / (1.0 + sd.exp(-x)), lambda x: 1 / (1 + mpmath.exp(-x)),
                lambda x: mpmath.exp(-x) / (1 + mpmath.exp(-x)) ** 2, [-1000.0, -745.0, -40.0, 0.0, 40.0, 745.0]),
    "abs": (lambda x: sd.sqrt(x**2), lambda x: abs(mpmath.mpf(x)), lambda x: mpmath.sign(x),
            [-1e300, -1e200, -1.0, -1e-200, 1e-200, 1.0, 1e200]),
}


def _error(got: float, exact: mpmath.mpf) -> float:
    """Error in units of the exact value's last place (inf for a NaN or an inf where it is finite)."""
    if not math.isfinite(got):
        return 0.0 if mpmath.isinf(exact) and got == float(exact) else math.inf
    ulp = math.ulp(float(exact)) if exact != 0 else 5e-324
    return float(abs(mpmath.mpf(got) - exact) / ulp)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_the_rewrite_is_as_accurate_as_the_naive_form(rule: str) -> None:
    naive, value, derivative, points = RULES[rule]
    x = sd.var("x")
    stable, plain = sd.compile(naive(x), [x]), sd.compile(naive(x), [x], rewrites=False)
    assert rule in stable.source  # the rule applied
    for point in points:
        with np.errstate(all="ignore"):
            (v_on, (d_on,)), (v_off, (d_off,)) = stable(point), plain(point)
        for on, off, exact, what in ((v_on, v_off, value(point), "value"), (d_on, d_off, derivative(point), "slope")):
            worst = max(_error(off, exact), 4.0)
            assert _error(on, exact) <= worst, f"{rule} {what} at {point}: {on} against {off} (exact {exact})"


@pytest.mark.parametrize("point", [-37.0, -40.0, -300.0, -700.0])
def test_expm1_keeps_its_gradient_where_exp_is_tiny(point: float) -> None:
    x = sd.var("x")
    _, (slope,) = sd.compile(sd.expm1(x), [x])(point)
    assert slope == math.exp(point)


def test_evaluate_computes_what_compile_computes() -> None:
    x = sd.var("x", shape=(3,))
    f = sd.sum(sd.log(1.0 + sd.exp(x)))
    point = np.array([1000.0, 0.0, -1000.0])
    compiled, _ = sd.compile(f, [x])(point)
    assert sd.evaluate(f, {x: point}) == compiled == 1000.0 + math.log(2.0)


def _entry_points(f: sd.Node, x: sd.Node, point: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """The value (and gradient, where the entry point gives one) from every way to compile ``f``."""
    value, (slope,) = sd.compile(f, [x])(point)
    pulled, back = sd.pullback(f, [x])(point)
    (pulled_slope,) = back(1.0)
    (graph_slope,) = sd.grad(f, [x])
    both = sd.function([x], [f, graph_slope])(point)
    return {
        "compile": (value, slope),
        "pullback": (pulled, pulled_slope),
        "function": (both[0], both[1]),
        "evaluate": (sd.evaluate(f, {x: point}), None),
    }


@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize("guarded", [False, True], ids=["bare", "inside a where"])
def test_every_entry_point_computes_the_same_stable_numbers(rule: str, guarded: bool) -> None:
    naive, _, _, points = RULES[rule]
    x = sd.var("x", shape=(len(points),))
    terms = naive(x)
    if guarded:  # the guard must not hide the naive form from the stability rewrite
        terms = sd.where(x > -1e308, terms, 0.0)
    f = sd.sum(terms * np.linspace(0.5, 1.5, len(points)))
    point = np.array(points)
    with np.errstate(all="ignore"):
        results = _entry_points(f, x, point)
    value, slope = results["compile"]
    assert math.isfinite(value)
    for name, (got_value, got_slope) in results.items():
        assert got_value == value, name
        if got_slope is not None:
            np.testing.assert_array_equal(got_slope, slope, err_msg=name)
