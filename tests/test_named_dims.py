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


def _jacobians(size):
    x, w = sd.var("x", (size,)), sd.var("w", (3,))
    outer = sd.tanh(x[:, None] * w)
    outs = [sd.jacobian(sd.sin(x) * 2.0, x), sd.jacobian(sd.sum(outer, axis=0), w), sd.jacobian(outer, w),
            sd.jacobian(outer, x), sd.hessian(sd.sum(sd.sin(x[:, None] * w)), w),
            sd.hessian(sd.sum(sd.sin(x) * sd.sum(w)), x)]
    return [x, w], outs


@pytest.mark.parametrize("backend", ["numpy", "numba", "array_api"])
def test_jacobians_and_hessians_with_a_named_dimension_size_their_seeds_when_called(backend):
    pytest.importorskip({"numpy": "numpy", "numba": "numba", "array_api": "array_api_compat"}[backend])
    inputs, outs = _jacobians("n")
    assert outs[0].shape == (named("n"), named("n")) and outs[2].shape == (named("n"), 3, 3)
    fn = sd.function(inputs, outs, backend=backend)
    rng = np.random.default_rng(3)
    for n in (1, 4, 7):
        x, w = rng.normal(size=n), rng.normal(size=3)
        got, want = fn(x, w), sd.function(*_jacobians(n))(x, w)
        for g, e in zip(got, want, strict=True):
            assert np.shape(g) == np.shape(e)
            np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got[0], np.diag(2.0 * np.cos(x)), rtol=1e-12)


def test_the_jacobian_mode_is_the_cheaper_one_for_every_size_when_one_is():
    x = sd.var("x", ("n",))
    wide = sd.function([x], [sd.jacobian(sd.sum(x * x), x)])  # 1 row, n columns: reverse for every n >= 1
    assert "reverse mode" in wide.source
    tall = sd.function([x], [sd.jacobian(sd.outer(x, x), x)])  # n*n rows, n columns
    assert "forward mode" in tall.source


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("reduce", [sd.max, sd.min, sd.logsumexp])
def test_a_reduction_with_no_identity_over_an_empty_named_axis_raises_naming_it(backend, reduce):
    pytest.importorskip(backend)
    x = sd.var("x", ("n", 2))
    fn = sd.compile(sd.sum(reduce(x, axis=0)), wrt=[x], backend=backend)
    v = np.array([[1.0, -2.0], [0.5, 3.0]])
    assert fn(v)[0] == pytest.approx(float(np.sum(sd.evaluate(reduce(sd.as_node(v), axis=0), {}))))
    with pytest.raises(sd.ArgumentError, match=r"over an axis of size n needs n >= 1; got n = 0"):
        fn(np.zeros((0, 2)))
    assert sd.compile(sd.sum(reduce(x, axis=1)), wrt=[x])(np.zeros((0, 2)))[0] == 0.0  # nothing empty is reduced


def test_len_and_iteration_over_a_named_first_axis_raise():
    x = sd.var("x", ("n", 2))
    with pytest.raises(DimensionError, match=r"len\(\) of x.*named size n"):
        len(x)
    with pytest.raises(DimensionError, match="named size n"):
        list(x)
    assert len(x.T) == 2


def test_float_arithmetic_on_a_named_size_raises_a_shape_error():
    x = sd.var("x", ("n",))
    with pytest.raises(DimensionError, match="integer arithmetic"):
        _ = 0.5 * x.shape[0]
    with pytest.raises(DimensionError, match="no float value"):
        float(x.shape[0])
    with pytest.raises(DimensionError, match="counts from the end"):
        _ = x[[0, -1]]


def test_cross_entropy_over_named_rows_picks_labels_along_the_named_axis():
    logits, labels = sd.var("logits", ("n", 4)), sd.var("labels", ("n",), dtype=np.int64)
    picked = sd.take_along_axis(logits, labels[:, None], axis=1)
    loss = sd.mean(sd.logsumexp(logits, axis=1) - picked[:, 0])
    fn = sd.compile(loss, wrt=[logits], inputs=[logits, labels])
    assert "np.arange(n)" in fn.source
    rng = np.random.default_rng(4)
    for n in (2, 9):
        z, y = rng.normal(size=(n, 4)), rng.integers(0, 4, size=n)
        shifted = z - z.max(axis=1, keepdims=True)
        p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        value, (grad,) = fn(z, y)
        assert value == pytest.approx(np.mean(-np.log(p[np.arange(n), y])), rel=1e-12)
        p[np.arange(n), y] -= 1.0
        np.testing.assert_allclose(grad, p / n, rtol=1e-11, atol=1e-15)


def test_constant_indices_into_a_named_axis_need_it_long_enough():
    x = sd.var("x", ("n",))
    fn = sd.compile(sd.sum(x[[0, 2, 2]] ** 2), wrt=[x])
    value, (grad,) = fn(np.array([1.0, 2.0, 3.0, 4.0]))
    assert value == 19.0 and list(grad) == [2.0, 0.0, 12.0, 0.0]
    with pytest.raises(sd.ArgumentError, match=r"index 2 on an axis of size n needs n >= 3; got n = 2"):
        fn(np.ones(2))


def test_numba_runs_long_named_loops_in_parallel_and_short_ones_serially():
    pytest.importorskip("numba")
    loss, wrt, inputs = relu_loss(("n",))
    fn = sd.compile(loss, wrt=wrt, inputs=inputs, backend="numba")
    assert "    if n >= 8192:  # long loops run in parallel\n" in fn.source
    assert "numba.prange(n)" in fn.source and "in range(n)" in fn.source
    rng = np.random.default_rng(5)
    for n in (100, 20_000):
        x, t = rng.normal(size=n), rng.normal(size=n)
        fixed_loss, fixed_wrt, fixed_inputs = relu_loss((n,))
        value, grads = fn(0.7, -0.2, x, t)
        want_value, want_grads = sd.compile(fixed_loss, wrt=fixed_wrt, inputs=fixed_inputs)(0.7, -0.2, x, t)
        assert value == pytest.approx(want_value, rel=1e-12)
        np.testing.assert_allclose(grads, want_grads, rtol=1e-10)
    small = sd.var("s", ("k", 3))
    short = sd.compile(sd.sum(small[:2] ** 2), wrt=[small], backend="numba").source  # 6 elements, whatever k is
    assert "_parallel_kernel" not in short


def test_float32_and_pullback_serve_every_size():
    x, w = sd.var("x", ("n", 3)), sd.var("w", (3,))
    loss = sd.mean(sd.tanh(x @ w) ** 2) + sd.max(x)
    single = sd.compile(loss, wrt=[w], inputs=[w, x], dtype=np.float32)
    pb = sd.pullback(loss, [w], [w, x])
    full = sd.compile(loss, wrt=[w], inputs=[w, x])
    for n in (2, 9):
        data = np.linspace(-1.0, 1.0, 3 * n).reshape(n, 3)
        start = np.array([0.3, -0.5, 0.8])
        want_value, (want_grad,) = full(start, data)
        value, (grad,) = single(start.astype(np.float32), data.astype(np.float32))
        assert type(value) is np.float32 and grad.dtype == np.float32
        assert value == pytest.approx(want_value, rel=1e-5)
        np.testing.assert_allclose(grad, want_grad, rtol=1e-4, atol=1e-6)
        value, back = pb(start, data)
        (pulled,) = back(2.0)
        assert value == want_value
        np.testing.assert_allclose(pulled, 2.0 * want_grad, rtol=1e-14)
