"""Stability rewrites: textbook formulas that overflow or cancel, replaced by stable ops.

They run at compile time with the speed rewrites (``rewrites=True``, listed in the header):
first on the expression before it is differentiated, so that the adjoints come from the
stable ops' VJPs, then on the whole graph, value and adjoints. ``grad``, ``vjp`` and the
transformations built on them apply them to the expression they differentiate.

- ``log(1 + x)`` -> ``log1p(x)`` and ``exp(x) - 1`` -> ``expm1(x)``: exact near 0;
- ``log(1 + exp(x))`` -> ``softplus(x)``, finite for large x, with adjoint ``sigmoid(x)``;
- ``1 / (1 + exp(-x))`` -> ``sigmoid(x)``, finite for large |x|;
- ``log(sum(exp(x), axis))`` -> ``logsumexp(x, axis)``, shifted by the max, adjoint softmax;
- ``sqrt(x ** 2)`` -> ``abs(x)``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import symdiff.api as sd
from symdiff.graph import Node
from symdiff.losses import logsumexp, sigmoid, softplus
from symdiff.rewrite import Rewriter, RuleSpec


def _is_number(node: Node, value: float) -> bool:
    return node.op == "const" and node.value is not None and node.value.shape == () and float(node.value) == value


def _one_plus(node: Node) -> Node | None:
    """``x`` when ``node`` is ``1 + x`` or ``x + 1`` of ``x``'s own shape."""
    if node.op != "add":
        return None
    a, b = node.inputs
    for one, other in ((a, b), (b, a)):
        if _is_number(one, 1.0) and other.shape == node.shape:
            return other
    return None


def _softplus(node: Node, rw: Rewriter, depth: int) -> Node | None:
    inner = node.inputs[0]
    if node.op == "log":
        inner = _one_plus(inner)  # type: ignore[assignment]
    if inner is not None and inner.op == "exp":
        return softplus(inner.inputs[0])
    return None


def _log1p(node: Node, rw: Rewriter, depth: int) -> Node | None:
    inner = _one_plus(node.inputs[0])
    return None if inner is None else sd.log1p(inner)


def _expm1(node: Node, rw: Rewriter, depth: int) -> Node | None:
    """``exp(x) - 1``, and ``exp(x) + (-1)``, the form adjoints sum their parts in."""
    a, b = node.inputs
    pairs = [(a, b, 1.0)] if node.op == "sub" else [(a, b, -1.0), (b, a, -1.0)]
    for power, number, value in pairs:
        if power.op == "exp" and _is_number(number, value) and power.shape == node.shape:
            return sd.expm1(power.inputs[0])
    return None


def _sigmoid(node: Node, rw: Rewriter, depth: int) -> Node | None:
    a, b = node.inputs
    inner = _one_plus(b) if _is_number(a, 1.0) else None
    if inner is None or inner.op != "exp" or inner.shape != node.shape:
        return None
    argument = inner.inputs[0]
    return sigmoid(argument.inputs[0]) if argument.op == "neg" else sigmoid(-argument)


def _logsumexp(node: Node, rw: Rewriter, depth: int) -> Node | None:
    total = node.inputs[0]
    if total.op != "sum" or total.inputs[0].op != "exp":
        return None
    axes, keepdims = total.attrs
    return logsumexp(total.inputs[0].inputs[0], axis=axes, keepdims=keepdims)


def _abs(node: Node, rw: Rewriter, depth: int) -> Node | None:
    inner = node.inputs[0]
    if inner.op == "square":
        return sd.abs(inner.inputs[0])
    if inner.op == "mul" and inner.inputs[0] is inner.inputs[1]:
        return sd.abs(inner.inputs[0])
    if inner.op == "power" and _is_number(inner.inputs[1], 2.0) and inner.inputs[0].shape == inner.shape:
        return sd.abs(inner.inputs[0])
    return None


STABILITY: list[RuleSpec] = [
    RuleSpec("softplus", _softplus, ("log", "log1p"), "log(1 + exp(x)) as softplus(x)"),
    RuleSpec("log1p", _log1p, ("log",), "log(1 + x) as log1p(x)"),
    RuleSpec("expm1", _expm1, ("sub", "add"), "exp(x) - 1 as expm1(x)"),
    RuleSpec("sigmoid", _sigmoid, ("div",), "1 / (1 + exp(-x)) as sigmoid(x)"),
    RuleSpec("logsumexp", _logsumexp, ("log",), "log(sum(exp(x))) as logsumexp(x)"),
    RuleSpec("abs", _abs, ("sqrt",), "sqrt(x**2) as abs(x)"),
]


def stabilize(roots: Sequence[Node], counts: Counter[str] | None = None) -> list[Node]:
    """``roots`` with the stability rewrites applied; ``counts``, if given, tallies the rules."""
    rw = Rewriter(STABILITY)
    if counts is not None:
        rw.counts = counts
    new = rw.run(roots)
    return [new.get(r, r) for r in roots]
