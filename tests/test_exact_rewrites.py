"""Rewrites on special values: signed zeros, infinities, NaN of both signs, subnormals, huge
numbers and empty arrays.

The construction rewrites must be bit-identical to NumPy. The compile-time speed rewrites may
differ from ``rewrites=False`` only in the class README and ``symdiff.rewrite`` give each rule.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import symdiff as sd
from symdiff.compiler import load
from symdiff.emit import FunctionSpec, emit_function
from symdiff.graph import Node, short_text, toposort
from symdiff.rewrite import SPEED, Rewriter

SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 5e-324, 1e-300, 1e300, 1.0, -2.5])
FINITE = SPECIAL[np.isfinite(SPECIAL)]


def numpy_code(nodes: Sequence[Node], inputs: Sequence[Node]) -> Callable[..., tuple[Any, ...]]:
    """The NumPy code symdiff prints for ``nodes`` (no plain-float body), returning each one's value."""
    return load(emit_function(FunctionSpec(
        name="values", inputs=inputs, outputs=nodes, layout=lambda texts: "(" + ", ".join(texts) + ",)",
        output_names=[f"v{i}" for i in range(len(nodes))], summary="Values.", describe_inputs=lambda node: "",
        fast_path=False,
    )))


def bits(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=np.float64).view(np.uint64)


def same_bits(got: Any, expected: Any) -> bool:
    return bool(np.shape(got) == np.shape(expected) and np.array_equal(bits(got), bits(expected)))


