"""Builders: the only way user code (and every VJP) makes nodes.

Each builder turns constants into nodes, validates its arguments, applies the
exact construction-time rewrites of DESIGN §1, and asks ``graph.make`` for the
hash-consed node. Names follow NumPy, so ``sum``, ``max`` and ``abs`` shadow
builtins on purpose; this module uses ``builtins.`` where it needs the originals.
"""

from __future__ import annotations

import builtins
import math
import numbers
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from symdiff.errors import GraphError, ShapeError, UnsupportedError
from symdiff.graph import (
    BOOL,
    FLOAT,
    TUPLE,
    Node,
    Shape,
    graph_window,
    make,
    make_const,
    make_float,
    make_var,
    short_text,
)

try:
    from numpy.exceptions import AxisError as _NumPyAxisError
except ImportError:  # NumPy < 1.25
    from numpy import AxisError as _NumPyAxisError  # type: ignore[attr-defined,no-redef]

ArrayLike = Any


# ---- constants and variables ----------------------------------------------------------------


def var(name: str, shape: int | Sequence[int] = ()) -> Node:
    """A new variable. Every call makes a distinct variable, even with a repeated label."""
    if not isinstance(name, str) or not name:
        raise GraphError(f"a variable needs a non-empty string label, got {_shown(name)}")
    return make_var(name, _shape_arg(shape, f"var {name!r}"))


def as_node(value: ArrayLike, what: str = "argument") -> Node:
    """``value`` itself if it is a node, otherwise a float64 (or boolean) constant."""
    if isinstance(value, Node):
        if value.dtype == TUPLE:
            raise GraphError(f"{what}: the tuple returned by split must be unpacked before use")
        return value
    if type(value) is float:
        return make_float(value)
    if type(value) is int:  # NumPy makes an object array of an int past int64; float() rounds it, or refuses
        try:
            return make_float(float(value))
        except OverflowError:
            raise UnsupportedError(f"{what}: the int {_shown(value)} is too large for float64") from None
    if isinstance(value, (list, tuple)) and builtins.any(isinstance(v, Node) for v in value):
        raise UnsupportedError(f"{what}: a list holding nodes is not a constant; use sd.concatenate")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, OverflowError) as error:  # ragged lists, failing __array__
        raise UnsupportedError(f"{what}: {_shown(value)} is not an array of real numbers ({error})") from None
    if array.dtype == np.bool_:
        return make_const(array)
    if array.dtype.kind not in "iuf":
        raise UnsupportedError(f"{what}: constants must be real numbers, got {array.dtype} ({type(value).__name__})")
    return make_const(array.astype(np.float64))


class AxisError(ShapeError, _NumPyAxisError):
    """An axis out of range: a ShapeError that code catching NumPy's ``AxisError`` catches too."""

    def __init__(self, axis: int, ndim: int, what: str) -> None:
        _NumPyAxisError.__init__(self, axis, ndim, what)  # "{what}: axis 3 is out of bounds for array of dimension 2"


def _shown(value: Any) -> str:
    """A short repr for error messages: never a 400-digit int, never a repr that raises."""
    try:
        text = repr(value)
    except Exception:  # a huge int past Python's digit limit, or a broken __repr__
        text = f"a {type(value).__name__}"
    return text if len(text) <= 60 else f"{text[:50]}... ({type(value).__name__})"


def _int(value: Any, what: str) -> int:
    """An int, as ``operator.index`` takes it (NumPy integers too); bools and floats are refused, as in NumPy."""
    if not isinstance(value, (bool, np.bool_)):
        try:
            return operator.index(value)
        except TypeError:
            pass
    raise ShapeError(f"{what} must be an int, got {_shown(value)}")


def _items(value: Any) -> tuple[Any, ...] | None:
    """The items of a tuple, list, range or 1-d array; None for anything else."""
    if isinstance(value, (tuple, list, range)) or (isinstance(value, np.ndarray) and value.ndim == 1):
        return tuple(value)
    return None


def _dims(shape: int | Sequence[int], what: str) -> tuple[int, ...]:
    """An int or a sequence of ints as a tuple of ints (no sign check)."""
    items = _items(shape)
    try:
        return tuple(_int(d, "") for d in items) if items is not None else (_int(shape, ""),)
    except ShapeError:
        raise ShapeError(f"{what}: a shape must be an int or a sequence of ints, got {_shown(shape)}") from None


