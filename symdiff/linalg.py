"""``sd.linalg``: NumPy's linear algebra on nodes, batched over leading axes as in ``numpy.linalg``.

solve, inv, det, slogdet, cholesky, eigh, svd, qr and pinv are ops of their own
(``symdiff.linalg_rules``); eigvalsh, svdvals, the norms (``symdiff.linalg_norms``), cond,
matrix_power, multi_dot, diagonal, trace, matmul, outer, matrix_transpose and vecdot are built
from them and the other builders. ``np.linalg.f(node)`` dispatches here; lstsq, eig, eigvals,
matrix_rank, tensorsolve, tensorinv, tensordot and cross are not supported (they raise by name).
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

import symdiff.api as sd
from symdiff import compose, interop
from symdiff.errors import ShapeError, UnsupportedError
from symdiff.graph import Node, short_text
from symdiff.linalg_rules import _square, eye, mT, symmetric

__all__ = [
    "EighResult", "QRResult", "SVDResult", "SlogdetResult", "cholesky", "cond", "det", "diagonal", "eigh",
    "eigvalsh", "inv", "matmul", "matrix_norm", "matrix_power", "matrix_transpose", "multi_dot", "norm", "outer",
    "pinv", "qr", "slogdet", "solve", "svd", "svdvals", "trace", "vecdot", "vector_norm",
]


class SlogdetResult(NamedTuple):
    sign: Node
    logabsdet: Node


class EighResult(NamedTuple):
    eigenvalues: Node
    eigenvectors: Node


class SVDResult(NamedTuple):
    U: Node
    S: Node
    Vh: Node


class QRResult(NamedTuple):
    Q: Node
    R: Node


class _Unset:
    """NumPy's "no value given" for pinv's ``rtol``."""

    def __repr__(self) -> str:
        return "<no value>"


UNSET: Any = _Unset()


def _input(x: Any, name: str) -> Node:
    return sd._float(sd.as_node(x, f"linalg.{name} argument"))


def _check_square(node: Node, name: str) -> None:
    try:
        _square(node.shape)
    except ShapeError as error:
        raise ShapeError(f"{name}({short_text(node, 2)}): {error}") from None


def _refuse(name: str, keyword: str, value: Any, allowed: str) -> UnsupportedError:
    return UnsupportedError(f"linalg.{name}: {keyword}={sd._shown(value)} is not supported; {allowed}")


# ---- solves, inverses, determinants ---------------------------------------------------------


def solve(a: Any, b: Any) -> Node:
    """The solution of ``a @ x = b``. As in NumPy 2, ``b`` is one vector only when it is exactly 1-d;
    otherwise it is a stack of (M, K) matrices. The adjoint solves with the transpose of ``a``."""
    return sd.apply("solve", [_input(a, "solve"), _input(b, "solve")])


def inv(a: Any) -> Node:
    """The inverse of each square matrix; its gradient reuses the inverse."""
    return sd.apply("inv", [_input(a, "inv")])


def det(a: Any) -> Node:
    """The determinant of each square matrix. Its gradient ``det(a) * inv(a).T`` shares the node ``inv(a)``;
    at an exactly singular matrix NumPy cannot invert it and raises ``LinAlgError``."""
    return sd.apply("det", [_input(a, "det")])


def slogdet(a: Any) -> SlogdetResult:
    """``(sign, logabsdet)`` of each square matrix. The sign is piecewise constant and has no gradient;
    that of ``logabsdet`` is ``inv(a).T``."""
    return SlogdetResult(*sd.outputs(sd.apply("slogdet", [_input(a, "slogdet")])))


# ---- factorisations -------------------------------------------------------------------------


def cholesky(a: Any, /, *, upper: bool = False) -> Node:
    """The Cholesky factor of each symmetric positive-definite matrix: lower, or upper with ``upper=True``.

    As in NumPy only one triangle of ``a`` is read (the lower one, or the upper with ``upper=True``), so the
    gradient by the other triangle is 0. The adjoint solves twice with the factor; it forms no inverse.
    """
    node = _input(a, "cholesky")
    up = sd._flag(upper, f"linalg.cholesky of {short_text(node, 2)}: upper")
    _check_square(node, "cholesky")
    factor = sd.apply("cholesky", [symmetric(node, up)])
    return mT(factor) if up else factor


def _uplo(value: Any, name: str) -> bool:
    if isinstance(value, str) and value.upper() in ("L", "U"):
        return value.upper() == "U"
    raise _refuse(name, "UPLO", value, "UPLO must be 'L' or 'U'")


def eigh(a: Any, UPLO: str = "L") -> EighResult:
    """Eigenvalues (ascending) and eigenvectors of each symmetric matrix, read from the ``UPLO`` triangle.

    The gradient is the standard adjoint ``V (diag(w-bar) + F * (V^T V-bar)) V^T`` with
    ``F[i, j] = 1 / (w[j] - w[i])``, by the triangle that was read. The eigenvalue part needs no
    eigenvalue gaps and stays right where eigenvalues are equal; the eigenvector part divides by the
    gaps, so at a degenerate eigenvalue the gradient through the eigenvectors is inf or NaN (with
    NumPy's divide warning): the eigenvectors of a repeated eigenvalue are not differentiable.
    Eigenvectors have an arbitrary sign, so only sign-invariant uses of them have a meaningful gradient.
    ``UPLO='U'`` prints NumPy's upper-triangle call (the array API standard has none: refused there).
    """
    node = _input(a, "eigh")
    up = _uplo(UPLO, "eigh")
    _check_square(node, "eigh")
    return EighResult(*sd.outputs(sd.apply("eigh_upper" if up else "eigh", [symmetric(node, up)])))


def eigvalsh(a: Any, UPLO: str = "L") -> Node:
    """The eigenvalues of ``eigh`` (computed with the eigenvectors, which their gradient needs).
    Their gradient ``V diag(w-bar) V^T`` is finite at repeated eigenvalues too."""
    return eigh(a, UPLO).eigenvalues


def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False) -> Any:
    """``U, S, Vh`` (reduced: ``U`` is (..., M, K), ``Vh`` (..., K, N), K = min(M, N)), or ``S`` alone.

    ``full_matrices=True`` is NumPy's default; it is the reduced form for square matrices and is
    refused for other shapes (pass ``full_matrices=False``). The adjoint is the standard one for
    distinct, non-zero singular values: through ``U`` and ``Vh`` it divides by ``s[j]**2 - s[i]**2``
    (and by ``s`` for non-square input), so it is inf or NaN where singular values repeat (or are 0);
    through ``S`` alone it is ``U diag(S-bar) Vh``, finite everywhere.
    """
    node = _input(a, "svd")
    full = sd._flag(full_matrices, "linalg.svd: full_matrices")
    with_uv = sd._flag(compute_uv, "linalg.svd: compute_uv")
    if sd._flag(hermitian, "linalg.svd: hermitian"):
        raise _refuse("svd", "hermitian", hermitian, "use hermitian=False (the same values for symmetric input)")
    whole = sd.apply("svd", [node])
    m, n = node.shape[-2:]
    if with_uv and full and m != n:
        raise _refuse("svd", "full_matrices", True, f"for a non-square shape {node.shape} pass full_matrices=False")
    u, s, vh = sd.outputs(whole)
    return SVDResult(u, s, vh) if with_uv else s


def svdvals(x: Any, /) -> Node:
    """The singular values, descending (``svd(x, compute_uv=False)``)."""
    return svd(x, compute_uv=False)


def qr(a: Any, mode: str = "reduced") -> Any:
    """``Q, R`` of each matrix (``mode='reduced'``), or ``R`` alone (``mode='r'``).

    The adjoint assumes full rank (``R``'s leading square block invertible); wide matrices are
    handled by splitting off the square part. ``mode='complete'`` is the reduced form when M <= N and
    is refused otherwise; ``mode='raw'`` is refused.
    """
    node = _input(a, "qr")
    whole = sd.apply("qr", [node])
    m, n = node.shape[-2:]
    if not isinstance(mode, str) or mode not in ("reduced", "r", "complete") or (mode == "complete" and m > n):
        raise _refuse("qr", "mode", mode, "use mode='reduced' or 'r' ('complete' only where it is the reduced "
                      "form, M <= N)")
    q, r = sd.outputs(whole)
    return r if mode == "r" else QRResult(q, r)


def _tolerance(value: Any, keyword: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return float(value)
    raise _refuse("pinv", keyword, value, f"{keyword} must be a number")


def pinv(a: Any, rcond: Any = None, hermitian: bool = False, *, rtol: Any = UNSET) -> Node:
    """The Moore-Penrose pseudo-inverse, with NumPy's cut-offs (``rcond`` or ``rtol``, as numbers).

    Its gradient is that of a matrix of constant rank (full rank in practice); where the cut-off
    drops singular values the pseudo-inverse is not differentiable, and the gradient ignores the change
    of rank.
    """
    node = _input(a, "pinv")
    if sd._flag(hermitian, "linalg.pinv: hermitian"):
        raise _refuse("pinv", "hermitian", hermitian, "use hermitian=False (the same values for symmetric input)")
    if rcond is not None and rtol is not UNSET:
        raise UnsupportedError("linalg.pinv: rtol and rcond cannot both be set")
    if rcond is not None:
        tolerance = _tolerance(rcond, "rcond")
    else:
        tolerance = 1e-15 if rtol is UNSET else _tolerance(rtol, "rtol")  # NumPy's default, spelt out
    return sd.apply("pinv", [node], (tolerance,))


# ---- built from the others ------------------------------------------------------------------


def cond(x: Any, p: Any = None) -> Node:
    """The condition number: ``s[0] / s[-1]`` for p None or 2 (``s[-1] / s[0]`` for -2), else
    ``norm(x, p) * norm(inv(x), p)`` of square matrices. A singular matrix gives inf (p None, 2, -2) or,
    for the other orders, NumPy's ``LinAlgError`` from ``inv`` when the function runs."""
    node = _input(x, "cond")
    if p is None or (isinstance(p, numbers.Real) and not isinstance(p, (bool, np.bool_)) and p in (2, -2)):
        s = svdvals(node)
        first, last = s[..., 0], s[..., -1]
        return last / first if p == -2 else first / last
    _check_square(node, "cond")
    return norm(node, p, axis=(-2, -1)) * norm(inv(node), p, axis=(-2, -1))


def matrix_power(a: Any, n: Any) -> Node:
    """``a`` to an integer power by repeated squaring, as NumPy groups it; a negative power inverts first."""
    node = _input(a, "matrix_power")
    _check_square(node, "matrix_power")
    if isinstance(n, (bool, np.bool_)):
        raise _refuse("matrix_power", "n", n, "n must be an int")
    try:
        power = operator.index(n)
    except TypeError:
        raise _refuse("matrix_power", "n", n, "n must be an int") from None
    if power == 0:
        return sd.broadcast_to(eye(node.shape[-1]), node.shape)
    base = inv(node) if power < 0 else node
    power = abs(power)
    if power <= 3:
        result = base
        for _ in range(power - 1):
            result = sd.matmul(result, base)
        return result
    square: Node | None = None
    found: Node | None = None
    while power > 0:
        square = base if square is None else sd.matmul(square, square)
        power, bit = divmod(power, 2)
        if bit:
            found = square if found is None else sd.matmul(found, square)
    assert found is not None
    return found


def multi_dot(arrays: Sequence[Any], *, out: Any = None) -> Node:
    """The product of the matrices in the cheapest order (NumPy's); the first and last may be vectors."""
    if out is not None:
        raise _refuse("multi_dot", "out", out, "symdiff builds new nodes; use out=None")
    nodes = [_input(x, "multi_dot") for x in sd.array_list(arrays, "linalg.multi_dot")]
    if len(nodes) < 2:
        raise ShapeError("linalg.multi_dot needs at least two arrays")
    first, last = nodes[0].ndim == 1, nodes[-1].ndim == 1
    if first:
        nodes[0] = sd.reshape(nodes[0], (1, nodes[0].size))
    if last:
        nodes[-1] = sd.reshape(nodes[-1], (nodes[-1].size, 1))
    for i, node in enumerate(nodes):
        if node.ndim != 2:
            raise ShapeError(f"linalg.multi_dot: array {i} has shape {node.shape}; the inner arrays must be 2-d "
                             "and the outer ones 1-d or 2-d")
    result = _chain(nodes, _order(nodes), 0, len(nodes) - 1)
    if first and last:
        return sd.reshape(result, ())
    if first or last:
        return sd.reshape(result, (result.shape[1] if first else result.shape[0],))
    return result


def _order(nodes: list[Node]) -> list[list[int]]:
    """NumPy's matrix-chain order: split[i][j] is where the product of nodes i..j splits."""
    dims = [nodes[0].shape[0], *(n.shape[1] for n in nodes)]
    count = len(nodes)
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    if count == 3:  # NumPy's own rule for three: ties go to a(bc)
        left = dims[0] * dims[2] * (dims[1] + dims[3])
        right = dims[1] * dims[3] * (dims[0] + dims[2])
        split[0][2] = 1 if left < right else 0
        split[1][2] = 1
        return split
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = -1
            for k in range(i, j):
                total = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] == -1 or total < cost[i][j]:
                    cost[i][j], split[i][j] = total, k
    return split


def _chain(nodes: list[Node], split: list[list[int]], i: int, j: int) -> Node:
    """The product of nodes i..j in the order ``split`` gives, without recursion."""
    results: dict[tuple[int, int], Node] = {}
    stack = [(i, j, False)]
    while stack:
        lo, hi, ready = stack.pop()
        if lo == hi:
            results[(lo, hi)] = nodes[lo]
            continue
        k = split[lo][hi]
        if ready:
            results[(lo, hi)] = sd.matmul(results[(lo, k)], results[(k + 1, hi)])
        else:
            stack += [(lo, hi, True), (lo, k, False), (k + 1, hi, False)]
    return results[(i, j)]


def matmul(x1: Any, x2: Any, /) -> Node:
    return sd.matmul(x1, x2)


def outer(x1: Any, x2: Any, /) -> Node:
    """``numpy.linalg.outer``: both arguments must be vectors."""
    a, b = _input(x1, "outer"), _input(x2, "outer")
    if a.ndim != 1 or b.ndim != 1:
        raise ShapeError(f"linalg.outer needs two 1-d arrays, got shapes {a.shape} and {b.shape}")
    return compose.outer(a, b)


def matrix_transpose(x: Any, /) -> Node:
    node = _input(x, "matrix_transpose")
    if node.ndim < 2:
        raise ShapeError(f"linalg.matrix_transpose needs at least 2 dimensions, got shape {node.shape}")
    return mT(node)


def diagonal(x: Any, /, *, offset: int = 0) -> Node:
    """The ``offset`` diagonal of each matrix in the last two axes, taken by a strided slice (exact, inf or not)."""
    node = _input(x, "diagonal")
    if node.ndim < 2:
        raise ShapeError(f"linalg.diagonal needs at least 2 dimensions, got shape {node.shape}")
    k = sd._int(offset, "linalg.diagonal: offset")
    m, n = node.shape[-2:]
    length = max(0, min(m, n - k) if k >= 0 else min(m + k, n))
    start = max(0, -k) * n + max(0, k)
    flat = sd.reshape(node, (*node.shape[:-2], m * n))
    return flat[..., start : start + length * (n + 1) : n + 1] if length else sd.zeros((*node.shape[:-2], 0))


def trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Node:
    """The sum of each matrix's ``offset`` diagonal (``numpy.linalg.trace``)."""
    if dtype is not None and np.dtype(dtype) != np.float64:
        raise _refuse("trace", "dtype", dtype, "symdiff computes in float64 (dtype=None)")
    try:
        return sd.sum(diagonal(x, offset=offset), axis=-1)
    except ShapeError as error:
        raise ShapeError(f"linalg.trace: {error}") from None


def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Node:
    """The dot product of vectors along ``axis`` (of the broadcast shape), as ``numpy.linalg.vecdot``."""
    a, b = _input(x1, "vecdot"), _input(x2, "vecdot")
    product = a * b
    ax = sd._axis(axis, product, "linalg.vecdot")
    for operand in (a, b):
        at = ax - (product.ndim - operand.ndim)
        if at < 0 or operand.shape[at] != product.shape[ax]:
            raise ShapeError(f"linalg.vecdot: shapes {a.shape} and {b.shape} differ along axis {axis}")
    return sd.sum(product, axis=ax)


from symdiff.linalg_norms import matrix_norm, norm, vector_norm  # noqa: E402  (they build on svd above)

interop.provide({f"linalg.{name}": globals()[name] for name in __all__ if not name[0].isupper()})