def show(values: Any) -> str:
    """Values with the sign of NaN shown (repr prints both NaNs as nan)."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    return ", ".join(("-nan" if np.signbit(v) else "nan") if np.isnan(v) else repr(float(v)) for v in flat)


# ---- construction rewrites: bit for bit what NumPy computes -----------------------------------

# each applies to nodes (the builders), to NumPy scalars (NumPy's scalar operators) and to arrays
UNARY: dict[str, Callable[[Any], Any]] = {
    "x * 1": lambda x: x * 1.0,
    "1 * x": lambda x: 1.0 * x,
    "x * ones(1)": lambda x: x * np.ones(1),
    "x * True": lambda x: x * True,
    "x * -1": lambda x: x * -1.0,
    "-1 * x": lambda x: -1.0 * x,
    "x / 1": lambda x: x / 1.0,
    "x ** 1": lambda x: x**1.0,
    "--x": lambda x: operator.neg(-x),
    "-(2 * x)": lambda x: -(2.0 * x),
    "x + 0.0": lambda x: x + 0.0,
    "0.0 + x": lambda x: 0.0 + x,
    "x + -0.0": lambda x: x + -0.0,
    "-0.0 + x": lambda x: -0.0 + x,
    "x + zeros(1)": lambda x: x + np.zeros(1),
    "x + full((1, 1), -0.0)": lambda x: x + np.full((1, 1), -0.0),
    "x - 0.0": lambda x: x - 0.0,
    "x - -0.0": lambda x: x - -0.0,
    "0.0 - x": lambda x: 0.0 - x,
    "-0.0 - x": lambda x: -0.0 - x,
}
BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "a + -b": lambda a, b: a + -b,
    "-a + b": lambda a, b: -a + b,
    "a - -b": lambda a, b: a - -b,
    "-a - b": lambda a, b: -a - b,
}


def numpy_answers(build: Callable[..., Any], point: Sequence[Any]) -> list[Any]:
    """NumPy's result, by its scalar operators and by its ufuncs (as on 0-d arrays). The two
    pick different NaNs at times: ``nan + -nan`` takes the second NaN, ``np.add`` the first,
    and ``np.float64(-nan) ** 1.0`` is ``nan``, ``np.power`` keeps ``-nan``."""
    answers = [build(*point)]
    if all(np.ndim(v) == 0 for v in point):
        answers.append(build(*(np.asarray(v) for v in point)))
    return answers


def special_points(shape: tuple[int, ...]) -> list[Any]:
    """Every special value as a scalar, or all of them in one array, or an empty array."""
    if shape == ():
        return list(SPECIAL)
    return [np.zeros(shape) if 0 in shape else SPECIAL.reshape(shape)]


def mismatch(label: str, point: Sequence[Any], got: Any, expected: Any) -> str:
    """Where ``got`` and ``expected`` differ: the inputs there and both results."""
    where = bits(got) != bits(expected) if np.shape(got) == np.shape(expected) else ...
    inputs = "; ".join(show(np.broadcast_to(v, np.shape(expected))[where]) for v in point)
    return f"{label} at {inputs}: {show(np.asarray(got)[where])}, NumPy {show(np.asarray(expected)[where])}"


def mismatches(build: Callable[..., Any], shapes: Sequence[tuple[int, ...]], label: str) -> list[str]:
    variables = [sd.var(f"v{i}", shape) for i, shape in enumerate(shapes)]
    function = numpy_code([sd.as_node(build(*variables))], variables)
    found = []
    for point in itertools.product(*(special_points(shape) for shape in shapes)):
        with np.errstate(all="ignore"):
            (got,), answers = function(*point), numpy_answers(build, point)
        if not any(same_bits(got, answer) for answer in answers):
            found.append(mismatch(label, point, got, answers[0]))
    return found


def test_construction_rewrites_are_bit_identical_to_numpy() -> None:
    found = [line for (label, build), shape in itertools.product(UNARY.items(), [(), (11,), (11, 1), (0,)])
             for line in mismatches(build, [shape], label)]
    assert not found, "\n".join(found)


def test_negations_are_kept_where_moving_them_changes_a_nan() -> None:
    pairs = [((), ()), ((11, 1), (11,)), ((0,), ()), ((), (0,))]
    found = [line for (label, build), shapes in itertools.product(BINARY.items(), pairs)
             for line in mismatches(build, shapes, label)]
    assert not found, "\n".join(found)


def test_constant_folding_is_bit_identical_to_numpy() -> None:
    operators = [operator.add, operator.sub, operator.mul, operator.truediv]
    operands = [*itertools.product(SPECIAL, SPECIAL), (SPECIAL[:, None], SPECIAL), (np.zeros(0), -0.0)]
    cases = [(op, a, b) for op in operators for a, b in operands]
    cases += [(operator.pow, base, k) for base in (SPECIAL, *SPECIAL) for k in (-2.0, -1.0, -0.0, 0.0, 1.0, 3.0, 1e300)]
    found = []
    with np.errstate(all="ignore"):
        for op, a, b in cases:
            node, answers = op(sd.as_node(a), sd.as_node(b)), numpy_answers(op, [a, b])
            label = f"{op.__name__}({show(a)}; {show(b)})"
            if node.op != "const":
                found.append(f"{label} is not folded")
            elif not any(same_bits(node.value, answer) for answer in answers):
                found.append(mismatch(label, [a, b], node.value, answers[0]))
    assert not found, "\n".join(found)


def test_the_exact_rewrites_are_made_and_no_others() -> None:
    x, y = sd.var("x"), sd.var("y")
    made = {"x * 1": x * 1, "1.0 * x": 1.0 * x, "x / 1": x / 1.0, "x ** 1": x**1.0, "--x": operator.neg(-x),
            "x + -0.0": x + -0.0, "-0.0 + x": -0.0 + x, "x - 0.0": x - 0.0}
    assert [label for label, node in made.items() if node is not x] == []
    kept = {"x + 0.0": (x + 0.0, "add"), "0.0 + x": (0.0 + x, "add"), "x - -0.0": (x - -0.0, "sub"),
            "0.0 - x": (0.0 - x, "sub"), "-0.0 - x": (-0.0 - x, "sub"), "x * -1": (x * -1.0, "mul"),
            "-(2 * x)": (-(2.0 * x), "neg"), "x + -y": (x + -y, "add"), "-x + y": (-x + y, "add"),
            "x - -y": (x - -y, "sub")}
    assert [label for label, (node, op) in kept.items() if node.op != op] == []


# ---- compile-time speed rewrites: equal where every input is finite and nothing overflows ----

EXACT = "bit-identical"
NAN = "only the sign of a NaN differs"
ROUNDED = "equal to rounding, zeros of either sign, where inputs are finite and nothing raises"
EYE = np.eye(2)
SYMMETRIC = np.array([[1.0, -2.5], [-2.5, 3.0]])


@dataclass(frozen=True)
class Case:
    rule: str
    build: Callable[..., Any]
    shapes: tuple[tuple[int, ...], ...]
    kind: str
    helpers: tuple[str, ...] = ()  # rules the rule needs beside it
    witness: tuple[Any, ...] = ()  # a point where README says the two differ


CASES = [
    Case("dot", lambda a, b: sd.sum(a * b), ((3,), (3,)), ROUNDED),
    Case("dot", lambda a: sd.sum(a**2), ((3,),), ROUNDED),
    Case("sum-broadcast", lambda s: sd.sum(sd.broadcast_to(s, (3,))), ((),), ROUNDED),
    Case("sum-broadcast", lambda s: sd.sum(sd.broadcast_to(s, (0,))), ((),), ROUNDED),
    Case("sum-scale", lambda s, v: sd.sum(s * v), ((), (3,)), ROUNDED),
    Case("sum-scale", lambda s, v: sd.sum(s * v), ((), (0,)), ROUNDED, witness=(np.inf, np.zeros(0))),
    Case("sum-scale", lambda s, v: sd.sum(v / s), ((), (3,)), ROUNDED),
    Case("sum-scale", lambda v: sd.sum(-v), ((3,),), ROUNDED),
    Case("identity", lambda m: EYE @ m, ((2, 2),), ROUNDED, witness=(np.array([[np.inf, 1.0], [2.0, 3.0]]),)),
    Case("diagonal", lambda s, m: (EYE * s) @ m, ((2,), (2, 2)), ROUNDED),
    Case("outer", lambda c, v, m: (c * v) @ m, ((2, 1), (2,), (2, 2)), ROUNDED),
    Case("distribute", lambda s, m: (EYE + EYE * s) @ m, ((2,), (2, 2)), ROUNDED, ("identity", "diagonal")),
    Case("symmetric", lambda v: SYMMETRIC @ v, ((2,),), ROUNDED),
    Case("matmul-scale", lambda s, v, m: (s * v) @ m, ((), (2,), (2, 2)), ROUNDED),
    Case("double", lambda v: v + v, ((3,),), EXACT),
    Case("scalars-first", lambda s, t, v: s * (t * v), ((), (), (3,)), ROUNDED,
         witness=(1e-300, 1e300, np.full(3, 1e300))),
    Case("scalars-first", lambda s, t, v: s * (v / t), ((), (), (3,)), ROUNDED),
    Case("scalars-first", lambda s, v: -(s * v), ((), (3,)), NAN),
    Case("factor", lambda s, t, v: s * v + t * v, ((), (), (3,)), ROUNDED),
    Case("factor", lambda s, t, v: v * s - v * t, ((), (), (3,)), ROUNDED),
    Case("negations", lambda a, b: a + -b, ((), ()), NAN),
    Case("negations", lambda a, b: -a + b, ((3,), ()), NAN),
    Case("negations", lambda a, b: a - -b, ((), (3,)), NAN),
    Case("negations", lambda a: a * -1.0, ((3,),), NAN),
    Case("negations", lambda a: -(2.0 * a), ((),), NAN),
    Case("negations", lambda a: -(a * -1.0), ((3,),), NAN),
    Case("negations", lambda a, b, c: a + (-b) * c, ((3,), (), (3,)), NAN),
]


def products(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The products a matrix product sums: BLAS raises no floating-point exception, NumPy does."""
    a = a[None] if a.ndim == 1 else a
    b = b[:, None] if b.ndim == 1 else b
    return np.multiply(a[..., :, :, None], b[..., None, :, :])