# NumPy's limit: an array's size in bytes, and each of its dimensions, must fit a signed 64-bit npy_intp
MAX_BYTES = 2**63 - 1
MAX_SIZE = MAX_BYTES // 8  # float64 elements


def _too_big(shape: Shape) -> bool:
    """A shape no float64 array can have: NumPy would refuse it at call time."""
    size = math.prod(shape)
    return size > MAX_SIZE or (size == 0 and builtins.any(d > MAX_BYTES for d in shape))


def _check_size(shape: Shape, what: str) -> None:
    if _too_big(shape):
        raise ShapeError(f"{what}: shape {_shown(shape)} is too big: a float64 array holds at most 2**63 - 1 bytes")


def _shape_arg(shape: int | Sequence[int], what: str) -> Shape:
    result = _dims(shape, what)
    if builtins.any(d < 0 for d in result):
        raise ShapeError(f"{what}: a shape must be a tuple of non-negative ints, got {_shown(shape)}")
    _check_size(result, what)
    return result


def _is_const(node: Node, value: float) -> bool:
    """Whether ``node`` is a constant whose every element is ``value``, the sign of a zero included."""
    if node.op != "const" or node.value is None:
        return False
    if node.value.ndim == 0:
        item = node.value.item()
        return bool(item == value and np.signbit(item) == np.signbit(value))
    return bool(np.all(node.value == value) and np.all(np.signbit(node.value) == np.signbit(value)))


# ---- applying an op -------------------------------------------------------------------------


def apply(name: str, inputs: Sequence[Node], attrs: tuple[Any, ...] = ()) -> Node:
    """Check shapes with the op's rule, fold exact constant arithmetic, and make the node."""
    op = OPS[name]
    try:
        shape = op.shape([i.shape for i in inputs], attrs)
    except ShapeError as error:
        operands = ", ".join(short_text(i, 2) for i in inputs)
        raise ShapeError(f"{name}({operands}): {error}") from None
    if op.dtype != TUPLE and _too_big(shape):  # broadcasting or concatenating past what NumPy can allocate
        _check_size(shape, f"{name}({', '.join(short_text(i, 2) for i in inputs)})")
    ops = [i.op for i in inputs]
    if inputs and ops.count("const") == len(ops):
        folded = _fold(op.fold, inputs) if op.fold is not None else _fold_layout(name, inputs[0], attrs)
        if folded is not None:
            return folded
    if "broadcast_to" in ops and op.kind == ELEMENTWISE:
        return _lazy_broadcast(name, inputs, shape)  # elementwise ops commute with broadcasting
    return make(name, inputs, attrs, shape, result_dtype(op, inputs))


def rebuild(node: Node, inputs: Sequence[Node]) -> Node:
    """``node`` itself when its inputs are unchanged, else the same op on the new inputs."""
    if builtins.all(a is b for a, b in zip(inputs, node.inputs, strict=True)):
        return node
    return apply(node.op, inputs, node.attrs)


def _lazy_broadcast(name: str, inputs: Sequence[Node], shape: Shape) -> Node:
    """Elementwise ops commute with broadcasting: compute on the small operands, broadcast once.

    ``broadcast_to(a, S) * b`` becomes ``a * b`` when that already has shape S, and
    ``broadcast_to(a * b, S)`` otherwise; the builder then applies its own rewrites.
    """
    inner = [i.inputs[0] if i.op == "broadcast_to" else i for i in inputs]
    rebuild = REBUILD.get(name)
    result = rebuild(*inner) if rebuild is not None else apply(name, inner)
    return broadcast_to(result, shape)


def _fold_layout(name: str, const: Node, attrs: tuple[Any, ...]) -> Node | None:
    """Reshaping, transposing or indexing a constant moves no arithmetic: do it now."""
    value = const.value
    if value is None or name not in ("reshape", "transpose", "getitem"):
        return None
    if name == "reshape":
        return make_const(value.reshape(attrs[0]))
    if name == "transpose":
        return make_const(value.transpose(attrs[0]))
    return make_const(value[to_index(attrs[0])])


