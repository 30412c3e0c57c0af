"""Compile-time rewrites for speed: equal in exact arithmetic, not bit for bit.

Unlike the exact construction-time rewrites, these run only when ``compile(...,
rewrites=True)`` (the default), and the generated header counts the ones that applied. Each
trades array work for scalar work or for one BLAS call:

- ``dot``: ``sum(a * b)`` over two whole vectors of one shape is ``a @ b``, and
  ``sum(a ** 2)`` is ``a @ a``: no temporary array, no separate reduction.
- ``sum-broadcast``: ``sum(broadcast_to(s, S))`` is ``s * size``.
- ``sum-scale``: a scalar factor, divisor or sign leaves a sum: ``sum(s * v)`` is ``s * sum(v)``.
- ``matmul-scale``: the same for a matrix product, when the product is no larger than the
  scaled operand: ``(s * v) @ M`` is ``s * (v @ M)``.
- ``identity``, ``diagonal``, ``outer``, ``distribute``: the identity seeds of ``jacobian`` and
  ``hessian`` make products with ``I``, with ``I * s`` and with rank-one matrices ``c * v``;
  they become the matrix itself, scalings and vector products, so a Hessian costs O(n^2)
  where its structure allows, not O(n^3).
- ``symmetric``: ``C @ v`` is ``v @ C`` for a symmetric constant matrix, so the adjoint of
  ``x @ A @ x`` reuses the forward product instead of computing a second one.
- ``double``: ``a + a`` is ``2.0 * a``.
- ``scalars-first``: ``s1 * (s2 * v)`` is ``(s1 * s2) * v``; ``-(s * v)`` is ``(-s) * v``.
- ``factor``: ``s1 * v + s2 * v`` is ``(s1 + s2) * v``.
- ``negations``: ``a + (-b)`` is ``a - b``, ``a - (-b)`` is ``a + b``, ``x * -1`` is ``-x`` and
  ``-(c * x)`` is ``(-c) * x``. (``x + 0.0`` stays ``x + 0.0``, which is ``0.0`` at ``x = -0.0``.)

How they differ from ``rewrites=False`` (tests/test_exact_rewrites.py checks each rule on
signed zeros, infinities, NaN of either sign, subnormals, 1e300 and empty arrays):

- ``double`` is exact, bit for bit.
- ``negations`` can change only the sign of a NaN (``a + (-b)`` at ``b = nan`` is ``-nan``,
  ``a - b`` is ``nan``), which is why the builders leave it to this pass.
- The others reorder floating-point work. Where every input is finite and neither form raises
  a floating-point exception (overflow, underflow, division by zero, invalid), the results
  agree to rounding, though a zero may come out with the other sign. Elsewhere they may differ
  outright: ``s1 * (s2 * v)`` at ``s1 = 1e-300``, ``s2 = v = 1e300`` is inf and
  ``(s1 * s2) * v`` is 1e300; ``sum(s * z)`` with ``s = inf`` and an empty ``z`` is 0.0 and
  ``s * sum(z)`` is NaN; ``I @ M`` spreads an inf or NaN of ``M`` along its column, ``M`` does not.

The pass rebuilds the graph once in topological order. A rule may build a few new nodes,
which are simplified in turn to a bounded depth, so no recursion follows the graph.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

import symdiff.api as sd
from symdiff.dims import nominal
from symdiff.graph import FLOAT, Node, toposort, use_counts

MAX_DEPTH = 4  # nesting of rules inside rules; each level works on a strictly smaller pattern
MAX_STEPS = 16  # rules applied to one node before it is left as it is

Rule = Callable[[Node, "Rewriter", int], "Node | None"]


@dataclass(frozen=True)
class RuleSpec:
    """One rewrite: its name in headers, the function, the ops it can rewrite, and whether it
    applies to scalar nodes (speed rules that save array work pass scalar arithmetic over)."""

    name: str
    rule: Rule
    ops: tuple[str, ...]
    description: str
    scalars: bool = True


class Rewriter:
    """One bottom-up pass with the given rules; ``counts`` says how often each applied."""

    def __init__(self, rules: Sequence[RuleSpec] | None = None) -> None:
        self.rules = list(SPEED if rules is None else rules)
        self.by_op: dict[str, list[RuleSpec]] = {}
        for spec in self.rules:
            for op in spec.ops:
                self.by_op.setdefault(op, []).append(spec)
        self.counts: Counter[str] = Counter()
        # rebuilt nodes whose original had several users: computed anyway, so a rule that
        # would compute a scaled copy beside them costs an array operation instead of saving one
        self.shared: set[Node] = set()
        self.order: list[Node] = []  # the topological order of the graph as it was given
        self.existing: set[Node] = set()  # nodes of the graph and of the rebuilt graph so far

    def run(self, roots: Sequence[Node], order: list[Node] | None = None) -> dict[Node, Node]:
        """Old node -> rebuilt node, for the nodes that changed; ``order`` is ``toposort(roots)`` if known."""
        order = self.order = toposort(roots) if order is None else order
        self.shared = set()
        if not any(self._candidate(node) for node in order):
            return {}
        uses = use_counts(order)
        self.existing = set(order)
        new: dict[Node, Node] = {}
        for node in order:
            result = node
            if any(i in new for i in node.inputs):
                result = sd.rebuild(node, [new.get(i, i) for i in node.inputs])
            if self._candidate(result):
                result = self.simplify(result)
            if result is not node:
                new[node] = result
                self.existing.add(result)
            if uses[node] > 1:
                self.shared.add(result)
        return new

    def simplify(self, node: Node, depth: int = 0) -> Node:
        if depth > MAX_DEPTH or not self._candidate(node):
            return node
        for _ in range(MAX_STEPS):
            for spec in self.by_op.get(node.op, ()):
                if node.shape == () and not spec.scalars:
                    continue
                changed = spec.rule(node, self, depth)
                if changed is not None:
                    self.counts[spec.name] += 1
                    node = changed
                    break
            else:
                return node
        return node

    def summary(self) -> list[str]:
        """One line per rule that applied, in the order of the rules."""
        return [f"{self.counts[spec.name]} x {spec.description}" for spec in self.rules if self.counts[spec.name]]

    def _candidate(self, node: Node) -> bool:
        specs = self.by_op.get(node.op)
        return specs is not None and node.dtype == FLOAT and (node.shape != () or any(s.scalars for s in specs))


def _scalar(node: Node) -> bool:
    return node.shape == () and node.dtype == FLOAT


def _peel(node: Node) -> tuple[str, Node | None, Node] | None:
    """``node`` as (kind, scalar, array) when it is ``s * v``, ``v * s``, ``v / s`` or ``-v``."""
    if node.shape == ():
        return None
    if node.op == "neg":
        return "neg", None, node.inputs[0]
    if node.op == "mul":
        a, b = node.inputs
        if _scalar(a) and b.shape == node.shape:
            return "mul", a, b
        if _scalar(b) and a.shape == node.shape:
            return "mul", b, a
    if node.op == "div":
        a, b = node.inputs
        if _scalar(b) and a.shape == node.shape:
            return "div", b, a
    return None


def _reapply(kind: str, scalar: Node | None, inner: Node) -> Node:
    if kind == "neg" or scalar is None:
        return -inner
    return scalar * inner if kind == "mul" else inner / scalar


def _dot(node: Node, rw: Rewriter, depth: int) -> Node | None:
    if node.op != "sum" or node.shape != () or node.attrs[1]:
        return None
    (term,) = node.inputs
    if term.ndim != 1 or term.dtype != FLOAT:
        return None
    if term.op == "mul":
        a, b = term.inputs
        if a.shape == b.shape == term.shape and a.dtype == b.dtype == FLOAT:
            return sd.matmul(a, b)
    if term.op == "power":
        base, exponent = term.inputs
        if exponent.op == "const" and exponent.value is not None and exponent.value.shape == () \
                and float(exponent.value) == 2.0 and base.shape == term.shape:
            return sd.matmul(base, base)
    if term.op == "square" and term.inputs[0].shape == term.shape:
        return sd.matmul(term.inputs[0], term.inputs[0])
    return None


def _sum_broadcast(node: Node, rw: Rewriter, depth: int) -> Node | None:
    """The sum of a broadcast scalar is the scalar times the count: no array at all."""
    (term,) = node.inputs
    if term.op != "broadcast_to" or term.inputs[0].shape != ():
        return None
    count = float(np.prod([term.shape[a] for a in node.attrs[0]], dtype=np.int64))
    total = term.inputs[0] * count
    return total if node.shape == () else sd.broadcast_to(total, node.shape)


def _sum_scale(node: Node, rw: Rewriter, depth: int) -> Node | None:
    if node.op != "sum":
        return None
    (term,) = node.inputs
    if term in rw.shared:
        return None
    axes, keepdims = node.attrs
    peeled = _peel(term)
    rest: Node | None = None
    if peeled is not None:
        rest = peeled[2]
    elif term.op == "mul" and term.inputs[0].shape == term.inputs[1].shape == term.shape:
        a, b = term.inputs
        for mine, other in ((a, b), (b, a)):
            peeled = _peel(mine)
            if peeled is not None:
                rest = peeled[2] * other
                break
    if peeled is None or rest is None or rest.shape != term.shape:
        return None
    inner = rw.simplify(sd.sum(rest, axis=axes, keepdims=keepdims), depth + 1)
    return _reapply(peeled[0], peeled[1], inner)


def _matmul_scale(node: Node, rw: Rewriter, depth: int) -> Node | None:
    if node.op != "matmul":
        return None
    a, b = node.inputs
    for position, operand in enumerate((a, b)):
        peeled = _peel(operand)
        if peeled is not None and nominal(node.size) <= nominal(operand.size) and operand not in rw.shared:
            kind, scalar, array = peeled
            product = sd.matmul(array, b) if position == 0 else sd.matmul(a, array)
            return _reapply(kind, scalar, rw.simplify(product, depth + 1))
    return None


def _symmetric(node: Node, rw: Rewriter, depth: int) -> Node | None:
    if node.op != "matmul":
        return None
    matrix, vector = node.inputs
    if matrix.op != "const" or matrix.ndim != 2 or vector.ndim != 1 or matrix.value is None:
        return None
    value = matrix.value
    if value.shape[0] != value.shape[1] or not np.array_equal(value, value.T):
        return None
    return rw.simplify(sd.matmul(vector, matrix), depth + 1)


def _identity(node: Node, rw: Rewriter, depth: int) -> Node | None:
    """``I @ M`` is ``M``: an identity seed (jacobian, hessian) must not cost a matrix product.

    Not bit for bit when ``M`` holds inf or nan, which the product would spread along a row.
    """
    if node.op != "matmul":
        return None
    for position, operand in enumerate(node.inputs):
        other = node.inputs[1 - position]
        if other.ndim >= 2 and other.shape == node.shape and _is_identity(operand):
            return other
    return None


def _is_identity(node: Node) -> bool:
    if node.op == "eye":
        return node.shape == (node.attrs[0],) * 2
    value = node.value if node.op == "const" else None
    return value is not None and value.ndim == 2 and value.shape[0] == value.shape[1] \
        and np.array_equal(value, np.eye(value.shape[0]))


def _matrices(node: Node) -> bool:
    return node.op == "matmul" and node.inputs[0].ndim == 2 and node.inputs[1].ndim == 2


def _outer(node: Node, rw: Rewriter, depth: int) -> Node | None:
    """``(c * v) @ M`` is ``c * (v @ M)`` for a column ``c`` and a row ``v``: a rank-one matrix
    needs a vector-matrix product, not a matrix-matrix one. The same on the right."""
    if not _matrices(node):
        return None
    a, b = node.inputs
    for position, operand in enumerate((a, b)):
        if operand.op != "mul" or operand in rw.shared:
            continue
        rows, cols = operand.shape
        for column, row in (operand.inputs, operand.inputs[::-1]):
            if column.shape != (rows, 1) or row.shape not in ((cols,), (1, cols)):
                continue
            if position == 0:
                return column * rw.simplify(sd.matmul(sd.reshape(row, (cols,)), b), depth + 1)
            product = rw.simplify(sd.matmul(a, sd.reshape(column, (rows,))), depth + 1)
            return sd.reshape(product, (a.shape[0], 1)) * row
    return None


def _diagonal(node: Node, rw: Rewriter, depth: int) -> Node | None:
    """``(I * s) @ M`` is ``s[:, None] * M``, and ``M @ (I * s)`` is ``M * s``: a diagonal matrix scales."""
    if not _matrices(node):
        return None
    a, b = node.inputs
    for position, operand in enumerate((a, b)):
        if operand.op != "mul":
            continue
        size = operand.shape[0]
        for eye, scale in (operand.inputs, operand.inputs[::-1]):
            if _is_identity(eye) and eye.shape == operand.shape and scale.shape in ((size,), (1, size), (size, 1)):
                diagonal = sd.reshape(scale, (size,))
                return sd.reshape(diagonal, (size, 1)) * b if position == 0 else a * diagonal
    return None


def _distribute(node: Node, rw: Rewriter, depth: int) -> Node | None:
    """``(P + Q) @ M`` is ``P @ M + Q @ M`` when both products then need no matrix-matrix product."""
    if not _matrices(node):
        return None
    a, b = node.inputs
    for position, operand in enumerate((a, b)):
        if operand.op not in ("add", "sub") or operand in rw.shared:
            continue
        if any(term.shape != operand.shape for term in operand.inputs):
            continue
        parts = [rw.simplify(sd.matmul(term, b) if position == 0 else sd.matmul(a, term), depth + 1)
                 for term in operand.inputs]
        if any(_builds_matrix_product(part, rw) for part in parts):
            continue
        return parts[0] + parts[1] if operand.op == "add" else parts[0] - parts[1]
    return None


def _builds_matrix_product(root: Node, rw: Rewriter) -> bool:
    """Whether the nodes a rule just built (not yet in the graph) include a matrix-matrix product."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node in rw.existing:
            continue
        if _matrices(node) and not any(_is_identity(i) for i in node.inputs):
            return True
        stack.extend(node.inputs)
    return False


