"""Statistics and order-dependent reductions: var, std, average, cumsum, cumprod, diff, ptp,
sort, median, percentile and quantile, the NaN-skipping reductions, all and any.

Three primitives move values by a value-dependent permutation along one axis: ``sort``, and
``sort_take`` / ``sort_put`` (a cotangent taken in, or put back from, the order ``np.argsort``
gives the key). Each one's VJP is the other, so second derivatives follow. The permutation is
a stable argsort: of tied values, the first in the input is the first in the sorted result,
and the gradient of each sorted position goes to exactly one of them. ``cumsum`` is the fourth
primitive, its VJP a reversed cumsum. The rest is composed from existing builders.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff import batch as batching
from symdiff import interop
from symdiff.dims import surely_at_most
from symdiff.errors import ShapeError, UnsupportedError
from symdiff.graph import BOOL, Node, short_text
from symdiff.ops import LAYOUT, PRODUCT, SORTS, Op, register, same_shape
from symdiff.printers import spelled
from symdiff.sparsity_rules import along_axis_rule

__all__ = [
    "all", "any", "average", "cumprod", "cumsum", "diff", "median", "nanmax", "nanmean", "nanmin", "nanprod",
    "nanstd", "nansum", "nanvar", "percentile", "ptp", "quantile", "sort", "std",
]


# ---- the primitives ---------------------------------------------------------------------------


def _argsort(text: str, axis: int) -> str:
    """A stable argsort: NumPy names it ``kind='stable'``, the array API ``stable=True``."""
    name = spelled("argsort")
    stable = "kind='stable'" if name.startswith("np.") else "stable=True"
    return f"{name}({text}, axis={axis}, {stable})"


def _take_printer(a: Sequence[str], node: Node) -> str:
    axis = node.attrs[0]
    return f"{spelled('take_along_axis')}({a[0]}, {_argsort(a[1], axis)}, axis={axis})"


def _put_printer(a: Sequence[str], node: Node) -> str:
    axis = node.attrs[0]  # the argsort of a permutation is its inverse
    return f"{spelled('take_along_axis')}({a[0]}, {_argsort(_argsort(a[1], axis), axis)}, axis={axis})"


def _flipped(g: Node, axis: int) -> Node:
    return sd.getitem(g, (*[slice(None)] * axis, slice(None, None, -1)))


# permutations: layout ops, printed by NumPy and the array API; numba has no axis for sort
MOVES: dict[str, Any] = {"kind": LAYOUT, "layout": True, "strong_zeros": True, "refused": ("numba",),
                         "batch": batching.axis_rule, "convention": SORTS, "sparsity": along_axis_rule}
register(Op("sort", same_shape, lambda a, n: f"{spelled('sort')}({a[0]}, axis={n.attrs[0]})",
            lambda g, y, x: (sd.apply("sort_put", [g, x], y.attrs),), **MOVES))
register(Op("sort_take", same_shape, _take_printer,
            lambda g, y, v, key: (sd.apply("sort_put", [g, key], y.attrs), None), **MOVES))
register(Op("sort_put", same_shape, _put_printer,
            lambda g, y, v, key: (sd.apply("sort_take", [g, key], y.attrs), None), **MOVES))
# a contraction with a triangle of ones along one axis; its VJP sums the cotangent from the end
register(Op("cumsum", same_shape, lambda a, n: f"{spelled('cumsum')}({a[0]}, axis={n.attrs[0]})",
            lambda g, y, x: (_flipped(cumsum(_flipped(g, y.attrs[0]), axis=y.attrs[0]), y.attrs[0]),),
            kind=PRODUCT, strong_zeros=True, refused=("numba",), batch=batching.axis_rule, array_api="cumulative_sum",
            sparsity=along_axis_rule))


# ---- shared helpers ---------------------------------------------------------------------------


def _refuse(what: str, **given: Any) -> None:
    """NumPy keywords symdiff takes but only at their defaults (``out=None``, ``dtype=None``...)."""
    for name, value in given.items():
        if value is not None and not (name == "where" and value is True):
            raise UnsupportedError(f"{what}: the keyword {name}= is not supported (got {sd._shown(value)})")


def _flat_or_axis(x: Any, axis: Any, what: str) -> tuple[Node, int]:
    """``axis=None`` flattens, as NumPy's cumulative functions and sort do; else one axis."""
    node = sd._float(sd.as_node(x, f"{what} argument"))
    if axis is None:
        return sd.reshape(node, (node.size,)), 0
    if node.ndim == 0:
        raise sd.AxisError(sd._int(axis, f"{what}: axis"), 0, what)
    return node, sd._axis(axis, node, what)


