"""The prologue's shape checks: bind each named dimension from the first argument that carries it.

``n = X.shape[0]`` binds ``n`` from ``X``; every later use of ``n`` is checked against it, and
so are the sizes the graph derived from the names (``n - 1`` of a slice must not be negative).
Names reach the source as themselves (they are checked identifiers); the texts that describe
them are ``repr`` literals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from symdiff.dims import Dim, is_symbolic, surely_at_most
from symdiff.errors import EmitError
from symdiff.graph import TUPLE, Node


@dataclass(frozen=True)
class ShapeTest:
    """One parameter's check: the fast test, the helper's arguments, and the names it binds."""

    condition: str  # true when the argument needs the slow path (a conversion or an error)
    expected: str  # the helper's ``shape`` argument: sizes, None where this argument binds a name
    dims: str  # ``, dims=(...)`` for the helper, or "" when no axis is named
    binds: list[str]  # ``n = X.shape[0]`` lines, after the conversion


@dataclass
class Bindings:
    """Which parameter binds each dimension name, filled in parameter order."""

    source: dict[str, str] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)  # name -> "X.shape[0]", for the header

    def test(self, name: str, shape: tuple[Any, ...]) -> ShapeTest:
        if not is_symbolic(shape):
            return ShapeTest(f"{name}.shape != {shape}", str(shape), "", [])
        known: list[str | None] = []  # per axis: the expression it must equal, None where this argument binds it
        dims: list[str] = []
        binds: list[str] = []
        new: dict[str, int] = {}
        repeats: list[tuple[int, int]] = []
        for axis, d in enumerate(shape):
            if not isinstance(d, Dim):
                known.append(str(d))
                dims.append("None")
                continue
            unbound = [n for n in d.names if n not in self.source]
            if not unbound:
                known.append(str(d))
                binder = self.source[d.names[0]] if d.atomic else None
                dims.append(f"({str(d)!r}, {binder!r})")
            elif d.atomic and unbound[0] in new:
                repeats.append((new[unbound[0]], axis))
                known.append(None)
                dims.append(f"({str(d)!r}, {name!r})")
            elif d.atomic:
                new[unbound[0]] = axis
                known.append(None)
                dims.append(f"({str(d)!r}, {name!r})")
                binds.append(f"{d} = {name}.shape[{axis}]")
            else:
                raise EmitError(f"parameter {name}: dimension {d} cannot be bound from an argument: give "
                                f"{', '.join(unbound)} its own axis in an input")
        for d_name, axis in new.items():
            self.source[d_name] = name
            self.where[d_name] = f"{name}.shape[{axis}]"
        dims_text = f", dims=({', '.join(dims)}{',' if len(dims) == 1 else ''})"
        expected = "(" + ", ".join("None" if k is None else k for k in known) + ("," if len(known) == 1 else "") + ")"
        if not new:
            return ShapeTest(f"{name}.shape != {expected}", expected, dims_text, [])
        tests = [f"{name}.ndim != {len(shape)}"]
        tests += [f"{name}.shape[{axis}] != {k}" for axis, k in enumerate(known) if k is not None]
        tests += [f"{name}.shape[{b}] != {name}.shape[{a}]" for a, b in repeats]
        return ShapeTest(" or ".join(tests), expected, dims_text, binds)


def requirements(order: Sequence[Node]) -> list[tuple[Any, int, str]]:
    """What the sizes of the names must satisfy for the graph's shapes to be NumPy's:
    (dimension, least value, why), in a fixed order, each once."""
    from symdiff.ops import OPS  # the op table builds on this module

    found: dict[tuple[Any, int], str] = {}
    for node in order:
        shapes = node.shape if node.dtype == TUPLE else (node.shape,)
        for shape in shapes:
            for d in shape:
                if isinstance(d, Dim) and d.may_be_negative:
                    found.setdefault((d, 0), f"{node.op}: a result dimension {d}")
        op = OPS.get(node.op)
        if op is not None and op.requires is not None:
            for d, least, why in op.requires(node):
                if isinstance(d, Dim) and not surely_at_most(least, d):
                    found.setdefault((d, least), why)
    return [(d, least, why) for (d, least), why in found.items()]


def requirement_lines(order: Sequence[Node], indent: str = "    ") -> list[str]:
    """``if n - 3 < 0: raise _size_error(...)`` for each requirement."""
    lines = []
    for d, least, why in requirements(order):
        sizes = "{" + ", ".join(f"{n!r}: {n}" for n in d.names) + "}"
        left, right = readable(d, least)
        lines += [f"{indent}if {left} < {right}:",
                  f"{indent}    raise _size_error({f'{why} needs {left} >= {right}'!r}, {sizes})"]
    return lines


def readable(d: Dim, least: int) -> tuple[Any, int]:
    """``d >= least`` with the constant moved right: n - 2 >= 0 reads better as n >= 2."""
    constant = dict(d.terms).get((), 0)
    return d - constant, least - constant
