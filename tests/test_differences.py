"""np.gradient and np.linspace on nodes, against NumPy, with their derivatives."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff as sd
from symdiff.testing import check_grad

F = np.random.default_rng(8).normal(size=(5, 4))
COORDS = np.array([0.0, 1.0, 3.0, 4.5, 7.0])
FORMS = [((), {}), ((), {"axis": 0}), ((2.0,), {"axis": -1}), ((), {"edge_order": 2}),
         ((COORDS,), {"axis": 0}), ((COORDS,), {"axis": 0, "edge_order": 2}),
         ((0.5, np.array([0.0, 1.0, 2.0, 4.0])), {}), ((), {"axis": (1, 0)})]


def _listed(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


@pytest.mark.parametrize(("args", "kwargs"), FORMS, ids=repr)
def test_gradient_equals_numpy_and_differentiates(args, kwargs) -> None:
    f = sd.var("f", (5, 4))
    parts = _listed(np.gradient(f, *args, **kwargs))
    got = sd.function([f], parts)(F)
    expected = _listed(np.gradient(F, *args, **kwargs))
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)
    weights = np.linspace(0.5, 1.5, 20).reshape(5, 4)
    check_grad(sum((sd.sum(sd.sin(p) * weights) for p in parts), start=sd.as_node(0.0)), f, at=[F])


def test_gradient_of_a_vector_with_two_samples_and_errors() -> None:
    v = sd.var("v", (2,))
    np.testing.assert_allclose(sd.function([v], sd.gradient(v))(np.array([1.0, 4.0])), [3.0, 3.0])
    with pytest.raises(sd.ShapeError, match="edge_order=2 needs 3"):
        sd.gradient(v, edge_order=2)
    with pytest.raises(sd.UnsupportedError, match="edge_order must be 1 or 2"):
        sd.gradient(sd.var("w", (4,)), edge_order=3)
    with pytest.raises(sd.ShapeError, match="coordinates for axis 0 have shape"):
        sd.gradient(sd.var("w", (4,)), np.arange(3.0))
    with pytest.raises(sd.UnsupportedError, match="spacings must be constants"):
        sd.gradient(sd.var("w", (4,)), sd.var("h"))


@pytest.mark.parametrize("kwargs", [{}, {"num": 5}, {"num": 5, "endpoint": False}, {"num": 1}, {"num": 0},
                                    {"num": 4, "axis": -1}, {"num": 3, "axis": 1}], ids=repr)
def test_linspace_with_node_endpoints_equals_numpy(kwargs) -> None:
    a, b = sd.var("a"), sd.var("b", (3,))
    lo, hi = 0.5, np.array([1.0, 2.0, -3.0])
    got = sd.function([a, b], np.linspace(a, b, **kwargs))(lo, hi)
    expected = np.linspace(lo, hi, **kwargs)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-15, atol=1e-15)
    if expected.size:
        weights = np.linspace(0.5, 1.5, expected.size).reshape(expected.shape)
        check_grad(sd.sum(sd.sin(sd.linspace(a, b, **kwargs)) * weights), [a, b], at=[lo, hi])


def test_linspace_retstep_and_refusals() -> None:
    a = sd.var("a")
    samples, step = sd.function([a], list(np.linspace(a, 2.0, 5, retstep=True)))(1.0)
    expected, expected_step = np.linspace(1.0, 2.0, 5, retstep=True)
    np.testing.assert_allclose(samples, expected)
    assert step == expected_step
    with pytest.raises(sd.UnsupportedError, match="dtype float32"):
        sd.linspace(a, 2.0, dtype=np.float32)
    with pytest.raises(sd.ShapeError, match="num must be non-negative"):
        sd.linspace(a, 2.0, -1)


def test_angle_real_if_close_and_append_on_real_input() -> None:
    x = sd.var("x", (4,))
    xs = np.array([-1.5, -0.0, 0.0, 2.0])
    got = sd.function([x], [np.angle(x), np.angle(x, deg=True), np.real_if_close(x), np.append(x, [1.0, 2.0]),
                            np.append(sd.reshape(x, (2, 2)), np.ones((1, 2)), axis=0)])(xs)
    expected = [np.angle(xs), np.angle(xs, deg=True), np.real_if_close(xs), np.append(xs, [1.0, 2.0]),
                np.append(xs.reshape(2, 2), np.ones((1, 2)), axis=0)]
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e)
    check_grad(sd.sum(np.append(x, x * x) * np.arange(8.0)), x, at=[xs])


def test_select_iscomplex_and_isreal() -> None:
    x = sd.var("x", (5,))
    xs = np.linspace(-2.0, 2.0, 5) + 0.1
    chosen = np.select([x < -1.0, x < 1.0], [x * 2.0, x**2], default=7.0)
    got, complex_, real = sd.function([x], [chosen, np.iscomplex(x), np.isreal(x)])(xs)
    np.testing.assert_array_equal(got, np.select([xs < -1.0, xs < 1.0], [xs * 2.0, xs**2], default=7.0))
    np.testing.assert_array_equal(complex_, np.iscomplex(xs))
    np.testing.assert_array_equal(real, np.isreal(xs))
    check_grad(sd.sum(chosen * np.arange(1.0, 6.0)), x, at=[xs])
    with pytest.raises(sd.ShapeError, match="2 conditions for 1 choices"):
        sd.select([x < 0, x > 1], [x])
    with pytest.raises(sd.UnsupportedError, match="condition 0 must be boolean"):
        sd.select([x], [x])
