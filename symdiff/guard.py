"""Where-branches: safe inputs for the forward sweep, strong zeros for the reverse (DESIGN §8).

``where(x > 0, log(x), 0)`` at ``x = -1`` must give a finite gradient and no
RuntimeWarning, and ``where(x < 1e100, x**3, 0)`` at 1e200 a finite gradient.

One walk, from the outputs to the inputs, finds the *branch* of every node: the innermost
``where`` side that is the only place its value is used, and the condition under which it is
(every enclosing condition, combined). A node used anywhere else belongs to the enclosing
branch, or to none. Then:

- (a) inside a branch, every singular op (``log``, ``sqrt``, a denominator, ...) gets its
  input replaced by ``where(cond, x, safe)``, with ``safe`` inside its domain, so neither
  sweep evaluates it outside the domain. The values the ``where`` selects are unchanged.
- (b) the reverse pass masks every adjoint contribution that leaves a branch with the
  branch's condition, so an overflow in the untaken branch (``0 * inf``) cannot reach a
  gradient. It skips the mask where the part is known to be 0 already: the cotangent was,
  and the VJP only moved, summed, selected or finitely scaled it.

A branch's condition is position by position, so it speaks only of nodes whose positions it
can name: through elementwise ops of the ``where``'s shape it holds as it is; into a node
broadcast into the branch it is reduced with "any" over the broadcast axes; into the input of
a reduction it is spread over the reduced axes (a *derived* branch). Behind any other op (a
product, a layout op) it becomes one value, "some position of the branch is used", so what
feeds a product inside an untaken branch is guarded and masked too. Each node is rebuilt once,
and each branch and derived branch builds one condition, so the pass is linear in the graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff.errors import ShapeError
from symdiff.graph import FLOAT, Node, Shape, toposort
from symdiff.ops import OPS, REDUCTION, broadcast_shapes, elementwise


@dataclass(eq=False)
class Branch:
    """Where a group of nodes is used: one side of one ``where``, or such a side seen from a
    node broadcast into it or reduced inside it (``derived``), in that node's own positions."""

    parent: Branch | None  # the enclosing branch whose condition also holds in these positions
    frame: Shape  # the shape whose positions ``cond`` speaks of
    depth: int
    scalar: bool  # the condition is one value for every position
    where: Node | None = None  # a side: this where, and which side
    taken: bool = True
    derived: tuple[Branch, Node | None] | None = None  # the branch seen, and the reduction seen through
    cond: Node | None = field(default=None)  # built on the rebuilt graph, with every enclosing condition

    def conditions(self) -> list[Node]:
        """The original where-conditions ``cond`` is built from."""
        found: list[Node] = []
        branch: Branch | None = self
        while branch is not None:
            if branch.derived is not None:
                branch = branch.derived[0]
                continue
            assert branch.where is not None
            found.append(branch.where.inputs[0])
            branch = branch.parent
        return found


@dataclass
class Guarded:
    """The rebuilt roots, the branch of each rebuilt node (absent: used outside every branch),
    and the strong zeros the reverse pass puts on adjoints that leave a branch."""

    roots: list[Node]
    branch: dict[Node, Branch]
    seen: dict[tuple[int, Shape, Any], Branch] = field(default_factory=dict)

    def cotangent(self, node: Node, g: Node, strong: bool) -> tuple[Node, bool]:
        """``node``'s cotangent, masked where its VJP's parts are not in the branch's positions.

        ``strong``: ``g`` is known to be 0 wherever the branch is unused. Returns the cotangent
        and whether that holds for it.
        """
        home = self.branch.get(node)
        if strong or home is None or home.scalar or elementwise(OPS[node.op]) or OPS[node.op].kind == REDUCTION:
            return g, strong
        return mask(g, home), True

    def contribution(self, node: Node, child: Node, part: Node, strong: bool) -> tuple[Node, bool]:
        """``part`` (from ``node``'s VJP of a cotangent that is ``strong``, for ``child``), masked if
        it may be non-zero where ``node``'s branch is unused and it leaves that branch; and whether
        it is then known to be 0 wherever the branch is unused."""
        home = self.branch.get(node)
        if home is None:
            return part, True  # outside every branch, nothing is unused
        if strong and (OPS[node.op].strong_zeros or _finite_scale(node, child)):
            return part, True  # it only moves or sums zeros (or scales them by a finite constant)
        if home.scalar or elementwise(OPS[node.op]):
            target = home  # the part is in the node's (broadcast) positions, before sum_to
        elif OPS[node.op].kind == REDUCTION:
            target = _derive(self.seen, home, child.shape, node)  # the part is in the child's positions
        else:
            # a product or layout op: its cotangent was masked, but a product still meets 0 * inf,
            # so its parts are zero when no position of the branch is used
            target = _derive(self.seen, home, (), None)
        _condition(target, {})
        if node.op == "where" and node.inputs[0] is target.cond:
            return part, True  # a guard's where selects zeros itself
        if _inside(self.branch.get(child), target):
            return part, False
        return mask(part, target), True


