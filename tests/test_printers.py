"""The printed forms chosen for speed (array methods, ``.dot``, a Python float left unboxed)
give NumPy's own results, bit for bit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import symdiff as sd
from symdiff.compiler import value_function

RNG = np.random.default_rng(3)
CUBE = RNG.normal(size=(3, 4, 5))


@pytest.mark.parametrize(
    ("build", "reference", "method"),
    [
        (lambda a: sd.sum(a), np.sum, ".sum()"),
        (lambda a: sd.sum(a, axis=1), lambda v: np.sum(v, axis=1), ".sum(axis=1)"),
        (lambda a: sd.sum(a, axis=(0, 2), keepdims=True), lambda v: np.sum(v, axis=(0, 2), keepdims=True),
         ".sum(axis=(0, 2), keepdims=True)"),
        (lambda a: sd.mean(a), np.mean, ".sum() / 60"),
        (lambda a: sd.mean(a, axis=2), lambda v: np.mean(v, axis=2), ".sum(axis=2) / 5"),
        (lambda a: sd.max(a, axis=0), lambda v: np.max(v, axis=0), ".max(axis=0)"),
        (lambda a: sd.transpose(a), np.transpose, ".T"),
        (lambda a: sd.transpose(a, (1, 0, 2)), lambda v: np.transpose(v, (1, 0, 2)), ".transpose((1, 0, 2))"),
        (lambda a: sd.reshape(a, (12, 5)), lambda v: np.reshape(v, (12, 5)), ".reshape((12, 5))"),
        (lambda a: a @ np.ones((5, 2)), lambda v: np.matmul(v, np.ones((5, 2))), "np.matmul("),
        (lambda a: sd.reshape(a, (12, 5)) @ np.arange(5.0), lambda v: np.reshape(v, (12, 5)) @ np.arange(5.0),
         ".dot(C0)"),
    ],
    ids=["sum", "sum axis", "sum keepdims", "mean", "mean axis", "max axis", "T", "transpose axes", "reshape",
         "batched matmul", "matrix vector"],
)
def test_method_forms_equal_numpy_bit_for_bit(build, reference, method) -> None:
    a = sd.var("a", shape=CUBE.shape)
    fn = value_function(build(a), [a])
    assert method in fn.source
    np.testing.assert_array_equal(fn(CUBE), reference(CUBE))


def test_a_float_that_only_meets_arrays_is_not_boxed() -> None:
    w, x = sd.var("w"), sd.var("x", shape=(4,))
    fn = sd.compile(sd.sum(w * x * x - x), [w], [w, x])
    assert "w = np.float64(w)" not in fn.source
    value, (gw,) = fn(2.0, np.arange(4.0))
    assert value == 2.0 * 14.0 - 6.0 and gw == 14.0 and type(value) is np.float64


def test_a_float_in_scalar_arithmetic_is_boxed_for_ieee_results() -> None:
    w, x = sd.var("w"), sd.var("x", shape=(4,))
    fn = sd.compile(sd.sum(x) / w, [w, x])
    assert "w = np.float64(w)" in fn.source
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, (gw, gx) = fn(0.0, np.arange(4.0))  # 6 / 0: inf, not ZeroDivisionError
    assert value == np.inf and gw == -np.inf and np.all(gx == np.inf)



def test_the_seed_of_a_sum_is_never_materialised() -> None:
    # sum's cotangent is a broadcast 1.0; negating it must not build a full array of -1.0
    a, b = sd.var("a", shape=(5,)), sd.var("b", shape=(5,))
    fn = sd.compile(sd.sum(a * b - sd.sin(b)), [a, b])
    assert "broadcast_to" not in fn.source and "bar_b = a - np.cos(b)" in fn.source
    point = RNG.normal(size=5)
    np.testing.assert_array_equal(fn(point, point)[1][1], point - np.cos(point))
