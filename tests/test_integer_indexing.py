"""Integer-array and mask indexing, integer variables, take, argmax and functional updates."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff as sd
from symdiff.compiler import compile_program
from symdiff.source_text import module_text
from symdiff.testing import check_grad

X = np.random.default_rng(3).normal(size=(4, 5))
Y = np.random.default_rng(4).normal(size=(3, 4, 5))
IDX = np.array([0, 2, 2])

INDEX_2D = [
    [0, 2], [3, -1, 0], IDX, (IDX,), (slice(None), IDX), (IDX, IDX), (1, IDX), (IDX, 1), (slice(1, 3), [[0], [1]]),
    (None, IDX), (IDX, None), (..., [0, -1]), (np.array([True, False, True, True]),), (X > 0,),
    (slice(None), None, IDX), (slice(None, None, -1), [4, 0]), (np.arange(4)[:, None], np.arange(5)),
    ([[1, 2], [3, 0]],), (np.array([], dtype=np.int64),),
]
INDEX_3D = [
    (slice(None), IDX, IDX[:2, None]), (slice(None), IDX, slice(None)), (IDX, slice(None), IDX),
    (1, slice(None), IDX),
    (slice(None), [0, 1], 2), (..., IDX), (IDX, ..., 0), (slice(None), None, IDX, None), (Y[:, :, 0] > 0,),
    (slice(None), Y[0, :, 0] > 0), ([0, 2], slice(1, 4), [[0], [4]]),
]


@pytest.mark.parametrize("index", INDEX_2D, ids=repr)
def test_advanced_index_on_a_matrix_equals_numpy(index) -> None:
    x = sd.var("x", (4, 5))
    got = sd.function([x], x[index])(X)
    expected = X[index]
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("index", INDEX_3D, ids=repr)
def test_advanced_index_on_a_3d_array_equals_numpy(index) -> None:
    y = sd.var("y", (3, 4, 5))
    got = sd.function([y], y[index])(Y)
    expected = Y[index]
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("index", [[0, 2, 2], (IDX, IDX), (slice(None), IDX), (X > 0,), ([[1, 1], [3, 0]], 4),
                                   (np.arange(4)[:, None], [0, 0, 3])], ids=repr)
def test_gradient_through_advanced_indices_adds_up_repeats(index) -> None:
    x = sd.var("x", (4, 5))
    picked = x[index]
    weights = np.random.default_rng(1).uniform(0.5, 1.5, size=picked.shape)
    check_grad(sd.sum(sd.sin(picked) * weights), x, at=[X])
    # the repeated entries' gradients add up, as np.add.at does
    (g,) = sd.compile(sd.sum(picked * weights), x)(X)[1]
    expected = np.zeros_like(X)
    np.add.at(expected, index if isinstance(index, tuple) else (index,), weights)
    np.testing.assert_allclose(g, expected)


def test_second_derivative_and_jacobian_through_a_gather() -> None:
    x = sd.var("x", (4, 5))
    f = sd.sum(x[[0, 2, 2, 3], [1, 1, 1, 4]] ** 3)  # (2, 1) twice
    (g,) = sd.grad(f, x)
    check_grad(sd.sum(g * np.random.default_rng(2).uniform(size=(4, 5))), x, at=[X])
    hess = sd.function([x], sd.hessian(f, x))(X)
    expected = np.zeros((20, 20))
    for (r, c), times in {(0, 1): 1, (2, 1): 2, (3, 4): 1}.items():
        expected[r * 5 + c, r * 5 + c] = 6.0 * X[r, c] * times
    np.testing.assert_allclose(hess.reshape(20, 20), expected)
    jac = sd.function([x], sd.jacobian(2.0 * x[:, [4, 0]], x))(X)
    dense = np.zeros((4, 2, 4, 5))
    for r in range(4):
        dense[r, 0, r, 4] = dense[r, 1, r, 0] = 2.0
    np.testing.assert_array_equal(jac, dense)


def test_index_errors_name_the_problem() -> None:
    x = sd.var("x", (4, 5))
    with pytest.raises(sd.ShapeError, match="index 4 is out of bounds for an axis of length 4"):
        x[[0, 4]]
    with pytest.raises(sd.UnsupportedError, match="must hold integers, got dtype float64"):
        x[np.array([0.0, 1.0])]
    with pytest.raises(sd.UnsupportedError, match="boolean node"):
        x[x > 0]
    with pytest.raises(sd.UnsupportedError, match="a float node cannot index"):
        x[sd.var("i", (2,))]
    with pytest.raises(sd.ShapeError, match="do not broadcast"):
        x[[0, 1], [0, 1, 2]]
    with pytest.raises(sd.ShapeError, match="does not match"):
        x[np.array([True, False])]
    with pytest.raises(sd.ShapeError, match=r"of shape \(4, 5\) does not match the indexed axes \(3, 4\)"):
        sd.var("y", (3, 4, 5))[Y[0] > 0]
    with pytest.raises(sd.GraphError, match=r"x.at\[index\].set\(value\)"):
        x[0] = 1.0


def test_cross_entropy_with_integer_labels() -> None:
    n, k = 6, 3
    rng = np.random.default_rng(5)
    logits, labels = sd.var("logits", (n, k)), sd.var("labels", (n,), dtype=np.int64)
    loss = sd.mean(sd.logsumexp(logits, axis=1) - logits[np.arange(n), labels])
    fn = sd.compile(loss, [logits], [logits, labels])
    z, y = rng.normal(size=(n, k)), rng.integers(0, k, size=n)
    value, (g,) = fn(z, y)
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(value, -log_p[np.arange(n), y].mean())
    onehot = np.eye(k)[y]
    np.testing.assert_allclose(g, (np.exp(log_p) - onehot) / n)
    check_grad(loss, [logits], [logits, labels], at=[z, y])
    assert "labels.dtype != np.int64" in fn.source


def test_integer_arguments_are_checked() -> None:
    labels = sd.var("labels", (3,), dtype=np.int64)
    x = sd.var("x", (3, 2))
    fn = sd.function([x, labels], x[np.arange(3), labels])
    np.testing.assert_array_equal(fn(X[:3, :2], [1, 0, 1]), X[:3, :2][np.arange(3), [1, 0, 1]])
    np.testing.assert_array_equal(fn(X[:3, :2], np.array([1, 0, 1], dtype=np.int32)), X[[0, 1, 2], [1, 0, 1]])
    with pytest.raises(sd.ArgumentError, match="'labels': expected integers of shape \\(3,\\), got dtype float64"):
        fn(X[:3, :2], np.array([1.0, 0.0, 1.0]))
    with pytest.raises(sd.ArgumentError, match="got dtype bool"):
        fn(X[:3, :2], np.array([True, False, True]))
    with pytest.raises(sd.ArgumentError, match="expected shape \\(3,\\), got shape \\(2,\\)"):
        fn(X[:3, :2], [1, 0])
    with pytest.raises(sd.GraphError, match="integer variables \\['labels'\\] take no gradient"):
        sd.compile(sd.sum(x[np.arange(3), labels]), [x, labels])
    with pytest.raises(sd.UnsupportedError, match="dtype float32 is not supported"):
        sd.var("z", dtype=np.float32)


def test_integer_variables_compare_and_promote() -> None:
    i = sd.var("i", (4,), dtype=np.int64)
    k = sd.var("k", dtype=np.int64)
    x = sd.var("x", (4,))
    values = np.array([3, -1, 0, 7])
    fn = sd.function([x, i, k], [i * 1.5 + x, sd.where(i > k, x, 0.0), sd.sum(i), i, sd.astype(i, np.float64)])
    xs = np.arange(4.0)
    scaled, chosen, total, same, cast = fn(xs, values, 2)
    np.testing.assert_array_equal(scaled, values * 1.5 + xs)
    np.testing.assert_array_equal(chosen, np.where(values > 2, xs, 0.0))
    assert total == 9.0 and total.dtype == np.float64
    assert same.dtype == np.int64 and cast.dtype == np.float64
    check_grad(sd.sum(sd.sin(x * i)), [x], [x, i], at=[xs, values])


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_take_equals_numpy(axis) -> None:
    y = sd.var("y", (3, 4, 5))
    idx = [[0, 2], [2, 1]]
    got = sd.function([y], np.take(y, idx, axis=axis))(Y)
    np.testing.assert_array_equal(got, np.take(Y, idx, axis=axis))
    check_grad(sd.sum(sd.take(y, idx, axis=axis) ** 2), y, at=[Y])


@pytest.mark.parametrize("axis", [0, 1, -1, None])
def test_take_along_axis_equals_numpy(axis) -> None:
    y = sd.var("y", (3, 4, 5))
    order = np.argsort(Y, axis=axis) if axis is not None else np.argsort(Y, axis=None)
    got = sd.function([y], np.take_along_axis(y, order, axis=axis))(Y)
    np.testing.assert_array_equal(got, np.take_along_axis(Y, order, axis=axis))
    check_grad(sd.sum(sd.take_along_axis(y, order, axis) * np.linspace(0, 1, order.size).reshape(order.shape)), y,
               at=[Y])


def test_take_along_axis_with_variable_indices_and_argmax() -> None:
    y = sd.var("y", (3, 4))
    data = Y[0, :3, :4]
    best = sd.argmax(y, axis=1, keepdims=True)
    fn = sd.function([y], [sd.take_along_axis(y, best, axis=1), best, sd.argmin(y), np.argmax(y, axis=0)])
    top, where, flat_min, down = fn(data)
    np.testing.assert_array_equal(top, data.max(axis=1, keepdims=True))
    np.testing.assert_array_equal(where, np.argmax(data, axis=1, keepdims=True))
    assert flat_min == np.argmin(data) and down.dtype == np.int64
    np.testing.assert_array_equal(down, np.argmax(data, axis=0))
    check_grad(sd.sum(sd.take_along_axis(y, best, axis=1) ** 2), y, at=[data])
    with pytest.raises(sd.UnsupportedError, match="numba backend cannot compute argmax"):
        sd.function([y], sd.argmax(y, axis=1), backend="numba")
    assert y.argmax(axis=0).op == "argmax" and y.argmin().shape == ()


def test_functional_updates_equal_numpy_and_differentiate() -> None:
    x, v = sd.var("x", (4, 5)), sd.var("v", (2, 5))
    rows = [3, 0]
    values = np.random.default_rng(6).normal(size=(2, 5))
    updated = {
        "set": (x.at[rows].set(v), lambda a, b: _numpy_set(a, b)),
        "add": (x.at[rows].add(v), lambda a, b: a + np.eye(4)[rows].T @ b),
        "multiply": (x.at[rows].multiply(v), lambda a, b: _numpy_apply(a, b, np.multiply)),
        "min": (x.at[rows].min(v), lambda a, b: _numpy_apply(a, b, np.minimum)),
        "max": (x.at[rows].max(v), lambda a, b: _numpy_apply(a, b, np.maximum)),
    }
    for name, (node, reference) in updated.items():
        got = sd.function([x, v], node)(X, values)
        np.testing.assert_allclose(got, reference(X, values), err_msg=name)
        check_grad(sd.sum(sd.sin(node)), [x, v], at=[X, values])


def _numpy_set(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = a.copy()
    out[[3, 0]] = b
    return out


def _numpy_apply(a: np.ndarray, b: np.ndarray, ufunc) -> np.ndarray:
    out = a.copy()
    out[[3, 0]] = ufunc(out[[3, 0]], b)
    return out


def test_updates_with_repeats_and_variable_indices() -> None:
    x = sd.var("x", (5,))
    xs = np.arange(5.0)
    added = sd.function([x], x.at[[1, 1, 4]].add(2.0))(xs)
    expected = xs.copy()
    np.add.at(expected, [1, 1, 4], 2.0)
    np.testing.assert_array_equal(added, expected)
    np.testing.assert_array_equal(sd.function([x], x.at[1:3].set(-1.0))(xs), [0.0, -1.0, -1.0, 3.0, 4.0])
    np.testing.assert_array_equal(sd.function([x], x.at[2].set(np.inf).at[2].set(7.0))(xs), [0, 1, 7, 3, 4])
    with pytest.raises(sd.UnsupportedError, match="repeats a position"):
        x.at[[1, 1]].set(0.0)
    i = sd.var("i", (2,), dtype=np.int64)
    scattered = sd.function([x, i], x.at[i].add(1.0))(xs, [0, 0])
    np.testing.assert_array_equal(scattered, [2.0, 1.0, 2.0, 3.0, 4.0])
    with pytest.raises(sd.UnsupportedError, match=r"supports \.add only"):
        x.at[i].set(0.0)
    with pytest.raises(sd.ShapeError, match="do not broadcast to the indexed shape"):
        x.at[[0, 1]].add(np.ones(3))


def test_astype() -> None:
    x = sd.var("x", (3,))
    assert x.astype(np.float64) is x
    assert (x > 0).astype(float).op == "tofloat"
    with pytest.raises(sd.UnsupportedError, match=r"astype\(int64\) of a float64 node"):
        x.astype(np.int64)
    with pytest.raises(sd.UnsupportedError, match="astype"):
        x.astype(np.float32)


def test_backends_refuse_gathers_by_name() -> None:
    x = sd.var("x", (4, 5))
    with pytest.raises(sd.UnsupportedError, match="numba backend cannot compute gather"):
        sd.compile(sd.sum(x[[0, 1]]), x, backend="numba")
    with pytest.raises(sd.UnsupportedError, match="array_api backend cannot compute gather, scatter_add"):
        sd.compile(sd.sum(x[[0, 1]]), x, backend="array_api")


def test_module_file_holds_integer_literals(tmp_path) -> None:
    x, labels = sd.var("x", (4, 5)), sd.var("labels", (4,), dtype=np.int64)
    program = compile_program(sd.sum(x[np.arange(4), labels] ** 2), [x], [x, labels], name="picked")
    text = module_text(program, "picked entries")
    assert "np.array([0, 1, 2, 3], dtype=np.int64)" in text and "def _int_arg(" in text
    namespace: dict = {}
    exec(compile(text, str(tmp_path / "picked.py"), "exec"), namespace)
    value, (g,) = namespace["picked"](X, np.array([4, 0, 1, 1]))
    np.testing.assert_allclose(value, np.sum(X[np.arange(4), [4, 0, 1, 1]] ** 2))
    assert g[0, 4] == 2 * X[0, 4]


@pytest.mark.parametrize("index", [np.s_[-5::-1], np.s_[-100:0:-1], np.s_[10::-1], np.s_[-5:2:-1], np.s_[1:1:-1]],
                             ids=repr)
def test_empty_and_clipped_reversed_slices_equal_numpy(index) -> None:
    x = sd.var("x", (4,))
    data = np.arange(4.0)
    got = sd.function([x], [x[index], x.at[index].add(10.0)])(data)
    added = data.copy()
    added[index] += 10.0
    np.testing.assert_array_equal(got[0], data[index])
    np.testing.assert_array_equal(got[1], added)


def test_empty_integer_and_boolean_constants_keep_their_shapes() -> None:
    x, m = sd.var("x", (3,)), sd.var("m", (0, 3))
    empty = np.zeros((0, 2), dtype=np.int64)
    got = sd.function([x, m], [x[empty], np.take(x, empty), np.tril(m)])(np.ones(3), np.zeros((0, 3)))
    assert [g.shape for g in got] == [(0, 2), (0, 2), (0, 3)]
    i, y = sd.var("i", (0, 4), dtype=np.int64), sd.var("y", (3, 4))
    picked = sd.function([y, i], np.take_along_axis(y, i, axis=0))(np.ones((3, 4)), np.zeros((0, 4), np.int64))
    assert picked.shape == (0, 4)
