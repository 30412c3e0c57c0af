"""Integer results: ``argmax``/``argmin`` (int64 nodes, no gradient), integer arithmetic, ``astype``.

An integer node indexes (``x[np.arange(n), sd.argmax(x, axis=1)]``), compares, and takes part
in integer arithmetic as NumPy does: ``i - 1``, ``2 * i``, ``i // 2`` and ``i % 3`` of int64
nodes and Python ints stay int64 (a loop index stays an index). With a float it becomes float64.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff.errors import UnsupportedError
from symdiff.graph import BOOL, FLOAT, INT, Node, make_const, short_text
from symdiff.ops import INTEGERS, REDUCTION, STRUCTURE, Op, broadcast, nonempty_reduction, reduced, register
from symdiff.printers import ATOM, spelled

__all__ = ["argmax", "argmin", "astype", "integer_arithmetic"]

# the operators integer arithmetic keeps int64, by the builder that asks
INTEGER_OPERATORS = {"add": "+", "sub": "-", "mul": "*", "floor_divide": "//", "remainder": "%"}
_FOLD = {"+": np.add, "-": np.subtract, "*": np.multiply, "//": np.floor_divide, "%": np.remainder}


def _printer(name: str) -> Any:
    def render(a: Sequence[str], node: Node) -> str:
        axes, keepdims = node.attrs
        x = node.inputs[0]
        if len(axes) == 1 and x.ndim > 1:
            return f"{spelled(name)}({a[0]}, axis={axes[0]}{', keepdims=True' if keepdims else ''})"
        flat = f"{spelled(name)}({a[0]})"  # over all axes: the index into the flattened array
        return f"{spelled('reshape')}({flat}, {(1,) * x.ndim})" if keepdims else flat
    return render


def _rule(node: Node, inputs: list[Node], flags: list[bool], k: int) -> Node:
    axes, keepdims = node.attrs
    if len(axes) != 1 and node.inputs[0].ndim > 1:
        raise UnsupportedError(f"{node.op} over all axes cannot be batched (jacobian, hessian): give an axis")
    return sd.apply(node.op, inputs[:1], (tuple(a + 1 for a in axes), keepdims))


# numba's argmax takes no axis
for _name in ("argmax", "argmin"):
    register(Op(_name, reduced, _printer(_name), lambda g, y, x: (None,), arg_prec=(ATOM,), dtype=INT,
                kind=REDUCTION, batch=_rule, refused=("numba",), numpy_functions=(_name,), convention=INTEGERS,
                requires=nonempty_reduction))


def _arg(name: str, a: Any, axis: Any, keepdims: bool) -> Node:
    x = sd.as_node(a, f"{name} argument")
    if x.size == 0:
        raise UnsupportedError(f"{name} of an empty array ({short_text(x)}): NumPy raises too")
    if axis is None:
        axes = tuple(range(x.ndim))
    else:
        axes = (sd._axis(axis, x, name),)
    return sd.apply(name, [x], (axes, sd._flag(keepdims, f"{name} keepdims")))


def argmax(a: Any, axis: int | None = None, out: None = None, *, keepdims: bool = False) -> Node:
    """``np.argmax``: an int64 node, the first maximal position (over the flattened array for axis=None)."""
    _no_out(out, "argmax")
    return _arg("argmax", a, axis, keepdims)


def argmin(a: Any, axis: int | None = None, out: None = None, *, keepdims: bool = False) -> Node:
    """``np.argmin``: an int64 node, the first minimal position (over the flattened array for axis=None)."""
    _no_out(out, "argmin")
    return _arg("argmin", a, axis, keepdims)


def _no_out(out: Any, name: str) -> None:
    if out is not None:
        raise UnsupportedError(f"{name}: out= is not supported (nodes are immutable)")


def astype(x: Any, dtype: Any) -> Node:
    """``x.astype(np.float64)``: a float node as it is; a boolean or integer node as 0.0/1.0... floats.

    Other dtypes raise: symdiff computes in float64 (float32 is a compile option), and an
    integer cast of a float would have no gradient and round silently."""
    node = sd.as_node(x, "astype argument")
    try:
        kind = np.dtype(dtype)
    except (TypeError, ValueError):
        raise UnsupportedError(f"astype: {dtype!r} is not a NumPy dtype") from None
    if kind == np.float64:
        return sd.tofloat(node) if node.dtype in (BOOL, INT) else node
    if kind == np.int64 and node.dtype == INT:
        return node
    if kind == np.bool_ and node.dtype == BOOL:
        return node
    shown = {FLOAT: "float64", BOOL: "bool", INT: "int64"}.get(node.dtype, node.dtype)
    raise UnsupportedError(f"astype({kind}) of a {shown} node is not supported: symdiff computes in float64 "
                           "(sd.compile(..., dtype=np.float32) for single precision); floor/round a float "
                           "node explicitly if that is what is meant")


def _integer(value: Any) -> Node | None:
    """An int64 node, or a Python or NumPy integer as one; None for anything else."""
    if isinstance(value, Node):
        return value if value.dtype == INT else None
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return make_const(np.asarray(value, dtype=np.int64))
    return None


def integer_arithmetic(name: str, a: Any, b: Any) -> Node | None:
    """``a <op> b`` as int64 when both are integers and one is a node, as NumPy computes it;
    None when the builder's float arithmetic applies."""
    x, y = _integer(a), _integer(b)
    if x is None or y is None or (x.op == "const" and y.op == "const" and not isinstance(a, Node)
                                  and not isinstance(b, Node)):
        return None
    symbol = INTEGER_OPERATORS[name]
    if symbol in ("//", "%") and (y.op != "const" or y.value is None or np.any(y.value == 0)):
        # NumPy gives 0 with a warning for a zero divisor, numba raises: only constants are safe
        raise UnsupportedError(f"integer {symbol} by {short_text(y)}: the divisor must be a non-zero integer "
                               "constant; use float arithmetic (sd.tofloat) for anything else")
    if x.op == "const" and y.op == "const" and x.value is not None and y.value is not None:
        return make_const(np.asarray(_FOLD[symbol](x.value, y.value), dtype=np.int64))
    return sd.apply("integer_arithmetic", [x, y], (symbol,))


def integer_negative(x: Node) -> Node:
    return sd.apply("integer_arithmetic", [make_const(np.asarray(0, dtype=np.int64)), x], ("-",))


def _integer_printer(a: Sequence[str], node: Node) -> str:
    return f"({a[0]} {node.attrs[0]} {a[1]})"


def _integer_batch(node: Node, inputs: list[Node], flags: list[bool], k: int) -> Node:
    raise UnsupportedError("integer arithmetic cannot carry a batch axis (jacobian, hessian): only float "
                           "values are seeded")


register(Op("integer_arithmetic", broadcast, _integer_printer, lambda g, y, a, b: (None, None), dtype=INT,
            kind=STRUCTURE, reads_integers=True, arg_prec=(ATOM, ATOM), batch=_integer_batch))
