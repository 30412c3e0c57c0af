"""Op-matrix cases for integer indexing, argmax/argmin, sorting, cumsum and the linear-algebra ops
(test_ops adds them)."""

from __future__ import annotations

from typing import Any

import numpy as np
from test_ops import Case

import symdiff as sd

DOMAIN = ((-2.0, 2.0),)


def _shifted(a: Any) -> Any:
    """Far from singular: entries in [-2, 2] plus 4 on the diagonal."""
    return a + 4.0 * np.eye(a.shape[-1])


def _spd(a: Any) -> Any:
    return a @ np.swapaxes(a, -1, -2) + 3.0 * np.eye(a.shape[-1])


def _added(x: Any, v: Any) -> Any:
    if isinstance(x, np.ndarray):
        out = x.copy()
        np.add.at(out, [0, 0, 2], v)
        return out
    return x.at[[0, 0, 2]].add(v)


def _case(op: str, build: Any, *shapes: tuple[int, ...], tags: tuple[str, ...] = ()) -> Case:
    return Case(op, build, shapes, DOMAIN * len(shapes), ref=build, sympy=False, tags=tags)


def _partition_adjoint(x: Any) -> Any:
    return sd.vjp(sd.partition(x, 2, axis=1), x, sd.sin(x))[0]


def _sort_adjoint(x: Any) -> Any:
    """sort's VJP (a sort_put) applied to a cotangent that depends on x."""
    return sd.vjp(sd.sort(x, axis=1), x, sd.sin(x))[0]


CASES = [
    _case("sort", lambda x: np.sort(x, axis=1), (2, 5)),
    _case("sort", lambda x: np.median(x, axis=-1), (2, 5), tags=("median",)),
    _case("sort", lambda x: np.percentile(x, 30.0, axis=0), (4, 3), tags=("percentile",)),
    Case("sort_put", _sort_adjoint, ((2, 5),), DOMAIN, sympy=False),
    Case("sort_take", lambda x: sd.vjp(_sort_adjoint(x), x, x)[0], ((2, 5),), DOMAIN, sympy=False),
    _case("partition", lambda x: np.partition(x, 2, axis=1), (2, 5)),
    _case("partition", lambda x: np.partition(x, [0, 3], axis=0), (4, 3), tags=("two kth",)),
    Case("partition_put", _partition_adjoint, ((2, 5),), DOMAIN, sympy=False),
    Case("partition_take", lambda x: sd.vjp(_partition_adjoint(x), x, x)[0], ((2, 5),), DOMAIN, sympy=False),
    _case("count_nonzero", lambda x: x * np.count_nonzero(x > 0, axis=0, keepdims=True), (2, 3)),
    _case("cumsum", lambda x: np.cumsum(x, axis=1), (2, 3)),
    _case("cumsum", lambda x: np.cumsum(x), (2, 3), tags=("flattened",)),
    _case("gather", lambda x: x[[2, 0, 2]], (3, 4), tags=("repeated rows",)),
    _case("gather", lambda x: x[:, [1, 1]], (3, 4), tags=("columns",)),
    _case("gather", lambda x: x[np.array([[0], [2]]), [1, 3]], (3, 4), tags=("broadcast arrays",)),
    _case("gather", lambda x: x[np.array([True, False, True])], (3, 4), tags=("mask",)),
    _case("gather", lambda x: np.take(x, [3, 0], axis=-1), (2, 3, 4), tags=("take",)),
    _case("scatter_add", _added, (4,), (3,)),
    _case("argmax", lambda x: np.take_along_axis(x, np.argmax(x, axis=1, keepdims=True), axis=1), (2, 3)),
    _case("argmin", lambda x: np.take_along_axis(x, np.argmin(x, axis=0, keepdims=True), axis=0), (2, 3)),
    _case("solve", lambda a, b: np.linalg.solve(_shifted(a), b), (3, 3), (3,)),
    _case("solve", lambda a, b: np.linalg.solve(_shifted(a), b), (2, 3, 3), (2, 3, 2), tags=("batched",)),
    _case("inv", lambda a: np.linalg.inv(_shifted(a)), (3, 3)),
    _case("det", lambda a: np.linalg.det(_shifted(a)), (2, 3, 3)),
    _case("slogdet", lambda a: np.linalg.slogdet(_shifted(a))[1], (3, 3)),
    _case("cholesky", lambda a: np.linalg.cholesky(_spd(a)), (3, 3)),
    _case("eigh", lambda a: np.linalg.eigh(_spd(a))[0], (3, 3), tags=("eigenvalues",)),
    _case("eigh", lambda a: np.linalg.eigh(_spd(a))[1] ** 2, (3, 3), tags=("eigenvectors",)),
    _case("eigh_upper", lambda a: np.linalg.eigh(_spd(a), UPLO="U")[0], (3, 3)),
    _case("svd", lambda a: np.linalg.svd(a, compute_uv=False), (3, 2), tags=("singular values",)),
    _case("svd", lambda a: np.linalg.svd(a, full_matrices=False)[0] ** 2, (3, 2), tags=("vectors",)),
    _case("qr", lambda a: np.linalg.qr(a)[1], (3, 2)),
    _case("pinv", lambda a: np.linalg.pinv(a), (3, 2)),
]