def _count(node: Node, axes: tuple[int, ...]) -> int:
    return math.prod(node.shape[a] for a in axes)


def _keep(keepdims: Any, node: Node, what: str) -> bool:
    return sd._flag(keepdims, f"{what} of {short_text(node, 2)}: keepdims")


def isnan(x: Node) -> Node:
    return sd.not_equal(x, x)


# ---- cumulative, sorting, differences ---------------------------------------------------------


def cumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Node:
    """``np.cumsum``: running sums along ``axis`` (the flattened array when None)."""
    _refuse("cumsum", dtype=dtype, out=out)
    node, ax = _flat_or_axis(a, axis, "cumsum")
    return node if surely_at_most(node.shape[ax], 1) else sd.apply("cumsum", [node], (ax,))


def cumprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Node:
    """``np.cumprod``: running products, each a ``prod`` over a triangle of the axis.

    Composed so that the gradient is the product's, right where entries are 0 (a lone zero's
    gradient is the product of the others, two zeros give 0); the cost is n * n per axis of n.
    """
    _refuse("cumprod", dtype=dtype, out=out)
    node, ax = _flat_or_axis(a, axis, "cumprod")
    n = node.shape[ax]
    if n <= 1:
        return node
    moved = sd.transpose(node, (*[i for i in range(node.ndim) if i != ax], ax))
    lower = np.tril(np.ones((n, n), dtype=bool))  # row j takes the entries k <= j
    grid = sd.where(lower, sd.reshape(moved, (*moved.shape[:-1], 1, n)), 1.0)
    running = sd.prod(grid, axis=-1)
    return sd.transpose(running, (*range(ax), node.ndim - 1, *range(ax, node.ndim - 1)))


def sort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, *, stable: Any = None) -> Node:
    """``np.sort`` (NaNs last); the gradient goes back through the sorting permutation.

    Tied values: each sorted position's gradient goes to one of them, in input order.
    """
    _refuse("sort", order=order)
    if kind not in (None, "quicksort", "mergesort", "heapsort", "stable"):
        raise UnsupportedError(f"sort: kind must be 'quicksort', 'mergesort', 'heapsort' or 'stable', got {kind!r}")
    node, ax = _flat_or_axis(a, axis, "sort")
    return node if surely_at_most(node.shape[ax], 1) else sd.apply("sort", [node], (ax,))


def diff(a: Any, n: Any = 1, axis: Any = -1, prepend: Any = None, append: Any = None) -> Node:
    """``np.diff``: the n-th forward difference along ``axis``, after ``prepend`` / ``append``."""
    node = sd._float(sd.as_node(a, "diff argument"))
    count = sd._int(n, "diff: n")
    if count < 0:
        raise ShapeError(f"diff: order n must be non-negative, got {count}")
    if count == 0:
        return node
    if node.ndim == 0:
        raise ShapeError("diff needs an array of at least one dimension")
    ax = sd._axis(axis, node, "diff")
    parts: list[Node | None] = []
    for extra, word in ((prepend, "prepend"), (append, "append")):
        if extra is None:
            parts.append(None)
            continue
        piece = sd._float(sd.as_node(extra, f"diff {word}"))
        if piece.ndim == 0:
            piece = sd.broadcast_to(piece, (*node.shape[:ax], 1, *node.shape[ax + 1:]))
        parts.append(piece)
    joined = [p for p in (parts[0], node, parts[1]) if p is not None]
    node = sd.concatenate(joined, axis=ax) if len(joined) > 1 else node
    lead = [slice(None)] * ax
    for _ in range(count):
        if node.shape[ax] == 0:
            break
        node = sd.getitem(node, (*lead, slice(1, None))) - sd.getitem(node, (*lead, slice(None, -1)))
    return node


# ---- moments --------------------------------------------------------------------------------


def _degrees(ddof: Any, correction: Any, what: str) -> float:
    if correction is not None:
        if ddof != 0:
            raise UnsupportedError(f"{what}: ddof and correction are the same; give only one")
        ddof = correction
    if isinstance(ddof, (bool, np.bool_)) or not isinstance(ddof, (int, float, np.integer, np.floating)):
        raise UnsupportedError(f"{what}: ddof must be a number, got {sd._shown(ddof)}")
    return float(ddof)


