"""Shared helpers: sampling points inside each op's domain."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff as sd
from symdiff.graph import Node, toposort
from symdiff.ops import OPS


def sample(shape: tuple[int, ...], interval: tuple[float, float], rng: np.random.Generator) -> np.ndarray | float:
    lo, hi = interval
    value = rng.uniform(lo, hi, size=shape)
    return float(value) if shape == () else value


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261123)


def verify(root: Node) -> None:
    """The graph verifier: known ops, arities, shapes consistent with each op's rule, acyclic."""
    for node in toposort([root]):
        if node.op in ("var", "const"):
            assert not node.inputs
            continue
        assert node.op in OPS, node.op
        assert OPS[node.op].shape([i.shape for i in node.inputs], node.attrs) == node.shape


@pytest.fixture
def weights():
    """A fixed random weighting, so summed outputs have non-uniform gradients."""

    def make(shape: tuple[int, ...]) -> np.ndarray | float:
        return np.random.default_rng(7).uniform(0.5, 1.5, size=shape) if shape else 1.3

    return make


__all__ = ["sample", "sd", "verify"]
