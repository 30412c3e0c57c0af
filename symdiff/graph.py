"""Immutable, hash-consed graph nodes and the iterative walks over them.

Nodes compare by identity. Structurally equal nodes are the same object because
``make`` looks them up in a weak-valued cache keyed by ``(op, attrs, ids of the
inputs)``; the inputs are kept alive by the node, so their ids stay unique.
"""

from __future__ import annotations

import functools
import itertools
import math
import numbers
import struct
import weakref
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from symdiff.errors import GraphError, UnsupportedAttributeError

Shape = tuple[int, ...]

FLOAT = "float64"
BOOL = "bool"
INT = "int64"  # integer data (indices, labels): no gradient flows into it
TUPLE = "tuple"  # the multi-output node of ``split``; its shape is a tuple of shapes

# key -> weak reference to the node. A plain dict of weakrefs, each removing its own entry
# when its node dies: WeakValueDictionary does the same in Python code, at 4x the cost per node.
_cache: dict[tuple[Any, ...], weakref.ref[Node]] = {}
_var_ids = itertools.count()


class Notes:
    """What a transformation recorded about a node it built (jacobian: forward or reverse mode).

    Generated headers quote the notes of the nodes they compute. Keyed by identity: a
    ``WeakKeyDictionary`` would compare nodes with ``==``, which builds an ``equal`` node.
    """

    def __init__(self) -> None:
        self._notes: dict[int, tuple[weakref.ref[Node], str]] = {}

    def __setitem__(self, node: Node, note: str) -> None:
        key = id(node)
        self._notes[key] = (weakref.ref(node, lambda ref: self._drop(key, ref)), note)

    def _drop(self, key: int, ref: weakref.ref[Node]) -> None:
        entry = self._notes.get(key)
        if entry is not None and entry[0] is ref:
            del self._notes[key]

    def get(self, node: Node) -> str | None:
        entry = self._notes.get(id(node))
        return entry[1] if entry is not None and entry[0]() is node else None


notes = Notes()


