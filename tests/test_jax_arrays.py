"""The array API backend on JAX arrays, with x64 on. JAX is in the bench extra, not the test
extra, so this module runs where jax is installed (as the backend's requirements say)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from test_array_api import compare_backends
from test_ops import ARRAY_CASES, Case, refused_by

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy


@pytest.mark.parametrize("case", [c for c in ARRAY_CASES if not refused_by(c, "array_api")], ids=Case.id)
def test_every_array_case_on_jax_equals_numpy(case: Case, rng: np.random.Generator, weights: Any) -> None:
    value, _ = compare_backends(case, rng, weights, jnp.asarray)
    assert isinstance(value, jax.Array) and value.dtype == jnp.float64
