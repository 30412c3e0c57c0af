"""The one emitter that owns all generated text: schedule -> flat SSA Python source.

Nodes are printed in topological order, each from its inputs' already-printed
text, so printing never recurses. A node used more than once, an output, or an
expression that grew too deep or too long gets a statement and a name; every
other node is inlined into its single user. The depth cap keeps Python's own
parser far from its recursion limit.
"""

from __future__ import annotations

import contextvars
import copy
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from symdiff import precision
from symdiff.dialect import NUMPY, Dialect, numpy_in, printing
from symdiff.dialect import current as current_dialect
from symdiff.dim_binding import Bindings, requirement_lines
from symdiff.dims import dim_names
from symdiff.errors import EmitError
from symdiff.graph import BOOL, INT, TUPLE, Node, toposort, use_counts, with_subgraphs
from symdiff.ops import OPS, Op
from symdiff.printers import ATOM, Printer
from symdiff.source_text import Namer, array_literal, check_function_name, docstring, number_text

INLINE_DEPTH = 8  # nesting levels an inlined expression may reach
INLINE_CHARS = 88  # longer expressions get their own statement
SMALL_ARRAY = 32  # array constants up to this size are printed as literals
UNARY = 15
SKETCH_LINES = 12  # forward statements quoted in the header; a tree could be exponentially long
# The math body doubles the source; beyond this many nodes, compile time and memory matter more
# than per-call overhead, and only the NumPy body is written.
FAST_PATH_NODES = 5000


@dataclass
class Program:
    """What the emitter writes: source text plus values bound as globals when compiled in memory.

    Array constants become text only when a module file asks for ``module_source``: an
    in-memory compile binds them as objects, so a large constant costs no formatting."""

    source: str
    name: str
    constants: dict[str, np.ndarray] = field(default_factory=dict)
    module_lines: Sequence[str] = ()  # the function's lines in a module file, under its constants
    imports: tuple[str, ...] = ()  # modules of user-defined ops the code calls
    float_type: precision.Precision = precision.DOUBLE  # how the constants' literals are spelled

    @property
    def module_source(self) -> str:
        """The same function with every constant as a literal, for module files."""
        with printing(numpy_in(self.float_type)):
            literals = [f"{n} = {array_literal(value)}" for n, value in self.constants.items()]
        return "\n".join([*literals, *([""] if literals else []), *self.module_lines]) + "\n"