def variance(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0, keepdims: Any = False,
             *, where: Any = None, mean: Any = None, correction: Any = None) -> Node:
    """``np.var``: the mean squared deviation, divided by ``n - ddof`` (``sd.var`` makes variables)."""
    _refuse("var", dtype=dtype, out=out, where=where, mean=mean)
    node = sd._float(sd.as_node(a, "var argument"))
    axes = sd._axes(axis, node, "var")
    keep = _keep(keepdims, node, "var")
    centred = node - sd.mean(node, axis=axes, keepdims=True)
    squares = sd.sum(centred * centred, axis=axes, keepdims=keep)
    return squares / builtins.max(_count(node, axes) - _degrees(ddof, correction, "var"), 0.0)


def std(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0, keepdims: Any = False,
        *, where: Any = None, mean: Any = None, correction: Any = None) -> Node:
    """``np.std``: the square root of ``var``."""
    _refuse("std", dtype=dtype, out=out, where=where, mean=mean)
    return _root(variance(a, axis, ddof=ddof, keepdims=keepdims, correction=correction))


def _root(v: Node) -> Node:
    """sqrt, with gradient 0 where the variance is 0 (a constant slice: one element, or all equal),
    as for abs at 0, where sqrt's own derivative is infinite (and 0 / 0 by the chain rule)."""
    return sd.where(sd.equal(v, 0.0), 0.0, sd.sqrt(v))


def average(a: Any, axis: Any = None, weights: Any = None, returned: Any = False, *, keepdims: Any = False) -> Any:
    """``np.average``: the weighted mean; ``returned=True`` also gives the sum of the weights."""
    node = sd._float(sd.as_node(a, "average argument"))
    axes = sd._axes(axis, node, "average")
    keep = _keep(keepdims, node, "average")
    back = sd._flag(returned, "average: returned")
    if weights is None:
        result = sd.mean(node, axis=axes, keepdims=keep)
        total: Node = sd.broadcast_to(float(_count(node, axes)), result.shape)
        return (result, total) if back else result
    w = sd._float(sd.as_node(weights, "average weights"))
    if w.op == "const" and w.value is not None:  # NumPy refuses weights that sum to 0 when it runs
        sums = np.sum(w.value, axis=axes if w.shape == node.shape else None)
        if np.any(sums == 0):
            raise ShapeError("average: weights sum to zero, can't be normalized")
    if w.shape != node.shape:
        items = sd._items(axis) if axis is not None else ()
        given = [sd._axis(i, node, "average") for i in (items if items is not None else [axis])]
        if axis is None or w.shape != tuple(node.shape[i] for i in given):
            raise ShapeError(f"average: weights of shape {w.shape} fit neither a of shape {node.shape} nor the "
                             f"axis {axis!r}")
        w = sd.transpose(w, tuple(int(i) for i in np.argsort(given)))  # weights along the axes as given
        w = sd.reshape(w, tuple(node.shape[i] if i in axes else 1 for i in range(node.ndim)))
    total = sd.sum(sd.broadcast_to(w, node.shape), axis=axes, keepdims=keep)
    result = sd.sum(node * w, axis=axes, keepdims=keep) / total
    return (result, sd.broadcast_to(total, result.shape)) if back else result


def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: Any = False) -> Node:
    """``np.ptp``: maximum minus minimum."""
    _refuse("ptp", out=out)
    return sd.max(a, axis=axis, keepdims=keepdims) - sd.min(a, axis=axis, keepdims=keepdims)


# ---- order statistics: sorted values, interpolated at fixed positions -------------------------

METHODS = ("linear", "lower", "higher", "nearest", "midpoint")


def _sorted_last(node: Node, axes: tuple[int, ...]) -> Node:
    """The reduced axes moved last, merged into one, and sorted."""
    kept = [i for i in range(node.ndim) if i not in axes]
    moved = sd.transpose(node, (*kept, *axes))
    merged = sd.reshape(moved, (*(node.shape[i] for i in kept), _count(node, axes)))
    return sort(merged, axis=-1)


def _at(ordered: Node, q: float, method: str) -> Node:
    """The order statistic at fraction ``q`` of the last axis, as NumPy's ``method`` places it."""
    n = ordered.shape[-1]
    spot = q * (n - 1)
    lo = builtins.min(math.floor(spot), n - 1)
    hi = builtins.min(lo + 1, n - 1)
    frac = spot - lo
    if method == "lower" or (method == "nearest" and np.around(spot) == lo):
        hi, frac = lo, 0.0
    elif method in ("higher", "nearest"):
        lo, frac = (hi, 0.0) if frac > 0 else (lo, 0.0)
    elif method == "midpoint" and frac > 0:
        frac = 0.5
    a = sd.getitem(ordered, (..., lo))
    if frac == 0 or lo == hi:
        return a
    b = sd.getitem(ordered, (..., hi))
    # NumPy's lerp: from the nearer end, so that q = 1 gives the maximum exactly
    return b - (b - a) * (1.0 - frac) if frac >= 0.5 else a + (b - a) * frac


