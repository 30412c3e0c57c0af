"""``from_sympy``: a SymPy expression as a symdiff graph.

SymPy's expression DAG is walked with an explicit stack, and each subexpression object
becomes one node; structurally equal ones meet in symdiff's hash-consing, so shared
subexpressions stay shared. Every op whose record names its SymPy function is covered
(the op table is the map), plus ``Piecewise`` (as ``where``), ``Max``/``Min``, ``Abs``, rational
powers and numbers. Anything else raises ``UnsupportedError`` naming the SymPy class.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable, Mapping
from typing import Any

import symdiff.api as sd
from symdiff.errors import GraphError, UnsupportedError
from symdiff.graph import Node
from symdiff.losses import logaddexp
from symdiff.op_table import SympyFunction
from symdiff.ops import OPS


def from_sympy(expr: Any, symbols: Mapping[Any, Node]) -> Node:
    """Translate ``expr``; ``symbols`` maps each of its free symbols to a node."""
    import sympy

    if isinstance(expr, (bool, str, bytes)) or not isinstance(expr, (sympy.Basic, numbers.Real)):
        # sympify would evaluate a string as Python code
        raise UnsupportedError(
            f"from_sympy takes a SymPy expression or a real number, got {type(expr).__name__}; "
            "parse text yourself (sympy.parse_expr evaluates it, so only on text you trust)")
    expr = sympy.sympify(expr)
    if not isinstance(symbols, Mapping):
        raise GraphError(f"from_sympy: symbols must be a dict {{sympy.Symbol: node}}, got {type(symbols).__name__}")
    missing = sorted((s for s in _symbols(expr) if s not in symbols), key=lambda s: s.name)
    if missing:
        raise GraphError(f"from_sympy: no node given for symbols {[s.name for s in missing]}")
    table = _table(sympy)
    # keyed by object identity: SymPy's structural hash is slow on numbers, and structurally
    # equal copies still become one node, since symdiff's own nodes are hash-consed
    done: dict[int, Node] = {}
    stack: list[tuple[Any, bool]] = [(expr, False)]
    while stack:
        item, ready = stack.pop()
        if id(item) in done:
            continue
        if not ready and item.args and not item.is_Number:
            stack.append((item, True))
            stack.extend((arg, False) for arg in reversed(item.args) if id(arg) not in done)
            continue
        if isinstance(item, sympy.functions.elementary.piecewise.ExprCondPair):
            continue  # a (value, condition) piece: its Piecewise reads both parts
        done[id(item)] = _node(sympy, table, item, symbols, done)
    return done[id(expr)]


def _symbols(expr: Any) -> set[Any]:
    """The free symbols, found without recursion (SymPy's ``free_symbols`` recurses)."""
    found, seen, stack = set(), set(), [expr]
    while stack:
        item = stack.pop()
        if item in seen:
            continue
        seen.add(item)
        if item.is_Symbol:
            found.add(item)
        stack.extend(item.args)
    return found


def _node(sympy: Any, table: dict[Any, Callable[..., Node]], item: Any, symbols: Mapping[Any, Node],
          done: dict[int, Node]) -> Node:
    if item.is_Symbol:
        return symbols[item]
    if item.is_Number or item.is_NumberSymbol:
        return sd.as_node(float(item))
    if item is sympy.true or item is sympy.false:
        return sd.as_node(bool(item))
    if isinstance(item, sympy.Piecewise):
        return _piecewise(sympy, item, done)
    if isinstance(item, sympy.Pow):
        return _power(sympy, item, done)
    builder = table.get(type(item))
    if builder is None:
        for cls, candidate in table.items():
            if isinstance(item, cls):
                builder = candidate
                break
    if builder is None:
        raise UnsupportedError(f"from_sympy: SymPy's {type(item).__name__} has no symdiff counterpart ({item})")
    return builder(*(done[id(a)] for a in item.args))


def _power(sympy: Any, item: Any, done: dict[int, Node]) -> Node:
    base, exponent = item.args
    if exponent == sympy.Rational(1, 2):
        return sd.sqrt(done[id(base)])
    if exponent == -1:
        return 1.0 / done[id(base)]
    if exponent == 2:
        return sd.square(done[id(base)])
    return sd.power(done[id(base)], done[id(exponent)])


def _piecewise(sympy: Any, item: Any, done: dict[int, Node]) -> Node:
    pieces = list(item.args)
    if pieces[-1].cond is not sympy.true:
        raise UnsupportedError(f"from_sympy: a Piecewise needs a final (value, True) piece: {item}")
    result = done[id(pieces[-1].expr)]
    for piece in reversed(pieces[:-1]):
        result = sd.where(done[id(piece.cond)], done[id(piece.expr)], result)
    return result


def _fold(builder: Callable[[Node, Node], Node]) -> Callable[..., Node]:
    def fold(*args: Node) -> Node:
        result = args[0]
        for arg in args[1:]:
            result = builder(result, arg)
        return result

    return fold


def _table(sympy: Any) -> dict[Any, Callable[..., Node]]:
    from sympy.codegen import cfunctions

    # every op whose record names its SymPy class (sin, asin, StrictGreaterThan, ...), by its builder
    table: dict[Any, Callable[..., Node]] = {
        cls: getattr(sd, name, None) or functools.partial(_op, name) for name, op in OPS.items()
        if isinstance(op.sympy, SympyFunction) and isinstance(cls := getattr(sympy, op.sympy.name), type)
    }
    table |= {
        sympy.Add: _fold(sd.add), sympy.Mul: _fold(sd.multiply), sympy.Max: _fold(sd.maximum),
        sympy.Min: _fold(sd.minimum), sympy.Abs: sd.abs, sympy.sign: sd.sign,
        cfunctions.log1p: sd.log1p, cfunctions.expm1: sd.expm1,
        sympy.And: _fold(sd.logical_and), sympy.Or: _fold(sd.logical_or), sympy.Not: sd.logical_not,
        sympy.Heaviside: lambda x, *_: sd.where(sd.greater(x, 0.0), 1.0, sd.where(sd.equal(x, 0.0), 0.5, 0.0)),
        cfunctions.log2: lambda x: sd.log(x) / 0.6931471805599453,
        cfunctions.log10: lambda x: sd.log(x) / 2.302585092994046,
        cfunctions.exp2: lambda x: sd.power(2.0, x),
    }
    return table | _logaddexp(sympy)


def _op(name: str, *args: Node) -> Node:
    return sd.apply(name, list(args))


def _logaddexp(sympy: Any) -> dict[Any, Callable[..., Node]]:
    try:
        from sympy.codegen.numpy_nodes import logaddexp as sympy_logaddexp
    except ImportError:
        return {}
    return {sympy_logaddexp: logaddexp}
