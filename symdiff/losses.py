"""Ops for losses, in forms that stay finite where the textbook formula overflows.

Each is one table entry: ``sigmoid`` via ``logaddexp``, ``softplus`` as ``logaddexp(0, x)``,
``logaddexp`` itself, and ``logsumexp`` with its max shift (a runtime helper, so the shift
is computed once). Their VJPs use the same stable forms: ``sigmoid`` for softplus,
``sigmoid(a - b)`` for logaddexp, the softmax ``exp(x - y)`` for logsumexp.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff.errors import ShapeError
from symdiff.graph import Node, short_text
from symdiff.op_table import expand_reduced, kept_value
from symdiff.ops import (
    ELEMENTWISE,
    REDUCTION,
    Op,
    _sympy,
    broadcast,
    broadcast_shapes,
    nonempty_reduction,
    reduced,
    register,
    same_shape,
)
from symdiff.printers import (
    ATOM,
    function_call,
    spelled,
)


def _logsumexp_printer(a: Sequence[str], node: Node) -> str:
    axes, keepdims = node.attrs
    return f"_logsumexp({a[0]}, {axes}, {keepdims})"


def _logsumexp_vjp(g: Node, y: Node, x: Node) -> tuple[Node]:
    axes = y.attrs[0]
    peak = kept_value(y, x, axes)
    return (expand_reduced(g, x, axes) * sd.exp(x - peak),)


# sigmoid' = y * (1 - y), written y * sigmoid(-x): 1 - y cancels to noise once y is near 1
register(Op("sigmoid", same_shape, lambda a, n: f"{spelled('exp')}(-{spelled('logaddexp')}(0.0, -{a[0]}))",
            lambda g, y, x: (g * (y * sigmoid(-x)),),
            arg_prec=(15,), sympy=lambda a: 1 / (1 + _sympy().exp(-a)), domain=((-3.0, 3.0),), kind=ELEMENTWISE))
register(Op("softplus", same_shape, lambda a, n: f"{spelled('logaddexp')}(0.0, {a[0]})",
            lambda g, y, x: (g * sigmoid(x),),
            sympy=lambda a: _sympy().log(1 + _sympy().exp(a)), domain=((-3.0, 3.0),), kind=ELEMENTWISE))
register(Op("logaddexp", broadcast, function_call("logaddexp"),
            lambda g, y, a, b: (g * sigmoid(a - b), g * sigmoid(b - a)),  # exp(a - y), without y's rounding
            sympy=lambda a, b: _sympy().log(_sympy().exp(a) + _sympy().exp(b)), domain=((-2.0, 2.0), (-2.0, 2.0)),
            kind=ELEMENTWISE, ufunc="logaddexp"))
register(Op("logsumexp", reduced, _logsumexp_printer, _logsumexp_vjp, prec=ATOM, zero_d=True, sympy=lambda a: a,
            kind=REDUCTION, requires=nonempty_reduction))


def sigmoid(x: Any) -> Node:
    """1 / (1 + exp(-x)), finite and accurate for any x (``scipy.special.expit``)."""
    return sd.apply("sigmoid", [sd.tofloat(sd.as_node(x, "sigmoid argument"))])


def softplus(x: Any) -> Node:
    """log(1 + exp(x)) as ``logaddexp(0, x)``: no overflow for large x; its derivative is sigmoid."""
    return sd.apply("softplus", [sd.tofloat(sd.as_node(x, "softplus argument"))])


def logaddexp(a: Any, b: Any) -> Node:
    """log(exp(a) + exp(b)) without overflow."""
    return sd.apply("logaddexp", [sd.tofloat(sd.as_node(a, "logaddexp first argument")),
                                  sd.tofloat(sd.as_node(b, "logaddexp second argument"))])


def logsumexp(a: Any, axis: Any = None, b: Any = None, keepdims: bool = False, return_sign: bool = False) -> Any:
    """log(sum(b * exp(a), axis)), shifted by the maximum so that it neither overflows nor underflows.

    As ``scipy.special.logsumexp``: ``b`` scales the terms (broadcast against ``a``); with
    ``return_sign=True`` the result is ``(log|sum|, sign of the sum)``, else a negative sum
    gives NaN. Over a zero-length axis the sum is empty: -inf (sign 0).
    """
    node = sd.tofloat(sd.as_node(a, "logsumexp argument"))
    signed = sd._flag(return_sign, "logsumexp: return_sign")
    if b is not None:
        scale = sd.tofloat(sd.as_node(b, "logsumexp b"))
        fixed = scale.op == "const"
        try:
            shape = broadcast_shapes(node.shape, scale.shape)
        except ShapeError:
            raise ShapeError(f"logsumexp: b of shape {scale.shape} does not broadcast against a of shape "
                             f"{node.shape}") from None
        node, scale = sd.broadcast_to(node, shape), sd.broadcast_to(scale, shape)
    axes = sd._axes(axis, node, "logsumexp")
    keep = sd._flag(keepdims, f"logsumexp of {short_text(node, 2)}: keepdims")
    if any(node.shape[i] == 0 for i in axes):  # the max shift has no identity here: the answer is known
        empty = sd.broadcast_to(-np.inf, reduced([node.shape], (axes, keep)))
        return (empty, sd.broadcast_to(0.0, empty.shape)) if signed else empty
    if b is None:
        value = sd._reduce("logsumexp", node, axis, keep)
        return (value, sd.sign(sd.exp(value))) if signed else value  # 0 for an all -inf slice, NaN for NaN
    return _scaled_logsumexp(node, scale, fixed, axes, keep, signed)


def _scaled_logsumexp(a: Node, b: Node, fixed: bool, axes: tuple[int, ...], keep: bool, signed: bool) -> Any:
    # a constant b of 0 drops its term, as in SciPy, so a large a there moves no shift; a variable
    # b keeps every term, so that its gradient is right at 0 too
    if fixed:
        a = sd.where(sd.equal(b, 0.0), -np.inf, a)
    peak = sd.max(a, axis=axes, keepdims=True)
    peak = sd.where(sd.less(sd.abs(peak), np.inf), peak, 0.0)  # an infinite maximum is not shifted
    total = sd.sum(b * sd.exp(a - peak), axis=axes, keepdims=keep)
    shift = peak if keep else sd.reshape(peak, total.shape)
    if not signed:
        return sd.log(total) + shift
    return sd.log(sd.abs(total)) + shift, sd.sign(total)
