"""Builders: the only way user code (and every VJP) makes nodes.

Each builder turns constants into nodes, validates its arguments, applies the
exact construction-time rewrites of DESIGN §1, and asks ``graph.make`` for the
hash-consed node. Names follow NumPy, so ``sum``, ``max`` and ``abs`` shadow
builtins on purpose; this module uses ``builtins.`` where it needs the originals.
"""

from __future__ import annotations

import builtins
import numbers
from collections.abc import Iterator, Sequence
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

ArrayLike = Any


# ---- constants and variables ----------------------------------------------------------------


def var(name: str, shape: int | Sequence[int] = ()) -> Node:
    """A new variable. Every call makes a distinct variable, even with a repeated label."""
    if not isinstance(name, str) or not name:
        raise GraphError(f"a variable needs a non-empty string label, got {name!r}")
    return make_var(name, _shape_arg(shape, f"var {name!r}"))


def as_node(value: ArrayLike, what: str = "argument") -> Node:
    """``value`` itself if it is a node, otherwise a float64 (or boolean) constant."""
    if isinstance(value, Node):
        if value.dtype == TUPLE:
            raise GraphError(f"{what}: the tuple returned by split must be unpacked before use")
        return value
    if type(value) is float:
        return make_float(value)
    if isinstance(value, (list, tuple)) and builtins.any(isinstance(v, Node) for v in value):
        raise UnsupportedError(f"{what}: a list holding nodes is not a constant; use sd.concatenate")
    array = np.asarray(value)
    if array.dtype == np.bool_:
        return make_const(array)
    if array.dtype.kind not in "iuf":
        raise UnsupportedError(f"{what}: constants must be real numbers, got {array.dtype} ({type(value).__name__})")
    return make_const(array.astype(np.float64))


def _dims(shape: int | Sequence[int], what: str) -> tuple[int, ...]:
    """An int or a sequence of ints as a tuple of ints (no sign check)."""
    dims = (shape,) if isinstance(shape, numbers.Integral) else shape
    try:
        result = tuple(int(d) for d in dims)  # type: ignore[union-attr]
    except TypeError:
        raise ShapeError(f"{what}: a shape must be a tuple of ints, got {shape!r}") from None
    if builtins.any(not isinstance(d, numbers.Integral) for d in dims):  # type: ignore[union-attr]
        raise ShapeError(f"{what}: a shape must be a tuple of non-negative ints, got {shape!r}")
    return result


def _shape_arg(shape: int | Sequence[int], what: str) -> Shape:
    result = _dims(shape, what)
    if builtins.any(d < 0 for d in result):
        raise ShapeError(f"{what}: a shape must be a tuple of non-negative ints, got {shape!r}")
    return result


def _is_const(node: Node, value: float) -> bool:
    """Whether ``node`` is a constant whose every element equals ``value``."""
    if node.op != "const" or node.value is None:
        return False
    if node.value.ndim == 0:
        return bool(node.value.item() == value)
    return bool(np.all(node.value == value))


# ---- applying an op -------------------------------------------------------------------------


FOLDABLE = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "neg": np.negative}


def apply(name: str, inputs: Sequence[Node], attrs: tuple[Any, ...] = ()) -> Node:
    """Check shapes with the op's rule, fold exact constant arithmetic, and make the node."""
    op = OPS[name]
    try:
        shape = op.shape([i.shape for i in inputs], attrs)
    except ShapeError as error:
        operands = ", ".join(short_text(i, 2) for i in inputs)
        raise ShapeError(f"{name}({operands}): {error}") from None
    ops = [i.op for i in inputs]
    if inputs and ops.count("const") == len(ops):
        folded = _fold(FOLDABLE[name], inputs) if name in FOLDABLE else _fold_layout(name, inputs[0], attrs)
        if folded is not None:
            return folded
    if "broadcast_to" in ops and (op.shape is broadcast or (op.shape is same_shape and op.module is None)):
        return _lazy_broadcast(name, inputs, shape)  # elementwise ops commute with broadcasting
    return make(name, inputs, attrs, shape, op.dtype)


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


