"""Builders of the binary elementwise ops, comparisons, logical ops and ``where``.

Each applies the exact construction-time rewrites of its op (``x * 1``, ``x - 0.0``, ...)
before asking for the node.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symdiff.api import (  # defined before api imports this module
    ArrayLike,
    _binary,
    _float,
    _fold,
    _is_const,
    apply,
    as_node,
    tofloat,
)
from symdiff.errors import ShapeError
from symdiff.graph import BOOL, FLOAT, INT, Node
from symdiff.ops import broadcast_shapes


def _keeps_shape(result_of: Node, other: Node) -> bool:
    """True when dropping ``other`` cannot change the broadcast result shape."""
    try:
        return broadcast_shapes(result_of.shape, other.shape) == result_of.shape
    except ShapeError:
        return False  # apply() reports the mismatch with the op's name


def integers(name: str, a: ArrayLike, b: ArrayLike) -> Node | None:
    """Integer arithmetic where an int64 node meets an integer: int64, as in NumPy."""
    if (isinstance(a, Node) and a.dtype == INT) or (isinstance(b, Node) and b.dtype == INT):
        from symdiff.integers import integer_arithmetic  # it builds on this module

        return integer_arithmetic(name, a, b)
    return None


def add(a: ArrayLike, b: ArrayLike) -> Node:
    if (whole := integers("add", a, b)) is not None:
        return whole
    x, y = (_float(n) for n in _binary("add", a, b))
    # x + (-0.0) is x for every x; x + 0.0 is not (-0.0 + 0.0 is 0.0), and a + (-b) is not
    # a - b (the sign of a NaN b): symdiff.rewrite makes those at compile time
    if _is_const(y, -0.0) and _keeps_shape(x, y):
        return x
    if _is_const(x, -0.0) and _keeps_shape(y, x):
        return y
    return apply("add", [x, y])


def subtract(a: ArrayLike, b: ArrayLike) -> Node:
    if (whole := integers("sub", a, b)) is not None:
        return whole
    x, y = (_float(n) for n in _binary("subtract", a, b))
    # x - 0.0 is x + (-0.0), so x; not 0.0 - x -> -x (0.0 - 0.0 is 0.0, and NaN keeps its sign)
    if _is_const(y, 0.0) and _keeps_shape(x, y):
        return x
    return apply("sub", [x, y])


def multiply(a: ArrayLike, b: ArrayLike) -> Node:
    if (whole := integers("mul", a, b)) is not None:
        return whole
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


REBUILD: dict[str, Any] = {"add": add, "sub": subtract, "mul": multiply, "div": divide, "power": power}
