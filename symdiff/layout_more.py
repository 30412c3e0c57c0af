"""More of NumPy's layout functions: pad, tril/triu, broadcast_arrays, zeros_like / ones_like / full_like,
meshgrid, and ``array`` (nested lists of nodes and numbers stacked into one node).

Like ``symdiff.layout``, everything is composed from slicing, concatenate, reshape and
broadcast_to; ``symdiff.layout`` lists these names in its ``__all__``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff.errors import ShapeError, UnsupportedError
from symdiff.graph import BOOL, FLOAT, Node, Shape, short_text

PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")
MASK_LIMIT = 2**16  # entries: a smaller tril/triu mask is a constant of the generated code
PAD_KEYWORDS = {"constant": ("constant_values",), "reflect": ("reflect_type",), "symmetric": ("reflect_type",)}


# ---- pad ---------------------------------------------------------------------------------------


def pad(array: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Node:
    """``np.pad`` with the modes constant (``constant_values``), edge, reflect, symmetric and wrap.

    Axes are padded one after the other, as NumPy does, so corners take the later axes' values.
    """
    node = sd.as_node(array, "pad argument")
    if not isinstance(mode, str) or mode not in PAD_MODES:
        raise UnsupportedError(f"pad: mode must be one of {', '.join(map(repr, PAD_MODES))}, got {sd._shown(mode)}")
    unknown = sorted(k for k in kwargs if k not in PAD_KEYWORDS.get(mode, ()))
    if unknown:
        raise UnsupportedError(f"pad: the keyword {unknown[0]!r} is not supported with mode {mode!r}")
    if kwargs.get("reflect_type", "even") != "even":
        raise UnsupportedError(f"pad: reflect_type must be 'even', got {sd._shown(kwargs['reflect_type'])}")
    widths = _pairs(pad_width, node.ndim, "pad_width", integral=True)
    if widths.size and widths.min() < 0:
        raise ShapeError(f"pad: pad_width may not be negative, got {sd._shown(pad_width)}")
    values = _pairs(kwargs.get("constant_values", 0.0), node.ndim, "constant_values", integral=False)
    for axis in range(node.ndim):
        before, after = (int(w) for w in widths[axis])
        if before or after:
            node = _pad_axis(node, axis, before, after, mode, (float(values[axis, 0]), float(values[axis, 1])))
    return node


def _pairs(value: Any, ndim: int, what: str, integral: bool) -> np.ndarray:
    """A (before, after) pair per axis, broadcast from an int, a pair, or one pair per axis, as NumPy does."""
    if isinstance(value, Node):
        raise UnsupportedError(f"pad: {what} must be numbers known when the graph is built, not a node")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        array = np.asarray(None)
    if array.dtype.kind not in ("iu" if integral else "iuf"):
        kind = "ints" if integral else "real numbers"
        raise ShapeError(f"pad: {what} must be {kind}, got {sd._shown(value)}")
    try:
        return np.broadcast_to(array, (ndim, 2))
    except ValueError:
        raise ShapeError(f"pad: {what} {sd._shown(value)} does not give a (before, after) pair for each of "
                         f"{ndim} axes") from None


def _pad_axis(node: Node, axis: int, before: int, after: int, mode: str, values: tuple[float, float]) -> Node:
    shape, length = node.shape, node.shape[axis]

    def block(width: int) -> Shape:
        return (*shape[:axis], width, *shape[axis + 1:])

    def along(item: slice) -> Node:
        return sd.getitem(node, (slice(None),) * axis + (item,))

    if mode == "constant":
        parts = [sd.broadcast_to(values[0], block(before))] if before else []
        parts += [node] + ([sd.broadcast_to(values[1], block(after))] if after else [])
        return sd.concatenate(parts, axis=axis)
    if length == 0:
        raise ShapeError(f"pad of {short_text(node, 2)}: axis {axis} has length 0; only mode 'constant' extends it")
    if mode == "edge" or (mode == "reflect" and length == 1):  # NumPy reflects a unit axis as its edge
        parts = [sd.broadcast_to(along(slice(0, 1)), block(before))] if before else []
        parts += [node] + ([sd.broadcast_to(along(slice(length - 1, length)), block(after))] if after else [])
        return sd.concatenate(parts, axis=axis)
    sources = [_source(i, length, mode) for i in range(-before, 0)]
    sources += list(range(length)) + [_source(i, length, mode) for i in range(length, length + after)]
    return sd.concatenate([along(item) for item in _runs(sources)], axis=axis)


def _source(i: int, length: int, mode: str) -> int:
    """The element at padded position ``i`` (0 is the first original one): the padding is periodic."""
    if mode == "wrap":
        return i % length
    period = 2 * length if mode == "symmetric" else 2 * (length - 1)
    j = i % period
    return j if j < length else period - j - (mode == "symmetric")


def _runs(sources: list[int]) -> list[slice]:
    """Consecutive positions read as few slices as possible: runs that step by +1 or -1."""
    runs: list[list[int]] = []  # [first, last, step]; step 0 until a run has two elements
    for s in sources:
        if runs:
            first, last, step = runs[-1]
            if (step == 0 and abs(s - last) == 1) or (step != 0 and s - last == step):
                runs[-1] = [first, s, s - last]
                continue
        runs.append([s, s, 0])
    return [slice(first, last + 1) if step >= 0 else slice(first, last - 1 if last else None, -1)
            for first, last, step in runs]


# ---- triangles ---------------------------------------------------------------------------------


def _band(node: Node, k: Any, lower: bool, what: str) -> Node:
    if node.ndim == 0:
        raise ShapeError(f"{what} needs an array of at least 1 dimension, got a scalar")
    offset = sd._int(k, f"{what} of {short_text(node, 2)}: k")
    rows, cols = node.shape[-2:] if node.ndim >= 2 else node.shape * 2  # a vector: NumPy broadcasts it over rows
    # keep column j of row i where j - i <= k (tril) or j - i >= k (triu)
    if rows * cols <= MASK_LIMIT:
        diff = np.arange(cols) - np.arange(rows)[:, None]
        mask: Any = diff <= offset if lower else diff >= offset
    else:  # compared from two ranges when the function runs: O(rows + cols) to build
        row = sd.as_node(np.arange(float(rows)).reshape(rows, 1) + float(offset))
        col = sd.as_node(np.arange(float(cols)))
        mask = sd.less_equal(col, row) if lower else sd.greater_equal(col, row)
    if node.dtype == BOOL:
        return sd.logical_and(mask, node)
    return sd.where(mask, node, 0.0)


def tril(m: Any, k: int = 0) -> Node:
    """The lower triangle (on and below diagonal ``k``) of the last two axes; the rest is 0."""
    return _band(sd.as_node(m, "tril argument"), k, True, "tril")


def triu(m: Any, k: int = 0) -> Node:
    """The upper triangle (on and above diagonal ``k``) of the last two axes; the rest is 0."""
    return _band(sd.as_node(m, "triu argument"), k, False, "triu")


# ---- broadcasting and constants ----------------------------------------------------------------


def broadcast_arrays(*args: Any, subok: bool = False) -> tuple[Node, ...]:
    """Every argument broadcast to their common shape."""
    from symdiff.ops import broadcast_shapes  # ops builds on the builders: bound when first called

    nodes = [sd.as_node(a, f"broadcast_arrays argument {i}") for i, a in enumerate(args)]
    if not nodes:
        return ()
    try:
        shape = broadcast_shapes(*(n.shape for n in nodes))
    except ShapeError as error:
        raise ShapeError(f"broadcast_arrays: {error}") from None
    return tuple(sd.broadcast_to(n, shape) for n in nodes)


def _like(a: Any, fill: Any, dtype: Any, order: str, shape: Any, device: Any, what: str) -> Node:
    """A constant of ``a``'s shape (or ``shape``) and dtype (or ``dtype``): it does not depend on ``a``."""
    node = sd.as_node(a, f"{what} argument")
    if order not in ("K", "A", "C", "F"):
        raise UnsupportedError(f"{what}: order must be 'K', 'A', 'C' or 'F', got {sd._shown(order)}")
    if device not in (None, "cpu"):
        raise UnsupportedError(f"{what}: device must be None or 'cpu', got {sd._shown(device)}")
    target = node.shape if shape is None else sd._shape_arg(shape, f"{what}: shape")
    kind = node.dtype if dtype is None else _dtype(dtype, what)
    if isinstance(fill, Node):
        if kind == BOOL:
            raise UnsupportedError(f"{what}: a node fill_value cannot fill a boolean array")
        try:
            return sd.broadcast_to(sd.tofloat(fill), target)
        except ShapeError:
            raise ShapeError(f"{what}: fill_value of shape {fill.shape} does not broadcast to {target}") from None
    try:
        value = np.asarray(fill, dtype=bool if kind == BOOL else np.float64)
    except (TypeError, ValueError, OverflowError):
        raise UnsupportedError(f"{what}: fill_value must be real numbers, got {sd._shown(fill)}") from None
    try:
        return sd.broadcast_to(sd.as_node(value), target)
    except ShapeError:
        raise ShapeError(f"{what}: fill_value of shape {value.shape} does not broadcast to {target}") from None