def _quantile(a: Any, q: Any, axis: Any, out: Any, method: Any, keepdims: Any, weights: Any,
              what: str, scale: float) -> Node:
    _refuse(what, out=out, weights=weights)
    if not isinstance(method, str) or method not in METHODS:
        raise UnsupportedError(f"{what}: method must be one of {METHODS}, got {sd._shown(method)}")
    node = sd._float(sd.as_node(a, f"{what} argument"))
    given = sd.as_node(q, f"{what} q")
    if given.op != "const" or given.value is None:
        raise UnsupportedError(f"{what}: q must be a constant (the positions are fixed when the graph is built)")
    fractions = np.asarray(given.value, dtype=np.float64) / scale
    if not np.all((fractions >= 0) & (fractions <= 1)):
        bound = "[0, 100]" if scale == 100 else "[0, 1]"
        raise ShapeError(f"{what}: q must be in the range {bound}, got {sd._shown(q)}")
    axes = sd._axes(axis, node, what)
    keep = _keep(keepdims, node, what)
    if _count(node, axes) == 0:
        raise ShapeError(f"{what} of {short_text(node, 2)}: the reduced axes of shape {node.shape} are empty")
    ordered = _sorted_last(node, axes)
    # NumPy gives NaN for a slice holding one; sorting puts it last
    spoilt = isnan(sd.getitem(ordered, (..., -1)))
    values = [sd.where(spoilt, np.nan, _at(ordered, float(f), method)) for f in fractions.ravel()]
    reduced = tuple(1 if i in axes else d for i, d in enumerate(node.shape)) if keep else ordered.shape[:-1]
    if fractions.ndim == 0:
        return sd.reshape(values[0], reduced)
    if not values:
        return sd.zeros((*fractions.shape, *reduced))
    # joined along a last axis, then moved first (the array API prints a split on the last axis whole)
    joined = sd.concatenate([sd.reshape(v, (*v.shape, 1)) for v in values], axis=-1)
    stacked = sd.transpose(joined, (joined.ndim - 1, *range(joined.ndim - 1)))
    return sd.reshape(stacked, (*fractions.shape, *reduced))


def percentile(a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: Any = False,
               method: Any = "linear", keepdims: Any = False, *, weights: Any = None) -> Node:
    """``np.percentile`` (q in 0..100, a constant); the gradient flows to the selected sorted elements."""
    return _quantile(a, q, axis, out, method, keepdims, weights, "percentile", 100.0)


def quantile(a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: Any = False,
             method: Any = "linear", keepdims: Any = False, *, weights: Any = None) -> Node:
    """``np.quantile`` (q in 0..1, a constant)."""
    return _quantile(a, q, axis, out, method, keepdims, weights, "quantile", 1.0)


def median(a: Any, axis: Any = None, out: Any = None, overwrite_input: Any = False, keepdims: Any = False) -> Node:
    """``np.median``: the middle sorted value, or the mean of the two middle ones."""
    return _quantile(a, 0.5, axis, out, "linear", keepdims, None, "median", 1.0)


# ---- NaN-skipping reductions: a NaN contributes nothing, and gets gradient 0 ------------------


def _nan_setup(a: Any, axis: Any, keepdims: Any, what: str) -> tuple[Node, Node, tuple[int, ...], bool]:
    node = sd._float(sd.as_node(a, f"{what} argument"))
    return node, isnan(node), sd._axes(axis, node, what), _keep(keepdims, node, what)


def nansum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = False) -> Node:
    """``np.nansum``: NaNs count as 0."""
    _refuse("nansum", dtype=dtype, out=out)
    node, nan, axes, keep = _nan_setup(a, axis, keepdims, "nansum")
    return sd.sum(sd.where(nan, 0.0, node), axis=axes, keepdims=keep)


def nanprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = False) -> Node:
    """``np.nanprod``: NaNs count as 1."""
    _refuse("nanprod", dtype=dtype, out=out)
    node, nan, axes, keep = _nan_setup(a, axis, keepdims, "nanprod")
    return sd.prod(sd.where(nan, 1.0, node), axis=axes, keepdims=keep)


def _present(nan: Node, axes: tuple[int, ...], keep: bool) -> Node:
    return sd.sum(sd.tofloat(sd.logical_not(nan)), axis=axes, keepdims=keep)


