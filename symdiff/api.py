"""Builders: the only way user code (and every VJP) makes nodes.

Each builder turns constants into nodes, validates its arguments, applies the
exact construction-time rewrites of DESIGN §1, and asks ``graph.make`` for the
hash-consed node. Names follow NumPy, so ``sum``, ``max`` and ``abs`` shadow
builtins on purpose; this module uses ``builtins.`` where it needs the originals.
"""

from __future__ import annotations

import builtins
import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from symdiff.dims import Dim, DimensionError, named
from symdiff.errors import GraphError, ShapeError, UnsupportedError
from symdiff.graph import (
    BOOL,
    FLOAT,
    INT,
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
from symdiff.printers import to_index

try:
    from numpy.exceptions import AxisError as _NumPyAxisError
except ImportError:  # NumPy < 1.25
    from numpy import AxisError as _NumPyAxisError  # type: ignore[attr-defined,no-redef]

ArrayLike = Any


# ---- constants and variables ----------------------------------------------------------------


def var(name: str, shape: int | str | Sequence[int | str | Dim] = (), dtype: Any = None) -> Node:
    """A new variable. Every call makes a distinct variable, even with a repeated label.

    ``dtype=np.int64`` makes integer data (labels, indices): it indexes, compares and becomes
    float64 in arithmetic (also with another integer, where NumPy keeps int64), and takes no gradient."""
    if not isinstance(name, str) or not name:
        raise GraphError(f"a variable needs a non-empty string label, got {_shown(name)}")
    return make_var(name, _shape_arg(shape, f"var {name!r}"), _var_dtype(dtype, name))


def _var_dtype(dtype: Any, name: str) -> str:
    if dtype is None:
        return FLOAT
    try:
        kind = np.dtype(dtype)
    except TypeError:
        raise UnsupportedError(f"var {name!r}: dtype {_shown(dtype)} is not a NumPy dtype") from None
    if kind == np.float64:
        return FLOAT
    if kind == np.int64:
        return INT
    raise UnsupportedError(f"var {name!r}: dtype {kind} is not supported; variables are float64 or int64 "
                           "(single precision is a compile option: sd.compile(..., dtype=np.float32))")


def as_node(value: ArrayLike, what: str = "argument") -> Node:
    """``value`` itself if it is a node, otherwise a float64 (or boolean) constant."""
    if isinstance(value, Node):
        if value.dtype == TUPLE:
            raise GraphError(f"{what}: the tuple returned by split must be unpacked before use")
        return value
    if type(value) is float:
        return make_float(value)
    if isinstance(value, Dim):  # a named size, known when the function runs
        return make("dimsize", (), (value,), (), FLOAT)
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


def _dims(shape: Any, what: str) -> tuple[Any, ...]:
    """An int, a name, or a sequence of ints, names and dimensions as a shape tuple (no sign check)."""
    items = _items(shape)
    try:
        return tuple(_dim(d, what) for d in items) if items is not None else (_dim(shape, what),)
    except ShapeError as error:
        if isinstance(error, DimensionError) or "dimension name" in str(error):
            raise
        raise ShapeError(f"{what}: a shape must be an int or a sequence of ints and dimension names, "
                         f"got {_shown(shape)}") from None


MAX_DIM_NAME = 32


def _dim(value: Any, what: str) -> Any:
    """One entry of a shape: an int, a named dimension, or a name (a string) made into one."""
    if isinstance(value, Dim):
        return value
    if isinstance(value, str):
        from symdiff.source_text import RESERVED, plain  # source_text reads the runtime helpers

        # the name is bound in generated code as it is: a plain identifier that no generated name can be
        if not plain(value) or value in RESERVED or len(value) > MAX_DIM_NAME:
            raise ShapeError(
                f"{what}: dimension name {value!r} must be an ASCII identifier of at most {MAX_DIM_NAME} characters, "
                "starting with a letter, that generated code does not use itself (np, math, t0, C0, bar_..., "
                "builtins, keywords)")
        return named(value)
    return _int(value, "")


# NumPy's limit: an array's size in bytes, and each of its dimensions, must fit a signed 64-bit npy_intp
MAX_BYTES = 2**63 - 1
MAX_SIZE = MAX_BYTES // 8  # float64 elements


def _too_big(shape: Shape) -> bool:
    """A shape no float64 array can have: NumPy would refuse it at call time."""
    known = [d for d in shape if not isinstance(d, Dim)]  # named sizes are checked when they are known
    size = math.prod(known)
    return size > MAX_SIZE or (size == 0 and builtins.any(d > MAX_BYTES for d in known))


def _check_size(shape: Shape, what: str) -> None:
    if _too_big(shape):
        raise ShapeError(f"{what}: shape {_shown(shape)} is too big: a float64 array holds at most 2**63 - 1 bytes")


def _shape_arg(shape: Any, what: str) -> Shape:
    result = _dims(shape, what)
    if builtins.any(not isinstance(d, Dim) and d < 0 for d in result):
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
    promoted = not op.layout and op.dtype != BOOL and not op.reads_integers
    if promoted and builtins.any(i.dtype == INT for i in inputs):
        return apply(name, [tofloat(i) if i.dtype == INT else i for i in inputs], attrs)  # as NumPy promotes
    ops = [i.op for i in inputs]
    if inputs and ops.count("const") == len(ops):
        folded = _fold(op.fold, inputs) if op.fold is not None else _fold_layout(name, inputs[0], attrs)
        if folded is not None:
            return folded
    if "broadcast_to" in ops and op.kind == ELEMENTWISE:
        return _lazy_broadcast(name, inputs, shape, attrs)  # elementwise ops commute with broadcasting
    return make(name, inputs, attrs, shape, result_dtype(op, inputs))


def rebuild(node: Node, inputs: Sequence[Node]) -> Node:
    """``node`` itself when its inputs are unchanged, else the same op on the new inputs."""
    if builtins.all(a is b for a, b in zip(inputs, node.inputs, strict=True)):
        return node
    return apply(node.op, inputs, node.attrs)


def _lazy_broadcast(name: str, inputs: Sequence[Node], shape: Shape, attrs: tuple[Any, ...] = ()) -> Node:
    """Elementwise ops commute with broadcasting: compute on the small operands, broadcast once.

    ``broadcast_to(a, S) * b`` becomes ``a * b`` when that already has shape S, and
    ``broadcast_to(a * b, S)`` otherwise; the builder then applies its own rewrites.
    """
    inner = [i.inputs[0] if i.op == "broadcast_to" else i for i in inputs]
    rebuild = REBUILD.get(name)
    result = rebuild(*inner) if rebuild is not None and not attrs else apply(name, inner, attrs)
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
    if isinstance(x, Node) and x.dtype == INT:
        from symdiff.integers import integer_negative  # it builds on this module

        return integer_negative(x)
    node = _float(as_node(x, "negative argument"))
    if node.op == "neg":
        return node.inputs[0]  # two sign flips: every bit comes back, a NaN's sign too
    return apply("neg", [node])


def tofloat(x: ArrayLike) -> Node:
    """A boolean as 0.0/1.0."""
    node = as_node(x, "tofloat argument")
    return node if node.dtype == FLOAT else apply("tofloat", [node])


def describe(node: Node) -> str:
    """A bounded SSA window of the graph around ``node`` (for error messages and debugging)."""
    return graph_window(as_node(node, "describe argument"))


# isort: off
# the reductions, shape ops and indexing builders live in modules of their own, reached as
# sd.<name>; they import the helpers above, so they come first, and interop and ops after them
from symdiff.arithmetic import (  # noqa: E402, F401
    REBUILD,
    _compare,
    _condition,
    _keeps_shape,
    add,
    divide,
    equal,
    greater,
    greater_equal,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    matmul,
    maximum,
    minimum,
    multiply,
    not_equal,
    power,
    subtract,
    where,
)
from symdiff.shaping import (  # noqa: E402, F401
    _axes,
    _axis,
    _flag,
    _reduce,
    array_list,
    broadcast_to,
    concatenate,
    expand_dims,
    identity_seed,
    max,
    mean,
    min,
    outputs,
    prod,
    ravel,
    reshape,
    split,
    squeeze,
    sum,
    sum_to,
    transpose,
    zeros,
)
from symdiff.indexing import getitem, iterate, length, scatter, scatter_sum, take  # noqa: E402, F401
from symdiff.interop import (  # noqa: E402, F401  (graph.py's Node dispatches through these names)
    array_conversion_error,
    number_conversion_error,
    numpy_function,
    numpy_ufunc,
    truth_value_error,
)
from symdiff.ops import (  # noqa: E402  (ops' VJPs call back into these builders)
    ELEMENTWISE,
    OPS,
    result_dtype,
)
# isort: on
