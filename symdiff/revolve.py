"""``checkpoint="binomial"``: the VJP of a scan by Griewank's binomial checkpointing.

The scan runs forward keeping nothing. Its VJP is one ``revolve`` node: from the initial carry it
follows the schedule ``runtime._revolve`` makes (store a carry in one of ``snapshots`` slots, go
back to one, run some steps, run one step's VJP), so every step's VJP meets the carry that step
started from while at most ``snapshots`` carries are held. Each step runs at most r more times,
r the fewest with C(snapshots - 1 + r, r) >= steps (Griewank and Walther, Algorithm 799).

The node is printed by the NumPy backend only, and is not differentiated again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import symdiff.api as sd
from symdiff.errors import UnsupportedError
from symdiff.graph import FLOAT, TUPLE, Node, toposort
from symdiff.ops import STRUCTURE, Op, register


def binomial_vjp(gs: Sequence[Node | None], out: Node, *inputs: Node) -> list[Node | None]:
    """The cotangents of a binomially checkpointed scan's inputs, from one ``revolve`` node."""
    from symdiff.scan import _step_vjp

    body, steps, reverse, _, axis = out.attrs
    if axis != 0 or reverse:
        raise UnsupportedError("a batched or reversed scan with checkpoint='binomial' has no VJP")
    n_c, n_x, n_y = len(body.carry_in), len(body.x_in), len(body.y_out)
    cots = [g if g is not None else sd.zeros(out.shape[k]) for k, g in enumerate(gs[:n_c + n_y])]
    step = _step_vjp(body, [])
    # a constant's cotangent is never read: those xs get none
    xs = inputs[n_c:n_c + n_x]
    x_wanted = tuple(x.dtype == FLOAT and v.op != "const" for x, v in zip(body.x_in, xs, strict=True))
    node = sd.apply("revolve", [*inputs[:n_c + n_x], *cots, *inputs[n_c + n_x:]], (body, step, steps, x_wanted))
    parts = iter(sd.apply("item", [node], (i,)) for i in range(len(node.shape)))
    carry_bars = [next(parts) if c.dtype == FLOAT else None for c in body.carry_in]
    x_bars = [next(parts) if wanted else None for wanted in x_wanted]
    closed_bars = [next(parts) if c.dtype == FLOAT else None for c in body.closed_in]
    return [*carry_bars, *x_bars, *closed_bars]


def _revolve_shapes(shapes: Sequence[Any], attrs: tuple[Any, ...]) -> tuple[Any, ...]:
    body, _, steps, x_wanted = attrs
    return (*(c.shape for c in body.carry_in if c.dtype == FLOAT),
            *((steps, *x.shape) for x, wanted in zip(body.x_in, x_wanted, strict=True) if wanted),
            *(c.shape for c in body.closed_in if c.dtype == FLOAT))


def _no_second_order(*_: Any) -> list[Node | None]:
    raise UnsupportedError("second derivatives through a scan with checkpoint='binomial' are not built; "
                           "use checkpoint=k (an int), whose VJP is a scan")


def _no_batching(*_: Any) -> Node:
    raise UnsupportedError("a scan with checkpoint='binomial' cannot be batched (jacobian, hessian, jvp); "
                           "use checkpoint=k (an int)")


