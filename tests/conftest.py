"""Shared helpers: sampling points inside each op's domain."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff as sd
from symdiff.compiler import differentiate
from symdiff.graph import FLOAT, Node, check, free_variables


def sample(shape: tuple[int, ...], interval: tuple[float, float], rng: np.random.Generator) -> np.ndarray | float:
    lo, hi = interval
    value = rng.uniform(lo, hi, size=shape)
    return float(value) if shape == () else value


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261123)


def verify(root: Node) -> None:
    """Run the verifier on an expression and on its adjoint graph."""
    check([root])
    variables = free_variables([root])
    if root.shape == () and root.dtype == FLOAT and variables:
        _, grads, _ = differentiate(root, variables)
        check([root, *grads])


@pytest.fixture
def weights():
    """A fixed random weighting, so summed outputs have non-uniform gradients."""

    def make(shape: tuple[int, ...]) -> np.ndarray | float:
        return np.random.default_rng(7).uniform(0.5, 1.5, size=shape) if shape else 1.3

    return make


__all__ = ["sample", "sd", "verify"]