def _dtype(dtype: Any, what: str) -> str:
    try:
        wanted = np.dtype(dtype)
    except TypeError:
        wanted = None
    if wanted == np.float64:
        return FLOAT
    if wanted == np.bool_:
        return BOOL
    raise UnsupportedError(f"{what}: dtype must be float64 or bool (nodes hold no other kinds), got {sd._shown(dtype)}")


def zeros_like(a: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None, *,
               device: Any = None) -> Node:
    return _like(a, 0.0, dtype, order, shape, device, "zeros_like")


def ones_like(a: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None, *,
              device: Any = None) -> Node:
    return _like(a, 1.0, dtype, order, shape, device, "ones_like")


def full_like(a: Any, fill_value: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None,
              *, device: Any = None) -> Node:
    """``fill_value`` (numbers, an array, or a node) broadcast to ``a``'s shape."""
    return _like(a, fill_value, dtype, order, shape, device, "full_like")


def meshgrid(*xi: Any, copy: bool = True, sparse: bool = False, indexing: str = "xy") -> tuple[Node, ...]:
    """Coordinate arrays from 1-d coordinates (each argument is flattened); ``xy`` swaps the first two axes."""
    if indexing not in ("xy", "ij"):
        raise UnsupportedError(f"meshgrid: indexing must be 'xy' or 'ij', got {sd._shown(indexing)}")
    sd._flag(copy, "meshgrid: copy")
    spread = not sd._flag(sparse, "meshgrid: sparse")
    nodes = [sd.ravel(sd.as_node(x, f"meshgrid argument {i}")) for i, x in enumerate(xi)]
    grids = []
    for i, node in enumerate(nodes):
        shape = [1] * len(nodes)
        at = (1 - i if i < 2 else i) if indexing == "xy" and len(nodes) > 1 else i
        shape[at] = node.size
        grids.append(sd.reshape(node, tuple(shape)))
    return broadcast_arrays(*grids) if spread else tuple(grids)