def _fold(fn: Any, inputs: Sequence[Node]) -> Node:
    """IEEE arithmetic is identical on every machine, inf and NaN included: fold it.

    NumPy's warnings (``1/0``, overflow) are raised now, when the graph is built. Folding
    also keeps the generated code from doing Python-float arithmetic, where ``1.0 / 0.0``
    raises instead of giving inf.
    """
    return make_const(np.asarray(fn(*(np.asarray(i.value, dtype=np.float64) for i in inputs))))


def _float(node: Node) -> Node:
    """Booleans in arithmetic count as 0/1."""
    return tofloat(node) if node.dtype == BOOL else node


def _unary(name: str, x: ArrayLike) -> Node:
    return apply(name, [_float(as_node(x, f"{name} argument"))])


def _binary(name: str, a: ArrayLike, b: ArrayLike) -> tuple[Node, Node]:
    return as_node(a, f"{name} first argument"), as_node(b, f"{name} second argument")


def exp(x: ArrayLike) -> Node:
    return _unary("exp", x)


def log(x: ArrayLike) -> Node:
    return _unary("log", x)


def log1p(x: ArrayLike) -> Node:
    return _unary("log1p", x)


def expm1(x: ArrayLike) -> Node:
    return _unary("expm1", x)


def sqrt(x: ArrayLike) -> Node:
    return _unary("sqrt", x)


def sin(x: ArrayLike) -> Node:
    return _unary("sin", x)


def cos(x: ArrayLike) -> Node:
    return _unary("cos", x)


def tan(x: ArrayLike) -> Node:
    return _unary("tan", x)


def arcsin(x: ArrayLike) -> Node:
    return _unary("arcsin", x)


def arccos(x: ArrayLike) -> Node:
    return _unary("arccos", x)


def arctan(x: ArrayLike) -> Node:
    return _unary("arctan", x)


def arcsinh(x: ArrayLike) -> Node:
    return _unary("arcsinh", x)


def sinh(x: ArrayLike) -> Node:
    return _unary("sinh", x)


def cosh(x: ArrayLike) -> Node:
    return _unary("cosh", x)


def tanh(x: ArrayLike) -> Node:
    return _unary("tanh", x)


def abs(x: ArrayLike) -> Node:
    return _unary("abs", x)


absolute = abs  # NumPy's two names for one ufunc


def square(x: ArrayLike) -> Node:
    return _unary("square", x)


def relu(x: ArrayLike) -> Node:
    """``maximum(x, 0)`` with ``relu'(0) = 0``."""
    return _unary("relu", x)


def sign(x: ArrayLike) -> Node:
    return _unary("sign", x)


def negative(x: ArrayLike) -> Node:
    node = _float(as_node(x, "negative argument"))
    if node.op == "neg":
        return node.inputs[0]  # two sign flips: every bit comes back, a NaN's sign too
    return apply("neg", [node])


def tofloat(x: ArrayLike) -> Node:
    """A boolean as 0.0/1.0."""
    node = as_node(x, "tofloat argument")
    return node if node.dtype == FLOAT else apply("tofloat", [node])


def _keeps_shape(result_of: Node, other: Node) -> bool:
    """True when dropping ``other`` cannot change the broadcast result shape."""
    try:
        return broadcast_shapes(result_of.shape, other.shape) == result_of.shape
    except ShapeError:
        return False  # apply() reports the mismatch with the op's name


def add(a: ArrayLike, b: ArrayLike) -> Node:
    x, y = (_float(n) for n in _binary("add", a, b))
    # x + (-0.0) is x for every x; x + 0.0 is not (-0.0 + 0.0 is 0.0), and a + (-b) is not
    # a - b (the sign of a NaN b): symdiff.rewrite makes those at compile time
    if _is_const(y, -0.0) and _keeps_shape(x, y):
        return x
    if _is_const(x, -0.0) and _keeps_shape(y, x):
        return y
    return apply("add", [x, y])


def subtract(a: ArrayLike, b: ArrayLike) -> Node:
    x, y = (_float(n) for n in _binary("subtract", a, b))
    # x - 0.0 is x + (-0.0), so x; not 0.0 - x -> -x (0.0 - 0.0 is 0.0, and NaN keeps its sign)
    if _is_const(y, 0.0) and _keeps_shape(x, y):
        return x
    return apply("sub", [x, y])


