"""The compiled backend: fused loops that numba turns into machine code.

``compile(..., backend="numba")`` writes two functions. A kernel, decorated with
``numba.njit`` for the exact argument types, holds the arithmetic: straight-line code for
scalars, and for arrays one loop per group of ``symdiff.fusion`` (elementwise ops with the
sums and dot products that consume them), with ``prange`` once a loop is long enough to
pay for threads. Small matrix products are loops; large ones, and transcendentals on large
arrays, are NumPy calls through numba's object mode, for NumPy's BLAS and SIMD loops. A plain
Python function in front checks and converts the arguments on the NumPy backend's fast path
and calls the kernel, so bad input still raises ``ArgumentError`` naming the argument; an
all-scalar kernel is called directly and hands any argument that is not a float to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from symdiff.dim_binding import Bindings, requirement_lines
from symdiff.dims import Dim, dim_names, surely_at_most
from symdiff.emit import (
    Backend,
    Body,
    Emitter,
    FunctionSpec,
    Param,
    Program,
    _program,
    all_scalar,
    array_check,
    scalar_check,
)
from symdiff.errors import EmitError, UnsupportedError
from symdiff.fusion import Loop, numpy_vectorised, schedule
from symdiff.gather import numba_scatter_add
from symdiff.graph import BOOL, TUPLE, Node, toposort, use_counts
from symdiff.numba_printers import (
    broadcasts,
    calls_blas,
    matmul_in_loop,
    matmul_statement,
    maximum,
    minimum,
    objmode,
    power,
    relu,
    reshape,
    rows,
    scalar_tofloat,
    sign,
    split,
    sum_like,
    tofloat,
    vectorised_in_loop,
    where,
)
from symdiff.ops import OPS
from symdiff.printers import ATOM, shape_text
from symdiff.source_text import Namer, docstring, number_text

# Loops of at least this many elements run on all cores. Measured on 2 cores with
# `python benchmarks/parallel_threshold.py`: threads cost 1.28x at 4,000 elements and
# save half at 16,000, so the line sits between them.
PARALLEL_MIN = 1 << 13
FREEZE_MAX = 1 << 16  # constants up to this many elements are compiled in; larger ones are arguments
HEADER = (
    "\n    Compiled by numba: fused loops; loops of {min} elements or more run in parallel, and"
    "\n    their sums may add in a different order than NumPy's (last-bit differences)."
)


def require_numba() -> None:
    """numba is an optional extra: say how to get it before anything is emitted."""
    try:
        import numba  # noqa: F401
    except ImportError:
        raise UnsupportedError(
            "backend='numba' needs numba: pip install 'symdiff[numba]'"
        ) from None


NUMBA = Backend(
    printers={
        "where": (where, ATOM, (0, 0, 0)),
        "tofloat": (tofloat, ATOM, (ATOM,)),
        "reshape": (reshape, ATOM, (ATOM,)),
        "sum": (sum_like("sum"), ATOM, (ATOM,)),
        "mean": (sum_like("mean"), 14, (ATOM,)),
        "split": (split, ATOM, (ATOM,)),
        "sign": (sign, ATOM, (0,)),
        "maximum": (maximum, ATOM, (0, 0)),
        "minimum": (minimum, ATOM, (0, 0)),
        "relu": (relu, ATOM, (0,)),
        "power": (power(OPS["power"].numpy, "np.power"), OPS["power"].prec, OPS["power"].arg_prec),
    },
    statements={**{name: rows(name) for name in ("max", "min", "prod", "logsumexp")},  # type: ignore[misc]
                "matmul": matmul_statement, "scatter_add": numba_scatter_add},
    assemble=lambda *args: assemble(*args),
    # a loop's body: NumPy's matrix product and SIMD loops through object mode, as in the kernel
    in_loops={"matmul": matmul_in_loop, **{name: vectorised_in_loop for name, op in OPS.items() if op.vectorised}},
)


def _elements() -> Backend:
    """Printers for one element at a time: the plain-float forms, where numba takes them."""
    forms = {name: op.scalar for name, op in OPS.items() if op.scalar is not None}
    forms["tofloat"] = (scalar_tofloat, ATOM, (0,))
    forms["where"] = (lambda a, node: f"({a[1]} if {a[0]} else {a[2]})", ATOM, (0, 0, 0))
    printer, prec, arg_prec = forms["power"]
    forms["power"] = (power(printer, "math.pow"), prec, arg_prec)
    return Backend({**NUMBA.printers, **forms}, NUMBA.statements, NUMBA.assemble)


def assemble(spec: FunctionSpec, params: list[Param], numpy_body: Body, imports: tuple[str, ...]) -> Program:
    if imports:
        raise UnsupportedError(f"the numba backend cannot call user-defined ops (from {', '.join(imports)})")
    if spec.cotangent is not None:
        raise UnsupportedError("the numba backend has no pullback: use backend='numpy' for sd.pullback")
    order = list(spec.order) if spec.order is not None else toposort(spec.outputs)
    serial = _kernel_body(spec, params, order, named_parallel=False)
    threaded = _kernel_body(spec, params, order, named_parallel=True) if serial.undecided else None
    namer, kernel, outer, returned, parallel, scalar = (serial.namer, serial.kernel, serial.outer, serial.returned,
                                                        serial.parallel, serial.scalar)
    # numba bakes global arrays into the machine code; unboxing an argument costs ~0.1 µs a call
    passed = {name: value for name, value in outer.constants.items() if value.size > FREEZE_MAX}
    kernel_params = [*(p.name for p in params), *passed]
    types = ", ".join([*(_array_type(p.node.ndim) for p in params),
                       *(_array_type(value.ndim, value.dtype == np.bool_) for value in passed.values())])
    flags = f"({types},), error_model=\"numpy\"" + (", parallel=True" if parallel else "")
    bindings = Bindings()
    check: list[str] = []
    for p in params:
        check += scalar_check(p, False) if p.node.shape == () else _array_check(p, bindings)
    check += requirement_lines(order)
    doc = docstring(spec, params, returned, numpy_body.expression, False, bindings)
    lead_end = next((i for i, line in enumerate(doc) if line.rstrip().endswith(".")), 0)  # after the first sentence
    doc[lead_end] = doc[lead_end] + HEADER.format(min=PARALLEL_MIN)
    # the kernel reads the sizes from its arrays as the checks did: one compiled kernel for every size
    sizes = [f"    {name} = {where}" for name, where in sorted(bindings.where.items())]
    arguments = ", ".join(kernel_params)
    call = [f"    return {kernel}({arguments})"]
    checked = namer.claim(f"_{spec.name}_checked") if scalar else spec.name
    source = [f"def {kernel}({arguments}):", *sizes, *outer.lines, f"    return {returned}", "", ""]
    threaded_source: list[str] = []
    if threaded is not None:
        if threaded.outer.constants.keys() != outer.constants.keys():
            raise EmitError("the serial and the parallel kernel name their constants differently")
        # compiled at the first call that large, so a graph used only at small sizes pays one JIT
        wide = namer.claim(f"_{spec.name}_parallel_kernel")
        large = " or ".join(f"{size} >= {PARALLEL_MIN}" for size in dict.fromkeys(serial.undecided))
        threaded_source = [f"def {wide}({arguments}):", *sizes, *threaded.outer.lines,
                           f"    return {threaded.returned}", "", ""]
        call = [f"    if {large}:  # long loops run in parallel", f"        return {wide}({arguments})", *call]
    entry = [f"def {checked}({', '.join(p.name for p in params)}):", *doc, *check, *call]
    if scalar:
        entry += _direct_entry(spec.name, kernel, checked)
    lazy = '@numba.njit(error_model="numpy", parallel=True'
    # a module file caches its machine code beside it; an in-memory function has no file to cache in
    return _program(spec.name,
                    [f"@numba.njit({flags})", *source, *([f"{lazy})", *threaded_source] if threaded else []), *entry],
                    outer, ("numba",),
                    module=[f"@numba.njit({flags}, cache=True)", *source,
                            *([f"{lazy}, cache=True)", *threaded_source] if threaded else []), *entry])


@dataclass
class _Kernel:
    """One printing of the kernel's body: ``undecided`` holds the named loop sizes whose
    parallel choice waits for the call (printed serial or parallel as asked)."""

    namer: Namer
    kernel: str
    outer: Emitter
    returned: str
    parallel: bool
    scalar: bool
    undecided: list[Any]


def _kernel_body(spec: FunctionSpec, params: list[Param], order: list[Node], named_parallel: bool) -> _Kernel:
    namer = Namer()
    namer.used.update([spec.name, "numba", *(p.name for p in params), *dim_names(n.shape for n in order
                                                                                 if n.dtype != TUPLE)])
    kernel = namer.claim(f"_{spec.name}_kernel")
    preferred: dict[Node, str] = {}
    param_of = {p.node: p.name for p in params}
    for node, base in zip(spec.outputs, spec.output_names, strict=True):
        if node not in preferred and node not in param_of:
            preferred[node] = base if isinstance(base, str) else "bar_" + param_of[base]
    scalar = all_scalar(order) and all(p.node.shape == () for p in params)
    elements = _elements()
    outer = Emitter(namer, preferred, spec.adjoint_of, spec.origin, backend=elements if scalar else NUMBA)
    for p in params:
        outer.bind(p.node, p.name)
    steps = schedule(order)
    uses = use_counts(order)
    for node in spec.outputs:
        uses[node] = uses.get(node, 0) + 1
    looped = {n for step in steps if isinstance(step, Loop) for n in (*step.nodes, *step.reductions)}
    read_by_loops = {i for n in looped for i in n.inputs}
    by_numpy = [step for step in steps if isinstance(step, Node) and numpy_vectorised(step)]
    # a loop reads names, never re-evaluates an expression; so does a call into NumPy
    named = set(spec.outputs) | read_by_loops | {i for node in by_numpy for i in node.inputs}
    # BLAS already runs large matrix products on every core; numba's threads beside it would
    # fight over them (W3 ran 4x slower), so a kernel that calls BLAS keeps its loops serial
    threads = not any(calls_blas(n) for n in order)
    # numba's parallel array analysis asserts that broadcast operands have equal sizes
    # ("sizes of t12, ... do not match" for x - mean(x, axis=1, keepdims=True)), so a kernel
    # that broadcasts outside its loops stays serial
    threads = threads and not any(broadcasts(n) for n in order if n not in looped)
    parallel = False
    undecided: list[Any] = []
    flat: dict[Node, str] = {}
    for step in steps:
        if isinstance(step, Loop):
            threaded, waits = _loop(step, outer, elements, order, set(spec.outputs), flat, threads, named_parallel)
            parallel |= threaded
            undecided += [step.size] if waits else []
        elif numpy_vectorised(step):
            _numpy_call(step, outer)
        else:
            outer.run([step], uses, named)
    seen: set[Node] = set()
    results = [_result(outer, node, seen) for node in spec.outputs]
    returned = spec.layout(results)
    return _Kernel(namer, kernel, outer, returned, parallel, scalar, undecided)


def _direct_entry(name: str, kernel: str, checked: str) -> list[str]:
    """An all-scalar kernel is itself the function: a Python frame in front would cost a fifth of
    the call. Floats match its one compiled signature; any other argument matches none, and
    numba asks the dispatcher's compile hook for a new one, which answers with the checking
    function instead, so conversions and ``ArgumentError`` stay those of the NumPy backend."""
    return ["", "",
            "# float arguments call the kernel directly; anything else reaches numba's compile hook,",
            "# which hands the call to the checks above instead of compiling another signature",
            f"{kernel}.disable_compile(False)",
            f"{kernel}._compile_for_args = lambda *args, **kwargs: {checked}",
            f"{name} = {kernel}",
            f"{name}.__name__, {name}.__wrapped__ = {name!r}, {checked}",
            f"{name}.__doc__ = {checked}.__doc__"]


def _array_check(p: Param, bindings: Bindings) -> list[str]:
    """The NumPy backend's check, plus C order: the kernel is compiled for C-contiguous arrays."""
    first, convert, *binds = array_check(p, bindings)
    return [first[:-1] + f" or not {p.name}.flags.c_contiguous:", convert, *binds]


