"""``to_sympy``: a scalar symdiff graph as a SymPy expression, driven by the op table."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from symdiff.api import as_node
from symdiff.errors import GraphError, UnsupportedError
from symdiff.graph import Node, graph_window, toposort
from symdiff.ops import OPS


def to_sympy(expr: Any, symbols: dict[Node, Any] | None = None) -> Any:
    """Translate a graph of scalars into SymPy, walking it iteratively.

    ``symbols`` maps variables to SymPy symbols; variables not in it get a
    ``Symbol`` named after their label (made unique when two labels coincide).
    """
    import sympy

    root = as_node(expr, "expr")
    if symbols is not None and not isinstance(symbols, Mapping):
        raise GraphError(f"to_sympy: symbols must be a dict {{variable: sympy.Symbol}}, got {type(symbols).__name__}")
    table: dict[Node, Any] = dict(symbols or {})
    taken = {str(s) for s in table.values()}
    for node in toposort([root]):
        if node in table:
            continue
        if node.shape != ():
            raise UnsupportedError(f"to_sympy handles scalar graphs only; '{node.op}' has shape {node.shape}"
                                   f"\n{graph_window(node)}")
        if node.op == "var":
            name, k = node.label, 1
            while name in taken:
                name, k = f"{node.label}_{k}", k + 1
            taken.add(name)
            table[node] = sympy.Symbol(name, real=True)
        elif node.op == "const":
            table[node] = _constant(sympy, node)
        else:
            form = OPS[node.op].sympy
            if form is None:
                raise UnsupportedError(f"op '{node.op}' has no SymPy form\n{graph_window(node)}")
            table[node] = form(*(table[c] for c in node.inputs))
    return table[root]


def _constant(sympy: Any, node: Node) -> Any:
    value = np.asarray(node.value).item()
    if isinstance(value, bool):
        return sympy.true if value else sympy.false
    if math.isnan(value):
        return sympy.nan
    if math.isinf(value):
        return sympy.oo if value > 0 else -sympy.oo
    return sympy.Integer(int(value)) if float(value).is_integer() else sympy.Float(value, 17)
