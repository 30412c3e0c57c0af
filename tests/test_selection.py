"""np.partition (values NumPy's own, gradient through argpartition) and np.count_nonzero."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff as sd
from symdiff.testing import check_grad

X = np.random.default_rng(11).normal(size=(3, 7))


@pytest.mark.parametrize(("kth", "axis"), [(2, -1), ([1, 4], 1), (1, 0), (-1, 1), (3, None)], ids=repr)
def test_partition_equals_numpy_and_differentiates_twice(kth, axis) -> None:
    x = sd.var("x", (3, 7))
    part = np.partition(x, kth, axis=axis)
    np.testing.assert_array_equal(sd.function([x], part)(X), np.partition(X, kth, axis=axis))
    weights = np.random.default_rng(2).uniform(0.5, 1.5, size=part.shape)
    check_grad(sd.sum(part * weights), x, at=[X])
    (g,) = sd.grad(sd.sum(part * part * weights), x)
    check_grad(sd.sum(g * X), x, at=[X])


def test_partition_refusals() -> None:
    x = sd.var("x", (3, 7))
    with pytest.raises(sd.ShapeError, match="kth 7 is out of bounds for an axis of length 7"):
        sd.partition(x, 7)
    with pytest.raises(sd.UnsupportedError, match="kind must be 'introselect'"):
        sd.partition(x, 1, kind="quicksort")
    with pytest.raises(sd.UnsupportedError, match=r"numba backend cannot compute .*partition"):
        sd.compile(sd.sum(sd.partition(x, 1)), x, backend="numba")


@pytest.mark.parametrize(("axis", "keepdims"), [(None, False), (0, False), (-1, True), ((0, 1), False)], ids=repr)
def test_count_nonzero_is_an_integer_count(axis, keepdims) -> None:
    x = sd.var("x", (3, 7))
    got = sd.function([x], np.count_nonzero(x > 0.2, axis=axis, keepdims=keepdims))(X)
    expected = np.count_nonzero(X > 0.2, axis=axis, keepdims=keepdims)
    assert np.asarray(got).dtype == np.int64 and np.shape(got) == np.shape(expected)
    np.testing.assert_array_equal(got, expected)
    check_grad(sd.sum(x * sd.count_nonzero(x > 0.2, axis=axis, keepdims=True)), x, at=[X])
