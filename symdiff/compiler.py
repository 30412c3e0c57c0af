"""``compile``: the pipeline stages called in order, and the in-memory loader."""

from __future__ import annotations

import builtins
import importlib
import itertools
import linecache
import math
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol, cast

import numpy as np

from symdiff import pickled, runtime
from symdiff.adjoint import Reverse, adjoints
from symdiff.api import _flag, _shown, as_node, tofloat, zeros
from symdiff.emit import Backend, FunctionSpec, Program, emit_function
from symdiff.errors import GraphError, ShapeError, UnsupportedError
from symdiff.graph import Node, free_variables, short_text, toposort
from symdiff.guard import guard
from symdiff.precision import precision_of
from symdiff.rewrite import SPEED, Rewriter
from symdiff.stability import STABILITY, stabilize

_files = itertools.count()
SINGLE = "\n    Single precision: arguments, constants and results are float32."
ALL_RULES = [*STABILITY, *SPEED]  # stability first: log(1 + exp(x)) must become softplus before anything else


class CompiledFunction(Protocol):
    """A generated function: call it, or read its ``source``."""

    source: str

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


def compile(expr: Any, wrt: Node | Sequence[Node], inputs: Sequence[Node] | None = None, *,
            name: str = "value_and_grad", rewrites: bool = True, dtype: Any = np.float64,
            backend: str = "numpy") -> CompiledFunction:
    """Compile a scalar expression into one NumPy function returning ``(value, grads)``.

    ``wrt`` lists the variables to differentiate by; ``inputs`` (default: ``wrt``) sets the
    generated function's parameters, so data can be passed without being differentiated.
    The result has ``.source``; ``grads`` is a tuple in ``wrt`` order. ``rewrites=False``
    turns off the compile-time speed rewrites (see ``symdiff.rewrite``), which reorder
    floating-point work, such as ``sum(a*b)`` of vectors as ``a @ b``; the construction-time
    rewrites are exact and stay. ``dtype=np.float32`` generates single-precision code.
    ``backend="array_api"`` generates code for any namespace of the array API standard.
    """
    return load(compile_program(expr, wrt, inputs, name=name, rewrites=rewrites, dtype=dtype, backend=backend))


def compile_program(expr: Any, wrt: Node | Sequence[Node], inputs: Sequence[Node] | None = None, *,
                    name: str = "value_and_grad", fast_path: bool = True, rewrites: bool = True,
                    dtype: Any = np.float64, backend: str = "numpy") -> Program:
    """The generated program for ``compile``, before it is loaded.

    ``fast_path=False`` leaves out the plain-float body of all-scalar graphs (for tests and
    benchmarks that compare it with the NumPy body). ``rewrites`` as in ``compile``.
    """
    spelling = precision_of(dtype)
    single = not spelling.double
    printers = backend_for(backend, single)
    root = tofloat(as_node(expr, "expr"))  # a boolean expression counts as 0/1, like in arithmetic
    if root.shape != ():
        raise ShapeError(
            f"compile needs a scalar expression, got shape {root.shape} ({short_text(root)}); "
            "reduce it with sd.sum(...) or sd.mean(...)"
        )
    wrt_list = _variables([wrt] if isinstance(wrt, Node) else wrt, "wrt")
    input_list = wrt_list if inputs is None else _variables(inputs, "inputs")
    order = toposort([root])
    _check_covered(order, wrt_list, input_list)
    prepared = prepare(root, wrt_list, order, rewrites)
    guarded, grads, adjoint_of, origin = prepared.value, prepared.grads, prepared.adjoint_of, prepared.origin
    summary = rewrites_header(prepared.rewrites)
    # the walk from the first root, guarded, comes first in the order: it is the forward graph
    forward = frozenset(prepared.order[: next(i for i, n in enumerate(prepared.order) if n is guarded) + 1])
    adjoint_of = {c: n for c, n in adjoint_of.items() if c not in forward}
    in_wrt = set(wrt_list)
    spec = FunctionSpec(
        name=name,
        inputs=input_list,
        outputs=[guarded, *grads],
        layout=lambda texts: f"{texts[0]}, ({', '.join(texts[1:])}{',' if len(texts) == 2 else ''})",
        output_names=["value", *wrt_list],
        summary="Value and gradient in one forward and one reverse sweep; the gradients come in\n"
        "    wrt order, each of its variable's shape." + summary + (SINGLE if single else ""),
        describe_inputs=lambda node: "  [wrt]" if node in in_wrt else "  [data]",
        fast_path=fast_path and not single and printers is None,
        adjoint_of=adjoint_of,
        origin=origin,
        forward=forward,
        order=prepared.order,
        backend=printers,
        float_type=spelling,
    )
    return emit_function(spec)


