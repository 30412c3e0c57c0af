"""Transformations that return graphs, and ``function`` to compile any list of them.

Every one re-enters the single reverse pass of ``adjoint.py``; there is no second rule table:

- ``grad`` and ``vjp`` are the reverse pass itself, returning its adjoint nodes.
- ``jvp`` transposes the pullback. ``u -> vjp(f)(u)`` is linear in ``u``, so the gradient of
  ``<vjp(f)(u), t>`` with respect to ``u`` is ``J t``, and it no longer contains ``u``.
  The graph stays a constant multiple of the function's, as in forward mode.
- ``hvp`` is reverse-over-reverse: the gradient of ``<grad f, v>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff.batch import batch
from symdiff.compiler import (
    ALL_RULES,
    SINGLE,
    CompiledFunction,
    _check_covered,
    _variables,
    backend_for,
    differentiate,
    load,
    prepare,
    rewrites_header,
)
from symdiff.emit import FunctionSpec, Program, emit_function
from symdiff.errors import GraphError, ShapeError, UnsupportedError
from symdiff.graph import FLOAT, Node, free_variables, make_var, notes, short_text, toposort
from symdiff.guard import guard_where
from symdiff.precision import precision_of
from symdiff.rewrite import Rewriter
from symdiff.stability import stabilize


def grad(expr: Any, wrt: Node | Sequence[Node]) -> tuple[Node, ...]:
    """The gradient of a scalar ``expr`` as graph nodes, one per ``wrt`` variable, each of its shape."""
    (root,) = stabilize([_scalar(expr, "grad")])
    _, grads, _ = differentiate(root, _wrt(wrt))
    return tuple(grads)


def vjp(expr: Any, wrt: Node | Sequence[Node], cotangent: Any) -> tuple[Node, ...]:
    """The pullback of ``expr`` applied to ``cotangent`` (a node or constant of ``expr``'s shape)."""
    (root,) = stabilize([sd.tofloat(sd.as_node(expr, "expr"))])
    seed = _float_of_shape(cotangent, root.shape, "cotangent", "expr")
    _, pulled, _ = differentiate(root, _wrt(wrt), seed=seed)
    return tuple(pulled)


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
    if any(v is probe for v in free_variables([result])):
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
             rewrites: bool = True, dtype: Any = np.float64, backend: str = "numpy") -> CompiledFunction:
    """Compile nodes into one function of ``inputs``, sharing every common subexpression.

    A list of outputs gives a tuple; a single node gives its value alone. The result has
    ``.source``. ``rewrites``, ``dtype`` and ``backend`` as in ``compile``.
    """
    return load(function_program(inputs, outputs, name, rewrites=rewrites, dtype=dtype, backend=backend))


def function_program(inputs: Sequence[Node], outputs: Node | Sequence[Any], name: str | None = None, *,
                     rewrites: bool = True, dtype: Any = np.float64, backend: str = "numpy") -> Program:
    """The generated program for ``function``, before it is loaded."""
    input_list = _variables([inputs] if isinstance(inputs, Node) else inputs, "inputs")  # one variable, as wrt
    rewrites = sd._flag(rewrites, "function: rewrites")
    spelling = precision_of(dtype)
    single = not spelling.double
    printers = backend_for(backend, single)
    alone = isinstance(outputs, Node)
    listed = [outputs] if alone else _listed(outputs, "outputs")
    if not listed:
        raise GraphError("function needs at least one output")
    nodes = [sd.as_node(o, f"outputs[{i}]") for i, o in enumerate(listed)]
    order = toposort(nodes)
    _check_covered(order, [], input_list)
    guarded = guard_where(nodes, order)
    recorded = "".join(f"\n        {note}" for n in order if (note := notes.get(n)) is not None)
    summary = f"\n    Built by transformations:{recorded}" if recorded else ""
    if sd._flag(rewrites, "rewrites"):
        rewriter = Rewriter(ALL_RULES)
        new = rewriter.run(guarded)
        guarded = [new.get(g, g) for g in guarded]
        summary += rewrites_header(rewriter.summary())
    spec = FunctionSpec(
        name="function" if name is None else name,  # checked by the emitter: `or` would take bool() of anything
        inputs=input_list,
        outputs=guarded,
        layout=(lambda texts: texts[0]) if alone else
        (lambda texts: f"({', '.join(texts)}{',' if len(texts) == 1 else ''})"),
        output_names=["value"] if alone else [f"out{i}" for i in range(len(guarded))],
        summary=f"{len(guarded)} output(s) computed together; common subexpressions are computed once." + summary
        + (SINGLE if single else ""),
        describe_inputs=lambda node: "",
        fast_path=not single and printers is None,
        backend=printers,
        float_type=spelling,
    )
    return emit_function(spec)


def _scalar(expr: Any, what: str) -> Node:
    root = sd.tofloat(sd.as_node(expr, "expr"))
    if root.shape != ():
        raise ShapeError(f"{what} needs a scalar expression, got shape {root.shape} ({short_text(root)}); "
                         "reduce it with sd.sum(...), or use sd.vjp for a non-scalar one")
    return root


