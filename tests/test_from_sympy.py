"""from_sympy: SymPy expressions as graphs, round trips through to_sympy, and the errors."""

from __future__ import annotations

import inspect
import math
import sys

import numpy as np
import pytest
import sympy
from test_ops import SCALAR_CASES, Case, _point

import symdiff as sd
from symdiff.graph import toposort


@pytest.mark.parametrize("case", [c for c in SCALAR_CASES if c.sympy], ids=Case.id)
def test_every_op_with_a_sympy_form_round_trips(case: Case, rng: np.random.Generator) -> None:
    variables = [sd.var(f"a{i}") for i in range(len(case.shapes))]
    expr = sd.tofloat(sd.as_node(case.build(*variables)))
    symbols = {v: sympy.Symbol(f"s{i}", real=True) for i, v in enumerate(variables)}
    back = sd.from_sympy(sd.to_sympy(expr, symbols), {s: v for v, s in symbols.items()})
    point = _point(case, rng)
    values = dict(zip(variables, point, strict=True))
    np.testing.assert_allclose(sd.evaluate(back, values), sd.evaluate(expr, values), rtol=1e-14, atol=1e-15)
    got = sd.compile(back, variables)(*point)[1]
    expected = sd.compile(expr, variables)(*point)[1]
    np.testing.assert_allclose(np.array(got, dtype=float), np.array(expected, dtype=float), rtol=1e-12, atol=1e-14)


def test_piecewise_max_min_abs_rationals_and_numbers() -> None:
    x, y = sympy.symbols("x y", real=True)
    expr = (sympy.Piecewise((x**2, x > 1), (sympy.sqrt(x), True)) + sympy.Max(x, y, 1) - sympy.Min(x, y)
            + sympy.Abs(y - 3) + sympy.Rational(1, 3) * x ** sympy.Rational(3, 2) + sympy.pi + sympy.Float(0.25)
            + sympy.Integer(7) / y)
    X, Y = sd.var("x"), sd.var("y")
    node = sd.from_sympy(expr, {x: X, y: Y})
    for a, b in [(2.0, 5.0), (0.5, 0.2), (1.5, 3.0)]:
        expected = float(expr.subs({x: a, y: b}))
        np.testing.assert_allclose(sd.evaluate(node, {X: a, Y: b}), expected, rtol=1e-14)


def test_shared_subexpressions_stay_shared() -> None:
    x = sympy.Symbol("x", real=True)
    inner = sympy.sin(x) + sympy.exp(x)
    expr = sympy.sqrt(inner) + sympy.log(inner) + sympy.cos(inner)
    X = sd.var("x")
    nodes = toposort([sd.from_sympy(expr, {x: X})])
    assert [n.op for n in nodes].count("sin") == 1 and [n.op for n in nodes].count("exp") == 1
    assert sum(1 for n in nodes if n.op == "add" and {i.op for i in n.inputs} == {"sin", "exp"}) == 1


def test_a_deep_expression_converts_without_recursion() -> None:
    x = sympy.Symbol("x", real=True)
    expr = x
    for k in range(2000):  # unevaluated: SymPy's own simplification recurses on deep trees
        expr = sympy.Add(sympy.sin(expr, evaluate=False), sympy.Integer(k), evaluate=False)
    X = sd.var("x")
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 100)  # far less than the depth
    try:
        node = sd.from_sympy(expr, {x: X})
    finally:
        sys.setrecursionlimit(limit)
    assert sum(1 for n in toposort([node]) if n.op == "sin") == 2000
    expected = 0.3
    for k in range(2000):
        expected = math.sin(expected) + k
    np.testing.assert_allclose(sd.evaluate(node, {X: 0.3}), expected, rtol=1e-12)


def test_unknown_classes_and_missing_symbols_are_named() -> None:
    x, y = sympy.symbols("x y", real=True)
    with pytest.raises(sd.UnsupportedError, match="fresnels"):
        sd.from_sympy(sympy.fresnels(x), {x: sd.var("x")})
    with pytest.raises(sd.GraphError, match=r"\['b', 'y'\]"):
        sd.from_sympy(x + y + sympy.Symbol("b"), {x: sd.var("x")})


@pytest.mark.parametrize("text", ["x + 1", "__import__('builtins').SYMDIFF_SYMPIFY_RAN", b"x"])
def test_text_is_refused_not_evaluated(text) -> None:
    import builtins

    x = sympy.Symbol("x")
    with pytest.raises(sd.UnsupportedError, match="SymPy expression"):
        sd.from_sympy(text, {x: sd.var("x")})
    assert not hasattr(builtins, "SYMDIFF_SYMPIFY_RAN")


def test_numbers_are_still_accepted() -> None:
    assert sd.evaluate(sd.from_sympy(2.5, {}), {}) == 2.5