def _array_type(ndim: int, boolean: bool = False) -> str:
    """C-contiguous arrays (the argument checks guarantee it), typed read-only: the kernel never
    writes its arguments, and numba passes a writable array to a read-only signature at no cost,
    while a read-only one (np.broadcast_to, a constant) matches no writable signature."""
    kind = "numba.boolean" if boolean else "numba.float64"
    if ndim == 0:
        return kind
    return f'numba.types.Array({kind}, {ndim}, "C", readonly=True)'


def _numpy_call(node: Node, outer: Emitter) -> None:
    """NumPy's SIMD loop for a large transcendental, through numba's object mode (~2 µs a call).
    Unlike the kernel's own arithmetic, it warns as NumPy does (log(-1) outside a guarded where)."""
    name = outer.name_for(node)
    (source,) = (outer.text[i][0] for i in node.inputs)
    lines = objmode(name, node, f"np.{node.op}({source})", f"NumPy's SIMD {node.op}")
    outer.lines += ["    " + line for line in lines]
    outer.bind(node, name)


def _result(emitter: Emitter, node: Node, seen: set[Node]) -> str:
    text = emitter.text[node][0]
    if node.shape == ():
        return text
    op = OPS.get(node.op)
    fresh = op is not None and not op.view and node.op not in ("var", "const")
    if not fresh or node in seen:
        text = f"{text}.copy()"  # a fresh, writable array that aliases nothing
    seen.add(node)
    return text