# ---- array ---------------------------------------------------------------------------------------


def array(object: Any, dtype: Any = None, *, copy: Any = True, order: str = "K", subok: bool = False,  # noqa: A002
          ndmin: int = 0, like: Any = None) -> Node:
    """Nested lists (or tuples) of nodes and numbers stacked into one node, as ``np.array`` stacks arrays.

    ``np.array([node, ...])`` cannot build a graph (it converts its argument); this can.
    """
    if like is not None:
        raise UnsupportedError("array: like= is not supported")
    if order not in ("K", "A", "C", "F"):
        raise UnsupportedError(f"array: order must be 'K', 'A', 'C' or 'F', got {sd._shown(order)}")
    if dtype is not None and _dtype(dtype, "array") != FLOAT:
        raise UnsupportedError(f"array: dtype must be None or float64, got {sd._shown(dtype)}")
    least = sd._int(ndmin, "array: ndmin")
    if not _holds_node(object):
        node = sd.as_node(object if dtype is None else np.asarray(object, dtype=np.float64), "array argument")
    else:
        shape, leaves = _structure(object)
        node = sd.reshape(_joined(leaves, dtype is not None), shape)
    if node.ndim < least:
        node = sd.reshape(node, (1,) * (least - node.ndim) + node.shape)
    return node


def _holds_node(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, Node):
            return True
        if isinstance(item, (list, tuple)):
            pending.extend(item)
    return False


def _structure(value: Any) -> tuple[Shape, list[Node]]:
    """The shape of a nested sequence and its leaves (nodes and constants) in C order.

    Recursion follows the nesting of the user's lists, a few levels deep, never a graph.
    """
    if not isinstance(value, (list, tuple)):
        leaf = sd.as_node(value, "array element")
        return leaf.shape, [leaf]
    parts = [_structure(item) for item in value]
    if not parts:
        return (0,), []
    shapes = [shape for shape, _ in parts]
    if any(s != shapes[0] for s in shapes):
        raise ShapeError(f"array: the nested sequence is inhomogeneous: its items have shapes {shapes}")
    return (len(parts), *shapes[0]), [leaf for _, leaves in parts for leaf in leaves]


def _joined(leaves: list[Node], as_float: bool) -> Node:
    """The leaves flattened and joined in order; neighbouring constants become one constant."""
    pieces: list[Node] = []
    constants: list[np.ndarray] = []
    for leaf in [*leaves, None]:
        if leaf is not None and leaf.op == "const" and leaf.value is not None:
            constants.append(leaf.value.reshape(-1))
            continue
        if constants:
            pieces.append(sd.as_node(np.concatenate(constants)))
            constants = []
        if leaf is not None:
            pieces.append(sd.ravel(sd.tofloat(leaf) if as_float else leaf))
    if len(pieces) == 1:
        return pieces[0]
    return sd.concatenate(pieces, axis=0)


def append(arr: Any, values: Any, axis: int | None = None) -> Node:
    """``np.append``: both flattened and joined when ``axis`` is None, else joined along ``axis``."""
    a, b = sd.as_node(arr, "append arr"), sd.as_node(values, "append values")
    if axis is None:
        return sd.concatenate([sd.ravel(a), sd.ravel(b)])
    return sd.concatenate([a, b], axis=axis)
