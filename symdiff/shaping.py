"""Builders of reductions and shape ops: sum ... max, reshape, transpose, broadcast_to, concatenate, split."""

from __future__ import annotations

import builtins
import itertools
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from symdiff.api import (  # defined before api imports this module
    ArrayLike,
    AxisError,
    _dims,
    _float,
    _int,
    _items,
    _shape_arg,
    _shown,
    apply,
    as_node,
)
from symdiff.dims import Dim
from symdiff.errors import ShapeError, UnsupportedError
from symdiff.graph import (
    FLOAT,
    Node,
    Shape,
    make,
    short_text,
)


def _axis(axis: Any, node: Node, what: str, ndim: int | None = None) -> int:
    """One axis of ``ndim`` (``node.ndim`` by default), negative ones counted from the end, as NumPy does."""
    ndim = node.ndim if ndim is None else ndim
    a = axis if type(axis) is int else _int(axis, f"{what} of {short_text(node, 2)}: axis")  # the text only if needed
    if not -ndim <= a < ndim:
        raise AxisError(a, ndim, f"{what} of {short_text(node, 2)}")
    return a % ndim


def _axes(axis: Any, node: Node, what: str) -> tuple[int, ...]:
    """None (every axis), one axis, or a tuple of distinct axes, sorted."""
    if axis is None:
        return tuple(range(node.ndim))
    items = _items(axis)
    normal = [_axis(a, node, what) for a in (items if items is not None else (axis,))]
    if len(set(normal)) != len(normal):
        raise ShapeError(f"{what} of {short_text(node, 2)}: repeated axis in {_shown(axis)}")
    return tuple(sorted(normal))


def _flag(value: Any, what: str) -> bool:
    """True or False (NumPy's bools, 0 and 1 too): ``bool()`` of an array or a node would raise or mislead."""
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, numbers.Integral) and value in (0, 1)):
        return bool(value)
    raise UnsupportedError(f"{what} must be True or False, got {_shown(value)}")


def _reduce(name: str, x: ArrayLike, axis: Any, keepdims: bool) -> Node:
    node = _float(as_node(x, f"{name} argument"))
    axes = _axes(axis, node, name)
    keep = keepdims if type(keepdims) is bool else _flag(keepdims, f"{name} of {short_text(node, 2)}: keepdims")
    if not axes and not keep:
        return node  # reducing over no axes is the identity, as in NumPy
    if name in ("max", "min") and builtins.any(node.shape[a] == 0 for a in axes):
        # as in NumPy: an empty maximum has no identity (an empty sum is 0, a product 1, a mean NaN)
        raise ShapeError(f"{name} of {short_text(node, 2)}: a zero-size axis of shape {node.shape} has no {name}")
    return apply(name, [node], (axes, keep))


def sum(x: ArrayLike, axis: Any = None, keepdims: bool = False) -> Node:
    return _reduce("sum", x, axis, keepdims)


def mean(x: ArrayLike, axis: Any = None, keepdims: bool = False) -> Node:
    return _reduce("mean", x, axis, keepdims)


def max(x: ArrayLike, axis: Any = None, keepdims: bool = False) -> Node:
    """Maximum over axes; tied elements share the gradient equally."""
    return _reduce("max", x, axis, keepdims)


def min(x: ArrayLike, axis: Any = None, keepdims: bool = False) -> Node:
    """Minimum over axes; tied elements share the gradient equally."""
    return _reduce("min", x, axis, keepdims)


def prod(x: ArrayLike, axis: Any = None, keepdims: bool = False) -> Node:
    """Product over axes; its gradient is the product of the other entries, also where one is 0."""
    return _reduce("prod", x, axis, keepdims)


def reshape(x: ArrayLike, shape: int | Sequence[int], order: str = "C") -> Node:
    """NumPy's reshape, in C order or in F order (``order="A"`` depends on a memory layout nodes do not have)."""
    node = as_node(x, "reshape argument")
    if isinstance(order, str) and order == "F":  # F order is C order on the axes reversed
        return transpose(reshape(transpose(node), tuple(reversed(_dims(shape, "reshape")))))
    if not isinstance(order, str) or order != "C":
        raise UnsupportedError(f"reshape of {short_text(node, 2)}: order must be 'C' or 'F', got {_shown(order)}")
    dims = list(_dims(shape, "reshape"))
    if dims.count(-1) > 1:
        raise ShapeError(f"reshape {node.shape} -> {tuple(dims)}: only one -1 is allowed")
    if -1 in dims:
        known = math.prod(d for d in dims if d != -1)
        if known <= 0 or node.size % known:
            raise ShapeError(f"reshape: cannot reshape {node.shape} (size {node.size}) into {_shown(tuple(dims))}")
        dims[dims.index(-1)] = node.size // known
    target = _shape_arg(tuple(dims), "reshape")
    if math.prod(target) != node.size:
        raise ShapeError(f"reshape: cannot reshape {node.shape} (size {node.size}) into {target}")
    if target == node.shape:
        return node
    if node.op == "eye":  # the same numbers in another layout
        return apply("eye", [], (node.attrs[0], target))
    if node.op == "broadcast_to" and node.inputs[0].shape == ():
        return broadcast_to(node.inputs[0], target)  # a broadcast scalar has any layout
    if _is_reduction(node) and not node.attrs[1]:
        axes = node.attrs[0]
        source = node.inputs[0].shape
        if target == tuple(1 if i in axes else d for i, d in enumerate(source)):
            return apply(node.op, node.inputs, (axes, True))  # the same reduction, keeping its axes
    if node.op == "reshape":
        node = node.inputs[0]
        if target == node.shape:
            return node
    return apply("reshape", [node], (target,))