def _finite_scale(node: Node, child: Node) -> bool:
    """``node`` multiplies or divides ``child`` by a finite, non-zero constant: zeros stay zeros."""
    if node.op not in ("mul", "div") or (node.op == "div" and child is not node.inputs[0]):
        return False
    other = node.inputs[1] if child is node.inputs[0] else node.inputs[0]
    value = other.value
    return other.op == "const" and value is not None and bool(np.all(np.isfinite(value) & (value != 0)))


def guard_where(roots: Sequence[Node], order: list[Node] | None = None) -> list[Node]:
    """``roots`` rebuilt with every singular op inside a where-branch guarded."""
    return guard(roots, order).roots


def guard(roots: Sequence[Node], order: list[Node] | None = None) -> Guarded:
    """Guard ``roots`` (``order``: their toposort, if known) and report each node's branch."""
    order = toposort(roots) if order is None else order
    if not any(n.op == "where" for n in order):
        return Guarded(list(roots), {})
    seen: dict[tuple[int, Shape, Any], Branch] = {}
    branch = _branches(order, roots, seen)
    new: dict[Node, Node] = {}
    selects: dict[Node, Branch] = {}  # the guards' own wheres, in the branch of the op they guard
    for node in _order_with_conditions(order, branch):
        inputs = [new[i] for i in node.inputs]
        home = branch.get(node)
        if home is not None and OPS[node.op].guard and not _exempt(node):
            cond = _condition(home, new)
            for position, safe in (OPS[node.op].guard or {}).items():
                x = inputs[position]
                if x.dtype == FLOAT and x.op != "const" and _covers(x.shape, cond.shape):
                    inputs[position] = sd.where(cond, x, safe)
                    selects[inputs[position]] = home
        new[node] = sd.rebuild(node, inputs)
    rebuilt: dict[Node, Branch | None] = dict(selects)
    for node in order:  # a node built twice (hash-consing) lives in the branch enclosing both
        home = branch.get(node)
        if home is not None:
            _condition(home, new)
        target = new[node]
        rebuilt[target] = home if target not in rebuilt else _common(rebuilt[target], home)
    return Guarded([new[r] for r in roots], {n: b for n, b in rebuilt.items() if b is not None}, seen)


def _branches(order: list[Node], roots: Sequence[Node], seen: dict[tuple[int, Shape, Any], Branch],
              ) -> dict[Node, Branch]:
    """The innermost branch each node is used only inside, from one walk from users to inputs.

    ``seen`` collects the derived branches, one per branch and shape seen from.
    """
    use: dict[Node, Branch | None] = dict.fromkeys(roots)
    for node in reversed(order):
        home = use.get(node)
        for position, child in enumerate(node.inputs):
            found: Branch | None
            if node.op == "where" and position > 0:
                found = _side(node, position == 1, home)
                if child.shape != node.shape:
                    found = _derive(seen, found, child.shape, None)
            elif home is None or home.scalar:
                found = home
            elif elementwise(OPS[node.op]):
                found = home if child.shape == node.shape else _derive(seen, home, child.shape, None)
            elif OPS[node.op].kind == REDUCTION:
                found = _derive(seen, home, child.shape, node)
            else:  # behind a product or layout op: "some position of the branch is used", one value
                found = _derive(seen, home, (), None)
            use[child] = found if child not in use else _common(use[child], found)
    return {n: b for n, b in use.items() if b is not None and n.op not in ("var", "const")}


def _side(where: Node, taken: bool, home: Branch | None) -> Branch:
    """The branch of one side of ``where`` (used inside ``home``)."""
    scalar = where.inputs[0].shape == () and (home is None or home.scalar)
    return Branch(home, where.shape, 0 if home is None else home.depth + 1, scalar, where, taken)