def revolve_statement(target: str, args: Sequence[str], node: Node) -> list[str]:
    """An interpreter of the schedule: each action restores, stores, advances or reverses the carry."""
    from symdiff.emit import Emitter, printing_emitter
    from symdiff.graph import use_counts
    from symdiff.printers import ATOM, shape_text

    outer = printing_emitter()
    namer = outer.namer
    body, step, steps, x_wanted = node.attrs
    n_c, n_x = len(body.carry_in), len(body.x_in)
    init, xs = args[:n_c], args[n_c:n_c + n_x]
    carry_bar_in, y_bar_in = args[n_c + n_x:2 * n_c + n_x], args[2 * n_c + n_x:2 * n_c + n_x + len(body.y_out)]
    closed = args[2 * n_c + n_x + len(body.y_out):]
    lines: list[str] = []

    def name(text: str, base: str) -> str:
        if text.isidentifier():
            return text
        claimed = namer.claim(base)
        lines.append(f"{claimed} = {text}")
        return claimed

    carry = [namer.claim(f"{target}_carry{k}") for k in range(n_c)]
    slots = [namer.claim(f"{target}_slots{k}") for k in range(n_c)]
    bars = [namer.claim(f"{target}_bar{k}") for k in range(n_c)]
    xs = [name(a, f"{target}_xs{k}") for k, a in enumerate(xs)]
    y_bars = [name(a, f"{target}_ybar{k}") for k, a in enumerate(y_bar_in)]
    closed = [name(a, f"{target}_closed{k}") for k, a in enumerate(closed)]
    float_closed = [k for k, c in enumerate(body.closed_in) if c.dtype == FLOAT]
    sums = [namer.claim(f"{target}_closedbar{k}") for k in float_closed]
    float_xs = [k for k, wanted in enumerate(x_wanted) if wanted]
    x_bars = [namer.claim(f"{target}_xbar{k}") for k in float_xs]
    kind, count, at = namer.claim("action"), namer.claim("count"), namer.claim("at")
    snapshots = body.snapshots
    lines += [f"{c} = {a}" for c, a in zip(carry, init, strict=True)]
    lines += [f"{s} = [None] * {snapshots}" for s in slots]
    lines += [f"{b} = {a}" for b, a in zip(bars, carry_bar_in, strict=True)]
    lines += [f"{s} = np.zeros({shape_text(body.closed_in[k].shape)})" for s, k in zip(sums, float_closed, strict=True)]
    lines += [f"{b} = np.zeros({shape_text((steps, *body.x_in[k].shape))})" for b, k in zip(x_bars, float_xs,
                                                                                          strict=True)]
    lines.append(f"for {kind}, {count}, {at} in _revolve({steps}, {snapshots}):")
    lines.append(f"    if {kind} == 0:  # back to a stored carry")
    lines += [f"        {c} = {s}[{count}]" for c, s in zip(carry, slots, strict=True)] or ["        pass"]
    lines.append(f"    elif {kind} == 1:  # store the carry")
    lines += [f"        {s}[{count}] = {c}" for c, s in zip(carry, slots, strict=True)] or ["        pass"]
    lines.append(f"    elif {kind} == 2:  # run steps at, ..., at + count - 1")
    advance = namer.claim("stepped")
    lines.append(f"        for {advance} in range({at}, {at} + {count}):")

    def emitter(index: str) -> Emitter:
        inner = Emitter(namer, {}, {}, {}, backend=outer.backend)
        for placeholder, c in zip(body.carry_in, carry, strict=True):
            inner.bind(placeholder, c)
        for placeholder, x in zip(body.x_in, xs, strict=True):
            inner.text[placeholder], inner.depth[placeholder] = (f"{x}[{index}]", ATOM), 0
        for placeholder, c in zip(body.closed_in, closed, strict=True):
            inner.bind(placeholder, c)
        return inner

    def printed(inner: Emitter, outputs: Sequence[Node], indent: str) -> list[str]:
        order = toposort(list(outputs))
        uses = use_counts(order)
        for output in outputs:
            uses[output] = uses.get(output, 0) + 1
        inner.run(order, uses, set(outputs))
        outer.constants.update(inner.constants)
        outer.constant_lines += inner.constant_lines
        return [indent + line for line in inner.lines]

    forward = emitter(advance)
    lines += printed(forward, body.carry_out, "        ") or ["            pass"]
    if carry:
        lines.append(f"            {', '.join(carry)} = {', '.join(forward.text[c][0] for c in body.carry_out)}")
    lines.append("    else:  # the VJP of step at, from the carry it started from")
    back = emitter(at)
    for placeholder, b in zip(step.carry_bar, bars, strict=True):
        back.bind(placeholder, b)
    for placeholder, y in zip(step.y_bar, y_bars, strict=True):
        back.text[placeholder], back.depth[placeholder] = (f"{y}[{at}]", ATOM), 0
    carry_grads = [step.grads.get(c) for c in body.carry_in]
    wanted = [g for g in (*carry_grads, *(step.grads[body.x_in[k]] for k in float_xs),
                          *(step.grads[body.closed_in[k]] for k in float_closed)) if g is not None]
    lines += printed(back, wanted, "    ")
    if not (wanted or sums or x_bars or bars):
        lines.append("        pass")
    for s, k in zip(sums, float_closed, strict=True):
        lines.append(f"        {s} = {s} + {back.text[step.grads[body.closed_in[k]]][0]}")
    for b, k in zip(x_bars, float_xs, strict=True):
        lines.append(f"        {b}[{at}] = {back.text[step.grads[body.x_in[k]]][0]}")
    if bars:
        news = [back.text[g][0] if g is not None else f"np.zeros({shape_text(c.shape)})"
                for g, c in zip(carry_grads, body.carry_in, strict=True)]
        lines.append(f"        {', '.join(bars)} = {', '.join(news)}")
    results = [b for b, c in zip(bars, body.carry_in, strict=True) if c.dtype == FLOAT]
    lines.append(f"{target} = ({', '.join([*results, *x_bars, *sums])},)")
    return lines


register(Op("revolve", _revolve_shapes, lambda a, n: "", _no_second_order, dtype=TUPLE, kind=STRUCTURE,
            batch=_no_batching, statement=revolve_statement, reads_integers=True, refused=("numba", "array_api")))
