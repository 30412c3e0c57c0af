"""``sd.scan`` and ``sd.fori_loop``: a loop in the graph, printed as a loop.

``scan(step, init, xs)`` calls ``step`` once, on placeholder nodes, to build the loop body:
a small graph from (carry, x, closed-over values) to (new carry, y). Nodes of the enclosing
graph that the body reads become closed-over inputs of the one ``scan`` node, so they get
gradients like any input. The node's outputs are the final carries, the stacked ys, and the
carries that entered each step (kept for the reverse sweep).

The VJP of a scan is a scan running the other way: its body is the VJP of the forward body,
reading the carry each step started from and the intermediates the forward loop kept for it;
its carry is the carry's cotangent and the closed-over inputs' accumulated cotangents, its
ys the cotangents of ``xs``. Being a scan of an ordinary graph, it can be differentiated again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff.dims import Dim
from symdiff.errors import GraphError, ShapeError, SymdiffError, UnsupportedError
from symdiff.graph import FLOAT, TUPLE, Node, Subgraph, make_const, make_var, toposort
from symdiff.ops import STRUCTURE, Op, register

__all__ = ["fori_loop", "scan"]

MAX_STEPS = 2**40  # fori_loop's index array holds one int64 per step


@dataclass(eq=False, frozen=True)
class Body(Subgraph):
    """One step of a loop: placeholders in, nodes out. Compared by identity, so two scans with
    equal-looking bodies stay two nodes."""

    carry_in: tuple[Node, ...]
    x_in: tuple[Node, ...]
    closed_in: tuple[Node, ...]
    carry_out: tuple[Node, ...]
    y_out: tuple[Node, ...]
    # the step's intermediates the reverse sweep reads, kept each step (stacked, after the ys)
    # so that it need not compute them again
    kept: tuple[Node, ...] = ()
    # the new carries the reverse sweep reads: not kept, since step t's is the carry step t + 1
    # starts from, which the saved carries hold (they have one slot more, for the final carry)
    next_carry: tuple[int, ...] = ()
    # binomial checkpointing: the VJP holds at most this many carries (symdiff.revolve); 0: none
    snapshots: int = 0

    @property
    def placeholders(self) -> tuple[Node, ...]:
        return (*self.carry_in, *self.x_in, *self.closed_in)

    @property
    def outputs(self) -> tuple[Node, ...]:
        return (*self.carry_out, *self.y_out, *self.kept)

    def __repr__(self) -> str:
        return f"Body({len(self.carry_in)} carries, {len(self.x_in)} xs, {len(self.closed_in)} closed-over)"


def scan_shapes(shapes: Sequence[Any], attrs: tuple[Any, ...]) -> tuple[Any, ...]:
    body, length, _, save, axis = attrs
    carries = tuple(c.shape for c in body.carry_in)
    ys = tuple(_stacked_shape(y.shape, length, axis) for y in (*body.y_out, *body.kept))
    saved = tuple(_stacked_shape(c.shape, length + 1, axis) for c in body.carry_in) if save else ()
    return (*carries, *ys, *saved)


def _stacked_shape(shape: tuple[Any, ...], length: Any, axis: int) -> tuple[Any, ...]:
    """Steps stacked at ``axis``: 0, or 1 in a batched scan, whose axis 0 is the batch."""
    return (*shape[:axis], length, *shape[axis:])


def _leaves(value: Any, what: str) -> tuple[list[Node], bool]:
    """A node or a tuple of nodes as a list, and whether it was a tuple."""
    if isinstance(value, tuple):
        return [sd.as_node(v, f"{what}[{i}]") for i, v in enumerate(value)], True
    return [sd.as_node(value, what)], False


def scan(step: Callable[[Any, Any], tuple[Any, Any]], init: Any, xs: Any = None, length: int | str | Dim | None = None,
         *, reverse: bool = False, checkpoint: Any = None) -> tuple[Any, Any]:
    """``jax.lax.scan``'s contract: ``step(carry, x) -> (carry, y)``, called once on placeholders;
    returns ``(final carry, ys)`` with ``ys`` stacked along a new leading axis (``None`` where
    the body returns ``None``). ``carry`` and ``xs`` may be a node or a tuple of nodes; ``xs``
    ``None`` gives ``x = None`` for ``length`` steps. ``reverse=True`` runs the steps from the last.

    ``checkpoint=k`` keeps the carry of every k-th step only, and the reverse sweep computes each
    stretch of k steps again from its carry: memory O(steps / k + k) instead of O(steps).
    ``checkpoint="binomial"`` (or ``("binomial", s)``) holds at most s carries (default
    ceil(log2(steps + 1)) + 1) and follows Griewank's schedule: each step runs at most r more times,
    r the fewest with C(s - 1 + r, r) >= steps; first derivatives only, on the NumPy backend."""
    if checkpoint is None:
        return _scan(step, init, xs, length, reverse, "scan")
    if reverse:  # the same loop over the flipped xs, its ys flipped back
        return _flipped(step, init, xs, length, checkpoint)
    if isinstance(checkpoint, str) or isinstance(checkpoint, tuple):
        return _binomial(step, init, xs, length, checkpoint)
    return _checkpointed(step, init, xs, length, reverse, checkpoint)


def _flipped(step: Callable[[Any, Any], tuple[Any, Any]], init: Any, xs: Any, length: Any,
             checkpoint: Any) -> tuple[Any, Any]:
    xs_list, xs_tuple = ([], False) if xs is None else _leaves(xs, "scan xs")
    flipped = [x[::-1] for x in xs_list]
    carry, ys = scan(step, init, None if xs is None else (tuple(flipped) if xs_tuple else flipped[0]), length,
                     checkpoint=checkpoint)
    if ys is None:
        return carry, None
    return carry, tuple(y[::-1] for y in ys) if isinstance(ys, tuple) else ys[::-1]


def _binomial(step: Callable[[Any, Any], tuple[Any, Any]], init: Any, xs: Any, length: Any,
              checkpoint: Any) -> tuple[Any, Any]:
    named = checkpoint[0] if isinstance(checkpoint, tuple) and len(checkpoint) == 2 else checkpoint
    if named != "binomial":
        raise GraphError(f"scan: checkpoint must be a positive int, 'binomial' or ('binomial', snapshots), "
                         f"got {checkpoint!r}")
    xs_list, _ = ([], False) if xs is None else _leaves(xs, "scan xs")
    steps = _length(xs_list, length)
    if isinstance(steps, Dim):
        raise UnsupportedError(f"scan: checkpoint= needs a concrete number of steps, got {steps}")
    snapshots = checkpoint[1] if isinstance(checkpoint, tuple) else int(np.ceil(np.log2(int(steps) + 1))) + 1
    if isinstance(snapshots, bool) or not isinstance(snapshots, (int, np.integer)) or snapshots < 1:
        raise GraphError(f"scan: the snapshots of checkpoint=('binomial', snapshots) must be a positive int, "
                         f"got {snapshots!r}")
    if not callable(step):
        raise GraphError(f"scan: the step must be a function, got {type(step).__name__}")
    try:
        return _build(step, init, xs, length, False, keep=False, snapshots=int(snapshots))
    except SymdiffError as error:
        raise type(error)(f"scan: {error}") from None
    except Exception as error:
        raise GraphError(f"scan: the step raised {type(error).__name__}: {error}") from error


def _scan(step: Callable[[Any, Any], tuple[Any, Any]], init: Any, xs: Any, length: Any, reverse: bool,
          what: str, keep: bool = True) -> tuple[Any, Any]:
    if not callable(step):
        raise GraphError(f"{what}: the step must be a function, got {type(step).__name__}")
    try:
        return _build(step, init, xs, length, reverse, keep)
    except SymdiffError as error:  # say which call it came from: the step's own message names its nodes
        raise type(error)(f"{what}: {error}") from None
    except Exception as error:  # the user's step failed while building the body
        raise GraphError(f"{what}: the step raised {type(error).__name__}: {error}") from error


def _build(step: Callable[[Any, Any], tuple[Any, Any]], init: Any, xs: Any, length: Any,
           reverse: bool, keep: bool = True, snapshots: int = 0) -> tuple[Any, Any]:
    carries, carry_tuple = _leaves(init, "scan init")
    xs_list, xs_tuple = ([], False) if xs is None else _leaves(xs, "scan xs")
    steps = _length(xs_list, length)
    carry_in = tuple(make_var(f"carry{i}" if carry_tuple else "carry", c.shape, c.dtype) for i, c in enumerate(carries))
    x_in = tuple(make_var(f"x{i}" if xs_tuple else "x", x.shape[1:], x.dtype) for i, x in enumerate(xs_list))
    carry_arg = carry_in if carry_tuple else carry_in[0]
    x_arg = None if xs is None else (x_in if xs_tuple else x_in[0])
    result = step(carry_arg, x_arg)
    if not isinstance(result, tuple) or len(result) != 2:
        raise GraphError(f"step must return a pair (carry, y), got {type(result).__name__}")
    new_carry, y = result
    carry_out = _checked_carry(new_carry, carries, carry_tuple)
    y_list, y_tuple = ([], False) if y is None else _leaves(y, "scan y")
    body, closed = _close_over(carry_in, x_in, carry_out, tuple(y_list))
    split = _split_loop(body, closed, carries, xs_list, steps)
    carry_sizes = [1] * len(carries)
    if split is not None:  # small arrays: the loop runs on their entries
        body, carries, xs_list, closed = split
        carry_sizes = [c.size for c in carry_out]
    if keep:  # a checkpointed stretch keeps nothing: the reverse sweep computes it again
        found = _step_vjp(body, None).kept
        read, new_carries = set(found), set(body.carry_out) - set(body.placeholders)
        body = dataclasses.replace(body, kept=tuple(n for n in found if n not in new_carries),
                                   next_carry=tuple(k for k, c in enumerate(body.carry_out)
                                                    if c in new_carries and c in read))
    # attrs: the body, the steps, the direction, whether each step's starting carry is kept (the
    # reverse sweep reads them; a scan made by a VJP keeps none until it is differentiated), and
    # the axis of the steps in xs and ys (1 once batched)
    if snapshots:  # the VJP follows the binomial schedule from the initial carry: nothing is saved
        body = dataclasses.replace(body, snapshots=snapshots)
    node = sd.apply("scan", [*carries, *xs_list, *closed], (body, steps, bool(reverse), not snapshots, 0))
    items = iter(sd.apply("item", [node], (i,)) for i in range(len(body.carry_out) + len(body.y_out)))
    if split is None:
        finals = [next(items) for _ in carry_out]
        ys = [next(items) for _ in y_list]
    else:  # the entries back into arrays
        finals = [_joined([next(items) for _ in range(n)], c.shape, 0) for n, c in zip(carry_sizes, carry_out,
                                                                                      strict=True)]
        ys = [_joined([next(items) for _ in range(y.size)], y.shape, 1) for y in y_list]
    carry_result = tuple(finals) if carry_tuple else finals[0]
    ys_result = None if y is None else (tuple(ys) if y_tuple else ys[0])
    return carry_result, ys_result


def _split_loop(body: Body, closed: list[Node], carries: list[Node], xs: list[Node],
                steps: Any) -> tuple[Body, list[Node], list[Node], list[Node]] | None:
    """The loop on the entries of its small arrays (``symdiff.scalarize``): a body on scalars,
    and the entries of its initial carries, of its xs (a column each) and of its closed-over values."""
    from symdiff.scalarize import split_body

    ends = (*body.carry_in, *body.x_in, *body.closed_in, *body.y_out)
    if not isinstance(steps, int) or any(n.dtype != FLOAT or n.size == 0 for n in ends):
        return None
    split = split_body(body.carry_in, body.x_in, body.closed_in, body.carry_out, body.y_out)
    if split is None:
        return None
    outer: dict[Node, Node] = {}  # a closed-over entry's placeholder -> that entry of the enclosing value
    for entries, value in zip(split.closed_in, closed, strict=True):
        outer.update(zip(entries, _entries_of(value), strict=True))
    flat_carry_in = tuple(p for entries in split.carry_in for p in entries)
    flat_x_in = tuple(p for entries in split.x_in for p in entries)
    scalar, outside = _close_over(flat_carry_in, flat_x_in, tuple(c for e in split.carry_out for c in e),
                                  tuple(y for e in split.y_out for y in e))
    init = [e for c in carries for e in _entries_of(c)]
    columns = [e for x in xs for e in _columns_of(x, steps)]
    return scalar, init, columns, [outer[p] for p in outside]


def _entries_of(node: Node) -> list[Node]:
    if node.shape == ():
        return [node]
    flat = sd.reshape(node, (node.size,))
    return [flat[i] for i in range(node.size)]


def _columns_of(xs: Node, steps: int) -> list[Node]:
    if xs.ndim == 1:
        return [xs]
    flat = sd.reshape(xs, (steps, int(np.prod(xs.shape[1:]))))
    return [flat[:, i] for i in range(flat.shape[1])]


def _joined(parts: list[Node], shape: Any, axis: int) -> Node:
    """Entries back into an array of ``shape``: a carry's (axis 0), or a stacked y's columns (axis 1)."""
    if shape == ():
        return parts[0]
    from symdiff.compose import stack

    stacked = stack(parts, axis=axis)
    return sd.reshape(stacked, shape if axis == 0 else (stacked.shape[0], *shape))


def _checkpointed(step: Callable[[Any, Any], tuple[Any, Any]], init: Any, xs: Any, length: Any, reverse: bool,
                  every: Any) -> tuple[Any, Any]:
    """A scan of stretches of ``every`` steps, each an inner scan; the outer scan keeps only the
    carries the stretches start from, and the steps left over run as one more scan."""
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
        raise GraphError(f"scan: checkpoint must be a positive int, got {every!r}")
    xs_list, xs_tuple = ([], False) if xs is None else _leaves(xs, "scan xs")
    steps = _length(xs_list, length)
    if isinstance(steps, Dim):
        raise UnsupportedError(f"scan: checkpoint= needs a concrete number of steps, got {steps}")
    every = int(every)
    stretches, rest = divmod(int(steps), every)

    def pack(parts: list[Node]) -> Any:
        return None if xs is None else (tuple(parts) if xs_tuple else parts[0])

    head = [sd.reshape(x[:stretches * every], (stretches, every, *x.shape[1:])) for x in xs_list]

    def stretch(carry: Any, x: Any) -> tuple[Any, Any]:
        return _scan(step, carry, x, None if xs is not None else every, False, "scan")

    carry, ys = _scan(stretch, init, pack(head), stretches if xs is None else None, False, "scan", keep=False)
    tail_ys = None
    if rest:
        carry, tail_ys = _scan(step, carry, pack([x[stretches * every:] for x in xs_list]),
                               rest if xs is None else None, False, "scan")
    if ys is None:
        return carry, None
    head_ys = list(ys) if isinstance(ys, tuple) else [ys]
    flat = [sd.reshape(y, (stretches * every, *y.shape[2:])) for y in head_ys]
    if tail_ys is not None:
        tails = list(tail_ys) if isinstance(tail_ys, tuple) else [tail_ys]
        flat = [sd.concatenate([h, t]) for h, t in zip(flat, tails, strict=True)]
    return carry, tuple(flat) if isinstance(ys, tuple) else flat[0]


def fori_loop(lower: int, upper: int, body: Callable[[Node, Any], Any], init: Any) -> Any:
    """``body(i, carry) -> carry`` for ``i = lower, ..., upper - 1``, with ``i`` an int64 scalar
    node (it indexes inputs along their leading axis and takes part in arithmetic)."""
    for name, bound in (("lower", lower), ("upper", upper)):
        if not isinstance(bound, (int, np.integer)) or isinstance(bound, bool):
            raise GraphError(f"fori_loop: {name} must be an int, got {bound!r}")
        if abs(int(bound)) >= 2**62:
            raise GraphError(f"fori_loop: {name} = {bound} does not fit an int64 index")
    if not callable(body):
        raise GraphError(f"fori_loop: body must be a function (i, carry) -> carry, got {type(body).__name__}")
    steps = max(int(upper) - int(lower), 0)
    if steps > MAX_STEPS:
        raise GraphError(f"fori_loop: {steps} steps need an index array larger than memory allows")
    indices = make_const(np.arange(int(lower), int(lower) + steps, dtype=np.int64))
    final, _ = _scan(lambda carry, i: (body(i, carry), None), init, indices, None, False, "fori_loop")
    return final


def _length(xs: list[Node], length: Any) -> Any:
    if not xs:
        if length is None:
            raise GraphError("give xs or length")
        return sd._dim(length, "scan length") if not isinstance(length, (int, np.integer)) else int(length)
    for x in xs:
        if x.dtype == TUPLE or x.ndim == 0:
            raise ShapeError(f"each xs must have a leading axis to scan over, got shape {x.shape}")
    leading = xs[0].shape[0]
    if any(x.shape[0] != leading for x in xs):
        raise ShapeError(f"xs have different leading sizes {[x.shape[0] for x in xs]}")
    if length is not None and length != leading:
        raise ShapeError(f"length {length} differs from the leading size {leading} of xs")
    return leading


def _checked_carry(new: Any, old: list[Node], was_tuple: bool) -> tuple[Node, ...]:
    if was_tuple != isinstance(new, tuple) or (was_tuple and len(new) != len(old)):
        raise GraphError(f"step returned a carry of structure {_structure(new)}, but init has "
                         f"{_structure(tuple(old) if was_tuple else old[0])}")
    listed = list(new) if was_tuple else [new]
    out = []
    for i, (n, o) in enumerate(zip(listed, old, strict=True)):
        node = sd.as_node(n, f"carry {i}")
        if node.dtype != o.dtype:
            raise GraphError(f"carry {i} changes dtype from {o.dtype} to {node.dtype} in the step")
        if node.shape != o.shape:
            raise ShapeError(f"carry {i} changes shape from {o.shape} to {node.shape} in the step")
        out.append(node)
    return tuple(out)


def _structure(value: Any) -> str:
    return f"a tuple of {len(value)}" if isinstance(value, tuple) else "one node"


def _close_over(carry_in: tuple[Node, ...], x_in: tuple[Node, ...], carry_out: tuple[Node, ...],
                y_out: tuple[Node, ...]) -> tuple[Body, list[Node]]:
    """The body with every enclosing node it reads (outside the placeholders' reach) replaced by
    a placeholder of its own; those nodes, in order, are the scan's closed-over inputs."""
    order = toposort([*carry_out, *y_out])
    varying = set(carry_in) | set(x_in)
    for node in order:
        if node.inputs and any(i in varying for i in node.inputs):
            varying.add(node)
    outside: list[Node] = []
    seen: set[Node] = set()

    def needs_placeholder(node: Node) -> bool:
        return node not in varying and node.op != "const" and node not in seen

    for node in order:
        if node in varying:
            for i in node.inputs:
                if needs_placeholder(i):
                    seen.add(i)
                    outside.append(i)
    for node in (*carry_out, *y_out):
        if needs_placeholder(node):
            seen.add(node)
            outside.append(node)
    closed_in = tuple(make_var(f"closed{k}", n.shape, n.dtype) for k, n in enumerate(outside))
    new: dict[Node, Node] = dict(zip(outside, closed_in, strict=True))
    for node in order:
        if node in new or node not in varying:
            continue
        new[node] = sd.rebuild(node, [new.get(i, i) for i in node.inputs])
    body = Body(carry_in, x_in, closed_in, tuple(new.get(n, n) for n in carry_out), tuple(new.get(n, n) for n in y_out))
    return body, outside


@dataclass(frozen=True, eq=False)  # by identity: a revolve node holds one in its attrs
class StepVjp:
    """The VJP of one step, on the body's own placeholders and on placeholders of its
    cotangents; ``kept`` are the step's nodes it reads, which ``stand_ins`` replace."""

    carry_bar: tuple[Node, ...]
    closed_bar: tuple[Node, ...]
    y_bar: tuple[Node, ...]
    kept_bar: tuple[Node, ...]  # cotangents of the kept intermediates that have one
    stand_ins: tuple[Node, ...]
    kept: tuple[Node, ...]
    grads: dict[Node, Node]


def _step_vjp(body: Body, kept: Sequence[Node] | None, kept_cotangents: Sequence[bool] = ()) -> StepVjp:
    """The gradient of sum(carry_out * carry_bar) + sum(y_out * y_bar) (+ sum(kept * kept_bar)
    for the kept intermediates ``kept_cotangents`` marks: a second derivative reaches them) by
    the float placeholders. With ``kept=None`` every intermediate it reads is found and replaced
    by a stand-in; with ``kept`` given, those nodes are."""
    from symdiff.transforms import grad

    float_closed = [c for c in body.closed_in if c.dtype == FLOAT]
    c_bar = tuple(make_var(f"bar_carry{k}", c.shape) for k, c in enumerate(body.carry_in))
    k_bar = tuple(make_var(f"bar_closed{k}", c.shape) for k, c in enumerate(float_closed))
    y_bar = tuple(make_var(f"bar_y{k}", y.shape) for k, y in enumerate(body.y_out))
    marked = [n for n, given in zip(body.kept, kept_cotangents, strict=False) if given]
    kept_bar = tuple(make_var(f"bar_kept{k}", n.shape) for k, n in enumerate(marked))
    pairs = zip((*body.carry_out, *body.y_out, *marked), (*c_bar, *y_bar, *kept_bar), strict=True)
    terms = [sd.sum(o * b) for o, b in pairs if o.dtype == FLOAT]
    wrt = [p for p in (*body.carry_in, *body.x_in, *float_closed) if p.dtype == FLOAT]
    grads = list(grad(sum(terms, start=sd.as_node(0.0)), wrt)) if wrt and terms else [sd.zeros(w.shape) for w in wrt]
    forward = set(toposort(list(body.outputs)))
    placeholders = set(body.placeholders)
    if kept is None:
        read = {i for n in toposort(grads) if n not in forward for i in n.inputs}
        kept = [n for n in toposort(list(body.outputs)) if n in read and n not in placeholders and n.op != "const"
                and n.dtype != TUPLE]
    stand_ins = tuple(make_var(f"kept{k}", n.shape, n.dtype) for k, n in enumerate(kept))
    cut: dict[Node, Node] = dict(zip(kept, stand_ins, strict=True))
    for node in toposort(grads):
        if node not in cut and node.inputs:
            cut[node] = sd.rebuild(node, [cut.get(i, i) for i in node.inputs])
    return StepVjp(c_bar, k_bar, y_bar, kept_bar, stand_ins, tuple(kept),
                   {w: cut.get(g, g) for w, g in zip(wrt, grads, strict=True)})


def _scan_vjp(gs: Sequence[Node | None], out: Node, *inputs: Node) -> list[Node | None]:
    body, steps, reverse, save, axis = out.attrs
    if body.snapshots:
        from symdiff.revolve import binomial_vjp

        return binomial_vjp(gs, out, *inputs)
    if axis != 0:
        raise UnsupportedError("the VJP of a batched scan is not built: take the gradient before the jacobian")
    n_c, n_x, n_y, n_k = len(body.carry_in), len(body.x_in), len(body.y_out), len(body.kept)
    closed = inputs[n_c + n_x:]
    shapes = out.shape
    cots = [g if g is not None else sd.zeros(shapes[k]) for k, g in enumerate(gs[:n_c + n_y])]
    final_bar, ys_bar = cots[:n_c], cots[n_c:]
    given_saved: list[Node | None] = list(gs[n_c + n_y + n_k:]) if save else [None] * n_c  # of the saved carries
    kept_given = list(gs[n_c + n_y:n_c + n_y + n_k])  # reached by a second derivative
    reread = [body.carry_out[k] for k in body.next_carry]
    step = _step_vjp(body, [*body.kept, *reread], [g is not None for g in kept_given])
    # the saved carries have steps + 1 slots: forward, slot t holds the carry step t starts from and
    # the last the final carry; reversed, slot t + 1 holds step t's and the first the final carry
    starts, nexts = (slice(1, None), slice(None, -1)) if reverse else (slice(None, -1), slice(1, None))
    holder: list[Node] = []

    def kept_output(index: int) -> Node:
        """An output of the scan that keeps what the reverse sweep reads: this one, or (for a scan
        made by a VJP) a twin of it that keeps, made only when something is read."""
        if not holder:
            holder.append(out if save else sd.apply("scan", list(inputs), (body, steps, reverse, True, 0)))
        return sd.apply("item", [holder[0]], (index,))

    def saved(k: int, part: slice) -> Callable[[], Node]:
        return lambda: kept_output(n_c + n_y + n_k + k)[part]

    def kept_value(k: int) -> Callable[[], Node]:
        return lambda: kept_output(n_c + n_y + k)
    final_slot = 0 if reverse else -1  # a cotangent of the buffer's extra slot is the final carry's
    for k, g in enumerate(given_saved):
        if g is not None:
            final_bar[k] = final_bar[k] + g[final_slot]
            given_saved[k] = g[starts]
    # the reverse body: its carry is the carry's cotangent and the closed-over accumulators; its
    # xs, at step t, the carry t started from, x, the cotangents of y and of the saved carry, and
    # the intermediates kept at step t
    s_bar = {k: make_var(f"bar_saved{k}", c.shape) for k, c in enumerate(body.carry_in) if given_saved[k] is not None}
    carry_next = tuple(_plus(step.grads.get(c), s_bar.get(k), c.shape) for k, c in enumerate(body.carry_in))
    float_closed = [c for c in body.closed_in if c.dtype == FLOAT]
    closed_next = tuple(kb + step.grads[c] for kb, c in zip(step.closed_bar, float_closed, strict=True))
    x_bars = tuple(step.grads[x] for x in body.x_in if x.dtype == FLOAT)
    reverse_body = Body((*step.carry_bar, *step.closed_bar),
                        (*body.carry_in, *body.x_in, *step.y_bar, *s_bar.values(), *step.stand_ins,
                         *step.kept_bar), (),
                        (*carry_next, *closed_next), x_bars)
    reverse_body, outside = _reclose(reverse_body, body.closed_in, closed)
    init = [*final_bar, *(sd.zeros(c.shape) for c in float_closed)]

    def given(value: Node) -> Callable[[], Node]:
        return lambda: value

    sources = [*(saved(k, starts) for k in range(n_c)), *(given(x) for x in inputs[n_c:n_c + n_x]),
               *(given(g) for g in ys_bar), *(given(g) for g in given_saved if g is not None),
               *(kept_value(k) for k in range(n_k)), *(saved(k, nexts) for k in body.next_carry),
               *(given(g) for g in kept_given if g is not None)]
    # only the xs the reverse body reads are made: one linear in its carry reads no saved carry,
    # so its own VJP (a transposition, in jvp) does not depend on the cotangent it transposes
    read = set(toposort(list(reverse_body.outputs)))
    used = [k for k, p in enumerate(reverse_body.x_in) if p in read]
    reverse_body = dataclasses.replace(reverse_body, x_in=tuple(reverse_body.x_in[k] for k in used))
    xs = [sources[k]() for k in used]
    back = sd.apply("scan", [*init, *xs, *outside], (reverse_body, steps, not reverse, False, 0))
    parts = [sd.apply("item", [back], (i,)) for i in range(len(init) + len(x_bars))]
    carry_parts, closed_parts, x_parts = parts[:n_c], parts[n_c:len(init)], parts[len(init):]
    x_iter = iter(x_parts)
    x_grads = [next(x_iter) if x.dtype == FLOAT else None for x in body.x_in]
    closed_iter = iter(closed_parts)
    closed_grads = [next(closed_iter) if c.dtype == FLOAT else None for c in body.closed_in]
    carry_grads = [p if c.dtype == FLOAT else None for p, c in zip(carry_parts, body.carry_in, strict=True)]
    return [*carry_grads, *x_grads, *closed_grads]


def _plus(a: Node | None, b: Node | None, shape: Any) -> Node:
    """a + b where either may be missing (a zero)."""
    if a is not None and b is not None:
        return a + b
    if a is not None:
        return a
    return b if b is not None else sd.zeros(shape)


def _reclose(body: Body, placeholders: Sequence[Node], values: Sequence[Node]) -> tuple[Body, list[Node]]:
    """A body whose free ``placeholders`` stand for ``values`` of the enclosing graph: they
    become its closed-over inputs (only those it reads)."""
    reached = set(toposort(list(body.outputs)))
    kept = [(p, v) for p, v in zip(placeholders, values, strict=True) if p in reached]
    closed_in = tuple(p for p, _ in kept)
    return dataclasses.replace(body, closed_in=closed_in), [v for _, v in kept]


def _batch_scan(node: Node, inputs: list[Node], flags: list[bool], k: int) -> Node:
    """k scans at once: every carry, x and y gains the batch axis first (the steps move to axis
    1), and the body is the batched body, on placeholders of the batched shapes."""
    from symdiff.batch import batch_all

    body, steps, reverse, save, axis = node.attrs
    if axis != 0:
        raise UnsupportedError("a batched scan cannot be batched again (a jacobian of a jacobian through a loop)")
    n_c, n_x = len(body.carry_in), len(body.x_in)
    stacked = [x if f else sd.broadcast_to(x, (k, *x.shape)) for x, f in zip(inputs, flags, strict=True)]
    carry_in = tuple(make_var(p.label, (k, *p.shape), p.dtype) for p in body.carry_in)
    x_in = tuple(make_var(p.label, (k, *p.shape), p.dtype) for p in body.x_in)
    closed_flags = flags[n_c + n_x:]
    closed_in = tuple(make_var(p.label, (k, *p.shape), p.dtype) if f else p
                      for p, f in zip(body.closed_in, closed_flags, strict=True))
    replaced = {p: q for p, q in zip(body.placeholders, (*carry_in, *x_in, *closed_in), strict=True) if p is not q}
    outputs = batch_all(list(body.outputs), replaced)
    n_y = len(body.y_out)
    batched = Body(carry_in, x_in, closed_in, tuple(outputs[:n_c]), tuple(outputs[n_c:n_c + n_y]),
                   tuple(outputs[n_c + n_y:]))
    closed = [x if f else inputs[n_c + n_x + i] for i, (x, f) in enumerate(zip(stacked[n_c + n_x:], closed_flags,
                                                                                strict=True))]
    return sd.apply("scan", [*stacked[:n_c + n_x], *closed], (batched, steps, reverse, save, 1))




def scan_statement(target: str, args: Sequence[str], node: Node) -> list[str]:
    """The loop: carries start at ``init``; each step stores the carry it starts from, runs the
    body's own statements (indented, named by the function's namer) and stores its ys.

    On the NumPy backend a body of scalars runs on Python floats (math), some ten times faster
    than NumPy's scalars; where math raises (log(-1), 1/0) or a result is not finite, the loop
    runs again on NumPy's scalars, for IEEE results and NumPy's warnings."""
    if not _plain_floats(node):
        return _loop(target, args, node, plain=False)
    if _same_in_both(node):  # one loop, run again on NumPy's scalars where floats fall short
        from symdiff.emit import printing_emitter

        as_float = printing_emitter().namer.claim("as_float")
        lines = _loop(target, args, node, plain=True, retry=as_float)
        after = lines.index(RETRY_END)
        return [f"for {as_float} in (float, np.float64):  # NumPy's scalars where floats raise or overflow",
                "    try:", *("        " + line for line in lines[:after]),
                "    except (ArithmeticError, ValueError):",
                f"        if {as_float} is not float:",
                "            raise", *lines[after + 1:]]
    return ["try:", *("    " + line for line in _loop(target, args, node, plain=True)),
            "except (ArithmeticError, ValueError):",
            "    # math raised, or a result is not finite: NumPy's scalars give IEEE's answer and warnings",
            *("    " + line for line in _loop(target, args, node, plain=False))]


RETRY_END = "# the retried part ends"  # a marker between a retried loop and what follows it


def _same_in_both(node: Node) -> bool:
    """Whether every op of the body prints the same on floats as on NumPy's scalars (+, -, *):
    then one loop's text serves both."""
    from symdiff.ops import OPS

    for n in toposort(list(node.attrs[0].outputs)):
        op = OPS.get(n.op)
        if n.op not in ("var", "const") and (op is None or op.scalar != (op.numpy, op.prec, op.arg_prec)):
            return False
    return True


def _plain_floats(node: Node) -> bool:
    from symdiff.dialect import current as current_dialect
    from symdiff.emit import all_scalar, printing_emitter

    body, _, _, _, axis = node.attrs
    dialect = current_dialect()
    if printing_emitter().backend is not None or dialect.namespace != "np" or not dialect.precision.double:
        return False
    return (axis == 0 and all(c.dtype == FLOAT for c in (*body.carry_in, *body.closed_in))
            and all_scalar(toposort(list(body.outputs))))


def _loop(target: str, args: Sequence[str], node: Node, plain: bool, retry: str | None = None) -> list[str]:
    from symdiff.dialect import current as current_dialect
    from symdiff.emit import Emitter, printing_emitter
    from symdiff.graph import use_counts
    from symdiff.printers import ATOM, shape_text

    outer = printing_emitter()
    namer = outer.namer
    body, steps, reverse, save, axis = node.attrs
    n_c, n_x = len(body.carry_in), len(body.x_in)
    at = ":, " * axis  # the steps' axis in xs and ys
    lines: list[str] = []

    def named(text: str, base: str) -> str:
        if text.isidentifier() and not plain:
            return text
        name = namer.claim(base)
        lines.append(f"{name} = {text}")
        return name

    # NumPy and numba fill preallocated arrays; the array API (whose arrays may be immutable, as
    # JAX's are) gathers each step's values in a list and stacks them after the loop; a loop
    # of floats fills lists, made arrays after the loop
    portable = current_dialect().namespace != "np"
    kinds = {FLOAT: current_dialect().precision.dtype_keyword(), "int64": ", dtype=np.int64",
             "bool": ", dtype=np.bool_"}

    def empty(shape: Any, dtype: str) -> str:
        if portable:
            return "[]"
        if plain:
            return f"[0.0] * {shape[0]}"
        return f"np.empty({shape_text(shape)}{kinds[dtype]})"

    def store(name: str, text: str, slot: str = "") -> str:
        return f"    {name}.append({text})" if portable else f"    {name}[{at}{index}{slot}] = {text}"

    def stacked_after(name: str, shape: Any, dtype: str) -> list[str]:
        if plain:
            return [f"{name} = np.array({name}{kinds[dtype] or ', dtype=np.float64'})"]
        if not portable:
            return []
        kind = {FLOAT: "xp.float64", "int64": "xp.int64", "bool": "xp.bool"}[dtype]
        order = [f"{name}.reverse()"] if reverse else []  # stacked by step, as the steps ran backwards
        return [*order, f"{name} = xp.stack({name}, axis={axis}) if {name} else "
                        f"xp.zeros({shape_text(shape)}, dtype={kind})"]

    carry = [namer.claim(f"{target}_carry{k}") for k in range(n_c)]
    # a scalar carry starts as a scalar, as the body makes it (numba types a variable once)
    as_float = retry or "float"
    lines += [f"{c} = {as_float}({a})" if plain else f"{c} = np.asarray({a})[()]" if p.shape == () and not portable
              else f"{c} = {a}" for c, a, p in zip(carry, args[:n_c], body.carry_in, strict=True)]
    # floats read floats; a retry on NumPy's scalars reads the arrays, whose entries are NumPy's scalars
    listed = (lambda a: f"{a}.tolist() if {retry} is float else {a}") if retry else (lambda a: f"{a}.tolist()")
    xs = [named(listed(a) if plain else a, f"{target}_xs{k}") for k, a in enumerate(args[n_c:n_c + n_x])]
    closed = [named(f"{as_float}({a})" if plain else a, f"{target}_closed{k}")
              for k, a in enumerate(args[n_c + n_x:])]
    stacked = (*body.y_out, *body.kept)  # the ys, then the intermediates the reverse sweep reads
    ys = [namer.claim(f"{target}_ys{j}") for j in range(len(stacked))]
    saved = [namer.claim(f"{target}_saved{k}") for k in range(n_c)] if save else []
    lines += [f"{name} = {empty(_stacked_shape(y.shape, steps, axis), y.dtype)}" for name, y in zip(ys, stacked,
                                                                                                 strict=True)]
    if save:
        lines += [f"{name} = {empty(_stacked_shape(c.shape, steps + 1, axis), c.dtype)}"
                  for name, c in zip(saved, body.carry_in, strict=True)]
    index = namer.claim("step")  # claimed before store() prints it
    span = f"range({steps} - 1, -1, -1)" if reverse else f"range({steps})"
    lines.append(f"for {index} in {span}:")
    backend = outer.backend
    if backend is not None and backend.in_loops:
        backend = dataclasses.replace(backend, statements={**backend.statements, **backend.in_loops})
    inner = Emitter(namer, {}, {}, {}, scalar=plain, backend=backend)
    for placeholder, name in zip(body.carry_in, carry, strict=True):
        inner.bind(placeholder, name)
    for placeholder, name in zip(body.x_in, xs, strict=True):
        rest = ", ..." if portable else ""  # the standard indexes every axis, or says ... for the rest
        inner.text[placeholder], inner.depth[placeholder] = (f"{name}[{at}{index}{rest}]", ATOM), 0
    for placeholder, name in zip(body.closed_in, closed, strict=True):
        inner.bind(placeholder, name)
    if save:  # slot t (reversed: t + 1) holds the carry step t starts from
        lines += [store(s, c, " + 1" if reverse else "") for s, c in zip(saved, carry, strict=True)]
    order = toposort(list(body.outputs))
    uses = use_counts(order)
    for output in body.outputs:
        uses[output] = uses.get(output, 0) + 1
    inner.run(order, uses, set(body.outputs))
    lines += inner.lines
    lines += [store(name, inner.text[y][0]) for name, y in zip(ys, stacked, strict=True)]
    if carry:
        lines.append(f"    {', '.join(carry)} = {', '.join(inner.text[c][0] for c in body.carry_out)}")
    for name, c in zip(saved, carry, strict=False):  # the extra slot: the final carry
        lines.append(f"{name}.append({c})" if portable else f"{name}[{at}{0 if reverse else -1}] = {c}")
    if plain:  # IEEE's inf and NaN come with NumPy's warnings: the NumPy loop gives both
        floats = [*carry, *(f"sum({name})" for name, y in zip(ys, stacked, strict=True) if y.dtype == FLOAT)]
        total = " + ".join(floats) or "0.0"
        lines += ([f"if math.isfinite({total}):", "    break", RETRY_END] if retry
                  else [f"if not math.isfinite({total}):", "    raise FloatingPointError"])
    for name, y in zip(ys, stacked, strict=True):
        lines += stacked_after(name, _stacked_shape(y.shape, steps, axis), y.dtype)
    for name, c in zip(saved, body.carry_in, strict=False):  # none when the carries are not kept
        lines += stacked_after(name, _stacked_shape(c.shape, steps + 1, axis), c.dtype)
    outer.constants.update(inner.constants)
    outer.constant_lines += inner.constant_lines
    # a float carry leaves as NumPy's scalar: the code after the loop computes as IEEE says
    finals = [f"np.float64({c})" for c in carry] if plain else carry
    lines.append(f"{target} = ({', '.join([*finals, *ys, *saved])},)")
    return lines


# a loop: printed by its statement on every backend
register(Op("scan", scan_shapes, lambda a, n: "", _scan_vjp, dtype=TUPLE, kind=STRUCTURE, batch=_batch_scan,
            statement=scan_statement, reads_integers=True))


def prune_loops(order: Sequence[Node]) -> dict[Node, Node]:
    """Loops rebuilt without what nothing reads: stacked outputs (a VJP's cotangents of data xs,
    intermediates no second derivative asked for, saved carries), carries whose final value no
    one reads and no needed output depends on (a VJP's accumulator for an input no one asked
    about), and the xs and closed-over inputs the rest does not read. Their bodies then print
    only what is used, and a transposed VJP (jvp) no longer depends on what it transposed.
    Returns each changed node's replacement."""
    used: dict[Node, set[int]] = {}
    for node in order:
        if node.op == "item" and node.inputs[0].op == "scan":
            used.setdefault(node.inputs[0], set()).add(node.attrs[0])
    new: dict[Node, Node] = {}
    index_map: dict[Node, dict[int, int]] = {}
    for node in order:
        if not node.inputs:
            continue
        inputs = [new.get(i, i) for i in node.inputs]
        if node.op == "scan":
            pruned = _pruned(node, inputs, used.get(node, set()))
            if pruned is not None:
                new[node], index_map[node] = pruned
                continue
        if node.op == "item" and node.inputs[0] in index_map:
            new[node] = sd.apply("item", inputs, (index_map[node.inputs[0]][node.attrs[0]],))
            continue
        rebuilt = sd.rebuild(node, inputs)
        if rebuilt is not node:
            new[node] = rebuilt
    return new


def _pruned(node: Node, inputs: list[Node], taken: set[int]) -> tuple[Node, dict[int, int]] | None:
    """The scan without what ``taken`` (the output positions read) does not need, and the map
    from old output positions to new ones; None when everything is needed."""
    body, steps, reverse, save, axis = node.attrs
    n_c, n_x, n_y, n_k = len(body.carry_in), len(body.x_in), len(body.y_out), len(body.kept)
    ys = [j for j in range(n_y) if n_c + j in taken]
    kept = [j for j in range(n_k) if n_c + n_y + j in taken]
    saved_read = {k for k in range(n_c) if save and n_c + n_y + n_k + k in taken}
    needed = {k for k in range(n_c) if k in taken} | saved_read
    while True:  # a needed output reads carries, whose next values are then needed: a fixed point
        outputs = [*(body.carry_out[k] for k in sorted(needed)), *(body.y_out[j] for j in ys),
                   *(body.kept[j] for j in kept)]
        reads = set(toposort(outputs))
        more = {k for k, p in enumerate(body.carry_in) if p in reads} - needed
        if not more:
            break
        needed |= more
    carries = sorted(needed)
    xs = [k for k, p in enumerate(body.x_in) if p in reads]
    closed = [k for k, p in enumerate(body.closed_in) if p in reads]
    keep_saved = bool(saved_read)
    if (len(carries), len(xs), len(closed), len(ys), len(kept), keep_saved) == (
            n_c, n_x, len(body.closed_in), n_y, n_k, save):
        return None
    position = {k: i for i, k in enumerate(carries)}
    smaller = Body(tuple(body.carry_in[k] for k in carries), tuple(body.x_in[k] for k in xs),
                   tuple(body.closed_in[k] for k in closed), tuple(body.carry_out[k] for k in carries),
                   tuple(body.y_out[j] for j in ys), tuple(body.kept[j] for j in kept),
                   tuple(position[k] for k in body.next_carry if k in position))
    parts = [*(inputs[k] for k in carries), *(inputs[n_c + k] for k in xs), *(inputs[n_c + n_x + k] for k in closed)]
    rebuilt = sd.apply("scan", parts, (smaller, steps, reverse, keep_saved, axis))
    old_of = [*carries, *(n_c + j for j in ys), *(n_c + n_y + j for j in kept),
              *((n_c + n_y + n_k + k for k in carries) if keep_saved else ())]
    return rebuilt, {old: new_position for new_position, old in enumerate(old_of)}


from symdiff import revolve  # noqa: E402, F401  (registers the op a binomially checkpointed VJP makes)