def _identity(k: int, shape: tuple[int, ...]) -> Node:
    """The k x k identity as k seeds of ``shape``: as large as the dense result asked for, or smaller."""
    try:
        return sd.as_node(np.eye(k).reshape(k, *shape))
    except MemoryError:
        raise ShapeError(f"a dense Jacobian needs a {k} x {k} identity seed, which does not fit in memory; "
                         "use sd.jvp or sd.vjp for products with it") from None


def _one_variable(wrt: Any, what: str) -> Node:
    """The one variable ``hvp``, ``jacobian`` and ``hessian`` differentiate by (or a list of it)."""
    listed = _wrt(wrt)
    if len(listed) != 1:
        raise GraphError(f"{what} differentiates by one variable, got {len(listed)}; call it once per variable")
    return listed[0]


def _wrt(wrt: Node | Sequence[Node]) -> list[Node]:
    return _variables([wrt] if isinstance(wrt, Node) else wrt, "wrt")


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

    ``dtype`` as in ``compile``. Only the NumPy backend writes pullbacks: ``back`` is a closure
    over the forward sweep's arrays, which a numba kernel cannot return, and the array API
    backend has no closure form yet; both raise ``UnsupportedError``."""
    spelling = precision_of(dtype)
    single = not spelling.double
    if isinstance(backend, str) and backend in ("array_api", "numba"):  # refused by name: no numba import to say no
        raise UnsupportedError(f"pullback: the {backend} backend cannot write pullbacks; use backend='numpy'")
    backend_for(backend, single)  # any other name gets compile's error
    root = sd.tofloat(sd.as_node(expr, "expr"))
    wrt_list = _wrt(wrt)
    input_list = wrt_list if inputs is None else _variables(inputs, "inputs")
    order = toposort([root])
    _check_covered(order, wrt_list, input_list)
    cotangent = make_var("cotangent", root.shape)
    prepared = prepare(root, wrt_list, order, rewrites, seed=cotangent)
    spec = FunctionSpec(
        name=name,
        inputs=input_list,
        outputs=[prepared.value, *prepared.grads],
        layout=lambda texts: texts[0],
        output_names=["value", *wrt_list],
        summary="The value now, and back(cotangent) for the gradients, in wrt order."
        + rewrites_header(prepared.rewrites) + (SINGLE if single else ""),
        describe_inputs=lambda node: "",
        forward=frozenset(toposort([prepared.value])),
        cotangent=cotangent,
        order=prepared.order,
        float_type=spelling,
    )
    return load(emit_function(spec))


def jacobian(expr: Any, wrt: Node, *, mode: str | None = None) -> Node:
    """The Jacobian of ``expr`` by one variable, of shape ``expr.shape + wrt.shape``.

    Reverse mode (one pullback, seeded with the identity as a batch of cotangents) when
    ``expr`` has no more entries than ``wrt``; forward mode (one directional derivative, the
    identity as a batch of tangents) otherwise; ``mode="forward"`` or ``"reverse"`` chooses.
    The choice is recorded in the header of any function that computes the result.
    """
    root = sd.tofloat(sd.as_node(expr, "expr"))
    variable = _one_variable(wrt, "jacobian")
    m, n = root.size, variable.size
    if mode is not None and (not isinstance(mode, str) or mode not in ("forward", "reverse")):
        raise GraphError(f"jacobian: mode must be 'forward', 'reverse' or None, got {mode!r}")
    if mode == "reverse" or (mode is None and m <= n):
        probe = make_var("jacobian_cotangent", root.shape)
        (pulled,) = vjp(root, [variable], probe)
        (rows,) = batch([pulled], probe, _identity(m, root.shape))
        result = sd.reshape(rows, (*root.shape, *variable.shape))
        mode = f"reverse mode: one pullback seeded with the {m} x {m} identity"
    else:
        probe = make_var("jacobian_tangent", variable.shape)
        tangent = jvp(root, [variable], [probe])
        (columns,) = batch([tangent], probe, _identity(n, variable.shape))
        moved = sd.transpose(columns, (*range(1, root.ndim + 1), 0))
        result = sd.reshape(moved, (*root.shape, *variable.shape))
        mode = f"forward mode: one directional derivative seeded with the {n} x {n} identity"
    notes[result] = f"jacobian {result.shape} of {short_text(root, 2)} by {variable.label!r}, {mode}"
    return result


def hessian(expr: Any, wrt: Node) -> Node:
    """The Hessian of a scalar ``expr``, of shape ``wrt.shape + wrt.shape``: the reverse-mode
    Jacobian of the gradient (reverse over reverse), one batched pullback."""
    variable = _one_variable(wrt, "hessian")
    (first,) = grad(expr, [variable])
    result = jacobian(first, variable)
    notes[result] = f"hessian {result.shape} by {variable.label!r}: reverse over reverse, identity-seeded"
    return result
