"""Gradient checks shipped with the package: finite differences, a dot-product test, SymPy.

Each check returns ``None`` when the gradients agree and raises ``GradientError``
(with ``variable``, ``index``, ``got``, ``expected``, ``rtol``, ``atol``) otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from symdiff.compiler import _variables, compile, value_function  # noqa: A004
from symdiff.errors import GradientError, UnsupportedError
from symdiff.graph import Node

ELEMENTWISE_LIMIT = 4096  # beyond this many elements per variable, only directional checks run


def check_grad(expr: Any, wrt: Node | Sequence[Node], inputs: Sequence[Node] | None = None, *,
               at: Sequence[Any], rtol: float = 1e-5, atol: float = 1e-7, eps: float = 1e-6,
               seed: int = 0) -> None:
    """Compare compiled gradients with central differences and a random dot-product test.

    ``at`` holds one value per input, in ``inputs`` order (default: ``wrt``).
    """
    wrt_list = _variables([wrt] if isinstance(wrt, Node) else wrt, "wrt")
    input_list = wrt_list if inputs is None else _variables(inputs, "inputs")
    point = [np.array(v, dtype=np.float64) for v in at]
    if len(point) != len(input_list):
        raise UnsupportedError(f"check_grad: {len(point)} values given for {len(input_list)} inputs")
    _, grads = compile(expr, wrt_list, input_list)(*point)
    f = value_function(expr, input_list)
    rng = np.random.default_rng(seed)
    for variable, grad in zip(wrt_list, grads, strict=True):
        position = input_list.index(variable)
        grad = np.asarray(grad, dtype=np.float64)

        def shifted(direction: np.ndarray, step: float, position: int = position) -> float:
            moved = list(point)
            moved[position] = point[position] + step * direction
            return float(f(*moved))

        if point[position].size <= ELEMENTWISE_LIMIT:
            expected = np.zeros_like(point[position])
            for index in np.ndindex(*point[position].shape):
                unit = np.zeros_like(point[position])
                unit[index] = 1.0
                h = eps * max(1.0, abs(float(point[position][index])))
                expected[index] = (shifted(unit, h) - shifted(unit, -h)) / (2 * h)
            _compare(variable.label, grad, expected, rtol, atol, "central differences")
        direction = rng.standard_normal(point[position].shape)
        h = eps * max(1.0, float(np.max(np.abs(point[position]), initial=0.0)))
        directional = (shifted(direction, h) - shifted(direction, -h)) / (2 * h)
        scale = float(np.sum(np.abs(grad * direction)))
        _compare(variable.label, np.array(float(np.sum(grad * direction))), np.array(directional),
                 rtol, atol + rtol * scale, "the dot-product test <grad, v> against a directional difference")


def _compare(label: str, got: np.ndarray, expected: np.ndarray, rtol: float, atol: float, method: str) -> None:
    excess = np.abs(got - expected) - (atol + rtol * np.abs(expected))
    excess = np.where(np.isnan(got) != np.isnan(expected), np.inf, np.nan_to_num(excess, nan=-np.inf))
    if excess.size == 0 or float(np.max(excess)) <= 0:
        return
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(excess)), excess.shape))
    g, e = float(got[index]), float(expected[index])
    raise GradientError(
        f"gradient of {label!r} disagrees with {method} at index {index}: got {g!r}, expected {e!r} "
        f"(rtol={rtol}, atol={atol})",
        variable=label, index=index, got=g, expected=e, rtol=rtol, atol=atol,
    )


def assert_matches_sympy(expr: Any, wrt: Node | Sequence[Node], inputs: Sequence[Node] | None = None, *,
                         at: Sequence[float], rtol: float = 1e-9, atol: float = 1e-12) -> None:
    """Compare value and gradients of a scalar graph with ``sympy.diff`` evaluated at ``at``."""
    import sympy

    from symdiff.sympy_bridge import to_sympy

    wrt_list = _variables([wrt] if isinstance(wrt, Node) else wrt, "wrt")
    input_list = wrt_list if inputs is None else _variables(inputs, "inputs")
    if any(v.shape != () for v in input_list):
        raise UnsupportedError("assert_matches_sympy needs scalar inputs; check arrays with check_grad")
    symbols = {v: sympy.Symbol(f"s{i}", real=True) for i, v in enumerate(input_list)}
    expression = to_sympy(expr, symbols)
    substitution = {symbols[v]: sympy.Float(float(x), 30) for v, x in zip(input_list, at, strict=True)}
    value, grads = compile(expr, wrt_list, input_list)(*at)
    expected_value = complex(expression.subs(substitution).evalf(30))
    _compare("value", np.array(float(value)), np.array(expected_value.real), rtol, atol, "SymPy's value")
    for variable, grad in zip(wrt_list, grads, strict=True):
        derivative = sympy.diff(expression, symbols[variable])
        expected = complex(derivative.subs(substitution).evalf(30))
        _compare(variable.label, np.array(float(grad)), np.array(expected.real), rtol, atol, "sympy.diff")