def nanmean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = False) -> Node:
    """``np.nanmean``: the mean of the numbers; NaN where a slice has none."""
    _refuse("nanmean", dtype=dtype, out=out)
    node, nan, axes, keep = _nan_setup(a, axis, keepdims, "nanmean")
    count = _present(nan, axes, keep)
    total = sd.sum(sd.where(nan, 0.0, node), axis=axes, keepdims=keep)
    return sd.where(sd.equal(count, 0.0), np.nan, total / sd.maximum(count, 1.0))


def _nan_extreme(a: Any, axis: Any, out: Any, keepdims: Any, what: str) -> Node:
    _refuse(what, out=out)
    node, nan, axes, keep = _nan_setup(a, axis, keepdims, what)
    if builtins.any(node.shape[i] == 0 for i in axes):
        raise ShapeError(f"{what} of {short_text(node, 2)}: a zero-size axis of shape {node.shape} has no {what[3:]}")
    fill, reduce = (-np.inf, sd.max) if what == "nanmax" else (np.inf, sd.min)
    peak = reduce(sd.where(nan, fill, node), axis=axes, keepdims=keep)
    return sd.where(sd.equal(_present(nan, axes, keep), 0.0), np.nan, peak)


def nanmax(a: Any, axis: Any = None, out: Any = None, keepdims: Any = False) -> Node:
    """``np.nanmax``: the maximum of the numbers; NaN where a slice has none."""
    return _nan_extreme(a, axis, out, keepdims, "nanmax")


def nanmin(a: Any, axis: Any = None, out: Any = None, keepdims: Any = False) -> Node:
    """``np.nanmin``: the minimum of the numbers; NaN where a slice has none."""
    return _nan_extreme(a, axis, out, keepdims, "nanmin")


def nanvar(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0, keepdims: Any = False,
           *, where: Any = None, mean: Any = None, correction: Any = None) -> Node:
    """``np.nanvar``: the variance of the numbers; NaN where fewer than ``ddof + 1`` remain."""
    _refuse("nanvar", dtype=dtype, out=out, where=where, mean=mean)
    node, nan, axes, keep = _nan_setup(a, axis, keepdims, "nanvar")
    count = _present(nan, axes, True)
    centre = sd.sum(sd.where(nan, 0.0, node), axis=axes, keepdims=True) / sd.maximum(count, 1.0)
    centred = sd.where(nan, 0.0, node - centre)
    squares = sd.sum(centred * centred, axis=axes, keepdims=keep)
    freedom = _present(nan, axes, keep) - _degrees(ddof, correction, "nanvar")
    return sd.where(sd.less_equal(freedom, 0.0), np.nan, squares / sd.maximum(freedom, 1.0))


def nanstd(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0, keepdims: Any = False,
           *, where: Any = None, mean: Any = None, correction: Any = None) -> Node:
    """``np.nanstd``: the square root of ``nanvar``."""
    _refuse("nanstd", dtype=dtype, out=out, where=where, mean=mean)
    return _root(nanvar(a, axis, ddof=ddof, keepdims=keepdims, correction=correction))


# ---- boolean reductions -----------------------------------------------------------------------


def _truths(a: Any, axis: Any, out: Any, keepdims: Any, what: str) -> tuple[Node, float]:
    _refuse(what, out=out)
    node = sd.as_node(a, f"{what} argument")
    truth = node if node.dtype == BOOL else sd.not_equal(node, 0.0)  # NaN is true, as in NumPy
    axes = sd._axes(axis, truth, what)
    count = sd.sum(sd.tofloat(truth), axis=axes, keepdims=_keep(keepdims, node, what))
    return count, float(_count(truth, axes))


def all(a: Any, axis: Any = None, out: Any = None, keepdims: Any = False) -> Node:  # noqa: A001
    """``np.all``: a boolean node, true where every element is non-zero (an empty slice is true)."""
    count, n = _truths(a, axis, out, keepdims, "all")
    return sd.equal(count, n)


def any(a: Any, axis: Any = None, out: Any = None, keepdims: Any = False) -> Node:  # noqa: A001
    """``np.any``: a boolean node, true where some element is non-zero."""
    count, _ = _truths(a, axis, out, keepdims, "any")
    return sd.greater(count, 0.0)


interop.provide({
    "var": variance, "std": std, "average": average, "cumsum": cumsum, "cumprod": cumprod, "diff": diff,
    "ptp": ptp, "sort": sort, "median": median, "percentile": percentile, "quantile": quantile,
    "nansum": nansum, "nanmean": nanmean, "nanmax": nanmax, "nanmin": nanmin, "nanprod": nanprod,
    "nanvar": nanvar, "nanstd": nanstd, "all": all, "any": any,
})
