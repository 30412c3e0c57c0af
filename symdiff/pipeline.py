"""The one pipeline: every compiled function is these passes, in this order, then the emitter.

    check          every variable the outputs read is an input; every wrt variable is one
    stabilize      log(1 + exp(x)) -> softplus(x) and the like, before anything is differentiated
    guard          singular ops inside where-branches get inputs inside their domain
    differentiate  the reverse pass, seeded with 1.0 (compile) or a cotangent parameter (pullback)
    rewrite        the compile-time speed rewrites, over the value and the adjoints together
    emit           one function, in the dialect ``options`` name (NumPy, float32, array API, numba)

``compile``, ``pullback`` and ``function`` (so ``evaluate``, ``jacobian`` and ``hessian``, which
compile through it) state a ``Request`` and call ``program``; the CLI calls the same entry points.
A pass that does not apply returns the graph it was given, with its topological order: the
order is computed once per graph and handed on, never recomputed by a pass that changed nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from symdiff import api
from symdiff.adjoint import adjoints
from symdiff.emit import Backend, FunctionSpec, Program, emit_function
from symdiff.errors import GraphError, UnsupportedError
from symdiff.graph import INT, Node, notes, short_text, toposort, with_subgraphs
from symdiff.graph import check_nodes as verify_nodes
from symdiff.guard import Guarded, guard
from symdiff.ops import OPS, USER, refuses
from symdiff.precision import Precision, precision_of
from symdiff.rewrite import SPEED, Rewriter
from symdiff.stability import STABILITY, stabilize

ALL_RULES = [*STABILITY, *SPEED]  # stability first: log(1 + exp(x)) must become softplus before anything else
SINGLE = "\n    Single precision: arguments, constants and results are float32."
BACKENDS = ("numpy", "array_api", "numba")


@dataclass(frozen=True)
class Options:
    """The knobs every entry point takes, checked once."""

    name: str
    rewrites: bool = True
    precision: Precision = field(default_factory=lambda: precision_of(np.float64))
    backend: str = "numpy"
    fast_path: bool = True  # all-scalar graphs get a plain-float body first (tests turn it off)

    @staticmethod
    def of(name: str, rewrites: Any = True, dtype: Any = np.float64, backend: Any = "numpy",
           fast_path: bool = True) -> Options:
        precision = precision_of(dtype)
        backend_for(backend, not precision.double)  # refuse a bad name or pairing before any work
        return Options(name, api._flag(rewrites, "rewrites"), precision, backend, fast_path)


@dataclass(frozen=True)
class Form:
    """How an entry point returns and describes its results."""

    lead: str  # the docstring's first lines
    layout: Callable[[list[str]], str]  # output texts -> the return expression
    output_names: Sequence[str | Node]  # per root: a base name, or a variable for "bar_<its name>"
    describe_inputs: Callable[[Node], str] = lambda node: ""
    pullback: bool = False  # the reverse sweep becomes ``back(cotangent)``


GRAPH_ONLY = Form("", lambda texts: "", ())  # for requests whose graph is used, not printed


@dataclass(frozen=True)
class Request:
    """What to compile: ``outputs`` as functions of ``inputs``, differentiated by ``wrt`` if any.

    With ``wrt``, ``outputs`` is the one expression to differentiate and ``seed`` its cotangent
    (None: 1.0); the roots become the value, then one adjoint per ``wrt`` variable."""

    outputs: Sequence[Node]
    inputs: Sequence[Node]
    form: Form
    wrt: Sequence[Node] = ()
    seed: Node | None = None


@dataclass
class Graph:
    """What the passes hand on."""

    roots: list[Node]  # the value first, then the adjoints; or the outputs
    order: list[Node]  # toposort(roots)
    counts: Counter[str] = field(default_factory=Counter)  # rewrite rule -> times applied
    guarded: Guarded | None = None  # each node's where-branch, for the reverse pass's masks
    adjoint_of: dict[Node, Node] = field(default_factory=dict)  # adjoint node -> its forward node
    origin: dict[Node, Node] = field(default_factory=dict)  # reverse-sweep node -> forward node of its VJP
    rules: Sequence[str] = ()  # one line per rewrite rule that applied
    recorded: str = ""  # how transformations built the outputs (jacobian's mode...), for the header

    @property
    def value(self) -> Node:
        return self.roots[0]

    @property
    def grads(self) -> list[Node]:
        return self.roots[1:]

    def rebuilt(self, roots: list[Node]) -> Graph:
        """The same graph with new roots: a new order only when a root changed."""
        self.order = self.order if _same(roots, self.roots) else toposort(roots)
        self.roots = roots
        return self


def _same(a: Sequence[Node], b: Sequence[Node]) -> bool:
    """The same nodes in the same order, by identity: ``==`` on nodes builds a node."""
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


Pass = Callable[[Graph, "Request", Options], Graph]


def check(graph: Graph, request: Request, options: Options) -> Graph:
    given = set(request.inputs)
    outside = [w.label for w in request.wrt if w not in given]
    if outside:
        raise GraphError(f"wrt variables {outside} are not in inputs; every wrt variable must be an input")
    integer = [w.label for w in request.wrt if w.dtype == INT]
    if integer:
        raise GraphError(f"integer variables {integer} take no gradient: pass them in inputs, not in wrt")
    missing = [v.label for v in graph.order if v.op == "var" and v not in given]
    if missing:
        raise GraphError(f"the expression depends on variables {missing} that are not in inputs")
    return graph


def stabilize_pass(graph: Graph, request: Request, options: Options) -> Graph:
    if not options.rewrites:
        return graph
    return graph.rebuilt(stabilize(graph.roots, graph.counts))


def guard_pass(graph: Graph, request: Request, options: Options) -> Graph:
    graph.guarded = guard(graph.roots, graph.order)
    return graph.rebuilt(graph.guarded.roots)


def differentiate(graph: Graph, request: Request, options: Options) -> Graph:
    if not request.wrt:
        return graph
    (root,) = graph.roots
    seed = api.as_node(1.0) if request.seed is None else request.seed
    reverse = adjoints(root, request.wrt, seed, graph.order, graph.guarded)
    for node, cotangent in reverse.cotangents.items():
        graph.adjoint_of.setdefault(cotangent, node)
    graph.origin = reverse.origin
    return graph.rebuilt([root, *(_gradient(reverse.cotangents, w) for w in request.wrt)])


def rewrite(graph: Graph, request: Request, options: Options) -> Graph:
    if not options.rewrites:
        return graph
    rewriter = Rewriter(ALL_RULES)
    rewriter.counts = graph.counts
    new = rewriter.run(graph.roots, graph.order)
    graph.rules = rewriter.summary()
    if not new:
        return graph
    graph.adjoint_of = {new.get(c, c): new.get(n, n) for c, n in graph.adjoint_of.items()}
    graph.origin = {new.get(c, c): new.get(n, n) for c, n in graph.origin.items()}
    return graph.rebuilt([new.get(r, r) for r in graph.roots])


def prune(graph: Graph, request: Request, options: Options) -> Graph:
    """Loops lose the stacked outputs nothing reads (see ``scan.prune_loops``)."""
    if not any(n.op == "scan" for n in graph.order):
        return graph
    from symdiff.scan import prune_loops  # the scan module builds on the op table, as this one does

    new = prune_loops(graph.order)
    if not new:
        return graph
    graph.adjoint_of = {new.get(c, c): new.get(n, n) for c, n in graph.adjoint_of.items()}
    graph.origin = {new.get(c, c): new.get(n, n) for c, n in graph.origin.items()}
    return graph.rebuilt([new.get(r, r) for r in graph.roots])


TRANSFORM = (stabilize_pass, guard_pass, differentiate)  # what sd.grad and sd.vjp return, as graphs
PASSES = (check, *TRANSFORM, rewrite, prune)
# nodes after a pass, at most (factor x nodes before + slack): every pass is linear in the graph
GROWTH: dict[Pass, tuple[int, int]] = {
    check: (1, 0), stabilize_pass: (1, 8), guard_pass: (3, 8), differentiate: (10, 16), rewrite: (2, 16),
    prune: (1, 0),
}
VERIFY = False  # the tests turn it on: the verifier and the growth bound after every pass


def run(request: Request, options: Options, passes: Sequence[Pass] = PASSES) -> Graph:
    """The graph the emitter prints: every pass of ``passes`` in order."""
    order = toposort(request.outputs)
    graph = Graph(list(request.outputs), order, recorded=notes_of(order))
    if VERIFY:
        verify_nodes(graph.order)
    for step in passes:
        before = graph.order
        graph = step(graph, request, options)
        if VERIFY:
            _verify(step, graph, before)
    return graph


def _verify(step: Pass, graph: Graph, before: list[Node]) -> None:
    order = toposort(graph.roots)
    if not _same(order, graph.order):
        raise GraphError(f"pass {step.__name__} handed on a stale topological order")
    known = set(before)
    verify_nodes(n for n in order if n not in known)  # nodes are immutable: only the new ones need it
    factor, slack = GROWTH[step]
    if len(order) > factor * len(before) + slack:
        raise GraphError(f"pass {step.__name__} grew the graph from {len(before)} to {len(order)} nodes")


def program(request: Request, options: Options) -> Program:
    """Run the passes and print the result."""
    return emit(run(request, options), request, options)


def emit(graph: Graph, request: Request, options: Options) -> Program:
    form, precision = request.form, options.precision
    printers = backend_for(options.backend, not precision.double)
    computed = with_subgraphs(graph.order)  # a loop's body computes its ops too
    user = sorted({n.op for n in computed if n.op in OPS and OPS[n.op].kind == USER})
    if user and options.backend != "numpy":
        raise UnsupportedError(f"the {options.backend} backend cannot call the user-defined ops {user}: a "
                               "definition gives a NumPy function only; use backend='numpy'")
    refused = sorted({n.op for n in computed if refuses(options.backend, n)})
    if refused:
        raise UnsupportedError(f"the {options.backend} backend cannot compute {', '.join(refused)}; "
                               "use backend='numpy'")
    forward: frozenset[Node] = frozenset()
    adjoint_of: dict[Node, Node] = {}
    if request.wrt:  # the walk from the value comes first in the order: it is the forward sweep
        end = next(i for i, n in enumerate(graph.order) if n is graph.value)  # by identity: == builds a node
        forward = frozenset(graph.order[: end + 1])
        adjoint_of = {c: n for c, n in graph.adjoint_of.items() if c not in forward}
    cotangent = request.seed if form.pullback else None
    spec = FunctionSpec(
        name=options.name,
        inputs=request.inputs,
        outputs=graph.roots,
        layout=form.layout,
        output_names=form.output_names,
        summary=form.lead + graph.recorded + rewrites_header(graph.rules) + ("" if precision.double else SINGLE),
        describe_inputs=form.describe_inputs,
        fast_path=options.fast_path and precision.double and printers is None,
        adjoint_of=adjoint_of,
        origin=graph.origin if request.wrt else {},
        forward=forward,
        order=graph.order,
        cotangent=cotangent,
        backend=printers,
        float_type=precision,
    )
    return emit_function(spec)


def notes_of(order: Sequence[Node]) -> str:
    """The header lines that say how transformations built the nodes of ``order`` (``jacobian``'s mode...)."""
    recorded = "".join(f"\n        {note}" for n in order if (note := notes.get(n)) is not None)
    return f"\n    Built by transformations:{recorded}" if recorded else ""


def rewrites_header(lines: Sequence[str]) -> str:
    """The docstring lines that list the compile-time rewrites that applied."""
    if not lines:
        return ""
    listed = "".join(f"\n        {line}" for line in lines)
    return "\n    Compile-time rewrites (rewrites=False turns them off):" + listed


def backend_for(name: Any, single: bool = False) -> Backend | None:
    """The printers of a backend by name: None for NumPy's own."""
    if not isinstance(name, str) or name not in BACKENDS:
        shown = repr(name) if isinstance(name, str) else api._shown(name)
        raise UnsupportedError(f"backend must be 'numpy', 'array_api' or 'numba', got {shown}")
    if name != "numpy" and single:
        raise UnsupportedError(f"the {name} backend writes float64 code; cast the results for float32")
    if name == "array_api":
        from symdiff.array_api import ARRAY_API

        return ARRAY_API
    if name == "numba":
        from symdiff.numba_backend import NUMBA, require_numba

        require_numba()
        return NUMBA
    return None


def variables(items: Any, what: str) -> list[Node]:
    """A list of distinct variables, or a ``GraphError`` naming the position that is not."""
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


def _gradient(adjoint: dict[Node, Node], variable: Node) -> Node:
    """The adjoint of ``variable``, or zeros of its shape when the expression ignores it."""
    found = adjoint.get(variable)
    if found is not None:
        return found
    return api.zeros(variable.shape) if variable.shape else api.as_node(0.0)