def multiply(a: ArrayLike, b: ArrayLike) -> Node:
    x, y = _binary("multiply", a, b)
    if x.dtype == BOOL and y.dtype == BOOL:
        x = tofloat(x)
    # NumPy multiplies float by bool as 0/1 already: no cast needed on one side.
    for one, other in ((y, x), (x, y)):
        # x * 1 is x; x * -1 is not -x, which flips a NaN's sign where the product keeps it
        if other.dtype == FLOAT and _is_const(one, 1.0) and _keeps_shape(other, one):
            return other
    return apply("mul", [x, y])


def divide(a: ArrayLike, b: ArrayLike) -> Node:
    x, y = (_float(n) for n in _binary("divide", a, b))
    if _is_const(y, 1.0) and _keeps_shape(x, y):
        return x
    return apply("div", [x, y])


def power(a: ArrayLike, b: ArrayLike) -> Node:
    x, y = (_float(n) for n in _binary("power", a, b))
    if _is_const(y, 1.0) and _keeps_shape(x, y):
        return x
    if x.op == "const" and y.op == "const" and y.value is not None and np.all(y.value == np.round(y.value)):
        return _fold(np.power, [x, y])
    return apply("power", [x, y])


def maximum(a: ArrayLike, b: ArrayLike) -> Node:
    """Elementwise maximum; at ties the gradient is split ½/½."""
    return apply("maximum", [_float(n) for n in _binary("maximum", a, b)])


def minimum(a: ArrayLike, b: ArrayLike) -> Node:
    """Elementwise minimum; at ties the gradient is split ½/½."""
    return apply("minimum", [_float(n) for n in _binary("minimum", a, b)])


def matmul(a: ArrayLike, b: ArrayLike) -> Node:
    return apply("matmul", [_float(n) for n in _binary("matmul", a, b)])


def _compare(name: str, a: ArrayLike, b: ArrayLike) -> Node:
    return apply(name, [_float(n) for n in _binary(name, a, b)])


def greater(a: ArrayLike, b: ArrayLike) -> Node:
    return _compare("greater", a, b)


def greater_equal(a: ArrayLike, b: ArrayLike) -> Node:
    return _compare("greater_equal", a, b)


def less(a: ArrayLike, b: ArrayLike) -> Node:
    return _compare("less", a, b)


def less_equal(a: ArrayLike, b: ArrayLike) -> Node:
    return _compare("less_equal", a, b)


def equal(a: ArrayLike, b: ArrayLike) -> Node:
    """Elementwise ``==`` (``node == other`` stays identity, as nodes are dict keys)."""
    return _compare("equal", a, b)


def not_equal(a: ArrayLike, b: ArrayLike) -> Node:
    return _compare("not_equal", a, b)


def _condition(x: ArrayLike, what: str) -> Node:
    node = as_node(x, what)
    return node if node.dtype == BOOL else not_equal(node, 0.0)


def logical_and(a: ArrayLike, b: ArrayLike) -> Node:
    return apply("logical_and", [_condition(a, "logical_and"), _condition(b, "logical_and")])


def logical_or(a: ArrayLike, b: ArrayLike) -> Node:
    return apply("logical_or", [_condition(a, "logical_or"), _condition(b, "logical_or")])


def logical_not(a: ArrayLike) -> Node:
    return apply("logical_not", [_condition(a, "logical_not")])


def where(condition: ArrayLike, a: ArrayLike, b: ArrayLike) -> Node:
    """``a`` where ``condition`` holds, else ``b``. The untaken branch leaks no NaN into gradients."""
    cond = _condition(condition, "where condition")
    x, y = (_float(n) for n in _binary("where", a, b))
    return apply("where", [cond, x, y])


# ---- reductions and shape ops ---------------------------------------------------------------


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
    if node.op in REDUCTIONS and not node.attrs[1]:
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


def identity_seed(k: int, shape: Sequence[int]) -> Node:
    """The ``k`` x ``k`` identity as ``k`` seeds of ``shape``, made when the function runs."""
    target = _shape_arg((k, *shape), "identity seed")
    if math.prod(target[1:]) != k:
        raise ShapeError(f"an identity seed of {k} rows cannot have shape {target}")
    return apply("eye", [], (k, target))


