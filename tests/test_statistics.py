"""Statistics and order-dependent reductions against NumPy (and SciPy's logsumexp): values over
shapes, axes and keywords, gradients, second derivatives, NumPy dispatch, errors and backends."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import array_api_strict as xps
import numpy as np
import pytest
import scipy.special

import symdiff as sd
from symdiff import statistics
from symdiff.testing import assert_matches_sympy, check_grad

RNG = np.random.default_rng(7)
A3 = RNG.normal(size=(3, 4, 5))
A2 = RNG.normal(size=(4, 6))
V = RNG.normal(size=(7,))
S = np.array(0.8)

Build = Callable[[Any], Any]
# (id, symdiff form, NumPy form, inputs); the symdiff form is mostly NumPy's call on a node (dispatch)
CASES: list[tuple[str, Build, Build, np.ndarray]] = [
    ("var", np.var, np.var, A3),
    ("var axis -1 ddof 1", lambda x: np.var(x, axis=-1, ddof=1), lambda a: np.var(a, axis=-1, ddof=1), A3),
    ("var axes keepdims", lambda x: np.var(x, axis=(0, 2), keepdims=True),
     lambda a: np.var(a, axis=(0, 2), keepdims=True), A3),
    ("var correction", lambda x: statistics.variance(x, axis=0, correction=1), lambda a: np.var(a, axis=0, ddof=1), A2),
    ("var scalar", np.var, np.var, S),
    ("std", lambda x: sd.std(x, axis=1), lambda a: np.std(a, axis=1), A3),
    ("std ddof keepdims", lambda x: np.std(x, axis=-2, ddof=2, keepdims=True),
     lambda a: np.std(a, axis=-2, ddof=2, keepdims=True), A2),
    ("average", np.average, np.average, A3),
    ("average weights 1-d", lambda x: np.average(x, axis=1, weights=np.arange(1.0, 5.0)),
     lambda a: np.average(a, axis=1, weights=np.arange(1.0, 5.0)), A3),
    ("average weights full keepdims", lambda x: np.average(x, axis=-1, weights=A3 ** 2, keepdims=True),
     lambda a: np.average(a, axis=-1, weights=A3 ** 2, keepdims=True), A3),
    ("average weights tuple axis", lambda x: np.average(x, axis=(0, 2), weights=np.abs(A3[:, 0, :])),
     lambda a: np.average(a, axis=(0, 2), weights=np.abs(A3[:, 0, :])), A3),
    ("average weights axes reversed", lambda x: np.average(x, axis=(2, -3), weights=np.abs(A3[:, 0, :].T)),
     lambda a: np.average(a, axis=(2, -3), weights=np.abs(A3[:, 0, :].T)), A3),
    ("cumsum flat", np.cumsum, np.cumsum, A3),
    ("cumsum axis", lambda x: np.cumsum(x, axis=-2), lambda a: np.cumsum(a, axis=-2), A3),
    ("cumsum vector", lambda x: sd.cumsum(x, axis=0), lambda a: np.cumsum(a, axis=0), V),
    ("cumprod flat", np.cumprod, np.cumprod, A2),
    ("cumprod axis", lambda x: np.cumprod(x, axis=1), lambda a: np.cumprod(a, axis=1), A3),
    ("diff", np.diff, np.diff, A3),
    ("diff n axis", lambda x: np.diff(x, n=2, axis=0), lambda a: np.diff(a, n=2, axis=0), A2),
    ("diff prepend append", lambda x: np.diff(x, axis=1, prepend=0.5, append=A2[:, :2]),
     lambda a: np.diff(a, axis=1, prepend=0.5, append=A2[:, :2]), A2),
    ("diff too far", lambda x: np.diff(x, n=9), lambda a: np.diff(a, n=9), V),
    ("ptp", np.ptp, np.ptp, A3),
    ("ptp axis keepdims", lambda x: np.ptp(x, axis=-1, keepdims=True), lambda a: np.ptp(a, axis=-1, keepdims=True), A3),
    ("sort", np.sort, np.sort, A3),
    ("sort axis 0", lambda x: np.sort(x, axis=0), lambda a: np.sort(a, axis=0), A3),
    ("sort flat", lambda x: np.sort(x, axis=None), lambda a: np.sort(a, axis=None), A2),
    ("median", np.median, np.median, A3),
    ("median odd axis", lambda x: np.median(x, axis=-1), lambda a: np.median(a, axis=-1), A3),
    ("median even axes keepdims", lambda x: np.median(x, axis=(0, 1), keepdims=True),
     lambda a: np.median(a, axis=(0, 1), keepdims=True), A3),
    ("percentile", lambda x: np.percentile(x, 30), lambda a: np.percentile(a, 30), A3),
    ("percentile list axis", lambda x: np.percentile(x, [0, 25, 50, 99, 100], axis=1),
     lambda a: np.percentile(a, [0, 25, 50, 99, 100], axis=1), A3),
    ("quantile 2-d q keepdims", lambda x: np.quantile(x, [[0.1, 0.9], [0.5, 0.7]], axis=0, keepdims=True),
     lambda a: np.quantile(a, [[0.1, 0.9], [0.5, 0.7]], axis=0, keepdims=True), A2),
    *[(f"quantile {m}", lambda x, m=m: np.quantile(x, [0.1, 0.25, 0.5, 0.62, 1.0], axis=-1, method=m),
       lambda a, m=m: np.quantile(a, [0.1, 0.25, 0.5, 0.62, 1.0], axis=-1, method=m), A2)
      for m in statistics.METHODS],
    ("nansum", lambda x: np.nansum(x, axis=1), lambda a: np.nansum(a, axis=1), A3),
    ("nanmean keepdims", lambda x: np.nanmean(x, axis=(0, 2), keepdims=True),
     lambda a: np.nanmean(a, axis=(0, 2), keepdims=True), A3),
    ("nanmax", np.nanmax, np.nanmax, A3),
    ("nanmin axis", lambda x: np.nanmin(x, axis=-1), lambda a: np.nanmin(a, axis=-1), A3),
    ("nanprod", lambda x: np.nanprod(x, axis=0), lambda a: np.nanprod(a, axis=0), A2),
    ("nanvar ddof", lambda x: np.nanvar(x, axis=1, ddof=1), lambda a: np.nanvar(a, axis=1, ddof=1), A3),
    ("nanstd", lambda x: np.nanstd(x, axis=-1, keepdims=True), lambda a: np.nanstd(a, axis=-1, keepdims=True), A3),
    ("logsumexp b", lambda x: sd.logsumexp(x, axis=1, b=np.linspace(0.5, 2.0, 4)[:, None]),
     lambda a: scipy.special.logsumexp(a, axis=1, b=np.linspace(0.5, 2.0, 4)[:, None]), A3),
]


def _values(expr: Any, x: sd.Node, value: np.ndarray) -> Any:
    return sd.function([x], expr)(value)


@pytest.mark.parametrize(("build", "reference", "value"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_values_match_numpy(build: Build, reference: Build, value: np.ndarray) -> None:
    x = sd.var("x", value.shape)
    out = build(x)
    expected = reference(value)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(_values(out, x, value), expected, rtol=1e-12, atol=1e-13)


GRAD_CASES = [c for c in CASES if c[0] not in ("diff too far", "var scalar")]


@pytest.mark.parametrize(("build", "value"), [(c[1], c[3]) for c in GRAD_CASES], ids=[c[0] for c in GRAD_CASES])
def test_gradients_match_central_differences(build: Build, value: np.ndarray) -> None:
    x = sd.var("x", value.shape)
    out = build(x)
    weights = np.random.default_rng(1).uniform(0.5, 1.5, size=out.shape)
    check_grad(sd.sum(sd.sin(out) * weights), [x], at=[value])


def test_cumprod_gradient_is_right_at_one_and_two_zeros() -> None:
    x = sd.var("x", (2, 5))
    value = np.array([[1.5, 0.0, -2.0, 0.7, 1.1], [0.0, 0.9, 0.0, 1.3, -0.4]])
    out = sd.cumprod(x, axis=1)
    np.testing.assert_allclose(_values(out, x, value), np.cumprod(value, axis=1))
    check_grad(sd.sum(out * np.arange(1.0, 11.0).reshape(2, 5)), [x], at=[value])


def test_ties_send_each_sorted_gradient_to_one_element_in_input_order() -> None:
    x = sd.var("x", (5,))
    value = np.array([2.0, 1.0, 2.0, 1.0, 0.5])
    weights = np.array([1.0, 10.0, 100.0, 1000.0, 10000.0])
    _, (grad,) = sd.compile(sd.sum(sd.sort(x) * weights), [x])(value)
    order = np.argsort(value, kind="stable")
    expected = np.zeros(5)
    expected[order] = weights
    np.testing.assert_array_equal(grad, expected)
    _, (grad,) = sd.compile(sd.median(x), [x])(value)  # the middle of [0.5, 1, 1, 2, 2]: the second 1
    np.testing.assert_array_equal(grad, [0.0, 0.0, 0.0, 1.0, 0.0])


def test_nan_skipping_reductions_give_numpys_values_and_zero_gradient_at_nans() -> None:
    x = sd.var("x", (3, 4))
    value = np.array([[1.0, np.nan, 2.0, -0.5], [np.nan] * 4, [0.3, 0.7, np.nan, 1.9]])
    for name in ("nansum", "nanmean", "nanmax", "nanmin", "nanprod", "nanvar", "nanstd"):
        out = getattr(np, name)(x, axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # NumPy warns on the all-NaN row
            expected = getattr(np, name)(value, axis=1)
        np.testing.assert_allclose(_values(out, x, value), expected, err_msg=name)
        _, (grad,) = sd.compile(sd.nansum(out * np.array([1.0, 2.0, 3.0])), [x])(value)
        assert np.all(grad[np.isnan(value)] == 0.0), name
        check_grad(sd.nansum(out * np.array([1.0, 2.0, 3.0])), [x], at=[value])


def test_an_empty_q_gives_an_empty_result_as_in_numpy() -> None:
    x = sd.var("x", (3, 4))
    out = np.percentile(x, [], axis=1)
    assert out.shape == np.percentile(A2[:3, :4], [], axis=1).shape == (0, 3)


def test_median_and_percentile_are_nan_where_a_slice_holds_one() -> None:
    x = sd.var("x", (2, 3))
    value = np.array([[1.0, np.nan, 2.0], [0.5, 0.1, 0.3]])
    for out, expected in ((np.median(x, axis=1), np.median(value, axis=1)),
                          (np.percentile(x, [10, 90], axis=1), np.percentile(value, [10, 90], axis=1))):
        np.testing.assert_array_equal(_values(out, x, value), expected)


def test_average_returned_gives_the_sum_of_the_weights() -> None:
    x = sd.var("x", (3, 4))
    w = np.arange(1.0, 5.0)
    mean, total = np.average(x, axis=1, weights=w, returned=True)
    ref_mean, ref_total = np.average(A2[:3, :4], axis=1, weights=w, returned=True)
    got = sd.function([x], [mean, total])(A2[:3, :4])
    np.testing.assert_allclose(got[0], ref_mean)
    np.testing.assert_allclose(got[1], ref_total)
    _, count = sd.average(x, axis=0, returned=True)
    np.testing.assert_allclose(sd.function([x], count)(A2[:3, :4]), np.average(A2[:3, :4], axis=0, returned=True)[1])
    w_var = sd.var("w", (4,))
    check_grad(sd.sum(sd.sin(np.average(x, axis=1, weights=w_var))), [x, w_var], at=[A2[:3, :4], w])


@pytest.mark.parametrize("keepdims", [False, True])
def test_all_and_any_reduce_booleans_and_numbers(keepdims: bool) -> None:
    x = sd.var("x", (3, 4))
    value = np.array([[1.0, 2.0, 0.0, 3.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, np.nan]])
    outs = [np.all(x > 0.5, axis=1, keepdims=keepdims), np.any(x > 2.5, axis=0, keepdims=keepdims),
            sd.all(x, axis=-1, keepdims=keepdims), sd.any(x, keepdims=keepdims), np.any(x[:, :0], axis=1),
            np.all(x[:, :0], axis=1)]
    refs = [np.all(value > 0.5, axis=1, keepdims=keepdims), np.any(value > 2.5, axis=0, keepdims=keepdims),
            np.all(value, axis=-1, keepdims=keepdims), np.any(value, keepdims=keepdims), np.any(value[:, :0], axis=1),
            np.all(value[:, :0], axis=1)]
    for out, ref in zip(outs, refs, strict=True):
        assert out.dtype == "bool"
        np.testing.assert_array_equal(sd.function([x], sd.tofloat(out))(value), ref.astype(float))


@pytest.mark.parametrize("kw", [dict(axis=1, b=A2[0, :].reshape(1, 6), return_sign=True), dict(b=A2, return_sign=True),
                                dict(axis=0, keepdims=True, return_sign=True), dict(axis=(0, 1), b=np.abs(A2))])
def test_logsumexp_b_and_return_sign_match_scipy(kw: dict[str, Any]) -> None:
    x = sd.var("x", A2.shape)
    out = sd.logsumexp(x, **kw)
    got = sd.function([x], list(out) if isinstance(out, tuple) else out)(A2)
    np.testing.assert_allclose(got, scipy.special.logsumexp(A2, **kw), rtol=1e-12)


def test_logsumexp_b_gradients_in_both_arguments_and_a_zero_constant_weight() -> None:
    x, b = sd.var("x", (3, 4)), sd.var("b", (4,))
    value, scale = A2[:3, :4], np.array([0.4, -1.2, 0.9, 2.0])
    signed, sign = sd.logsumexp(x, axis=1, b=b, return_sign=True)
    np.testing.assert_array_equal(sd.function([x, b], sign)(value, scale),
                                  scipy.special.logsumexp(value, axis=1, b=scale, return_sign=True)[1])
    check_grad(sd.sum(signed * np.array([1.0, 2.0, 3.0])), [x, b], at=[value, scale])
    # a constant weight of 0 removes its term, even where that term's exponent is huge
    big = np.array([[800.0, 1.0, 2.0, 0.5]])
    x1 = sd.var("x1", (1, 4))
    out = sd.logsumexp(x1, axis=1, b=np.array([0.0, 1.0, 1.0, 1.0]))
    np.testing.assert_allclose(_values(out, x1, big),
                               scipy.special.logsumexp(big, axis=1, b=np.array([0.0, 1.0, 1.0, 1.0])))
    empty = sd.logsumexp(sd.var("e", (2, 0)), axis=1, return_sign=True)
    assert [float(np.asarray(sd.evaluate(part, {}))[0]) for part in empty] == [-np.inf, 0.0]


def test_scalar_forms_match_sympy() -> None:
    a, b = sd.var("a"), sd.var("b")
    for expr in (sd.logsumexp(a, b=b), sd.average(a, weights=b), sd.nanmean(a * b), sd.nansum(sd.sin(a) * b),
                 sd.std(a * b), sd.ptp(a + b)):
        assert_matches_sympy(expr, [a, b], at=[0.7, 1.3])


@pytest.mark.parametrize("name", ["sort", "cumsum", "median", "cumprod", "percentile", "var", "nanvar", "lse"])
def test_second_derivatives_match_differences_of_the_gradient(name: str) -> None:
    x = sd.var("x", (3, 4))
    value = A2[:3, :4]
    out = {"sort": lambda: sd.sort(x, axis=0), "cumsum": lambda: sd.cumsum(x, axis=1),
           "median": lambda: sd.median(x, axis=1), "cumprod": lambda: sd.cumprod(x, axis=0),
           "percentile": lambda: np.percentile(x, [30, 80], axis=0), "var": lambda: np.var(x, axis=1, ddof=1),
           "nanvar": lambda: np.nanvar(x, axis=0),
           "lse": lambda: sd.logsumexp(x, axis=1, b=np.array([1.0, -0.5, 2.0, 0.3]), return_sign=True)[0]}[name]()
    objective = sd.sum(sd.sin(out) * out)
    hessian = sd.function([x], sd.hessian(objective, x))(value).reshape(12, 12)
    gradient = sd.function([x], sd.grad(objective, x)[0])
    step = 1e-6
    basis = [e.reshape(3, 4) * step for e in np.eye(12)]
    columns = [(gradient(value + d) - gradient(value - d)).ravel() / (2 * step) for d in basis]
    np.testing.assert_allclose(hessian, np.stack(columns, axis=1), rtol=1e-5, atol=1e-6)
    jacobian = sd.function([x], sd.jacobian(out, x))(value)
    forward = sd.function([x], out)
    expected = np.stack([(forward(value + d) - forward(value - d)).ravel() / (2 * step) for d in basis], axis=1)
    np.testing.assert_allclose(jacobian.reshape(-1, 12), expected, rtol=1e-5, atol=1e-6)


def test_numpy_dispatch_builds_the_same_nodes_as_the_builders() -> None:
    x = sd.var("x", (3, 4))
    pairs = [(np.var(x, axis=1), statistics.variance(x, axis=1)), (np.std(x), sd.std(x)), (np.sort(x), sd.sort(x)),
             (np.cumsum(x, axis=0), sd.cumsum(x, axis=0)), (np.median(x), sd.median(x)),
             (np.nanmax(x, axis=0), sd.nanmax(x, axis=0)), (np.all(x), sd.all(x)), (np.diff(x), sd.diff(x))]
    for via_numpy, built in pairs:
        assert via_numpy is built


def test_errors_name_the_argument() -> None:
    x = sd.var("x", (3, 4))
    with pytest.raises(sd.ShapeError, match="axis 2 is out of bounds"):
        np.var(x, axis=2)
    with pytest.raises(sd.ShapeError, match="axis -3 is out of bounds"):
        np.cumsum(x, axis=-3)
    with pytest.raises(sd.UnsupportedError, match="out="):
        np.var(x, out=np.zeros(()))
    with pytest.raises(sd.UnsupportedError, match="dtype="):
        np.cumsum(x, dtype=np.float32)
    with pytest.raises(sd.UnsupportedError, match="mean="):
        np.std(x, mean=np.zeros((1, 1)))
    with pytest.raises(sd.UnsupportedError, match="initial"):
        np.nanmax(x, initial=0.0)
    with pytest.raises(sd.UnsupportedError, match="method must be one of"):
        np.percentile(x, 50, method="weibull")
    with pytest.raises(sd.UnsupportedError, match="weights="):
        np.quantile(x, 0.5, weights=np.ones((3, 4)))
    with pytest.raises(sd.ShapeError, match=r"q must be in the range \[0, 100\]"):
        np.percentile(x, 101)
    with pytest.raises(sd.UnsupportedError, match="q must be a constant"):
        sd.quantile(x, sd.var("q"))
    with pytest.raises(sd.UnsupportedError, match="percentile q"):
        np.percentile(x, "abc")
    with pytest.raises(sd.ShapeError, match="q must be in the range"):
        np.quantile(x, float("nan"))
    with pytest.raises(sd.ShapeError, match=r"b of shape \(7, 5\) does not broadcast"):
        sd.logsumexp(x, b=np.ones((7, 5)))
    with pytest.raises(sd.ShapeError, match="order n must be non-negative"):
        np.diff(x, n=-1)
    with pytest.raises(sd.ShapeError, match="weights of shape"):
        np.average(x, axis=0, weights=np.ones(4))
    with pytest.raises(sd.ShapeError, match="weights sum to zero"):
        np.average(x, axis=1, weights=np.zeros(4))
    with pytest.raises(sd.UnsupportedError, match="kind must be"):
        np.sort(x, kind="bogo")
    with pytest.raises(sd.UnsupportedError, match="ddof and correction"):
        statistics.variance(x, ddof=1, correction=1)
    with pytest.raises(sd.UnsupportedError, match="keepdims"):
        np.median(x, keepdims="yes")
    with pytest.raises(sd.ShapeError, match="are empty"):
        np.median(x[:, :0], axis=1)
    with pytest.raises(sd.ShapeError, match="zero-size axis"):
        np.nanmax(x[:0], axis=0)


def test_numba_agrees_where_it_prints_and_refuses_the_sorting_ops_by_name() -> None:
    x = sd.var("x", (3, 4))
    value = A2[:3, :4].copy()
    value[0, 1] = np.nan
    # one kernel (numba compiles cost seconds each): a moment and a NaN-skipping sum
    objective = sd.sum(np.var(x[1:], axis=1)) + np.nansum(x * x)
    expected, (grad,) = sd.compile(objective, [x])(value)
    got, (grad_numba,) = sd.compile(objective, [x], backend="numba")(value)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(grad_numba, grad, rtol=1e-12, atol=1e-14)
    for out, name in ((sd.sort(x), "sort"), (sd.cumsum(x), "cumsum"), (np.median(x), "sort")):
        with pytest.raises(sd.UnsupportedError, match=f"numba backend cannot compute .*{name}"):
            sd.compile(sd.sum(out), [x], backend="numba")


def test_array_api_strict_agrees_with_numpy() -> None:
    x = sd.var("x", (3, 4))
    value = A2[:3, :4]
    objective = (sd.sum(sd.sin(sd.sort(x, axis=0))) + sd.sum(sd.cumsum(x, axis=1) ** 2) + sd.sum(np.median(x, axis=1))
                 + sd.sum(np.percentile(x, [20, 70], axis=0)) + sd.sum(sd.cumprod(x, axis=1))
                 + sd.sum(np.var(x, axis=0))
                 + sd.sum(np.nanmean(x, axis=1)) + sd.sum(np.diff(x, axis=1))
                 + sd.logsumexp(x, b=value, return_sign=True)[0])
    expected, (grad,) = sd.compile(objective, [x])(value)
    got, (grad_xp,) = sd.compile(objective, [x], backend="array_api")(xps.asarray(value))
    assert type(got).__module__.startswith("array_api_strict")
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(grad_xp), grad, rtol=1e-12, atol=1e-14)