@dataclass(frozen=True)
class Backend:
    """Printers that replace the op table's NumPy ones, and how the function starts and ends."""

    printers: dict[str, tuple[Printer, int, tuple[int, ...]]]
    statements: dict[str, Callable[[str, Sequence[str], Node], list[str]]]
    assemble: Callable[..., Program]  # (spec, params, body, imports) -> Program
    dialect: Dialect = NUMPY  # the spellings its printers and the op table's ask for
    # statements that replace these inside a loop's body (numba's object mode fails in loops)
    in_loops: dict[str, Callable[[str, Sequence[str], Node], list[str]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Param:
    node: Node
    name: str


def scalar_check(p: Param, boxed: bool) -> list[str]:
    """Accept a float as it is where it only meets arrays; box it as np.float64 where scalar
    arithmetic needs IEEE semantics (1/0 is inf, not ZeroDivisionError)."""
    float_type = current_dialect().precision
    convert = f"        {p.name} = _scalar_arg({p.name}, {p.name!r}{float_type.check_arg()})"
    if not boxed:
        return [f"    if type({p.name}) is not float and type({p.name}) is not {float_type.type_text}:", convert]
    return [
        f"    if type({p.name}) is float:",
        f"        {p.name} = {float_type.scalar(p.name)}",
        f"    elif type({p.name}) is not {float_type.type_text}:",
        convert,
    ]


def boxed_scalars(order: Sequence[Node], params: list[Param], outputs: Sequence[Node]) -> set[Node]:
    """Scalar inputs that must become np.float64: used by a scalar op or another op, or returned."""
    scalars = {p.node for p in params if p.node.shape == ()}
    boxed = scalars & set(outputs)
    for node in order:
        if len(boxed) == len(scalars):
            break
        if node.shape == () or node.op not in OPS or not OPS[node.op].weak_scalar:
            boxed.update(i for i in node.inputs if i in scalars)
    return boxed


def int_check(p: Param, bindings: Bindings) -> list[str]:
    """Integer data: int64 arrays (or ints) of the declared shape pass untouched, floats are refused."""
    shape = tuple(p.node.shape)
    if shape == ():
        return [f"    if type({p.name}) is not int:", f"        {p.name} = _int_arg({p.name}, {p.name!r}, ())"]
    test = bindings.test(p.name, shape)
    return [f"    if type({p.name}) is not np.ndarray or {p.name}.dtype != np.int64 or {test.condition}:",
            f"        {p.name} = _int_arg({p.name}, {p.name!r}, {test.expected}{test.dims})",
            *("    " + line for line in test.binds)]


def param_check(p: Param, boxed: set[Node], bindings: Bindings) -> list[str]:
    if p.node.dtype == INT:
        return int_check(p, bindings)
    return scalar_check(p, p.node in boxed) if p.node.shape == () else array_check(p, bindings)


def array_check(p: Param, bindings: Bindings) -> list[str]:
    test = bindings.test(p.name, tuple(p.node.shape))
    float_type = current_dialect().precision
    return [
        f"    if type({p.name}) is not np.ndarray or {p.name}.dtype != {float_type.type_text} or {test.condition}:",
        f"        {p.name} = _array_arg({p.name}, {p.name!r}, {test.expected}{float_type.check_arg()}{test.dims})",
        *("    " + line for line in test.binds),
    ]


def checks(params: list[Param], boxed: set[Node], order: Sequence[Node]) -> tuple[list[str], Bindings]:
    """Every parameter's check in order, then what the graph's derived sizes need of the names."""
    bindings = Bindings()
    lines: list[str] = []
    for p in params:
        lines += param_check(p, boxed, bindings)
    missing = sorted(set(dim_names(n.shape for n in order if n.dtype != TUPLE)) - set(bindings.source))
    if missing:
        raise EmitError(f"dimension {', '.join(missing)} is carried by no input: add an input with that axis")
    return lines + requirement_lines(order), bindings


class Emitter:
    """Prints one function. ``preferred`` names outputs (``value``, ``bar_x``)."""

    def __init__(self, namer: Namer, preferred: dict[Node, str], adjoint_of: dict[Node, Node],
                 origin: dict[Node, Node], scalar: bool = False, backend: Backend | None = None) -> None:
        self.namer = namer
        self.backend = backend
        self.scalar = scalar
        self.preferred = preferred
        self.adjoint_of = adjoint_of
        self.origin = origin
        self.text: dict[Node, tuple[str, int]] = {}
        self.depth: dict[Node, int] = {}
        self.lines: list[str] = []
        self.constants: dict[str, np.ndarray] = {}
        self.constant_lines: list[str] = []
        self.names: dict[Node, str] = {}

    def bind(self, node: Node, name: str) -> None:
        self.text[node], self.depth[node], self.names[node] = (name, ATOM), 0, name

    def constant(self, node: Node) -> tuple[str, int]:
        value = node.value
        if value is None:
            raise EmitError(f"constant without a value: {node!r}")
        if value.ndim == 0:
            if node.dtype == INT:
                return str(int(value)), ATOM
            return ("True" if value else "False", ATOM) if node.dtype == BOOL else number_text(float(value))
        name = self.namer.claim(f"C{len(self.constants)}")
        spelling = current_dialect().precision
        if value.dtype == np.float64 and not spelling.double:
            value = value.astype(spelling.name)
        self.constants[name] = value
        if value.size <= SMALL_ARRAY:
            self.constant_lines.append(f"{name} = {array_literal(value)}")
        else:
            self.constant_lines.append(f"# {name}: a {value.dtype} array of shape {tuple(value.shape)}")
        return current_dialect().constant(name), ATOM

    def form(self, op: Op) -> tuple[Printer, int, tuple[int, ...]]:
        """The printer, its precedence and its arguments' precedences: plain-float or NumPy."""
        if self.scalar and op.scalar is not None:
            return op.scalar
        if self.backend is not None and op.name in self.backend.printers:
            return self.backend.printers[op.name]
        return op.numpy, op.prec, op.arg_prec

    def args(self, node: Node) -> list[str]:
        arg_prec = self.form(OPS[node.op])[2]
        out = []
        for position, child in enumerate(node.inputs):
            text, prec = self.text[child]
            out.append(f"({text})" if prec < arg_prec[min(position, len(arg_prec) - 1)] else text)
        return out

    def run(self, order: Sequence[Node], uses: dict[Node, int], outputs: set[Node]) -> None:
        """Print every node of ``order`` (topological), naming what must be named."""
        token = _printing_emitter.set(self)  # a loop's statement prints its body with this namer
        try:
            self._run(order, uses, outputs)
        finally:
            _printing_emitter.reset(token)

    def _run(self, order: Sequence[Node], uses: dict[Node, int], outputs: set[Node]) -> None:
        for node in order:
            if node in self.text:
                continue
            if node.op == "const":
                self.text[node], self.depth[node] = self.constant(node), 0
                continue
            op = OPS.get(node.op)
            if op is None:
                raise EmitError(f"no printer for op '{node.op}'")
            args = self.args(node)
            statement = op.statement
            if self.backend is not None and op.name in self.backend.statements:
                statement = self.backend.statements[op.name]
            if statement is not None:
                name = self.name_for(node)
                printed = statement(name, args, node)
                self.lines.extend("    " + line for line in printed)
                self.bind(node, name)
                continue
            printer, precedence, _ = self.form(op)
            text = printer(args, node)
            depth = 1 + max((self.depth[c] for c in node.inputs), default=0)
            needs_name = (
                uses.get(node, 0) != 1 or node in outputs or node.dtype == TUPLE
                or depth > INLINE_DEPTH or len(text) > INLINE_CHARS
            )
            if needs_name:
                name = self.name_for(node)
                note = self.comment(node, name)
                self.lines.append(f"    {name} = {text}" + (f"  # {note}" if note else ""))
                self.bind(node, name)
            else:
                self.text[node], self.depth[node] = (text, precedence), depth

    def name_for(self, node: Node) -> str:
        base = self.preferred.get(node)
        source = self.adjoint_of.get(node)
        if base is None and source is not None and source in self.names:
            base = "bar_" + self.names[source]
        return self.namer.claim(base) if base else self.namer.temp()

    def comment(self, node: Node, name: str) -> str:
        """Provenance, where the name alone does not tell it."""
        source = self.adjoint_of.get(node)
        if source is not None and source in self.names:
            return "" if name == "bar_" + self.names[source] else f"adjoint of {self.names[source]}"
        made_by = self.origin.get(node)
        if made_by is None:
            return ""
        where = f" at {self.names[made_by]}" if made_by in self.names else ""
        return f"VJP of {made_by.op}{where}"


_printing_emitter: contextvars.ContextVar[Emitter] = contextvars.ContextVar("emitter")


def printing_emitter() -> Emitter:
    """The emitter printing the current statement (a loop prints its body into the same names)."""
    return _printing_emitter.get()


def output_text(emitter: Emitter, node: Node, seen: set[Node]) -> str:
    """An output reference that honours DESIGN §1's result types."""
    text = emitter.text[node][0]
    op = OPS.get(node.op)
    if node.shape == ():
        if node.op == "const" and node.dtype != BOOL and not current_dialect().precision.double:
            return current_dialect().scalar(text)  # a zero gradient in single precision is a float32 too
        return current_dialect().precision.result(text) if op is not None and op.zero_d else text
    memory = memory_of(node)
    if memory is None or memory in seen:
        text = f"np.array({text})"  # a fresh, writable copy that aliases nothing
    else:
        seen.add(memory)  # a view of a temporary nothing else returns: the caller may own it
    return text


def memory_of(node: Node) -> Node | None:
    """The node that made the memory ``node``'s value lives in, through views (a transpose, a
    reshape, a split's piece, a loop's final carry); None where that may be an input or a
    constant, or is not known."""
    while True:
        op = OPS.get(node.op)
        if op is None or node.op in ("var", "const"):
            return None
        if node.op == "item" and node.inputs[0].op == "split":
            node = node.inputs[0].inputs[0]
        elif node.op == "item" and node.inputs[0].op == "scan":
            loop, slot = node.inputs[0], node.attrs[0]
            body, steps = loop.attrs[0], loop.attrs[1]
            if slot >= len(body.carry_in):
                return loop  # the stacked ys and saved carries: arrays the loop allocated
            inside = memory_of(body.carry_out[slot])
            # a carry the body computes afresh each step is fresh after one step; one the body
            # passes on (or a view of a placeholder) may be the initial value, an xs row or a closed-over input
            if steps == 0 or inside is None:
                return None
            return loop
        elif node.op == "item":
            return node.inputs[0]  # a decomposition's factors: fresh arrays
        elif op.view:
            node = node.inputs[0]
        else:
            return node


@dataclass(frozen=True)
class FunctionSpec:
    """What to print: the parameters, the outputs, and how they are returned and described."""

    name: str
    inputs: Sequence[Node]
    outputs: Sequence[Node]
    layout: Callable[[list[str]], str]  # output texts -> the return expression
    output_names: Sequence[str | Node]  # per output: a base name, or a variable for "bar_<its name>"
    summary: str
    describe_inputs: Callable[[Node], str]
    fast_path: bool = True  # all-scalar graphs get a math body first (False: the NumPy body only)
    adjoint_of: dict[Node, Node] = field(default_factory=dict)  # adjoint node -> forward node
    origin: dict[Node, Node] = field(default_factory=dict)  # reverse-sweep node -> forward node of its VJP
    forward: frozenset[Node] = frozenset()
    order: Sequence[Node] | None = None  # toposort(outputs), when the caller has it already
    # a pullback: the reverse sweep becomes a nested ``back(cotangent)`` returning outputs[1:]
    cotangent: Node | None = None
    backend: Backend | None = None  # printers other than NumPy's (the array API standard)
    float_type: precision.Precision = precision.DOUBLE  # how the NumPy dialect spells its float type


def emit_function(spec: FunctionSpec) -> Program:
    spoken = spec.backend.dialect if spec.backend is not None else numpy_in(spec.float_type)
    with printing(spoken):
        return _emit(spec)


def _emit(spec: FunctionSpec) -> Program:
    namer = Namer()
    namer.used.add(check_function_name(spec.name))
    order = list(spec.order) if spec.order is not None else toposort(spec.outputs)
    spec = dataclasses.replace(spec, order=order)
    imports = tuple(sorted({m for n in with_subgraphs(order) if n.op in OPS and (m := OPS[n.op].module) is not None}))
    namer.used.update(m.split(".")[0] for m in imports)
    namer.used.update(dim_names(n.shape for n in order if n.dtype != TUPLE))  # bound under their own names
    params = [Param(node, namer.param(node.label)) for node in spec.inputs]
    inner = [Param(spec.cotangent, namer.param("cotangent"))] if spec.cotangent is not None else []
    param_of = {p.node: p.name for p in params}
    preferred: dict[Node, str] = {}
    for node, base in zip(spec.outputs, spec.output_names, strict=True):
        if node not in preferred and node not in param_of:
            preferred[node] = base if isinstance(base, str) else "bar_" + param_of[base]
    uses = use_counts(order)
    for node in spec.outputs:
        uses[node] = uses.get(node, 0) + 1
    scalar = (spec.fast_path and not inner and spec.backend is None and len(order) <= FAST_PATH_NODES
              and all_scalar(order) and all(p.node.shape == () and p.node.dtype != INT for p in params))
    # the same names in both bodies: each emission starts from a copy of the namer
    numpy_body = _body(spec, copy.deepcopy(namer), params + inner, preferred, order, uses, scalar=False)
    math_body = _body(spec, copy.deepcopy(namer), params, preferred, order, uses, scalar=True) if scalar else None
    forward = spec.forward or frozenset(order)
    ops = ", ".join(sorted({n.op for n in forward} - {"var", "const"})) or "none"
    backward = len(order) - len(forward)
    count = f"{len(forward)} forward nodes (ops: {ops}), {backward} reverse-sweep nodes" if spec.forward \
        else f"{len(order)} nodes (ops: {ops})"
    numpy_body.expression.insert(0, f"# {count}")
    boxed = boxed_scalars(order, params + inner, spec.outputs)
    if spec.backend is not None:
        return spec.backend.assemble(spec, params, numpy_body, imports)
    if inner:
        return _assemble_pullback(spec, params, inner[0], numpy_body, imports, boxed)
    return _assemble(spec, params, numpy_body, math_body, imports, boxed)


def all_scalar(order: Sequence[Node]) -> bool:
    """Whether every node is a scalar with a plain-float form, so the math fast path applies."""
    for node in order:
        if node.shape != () or node.dtype == TUPLE:
            return False
        if node.op not in ("var", "const") and (node.op not in OPS or OPS[node.op].scalar is None):
            return False
    return True


@dataclass
class Body:
    """One printed function body: statements, the return expression, and the header's sketch."""

    emitter: Emitter  # its ``lines`` are the body's statements
    results: list[str]
    returned: str
    expression: list[str]


def _body(spec: FunctionSpec, namer: Namer, params: list[Param], preferred: dict[Node, str],
          order: list[Node], uses: dict[Node, int], scalar: bool) -> Body:
    emitter = Emitter(namer, preferred, spec.adjoint_of, spec.origin, scalar=scalar, backend=spec.backend)
    for p in params:
        emitter.bind(p.node, p.name)
    forward_order = [n for n in order if n in spec.forward] if spec.forward else order
    emitter.run(forward_order, uses, set(spec.outputs))
    split_at = len(emitter.lines)
    expression = _bounded([*emitter.constant_lines, *(line.strip() for line in emitter.lines)])
    emitter.run(order, uses, set(spec.outputs))
    if spec.forward and split_at < len(emitter.lines):
        emitter.lines.insert(split_at, "    # reverse sweep")
        if split_at:
            emitter.lines.insert(0, "    # forward sweep")
    seen: set[Node] = set()
    results = [output_text(emitter, node, seen) for node in spec.outputs]
    if spec.outputs[0] not in emitter.names:
        expression.append(f"{spec.output_names[0]} = {emitter.text[spec.outputs[0]][0]}")
    return Body(emitter, results, spec.layout(results), expression)


def _bounded(lines: list[str]) -> list[str]:
    if len(lines) <= SKETCH_LINES:
        return lines
    hidden = len(lines) - SKETCH_LINES + 1
    return [*lines[: SKETCH_LINES // 2], f"... ({hidden} more statements)", *lines[-(SKETCH_LINES // 2 - 1) :]]


def _assemble(spec: FunctionSpec, params: list[Param], numpy_body: Body, math_body: Body | None,
              imports: tuple[str, ...], boxed: set[Node]) -> Program:
    # A plain signature: Python's own TypeError names a missing or surplus argument, and
    # defaults or *args would cost a tenth of a small scalar function's call.
    check: list[str] = []
    bindings = Bindings()
    if math_body is None:
        check, bindings = checks(params, boxed, spec.order or ())
        sweeps = [*numpy_body.emitter.lines, f"    return {numpy_body.returned}"]
    else:
        sweeps = _with_fallback(params, numpy_body, math_body)
        for p in params:
            # a Python float, so the math body warns nowhere: only the NumPy body gives NumPy's warnings
            check += [f"    if type({p.name}) is not float:",
                      f"        {p.name} = _scalar_arg({p.name}, {p.name!r}, float)"]
    doc = docstring(spec, params, numpy_body.returned, numpy_body.expression, math_body is not None, bindings)
    signature = ", ".join(p.name for p in params)
    body = [f"def {spec.name}({signature}):", *doc, *check, *sweeps]
    return _program(spec.name, body, numpy_body.emitter, imports)


def _assemble_pullback(spec: FunctionSpec, params: list[Param], cotangent: Param, body: Body,
                       imports: tuple[str, ...], boxed: set[Node]) -> Program:
    """``f(*inputs) -> (value, back)``: the forward sweep runs now, ``back`` closes over its results."""
    check, bindings = checks(params, boxed, spec.order or ())
    inner_check = scalar_check(cotangent, True) if cotangent.node.shape == () else array_check(cotangent, bindings)
    lines = body.emitter.lines
    split = lines.index("    # reverse sweep") if "    # reverse sweep" in lines else len(lines)
    grads = body.results[1:]
    back = [f"    def back({cotangent.name}):", *("    " + line for line in inner_check),
            *("    " + line for line in lines[split:]),
            f"        return ({', '.join(grads)}{',' if len(grads) == 1 else ''})"]
    doc = docstring(spec, params, f"{body.results[0]}, back", body.expression, False, bindings)
    signature = ", ".join(p.name for p in params)
    source = [f"def {spec.name}({signature}):", *doc, *check, *lines[:split], *back,
              f"    return {body.results[0]}, back"]
    return _program(spec.name, source, body.emitter, imports)


def _program(name: str, source: list[str], emitter: Emitter, imports: tuple[str, ...],
             module: list[str] | None = None) -> Program:
    """The function's lines under its constants: names bound in memory, literals in module files.

    ``module`` gives the module file's lines where they differ from ``source``."""
    constants = emitter.constant_lines
    text = "\n".join([*constants, *([""] if constants else []), *source]) + "\n"
    return Program(text, name, dict(emitter.constants), tuple(source if module is None else module), imports,
                   current_dialect().precision)


def _with_fallback(params: list[Param], numpy_body: Body, math_body: Body) -> list[str]:
    """The math body first; where math raises (log(-1), 1/0, overflow), the NumPy body gives inf or nan."""
    # one test for all: inf or nan anywhere makes the sum non-finite, and a sum that merely
    # overflows sends a finite result down the NumPy path, which returns the same numbers
    total = " + ".join(t if t.isidentifier() else f"({t})" for t in math_body.results)
    finite = f"math.isfinite({total})"
    lines = ["    try:"]
    lines += ["    " + line for line in math_body.emitter.lines]
    lines += [f"        if {finite}:",
              f"            return {math_body.returned}",
              "    except (ArithmeticError, ValueError):",
              "        pass  # math raised where NumPy returns inf or nan with a warning"]
    lines += ["    # a non-finite result, or math refused: the NumPy sweeps give IEEE's answer and NumPy's warnings"]
    lines += [f"    {p.name} = np.float64({p.name})" for p in params]
    return [*lines, *numpy_body.emitter.lines, f"    return {numpy_body.returned}"]
