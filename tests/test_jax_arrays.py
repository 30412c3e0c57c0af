"""The array API backend on JAX arrays, with x64 on. JAX is in the bench extra, not the test
extra, so this module runs where jax is installed (as the backend's requirements say)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from test_ops import ARRAY_CASES, Case, _objective, _point

import symdiff as sd

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy


@pytest.mark.parametrize("case", [c for c in ARRAY_CASES if not {"step", "reversed"} & set(c.tags)], ids=Case.id)
def test_every_array_case_on_jax_equals_numpy(case: Case, rng: np.random.Generator, weights: Any) -> None:
    variables = [sd.var(f"a{i}", shape=s) for i, s in enumerate(case.shapes)]
    objective = _objective(case, variables, weights)
    point = [np.asarray(p, dtype=np.float64) for p in _point(case, rng)]
    if all(p.shape == () for p in point):
        variables.append(sd.var("anchor", shape=(1,)))
        point.append(np.zeros(1))
    value, grads = sd.compile(objective, variables, backend="array_api")(
        *(jnp.asarray(p) if p.shape else float(p) for p in point))
    expected_value, expected_grads = sd.compile(objective, variables)(*point)
    assert isinstance(value, jax.Array) and value.dtype == jnp.float64
    np.testing.assert_allclose(np.asarray(value), expected_value, rtol=1e-12, atol=1e-14)
    for got, want in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, atol=1e-14)
