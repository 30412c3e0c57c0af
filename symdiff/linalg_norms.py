"""Vector and matrix norms of ``sd.linalg``, built from reductions and the singular values.

``norm`` follows ``numpy.linalg.norm`` case by case, so values agree with NumPy's; the 2-norms are
``sqrt(sum(x * x))``, whose gradient at an all-zero vector is NaN (the norm has no derivative there).
The singular-value norms ('nuc', 2, -2) take their gradient through ``svd`` (finite for distinct
singular values; ties of the largest or smallest share it).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff.errors import ShapeError, UnsupportedError
from symdiff.graph import Node, short_text


def _order(ord: Any, what: str) -> Any:  # noqa: A002  (NumPy's name)
    if ord is None or isinstance(ord, str) or (isinstance(ord, numbers.Real) and not isinstance(ord, (bool, np.bool_))):
        return ord
    raise UnsupportedError(f"{what}: ord={sd._shown(ord)} is not supported; ord must be None, a number, 'fro' or 'nuc'")


def _vector(x: Node, axis: int, ord: Any, keep: bool, what: str) -> Node:  # noqa: A002
    if isinstance(ord, str):
        raise UnsupportedError(f"{what}: ord={ord!r} is not a vector norm; use a number")
    if ord is None or ord == 2:
        return sd.sqrt(sd.sum(x * x, axis=axis, keepdims=keep))
    if ord == np.inf:
        return sd.max(sd.abs(x), axis=axis, keepdims=keep)
    if ord == -np.inf:
        return sd.min(sd.abs(x), axis=axis, keepdims=keep)
    if ord == 0:  # the count of non-zero entries: piecewise constant
        return sd.sum(sd.tofloat(sd.not_equal(x, 0.0)), axis=axis, keepdims=keep)
    if ord == 1:
        return sd.sum(sd.abs(x), axis=axis, keepdims=keep)
    p = float(ord)
    return sd.sum(sd.abs(x) ** p, axis=axis, keepdims=keep) ** (1.0 / p)


def _singular(x: Node, rows: int, cols: int) -> Node:
    """The singular values of the matrices on axes (rows, cols), the other axes first in their order."""
    from symdiff.linalg import svdvals

    rest = tuple(i for i in range(x.ndim) if i not in (rows, cols))
    return svdvals(sd.transpose(x, (*rest, rows, cols)))


def _matrix(x: Node, rows: int, cols: int, ord: Any, keep: bool, what: str) -> Node:  # noqa: A002
    if rows == cols:
        raise ShapeError(f"{what}: repeated axis {rows}")
    if ord in (None, "fro", "f"):
        result = sd.sqrt(sd.sum(x * x, axis=(rows, cols)))
    elif ord == "nuc":
        result = sd.sum(_singular(x, rows, cols), axis=-1)
    elif isinstance(ord, str):
        raise UnsupportedError(f"{what}: ord={ord!r} is not a matrix norm; use 'fro', 'nuc', 1, -1, 2, -2, inf, -inf")
    elif ord in (2, -2):
        result = (sd.max if ord == 2 else sd.min)(_singular(x, rows, cols), axis=-1)
    elif ord in (1, -1):
        inner = sd.sum(sd.abs(x), axis=rows)
        result = (sd.max if ord == 1 else sd.min)(inner, axis=cols - 1 if cols > rows else cols)
    elif ord in (np.inf, -np.inf):
        inner = sd.sum(sd.abs(x), axis=cols)
        result = (sd.max if ord == np.inf else sd.min)(inner, axis=rows - 1 if rows > cols else rows)
    else:
        raise UnsupportedError(f"{what}: ord={sd._shown(ord)} is not a matrix norm; use 'fro', 'nuc', 1, -1, 2, -2, "
                               "inf, -inf")
    if keep:
        result = sd.reshape(result, tuple(1 if i in (rows, cols) else d for i, d in enumerate(x.shape)))
    return result


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Node:  # noqa: A002
    """``numpy.linalg.norm``: a vector norm over one axis, a matrix norm over two, as NumPy chooses them."""
    node = sd._float(sd.as_node(x, "linalg.norm argument"))
    what = f"linalg.norm of {short_text(node, 2)}"
    ord = _order(ord, what)  # noqa: A001
    keep = sd._flag(keepdims, f"{what}: keepdims")
    if axis is None:
        if ord is None:  # the 2-norm of every entry, whatever the shape
            result = sd.sqrt(sd.sum(node * node))
            return sd.reshape(result, (1,) * node.ndim) if keep else result
        if node.ndim not in (1, 2):
            raise ShapeError(f"{what}: with ord={ord!r} and axis=None the array must be 1-d or 2-d, "
                             f"got shape {node.shape}")
        axes: tuple[Any, ...] = tuple(range(node.ndim))
    elif isinstance(axis, tuple):
        axes = axis
    elif isinstance(axis, numbers.Integral) and not isinstance(axis, (bool, np.bool_)):
        axes = (axis,)
    else:
        raise UnsupportedError(f"{what}: axis={sd._shown(axis)} must be None, an int or a tuple of ints")
    normal = [sd._axis(a, node, "linalg.norm") for a in axes]
    if len(normal) == 1:
        return _vector(node, normal[0], ord, keep, what)
    if len(normal) == 2:
        return _matrix(node, normal[0], normal[1], ord, keep, what)
    raise ShapeError(f"{what}: axis={axis!r} names {len(normal)} axes; a norm takes one or two")


def vector_norm(x: Any, /, *, axis: Any = None, keepdims: bool = False, ord: Any = 2) -> Node:  # noqa: A002
    """``numpy.linalg.vector_norm``: the entries on ``axis`` (all of them for None, or a tuple) as one vector."""
    node = sd._float(sd.as_node(x, "linalg.vector_norm argument"))
    what = f"linalg.vector_norm of {short_text(node, 2)}"
    ord = _order(ord, what)  # noqa: A001
    keep = sd._flag(keepdims, f"{what}: keepdims")
    axes = sd._axes(axis, node, "linalg.vector_norm")
    rest = tuple(i for i in range(node.ndim) if i not in axes)
    moved = sd.transpose(node, (*rest, *axes)) if node.ndim else node
    flat = sd.reshape(moved, (*(node.shape[i] for i in rest), int(np.prod([node.shape[i] for i in axes]))))
    result = _vector(flat, flat.ndim - 1, ord, False, what)
    if keep:
        result = sd.reshape(result, tuple(1 if i in axes else d for i, d in enumerate(node.shape)))
    return result


def matrix_norm(x: Any, /, *, keepdims: bool = False, ord: Any = "fro") -> Node:  # noqa: A002
    """``numpy.linalg.matrix_norm``: the norm of each matrix in the last two axes."""
    node = sd._float(sd.as_node(x, "linalg.matrix_norm argument"))
    if node.ndim < 2:
        raise ShapeError(f"linalg.matrix_norm needs at least 2 dimensions, got shape {node.shape}")
    return norm(node, ord=ord, axis=(-2, -1), keepdims=keepdims)
