"""Gradient checks shipped with the package: finite differences, a dot-product test, SymPy.

Each check returns ``None`` when the gradients agree and raises ``GradientError``
(with ``variable``, ``index``, ``got``, ``expected``, ``rtol``, ``atol``) otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff.adjoint import depends_on
from symdiff.api import as_node
from symdiff.compiler import compile, load, value_function  # noqa: A004
from symdiff.emit import FunctionSpec, emit_function
from symdiff.errors import GradientError, UnsupportedError
from symdiff.graph import BOOL, FLOAT, INT, TUPLE, Node, graph_window, toposort
from symdiff.guard import guard_where
from symdiff.pipeline import variables

ELEMENTWISE_LIMIT = 4096  # beyond this many elements per variable, only directional checks run


def check_grad(expr: Any, wrt: Node | Sequence[Node], inputs: Sequence[Node] | None = None, *,
               at: Sequence[Any], rtol: float = 1e-5, atol: float = 1e-7, eps: float = 1e-6,
               seed: int = 0, blame: bool = True) -> None:
    """Compare compiled gradients with central differences and a random dot-product test.

    ``at`` holds one value per input, in ``inputs`` order (default: ``wrt``). On a mismatch,
    each node's own VJP is re-checked by finite differences in topological order, and the
    ``GradientError`` names the first node whose rule is wrong (``op`` and ``node``), if any.
    """
    wrt_list = variables([wrt] if isinstance(wrt, Node) else wrt, "wrt")
    input_list = wrt_list if inputs is None else variables(inputs, "inputs")
    if len(at) != len(input_list):
        raise UnsupportedError(f"check_grad: {len(at)} values given for {len(input_list)} inputs")
    point = [np.array(v, dtype=np.int64 if n.dtype == INT else np.float64) for v, n in zip(at, input_list, strict=True)]
    try:
        _check_at(expr, wrt_list, input_list, point, rtol, atol, eps, seed)
    except GradientError as error:
        found = _blame(expr, wrt_list, input_list, point, rtol, atol, eps, seed) if blame else None
        if found is None:
            raise
        culprit, where = found
        shapes = [c.shape for c in culprit.inputs]
        raise GradientError(
            f"{error}\nThe first node whose own VJP disagrees with finite differences is '{culprit.op}'{where} "
            f"(inputs of shapes {shapes}):\n{graph_window(culprit)}",
            variable=error.variable, index=error.index, got=error.got, expected=error.expected,
            rtol=rtol, atol=atol, op=culprit.op, node=culprit,
        ) from None


def _check_at(expr: Any, wrt_list: list[Node], input_list: list[Node], point: list[np.ndarray],
              rtol: float, atol: float, eps: float, seed: int) -> None:
    _, grads = compile(expr, wrt_list, input_list)(*point)
    f = value_function(expr, input_list)
    rng = np.random.default_rng(seed)
    for variable, grad in zip(wrt_list, grads, strict=True):
        position = next(i for i, v in enumerate(input_list) if v is variable)
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


def _blame(expr: Any, wrt: list[Node], inputs: list[Node], point: list[np.ndarray],
           rtol: float, atol: float, eps: float, seed: int) -> tuple[Node, str] | None:
    """The first node, in topological order, whose local VJP fails a finite-difference check,
    and where it is: a loop whose VJP fails is searched in its body, at its first step."""
    (root,) = guard_where([as_node(expr, "expr")])
    found = _first_wrong(root, wrt, inputs, point, rtol, atol, eps, seed)
    where = ""
    while found is not None and found[0].op == "scan":
        inside = _in_body(found[0], found[1], rtol, atol, eps, seed)
        if inside is None:
            break  # every node of the body passes: the loop's own rule is at fault
        found, where = inside, where + " inside the body of a scan (at its first step)"
    return None if found is None else (found[0], where)


def _first_wrong(root: Node, wrt: list[Node], inputs: list[Node], point: list[Any], rtol: float, atol: float,
                 eps: float, seed: int) -> tuple[Node, dict[Node, Any]] | None:
    """The first node of ``root``'s graph whose own VJP is wrong, with the values of its graph."""
    order = toposort([root])
    active = depends_on(order, set(wrt))
    suspects = [n for n in order if n in active and n.inputs and n.op != "item" and n.dtype != BOOL]
    values = intermediate_values(suspects, inputs, point)
    rng = np.random.default_rng(seed)
    for node in suspects:
        moving = [i for i, c in enumerate(node.inputs) if c in active and c.dtype == FLOAT]
        local = [sd.var(f"input{i}", shape=node.inputs[i].shape) for i in moving]
        args = [local[moving.index(i)] if i in moving else as_node(values[c]) for i, c in enumerate(node.inputs)]
        rebuilt = sd.apply(node.op, args, node.attrs)
        parts = sd.outputs(rebuilt) if rebuilt.dtype == TUPLE else (rebuilt,)
        objective = sd.as_node(0.0)
        for part in parts:
            objective = objective + sd.sum(part * rng.standard_normal(part.shape))
        try:
            check_grad(objective, local, at=[values[node.inputs[i]] for i in moving],
                       rtol=rtol, atol=atol, eps=eps, seed=seed, blame=False)
        except GradientError:
            return node, values
    return None


