"""Returned arrays are the caller's: no copy of a temporary, and never an alias of an input,
a constant or another returned array."""

from __future__ import annotations

import numpy as np

import symdiff as sd

rng = np.random.default_rng(7)


def test_a_view_of_a_temporary_is_returned_as_it_is_and_nothing_aliases() -> None:
    x, a = sd.var("x", (4,)), sd.var("A", (5, 4))
    jac = sd.jacobian(sd.tanh(a @ x), x)  # a transpose of a fresh product
    pieces = sd.split(sd.exp(x), 2)
    passed, _ = sd.scan(lambda c, _: (c, None), x, length=3)  # the loop hands its input back
    kept, _ = sd.scan(lambda c, _: (c * 0.5, None), x, length=3)
    empty, _ = sd.scan(lambda c, _: (c * 0.5, None), x, length=0)
    constant = sd.as_node(np.arange(4.0))
    outputs = [jac, jac.T, a.T, x[1:], pieces[0], pieces[1], passed, kept, empty, sd.reshape(constant, (2, 2))]
    fn = sd.function([x, a], outputs)
    assert "return (out0, " in fn.source and "np.array(out0)" not in fn.source  # the Jacobian is not copied
    point, matrix = rng.standard_normal(4), rng.standard_normal((5, 4))
    results = fn(point, matrix)
    again = fn(point, matrix)
    for i, r in enumerate(results):
        assert not np.shares_memory(r, point) and not np.shares_memory(r, matrix), i
        assert not np.shares_memory(r, again[i]), i  # a constant's value is not handed out either
        for j, other in enumerate(results[:i]):
            assert not np.shares_memory(r, other), (i, j)
    np.testing.assert_array_equal(results[6], point)
    np.testing.assert_array_equal(results[7], point / 8)
    results[0][...] = 0.0  # writable, and the caller's
    np.testing.assert_allclose(fn(point, matrix)[0], again[0])