class Node:
    """One value in the expression graph. Build nodes with the functions in ``symdiff``."""

    __slots__ = ("__weakref__", "attrs", "dtype", "inputs", "op", "shape", "value")

    op: str
    inputs: tuple[Node, ...]
    attrs: tuple[Any, ...]
    shape: Any
    dtype: str
    value: np.ndarray | None

    # NumPy must hand mixed expressions such as ``array * node`` to the node.
    __array_priority__ = 1000.0

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        if self.dtype == TUPLE:  # split's outputs, together
            return sum(math.prod(part) for part in self.shape)
        return math.prod(self.shape)  # exact: np.prod in int64 wraps past 2**63

    @property
    def label(self) -> str:
        """The user's label of a variable; the op name otherwise."""
        return str(self.attrs[0]) if self.op == "var" else self.op

    def __repr__(self) -> str:
        return f"<symdiff.Node {short_text(self)} shape={self.shape}>"

    # Operators delegate to the builders in api.py, which own validation and rewrites.
    def __add__(self, other: Any) -> Node:
        return _api.add(self, other)

    def __radd__(self, other: Any) -> Node:
        return _api.add(other, self)

    def __sub__(self, other: Any) -> Node:
        return _api.subtract(self, other)

    def __rsub__(self, other: Any) -> Node:
        return _api.subtract(other, self)

    def __mul__(self, other: Any) -> Node:
        return _api.multiply(self, other)

    def __rmul__(self, other: Any) -> Node:
        return _api.multiply(other, self)

    def __truediv__(self, other: Any) -> Node:
        return _api.divide(self, other)

    def __rtruediv__(self, other: Any) -> Node:
        return _api.divide(other, self)

    # % and // are symdiff.elementwise's builders, imported when first used (it imports this module)
    def __mod__(self, other: Any) -> Node:
        from symdiff.elementwise import remainder

        return remainder(self, other)

    def __rmod__(self, other: Any) -> Node:
        from symdiff.elementwise import remainder

        return remainder(other, self)

    def __floordiv__(self, other: Any) -> Node:
        from symdiff.elementwise import floor_divide

        return floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Node:
        from symdiff.elementwise import floor_divide

        return floor_divide(other, self)

    def __divmod__(self, other: Any) -> tuple[Node, Node]:
        from symdiff.elementwise import floor_divide, remainder

        return floor_divide(self, other), remainder(self, other)

    def __rdivmod__(self, other: Any) -> tuple[Node, Node]:
        from symdiff.elementwise import floor_divide, remainder

        return floor_divide(other, self), remainder(other, self)

    def __round__(self, ndigits: Any = None) -> Node:
        from symdiff.elementwise import round as rounded

        return rounded(self, 0 if ndigits is None else ndigits)

    def __pow__(self, other: Any) -> Node:
        return _api.power(self, other)

    def __rpow__(self, other: Any) -> Node:
        return _api.power(other, self)

    def __matmul__(self, other: Any) -> Node:
        return _api.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Node:
        return _api.matmul(other, self)

    def __neg__(self) -> Node:
        return _api.negative(self)

    def __pos__(self) -> Node:
        return self

    def __abs__(self) -> Node:
        return _api.abs(self)

    # Comparisons are elementwise, as in NumPy, JAX and PyTorch; the hash stays identity, so nodes
    # are dict keys and set members. Inside symdiff nodes are compared with ``is``, never ``==``.
    __hash__ = object.__hash__

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        return _api.equal(self, other) if _comparable(other) else NotImplemented

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        return _api.not_equal(self, other) if _comparable(other) else NotImplemented

    def __lt__(self, other: Any) -> Node:
        return _api.less(self, other)

    def __le__(self, other: Any) -> Node:
        return _api.less_equal(self, other)

    def __gt__(self, other: Any) -> Node:
        return _api.greater(self, other)

    def __ge__(self, other: Any) -> Node:
        return _api.greater_equal(self, other)

    def __and__(self, other: Any) -> Node:
        return _api.logical_and(self, other)

    def __rand__(self, other: Any) -> Node:
        return _api.logical_and(other, self)

    def __or__(self, other: Any) -> Node:
        return _api.logical_or(self, other)

    def __ror__(self, other: Any) -> Node:
        return _api.logical_or(other, self)

    def __invert__(self) -> Node:
        return _api.logical_not(self)

    def __getitem__(self, index: Any) -> Node:
        return _api.getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        raise GraphError("nodes are immutable: write y = x.at[index].set(value) (or .add, .multiply, .min, "
                         ".max) for the array with those entries replaced")

    @property
    def at(self) -> Any:
        """Functional updates, as in JAX: ``x.at[i].set(v)``, ``.add(v)``, ``.multiply``, ``.min``, ``.max``."""
        from symdiff.updates import At

        return At(self)

    def __iter__(self) -> Iterator[Node]:
        return _api.iterate(self)

    def __len__(self) -> int:
        return _api.length(self)

    def __bool__(self) -> bool:
        raise _api.truth_value_error(self)

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise _api.array_conversion_error(self)

    def __getattr__(self, name: str) -> Any:
        # only reached for names a node lacks: an ndarray method gets a clear refusal, not a bare AttributeError
        if not name.startswith("_") and hasattr(np.ndarray, name):
            raise UnsupportedAttributeError(f"ndarray.{name} is not supported on symdiff nodes ({short_text(self)})")
        raise AttributeError(f"'Node' object has no attribute {name!r}")

    def __float__(self) -> float:
        raise _api.number_conversion_error(self, "float")

    def __int__(self) -> int:
        raise _api.number_conversion_error(self, "int")

    def __complex__(self) -> complex:
        raise _api.number_conversion_error(self, "complex")

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return _api.numpy_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return _api.numpy_function(func, args, kwargs)

    @property
    def T(self) -> Node:
        return _api.transpose(self)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Node:
        return _api.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Node:
        return _api.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Node:
        return _api.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Node:
        return _api.min(self, axis=axis, keepdims=keepdims)

    def prod(self, axis: Any = None, keepdims: bool = False) -> Node:
        return _api.prod(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis: Any = None, keepdims: bool = False) -> Node:
        return _public().argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis: Any = None, keepdims: bool = False) -> Node:
        return _public().argmin(self, axis=axis, keepdims=keepdims)

    def dot(self, other: Any) -> Node:
        return _public().dot(self, other)

    def clip(self, min: Any = None, max: Any = None) -> Node:  # noqa: A002  (ndarray.clip's names)
        return _public().clip(self, min, max)

    def astype(self, dtype: Any) -> Node:
        return _public().astype(self, dtype)

    # ndarray's methods that are a NumPy function of the array, with NumPy's arguments
    def std(self, *args: Any, **kwargs: Any) -> Node:
        return _public().std(self, *args, **kwargs)

    def var(self, *args: Any, **kwargs: Any) -> Node:
        return _public().statistics.variance(self, *args, **kwargs)

    def cumsum(self, *args: Any, **kwargs: Any) -> Node:
        return _public().cumsum(self, *args, **kwargs)

    def cumprod(self, *args: Any, **kwargs: Any) -> Node:
        return _public().cumprod(self, *args, **kwargs)

    def all(self, *args: Any, **kwargs: Any) -> Node:
        return _public().all(self, *args, **kwargs)

    def any(self, *args: Any, **kwargs: Any) -> Node:
        return _public().any(self, *args, **kwargs)

    def round(self, *args: Any, **kwargs: Any) -> Node:
        return _public().round(self, *args, **kwargs)

    def swapaxes(self, axis1: int, axis2: int) -> Node:
        return _public().swapaxes(self, axis1, axis2)

    def repeat(self, *args: Any, **kwargs: Any) -> Node:
        return _public().repeat(self, *args, **kwargs)

    def diagonal(self, *args: Any, **kwargs: Any) -> Node:
        return _public().diagonal(self, *args, **kwargs)

    def trace(self, *args: Any, **kwargs: Any) -> Node:
        return _public().trace(self, *args, **kwargs)

    def take(self, *args: Any, **kwargs: Any) -> Node:
        return _public().take(self, *args, **kwargs)

    def conj(self) -> Node:
        return _public().conjugate(self)

    def conjugate(self) -> Node:
        return _public().conjugate(self)

    @property
    def real(self) -> Node:
        return _public().real(self)

    @property
    def imag(self) -> Node:
        return _public().imag(self)

    def sort(self, *args: Any, **kwargs: Any) -> None:
        raise GraphError("ndarray.sort sorts in place, and nodes are immutable: write y = np.sort(x) instead")

    def fill(self, value: Any) -> None:
        raise GraphError("ndarray.fill writes in place, and nodes are immutable: write y = np.full_like(x, value)")

    def reshape(self, *shape: Any) -> Node:
        return _api.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes: Any) -> Node:
        return _api.transpose(self, (axes[0] if len(axes) == 1 else axes) or None)

    def ravel(self, order: str = "C") -> Node:
        return _api.ravel(self, order)

    def flatten(self, order: str = "C") -> Node:
        return _api.ravel(self, order)  # nodes are immutable: a copy and a view are the same

    def squeeze(self, axis: Any = None) -> Node:
        return _api.squeeze(self, axis)


