"""Named dimensions: one generated function for every size of a named axis."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff as sd
from symdiff.dims import DimensionError, named


def relu_loss(shape):
    x, t = sd.var("x", shape), sd.var("t", shape)
    w, b = sd.var("w"), sd.var("b")
    loss = sd.mean((sd.maximum(w * x + b, 0.0) - t) ** 2)
    return loss, [w, b], [w, b, x, t]


def test_dimension_polynomials_have_a_normal_form():
    n, m = named("n"), named("m")
    assert n - 1 + 1 == n
    assert (8 * n) // 8 == n
    assert n - n == 0 and isinstance(n - n, int)
    assert str(n * m + 2 * n - 3) == "m*n + 2*n - 3"
    assert hash(n + 1) == hash(1 + n)
    assert n >= 0
    with pytest.raises(DimensionError, match="depends on the sizes of n"):
        _ = n > 1
    with pytest.raises(DimensionError, match="no concrete size"):
        int(n)


@pytest.mark.parametrize("backend", ["numpy", "numba", "array_api"])
def test_one_function_serves_every_size_and_matches_the_fixed_shape_one(backend):
    if backend == "numba":
        pytest.importorskip("numba")
    if backend == "array_api":
        pytest.importorskip("array_api_compat")
    loss, wrt, inputs = relu_loss(("n",))
    fn = sd.compile(loss, wrt=wrt, inputs=inputs, backend=backend)
    rng = np.random.default_rng(0)
    for n in (70, 3, 1000):
        x, t = rng.normal(size=n), rng.normal(size=n)
        fixed_loss, fixed_wrt, fixed_inputs = relu_loss((n,))
        fixed = sd.compile(fixed_loss, wrt=fixed_wrt, inputs=fixed_inputs)
        value, grads = fn(0.7, -0.2, x, t)
        want_value, want_grads = fixed(0.7, -0.2, x, t)
        assert value == pytest.approx(want_value, rel=1e-12)
        assert np.allclose(grads, want_grads, rtol=1e-12, atol=0)


def test_the_prologue_binds_the_name_and_the_header_says_where():
    loss, wrt, inputs = relu_loss(("n",))
    fn = sd.compile(loss, wrt=wrt, inputs=inputs)
    assert "    n = x.shape[0]\n" in fn.source
    assert "Dimensions (sizes read from the arguments on every call):" in fn.source


def test_a_mismatched_size_names_the_dimension_and_both_arguments():
    loss, wrt, inputs = relu_loss(("n",))
    fn = sd.compile(loss, wrt=wrt, inputs=inputs)
    with pytest.raises(sd.ArgumentError, match=r"argument 't': dimension n is 4 here .* but 3 in argument 'x'"):
        fn(1.0, 0.0, np.ones(3), np.ones(4))
    with pytest.raises(sd.ArgumentError, match=r"expected shape \(n,\), got shape \(3, 1\)"):
        fn(1.0, 0.0, np.ones((3, 1)), np.ones(3))


def test_a_repeated_name_in_one_input_must_agree():
    a = sd.var("A", ("n", "n"))
    fn = sd.compile(sd.sum(a * a.T), wrt=[a])
    value, (grad,) = fn(np.arange(9.0).reshape(3, 3))
    assert value == pytest.approx(np.sum(np.arange(9.0).reshape(3, 3) * np.arange(9.0).reshape(3, 3).T))
    assert grad.shape == (3, 3)
    with pytest.raises(sd.ArgumentError, match="dimension n is 2 on axis 0 but 3 on axis 1"):
        fn(np.ones((2, 3)))


def test_zero_rows_follow_numpy():
    x = sd.var("x", ("n", 2))
    fn = sd.compile(sd.sum(x * x), wrt=[x])
    value, (grad,) = fn(np.zeros((0, 2)))
    assert value == 0.0 and grad.shape == (0, 2)
    mean = sd.compile(sd.mean(x), wrt=[x])
    with pytest.warns(RuntimeWarning):
        value, (grad,) = mean(np.zeros((0, 2)))
    assert np.isnan(value) and grad.shape == (0, 2)


def test_slices_of_a_named_axis_check_its_length_when_called():
    x = sd.var("x", ("n", 3))
    expr = sd.sum(x[1:] * x[:-1]) + sd.sum(x[-2:]) + x[0, 1] + sd.sum(x[::-1, 0] * x[:, 1])
    fn = sd.compile(expr, wrt=[x])
    rng = np.random.default_rng(1)
    for n in (2, 5):
        v = rng.normal(size=(n, 3))
        want = np.sum(v[1:] * v[:-1]) + np.sum(v[-2:]) + v[0, 1] + np.sum(v[::-1, 0] * v[:, 1])
        value, (grad,) = fn(v)
        assert value == pytest.approx(want, rel=1e-12)
        step = 1e-6
        bumped = v.copy()
        bumped[1, 2] += step
        lower = v.copy()
        lower[1, 2] -= step
        numeric = (fn(bumped)[0] - fn(lower)[0]) / (2 * step)
        assert grad[1, 2] == pytest.approx(numeric, rel=1e-6)
    with pytest.raises(sd.ArgumentError, match=r"needs n >= 2; got n = 1"):
        fn(np.ones((1, 3)))
    with pytest.raises(DimensionError, match="step 2"):
        _ = x[::2]


def test_broadcasting_a_name_against_another_size_fails_at_build_time():
    x, y = sd.var("x", ("n",)), sd.var("y", ("m",))
    with pytest.raises(sd.ShapeError, match=r"\(n,\) and \(m,\) do not broadcast"):
        _ = x + y
    with pytest.raises(sd.ShapeError, match=r"\(n,\) and \(3,\) do not broadcast"):
        _ = x + np.ones(3)
    assert (x + np.ones(1)).shape == (named("n"),)


@pytest.mark.parametrize("bad", ["np", "t0", "for", "_n", "2n", "bar_x", "a b"])
def test_a_dimension_name_must_be_an_identifier_generated_code_does_not_use(bad):
    with pytest.raises(sd.ShapeError, match="dimension name"):
        sd.var("x", (bad, 2))


def test_split_of_a_named_axis_checks_its_pieces_when_called():
    x = sd.var("X", ("n", 4))
    head, middle, tail = sd.split(x, [1, -1], axis=0)
    fn = sd.compile(sd.sum(middle * 3.0) + sd.sum(head * tail), wrt=[x])
    v = np.random.default_rng(2).normal(size=(5, 4))
    value, (grad,) = fn(v)
    assert value == pytest.approx(np.sum(v[1:-1] * 3.0) + np.sum(v[:1] * v[-1:]), rel=1e-12)
    want = np.zeros((5, 4))
    want[1:-1] = 3.0
    want[0], want[-1] = v[-1], v[0]
    assert np.allclose(grad, want, rtol=1e-12, atol=0)
    with pytest.raises(sd.ArgumentError, match=r"needs n >= 2; got n = 1"):
        fn(np.ones((1, 4)))