class Evaluation:
    """A graph's root and every intermediate at one point, and whether anything raised or
    left the finite numbers on the way (an overflow, underflow, division by zero, inf or NaN)."""

    def __init__(self, root: Node, inputs: Sequence[Node]) -> None:
        self.order = toposort([root])
        self.nodes = [root, *(n for n in self.order if n.op not in ("var", "const") and n is not root)]
        self.inputs = inputs
        self.function = numpy_code(self.nodes, inputs)

    def at(self, point: Sequence[Any]) -> tuple[Any, bool, float]:
        """The root's value, whether the point is clean, and the largest magnitude on the way."""
        raised: list[str] = []
        with np.errstate(all="call", call=lambda kind, flag: raised.append(kind)):
            values = dict(zip(self.nodes, self.function(*point), strict=True))
            values.update((n, n.value) for n in self.order if n.op == "const")
            values.update(zip(self.inputs, point, strict=True))
            seen = [np.asarray(v, dtype=np.float64) for v in values.values()]
            seen += [products(*(np.asarray(values[i]) for i in n.inputs)) for n in self.order if n.op == "matmul"]
        finite = all(np.isfinite(v).all() for v in seen)
        scale = max((float(np.abs(v).max(initial=0.0)) for v in seen), default=0.0)
        return values[self.nodes[0]], finite and not raised, scale