def _public() -> Any:
    """The ``symdiff`` package, for methods whose builders live in modules that import this one."""
    import symdiff

    return symdiff


def _comparable(other: Any) -> bool:
    """A node, a real number or a real/boolean array: what ``==`` compares elementwise."""
    if isinstance(other, (Node, numbers.Real, np.generic)):
        return not isinstance(other, np.generic) or other.dtype.kind in "biuf"
    return isinstance(other, np.ndarray) and other.dtype.kind in "biuf"


def make(op: str, inputs: Sequence[Node], attrs: tuple[Any, ...], shape: Any, dtype: str) -> Node:
    """Return the unique node for ``op(inputs; attrs)``, creating it if needed."""
    inputs = tuple(inputs)
    key = (op, attrs, tuple(map(id, inputs)))
    node = _cached(key)
    if node is None:
        node = object.__new__(Node)
        node.op, node.inputs, node.attrs = op, inputs, attrs
        node.shape, node.dtype, node.value = shape, dtype, None
        _cache[key] = weakref.ref(node, functools.partial(_forget, key))
    return node


def _cached(key: tuple[Any, ...]) -> Node | None:
    ref = _cache.get(key)
    return None if ref is None else ref()


def _forget(key: tuple[Any, ...], ref: weakref.ref[Node]) -> None:
    """A node died: drop its entry, unless a newer node of the same key has taken it."""
    if _cache.get(key) is ref:
        del _cache[key]


