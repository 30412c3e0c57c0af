"""compile(..., dtype=np.float32): single-precision code, checked against float64 with
float32 tolerances, on every array case of the op matrix and on the examples."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from test_ops import ARRAY_CASES, Case, _objective, _point

import symdiff as sd
from symdiff.dims import Dim
from symdiff.gallery import GENERATED

RTOL, ATOL = 2e-4, 2e-5


def assert_single_close(got: Any, expected: Any) -> None:
    got_value, got_grads = got
    value, grads = expected
    assert np.asarray(got_value).dtype == np.float32 and np.ndim(got_value) == 0
    np.testing.assert_allclose(got_value, value, rtol=RTOL, atol=ATOL)
    for g, e in zip(got_grads, grads, strict=True):
        assert np.asarray(g).dtype == np.float32 and np.shape(g) == np.shape(e)
        np.testing.assert_allclose(g, e, rtol=RTOL, atol=ATOL * max(1.0, float(np.abs(e).max(initial=0.0))))


@pytest.mark.parametrize("case", ARRAY_CASES, ids=Case.id)
def test_every_array_case_in_float32_matches_float64(case: Case, rng: np.random.Generator, weights: Any) -> None:
    variables = [sd.var(f"a{i}", shape=s) for i, s in enumerate(case.shapes)]
    objective = _objective(case, variables, weights)
    point = [np.asarray(p, dtype=np.float64) for p in _point(case, rng)]
    single = sd.compile(objective, variables, dtype=np.float32)
    assert "np.float64" not in single.source
    got = single(*(p.astype(np.float32) for p in point))
    assert_single_close(got, sd.compile(objective, variables)(*point))


@pytest.mark.parametrize("make", GENERATED, ids=[m().name for m in GENERATED])
def test_examples_in_float32(make) -> None:
    example = make()
    rng = np.random.default_rng(8)
    sized = [tuple(20 if isinstance(d, Dim) else d for d in v.shape) for v in example.inputs]  # named: 20 rows
    point = [rng.uniform(0.2, 0.8, size=s) if s else float(rng.uniform(0.5, 2.0)) for s in sized]
    if example.outputs is not None:
        got = sd.function(example.inputs, example.outputs, dtype=np.float32)(*point)
        expected = sd.function(example.inputs, example.outputs)(*point)
        for g, e in zip(got, expected, strict=True):
            assert np.asarray(g).dtype == np.float32
            np.testing.assert_allclose(g, e, rtol=RTOL, atol=ATOL * max(1.0, float(np.abs(e).max())))
        return
    got = sd.compile(example.expr, example.wrt, example.inputs, dtype=np.float32)(*point)
    assert_single_close(got, sd.compile(example.expr, example.wrt, example.inputs)(*point))


def test_float32_scalars_take_the_numpy_path_and_return_float32() -> None:
    x1, x2 = sd.var("x1"), sd.var("x2")
    fn = sd.compile(sd.log(x1) + x1 * x2 - sd.sin(x2), [x1, x2], dtype="float32")
    assert "math." not in fn.source and "Single precision" in fn.source
    value, (g1, g2) = fn(2.0, 5.0)
    assert type(value) is np.float32 and type(g1) is np.float32 and type(g2) is np.float32
    np.testing.assert_allclose([value, g1, g2], [11.6520714552, 5.5, 1.7163378145], rtol=1e-6)


def test_a_float64_array_is_converted_and_a_bad_dtype_is_refused() -> None:
    x = sd.var("x", shape=(3,))
    fn = sd.compile(sd.sum(sd.exp(x)), [x], dtype=np.float32)
    value, (grad,) = fn(np.array([0.0, 1.0, 2.0]))  # float64 in: converted, as ints are for float64
    assert grad.dtype == np.float32 and value.dtype == np.float32
    with pytest.raises(sd.UnsupportedError, match="dtype must be"):
        sd.compile(sd.sum(x), [x], dtype=np.int32)
