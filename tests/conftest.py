"""Shared helpers: sampling points inside each op's domain."""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import symdiff as sd
from symdiff import pipeline
from symdiff.compiler import prepare
from symdiff.graph import FLOAT, Node, check, free_variables

pipeline.VERIFY = True  # the graph verifier and the growth bound after every pass, in every test
# the numba backend's disk cache: a folder of this run, never the user's own
os.environ.setdefault("SYMDIFF_CACHE_DIR", tempfile.mkdtemp(prefix="symdiff-tests-"))


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
        check(prepare(root, variables, rewrites=False).roots)


@pytest.fixture
def weights():
    """A fixed random weighting, so summed outputs have non-uniform gradients."""

    def make(shape: tuple[int, ...]) -> np.ndarray | float:
        return np.random.default_rng(7).uniform(0.5, 1.5, size=shape) if shape else 1.3

    return make


@pytest.fixture(params=["numpy", "numba"])
def each_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test once per backend: the default backend of ``compile`` and ``function`` is
    switched for its duration, so the numba backend meets the very same assertions."""
    if request.param == "numba":
        pytest.importorskip("numba")
    from symdiff import compiler, transforms

    for fn in (compiler.compile, transforms.function):
        monkeypatch.setattr(fn, "__kwdefaults__", {**fn.__kwdefaults__, "backend": request.param})
    return str(request.param)


@pytest.fixture
def numpy_warns(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``pytest.warns`` on the NumPy backend; on numba (``error_model="numpy"``: IEEE results,
    no warnings) the same block must run without any warning."""
    backend = request.getfixturevalue("each_backend") if "each_backend" in request.fixturenames else "numpy"

    def expect(*args: Any, **kwargs: Any) -> Any:
        if backend == "numpy":
            return pytest.warns(*args, **kwargs)
        return _no_warnings()

    return expect


@contextlib.contextmanager
def _no_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


__all__ = ["sample", "sd", "verify"]
