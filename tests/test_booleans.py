"""Layout ops keep a boolean a boolean, so arithmetic on it counts 0/1 as everywhere else."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff as sd

LAYOUT = {
    "index": (lambda b: b[1:], lambda b: b[1:]),
    "reshape": (lambda b: b.reshape((2, 2)), lambda b: b.reshape((2, 2))),
    "transpose": (lambda b: b.reshape((2, 2)).T, lambda b: b.reshape((2, 2)).T),
    "broadcast": (lambda b: sd.broadcast_to(b, (3, 4)), lambda b: np.broadcast_to(b, (3, 4))),
}


@pytest.mark.parametrize("name", sorted(LAYOUT))
def test_a_moved_boolean_stays_boolean_and_counts_as_0_or_1(name: str) -> None:
    build, reference = LAYOUT[name]
    v = sd.var("v", shape=(4,))
    moved = build(v > 0)
    assert moved.dtype == "bool"
    point = np.array([1.0, -2.0, 3.0, 0.0])
    fn = sd.compile(sd.sum(-moved * 2.0) + sd.sum(v), [v])
    value, _ = fn(point)
    assert value == -2.0 * np.sum(reference(point > 0)) + point.sum()