def make_var(label: str, shape: Shape, dtype: str = FLOAT) -> Node:
    """A new variable: never merged with another, even one of the same label."""
    return make("var", (), (label, next(_var_ids)), shape, dtype)


_FLOAT_CODE = np.dtype(np.float64).str


def make_const(value: np.ndarray) -> Node:
    """A constant, merged with any other constant of the same dtype, shape and bytes."""
    array = np.asarray(value)
    found = _cached(("const", (array.dtype.str, array.shape, array.tobytes()), ()))
    return found if found is not None else _new_const(array)


def make_float(value: float) -> Node:
    """``make_const`` for a Python float, without building an array when the node exists."""
    found = _cached(("const", (_FLOAT_CODE, (), struct.pack("d", value)), ()))
    return found if found is not None else _new_const(np.asarray(value, dtype=np.float64))


def _new_const(array: np.ndarray) -> Node:
    frozen = np.array(array, copy=True, order="C")
    frozen.flags.writeable = False
    dtype = BOOL if frozen.dtype == np.bool_ else INT if frozen.dtype == np.int64 else FLOAT
    node = make("const", (), (frozen.dtype.str, frozen.shape, frozen.tobytes()), frozen.shape, dtype)
    if node.value is None:
        node.value = frozen
    return node


def toposort(roots: Iterable[Node]) -> list[Node]:
    """Every node reachable from ``roots``, inputs before users, in a deterministic order.

    The post-order a recursive depth-first walk gives, from an explicit stack of nodes and
    the position of the next input to visit in each.
    """
    order: list[Node] = []
    seen: set[Node] = set()
    for root in roots:
        if root in seen:
            continue
        seen.add(root)
        nodes, positions = [root], [0]
        while nodes:
            inputs = nodes[-1].inputs
            i, count = positions[-1], len(inputs)
            while i < count and inputs[i] in seen:
                i += 1
            if i < count:
                positions[-1] = i + 1
                seen.add(inputs[i])
                nodes.append(inputs[i])
                positions.append(0)
            else:
                positions.pop()
                order.append(nodes.pop())
    return order


class Subgraph:
    """An attribute that holds a graph of its own (a loop's body), ending at its ``outputs``."""

    @property
    def outputs(self) -> tuple[Node, ...]:
        raise NotImplementedError


def with_subgraphs(order: Sequence[Node]) -> list[Node]:
    """``order`` and, after it, every node of the subgraphs its nodes hold, nested ones too:
    what a check of the ops a function computes must see."""
    found = list(order)
    seen = set(found)
    at = 0
    while at < len(found):
        for attr in found[at].attrs:
            if isinstance(attr, Subgraph):
                for node in toposort(attr.outputs):
                    if node not in seen:
                        seen.add(node)
                        found.append(node)
        at += 1
    return found


def free_variables(roots: Iterable[Node]) -> list[Node]:
    """The variables the roots depend on, in first-use order."""
    return [n for n in toposort(roots) if n.op == "var"]


def check(roots: Iterable[Node]) -> None:
    """The verifier: every node has a known op, its arity, and the shape its op's rule gives."""
    check_nodes(toposort(roots))