def sinh(x: ArrayLike) -> Node:
    return _unary("sinh", x)


def cosh(x: ArrayLike) -> Node:
    return _unary("cosh", x)


def tanh(x: ArrayLike) -> Node:
    return _unary("tanh", x)


def abs(x: ArrayLike) -> Node:
    return _unary("abs", x)


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
        return node.inputs[0]
    if node.op == "mul" and node.inputs[0].op == "const":
        return multiply(negative(node.inputs[0]), node.inputs[1])  # -(c*x) is (-c)*x exactly: one op fewer
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
    if _is_const(y, 0.0) and _keeps_shape(x, y):
        return x
    if _is_const(x, 0.0) and _keeps_shape(y, x):
        return y
    if y.op == "neg":
        return subtract(x, y.inputs[0])
    if x.op == "neg":
        return subtract(y, x.inputs[0])
    return apply("add", [x, y])


def subtract(a: ArrayLike, b: ArrayLike) -> Node:
    x, y = (_float(n) for n in _binary("subtract", a, b))
    if _is_const(y, 0.0) and _keeps_shape(x, y):
        return x
    if _is_const(x, 0.0) and _keeps_shape(y, x):
        return negative(y)
    if y.op == "neg":
        return add(x, y.inputs[0])
    return apply("sub", [x, y])


def multiply(a: ArrayLike, b: ArrayLike) -> Node:
    x, y = _binary("multiply", a, b)
    if x.dtype == BOOL and y.dtype == BOOL:
        x = tofloat(x)
    # NumPy multiplies float by bool as 0/1 already: no cast needed on one side.
    for one, other in ((y, x), (x, y)):
        if one.op == "const" and other.dtype == FLOAT and _keeps_shape(other, one):
            if _is_const(one, 1.0):
                return other
            if _is_const(one, -1.0):
                return negative(other)
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


def _axes(axis: Any, ndim: int, what: str) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    items = (axis,) if isinstance(axis, numbers.Integral) else axis
    try:
        raw = [int(a) for a in items]
    except TypeError:
        raise ShapeError(f"{what}: axis must be an int or a tuple of ints, got {axis!r}") from None
    normal = []
    for a in raw:
        if not -ndim <= a < ndim:
            raise ShapeError(f"{what}: axis {a} is out of range for {ndim} dimensions")
        normal.append(a % ndim)
    if len(set(normal)) != len(normal):
        raise ShapeError(f"{what}: repeated axis in {axis!r}")
    return tuple(sorted(normal))


def _reduce(name: str, x: ArrayLike, axis: Any, keepdims: bool) -> Node:
    node = _float(as_node(x, f"{name} argument"))
    axes = _axes(axis, node.ndim, name)
    if not axes and not keepdims:
        return node  # reducing over no axes is the identity, as in NumPy
    if name in ("max", "min") and builtins.any(node.shape[a] == 0 for a in axes):
        raise ShapeError(f"{name} over an empty axis of shape {node.shape}")
    return apply(name, [node], (axes, bool(keepdims)))


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


def reshape(x: ArrayLike, shape: int | Sequence[int]) -> Node:
    node = as_node(x, "reshape argument")
    dims = list(_dims(shape, "reshape"))
    if dims.count(-1) > 1:
        raise ShapeError(f"reshape {node.shape} -> {tuple(dims)}: only one -1 is allowed")
    if -1 in dims:
        known = int(np.prod([d for d in dims if d != -1], dtype=np.int64))
        if known == 0 or node.size % known:
            raise ShapeError(f"reshape: cannot reshape {node.shape} (size {node.size}) into {tuple(dims)}")
        dims[dims.index(-1)] = node.size // known
    target = _shape_arg(tuple(dims), "reshape")
    if int(np.prod(target, dtype=np.int64)) != node.size:
        raise ShapeError(f"reshape: cannot reshape {node.shape} (size {node.size}) into {target}")
    if target == node.shape:
        return node
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
        order = tuple(int(a) % builtins.max(node.ndim, 1) for a in axes)
    if sorted(order) != list(range(node.ndim)):
        raise ShapeError(f"transpose: axes {tuple(axes or ())} are not a permutation of {node.ndim} dimensions")
    if order == tuple(range(node.ndim)):
        return node
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


