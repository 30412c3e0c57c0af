"""Building graphs: hash-consing, constants, shapes, NumPy interoperability and construction errors."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff as sd
from symdiff.graph import toposort


def test_structurally_equal_subgraphs_are_one_node() -> None:
    x, y = sd.var("x"), sd.var("y")
    assert sd.sin(x * y) + 1.0 is sd.sin(x * y) + 1.0


def test_each_var_call_is_a_new_variable_even_with_the_same_label() -> None:
    a, b = sd.var("x"), sd.var("x")
    assert a is not b
    assert sd.sin(a) is not sd.sin(b)


def test_equal_constants_merge_but_signed_zeros_and_nans_by_bytes() -> None:
    assert sd.as_node(2.0) is sd.as_node(np.float64(2.0))
    assert sd.as_node(0.0) is not sd.as_node(-0.0)
    assert sd.as_node(np.nan) is sd.as_node(np.nan)


def test_array_constants_are_copied_when_the_graph_is_built() -> None:
    x = sd.var("x", shape=(3,))
    data = np.array([1.0, 2.0, 3.0])
    expr = sd.sum(x * data)
    data[:] = 100.0
    assert sd.evaluate(expr, {x: np.ones(3)}) == 6.0


@pytest.mark.parametrize(
    "build",
    [
        lambda x: np.array([1.0, 2.0, 3.0]) * x,
        lambda x: np.float64(2.0) * x,
        lambda x: np.array([[1.0, 0.0, 0.0]]) @ x,
        lambda x: 2 - x,
        lambda x: 3.0 / x,
        lambda x: 2.0**x,
        lambda x: np.sin(x),
        lambda x: np.sum(x, axis=0),
        lambda x: np.maximum(0, x),
    ],
    ids=["array * node", "numpy scalar * node", "array @ node", "int - node", "float / node", "float ** node",
         "np.sin(node)", "np.sum(node, axis=0)", "np.maximum(0, node)"],
)
def test_numpy_on_the_left_builds_a_node(build) -> None:
    x = sd.var("x", shape=(3,))
    assert isinstance(build(x), sd.Node)


def test_builders_accept_constants_in_every_array_argument() -> None:
    x = sd.var("x", shape=(2,))
    for expr in (sd.matmul(np.eye(2), x), sd.maximum(0, x), sd.power(3.0, x), sd.concatenate([x, np.array([1.0])])):
        assert isinstance(expr, sd.Node)


def test_shapes_are_checked_at_build_time_naming_op_and_shapes() -> None:
    with pytest.raises(sd.ShapeError, match=r"add.*\(2, 3\).*\(4,\)"):
        sd.var("a", shape=(2, 3)) + sd.var("b", shape=(4,))


def test_matmul_mismatch_names_both_shapes() -> None:
    with pytest.raises(sd.ShapeError, match=r"\(2, 3\) @ \(4, 5\)"):
        sd.var("a", shape=(2, 3)) @ sd.var("b", shape=(4, 5))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda x: sd.sum(x, axis=3), "axis 3 is out of bounds"),
        (lambda x: sd.reshape(x, (4, 2)), "cannot reshape"),
        (lambda x: x[5], "out of range"),
        (lambda x: x[0, 0, 0], "too many indices"),
        (lambda x: sd.broadcast_to(x, (3, 3)), "cannot broadcast"),
        (lambda x: sd.split(x, 4, axis=1), "do not divide"),
        (lambda x: sd.transpose(x, (0, 0)), "not a permutation"),
    ],
    ids=["bad axis", "reshape to a wrong size", "index out of range", "too many indices", "bad broadcast",
         "uneven split", "bad transpose"],
)
def test_bad_shapes_raise_shape_error(build, message) -> None:
    with pytest.raises(sd.ShapeError, match=message):
        build(sd.var("x", shape=(2, 3)))


def test_a_node_has_no_truth_value() -> None:
    x = sd.var("x")
    with pytest.raises(sd.GraphError, match=r"sd\.where"):
        if x > 0:
            pass


def test_np_array_of_nodes_does_not_make_an_object_array() -> None:
    with pytest.raises(sd.SymdiffError):
        np.array([sd.var("x")])


def test_unsupported_numpy_function_is_named() -> None:
    with pytest.raises(sd.UnsupportedError, match=r"numpy\.fft\.fft is not supported"):
        np.fft.fft(sd.var("x", shape=(3,)))
    with pytest.raises(sd.UnsupportedError, match=r"numpy\.sum on symdiff nodes: .*'dtype'"):
        np.sum(sd.var("x", shape=(3,)), dtype=np.float32)


def test_unsupported_ufunc_is_named() -> None:
    with pytest.raises(sd.UnsupportedError, match=r"numpy\.nextafter"):
        np.nextafter(sd.var("x"), 1.0)


def test_complex_constants_are_rejected() -> None:
    with pytest.raises(sd.UnsupportedError, match="real"):
        sd.var("x") * (1 + 2j)


def test_empty_label_is_rejected() -> None:
    with pytest.raises(sd.GraphError):
        sd.var("")


def test_node_attributes_follow_numpy() -> None:
    x = sd.var("x", shape=(2, 3))
    assert (x.shape, x.ndim, x.size, x.T.shape) == ((2, 3), 2, 6, (3, 2))
    assert x.sum(axis=0).shape == (3,)
    assert x.mean().shape == ()
    assert x.max(axis=1, keepdims=True).shape == (2, 1)
    assert x.reshape(-1).shape == (6,)
    assert x.transpose().shape == (3, 2)
    assert [row.shape for row in x] == [(3,), (3,)]
    assert len(x) == 2


def test_comparisons_give_booleans_that_combine() -> None:
    x = sd.var("x", shape=(3,))
    mask = (x > 0) & ~(x > 2) | (x < -5)
    value = sd.evaluate(sd.where(mask, x, 0.0), {x: np.array([-6.0, 1.0, 3.0])})
    np.testing.assert_array_equal(value, [-6.0, 1.0, 0.0])


def test_booleans_in_arithmetic_count_as_zero_or_one() -> None:
    x = sd.var("x", shape=(3,))
    expr = (x > 0) + (x > 1) - (x > 2)
    np.testing.assert_array_equal(sd.evaluate(expr, {x: np.array([0.5, 1.5, 2.5])}), [1.0, 2.0, 1.0])


def test_exact_rewrites_at_construction() -> None:
    x = sd.var("x")
    assert x * 1 is x
    assert 1.0 * x is x
    assert x + -0.0 is x and x - 0.0 is x
    assert (x + 0).op == "add"  # -0.0 + 0 is 0.0: not the identity
    negated = -x
    assert -negated is x
    assert (sd.as_node(2.0) * 3.0 + 1.0).op == "const"


def test_no_zero_times_x_rewrite_on_user_expressions() -> None:
    x = sd.var("x")
    assert (0.0 * x).op == "mul"
    with pytest.warns(RuntimeWarning, match="invalid value"):
        assert np.isnan(sd.evaluate(0.0 * x, {x: np.inf}))


def test_transcendentals_of_constants_are_not_folded() -> None:
    assert sd.sin(sd.as_node(1.0)).op == "sin"


def test_x_plus_zero_of_a_larger_shape_is_kept() -> None:
    x = sd.var("x")
    assert (x + np.zeros(3)).shape == (3,)


def test_split_returns_a_tuple_of_nodes_from_one_op() -> None:
    x = sd.var("x", shape=(6, 2))
    parts = sd.split(x, [1, 4])
    assert [p.shape for p in parts] == [(1, 2), (3, 2), (2, 2)]
    assert len({p.inputs[0] for p in parts}) == 1


def test_repr_and_toposort_survive_a_chain_of_100000_nodes() -> None:
    x = sd.var("x")
    y = x
    for _ in range(100_000):
        y = sd.sin(y)
    assert "sin" in repr(y)
    assert len(toposort([y])) == 100_001
    assert "here" in sd.describe(y)


def test_the_verifier_catches_a_node_with_a_wrong_shape() -> None:
    from symdiff.graph import FLOAT, check, make

    x = sd.var("x", shape=(3,))
    broken = make("sin", [x], (), (4,), FLOAT)
    with pytest.raises(sd.GraphError, match="its rule gives"):
        check([broken])


def test_missing_vjp_names_the_op_and_shows_the_graph(monkeypatch) -> None:
    import dataclasses

    from symdiff.ops import OPS

    monkeypatch.setitem(OPS, "cosh", dataclasses.replace(OPS["cosh"], vjp=None))
    x = sd.var("x")
    with pytest.raises(sd.NoVJPError, match=r"'cosh'(.|\n)*<-- here"):
        sd.compile(sd.cosh(x) * 2.0, [x])


@pytest.mark.parametrize(
    ("rule", "message"),
    [(lambda g, y, x: (g, g), "2 entries for 1 inputs"), (lambda g, y, x: (sd.sum(g),), "does not reduce")],
    ids=["wrong count", "wrong shape"],
)
def test_a_malformed_vjp_is_reported(monkeypatch, rule, message) -> None:
    import dataclasses

    from symdiff.ops import OPS

    monkeypatch.setitem(OPS, "cosh", dataclasses.replace(OPS["cosh"], vjp=rule))
    x = sd.var("x", shape=(3,))
    with pytest.raises(sd.NoVJPError, match=message):
        sd.compile(sd.sum(sd.cosh(x)), [x])