def _derive(seen: dict[tuple[int, Shape, Any], Branch], branch: Branch, shape: Shape,
            reduction: Node | None) -> Branch:
    """``branch`` in the positions of a node of ``shape``, broadcast into it or reduced by ``reduction``.

    A position of ``child`` is used where any position it reaches is: the condition is reduced
    with "any" over the broadcast axes, or spread over the reduced ones.
    """
    if branch.scalar:
        return branch
    key = (id(branch), shape, None if reduction is None else reduction.attrs)
    if key not in seen:
        parent = _scalar_part(branch)
        seen[key] = Branch(parent, shape, 0 if parent is None else parent.depth + 1, shape == (),
                           derived=(branch, reduction))
    return seen[key]


def _scalar_part(branch: Branch | None) -> Branch | None:
    """The innermost enclosing branch whose condition holds for every position at once."""
    while branch is not None and not branch.scalar:
        branch = branch.parent
    return branch


def _common(a: Branch | None, b: Branch | None) -> Branch | None:
    """The innermost branch enclosing both (None: the whole graph)."""
    while a is not b:
        if a is None or b is None:
            return None
        if a.depth >= b.depth:
            a = a.parent
        else:
            b = b.parent
    return a


def _order_with_conditions(order: list[Node], branch: dict[Node, Branch]) -> list[Node]:
    """``order``, moved so each guarded node comes after the conditions of its branches."""
    needs: dict[Node, list[Node]] = {}
    for node, home in branch.items():
        if OPS[node.op].guard:
            needs[node] = home.conditions()
    if not needs:
        return order
    placed: set[Node] = set()
    result: list[Node] = []
    for start in order:
        stack = [(start, False)]
        while stack:
            node, ready = stack.pop()
            if node in placed:
                continue
            if ready:
                placed.add(node)
                result.append(node)
                continue
            stack.append((node, True))
            stack.extend((d, False) for d in reversed([*node.inputs, *needs.get(node, ())]) if d not in placed)
    return result


def _condition(branch: Branch, new: dict[Node, Node]) -> Node:
    """Where ``branch``'s values are used, on the rebuilt graph: its own side and every parent's."""
    if branch.cond is not None:
        return branch.cond
    if branch.derived is not None:
        seen, reduction = branch.derived
        branch.cond = _seen_from(_condition(seen, new), seen.frame, branch.frame, reduction)
        return branch.cond
    assert branch.where is not None
    cond = new[branch.where.inputs[0]]
    own = cond if branch.taken else sd.logical_not(cond)
    branch.cond = own if branch.parent is None else sd.logical_and(_condition(branch.parent, new), own)
    return branch.cond


def _seen_from(cond: Node, frame: Shape, shape: Shape, reduction: Node | None) -> Node:
    """A condition on the positions of ``frame``, moved to those of ``shape``."""
    if reduction is not None:  # spread over the reduced axes
        axes, keepdims = reduction.attrs
        if keepdims:
            return cond  # it broadcasts into ``shape`` position by position already
        kept = tuple(1 if i in axes else d for i, d in enumerate(shape))
        return sd.broadcast_to(sd.reshape(sd.broadcast_to(cond, frame), kept), shape)
    lead = len(frame) - len(shape)
    spread = [a for a in range(len(frame)) if a < lead or (shape[a - lead] == 1 and frame[a] != 1)]
    offset = len(frame) - cond.ndim
    if cond.ndim <= len(shape) and all(a < offset or cond.shape[a - offset] == 1 for a in spread):
        return cond  # constant along the broadcast axes: it reads the same in ``shape``
    return sd.sum_to(sd.tofloat(sd.broadcast_to(cond, frame)), shape) > 0.0  # any


def mask(part: Node, branch: Branch) -> Node:
    """Strong zeros: ``part`` where ``branch`` is used, 0.0 elsewhere (whatever ``part`` holds there)."""
    cond = branch.cond
    if cond is None or not _covers(part.shape, cond.shape):
        return part
    return sd.where(cond, part, 0.0)


def _inside(branch: Branch | None, outer: Branch) -> bool:
    """Whether ``branch`` is ``outer`` or nested in it."""
    while branch is not None and branch.depth > outer.depth:
        branch = branch.parent
    return branch is outer


def _exempt(node: Node) -> bool:
    """``x ** n`` for a whole n >= 0 is defined everywhere: no guard needed."""
    if node.op != "power":
        return False
    value = node.inputs[1].value
    return value is not None and bool(np.all((value == np.round(value)) & (value >= 0)))


def _covers(shape: tuple[int, ...], cond_shape: tuple[int, ...]) -> bool:
    """A guard may not change the input's shape, so the condition must broadcast into it."""
    try:
        return broadcast_shapes(shape, cond_shape) == shape
    except ShapeError:
        return False
