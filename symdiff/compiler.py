"""``compile`` and ``evaluate``: requests to the pipeline, and the in-memory loader."""

from __future__ import annotations

import builtins
import importlib
import itertools
import linecache
import math
import os
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np

from symdiff import numba_cache, pickled, runtime
from symdiff.api import _shown, as_node, tofloat
from symdiff.emit import Program
from symdiff.errors import GraphError, ShapeError
from symdiff.graph import Node, free_variables, short_text
from symdiff.pipeline import GRAPH_ONLY, Form, Graph, Options, Request, program, run, variables

_files = itertools.count()


class CompiledFunction(Protocol):
    """A generated function: call it, or read its ``source``."""

    source: str

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


def compile(expr: Any, wrt: Node | Sequence[Node], inputs: Sequence[Node] | None = None, *,
            name: str = "value_and_grad", rewrites: bool = True, dtype: Any = np.float64,
            backend: str = "numpy", cache: bool | str | os.PathLike[str] | None = None) -> CompiledFunction:
    """Compile a scalar expression into one NumPy function returning ``(value, grads)``.

    ``wrt`` lists the variables to differentiate by; ``inputs`` (default: ``wrt``) sets the
    generated function's parameters, so data can be passed without being differentiated.
    The result has ``.source``; ``grads`` is a tuple in ``wrt`` order. ``rewrites=False``
    turns off the compile-time speed rewrites (see ``symdiff.rewrite``), which reorder
    floating-point work, such as ``sum(a*b)`` of vectors as ``a @ b``; the construction-time
    rewrites are exact and stay. ``dtype=np.float32`` generates single-precision code.
    ``backend="array_api"`` generates code for any namespace of the array API standard.
    ``backend="numba"`` compiles to machine code, kept on disk for the next process (see
    ``symdiff.numba_cache``): ``cache`` names the folder, ``False`` compiles in memory only.
    """
    where = numba_cache.folder(cache, backend)  # refuse a bad cache= before any work
    return load(compile_program(expr, wrt, inputs, name=name, rewrites=rewrites, dtype=dtype, backend=backend),
                where)


def compile_program(expr: Any, wrt: Node | Sequence[Node], inputs: Sequence[Node] | None = None, *,
                    name: str = "value_and_grad", fast_path: bool = True, rewrites: bool = True,
                    dtype: Any = np.float64, backend: str = "numpy") -> Program:
    """The generated program for ``compile``, before it is loaded.

    ``fast_path=False`` leaves out the plain-float body of all-scalar graphs (for tests and
    benchmarks that compare it with the NumPy body). ``rewrites`` as in ``compile``.
    """
    options = Options.of(name, rewrites, dtype, backend, fast_path)
    root = tofloat(as_node(expr, "expr"))  # a boolean expression counts as 0/1, like in arithmetic
    if root.shape != ():
        raise ShapeError(
            f"compile needs a scalar expression, got shape {root.shape} ({short_text(root)}); "
            "reduce it with sd.sum(...) or sd.mean(...)"
        )
    wrt_list = variables([wrt] if isinstance(wrt, Node) else wrt, "wrt")
    input_list = wrt_list if inputs is None else variables(inputs, "inputs")
    in_wrt = set(wrt_list)
    form = Form(
        lead="Value and gradient in one forward and one reverse sweep; the gradients come in\n"
        "    wrt order, each of its variable's shape.",
        layout=lambda texts: f"{texts[0]}, ({', '.join(texts[1:])}{',' if len(texts) == 2 else ''})",
        output_names=["value", *wrt_list],
        describe_inputs=lambda node: "  [wrt]" if node in in_wrt else "  [data]",
    )
    return program(Request([root], input_list, form, wrt_list), options)


def prepare(root: Node, wrt: Sequence[Node], rewrites: bool = True, seed: Node | None = None) -> Graph:
    """``root`` differentiated by ``wrt`` (seeded with ``seed``, default 1.0) through the pipeline's
    passes: the graph ``compile`` prints, with ``value``, ``grads`` and ``adjoint_of``."""
    inputs = free_variables([root, *wrt])
    return run(Request([root], inputs, GRAPH_ONLY, list(wrt), seed),
               Options("prepared", rewrites))


def load(program: Program, cache: Path | None = None) -> CompiledFunction:
    """Execute generated source under a unique filename registered with ``linecache``, or, with
    a ``cache`` folder and a module text to write, import it from its entry there."""
    namespace: dict[str, Any] = {
        "np": np, "math": math,
        **{fn.__name__: fn for fn in runtime.HELPERS}, **program.constants,
    }
    for module in program.imports:
        importlib.import_module(module)
        top = module.split(".")[0]
        namespace[top] = importlib.import_module(top)
    cached = None if cache is None or not program.module_lines else numba_cache.load(program, cache, namespace)
    function = _in_memory(program, namespace) if cached is None else cached
    function.source = program.source
    function.__source__ = program.source
    pickled.register(function, program)
    return cast(CompiledFunction, function)


def _in_memory(program: Program, namespace: dict[str, Any]) -> Any:
    filename = f"<symdiff:{program.name}:{next(_files)}>"
    code = builtins.compile(program.source, filename, "exec")
    linecache.cache[filename] = (len(program.source), None, program.source.splitlines(True), filename)
    exec(code, namespace)
    function = namespace[program.name]
    # the entry lets tracebacks and inspect show the source; it goes with the function
    weakref.finalize(function, linecache.cache.pop, filename, None)
    return function


def evaluate(expr: Any, values: dict[Node, Any]) -> Any:
    """The value of ``expr`` at ``values`` ({variable: value}), without gradients."""
    root = as_node(expr, "expr")
    if not isinstance(values, Mapping):
        raise GraphError(f"evaluate: values must be a dict {{variable: value}}, got {_shown(values)}")
    free = free_variables([root])
    missing = [v.label for v in free if v not in values]
    if missing:
        raise GraphError(f"evaluate: no value given for variables {missing}")
    return value_function(root, free)(*(values[v] for v in free))


def value_function(expr: Any, inputs: Sequence[Node]) -> CompiledFunction:
    """A compiled function computing ``expr`` alone, with ``inputs`` as parameters.

    It goes through the pipeline as ``compile`` does, so it computes what ``compile``
    computes: ``log(1 + exp(x))`` at 1000 is 1000.0 in both.
    """
    from symdiff.transforms import function_program  # transforms builds on this module

    return load(function_program(list(inputs), as_node(expr, "expr"), name="value_only"))