# ---- indexing --------------------------------------------------------------------------------


def _index_attrs(shape: Shape, index: Any) -> tuple[Any, ...]:
    items = list(index) if isinstance(index, tuple) else [index]
    for item in items:
        plain = isinstance(item, (numbers.Integral, slice)) and not isinstance(item, (bool, np.bool_))
        if item is not Ellipsis and not plain:
            raise UnsupportedError(f"index {_shown(item)}: only ints, slices and ... are supported (no arrays or None)")
    ellipses = [i for i, item in enumerate(items) if item is Ellipsis]
    if len(ellipses) > 1:
        raise UnsupportedError("an index may hold only one Ellipsis")
    if ellipses:
        at = ellipses[0]
        items[at : at + 1] = [slice(None)] * (len(shape) - (len(items) - 1))
    if len(items) > len(shape):
        raise ShapeError(f"too many indices ({len(items)}) for shape {shape}")
    attrs: list[Any] = []
    for dim, item in zip(shape, items):  # noqa: B905 (fewer items than dims: the rest are whole)
        if isinstance(item, slice):
            try:
                start, stop, step = item.indices(dim)
            except ValueError:  # a zero step, which NumPy refuses with a ValueError too
                raise ShapeError(f"index {_shown(item)} for shape {shape}: slice step cannot be zero") from None
            except TypeError:
                raise UnsupportedError(f"index {_shown(item)}: slice bounds must be ints or None") from None
            forward = step > 0
            attrs.append((
                None if start == (0 if forward else dim - 1) else start,
                None if stop == (dim if forward else -1) else stop,
                None if step == 1 else step,
            ))
        else:
            if not -dim <= int(item) < dim:
                raise ShapeError(f"index {_shown(int(item))} is out of range for axis of length {dim} in shape {shape}")
            attrs.append(int(item) % dim)
    while attrs and attrs[-1] == (None, None, None):
        attrs.pop()
    return tuple(attrs)


def getitem(x: ArrayLike, index: Any) -> Node:
    node = as_node(x, "indexed value")
    return take(node, _index_attrs(node.shape, index))


def take(node: Node, index: tuple[Any, ...]) -> Node:
    """Basic indexing with canonical index attrs (ints and (start, stop, step) triples)."""
    if not index:
        return node
    return apply("getitem", [node], (index,))


def scatter(g: Node, shape: Shape, index: tuple[Any, ...]) -> Node:
    """Zeros of ``shape`` with ``g`` written at ``index``: the adjoint of indexing."""
    return apply("scatter", [g], (shape, (index,)))


def scatter_sum(parts: Sequence[Node]) -> Node:
    """One buffer for many scatters into the same shape: ``x[0] + x[1] + ...`` costs O(n), not O(n^2)."""
    inputs = [g for p in parts for g in p.inputs]
    indices = tuple(index for p in parts for index in p.attrs[1])
    return apply("scatter", inputs, (parts[0].attrs[0], indices))


def iterate(x: Node) -> Iterator[Node]:
    for i in builtins.range(length(x)):
        yield take(x, (i,))


def length(x: Node) -> int:
    if x.dtype == TUPLE:
        raise GraphError(f"the tuple returned by split must be unpacked before use: {short_text(x)}")
    if x.ndim == 0:
        raise GraphError(f"len() of a scalar node: {short_text(x)}")
    return int(x.shape[0])


REDUCTIONS = ("sum", "mean", "max", "min", "prod", "logsumexp")  # attrs (axes, keepdims)

REBUILD: dict[str, Any] = {"add": add, "sub": subtract, "mul": multiply, "div": divide, "power": power}


def describe(node: Node) -> str:
    """A bounded SSA window of the graph around ``node`` (for error messages and debugging)."""
    return graph_window(as_node(node, "describe argument"))


from symdiff.interop import (  # noqa: E402, F401  (graph.py's Node dispatches through these names)
    array_conversion_error,
    numpy_function,
    numpy_ufunc,
    truth_value_error,
)
from symdiff.ops import ELEMENTWISE, OPS, broadcast_shapes, result_dtype, to_index  # noqa: E402  (ops' VJPs call back into these builders)
