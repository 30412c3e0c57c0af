"""A hypothesis strategy for random expression DAGs over the op table, and domain predicates.

Each maker draws operands from the pool of nodes built so far (so subexpressions and
variables are shared), sometimes a constant on either side, and returns a new node.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

import symdiff as sd
from symdiff.graph import BOOL, FLOAT, Node
from symdiff.ops import ELEMENTWISE, OPS

INTERNAL = {"scatter": "the adjoint of getitem", "sort_put": "the adjoint of sort", "sort_take": "its adjoint",
            "partition_put": "the adjoint of partition", "partition_take": "its adjoint",
            "item": "the outputs of split", "zeros": "unreached gradients",
            "eye": "the seeds of jacobian and hessian",
            "dimsize": "a named dimension's size (tests/test_named_dims.py)",
            "arange": "positions along a named axis (tests/test_named_dims_matrix.py)",
            "scan": "loops, built from a step function (tests/test_scan.py)",
            "integer_arithmetic": "int64 index arithmetic (tests/test_integer_arithmetic.py)",
            "revolve": "the VJP of a binomially checkpointed scan (tests/test_scan.py)"}
# From the op table: every built-in float elementwise op (tofloat takes booleans: drawn with them)
_FLOAT = {name: op for name, op in OPS.items()
          if op.kind == ELEMENTWISE and op.module is None and op.dtype == FLOAT and name != "tofloat"}
UNARY = [name for name, op in _FLOAT.items() if op.arity == 1]
BINARY = {name: getattr(sd, op.ufunc or name) for name, op in _FLOAT.items() if op.arity == 2}
COMPARE = {name: getattr(sd, op.ufunc or "") for name, op in OPS.items()
           if op.kind == ELEMENTWISE and op.dtype == BOOL and op.weak_scalar}
UNARY_BUILDERS: dict[str, Callable[[Any], Node]] = {name: getattr(sd, OPS[name].ufunc or name) for name in UNARY}
# floating-point predicates (isnan, ...): boolean ops of one float, drawn into conditions
PREDICATES = sorted(name for name, op in OPS.items() if op.kind == ELEMENTWISE and op.module is None
                    and op.dtype == BOOL and op.arity == 1 and name != "logical_not")
DIVISORS = ("div", "power", "remainder", "fmod", "floor_divide", "float_power")  # constant right operands > 0.5


@dataclass
class Graph:
    """A drawn problem: the objective, its variables and the point to check at."""

    objective: Node
    variables: list[Node]
    point: list[Any]
    ops: set[str]


def sub_shapes(base: tuple[int, ...]) -> list[tuple[int, ...]]:
    if base == (3,):
        return [(), (3,)]
    return [(), (3,), (1, 3), (2, 1), (2, 3)]


def broadcasts(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


def constant(draw: Any, shape: tuple[int, ...], low: float = -1.5, high: float = 1.5) -> Any:
    values = draw(st.lists(st.floats(low, high), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    return float(values[0]) if shape == () else np.array(values).reshape(shape)


def operand(draw: Any, pool: list[Node], fits: Callable[[Node], bool] = lambda n: True) -> Node | None:
    candidates = [n for n in pool if n.dtype == FLOAT and fits(n)]
    return draw(st.sampled_from(candidates)) if candidates else None


def unary(draw: Any, pool: list[Node], ops: set[str]) -> Node | None:
    name = draw(st.sampled_from(UNARY))
    x = operand(draw, pool)
    if x is None:
        return None
    ops.add(name)
    return UNARY_BUILDERS[name](x)


def binary(draw: Any, pool: list[Node], ops: set[str]) -> Node | None:
    name = draw(st.sampled_from(sorted(BINARY)))
    a = operand(draw, pool)
    if a is None:
        return None
    side = draw(st.sampled_from(["node", "const left", "const right"]))
    if side == "node":
        b = operand(draw, pool, lambda n: broadcasts(n.shape, a.shape))
        if b is None:
            return None
        left, right = a, b
    else:
        shape = draw(st.sampled_from([(), a.shape]))
        low = 0.5 if name in DIVISORS and side == "const right" else -1.5
        c = constant(draw, shape, low, 2.0 if name in ("power", "float_power") else 1.5)
        left, right = (c, a) if side == "const left" else (a, c)
    if name == "power" and side == "const right" and draw(st.booleans()):
        right = float(draw(st.integers(-2, 3)))  # whole exponents, which negative bases allow
    ops.add(name)
    return BINARY[name](left, right)


def select(draw: Any, pool: list[Node], ops: set[str]) -> Node | None:
    a = operand(draw, pool)
    if a is None:
        return None
    compare = draw(st.sampled_from(sorted(COMPARE)))
    threshold = draw(st.floats(-1.0, 1.0))
    condition = COMPARE[compare](a, threshold)
    if draw(st.booleans()):
        other = operand(draw, pool, lambda n: broadcasts(n.shape, a.shape))
        extra = sd.greater(other, 0.0) if other is not None else sd.less(a, 1.0)
        combine = draw(st.sampled_from(["logical_and", "logical_or", "logical_not", *PREDICATES]))
        ops.add(combine)
        if combine in PREDICATES:  # true or false at every finite point: and-ed in, it keeps or drops the branch
            ops.add("logical_and")
            condition = sd.logical_and(condition, getattr(sd, combine)(a))
        else:
            condition = (sd.logical_not(condition) if combine == "logical_not"
                         else getattr(sd, combine)(condition, extra))
    taken = operand(draw, pool, lambda n: broadcasts(n.shape, condition.shape))
    if taken is None:
        return None
    ops.update({compare, "where"})
    if draw(st.booleans()):
        ops.add("tofloat")
        return sd.tofloat(condition) * taken
    # not 0.0 * a: SymPy, the oracle, folds 0*x to 0 where IEEE would not
    return sd.where(condition, taken, draw(st.sampled_from([0.5, 1.0])) * a)


def reduction(draw: Any, pool: list[Node], ops: set[str]) -> Node | None:
    x = operand(draw, pool)
    if x is None:
        return None
    name = draw(st.sampled_from(["sum", "mean", "max", "min", "prod", "logsumexp"]))
    axis = draw(st.sampled_from([None, *range(-x.ndim, x.ndim)])) if x.ndim else None
    ops.add(name)
    return getattr(sd, name)(x, axis=axis, keepdims=draw(st.booleans()))


def layout(draw: Any, pool: list[Node], ops: set[str]) -> Node | None:
    x = operand(draw, pool, lambda n: n.ndim >= 1 and n.shape[0] >= 2)
    if x is None:
        return None
    name = draw(st.sampled_from(["reshape", "transpose", "broadcast_to", "getitem", "concatenate", "split",
                                 "matmul"]))
    ops.add(name)
    if name == "reshape":
        return sd.reshape(x, (-1,) if x.ndim > 1 else (1, x.size))
    if name == "transpose":
        return sd.transpose(x) if x.ndim > 1 else sd.transpose(sd.broadcast_to(x, (2, *x.shape)))
    if name == "broadcast_to":
        return sd.broadcast_to(x, (2, *x.shape))
    if name == "getitem":
        index = draw(st.sampled_from([np.s_[1:], np.s_[::-1], np.s_[0], np.s_[..., :1]]))
        return x[index]
    if name == "concatenate":
        other = draw(st.sampled_from([x * 2.0, constant(draw, x.shape)]))
        return sd.concatenate([x, other], axis=0)
    if name == "split":
        ops.add("item")
        top, rest = sd.split(x, [1], axis=0)
        return top * rest[:1] + rest[-1:]
    inner = x.shape[-1]
    matrix = constant(draw, (inner, 2))
    return x @ matrix if x.ndim > 2 or draw(st.booleans()) else matrix.T @ sd.transpose(x)


def indexing(draw: Any, pool: list[Node], ops: set[str]) -> Node | None:
    """An integer-array index (gather, with scatter_add as its adjoint), an argmax pick, or an .at update."""
    x = operand(draw, pool, lambda n: n.ndim >= 1 and n.shape[0] >= 2)
    if x is None:
        return None
    n = x.shape[0]
    rows = draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4))
    ops.update({"gather", "scatter_add"})
    kind = draw(st.sampled_from(["gather", "pick", "update", "sort", "cumsum", "partition", "count_nonzero"]))
    if kind in ("sort", "cumsum"):
        ops.add(kind)
        return getattr(sd, kind)(x, axis=0)
    if kind == "partition":
        ops.add(kind)
        return sd.partition(x, n // 2, axis=0)
    if kind == "count_nonzero":
        ops.add(kind)
        return x * sd.count_nonzero(x > 0.0, axis=0, keepdims=True)
    if kind == "gather":
        return x[rows]
    if kind == "pick":
        name = draw(st.sampled_from(["argmax", "argmin"]))
        ops.add(name)
        return sd.take_along_axis(x, getattr(sd, name)(x, axis=0, keepdims=True), axis=0)
    return x.at[rows].add(2.0 * x[0])


LINALG = ("solve", "inv", "det", "slogdet", "cholesky", "eigh", "eigh_upper", "svd", "qr", "pinv")


def linalg(draw: Any, pool: list[Node], ops: set[str]) -> Node | None:
    """A factorisation or solve of a 2 x 2 matrix made positive definite, or of a 2 x 3 one as drawn."""
    x = operand(draw, pool, lambda n: n.shape == (2, 3))
    if x is None:
        return None
    name = draw(st.sampled_from(LINALG))
    ops.add(name)
    square = x[:, :2] @ x[:, :2].T + 2.0 * np.eye(2)
    if name in ("slogdet", "eigh", "eigh_upper", "svd", "qr"):
        ops.add("item")
    if name == "solve":
        return sd.linalg.solve(square, x)
    if name in ("inv", "det", "cholesky"):
        return getattr(sd.linalg, name)(square)
    if name == "slogdet":
        return sd.linalg.slogdet(square)[1]
    if name in ("eigh", "eigh_upper"):
        w, v = sd.linalg.eigh(square, UPLO="L" if name == "eigh" else "U")
        return w[:, None] * v * v  # an eigenvector's sign is LAPACK's choice: only sign-free functions of it
    if name == "svd":  # are differentiable (u_k s_k vh_k is, the signs of u_k and vh_k flip together)
        u, s, vh = sd.linalg.svd(x, full_matrices=False)
        return (u * s) @ vh[:, :1]
    if name == "qr":
        return sd.linalg.qr(x.T)[1] ** 2  # a row of R changes sign with its reflector, where R jumps
    return sd.linalg.pinv(x)


SCALAR_MAKERS = [unary, unary, binary, binary, select, reduction]
ARRAY_MAKERS = [unary, binary, select, reduction, layout, layout, indexing, linalg]


@st.composite
def graphs(draw: Any, scalar: bool) -> Graph:
    base = () if scalar else draw(st.sampled_from([(3,), (2, 3)]))
    shapes = [()] * draw(st.integers(1, 3)) if scalar else [
        draw(st.sampled_from(sub_shapes(base))) for _ in range(draw(st.integers(1, 3)))
    ]
    variables = [sd.var(f"v{i}", shape=s) for i, s in enumerate(shapes)]
    point = []
    for shape in shapes:
        positive = draw(st.booleans()) or draw(st.booleans())
        point.append(constant(draw, shape, 0.2 if positive else -1.6, 1.6))
    pool: list[Node] = list(variables)
    ops: set[str] = set()
    makers = SCALAR_MAKERS if scalar else ARRAY_MAKERS
    for _ in range(draw(st.integers(3, 10))):
        node = draw(st.sampled_from(makers))(draw, pool, ops)
        if node is not None:
            pool.append(node)
    picks = [pool[-1], *draw(st.lists(st.sampled_from(pool), max_size=2))]
    objective = sd.as_node(0.0)
    for node in picks:
        weight = constant(draw, node.shape, 0.5, 1.5)
        objective = objective + sd.sum(sd.tofloat(node) * weight)
    return Graph(objective, variables, point, ops)


SAFE_TIE = 1e-3


COVERED = {*UNARY, *BINARY, *COMPARE, *PREDICATES, "where", "logical_and", "logical_or", "logical_not", "tofloat",
           "sum", "mean", "max", "min", "prod", "logsumexp", "reshape", "transpose", "broadcast_to", "getitem",
           "concatenate", "split", "item", "matmul", "gather", "scatter_add", "argmax", "argmin", "sort", "cumsum",
           "partition", "count_nonzero",
           *LINALG}


def inside_domain(node: Node, args: list[Any]) -> bool:
    """Whether finite differences around these input values are meaningful for ``node``'s op."""
    op = node.op
    values = [np.asarray(a, dtype=np.float64) for a in args]
    x = values[0]
    if any(not np.all(np.isfinite(v)) or np.max(np.abs(v), initial=0.0) > 1e4 for v in values):
        return False
    checks = {
        "log": lambda: np.all(x > 0.05), "sqrt": lambda: np.all(x > 0.05), "log1p": lambda: np.all(x > -0.9),
        "arcsin": lambda: np.all(np.abs(x) < 0.9), "arccos": lambda: np.all(np.abs(x) < 0.9),
        "tan": lambda: np.all(np.abs(np.cos(x)) > 0.2), "exp": lambda: np.all(x < 8),
        "expm1": lambda: np.all(x < 8), "sinh": lambda: np.all(np.abs(x) < 8), "cosh": lambda: np.all(np.abs(x) < 8),
        "abs": lambda: np.all(np.abs(x) > SAFE_TIE), "sign": lambda: np.all(np.abs(x) > SAFE_TIE),
        "relu": lambda: np.all(np.abs(x) > SAFE_TIE),
        "div": lambda: np.all(np.abs(values[1]) > 0.05),
        "power": lambda: _power_ok(node, x, values[1]),
        "max": lambda: _clear_maximum(x, node.attrs[0]),
        # SymPy, the oracle, evaluates sin(pi x) / (pi x) by cancellation: garbage for subnormal x
        "sinc": lambda: np.all(np.abs(x) > 1e-3),
        "sort": lambda: _untied(x, node.attrs[0]), "partition": lambda: _untied(x, node.attrs[0]),
        "argmax": lambda: _clear_maximum(x, node.attrs[0]), "argmin": lambda: _clear_maximum(-x, node.attrs[0]),
        "eigh": lambda: _gaps(np.linalg.eigvalsh(x)), "eigh_upper": lambda: _gaps(np.linalg.eigvalsh(x)),
        "svd": lambda: _gaps(np.linalg.svd(x, compute_uv=False), floor=True),
        "qr": lambda: _gaps(np.linalg.svd(x, compute_uv=False), floor=True),
        "pinv": lambda: _gaps(np.linalg.svd(x, compute_uv=False), floor=True),
        "min": lambda: _clear_maximum(-x, node.attrs[0]),
        "prod": lambda: np.all(np.abs(x) > 0.05) and np.all(np.abs(x) < 4),
        "arccosh": lambda: np.all(x > 1.05), "arctanh": lambda: np.all(np.abs(x) < 0.9),
        "log2": lambda: np.all(x > 0.05), "log10": lambda: np.all(x > 0.05), "exp2": lambda: np.all(x < 8),
        "cbrt": lambda: np.all(np.abs(x) > 0.05), "reciprocal": lambda: np.all(np.abs(x) > 0.05),
        "floor": lambda: _clear_of_jumps(x), "ceil": lambda: _clear_of_jumps(x), "trunc": lambda: _clear_of_jumps(x),
        "rint": lambda: _clear_of_jumps(x + 0.5),
        # off the origin, and off the branch cut (x1 = 0 with x2 < 0), where arctan2 jumps by 2 pi
        "arctan2": lambda: np.all(np.hypot(x, values[1]) > 0.05) and not np.any((np.abs(x) < 0.05) & (values[1] < 0)),
        "hypot": lambda: np.all(np.hypot(x, values[1]) > 0.05),
        "copysign": lambda: np.all(np.abs(x) > SAFE_TIE) and np.all(np.abs(values[1]) > SAFE_TIE),
        "heaviside": lambda: np.all(np.abs(x) > SAFE_TIE),
        "float_power": lambda: _power_ok(node, x, values[1]),
    }
    if op in ("remainder", "fmod", "floor_divide"):  # jumps where x / y is a whole number
        return bool(np.all(np.abs(values[1]) > 0.05) and _clear_of_jumps(x / values[1]))
    if op in ("maximum", "minimum", "fmax", "fmin", *COMPARE):
        return bool(np.all(np.abs(values[0] - values[1]) > SAFE_TIE))
    check = checks.get(op)
    return True if check is None else bool(check())


