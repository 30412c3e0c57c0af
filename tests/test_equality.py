"""``==`` and ``!=`` are elementwise comparisons; nodes stay hashable by identity; symdiff never compares nodes."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import symdiff as sd
from symdiff import gallery
from symdiff.graph import Node

VALUES = np.array([0.0, -0.0, 1.0, 2.0, np.inf, -np.inf, np.nan, 1e-300])


def test_where_on_equality_picks_elementwise() -> None:
    x, y = sd.var("x", shape=(3,)), sd.var("y")
    fn = sd.compile(sd.sum(np.where(x == 0, 0.0, y / x)), wrt=[x, y])
    value, (gx, gy) = fn(np.array([0.0, 1.0, 2.0]), 1.0)
    assert value == 1.5
    np.testing.assert_array_equal(gx, [0.0, -1.0, -0.25])
    assert gy == 1.5


@pytest.mark.parametrize("other", [1.0, 0, np.float64(2.0), np.int32(1), VALUES[::-1].copy(), "node"])
@pytest.mark.parametrize("symbol", ["==", "!="])
def test_comparison_matches_numpy_on_special_values(symbol: str, other: object) -> None:
    x = sd.var("x", shape=VALUES.shape)
    y = sd.var("y", shape=VALUES.shape)
    right = y if isinstance(other, str) else other
    expr = (x == right) if symbol == "==" else (x != right)
    assert isinstance(expr, Node) and expr.dtype == "bool"
    got = sd.function([x, y], [sd.tofloat(expr)])(VALUES, VALUES[::-1].copy())[0]
    operand = VALUES[::-1] if isinstance(other, str) else other
    expected = (VALUES == operand) if symbol == "==" else (VALUES != operand)
    np.testing.assert_array_equal(got, expected.astype(float))


def test_reflected_comparisons_are_elementwise() -> None:
    x = sd.var("x", shape=(3,))
    point = np.array([1.0, 2.0, 3.0])
    for expr, expected in [(2.0 == x, point == 2.0), (point[::-1] == x, point[::-1] == point),
                           (2.0 != x, point != 2.0)]:
        assert isinstance(expr, Node)
        np.testing.assert_array_equal(sd.evaluate(sd.tofloat(expr), {x: point}), expected.astype(float))


@pytest.mark.parametrize("other", [None, "x", object(), [1.0], (1.0,)])
def test_other_types_fall_back_to_identity(other: object) -> None:
    x = sd.var("x")
    assert (x == other) is False
    assert (x != other) is True


def test_nodes_stay_hashable_by_identity() -> None:
    x, y = sd.var("x"), sd.var("x")
    table = {x: 1, y: 2}
    assert table[x] == 1 and table[y] == 2
    assert x in {x} and y not in {x}
    assert hash(x) == object.__hash__(x)


def test_a_node_in_an_if_raises() -> None:
    x = sd.var("x")
    with pytest.raises(sd.GraphError, match="truth value"):
        bool(x == 1.0)


@pytest.fixture
def no_node_equality(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any ``==`` between nodes inside symdiff fails the test: lists searched with ``in``,
    ``.index`` or ``.remove``, tuples compared, weak-key dicts looked up."""

    def refuse(self: Node, other: object) -> object:
        raise AssertionError(f"symdiff compared a node with ==: {self!r}")

    monkeypatch.setattr(Node, "__eq__", refuse)
    monkeypatch.setattr(Node, "__ne__", refuse)
    yield


@pytest.mark.parametrize("make", gallery.GENERATED, ids=lambda m: m.__name__)
def test_the_gallery_compiles_without_comparing_nodes(make, no_node_equality) -> None:
    example = make()
    if example.outputs is None:
        fn = sd.compile(example.expr, wrt=example.wrt, inputs=example.inputs)
    else:
        fn = sd.function(example.inputs, example.outputs)
    assert "def " in fn.source


def test_transformations_compare_no_nodes(no_node_equality) -> None:
    x, d = sd.var("x", shape=(4,)), sd.var("d", shape=(4,))
    f = sd.sum(sd.where(x > 0, sd.log(x), x * x) * d) + sd.max(x) + sd.sum(x[1:] * x[:-1])
    fns = [
        sd.compile(f, wrt=[x], inputs=[x, d]),
        sd.function([x, d], [f, *sd.grad(f, [x]), sd.hessian(f, x), sd.jacobian(sd.sin(x) * d, x),
                             sd.jvp(sd.sin(x), [x], [d]), sd.hvp(f, x, d)]),
        sd.pullback(sd.sum(sd.sin(x) * d), [x], inputs=[x, d]),
    ]
    point = np.array([0.5, -1.0, 2.0, 3.0]), np.ones(4)
    for fn in fns:
        assert fn(*point) is not None
    objective = sd.scipy_objective(f, [x], [x, d])
    assert np.isfinite(objective(point[0], point[1])[0])
    assert np.isfinite(sd.evaluate(f, {x: point[0], d: point[1]}))
    sd.testing.check_grad(f, [x], inputs=[x, d], at=list(point))


def test_submodules_are_reachable_from_the_package() -> None:
    import subprocess
    import sys

    code = "import symdiff as sd, sys; sd.testing.check_grad; sd.special.expit; print('sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # reaching them does not import SymPy