def departs(kind: str, plain: Any, fast: Any, clean: bool, scale: float) -> bool:
    """Whether ``fast`` differs from ``plain`` by more than ``kind`` allows."""
    plain, fast = np.asarray(plain, dtype=np.float64), np.asarray(fast, dtype=np.float64)
    if plain.shape != fast.shape:
        return True
    differ = bits(plain) != bits(fast)
    if kind == NAN:
        differ &= ~(np.isnan(plain) & np.isnan(fast))
    if kind == ROUNDED:
        differ = np.abs(fast - plain) > 1e-14 * scale if clean else np.zeros(plain.shape, dtype=bool)
    return bool(differ.any())


def points(shapes: Sequence[tuple[int, ...]], count: int = 300) -> list[list[Any]]:
    """Each special value everywhere, then random mixes of them; half of the mixes only finite."""
    rng = np.random.default_rng(7)
    uniform = [[np.full(shape, v)[()] for shape in shapes] for v in SPECIAL]
    pools = [FINITE if i % 2 else SPECIAL for i in range(count)]
    return uniform + [[pool[rng.integers(len(pool), size=shape)][()] for shape in shapes] for pool in pools]


def test_every_speed_rule_has_a_case() -> None:
    assert {spec.name for spec in SPEED} == {case.rule for case in CASES}


def test_speed_rules_differ_from_the_plain_code_only_as_documented() -> None:
    rules = {spec.name: spec for spec in SPEED}
    found = []
    for case in CASES:
        variables = [sd.var(f"v{i}", shape) for i, shape in enumerate(case.shapes)]
        plain = sd.as_node(case.build(*variables))
        rewriter = Rewriter([rules[name] for name in (*case.helpers, case.rule) if name in rules])
        fast = rewriter.run([plain]).get(plain, plain)
        label = f"{case.rule} on {short_text(plain)} {case.shapes}"
        if not rewriter.counts[case.rule]:
            found.append(f"{label}: the rule did not apply")
            continue
        before, after = Evaluation(plain, variables), Evaluation(fast, variables)
        differences = 0
        for point in [*points(case.shapes), *([list(case.witness)] if case.witness else [])]:
            (expected, clean, scale), (got, clean_too, scale_too) = before.at(point), after.at(point)
            differences += not same_bits(got, expected)
            if departs(case.kind, expected, got, clean and clean_too, max(scale, scale_too)):
                found.append(f"{label} at {point}: {got!r}, plain code {expected!r}")
        if case.witness and same_bits(after.at(case.witness)[0], before.at(case.witness)[0]):
            found.append(f"{label}: no difference at {case.witness}")
        if case.kind != EXACT and not differences:
            found.append(f"{label}: no difference seen, so '{case.kind}' overstates it")
    assert not found, "\n".join(found[:40])


def test_one_over_x_plus_zero_at_minus_zero_is_inf_as_in_numpy() -> None:
    x = sd.var("x")
    for rewrites in (True, False):
        with np.errstate(divide="ignore"):
            value, (grad,) = sd.compile(1.0 / (x + 0.0), [x], rewrites=rewrites)(-0.0)
        assert value == np.inf and grad == -np.inf, rewrites


def test_where_and_comparisons_of_constants_fold_when_the_graph_is_built() -> None:
    x = sd.var("x", (4,))
    mask = np.array([True, False, True, True])
    expr = sd.sum(sd.where(mask, 1.0, 0.0) * 4.0 * x) + sd.sum(sd.where(np.arange(4.0) > 1.5, x, 0.0))
    fn = sd.compile(expr, [x])
    body = fn.source.split('"""')[-1]
    assert body.count("np.where(") == 1 and ">" not in body  # only the where of x is left, its mask a constant
    value, (grad,) = fn(np.array([1.0, 2.0, 3.0, 4.0]))
    assert value == 4.0 * (1.0 + 3.0 + 4.0) + 3.0 + 4.0
    np.testing.assert_array_equal(grad, [4.0, 0.0, 5.0, 5.0])