def _untied(x: np.ndarray, axis: int) -> bool:
    """No two entries along ``axis`` within SAFE_TIE: the sorting permutation holds around the point."""
    return x.ndim == 0 or bool(np.all(np.diff(np.sort(x, axis=axis), axis=axis) > SAFE_TIE))


def _gaps(values: np.ndarray, floor: bool = False) -> bool:
    """Distinct eigen- or singular values (their vectors' derivatives divide by the gaps), and with
    ``floor`` none near 0 (a rank about to drop)."""
    ordered = np.sort(values, axis=-1)
    apart = bool(np.all(np.diff(ordered, axis=-1) > 0.05))
    return apart and (not floor or bool(np.all(ordered > 0.05)))


def _clear_of_jumps(x: np.ndarray) -> bool:
    """No whole number within SAFE_TIE (relative beyond 1) of ``x``: a step function is flat around it."""
    return bool(np.all(np.abs(x) < 100) and np.all(np.abs(x - np.round(x)) > SAFE_TIE * np.maximum(1.0, np.abs(x))))


def _clear_maximum(x: np.ndarray, axes: tuple[int, ...]) -> bool:
    """The largest element of each reduced group beats the runner-up by more than SAFE_TIE."""
    kept = [i for i in range(x.ndim) if i not in axes]
    groups = np.transpose(x, (*kept, *axes)).reshape(-1, int(np.prod([x.shape[i] for i in axes], dtype=int)))
    if groups.shape[1] < 2:
        return True
    top = np.sort(groups, axis=1)
    return bool(np.all(top[:, -1] - top[:, -2] > SAFE_TIE))


def _power_ok(node: Node, base: np.ndarray, exponent: np.ndarray) -> bool:
    """A real derivative needs base > 0, unless the exponent is a whole constant."""
    whole = node.inputs[1].op == "const" and np.all(exponent == np.round(exponent))
    return bool((whole or np.all(base > 0.05)) and np.all(np.abs(base) > 0.05) and np.all(np.abs(exponent) <= 3))
