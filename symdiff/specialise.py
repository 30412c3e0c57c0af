"""A graph with named dimensions rebuilt at concrete sizes.

Sparsity patterns and colourings depend on the sizes, so a sparse derivative of a graph with
named dimensions is built once per new set of sizes: every variable gets its concrete shape,
every attribute that holds a dimension its value, and each op is applied again (which checks
the shapes). The sizes first have to meet what the graph requires of them (``x[-2:]`` needs
``n >= 2``), or the rebuilt slices would mean something else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff.dim_binding import readable, requirements
from symdiff.dims import Dim, at_sizes, dim_names
from symdiff.errors import ArgumentError, UnsupportedError
from symdiff.graph import TUPLE, Node, make_var, toposort


def specialise(roots: Sequence[Node], inputs: Sequence[Node], sizes: Mapping[str, int]) -> tuple[
        list[Node], list[Node]]:
    """``roots`` and ``inputs`` rebuilt with every named dimension at its size."""
    order = toposort([*roots, *inputs])
    for name in dim_names(n.shape for n in order if n.dtype != TUPLE):
        size = sizes.get(name) if isinstance(sizes, Mapping) else None
        if size is None:
            raise ArgumentError(f"sizes: no size given for the dimension {name}")
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
            raise ArgumentError(f"sizes: the size of {name} must be a non-negative int, got {size!r}")
    for dim, least, why in requirements(order):
        if dim.at(sizes) < least:
            shown = ", ".join(f"{n} = {sizes[n]}" for n in dim.names)
            left, right = readable(dim, least)
            raise ArgumentError(f"{why} needs {left} >= {right}; got {shown}")
    new: dict[Node, Node] = {}
    for node in order:
        if node.op == "var":
            new[node] = make_var(node.label, at_sizes(node.shape, sizes), node.dtype)
        elif node.op == "dimsize":
            new[node] = sd.as_node(float(at_sizes(node.attrs[0], sizes)))
        elif not node.inputs and node.op != "const":
            new[node] = sd.apply(node.op, [], at_sizes(node.attrs, sizes))
        elif node.inputs:
            new[node] = sd.apply(node.op, [new[i] for i in node.inputs], at_sizes(node.attrs, sizes))
        else:
            new[node] = node
    return [new[r] for r in roots], [new[i] for i in inputs]


def names_in(nodes: Sequence[Node]) -> tuple[str, ...]:
    """The dimension names in the shapes of ``nodes`` and everything they are built from."""
    return dim_names(n.shape for n in toposort(list(nodes)) if n.dtype != TUPLE)


def is_named(nodes: Sequence[Node]) -> bool:
    return bool(names_in(nodes))


def sizes_of(inputs: Sequence[Node], args: Sequence[Any]) -> dict[str, int]:
    """Each name's size, read from the first argument whose axis carries it alone."""
    sizes: dict[str, int] = {}
    for variable, arg in zip(inputs, args, strict=True):
        shape = np.shape(arg)
        if len(shape) != variable.ndim:
            raise ArgumentError(f"argument {variable.label!r}: expected {variable.ndim} dimensions, got shape {shape}")
        for d, got in zip(variable.shape, shape, strict=True):
            if isinstance(d, Dim) and d.atomic:
                sizes.setdefault(d.names[0], int(got))
    return sizes


class PerSize:
    """A function built anew for each new set of sizes of the named dimensions, and kept."""

    def __init__(self, inputs: Sequence[Node], names: Sequence[str], build: Callable[[dict[str, int]], Any],
                 what: str) -> None:
        self.inputs, self.names, self._build, self.what = list(inputs), tuple(names), build, what
        self.built: dict[tuple[int, ...], Any] = {}
        bound = {d.names[0] for v in self.inputs for d in v.shape if isinstance(d, Dim) and d.atomic}
        missing = [n for n in self.names if n not in bound]
        if missing:
            raise UnsupportedError(f"{what}: dimension {', '.join(missing)} is the whole axis of no input, so no "
                                   "argument gives its size")

    def at(self, **sizes: int) -> Any:
        """The function for these sizes (built on first use)."""
        missing = [n for n in self.names if n not in sizes]
        if missing:
            raise ArgumentError(f"{self.what}.at: no size given for {', '.join(missing)}")
        key = tuple(sizes[n] for n in self.names)
        if key not in self.built:
            self.built[key] = self._build(dict(sizes))
        return self.built[key]

    def __getattr__(self, name: str) -> Any:
        if name in ("pattern", "colors", "mode", "source"):
            raise UnsupportedError(f"{self.what} of a graph with named dimensions: {name} depends on the sizes; "
                                   f"ask f.at({', '.join(f'{n}=...' for n in self.names)}).{name}")
        raise AttributeError(name)

    def __call__(self, *args: Any) -> Any:
        if len(args) != len(self.inputs):
            raise ArgumentError(f"{self.what} takes {len(self.inputs)} arguments, got {len(args)}")
        return self.at(**sizes_of(self.inputs, args))(*args)