def transpose(x: ArrayLike, axes: Sequence[int] | None = None) -> Node:
    node = as_node(x, "transpose argument")
    if axes is None:
        order = tuple(reversed(range(node.ndim)))
    else:
        items = _items(axes)
        order = tuple(_axis(a, node, "transpose") for a in (items if items is not None else (axes,)))
    if sorted(order) != list(range(node.ndim)):
        raise ShapeError(f"transpose of {short_text(node, 2)}: axes {_shown(axes)} are not a permutation of "
                         f"{node.ndim} dimensions")
    if order == tuple(range(node.ndim)) or (node.op == "eye" and node.shape == (node.attrs[0],) * 2):
        return node  # the square identity is its own transpose
    return apply("transpose", [node], (order,))


def broadcast_to(x: ArrayLike, shape: int | Sequence[int]) -> Node:
    node = as_node(x, "broadcast_to argument")
    target = _shape_arg(shape, "broadcast_to")
    from symdiff.ops import broadcast_shapes  # ops builds on this module: bound when first called

    try:
        fits = broadcast_shapes(node.shape, target) == target
    except ShapeError:
        fits = False
    if not fits:
        raise ShapeError(f"broadcast_to: cannot broadcast {node.shape} to {target}")
    if target == node.shape:
        return node
    if node.op == "broadcast_to":
        node = node.inputs[0]
    return apply("broadcast_to", [node], (target,))


def ravel(x: ArrayLike, order: str = "C") -> Node:
    """``np.ravel``: the elements as one axis, in C or F order."""
    node = as_node(x, "ravel argument")
    return reshape(node, (node.size,), order=order)


def squeeze(x: ArrayLike, axis: Any = None) -> Node:
    """``np.squeeze``: the given unit axes dropped (every unit axis when ``axis`` is None)."""
    node = as_node(x, "squeeze argument")
    if axis is None:
        axes = tuple(i for i, d in enumerate(node.shape) if d == 1)
    else:
        axes = _axes(axis, node, "squeeze")
    for a in axes:
        if node.shape[a] != 1:
            raise ShapeError(f"squeeze of {short_text(node, 2)}: axis {a} has length {node.shape[a]}, not 1")
    return reshape(node, tuple(d for i, d in enumerate(node.shape) if i not in axes))


def expand_dims(x: ArrayLike, axis: Any) -> Node:
    """``np.expand_dims``: a unit axis at each position of ``axis``, counted in the result."""
    node = as_node(x, "expand_dims argument")
    items = _items(axis)
    wanted = list(items) if items is not None else [axis]
    ndim = node.ndim + len(wanted)
    at = [_axis(a, node, "expand_dims", ndim=ndim) for a in wanted]
    if len(set(at)) != len(at):
        raise ShapeError(f"expand_dims of {short_text(node, 2)}: repeated axis in {_shown(axis)}")
    dims = iter(node.shape)
    return reshape(node, tuple(1 if i in at else next(dims) for i in range(ndim)))


def sum_to(x: ArrayLike, shape: Shape) -> Node:
    """Undo broadcasting: sum ``x`` down to ``shape``. The one place adjoints are reduced."""
    x = as_node(x, "sum_to argument")
    if type(shape) is not tuple or not builtins.all(type(d) is int for d in shape):
        shape = _shape_arg(shape, "sum_to")
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    if lead < 0 or builtins.any(d not in (1, x.shape[lead + i]) for i, d in enumerate(shape)):
        raise ShapeError(f"sum_to of {short_text(x, 2)}: {x.shape} is not a broadcast of {_shown(shape)}")
    stretched = [lead + i for i, d in enumerate(shape) if d == 1 and x.shape[lead + i] != 1]
    return reshape(sum(x, axis=(*range(lead), *stretched)), shape)


