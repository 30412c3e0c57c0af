"""The loss ops (sigmoid, softplus, logaddexp, logsumexp), prod and min, and the NumPy functions
composed from the table (clip, dot, outer, trace, diag, stack, einsum)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import symdiff as sd
from symdiff.testing import check_grad

pytestmark = pytest.mark.usefixtures("each_backend")  # every test on both backends

RNG = np.random.default_rng(4)
EXTREMES = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])


def values_and_grads(build, x0: np.ndarray):
    x = sd.var("x", shape=x0.shape)
    out = build(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow, no invalid value
        return sd.function([x], [out, *sd.grad(sd.sum(out), [x])])(x0)


def test_sigmoid_and_softplus_are_finite_and_right_at_extremes() -> None:
    s, ds = values_and_grads(sd.sigmoid, EXTREMES)
    expected = np.array([0.0, 1.0 / (1.0 + np.exp(30.0)), 0.5, 1.0 / (1.0 + np.exp(-30.0)), 1.0])
    np.testing.assert_allclose(s, expected, rtol=4e-15)
    tail = np.exp(-np.abs(EXTREMES))
    np.testing.assert_allclose(ds, tail / (1.0 + tail) ** 2, rtol=1e-14)
    p, dp = values_and_grads(sd.softplus, EXTREMES)
    np.testing.assert_allclose(p, [0.0, np.log1p(np.exp(-30.0)), np.log(2.0), 30.0 + np.log1p(np.exp(-30.0)), 1000.0],
                               rtol=1e-15)
    np.testing.assert_allclose(dp, expected, rtol=4e-15)


def test_logsumexp_and_logaddexp_do_not_overflow() -> None:
    v, g = values_and_grads(lambda x: sd.logsumexp(x), np.array([1000.0, 1000.0, -1000.0]))
    np.testing.assert_allclose(v, 1000.0 + np.log(2.0), rtol=1e-15)
    np.testing.assert_allclose(g, [0.5, 0.5, 0.0], atol=1e-300)
    v, g = values_and_grads(lambda x: sd.logaddexp(x, 999.0), np.array([1000.0]))
    np.testing.assert_allclose(v, [1000.0 + np.log1p(np.exp(-1.0))], rtol=1e-15)
    np.testing.assert_allclose(g, [1.0 / (1.0 + np.exp(-1.0))], rtol=1e-15)


def test_logsumexp_of_an_all_minus_infinity_row_is_minus_infinity() -> None:
    x = sd.var("x", shape=(2, 2))
    got = sd.function([x], sd.logsumexp(x, axis=1))(np.array([[-np.inf, -np.inf], [0.0, 0.0]]))
    np.testing.assert_array_equal(got, [-np.inf, np.log(2.0)])


@pytest.mark.parametrize(("point", "expected"), [([0.0, 2.0, 3.0], [6.0, 0.0, 0.0]), ([0.0, 0.0, 3.0], [0.0, 0.0, 0.0]),
                                                 ([1.0, 2.0, 3.0], [6.0, 3.0, 2.0])],
                         ids=["one zero", "two zeros", "no zero"])
def test_prod_gradient_is_the_product_of_the_others_also_at_zeros(point, expected) -> None:
    x = sd.var("x", shape=(3,))
    np.testing.assert_array_equal(sd.function([x], sd.grad(sd.prod(x), [x]))(np.array(point)), [expected])


def test_prod_second_derivative_at_a_zero_entry() -> None:
    # d2/dx0 dx1 of x0*x1*x2 is x2, also where x0 = 0
    x = sd.var("x", shape=(3,))
    hessian = sd.function([x], sd.hessian(sd.prod(x), x))(np.array([0.0, 2.0, 3.0]))
    np.testing.assert_array_equal(hessian, [[0.0, 3.0, 2.0], [3.0, 0.0, 0.0], [2.0, 0.0, 0.0]])


def test_min_shares_the_gradient_among_ties() -> None:
    x = sd.var("x", shape=(4,))
    got = sd.function([x], sd.grad(sd.min(x), [x]))(np.array([1.0, -2.0, -2.0, 3.0]))
    np.testing.assert_array_equal(got, [[0.0, 0.5, 0.5, 0.0]])


A0, B0, V0 = RNG.normal(size=(3, 4)), RNG.normal(size=(4, 2)), RNG.normal(size=4)


# each composed function, NumPy's own call on the same arrays, and a name for failures
COMPOSED = list(zip(
    ["np.clip", "clip above", "dot", "dot vectors", "outer", "trace", "diag of matrix", "diag of vector",
     "stack", "einsum matmul", "einsum matvec", "einsum transpose", "einsum gram", "einsum outer"],
    [
        (lambda a, b, v: np.clip(a, -0.5, 0.5), lambda a, b, v: np.clip(a, -0.5, 0.5)),
        (lambda a, b, v: sd.clip(a, None, 0.3), lambda a, b, v: np.minimum(a, 0.3)),
        (lambda a, b, v: np.dot(a, b), lambda a, b, v: np.dot(a, b)),
        (lambda a, b, v: np.dot(v, v), lambda a, b, v: np.dot(v, v)),
        (lambda a, b, v: np.outer(v, b), lambda a, b, v: np.outer(v, b)),
        (lambda a, b, v: np.trace(a), lambda a, b, v: np.trace(a)),
        (lambda a, b, v: np.diag(a), lambda a, b, v: np.diag(a)),
        (lambda a, b, v: np.diag(v), lambda a, b, v: np.diag(v)),
        (lambda a, b, v: np.stack([v, v * 2.0], axis=1), lambda a, b, v: np.stack([v, v * 2.0], axis=1)),
        (lambda a, b, v: np.einsum("ij,jk->ik", a, b), lambda a, b, v: np.einsum("ij,jk->ik", a, b)),
        (lambda a, b, v: np.einsum("ij,j", a, v), lambda a, b, v: np.einsum("ij,j", a, v)),
        (lambda a, b, v: np.einsum("ij->ji", a), lambda a, b, v: np.einsum("ij->ji", a)),
        (lambda a, b, v: sd.einsum("ij,kj->ik", a, a), lambda a, b, v: np.einsum("ij,kj->ik", a, a)),
        (lambda a, b, v: np.einsum("i,k", v, v), lambda a, b, v: np.einsum("i,k", v, v)),
    ],
    strict=True,
))


def test_composed_numpy_functions_match_numpy_and_differentiate() -> None:
    """All of them in one function and one gradient check: on numba, two kernels instead of 28."""
    a, b, v = sd.var("a", shape=(3, 4)), sd.var("b", shape=(4, 2)), sd.var("v", shape=(4,))
    outs = [sd.as_node(build(a, b, v)) for _, (build, _) in COMPOSED]
    got = sd.function([a, b, v], outs)(A0, B0, V0)
    for (name, (_, reference)), value in zip(COMPOSED, got, strict=True):
        np.testing.assert_allclose(value, reference(A0, B0, V0), rtol=1e-14, atol=1e-15, err_msg=name)
    # random weights, so no term's gradient error can hide behind another's
    objective = sum((sd.sum(out * RNG.uniform(0.5, 1.5, size=out.shape)) for out in outs), start=sd.as_node(0.0))
    check_grad(objective, [a, b, v], at=[A0, B0, V0])


def test_composed_functions_reject_what_they_cannot_do() -> None:
    a = sd.var("a", shape=(3, 4))
    with pytest.raises(sd.ShapeError, match="index 'j' has sizes 4 and 3"):
        sd.einsum("ij,jk->ik", a, a)
    with pytest.raises(sd.ShapeError, match="every array must have shape"):
        sd.stack([a, a[0]])
    with pytest.raises(sd.ShapeError, match="at least 2 dimensions"):
        sd.trace(a[0])


def test_special_expit_is_sigmoid() -> None:
    x = sd.var("x")
    assert sd.special.expit(x) is sd.sigmoid(x)
