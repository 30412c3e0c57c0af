"""Transformations that return graphs, and ``function`` to compile any list of them.

Every one re-enters the single reverse pass of ``adjoint.py``; there is no second rule table:

- ``grad`` and ``vjp`` are the reverse pass itself, returning its adjoint nodes.
- ``jvp`` transposes the pullback. ``u -> vjp(f)(u)`` is linear in ``u``, so the gradient of
  ``<vjp(f)(u), t>`` with respect to ``u`` is ``J t``, and it no longer contains ``u``.
  The graph stays a constant multiple of the function's, as in forward mode.
- ``hvp`` is reverse-over-reverse: the gradient of ``<grad f, v>``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff import numba_cache
from symdiff.batch import batch
from symdiff.compiler import CompiledFunction, load
from symdiff.dims import Dim, nominal, surely_at_most
from symdiff.emit import Program
from symdiff.errors import GraphError, ShapeError, UnsupportedError
from symdiff.graph import FLOAT, TUPLE, Node, free_variables, make_var, notes, short_text, toposort
from symdiff.pipeline import GRAPH_ONLY, TRANSFORM, Form, Options, Request, program, run, variables


def grad(expr: Any, wrt: Node | Sequence[Node]) -> tuple[Node, ...]:
    """The gradient of a scalar ``expr`` as graph nodes, one per ``wrt`` variable, each of its shape."""
    return derivatives(_scalar(expr, "grad"), _wrt(wrt), None)


def vjp(expr: Any, wrt: Node | Sequence[Node], cotangent: Any) -> tuple[Node, ...]:
    """The pullback of ``expr`` applied to ``cotangent`` (a node or constant of ``expr``'s shape)."""
    root = sd.tofloat(sd.as_node(expr, "expr"))
    return derivatives(root, _wrt(wrt), _float_of_shape(cotangent, root.shape, "cotangent", "expr"))


def derivatives(root: Node, wrt: list[Node], seed: Node | None) -> tuple[Node, ...]:
    """The adjoints of ``wrt``: the pipeline's passes up to the reverse pass. The speed rewrites
    are left to whatever compiles the result, so the nodes are the derivative as written."""
    graph = run(Request([root], [], GRAPH_ONLY, wrt, seed), Options("derivatives"), TRANSFORM)
    return tuple(graph.grads)


def jvp(expr: Any, wrt: Node | Sequence[Node], tangents: Sequence[Any]) -> Node:
    """The directional derivative ``J t`` of ``expr``: one tangent per ``wrt`` variable, of its shape."""
    root = sd.tofloat(sd.as_node(expr, "expr"))
    wrt_list = _wrt(wrt)
    listed = _listed(tangents, "tangents")
    if len(listed) != len(wrt_list):
        raise GraphError(f"jvp: {len(listed)} tangents given for {len(wrt_list)} wrt variables")
    directions = [_float_of_shape(t, w.shape, f"tangents[{i}]", f"wrt variable {w.label!r}")
                  for i, (t, w) in enumerate(zip(listed, wrt_list, strict=True))]
    probe = make_var("jvp_cotangent", root.shape)
    pulled = vjp(root, wrt_list, probe)
    pairing = sd.as_node(0.0)
    for g, t in zip(pulled, directions, strict=True):
        pairing = pairing + sd.sum(g * t)
    (result,) = vjp(pairing, [probe], 1.0)
    order = toposort([result])
    if any(n.op == "scan" for n in order):  # loops lose what the transposition does not read
        from symdiff.scan import prune_loops  # scan builds on this module

        result = prune_loops(order).get(result, result)
    if any(v is probe for v in free_variables([result])):
        if any(n.op == "scan" for n in toposort([root])):
            raise UnsupportedError("jvp through a scan is not built yet (its pullback recomputes each step from the "
                                   "saved carries, which the transposition cannot see through); use vjp")
        raise GraphError(f"jvp: a VJP rule in {short_text(root)} is not linear in its cotangent")
    return result


def hvp(expr: Any, wrt: Node, v: Any) -> Node:
    """The Hessian of a scalar ``expr`` times ``v``, by reverse-over-reverse: ``grad(<grad expr, v>)``."""
    variable = _one_variable(wrt, "hvp")
    direction = _float_of_shape(v, variable.shape, "v", f"wrt variable {variable.label!r}")
    (first,) = grad(expr, [variable])
    (second,) = grad(sd.sum(first * direction), [variable])
    return second


def function(inputs: Sequence[Node], outputs: Node | Sequence[Any], name: str | None = None, *,
             rewrites: bool = True, dtype: Any = np.float64, backend: str = "numpy",
             cache: bool | str | os.PathLike[str] | None = None) -> CompiledFunction:
    """Compile nodes into one function of ``inputs``, sharing every common subexpression.

    A list of outputs gives a tuple; a single node gives its value alone. The result has
    ``.source``. ``rewrites``, ``dtype``, ``backend`` and ``cache`` as in ``compile``.
    """
    where = numba_cache.folder(cache, backend)
    return load(function_program(inputs, outputs, name, rewrites=rewrites, dtype=dtype, backend=backend), where)


def function_program(inputs: Sequence[Node], outputs: Node | Sequence[Any], name: str | None = None, *,
                     rewrites: bool = True, dtype: Any = np.float64, backend: str = "numpy") -> Program:
    """The generated program for ``function``, before it is loaded."""
    input_list = variables([inputs] if isinstance(inputs, Node) else inputs, "inputs")  # one variable, as wrt
    # checked by the emitter: `or` would take bool() of anything
    options = Options.of("function" if name is None else name, rewrites, dtype, backend)
    alone = isinstance(outputs, Node)
    listed = [outputs] if alone else _listed(outputs, "outputs")
    if not listed:
        raise GraphError("function needs at least one output")
    nodes = [sd.as_node(o, f"outputs[{i}]") for i, o in enumerate(listed)]
    form = Form(
        lead=f"{len(nodes)} output(s) computed together; common subexpressions are computed once.",
        layout=(lambda texts: texts[0]) if alone else
        (lambda texts: f"({', '.join(texts)}{',' if len(texts) == 1 else ''})"),
        output_names=["value"] if alone else [f"out{i}" for i in range(len(nodes))],
    )
    return program(Request(nodes, input_list, form), options)


def _scalar(expr: Any, what: str) -> Node:
    root = sd.tofloat(sd.as_node(expr, "expr"))
    if root.shape != ():
        raise ShapeError(f"{what} needs a scalar expression, got shape {root.shape} ({short_text(root)}); "
                         "reduce it with sd.sum(...), or use sd.vjp for a non-scalar one")
    return root


EYE_LIMIT = 2**16  # entries: a smaller identity seed is a constant, a larger one made at run time


def _identity(k: int | Dim, shape: tuple[Any, ...]) -> Node:
    """The k x k identity as k seeds of ``shape``. A small one is a constant, which costs a call
    nothing; a large one is an ``eye`` node, so the program neither stores nor prints it."""
    if isinstance(k, Dim):  # sized when the function runs
        return sd.identity_seed(k, shape)
    if k * k * 8 > _memory():
        raise ShapeError(f"a dense Jacobian needs a {k} x {k} identity seed, which does not fit in memory; "
                         "use sd.jvp or sd.vjp for products with it")
    if k * k > EYE_LIMIT:
        return sd.identity_seed(k, shape)
    return sd.as_node(np.eye(k).reshape(k, *shape))


def _memory() -> int:
    """This machine's memory in bytes (2**62 where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):  # not POSIX, or the name is unknown
        return 2**62


def _one_variable(wrt: Any, what: str) -> Node:
    """The one variable ``hvp``, ``jacobian`` and ``hessian`` differentiate by (or a list of it)."""
    listed = _wrt(wrt)
    if len(listed) != 1:
        raise GraphError(f"{what} differentiates by one variable, got {len(listed)}; call it once per variable")
    return listed[0]


def _wrt(wrt: Node | Sequence[Node]) -> list[Node]:
    return variables([wrt] if isinstance(wrt, Node) else wrt, "wrt")


def _listed(items: Any, what: str) -> list[Any]:
    if isinstance(items, (str, bytes)) or not hasattr(items, "__iter__"):
        raise GraphError(f"{what} must be a list, got {type(items).__name__}")
    return list(items)


def _float_of_shape(value: Any, shape: tuple[int, ...], what: str, owner: str) -> Node:
    node = sd.as_node(value, what)
    if node.dtype != FLOAT:
        node = sd.tofloat(node)
    if node.shape != shape:
        raise ShapeError(f"{what} has shape {node.shape}, but {owner} has shape {shape}")
    return node


def pullback(expr: Any, wrt: Node | Sequence[Node], inputs: Sequence[Node] | None = None, *,
             name: str = "pullback", rewrites: bool = True, dtype: Any = np.float64,
             backend: str = "numpy") -> CompiledFunction:
    """Compile ``expr``'s pullback: ``pb(*args)`` returns ``(value, back)``, and ``back(cotangent)``
    returns the gradients tuple. ``back`` reuses the forward sweep's intermediates.

    ``dtype`` and ``backend`` as in ``compile``. The numba backend raises ``UnsupportedError``:
    ``back`` is a closure over the forward sweep's arrays, which a numba kernel cannot return."""
    if isinstance(backend, str) and backend == "numba":  # refused by name: no numba import to say no
        raise UnsupportedError("pullback: the numba backend cannot write pullbacks (a kernel cannot return the "
                               "closure back); use backend='numpy' or 'array_api'")
    options = Options.of(name, rewrites, dtype, backend)
    root = sd.tofloat(sd.as_node(expr, "expr"))
    wrt_list = _wrt(wrt)
    input_list = wrt_list if inputs is None else variables(inputs, "inputs")
    form = Form(
        lead="The value now, and back(cotangent) for the gradients, in wrt order.",
        layout=lambda texts: texts[0],
        output_names=["value", *wrt_list],
        pullback=True,
    )
    return load(program(Request([root], input_list, form, wrt_list, make_var("cotangent", root.shape)), options))


def jacobian(expr: Any, wrt: Node, *, mode: str | None = None) -> Node:
    """The Jacobian of ``expr`` by one variable, of shape ``expr.shape + wrt.shape``.

    Reverse mode (one pullback, seeded with the identity as a batch of cotangents) or forward
    mode (one directional derivative, the identity as a batch of tangents), whichever batched
    sweep computes fewer entries (seeds times the entries one seed's sweep computes);
    ``mode="forward"`` or ``"reverse"`` chooses. The choice and the two costs are recorded in
    the header of any function that computes the result.
    """
    return _jacobian(expr, wrt, mode)[0]


def _jacobian(expr: Any, wrt: Node, mode: str | None) -> tuple[Node, str]:
    """``jacobian``, and the mode it took."""
    root = sd.tofloat(sd.as_node(expr, "expr"))
    variable = _one_variable(wrt, "jacobian")
    m, n = root.size, variable.size
    if mode is not None and (not isinstance(mode, str) or mode not in ("forward", "reverse")):
        raise GraphError(f"jacobian: mode must be 'forward', 'reverse' or None, got {mode!r}")
    pulled_probe = make_var("jacobian_cotangent", root.shape)
    (pulled,) = vjp(root, [variable], pulled_probe)
    tangent_probe = make_var("jacobian_tangent", variable.shape)
    tangent: Node | None = None
    cost = ""
    if mode is None and (isinstance(m, Dim) or isinstance(n, Dim)):
        mode = "reverse" if _fewer_rows(m, n) else "forward"
    elif mode is None:  # the batched sweep's work: entries computed per seed, times the seeds
        try:
            tangent = jvp(root, [variable], [tangent_probe])
        except UnsupportedError:  # no forward mode through this graph (a scan): reverse it is
            tangent = None
        backward = m * per_seed_work(pulled, pulled_probe)
        forward = None if tangent is None else n * per_seed_work(tangent, tangent_probe)
        mode = "reverse" if forward is None or _fewer_rows(backward, forward) else "forward"
        if forward is not None:
            mine, other = (backward, forward) if mode == "reverse" else (forward, backward)
            cost = f"; by cost, {_count_text(mine)} entries against {_count_text(other)} in the other mode"
    if mode == "reverse":
        (rows,) = batch([pulled], pulled_probe, _identity(m, root.shape))
        result = sd.reshape(rows, (*root.shape, *variable.shape))
        chosen = f"reverse mode: one pullback seeded with the {m} x {m} identity{cost}"
    else:
        if tangent is None:
            tangent = jvp(root, [variable], [tangent_probe])
        (columns,) = batch([tangent], tangent_probe, _identity(n, variable.shape))
        moved = sd.transpose(columns, (*range(1, root.ndim + 1), 0))
        result = sd.reshape(moved, (*root.shape, *variable.shape))
        chosen = f"forward mode: one directional derivative seeded with the {n} x {n} identity{cost}"
    notes[result] = f"jacobian {result.shape} of {short_text(root, 2)} by {variable.label!r}, {chosen}"
    return result, mode


def per_seed_work(root: Node, probe: Node) -> int | Dim:
    """Entries one seed's sweep computes: the sizes of the nodes that depend on ``probe``, which
    batching repeats once per seed (the rest is computed once)."""
    reached = {probe}
    work: int | Dim = 0
    for node in toposort([root]):
        if node is not probe and any(i in reached for i in node.inputs):
            reached.add(node)
            work += node.size if node.dtype != TUPLE else 0
    return work


def _count_text(count: int | Dim) -> str:
    return str(count) if isinstance(count, Dim) else f"{count:.3g}"


def _fewer_rows(m: int | Dim, n: int | Dim) -> bool:
    """Whether reverse mode (cost m) is the cheaper side; with named sizes, the side that is
    cheaper for every size, or else the one cheaper at the nominal size."""
    if isinstance(m, Dim) or isinstance(n, Dim):
        return surely_at_most(m, n) or (not surely_at_most(n, m) and nominal(m) <= nominal(n))
    return m <= n


def hessian(expr: Any, wrt: Node) -> Node:
    """The Hessian of a scalar ``expr``, of shape ``wrt.shape + wrt.shape``: the Jacobian of the
    gradient in the cheaper mode (forward or reverse over reverse), one batched sweep."""
    variable = _one_variable(wrt, "hessian")
    (first,) = grad(expr, [variable])
    result, mode = _jacobian(first, variable, None)
    notes[result] = f"hessian {result.shape} by {variable.label!r}: {mode} over reverse, identity-seeded"
    return result