def array_list(arrays: Any, what: str) -> list[Any]:
    """The arrays ``concatenate`` and ``stack`` join: a list or tuple, or an array's rows, as in NumPy."""
    if isinstance(arrays, (Node, np.ndarray)) and arrays.ndim == 0:
        raise ShapeError(f"{what} needs a sequence of arrays, got a scalar {type(arrays).__name__}")
    if isinstance(arrays, (str, bytes, Mapping, set, frozenset)) or not isinstance(arrays, Iterable):
        raise UnsupportedError(f"{what} needs a sequence of arrays, got {_shown(arrays)}")
    return list(arrays)


def concatenate(arrays: Sequence[ArrayLike], axis: int | None = 0) -> Node:
    """``numpy.concatenate``; ``axis=None`` flattens the arrays first, as NumPy does."""
    nodes = [_float(as_node(a, f"concatenate argument {i}")) for i, a in enumerate(array_list(arrays, "concatenate"))]
    if not nodes:
        raise ShapeError("concatenate needs at least one array")
    if axis is None:
        nodes = [reshape(n, (n.size,)) for n in nodes]
        axis = 0
    ndim = nodes[0].ndim
    if ndim == 0 or builtins.any(n.ndim != ndim for n in nodes):
        shapes = [n.shape for n in nodes]
        raise ShapeError(f"concatenate: arrays need the same number (>= 1) of dimensions, got {shapes}")
    ax = _axis(axis, nodes[0], "concatenate")
    for n in nodes:
        if n.shape[:ax] + n.shape[ax + 1 :] != nodes[0].shape[:ax] + nodes[0].shape[ax + 1 :]:
            raise ShapeError(f"concatenate along axis {ax}: shapes {[m.shape for m in nodes]} differ off that axis")
    if len(nodes) == 1:
        return nodes[0]
    return apply("concatenate", nodes, (ax,))


def split(x: ArrayLike, indices_or_sections: int | Sequence[int], axis: int = 0) -> tuple[Node, ...]:
    """Split along ``axis`` as ``numpy.split`` does; returns a tuple of nodes (one multi-output op)."""
    node = _float(as_node(x, "split argument"))
    if node.ndim == 0:
        raise ShapeError("split needs an array of at least one dimension")
    ax = _axis(axis, node, "split")
    length = node.shape[ax]
    what = f"split of {short_text(node, 2)}"
    items = _items(indices_or_sections)
    if items is None:
        if not isinstance(indices_or_sections, numbers.Integral) or isinstance(indices_or_sections, (bool, np.bool_)):
            raise ShapeError(f"{what}: indices_or_sections must be an int or a sequence of ints, "
                             f"got {_shown(indices_or_sections)}")
        sections = _int(indices_or_sections, what)
        if sections <= 0 or length % sections:
            raise ShapeError(f"{what}: {sections} sections do not divide axis {ax} of length {length} equally")
        cuts = tuple(length // sections * i for i in range(1, sections))
    else:
        indices = [_int(c, f"{what}: an index") for c in items]
        if isinstance(length, Dim):  # no clipping: the call checks that every piece has a size >= 0
            cuts = tuple(c + length if c < 0 else c for c in indices)
            bounds = [0, *cuts, length]
            if builtins.any(isinstance(hi - lo, int) and hi - lo < 0 for lo, hi in itertools.pairwise(bounds)):
                raise ShapeError(f"split: indices {tuple(indices)} must be ascending")
            return outputs(apply("split", [node], (cuts, ax)))
        # NumPy's rule: negative indices count from the end, then clip to the axis
        cuts = tuple(builtins.min(builtins.max(c + length if c < 0 else c, 0), length) for c in indices)
        if list(cuts) != sorted(cuts):
            raise ShapeError(f"split: indices {tuple(indices)} must be ascending")
    return outputs(apply("split", [node], (cuts, ax)))


def outputs(whole: Node) -> tuple[Node, ...]:
    """The separate outputs of a multi-output node."""
    return tuple(make("item", [whole], (i,), shape, FLOAT) for i, shape in enumerate(whole.shape))


def zeros(shape: int | Sequence[int]) -> Node:
    """A fresh array of zeros (used for inputs a gradient does not reach)."""
    return apply("zeros", [], (_shape_arg(shape, "zeros"),))


def identity_seed(k: int | Dim, shape: Sequence[Any]) -> Node:
    """The ``k`` x ``k`` identity as ``k`` seeds of ``shape``, made when the function runs."""
    target = _shape_arg((k, *shape), "identity seed")
    if math.prod(target[1:]) != k:
        raise ShapeError(f"an identity seed of {k} rows cannot have shape {target}")
    return apply("eye", [], (k, target))


def _is_reduction(node: Node) -> bool:
    from symdiff.ops import OPS, REDUCTION  # ops builds on this module: bound when first called

    op = OPS.get(node.op)
    return op is not None and op.kind == REDUCTION