def _double(node: Node, rw: Rewriter, depth: int) -> Node | None:
    if node.op == "add" and node.inputs[0] is node.inputs[1]:
        return 2.0 * node.inputs[0]
    return None


def _scalars_first(node: Node, rw: Rewriter, depth: int) -> Node | None:
    if node.op == "neg":
        peeled = _peel(node.inputs[0])
        if peeled is not None and peeled[0] != "neg":
            kind, scalar, array = peeled
            return (-scalar) * array if kind == "mul" else array / (-scalar)  # type: ignore[operator]
        return None
    if node.op != "mul":
        return None
    a, b = node.inputs
    for outer, operand in ((a, b), (b, a)):
        if not _scalar(outer):
            continue
        peeled = _peel(operand)
        if peeled is not None and peeled[0] != "neg":
            kind, scalar, array = peeled
            return (outer * scalar if kind == "mul" else outer / scalar) * array  # type: ignore[operator]
    return None


def _factor(node: Node, rw: Rewriter, depth: int) -> Node | None:
    if node.op not in ("add", "sub"):
        return None
    left, right = (_peel(i) for i in node.inputs)
    if left is None or right is None or left[0] != "mul" or right[0] != "mul" or left[2] is not right[2]:
        return None
    s1, s2 = left[1], right[1]
    combined = s1 + s2 if node.op == "add" else s1 - s2  # type: ignore[operator]
    return combined * left[2]