def _in_body(loop: Node, values: dict[Node, Any], rtol: float, atol: float, eps: float,
             seed: int) -> tuple[Node, dict[Node, Any]] | None:
    """The first wrong node of a loop's body, its placeholders set to the loop's first step."""
    body, steps, _, _, axis = loop.attrs
    if steps == 0:
        return None
    carries, xs = len(body.carry_in), len(body.x_in)
    given = [values[i] for i in loop.inputs]
    point = [*given[:carries], *(np.take(x, 0, axis=axis) for x in given[carries:carries + xs]),
             *given[carries + xs:]]
    rng = np.random.default_rng(seed)
    objective = sd.as_node(0.0)
    for out in (*body.carry_out, *body.y_out):
        if out.dtype == FLOAT:
            objective = objective + sd.sum(out * rng.standard_normal(out.shape))
    placeholders = list(body.placeholders)
    wrt = [p for p in placeholders if p.dtype == FLOAT]
    return _first_wrong(objective, wrt, placeholders, point, rtol, atol, eps, seed)


def intermediate_values(nodes: Sequence[Node], inputs: list[Node], point: list[np.ndarray]) -> dict[Node, Any]:
    """The value of every input of ``nodes`` at ``point``, from one generated function."""
    wanted = list(dict.fromkeys(c for n in nodes for c in n.inputs if c.dtype != TUPLE))
    if not wanted:
        return {}
    spec = FunctionSpec(
        name="intermediates", inputs=inputs, outputs=wanted, layout=lambda texts: "(" + ", ".join(texts) + ",)",
        output_names=[f"v{i}" for i in range(len(wanted))], summary="Intermediate values (for checks).",
        describe_inputs=lambda node: "",
    )
    results = load(emit_function(spec))(*point)
    return dict(zip(wanted, results, strict=True))


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

    wrt_list = variables([wrt] if isinstance(wrt, Node) else wrt, "wrt")
    input_list = wrt_list if inputs is None else variables(inputs, "inputs")
    if any(v.shape != () for v in input_list):
        raise UnsupportedError("assert_matches_sympy needs scalar inputs; check arrays with check_grad")
    symbols = {v: sympy.Symbol(f"s{i}", real=True) for i, v in enumerate(input_list)}
    substitution = {symbols[v]: sympy.Float(float(x), 30) for v, x in zip(input_list, at, strict=True)}
    value, grads = compile(expr, wrt_list, input_list)(*at)
    try:
        expression = to_sympy(expr, symbols)
        if as_node(expr).dtype == BOOL:
            expression = sympy.Piecewise((1, expression), (0, True))  # compile counts a boolean as 0/1
        expected_value = complex(expression.subs(substitution).evalf(30))
        expected = [complex(sympy.diff(expression, symbols[v]).subs(substitution).evalf(30)) for v in wrt_list]
    except (TypeError, ValueError, RecursionError, ZeroDivisionError) as error:
        # SymPy can fail to build or evaluate what NumPy computes fine (e.g. a comparison
        # with zoo from 1/0 inside a Piecewise): the oracle, not the graph, gave up.
        raise UnsupportedError(f"SymPy could not evaluate this graph at {list(at)}: {error}") from None
    _compare("value", np.array(float(value)), np.array(expected_value.real), rtol, atol, "SymPy's value")
    for variable, grad, derivative in zip(wrt_list, grads, expected, strict=True):
        _compare(variable.label, np.array(float(grad)), np.array(derivative.real), rtol, atol, "sympy.diff")


def check_op(name: str, shapes: Sequence[tuple[int, ...]] | None = None, *, seed: int = 0,
             rtol: float = 1e-5, atol: float = 1e-7) -> None:
    """Run the derivative checks every built-in op gets on one op of the table.

    Points are sampled inside the op's domain. Scalar inputs are checked against SymPy (when
    the op has a SymPy form) and central differences; with the default elementwise shape
    rule, arrays of shape (2, 3) are checked by central differences and the dot-product test.
    ``shapes`` (one per input) replaces the default input shapes.
    """
    from symdiff.ops import OPS, broadcast

    op = OPS.get(name)
    if op is None:
        raise UnsupportedError(f"check_op: no op named {name!r}")
    arity = op.arity if op.arity is not None else len(op.domain)
    domains = op.domain if len(op.domain) == arity else ((-2.0, 2.0),) * arity
    if shapes is not None:
        cases = [tuple(tuple(s) for s in shapes)]
    elif op.shape is broadcast or op.module is not None:
        cases = [((),) * arity, ((2, 3),) * arity]
    else:
        cases = [((),) * arity]
    rng = np.random.default_rng(seed)
    for case in cases:
        variables = [sd.var(f"a{i}", shape=s) for i, s in enumerate(case)]
        try:
            out = sd.apply(name, variables)
        except Exception as error:
            raise UnsupportedError(f"check_op({name!r}) cannot build the op on shapes {case}: {error}") from None
        point = [rng.uniform(lo, hi, size=s) for s, (lo, hi) in zip(case, domains, strict=True)]
        weights = rng.uniform(0.5, 1.5, size=out.shape)
        check_grad(sd.sum(out * weights), variables, at=point, rtol=rtol, atol=atol, seed=seed)
        if out.shape == () and all(s == () for s in case) and op.sympy is not None:
            assert_matches_sympy(out, variables, at=[float(p) for p in point])
