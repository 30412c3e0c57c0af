"""The linear-algebra ops of ``sd.linalg``: shape rules, printers, VJPs and batching rules.

Each factorisation or solve is one op printed as the ``numpy.linalg`` call (``xp.linalg`` on the
array API backend); multi-output ones (slogdet, eigh, svd, qr) are tuple nodes read with ``item``.
The VJPs reuse the forward results (the factor, the eigenvectors, the inverse) and are built from
the same ops, so every derivative can be differentiated again. numba is refused: its
``np.linalg`` takes 2-d arrays only, and these ops broadcast over leading axes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff.errors import ShapeError
from symdiff.graph import TUPLE, Node, Shape
from symdiff.ops import PRODUCT, SPECTRA, Op, broadcast_shapes, register
from symdiff.printers import spelled

NO_NUMBA = ("numba",)
MASK_LIMIT = 2**16  # entries: a smaller mask is a constant of the program, a larger one compared at run time


# ---- small builders ---------------------------------------------------------------------


def mT(x: Node) -> Node:
    """The matrices of ``x`` (its last two axes) transposed."""
    return sd.transpose(x, (*range(x.ndim - 2), x.ndim - 1, x.ndim - 2))


def column(v: Node) -> Node:
    return sd.reshape(v, (*v.shape, 1))


def row(v: Node) -> Node:
    return sd.reshape(v, (*v.shape[:-1], 1, v.shape[-1]))


def _mask(m: int, k: int, boolean: bool, diagonal_only: bool) -> Node:
    if m * m <= MASK_LIMIT:
        mask = np.eye(m, dtype=bool) if diagonal_only else np.tri(m, m, k, dtype=bool)
        return sd.as_node(mask if boolean else mask.astype(np.float64))
    indices = sd.as_node(np.arange(float(m)))
    rows, cols = sd.reshape(indices, (m, 1)), sd.reshape(indices, (1, m))
    test = sd.equal(cols, rows) if diagonal_only else sd.less_equal(cols, rows + float(k))
    return test if boolean else sd.tofloat(test)


def lower(m: int, k: int = 0, boolean: bool = False) -> Node:
    """1 (or True) on and below the k-th diagonal of an m x m matrix."""
    return _mask(m, k, boolean, diagonal_only=False)


def eye(m: int) -> Node:
    """The m x m identity."""
    return _mask(m, 0, False, diagonal_only=True)


def symmetric(a: Node, upper: bool) -> Node:
    """The symmetric matrix NumPy reads from one triangle of ``a`` (the lower one, or the upper)."""
    mask = lower(a.shape[-1], boolean=True)
    return sd.where(mT(mask) if upper else mask, a, mT(a))


def triangle_gradient(x: Node, upper: bool) -> Node:
    """The gradient by one triangle of the input, from ``x`` whose pairing with a symmetric perturbation is right:
    an off-diagonal entry stands for both of its symmetric places."""
    m = x.shape[-1]
    whole, strict = lower(m), lower(m, -1)
    if upper:
        whole, strict = mT(whole), mT(strict)
    return x * whole + mT(x) * strict


def solve_node(a: Node, b: Node) -> Node:
    return sd.apply("solve", [a, b])


def inv_node(a: Node) -> Node:
    return sd.apply("inv", [a])


# ---- shape rules --------------------------------------------------------------------------


def _square(shape: Shape) -> Shape:
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ShapeError(f"needs square matrices in its last two axes (..., M, M), got shape {shape}")
    return shape


def _matrices(shape: Shape) -> Shape:
    if len(shape) < 2:
        raise ShapeError(f"needs matrices in its last two axes (..., M, N), got shape {shape}")
    return shape


def square_shape(shapes: Sequence[Shape], attrs: tuple[Any, ...]) -> Shape:
    return _square(shapes[0])


def det_shape(shapes: Sequence[Shape], attrs: tuple[Any, ...]) -> Shape:
    return _square(shapes[0])[:-2]


def slogdet_shape(shapes: Sequence[Shape], attrs: tuple[Any, ...]) -> tuple[Shape, ...]:
    batch = _square(shapes[0])[:-2]
    return batch, batch


def eigh_shape(shapes: Sequence[Shape], attrs: tuple[Any, ...]) -> tuple[Shape, ...]:
    a = _square(shapes[0])
    return a[:-1], a


def solve_shape(shapes: Sequence[Shape], attrs: tuple[Any, ...]) -> Shape:
    a, b = _square(shapes[0]), shapes[1]
    m = a[-1]
    if len(b) == 1:  # NumPy 2: only an exactly 1-d b is a vector
        if b[0] != m:
            raise ShapeError(f"b of shape {b} does not fit matrices of shape {a[-2:]}")
        return (*a[:-2], m)
    if len(b) < 2 or b[-2] != m:
        raise ShapeError(f"b must have shape (M,) or (..., M, K) with M = {m}, got {b}")
    return (*broadcast_shapes(a[:-2], b[:-2]), m, b[-1])


def svd_shape(shapes: Sequence[Shape], attrs: tuple[Any, ...]) -> tuple[Shape, ...]:
    a = _matrices(shapes[0])
    m, n = a[-2:]
    k = min(m, n)
    return (*a[:-2], m, k), (*a[:-2], k), (*a[:-2], k, n)


def qr_shape(shapes: Sequence[Shape], attrs: tuple[Any, ...]) -> tuple[Shape, ...]:
    a = _matrices(shapes[0])
    m, n = a[-2:]
    k = min(m, n)
    return (*a[:-2], m, k), (*a[:-2], k, n)


def pinv_shape(shapes: Sequence[Shape], attrs: tuple[Any, ...]) -> Shape:
    a = _matrices(shapes[0])
    return (*a[:-2], a[-1], a[-2])


# ---- printers -----------------------------------------------------------------------------


def linalg_call(name: str, extra: str = "") -> Any:
    return lambda a, node: f"{spelled('linalg.' + name)}({', '.join(a)}{extra})"


def pinv_printer(a: Sequence[str], node: Node) -> str:
    return f"{spelled('linalg.pinv')}({a[0]}, rtol={node.attrs[0]!r})"


# ---- VJPs ---------------------------------------------------------------------------------


def solve_vjp(g: Node, x: Node, a: Node, b: Node) -> tuple[Node, Node]:
    at = mT(a)
    if b.ndim != 1:
        gb = solve_node(at, g)
        return -sd.matmul(gb, mT(x)), gb
    if a.ndim == 2:
        gb = solve_node(at, g)
        return -(column(gb) * x), gb
    gb_column = solve_node(at, column(g))  # a stack of vectors: solved as (..., M, 1) matrices
    return -(gb_column * row(x)), sd.reshape(gb_column, g.shape)


def inv_vjp(g: Node, y: Node, a: Node) -> tuple[Node]:
    yt = mT(y)
    return (-sd.matmul(sd.matmul(yt, g), yt),)


def _scaled_inverse_transpose(scale: Node, a: Node) -> Node:
    """``scale`` (one number per matrix) times the transposed inverse: the gradient of det and log|det|.
    The whole inverse is what the derivative is; it is the node ``inv(a)`` a graph may hold already."""
    return sd.reshape(scale, (*scale.shape, 1, 1)) * mT(inv_node(a))


def det_vjp(g: Node, d: Node, a: Node) -> tuple[Node]:
    return (_scaled_inverse_transpose(g * d, a),)


def slogdet_vjp(gs: Sequence[Node | None], out: Node, a: Node) -> tuple[Node | None]:
    g_log = gs[1]  # the sign is piecewise constant: no gradient
    return (None if g_log is None else _scaled_inverse_transpose(g_log, a),)


def cholesky_vjp(g: Node, factor: Node, a: Node) -> tuple[Node]:
    """S-bar = L^-T Phi(L^T L-bar) L^-1 (Phi: the lower triangle, its diagonal halved), by two solves."""
    m = factor.shape[-1]
    lt = mT(factor)
    phi = sd.matmul(lt, g) * (lower(m) - 0.5 * eye(m))
    left = solve_node(lt, phi)
    x = mT(solve_node(lt, mT(left)))
    return (triangle_gradient(x, upper=False),)


def _gap_inverse(values: Node) -> Node:
    """F[i, j] = 1 / (v[j] - v[i]) off the diagonal, 0 on it (inf where two values are equal)."""
    m = values.shape[-1]
    identity = eye(m)
    return (1.0 - identity) / (row(values) - column(values) + identity)


def eigh_vjp(gs: Sequence[Node | None], out: Node, a: Node) -> tuple[Node]:
    g_values, g_vectors = gs
    values, vectors = sd.outputs(out)
    m = values.shape[-1]
    inner: Node | None = None
    if g_values is not None:
        inner = eye(m) * row(g_values)
    if g_vectors is not None:
        coupling = _gap_inverse(values) * sd.matmul(mT(vectors), g_vectors)
        inner = coupling if inner is None else inner + coupling
    assert inner is not None  # the reverse pass calls a VJP only with some cotangent
    x = sd.matmul(sd.matmul(vectors, inner), mT(vectors))
    return (triangle_gradient(x, upper=out.op == "eigh_upper"),)


def svd_vjp(gs: Sequence[Node | None], out: Node, a: Node) -> tuple[Node]:
    g_u, g_s, g_vh = gs
    u, s, vh = sd.outputs(out)
    m, n = a.shape[-2:]
    k = min(m, n)
    core: Node | None = None if g_s is None else eye(k) * row(g_s)
    gaps = _gap_inverse(s * s) if g_u is not None or g_vh is not None else None
    extra: list[Node] = []
    if g_u is not None and gaps is not None:
        ju = sd.matmul(mT(u), g_u)
        term = (gaps * (ju - mT(ju))) * row(s)
        core = term if core is None else core + term
        if m > k:  # the part of U-bar outside U's columns
            extra.append(sd.matmul((g_u - sd.matmul(u, ju)) / row(s), vh))
    if g_vh is not None and gaps is not None:
        g_v, v = mT(g_vh), mT(vh)
        jv = sd.matmul(vh, g_v)
        term = column(s) * (gaps * (jv - mT(jv)))
        core = term if core is None else core + term
        if n > k:
            extra.append(sd.matmul(u / row(s), mT(g_v - sd.matmul(v, jv))))
    total = extra
    if core is not None:
        total = [sd.matmul(sd.matmul(u, core), vh), *extra]
    result = total[0]
    for term in total[1:]:
        result = result + term
    return (result,)


def _qr_tall(q: Node, r: Node, g_q: Node | None, g_r: Node | None) -> Node:
    """A-bar = (Q-bar + Q copyltu(M)) R^-T with M = R R-bar^T - Q-bar^T Q, for M >= N (R square, invertible)."""
    k = r.shape[-1]
    terms = []
    if g_r is not None:
        terms.append(sd.matmul(r, mT(g_r)))
    if g_q is not None:
        terms.append(-sd.matmul(mT(g_q), q))
    mixed = terms[0] if len(terms) == 1 else terms[0] + terms[1]
    copied = mixed * lower(k) + mT(mixed * lower(k, -1))
    b = sd.matmul(q, copied) if g_q is None else g_q + sd.matmul(q, copied)
    return mT(solve_node(r, mT(b)))


def qr_vjp(gs: Sequence[Node | None], out: Node, a: Node) -> tuple[Node]:
    g_q, g_r = gs
    q, r = sd.outputs(out)
    m, n = a.shape[-2:]
    if m >= n:
        return (_qr_tall(q, r, g_q, g_r),)
    # wide: A = [X Y] with X = Q U square, and V = Q^T Y the rest of R
    _, y = sd.split(a, [m], axis=-1)
    u, _ = sd.split(r, [m], axis=-1)
    g_u, g_v = sd.split(g_r, [m], axis=-1) if g_r is not None else (None, None)
    if g_v is not None:
        moved = sd.matmul(y, mT(g_v))
        g_q = moved if g_q is None else g_q + moved
    g_x = _qr_tall(q, u, g_q, g_u)
    g_y = sd.matmul(q, g_v) if g_v is not None else sd.zeros(y.shape)
    return (sd.concatenate([g_x, g_y], axis=-1),)


def pinv_vjp(g: Node, x: Node, a: Node) -> tuple[Node]:
    """-X^T G X^T + (I - A X) G^T X X^T + X^T X G^T (I - X A), for input of constant rank."""
    xt, gt = mT(x), mT(g)
    first = -sd.matmul(sd.matmul(xt, g), xt)
    second = sd.matmul(gt, sd.matmul(x, xt))
    second = second - sd.matmul(a, sd.matmul(x, second))
    third = sd.matmul(sd.matmul(xt, x), gt)
    third = third - sd.matmul(sd.matmul(third, x), a)
    return (first + second + third,)


# ---- batching -----------------------------------------------------------------------------


def same_op_rule(node: Node, inputs: list[Node], flags: list[bool], k: int) -> Node:
    """The op already broadcasts over leading axes: the batched input goes straight in."""
    return sd.apply(node.op, inputs, node.attrs)


def _padded(x: Node, flag: bool, k: int, ndim: int) -> Node:
    pad = ndim - (x.ndim - 1)
    return sd.reshape(x, (k, *([1] * pad), *x.shape[1:])) if flag and pad > 0 else x


def solve_rule(node: Node, inputs: list[Node], flags: list[bool], k: int) -> Node:
    (a, b), (fa, fb) = inputs, flags
    vector = node.inputs[1].ndim == 1
    if vector and not fb:
        return solve_node(a, b)
    if vector:  # each batched vector as a one-column matrix, lined up after the batch axis
        stacked = _padded(sd.reshape(b, (k, b.shape[-1], 1)), True, k, node.ndim + 1)
        solved = solve_node(a, stacked)
        return sd.reshape(solved, (k, *node.shape))
    return solve_node(_padded(a, fa, k, node.ndim), _padded(b, fb, k, node.ndim))


# ---- the table ----------------------------------------------------------------------------

register(Op("solve", solve_shape, linalg_call("solve"), solve_vjp, arg_prec=(0, 0), domain=((-2.0, 2.0),) * 2,
            kind=PRODUCT, refused=NO_NUMBA, batch=solve_rule))
register(Op("inv", square_shape, linalg_call("inv"), inv_vjp, kind=PRODUCT, refused=NO_NUMBA, batch=same_op_rule))
register(Op("det", det_shape, linalg_call("det"), det_vjp, kind=PRODUCT, refused=NO_NUMBA, batch=same_op_rule))
register(Op("slogdet", slogdet_shape, linalg_call("slogdet"), slogdet_vjp, dtype=TUPLE, kind=PRODUCT,
            refused=NO_NUMBA, batch=same_op_rule))
register(Op("cholesky", square_shape, linalg_call("cholesky"), cholesky_vjp, kind=PRODUCT, refused=NO_NUMBA,
            batch=same_op_rule))
register(Op("eigh", eigh_shape, linalg_call("eigh"), eigh_vjp, dtype=TUPLE, kind=PRODUCT, refused=NO_NUMBA,
            batch=same_op_rule, convention=SPECTRA))
# the standard's eigh has no UPLO, and the upper triangle gives other signs of the eigenvectors
register(Op("eigh_upper", eigh_shape, linalg_call("eigh", ", UPLO='U'"), eigh_vjp, dtype=TUPLE, kind=PRODUCT,
            refused=("numba", "array_api"), batch=same_op_rule, convention=SPECTRA))
register(Op("svd", svd_shape, linalg_call("svd", ", full_matrices=False"), svd_vjp, dtype=TUPLE, kind=PRODUCT,
            refused=NO_NUMBA, batch=same_op_rule, convention=SPECTRA))
register(Op("qr", qr_shape, linalg_call("qr"), qr_vjp, dtype=TUPLE, kind=PRODUCT, refused=NO_NUMBA,
            batch=same_op_rule))
register(Op("pinv", pinv_shape, pinv_printer, pinv_vjp, kind=PRODUCT, refused=NO_NUMBA, batch=same_op_rule))