def backend_for(name: str, single: bool = False) -> Backend | None:
    """The printers of a backend by name: None for NumPy's own."""
    if not isinstance(name, str):
        raise UnsupportedError(f"backend must be 'numpy', 'array_api' or 'numba', got {_shown(name)}")
    if name == "numpy":
        return None
    if name == "array_api":
        if single:
            raise UnsupportedError("the array_api backend writes float64 code; cast the results for float32")
        from symdiff.array_api import ARRAY_API

        return ARRAY_API
    if name == "numba":
        if single:
            raise UnsupportedError("the numba backend writes float64 code; cast the results for float32")
        from symdiff.numba_backend import NUMBA, require_numba

        require_numba()
        return NUMBA
    raise UnsupportedError(f"backend must be 'numpy', 'array_api' or 'numba', got {name!r}")


class Prepared(NamedTuple):
    """The graph the emitter prints: value and gradients after the compile-time rewrites."""

    value: Node
    grads: list[Node]
    adjoint_of: dict[Node, Node]  # adjoint node -> the forward node it belongs to
    origin: dict[Node, Node]  # reverse-sweep node -> the forward node whose VJP built it
    rewrites: list[str]  # one line per rewrite rule that applied
    order: list[Node]  # toposort([value, *grads])


def prepare(root: Node, wrt: Sequence[Node], order: list[Node] | None = None, rewrites: bool = True,
            seed: Node | None = None) -> Prepared:
    """Differentiate ``root`` (seeded with ``seed``, default 1.0) and, with ``rewrites``, apply the
    compile-time rewrites: the stability rewrites before differentiating, then all of them to
    value and adjoints."""
    rewriter = Rewriter(ALL_RULES)
    if _flag(rewrites, "rewrites"):
        (stable,) = stabilize([root], rewriter.counts)
        root, order = stable, (order if stable is root else None)
    guarded, grads, reverse = differentiate(root, wrt, order, seed)
    adjoint_of: dict[Node, Node] = {}
    for node, cotangent in reverse.cotangents.items():
        adjoint_of.setdefault(cotangent, node)
    origin = reverse.origin
    if not rewrites:
        return Prepared(guarded, grads, adjoint_of, origin, [], toposort([guarded, *grads]))
    new = rewriter.run([guarded, *grads])
    if not new:
        return Prepared(guarded, grads, adjoint_of, origin, rewriter.summary(), rewriter.order)
    guarded, grads = new.get(guarded, guarded), [new.get(g, g) for g in grads]
    return Prepared(
        guarded, grads, {new.get(c, c): new.get(n, n) for c, n in adjoint_of.items()},
        {new.get(c, c): new.get(n, n) for c, n in origin.items()}, rewriter.summary(),
        toposort([guarded, *grads]),
    )


def differentiate(root: Node, wrt: Sequence[Node], order: list[Node] | None = None, seed: Node | None = None,
                  ) -> tuple[Node, list[Node], Reverse]:
    """The guarded expression, one adjoint node per ``wrt`` variable, and every adjoint.

    ``order`` may pass ``toposort([root])`` when the caller already has it; ``seed`` is the
    cotangent of ``root`` (1.0 for a gradient).
    """
    order = toposort([root]) if order is None else order
    guarded_roots = guard([root], order)
    (guarded,) = guarded_roots.roots
    reverse = adjoints(guarded, wrt, as_node(1.0) if seed is None else seed, order if guarded is root else None,
                       guarded_roots)
    return guarded, [_gradient(reverse.cotangents, w) for w in wrt], reverse


