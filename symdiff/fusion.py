"""Loop fusion for the compiled backend: which nodes share one loop over their elements.

Elementwise nodes of one shape, and the whole-array sums, means, dot products, maxima and
minima that consume them, run in one loop. Nodes are placed by level: a loop at level L may
read any value available at L (the inputs, values computed before it, the scalar results of
loops of lower levels), and its own scalar results become available at L + 1. So the
forward and the reverse sweep of an elementwise graph share one loop whenever no element
needs a sum of the others first, and a loop waits for a sum only when it must. One topological pass, no recursion.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symdiff.dims import nominal
from symdiff.graph import TUPLE, Node, Shape
from symdiff.ops import ELEMENTWISE, OPS


@dataclass
class Loop:
    """One loop over the elements of ``shape``."""

    shape: Shape
    level: int
    nodes: list[Node] = field(default_factory=list)  # per-element values, in topological order
    reductions: list[Node] = field(default_factory=list)  # sums, means, dot products, max and min

    @property
    def size(self) -> int:
        count = 1
        for d in self.shape:
            count *= d
        return count


Step = Node | Loop

# NumPy's SIMD loops beat a loop of libm calls 3 to 10 times on the ops marked ``vectorised``
# (AVX-512, 65,536 elements); on large arrays they stay NumPy calls, at the price of one more
# pass over memory
NUMPY_MIN = 1 << 12  # elements; below this the extra pass and the call into Python cost more


def numpy_vectorised(node: Node) -> bool:
    """A transcendental op on an array large enough to leave to NumPy's own loops."""
    op = OPS.get(node.op)
    return (op is not None and op.vectorised and node.ndim > 0 and node.dtype != TUPLE
            and nominal(node.size) >= NUMPY_MIN)


def elementwise(node: Node) -> bool:
    """A built-in op applied element by element, with every input of its shape or a scalar."""
    op = OPS.get(node.op)
    if op is None or op.module is not None or node.dtype == TUPLE or node.shape == () or numpy_vectorised(node):
        return False
    if node.op == "broadcast_to":  # a scalar spread over the loop is just that scalar
        return node.inputs[0].shape == ()
    if op.kind != ELEMENTWISE:
        return False
    return all(_spread(i, node) and i.dtype != TUPLE for i in node.inputs)


def _spread(operand: Node, node: Node) -> bool:
    """An operand a loop over ``node``'s elements can read: of its shape, or one element broadcast."""
    return operand.shape == node.shape or (operand.size == 1 and operand.ndim <= node.ndim)


def accumulated(node: Node) -> Shape | None:
    """The loop shape over which ``node`` is a running sum, or None."""
    if node.op in ("sum", "mean", "max", "min"):
        source = node.inputs[0]
        axes, keepdims = node.attrs
        whole = len(axes) == source.ndim and not keepdims
        return source.shape if whole and source.ndim > 0 and source.dtype != TUPLE else None
    if node.op == "matmul":
        a, b = node.inputs
        return a.shape if a.ndim == 1 and a.shape == b.shape else None
    return None


def schedule(order: list[Node]) -> list[Step]:
    """The nodes of ``order`` (topological) as statements and loops, in an order that runs."""
    available: dict[Node, int] = {}
    looped: dict[Node, Loop] = {}  # the loop that computes each node element by element
    loops: dict[tuple[Shape, int], Loop] = {}
    placed: list[tuple[int, int, Step]] = []  # (level, kind: 0 statement / 1 loop, step)
    for node in order:
        per_element = elementwise(node)
        shape = node.shape if per_element else accumulated(node)
        if shape is None:
            level = max((available[i] for i in node.inputs), default=0)
            available[node] = level
            placed.append((level, 0, node))
            continue
        level = 0
        for i in node.inputs:
            inside = looped.get(i)
            level = max(level, inside.level if inside is not None and inside.shape == shape else available[i])
        loop = loops.get((shape, level))
        if loop is None:
            loop = loops[(shape, level)] = Loop(shape, level)
            placed.append((level, 1, loop))
        (loop.nodes if per_element else loop.reductions).append(node)
        if per_element:  # a dict, not ``in loop.nodes``: ``==`` on nodes builds an equal node
            looped[node] = loop
        available[node] = level + 1
    # stable: within a level, statements keep their order and come before the loops that read them
    placed.sort(key=lambda item: (item[0], item[1]))
    return [step for _, _, step in placed]
