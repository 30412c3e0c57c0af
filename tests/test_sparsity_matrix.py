"""Every case of the op matrix through sparse_jacobian: the pattern holds every non-zero of the
dense Jacobian at a random point, and the compressed evaluation gives the dense values."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import sample
from test_ops import ARRAY_CASES, Case

import symdiff as sd
from symdiff.graph import FLOAT

pytest.importorskip("scipy")


@pytest.mark.parametrize("case", ARRAY_CASES, ids=Case.id)
def test_the_pattern_never_misses_and_the_sparse_jacobian_is_the_dense_one(case: Case) -> None:
    variables = [sd.var(f"a{i}", shape=s) for i, s in enumerate(case.shapes)]
    out = sd.tofloat(sd.as_node(case.build(*variables)))
    wrt = [v for v in variables if v.dtype == FLOAT]
    rng = np.random.default_rng(11)
    point = [sample(s, interval, rng) for s, interval in zip(case.shapes, case.domains, strict=True)]
    fn = sd.sparse_jacobian(out, wrt, inputs=variables)
    value, jac = fn(*point)
    blocks = sd.function(variables, [sd.jacobian(out, w) for w in wrt])(*point)
    dense = np.concatenate([np.reshape(b, (out.size, w.size)) for b, w in zip(blocks, wrt, strict=True)], axis=1)
    assert not np.any(dense[~fn.pattern.to_dense()]), f"non-zeros outside the pattern of {case.id()}"
    np.testing.assert_allclose(jac.toarray(), dense, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(value, sd.evaluate(out, dict(zip(variables, point, strict=True))), rtol=1e-14)
