"""Second derivatives of every op in the table: the VJP of each VJP, against SymPy's second
derivatives (scalar forms) and central differences of the compiled gradient (array forms)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import sympy
from test_ops import ARRAY_CASES, SCALAR_CASES, TESTED_ELSEWHERE, Case, _objective, _point

import symdiff as sd
from symdiff.ops import OPS


def test_every_op_has_a_second_derivative_case() -> None:
    covered = {c.op for c in ARRAY_CASES} | {c.op for c in SCALAR_CASES}
    # scipy.special's: tests/test_special.py
    numpy_ops = {name for name, op in OPS.items() if op.module is None} - TESTED_ELSEWHERE
    assert numpy_ops - covered == set()


@pytest.mark.parametrize("case", SCALAR_CASES, ids=Case.id)
def test_scalar_second_derivatives_match_sympy(case: Case, rng: np.random.Generator) -> None:
    variables = [sd.var(f"a{i}") for i in range(len(case.shapes))]
    expr = sd.tofloat(sd.as_node(case.build(*variables)))
    point = _point(case, rng)
    first = sd.grad(expr, variables)
    second = [h for g in first for h in sd.grad(g, variables)]
    got = sd.function(variables, second)(*point)
    symbols = {v: sympy.Symbol(f"s{i}", real=True) for i, v in enumerate(variables)}
    form = sd.to_sympy(expr, symbols)
    if expr.op == "tofloat":
        form = sympy.Piecewise((1, sd.to_sympy(expr.inputs[0], symbols)), (0, True))
    at = {symbols[v]: sympy.Float(x, 30) for v, x in zip(variables, point, strict=True)}
    expected = [float(sympy.diff(form, symbols[a], symbols[b]).subs(at).evalf(30))
                for a in variables for b in variables]
    np.testing.assert_allclose(np.array(got, dtype=float), expected, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("case", ARRAY_CASES, ids=Case.id)
def test_array_hessian_vector_products_match_central_differences(case: Case, rng: np.random.Generator,
                                                                 weights: Any) -> None:
    variables = [sd.var(f"a{i}", shape=s) for i, s in enumerate(case.shapes)]
    objective = _objective(case, variables, weights)
    point = [np.asarray(p, dtype=float) for p in _point(case, rng)]
    directions = [rng.normal(size=s) for s in case.shapes]
    first = sd.grad(objective, variables)
    pairing = sum((sd.sum(g * d) for g, d in zip(first, directions, strict=True)), start=sd.as_node(0.0))
    product = sd.function(variables, list(sd.grad(pairing, variables)))(*point)
    gradient = sd.function(variables, list(first))
    eps = 1e-5
    ahead = gradient(*(p + eps * d for p, d in zip(point, directions, strict=True)))
    behind = gradient(*(p - eps * d for p, d in zip(point, directions, strict=True)))
    for got, up, down in zip(product, ahead, behind, strict=True):
        np.testing.assert_allclose(got, (np.asarray(up) - np.asarray(down)) / (2 * eps), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
@pytest.mark.parametrize("case", ARRAY_CASES, ids=Case.id)
def test_jacobians_of_every_array_case_match_central_differences(case: Case, mode: str,
                                                                  rng: np.random.Generator) -> None:
    # the identity seed goes through every op's batching rule, in both modes
    variables = [sd.var(f"a{i}", shape=s) for i, s in enumerate(case.shapes)]
    out = sd.tofloat(sd.as_node(case.build(*variables)))
    point = [np.asarray(p, dtype=float) for p in _point(case, rng)]
    forward = sd.function(variables, out)
    for position, variable in enumerate(variables):
        got = sd.function(variables, sd.jacobian(out, variable, mode=mode))(*point)
        assert np.shape(got) == out.shape + variable.shape
        np.testing.assert_allclose(got, numeric_jacobian(forward, point, position), rtol=1e-6, atol=1e-7)


def numeric_jacobian(forward: Any, point: list[np.ndarray], position: int, eps: float = 1e-6) -> np.ndarray:
    """Central differences, one input entry at a time; the input axes come last."""
    columns = []
    shape = point[position].shape
    for unit in np.eye(int(np.prod(shape))):
        moved = [p.copy() for p in point]
        moved[position] = point[position] + eps * unit.reshape(shape)
        ahead = np.asarray(forward(*moved), dtype=float)
        moved[position] = point[position] - eps * unit.reshape(shape)
        behind = np.asarray(forward(*moved), dtype=float)
        columns.append((ahead - behind) / (2 * eps))
    stacked = np.array(columns)
    return np.moveaxis(stacked, 0, -1).reshape(stacked.shape[1:] + shape)