def sum_to(x: Node, shape: Shape) -> Node:
    """Undo broadcasting: sum ``x`` down to ``shape``. The one place adjoints are reduced."""
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    stretched = [lead + i for i, d in enumerate(shape) if d == 1 and x.shape[lead + i] != 1]
    if lead < 0 or builtins.any(d not in (1, x.shape[lead + i]) for i, d in enumerate(shape)):
        raise ShapeError(f"sum_to: {x.shape} is not a broadcast of {shape}")
    return reshape(sum(x, axis=(*range(lead), *stretched)), shape)


def concatenate(arrays: Sequence[ArrayLike], axis: int = 0) -> Node:
    nodes = [_float(as_node(a, f"concatenate argument {i}")) for i, a in enumerate(arrays)]
    if not nodes:
        raise ShapeError("concatenate needs at least one array")
    ndim = nodes[0].ndim
    if ndim == 0 or builtins.any(n.ndim != ndim for n in nodes):
        shapes = [n.shape for n in nodes]
        raise ShapeError(f"concatenate: arrays need the same number (>= 1) of dimensions, got {shapes}")
    (ax,) = _axes(axis, ndim, "concatenate")
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
    (ax,) = _axes(axis, node.ndim, "split")
    length = node.shape[ax]
    if isinstance(indices_or_sections, numbers.Integral):
        sections = int(indices_or_sections)
        if sections <= 0 or length % sections:
            raise ShapeError(f"split: {sections} sections do not divide axis {ax} of length {length} equally")
        cuts = tuple(length // sections * i for i in range(1, sections))
    else:
        indices = [int(c) for c in indices_or_sections]  # type: ignore[union-attr]
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


# ---- indexing --------------------------------------------------------------------------------


def _index_attrs(shape: Shape, index: Any) -> tuple[Any, ...]:
    items = list(index) if isinstance(index, tuple) else [index]
    for item in items:
        plain = isinstance(item, (numbers.Integral, slice)) and not isinstance(item, (bool, np.bool_))
        if item is not Ellipsis and not plain:
            raise UnsupportedError(f"index {item!r}: only ints, slices and ... are supported (no arrays or None)")
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
            start, stop, step = item.indices(dim)
            forward = step > 0
            attrs.append((
                None if start == (0 if forward else dim - 1) else start,
                None if stop == (dim if forward else -1) else stop,
                None if step == 1 else step,
            ))
        else:
            if not -dim <= int(item) < dim:
                raise ShapeError(f"index {int(item)} is out of range for axis of length {dim} in shape {shape}")
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
    if x.ndim == 0:
        raise GraphError(f"len() of a scalar node: {short_text(x)}")
    return int(x.shape[0])


REDUCTIONS = ("sum", "mean", "max", "min", "prod", "logsumexp")  # attrs (axes, keepdims)

REBUILD: dict[str, Any] = {"add": add, "sub": subtract, "mul": multiply, "div": divide, "power": power}


def describe(node: Node) -> str:
    """A bounded SSA window of the graph around ``node`` (for error messages and debugging)."""
    return graph_window(node)


from symdiff.interop import (  # noqa: E402, F401  (graph.py's Node dispatches through these names)
    array_conversion_error,
    numpy_function,
    numpy_ufunc,
    truth_value_error,
)
from symdiff.ops import OPS, broadcast, broadcast_shapes, same_shape, to_index  # noqa: E402  (ops' VJPs call back into these builders)
