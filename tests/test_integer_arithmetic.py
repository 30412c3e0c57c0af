"""Integer arithmetic on int64 nodes: a loop's index minus one still indexes, as in NumPy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import symdiff as sd
from symdiff.compiler import compile_program
from symdiff.graph import FLOAT, INT, make_const
from symdiff.source_text import module_text

rng = np.random.default_rng(20261203)


def reference(values: np.ndarray) -> float:
    v = values
    return float(sum(v[i - 1] * v[4 - i] + v[i // 2] + np.sin(v[i % 3]) + v[-i + 3] * (2 * i) for i in range(1, 4)))


def looped(x: sd.Node) -> sd.Node:
    def body(i: sd.Node, carry: sd.Node) -> sd.Node:
        return carry + x[i - 1] * x[4 - i] + x[i // 2] + sd.sin(x[i % 3]) + x[-i + 3] * (2 * i)

    return sd.fori_loop(1, 4, body, 0.0)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_index_arithmetic_in_a_loop_gives_the_value_and_gradient(backend: str) -> None:
    x = sd.var("x", (5,))
    fn = sd.compile(looped(x), [x], backend=backend)
    point = rng.uniform(0.5, 2.0, 5)
    value, (grad,) = fn(point)
    assert value == pytest.approx(reference(point), rel=1e-14)
    step = 1e-6
    numeric = [(reference(point + step * e) - reference(point - step * e)) / (2 * step) for e in np.eye(5)]
    np.testing.assert_allclose(grad, numeric, rtol=1e-7, atol=1e-8)


def test_integers_stay_integers_and_meet_floats_as_floats() -> None:
    x = sd.var("x", (6,))
    i = sd.argmax(x)
    assert (i - 1).dtype == INT and (2 * i).dtype == INT and (-i).dtype == INT and (i % 4).dtype == INT
    assert (i * 0.5).dtype == FLOAT and (i + x).dtype == FLOAT
    point = np.array([0.3, 2.0, -1.0, 5.0, 0.1, 0.2])
    got = sd.evaluate(x[i - 1] + (i + 1) * 1.5 + x[(3 * i) // 2 - 2] + x[-(i % 4)], {x: point})
    assert got == point[2] + 4 * 1.5 + point[2] + point[-3]


def test_integer_constants_fold() -> None:
    i = sd.argmax(sd.var("x", (3,)))
    folded = make_const(np.array(7, dtype=np.int64)) // 2 - 1
    assert folded.dtype == INT and folded.op == "const" and int(folded.value) == 2
    assert (i + 0).op == "integer_arithmetic"  # an integer sum of a node is a node, printed as one


@pytest.mark.parametrize("divisor", [0, "node"])
def test_integer_division_by_a_node_or_zero_raises(divisor: Any) -> None:
    x = sd.var("x", (3,))
    i = sd.argmax(x)
    by = sd.argmin(x) if divisor == "node" else divisor
    for operator in ("//", "%"):
        with pytest.raises(sd.UnsupportedError, match=f"integer {operator} by"):
            _ = i // by if operator == "//" else i % by


def test_numba_takes_an_integer_scalar_as_its_value() -> None:
    """An int64 scalar in float arithmetic is its value on numba too, not 1.0 for any non-zero."""
    x, k = sd.var("x", (3,)), sd.var("k", dtype=np.int64)
    expr = sd.sum(x * k) + k * 0.5
    point = np.array([1.0, 2.0, 3.0])
    for backend in ("numpy", "numba"):
        value, (grad,) = sd.compile(expr, [x], [x, k], backend=backend)(point, np.int64(3))
        assert value == 19.5
        np.testing.assert_array_equal(grad, [3.0, 3.0, 3.0])


def test_numba_refuses_integer_array_indexing_by_name_and_takes_scalar_indices() -> None:
    x = sd.var("x", (4, 3))
    with pytest.raises(sd.UnsupportedError, match="numba backend cannot compute gather"):
        sd.compile(sd.sum(x[np.array([0, 2, 2])]), [x], backend="numba")
    rows = sd.fori_loop(0, 4, lambda i, c: c + sd.sum(sd.exp(x[i]) * x[3 - i]), 0.0)
    point = rng.uniform(-1.0, 1.0, (4, 3))
    want = sd.compile(rows, [x])(point)
    got = sd.compile(rows, [x], backend="numba")(point)
    assert got[0] == pytest.approx(want[0], rel=1e-13)
    np.testing.assert_allclose(got[1][0], want[1][0], rtol=1e-13)


def test_a_loop_body_is_checked_and_imported_like_the_function() -> None:
    """Ops inside a loop's body count: a refused one is named, a special function's module imported."""
    x = sd.var("x", (4,))
    special = sd.fori_loop(0, 4, lambda i, c: c + sd.special.erf(x[i]), 0.0)
    with pytest.raises(sd.UnsupportedError, match="numba backend cannot compute erf"):
        sd.compile(special, [x], backend="numba")
    fn = sd.compile(special, [x])
    point = np.array([0.1, -0.4, 0.7, 1.2])
    scipy_special = pytest.importorskip("scipy.special")
    value, (grad,) = fn(point)
    assert value == pytest.approx(float(np.sum(scipy_special.erf(point))), rel=1e-14)
    np.testing.assert_allclose(grad, 2 / np.sqrt(np.pi) * np.exp(-point ** 2), rtol=1e-14)
    module = module_text(compile_program(special, [x]), "erf in a loop")
    assert "import scipy.special" in module and "plus scipy.special." in module