def _negations(node: Node, rw: Rewriter, depth: int) -> Node | None:
    """A negation merged into the op beside it. Not made at construction: a NaN's sign can change
    (``a + (-b)`` at ``b = nan`` is ``-nan``, ``a - b`` is ``nan``)."""
    a = node.inputs[0]
    if node.op == "neg":
        if a.op == "neg":
            return a.inputs[0]  # a rebuilt node is not simplified by the builders: --x here too
        if a.op == "mul" and a.inputs[0].op == "const":
            return (-a.inputs[0]) * a.inputs[1]  # -(c*x) as (-c)*x, c folded
        return None
    b = node.inputs[1]
    if node.op == "mul":
        for one, other in ((b, a), (a, b)):
            if other.dtype == FLOAT and sd._is_const(one, -1.0) and sd._keeps_shape(other, one):
                return -other
        return None
    if (positive := _negated(b, rw)) is not None:
        return a - positive if node.op == "add" else a + positive
    if node.op == "add" and (positive := _negated(a, rw)) is not None:
        return b - positive
    return None


def _negated(term: Node, rw: Rewriter) -> Node | None:
    """``x`` when ``term`` is ``-x``, and ``x * y`` when it is ``(-x) * y`` or ``y * (-x)``."""
    if term.op == "neg":
        return term.inputs[0]
    if term.op == "mul" and term not in rw.shared:
        x, y = term.inputs
        if x.op == "neg":
            return x.inputs[0] * y
        if y.op == "neg":
            return x * y.inputs[0]
    return None


