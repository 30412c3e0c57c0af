"""Printers: the text of one op's NumPy call, in the dialect being printed.

A printer takes its arguments' texts and the node, and returns an expression; a statement
printer returns lines. Namespaced names come from ``spelled`` (``np.arcsin`` or ``xp.asin``),
so one printer serves NumPy, float32, the array API and numba.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from symdiff.dialect import current as current_dialect
from symdiff.graph import FLOAT, Node, Shape

Printer = Callable[[Sequence[str], Node], str]

ATOM = 100  # a call, a name, a subscript: never needs parentheses


def reduction_count(x: Node, axes: tuple[int, ...]) -> Any:
    """The number of elements a reduction over ``axes`` reads: an int, or a named dimension's polynomial."""
    return math.prod(x.shape[i] for i in axes)  # exact: np.prod in int64 wraps past 2**63


def dim_text(size: Any) -> str:
    """A size as an operand: an int, a dimension's name, or its polynomial in parentheses."""
    text = str(size)
    return text if isinstance(size, int) or getattr(size, "atomic", False) else f"({text})"


# ---- index attrs: ints and canonical (start, stop, step) slices ------------------------


def to_index(attrs: tuple[Any, ...]) -> tuple[int | slice, ...]:
    return tuple(slice(*item) if isinstance(item, tuple) else item for item in attrs)


def index_text(attrs: tuple[Any, ...]) -> str:
    parts = []
    for item in attrs:
        if isinstance(item, tuple):
            start, stop, step = ("" if v is None else str(v) for v in item)
            parts.append(f"{start}:{stop}" + (f":{step}" if step else ""))
        else:
            parts.append(str(item))
    return ", ".join(parts)


# ---- printers ---------------------------------------------------------------------------


def call(template: str) -> Printer:
    return lambda a, node: template.format(*a)


def spelled(name: str) -> str:
    """The function NumPy calls ``name``, in the namespace and spelling of the current dialect."""
    return current_dialect().function(name)


def function_call(name: str) -> Printer:
    """``np.name(a, b)``, in the current dialect's namespace and spelling."""
    return lambda a, node: f"{spelled(name)}({', '.join(a)})"


def reduction_printer(fn: str) -> Printer:
    """``x.sum()``: the array method skips ``np.sum``'s dispatch layer (about 1.5 µs a call)."""

    def render(a: Sequence[str], node: Node) -> str:
        axes, keepdims = node.attrs
        source = node.inputs[0]
        whole = len(axes) == source.ndim and not keepdims
        if source.ndim == 0:  # a scalar may be a plain float, which has no methods
            return f"{spelled(fn)}({a[0]})"
        axis = "" if whole else "axis=" + (str(axes[0]) if len(axes) == 1 else str(axes))
        method = "sum" if fn == "mean" else fn  # a mean is what np.mean computes, without its Python wrapper
        text = f"{a[0]}.{method}({axis}" + (", keepdims=True)" if keepdims else ")")
        return text + f" / {dim_text(reduction_count(source, axes))}" if fn == "mean" else text

    return render


def matmul_printer(a: Sequence[str], node: Node) -> str:
    if max(node.inputs[0].ndim, node.inputs[1].ndim) <= 2:
        return f"{a[0]}.dot({a[1]})"  # the method is about 0.5 µs faster than ``@`` on small operands
    return f"{spelled('matmul')}({a[0]}, {a[1]})"


def reshape_printer(a: Sequence[str], node: Node) -> str:
    if node.inputs[0].ndim == 0:  # a scalar may be a plain float, which has no methods
        return f"{spelled('reshape')}({a[0]}, {shape_text(node.attrs[0])})"
    return f"{a[0]}.reshape({shape_text(node.attrs[0])})"


def shape_text(shape: Shape) -> str:
    return str(tuple(shape))


def power_printer(a: Sequence[str], node: Node) -> str:
    base, exponent = node.inputs
    if base.op == "const" and exponent.op == "const":
        # two Python floats would not follow IEEE: (-8.0) ** 0.5 is complex
        return f"{spelled('power')}({a[0]}, {a[1]})"
    if exponent.op == "const" and exponent.shape == () and exponent.value is not None:
        value = float(exponent.value)
        if value.is_integer() and abs(value) < 2**53:
            return f"{a[0]} ** {int(value)}"  # reads like maths; NumPy takes the same fast path
    return f"{a[0]} ** {a[1]}"


def typed(text: str, node: Node) -> str:
    """A scalar as ``np.float64(...)`` (or float32) where no array operand fixes the result's type:
    NumPy would make a Python float float64."""
    return current_dialect().scalar(text) if node.shape == () and node.dtype == FLOAT and node.op == "const" else text


def where_printer(a: Sequence[str], node: Node) -> str:
    _, x, y = node.inputs
    first = current_dialect().scalar(a[1]) if x.shape == () and y.shape == () and x.dtype == FLOAT else a[1]
    return f"{spelled('where')}({a[0]}, {first}, {a[2]})"


def transpose_printer(a: Sequence[str], node: Node) -> str:
    axes = node.attrs[0]
    if axes == tuple(reversed(range(len(axes)))):
        return f"{a[0]}.T"
    return f"{a[0]}.transpose({axes})"


def scatter_statement(target: str, a: Sequence[str], node: Node) -> list[str]:
    shape, indices = node.attrs
    zeros = current_dialect().zeros(shape_text(shape))
    if len(indices) == 1:
        return [f"{target} = {zeros}", f"{target}[{index_text(indices[0])}] = {a[0]}"]
    adds = [f"{target}[{index_text(index)}] += {g}" for index, g in zip(indices, a, strict=True)]
    return [f"{target} = {zeros}", *adds]


# ---- plain-float forms ---------------------------------------------------------------------
# math.* and Python operators: about twice as fast as NumPy ufuncs on single floats. Where
# math raises (log(-1), 1/0, overflow) the generated function falls back to its NumPy body.
# maximum, minimum, relu and sign are left out: Python's max/min and comparisons treat NaN
# differently from NumPy.


def scalar_square(a: Sequence[str], node: Node) -> str:
    """x * x, as np.square computes it (x ** 2 is libm's pow, which can differ in the last bit)."""
    return f"{a[0]} * {a[0]}" if a[0].isidentifier() else f"{spelled('square')}({a[0]})"


def scalar_power(a: Sequence[str], node: Node) -> str:
    exponent = node.inputs[1]
    if (exponent.op == "const" and exponent.shape == () and exponent.value is not None
            and float(exponent.value).is_integer()):
        return f"{a[0]} ** {int(exponent.value)}"
    return f"math.pow({a[0]}, {a[1]})"  # raises where ** would silently return a complex number


def math_form(fn: str) -> tuple[Printer, int, tuple[int, ...]]:
    return call(f"math.{fn}({{0}})"), ATOM, (0,)