def check_nodes(nodes: Iterable[Node]) -> None:
    """``check`` on these nodes alone (their inputs are taken as checked)."""
    from symdiff.errors import GraphError
    from symdiff.ops import OPS, result_dtype

    for node in nodes:
        if node.op in ("var", "const"):
            if node.inputs:
                raise GraphError(f"a {node.op} node has inputs\n{graph_window(node)}")
            continue
        op = OPS.get(node.op)
        if op is None:
            raise GraphError(f"unknown op '{node.op}'\n{graph_window(node)}")
        expected = op.shape([i.shape for i in node.inputs], node.attrs)
        if expected != node.shape or node.dtype != result_dtype(op, node.inputs):
            raise GraphError(f"'{node.op}' has shape {node.shape}, its rule gives {expected}\n{graph_window(node)}")


def use_counts(order: Sequence[Node]) -> dict[Node, int]:
    """How many times each node is an input of another node in ``order``."""
    counts: dict[Node, int] = dict.fromkeys(order, 0)
    for node in order:
        for child in node.inputs:
            counts[child] += 1
    return counts


def short_text(node: Node, depth: int = 3) -> str:
    """A one-line, depth-bounded description such as ``add(log(x1), mul(x1, x2))``."""
    text: dict[tuple[int, int], str] = {}
    stack: list[tuple[Node, int, bool]] = [(node, 0, False)]
    while stack:
        current, level, expanded = stack.pop()
        key = (id(current), level)
        if key in text:
            continue
        if current.op == "var":
            text[key] = current.label
        elif current.op == "const":
            text[key] = _const_text(current)
        elif level >= depth:
            text[key] = "..."
        elif not expanded:
            stack.append((current, level, True))
            stack.extend((child, level + 1, False) for child in current.inputs)
        else:
            args = ", ".join(text[(id(c), level + 1)] for c in current.inputs)
            text[key] = f"{current.op}({args})"
    return text[(id(node), 0)]


def _const_text(node: Node) -> str:
    value = node.value
    if value is None or value.size > 4:
        return f"const{node.shape}"
    if value.ndim == 0:
        return repr(value.item())
    return repr(value.tolist())


def graph_window(node: Node, limit: int = 12) -> str:
    """The last ``limit`` nodes leading to ``node`` as SSA lines: a bounded window for errors."""
    picked: list[Node] = [node]
    seen = {node}
    cursor = 0
    while cursor < len(picked) and len(picked) < limit:
        for child in picked[cursor].inputs:
            if child not in seen and len(picked) < limit:
                seen.add(child)
                picked.append(child)
        cursor += 1
    ordered = _restricted_order(node, seen)
    names: dict[Node, str] = {}
    lines: list[str] = []
    for n in ordered:
        if n.op == "var":
            names[n] = n.label
            continue
        if n.op == "const":
            names[n] = _const_text(n)
            continue
        names[n] = f"%{len(lines)}"
        args = ", ".join(names.get(c, "...") for c in n.inputs)
        attrs = f" {n.attrs}" if n.attrs else ""
        marker = "   <-- here" if n is node else ""
        lines.append(f"  {names[n]} = {n.op}({args}){attrs} : {n.shape}{marker}")
    return "\n".join(lines) if lines else f"  {short_text(node)} : {node.shape}"


def _restricted_order(node: Node, allowed: set[Node]) -> list[Node]:
    """Post-order of ``node``'s ancestors inside ``allowed`` (a window of a big graph)."""
    order: list[Node] = []
    done: set[Node] = {node}
    stack: list[tuple[Node, Iterator[Node]]] = [(node, iter(node.inputs))]
    while stack:
        current, pending = stack[-1]
        for child in pending:
            if child in allowed and child not in done:
                done.add(child)
                stack.append((child, iter(child.inputs)))
                break
        else:
            stack.pop()
            order.append(current)
    return order


from symdiff import api as _api  # noqa: E402  (circular: the builders need Node)