def _loop(loop: Loop, outer: Emitter, elements: Backend, order: list[Node], outputs: set[Node],
          flat: dict[Node, str], threads: bool, named_parallel: bool) -> tuple[bool, bool]:
    """Print one fused loop into ``outer``: whether it runs in parallel, and whether that choice
    waits for the call (a named size that may or may not reach ``PARALLEL_MIN``; it runs in
    parallel when ``named_parallel``). ``flat`` holds the one-dimensional views already made of
    multi-dimensional arrays."""
    members = set(loop.nodes)  # sets, not lists: ``==`` on nodes builds an equal node
    reductions = set(loop.reductions)
    consumers: dict[Node, int] = {}
    for node in order:
        for i in node.inputs:
            if i in members and node not in members and node not in reductions:
                consumers[i] = consumers.get(i, 0) + 1
    stored = [n for n in loop.nodes if n in outputs or consumers.get(n)]
    size = loop.size
    waits = threads and isinstance(size, Dim) and not surely_at_most(size, PARALLEL_MIN - 1)
    parallel = named_parallel if waits else threads and not isinstance(size, Dim) and size >= PARALLEL_MIN
    namer = outer.namer
    index = namer.claim("i")
    inner = Emitter(namer, {}, outer.adjoint_of, outer.origin, backend=elements)
    lines = [f"    # one loop over {size} elements: {len(loop.nodes)} elementwise ops, "
             f"{len(loop.reductions)} reductions" + (" (parallel)" if parallel else "")]

    def element(node: Node) -> str:
        """How the loop reads an array computed outside it."""
        if node not in flat:
            name = outer.text[node][0]
            if node.ndim > 1:
                view = namer.claim(f"{name}_flat")
                lines.append(f"    {view} = {name}.ravel()")
                name = view
            flat[node] = name
        return f"{flat[node]}[{index}]"

    for node in [*loop.nodes, *loop.reductions]:
        for i in node.inputs:
            if i in members or i in inner.text:
                continue
            if i.op == "const" and i.size == 1 and i.value is not None:
                value = i.value.ravel()[0] if isinstance(i.value, np.ndarray) else i.value
                inner.text[i] = ("True" if value else "False", ATOM) if i.dtype == BOOL else number_text(float(value))
            elif i.shape == ():
                inner.text[i] = outer.text[i]
            elif i.shape != loop.shape:  # one element broadcast over the loop: read it once
                single = namer.claim(f"{outer.text[i][0]}_0")
                lines.append(f"    {single} = {outer.text[i][0]}.ravel()[0]")
                inner.text[i] = (single, ATOM)
            else:
                inner.text[i] = (element(i), ATOM)
            inner.depth[i] = 0
    local_uses: dict[Node, int] = {}
    for node in [*loop.nodes, *loop.reductions]:
        for i in node.inputs:
            local_uses[i] = local_uses.get(i, 0) + 1
    targets: dict[Node, str] = {}
    for node in stored:
        name = outer.name_for(node)
        dtype = ", dtype=np.bool_" if node.dtype == BOOL else ""
        lines.append(f"    {name} = np.empty({shape_text(node.shape)}{dtype})")
        targets[node] = name
        if node.ndim > 1:
            view = namer.claim(f"{name}_flat")
            lines.append(f"    {view} = {name}.ravel()")
            targets[node] = flat[node] = view
        outer.bind(node, name)
    sums: dict[Node, str] = {}
    for node in loop.reductions:
        sums[node] = outer.name_for(node)
        start = {"max": "-math.inf", "min": "math.inf"}.get(node.op, "0.0")
        lines.append(f"    {sums[node]} = {start}")
        if node.op in ("max", "min"):
            lines.append(f"    {sums[node]}_nans = 0.0")
    loop_range = f"numba.prange({size})" if parallel else f"range({size})"
    lines.append(f"    for {index} in {loop_range}:")
    for node in loop.nodes:
        if node.op == "broadcast_to":
            inner.text[node], inner.depth[node] = inner.text[node.inputs[0]], 0
    inner.run([n for n in loop.nodes if n.op != "broadcast_to"], local_uses, set(stored))
    lines.extend("    " + line for line in inner.lines)
    for node in stored:
        lines.append(f"        {targets[node]}[{index}] = {inner.text[node][0]}")
    for node in loop.reductions:
        if node.op in ("max", "min"):
            # prange reduces with the builtins alone, which may drop a NaN; NumPy's max returns
            # NaN if there is one anywhere, so NaNs are counted beside it
            item = inner.text[node.inputs[0]][0]
            if not item.replace("[", "").replace("]", "").isidentifier():
                lines.append(f"        {sums[node]}_item = {item}")
                item = f"{sums[node]}_item"
            lines.append(f"        {sums[node]} = {node.op}({item}, {sums[node]})")  # NumPy keeps the later of ties
            lines.append(f"        {sums[node]}_nans += {item} != {item}")
            continue
        terms = [_factor(inner, i) for i in node.inputs]
        lines.append(f"        {sums[node]} += {' * '.join(terms)}")
    for node in loop.reductions:
        if node.op == "mean":
            lines.append(f"    {sums[node]} /= {size}")
        if node.op in ("max", "min"):
            lines.append(f"    if {sums[node]}_nans:")
            lines.append(f"        {sums[node]} = math.nan")
        outer.bind(node, sums[node])
    outer.lines.extend(lines)
    return parallel, waits


def _factor(inner: Emitter, node: Node) -> str:
    text, precedence = inner.text[node]
    return text if precedence >= 14 else f"({text})"