SPEED: list[RuleSpec] = [
    RuleSpec("dot", _dot, ("sum",), "sum(a*b) of vectors as a dot product"),
    RuleSpec("sum-broadcast", _sum_broadcast, ("sum",), "sum of a broadcast scalar as a product"),
    RuleSpec("sum-scale", _sum_scale, ("sum",), "scalar factor moved out of a sum"),
    RuleSpec("identity", _identity, ("matmul",), "product with an identity matrix dropped"),
    RuleSpec("diagonal", _diagonal, ("matmul",), "product with a diagonal matrix as a scaling"),
    RuleSpec("outer", _outer, ("matmul",), "product with a rank-one matrix as a vector product"),
    RuleSpec("distribute", _distribute, ("matmul",), "matrix product distributed over a sum"),
    RuleSpec("symmetric", _symmetric, ("matmul",),
             "symmetric constant matrix product turned to reuse a forward product"),
    RuleSpec("matmul-scale", _matmul_scale, ("matmul",), "scalar factor moved out of a matrix product"),
    RuleSpec("double", _double, ("add",), "a + a as 2.0 * a", scalars=False),
    RuleSpec("scalars-first", _scalars_first, ("mul", "neg"), "scalar factors multiplied before the array",
             scalars=False),
    RuleSpec("factor", _factor, ("add", "sub"), "common array factored out of a sum of scaled terms", scalars=False),
    RuleSpec("negations", _negations, ("neg", "add", "sub", "mul"), "negation merged into an addition or product"),
]