def _gradient(adjoint: dict[Node, Node], variable: Node) -> Node:
    """The adjoint of ``variable``, or zeros of its shape when the expression ignores it."""
    found = adjoint.get(variable)
    if found is not None:
        return found
    return zeros(variable.shape) if variable.shape else as_node(0.0)


def _variables(items: Any, what: str) -> list[Node]:
    try:
        listed = list(items)
    except TypeError:
        raise GraphError(f"{what} must be a list of variables, got {type(items).__name__}") from None
    seen: set[Node] = set()
    for position, item in enumerate(listed):
        if not isinstance(item, Node) or item.op != "var":
            shown = short_text(item) if isinstance(item, Node) else repr(item)
            raise GraphError(f"{what}[{position}] must be a variable made by sd.var, got {shown}")
        if item in seen:
            raise GraphError(f"{what}[{position}]: variable {item.label!r} is listed twice")
        seen.add(item)
    return listed


def rewrites_header(lines: Sequence[str]) -> str:
    """The docstring lines that list the compile-time rewrites that applied."""
    if not lines:
        return ""
    listed = "".join(f"\n        {line}" for line in lines)
    return "\n    Compile-time rewrites (rewrites=False turns them off):" + listed


def _check_covered(order: list[Node], wrt: list[Node], inputs: list[Node]) -> None:
    given = set(inputs)
    outside = [w.label for w in wrt if w not in given]
    if outside:
        raise GraphError(f"wrt variables {outside} are not in inputs; every wrt variable must be an input")
    missing = [v.label for v in order if v.op == "var" and v not in given]
    if missing:
        raise GraphError(f"the expression depends on variables {missing} that are not in inputs")


def load(program: Program) -> CompiledFunction:
    """Execute generated source under a unique filename registered with ``linecache``."""
    filename = f"<symdiff:{program.name}:{next(_files)}>"
    namespace: dict[str, Any] = {
        "np": np, "math": math,
        **{fn.__name__: fn for fn in runtime.HELPERS}, **program.constants,
    }
    for module in program.imports:
        importlib.import_module(module)
        top = module.split(".")[0]
        namespace[top] = importlib.import_module(top)
    code = builtins.compile(program.source, filename, "exec")
    linecache.cache[filename] = (len(program.source), None, program.source.splitlines(True), filename)
    exec(code, namespace)
    function = namespace[program.name]
    # the entry lets tracebacks and inspect show the source; it goes with the function
    weakref.finalize(function, linecache.cache.pop, filename, None)
    function.source = program.source
    function.__source__ = program.source
    pickled.register(function, program)
    return cast(CompiledFunction, function)


def evaluate(expr: Any, values: dict[Node, Any]) -> Any:
    """The value of ``expr`` at ``values`` ({variable: value}), without gradients."""
    root = as_node(expr, "expr")
    if not isinstance(values, Mapping):
        raise GraphError(f"evaluate: values must be a dict {{variable: value}}, got {_shown(values)}")
    variables = free_variables([root])
    missing = [v.label for v in variables if v not in values]
    if missing:
        raise GraphError(f"evaluate: no value given for variables {missing}")
    return value_function(root, variables)(*(values[v] for v in variables))


def value_function(expr: Any, inputs: Sequence[Node]) -> CompiledFunction:
    """A compiled function computing ``expr`` alone, with ``inputs`` as parameters.

    It is ``sd.function``'s pipeline (guard, stability and speed rewrites), so it computes what
    ``compile`` computes: ``log(1 + exp(x))`` at 1000 is 1000.0 in both.
    """
    from symdiff.transforms import function_program  # transforms builds on this module

    return load(function_program(list(inputs), as_node(expr, "expr"), name="value_only"))
