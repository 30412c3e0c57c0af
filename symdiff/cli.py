"""The ``symdiff`` command line: demo, show, generate, dot, regenerate and bench.

SPEC names a Python file and a function in it, ``path/to/file.py:name``; the function returns
``(expr, wrt)`` or ``(expr, wrt, inputs)``. Bad input exits with status 1 and one line on stderr.
"""

from __future__ import annotations

import argparse
import importlib.util
import shlex
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from symdiff.api import as_node, tofloat
from symdiff.compiler import compile, compile_program, prepare  # noqa: A004
from symdiff.errors import GraphError, SymdiffError
from symdiff.gallery import GENERATED, Example, baydin
from symdiff.graph import Node
from symdiff.pipeline import variables
from symdiff.source_text import module_text
from symdiff.transforms import function_program

SPEC_HELP = "SPEC is path/to/file.py:name, where name() returns (expr, wrt) or (expr, wrt, inputs)."
PACKAGE = Path(__file__).resolve().parent


def module_for(example: Example) -> str:
    if example.outputs is not None:
        program = function_program(example.inputs, example.outputs, example.name)
    else:
        program = compile_program(example.expr, example.wrt, example.inputs, name=example.name)
    return module_text(program, example.title)


def demo(args: argparse.Namespace) -> int:
    from symdiff.sympy_bridge import to_sympy
    from symdiff.testing import assert_matches_sympy

    example = baydin()
    print("Expression:", to_sympy(example.expr))
    fn = compile(example.expr, example.wrt, name="baydin")
    print("\nGenerated source (fn.source):\n")
    print(fn.source)
    value, (g1, g2) = fn(2.0, 5.0)
    print(f"At (x1, x2) = (2, 5): value = {value:.10f}, df/dx1 = {g1:.10f}, df/dx2 = {g2:.10f}")
    assert_matches_sympy(example.expr, example.wrt, at=[2.0, 5.0])
    print("SymPy cross-check (sympy.diff at the same point): value and both gradients agree to 1e-9.")
    return 0


def regenerate(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"--dir {folder} is a file, not a folder")
    stale = []
    for make in GENERATED:
        example = make()
        path = folder / f"{example.name}.py"
        text = module_for(example)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
        else:
            with writing(path):
                folder.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print("out of date (run `symdiff regenerate`): " + ", ".join(stale), file=sys.stderr)
        return 1
    if args.check:
        print(f"{len(GENERATED)} generated modules in {folder} are up to date")
    return 0


class SpecError(SymdiffError, ValueError):
    """A SPEC that does not name a loadable function returning (expr, wrt[, inputs])."""


class OutputError(SymdiffError):
    """A file or folder the command cannot write."""


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Report a file that cannot be written (a folder in the way, no permission) in one line."""
    try:
        yield
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None


def run_user_code(what: str, path: Path, run: Callable[..., Any], *args: Any) -> Any:
    """``run(*args)``, with an error of the spec's own code (syntax, import, runtime) as a one-line SpecError.

    Every error symdiff means to raise is a SymdiffError, so any other error raised inside symdiff
    is a bug in symdiff and keeps its traceback.
    """
    try:
        return run(*args)
    except Exception as error:
        # the innermost frame of either the spec or symdiff tells which of them raised
        spec, at, in_symdiff = path.resolve(), "", False
        for frame in traceback.extract_tb(error.__traceback__)[1:]:  # [0] is this function's
            file = Path(frame.filename).resolve()
            if file == spec:
                at, in_symdiff = f" ({path}, line {frame.lineno})", False
            elif file.parent == PACKAGE:
                in_symdiff = True
        if in_symdiff and not isinstance(error, SymdiffError):
            raise
        message = str(error).strip().splitlines()
        raise SpecError(f"{what} {type(error).__name__}{': ' + message[0] if message else ''}{at}") from None


def load_spec(spec: str) -> tuple[str, Any, list[Any], list[Any] | None]:
    """The function's name and the (expr, wrt, inputs) it returns."""
    path_text, colon, name = spec.rpartition(":")
    if not colon or not path_text or not name.isidentifier():
        raise SpecError(f"SPEC must be path/to/file.py:function, got {spec!r}")
    path = Path(path_text)
    if not path.is_file():
        raise SpecError(f"no such file: {path}")
    loader = importlib.util.spec_from_file_location(f"symdiff_spec_{path.stem}", path)
    if loader is None or loader.loader is None:
        raise SpecError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(loader)
    sys.path.insert(0, str(path.resolve().parent))
    try:
        run_user_code(f"cannot import {path}:", path, loader.loader.exec_module, module)
    finally:
        sys.path.pop(0)
    build = getattr(module, name, None)
    if not callable(build):
        raise SpecError(f"{path} has no function {name!r}")
    result = run_user_code(f"{spec} raised", path, build)
    if not isinstance(result, tuple) or len(result) not in (2, 3):
        raise SpecError(f"{name}() must return (expr, wrt) or (expr, wrt, inputs), got {type(result).__name__}")
    try:  # compile's own checks, so that every command refuses what show refuses
        wrt = variables([result[1]] if isinstance(result[1], Node) else result[1], "wrt")
        inputs = variables(result[2], "inputs") if len(result) == 3 else None
    except GraphError as error:
        raise SpecError(f"{spec}: {error}") from None
    return name, result[0], wrt, inputs


def show(args: argparse.Namespace) -> int:
    name, expr, wrt, inputs = load_spec(args.spec)
    program = compile_program(expr, wrt, inputs, name=name, rewrites=not args.no_rewrites, backend=args.backend)
    print(program.source, end="")
    return 0


def generate(args: argparse.Namespace) -> int:
    name, expr, wrt, inputs = load_spec(args.spec)
    output = Path(args.output)
    module_name = output.stem if output.stem.isidentifier() else name
    program = compile_program(expr, wrt, inputs, name=module_name, rewrites=not args.no_rewrites,
                              backend=args.backend)
    with writing(output):
        output.parent.mkdir(parents=True, exist_ok=True)
        command = shlex.join(["symdiff", "generate", args.spec, "-o", str(output)]
                             + (["--no-rewrites"] if args.no_rewrites else [])
                             + (["--backend", args.backend] if args.backend != "numpy" else []))
        output.write_text(module_text(program, f"{args.spec}: value and gradient", command), encoding="utf-8")
    print(f"wrote {output} (function {module_name})")
    return 0


def dot(args: argparse.Namespace) -> int:
    from symdiff import draw

    _, expr, wrt, _ = load_spec(args.spec)
    root = tofloat(as_node(expr, "expr"))
    if args.grad:
        prepared = prepare(root, wrt)
        text = draw.to_dot([prepared.value, *prepared.grads], ["value", *(f"bar_{w.label}" for w in wrt)],
                                 prepared.adjoint_of)
    else:
        text = draw.to_dot([root], ["value"])
    if args.output is None:
        print(text, end="")
        return 0
    with writing(Path(args.output)):
        draw.write(text, Path(args.output))
    print(f"wrote {args.output}")
    return 0


def bench(args: argparse.Namespace) -> int:
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"
    if not script.is_file():
        raise SpecError("symdiff bench runs benchmarks/run.py of a source checkout (pip install -e .)")
    return subprocess.run([sys.executable, str(script), *args.rest], check=False).returncode


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="symdiff", description="Symbolic gradients as plain NumPy code.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="differentiate Baydin's example and cross-check it with SymPy").set_defaults(
        run=demo)
    again = commands.add_parser("regenerate", help="rewrite the modules under generated/")
    again.add_argument("--check", action="store_true", help="only report files that differ; exit 1 if any")
    again.add_argument("--dir", default="generated", help="the folder of generated modules (default: generated)")
    again.set_defaults(run=regenerate)
    for command, helper, run in (("show", "print the generated source for SPEC", show),
                                 ("generate", "write SPEC's value-and-gradient function as a module", generate)):
        sub = commands.add_parser(command, help=helper, description=helper + ". " + SPEC_HELP)
        sub.add_argument("spec", help="path/to/file.py:function")
        sub.add_argument("--no-rewrites", action="store_true", help="turn off the compile-time rewrites")
        sub.add_argument("--backend", choices=["numpy", "array_api", "numba"], default="numpy",
                         help="the code to write: NumPy, the array API standard, or numba kernels (default: numpy)")
        if command == "generate":
            sub.add_argument("-o", "--output", required=True, help="the module to write, e.g. generated/loss.py")
        sub.set_defaults(run=run)
    graph = commands.add_parser("dot", help="write SPEC's graph as Graphviz DOT",
                                description="Write SPEC's graph as Graphviz DOT. " + SPEC_HELP)
    graph.add_argument("spec", help="path/to/file.py:function")
    graph.add_argument("--grad", action="store_true", help="include the adjoint nodes of the reverse sweep")
    graph.add_argument("-o", "--output", help="a .dot file, or .svg/.png rendered with Graphviz (default: stdout)")
    graph.set_defaults(run=dot)
    commands.add_parser("bench", help="run the benchmark (benchmarks/run.py); its options pass through, "
                        "`symdiff bench --help` lists them")
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["bench"]:  # everything after the command belongs to benchmarks/run.py
        args = argparse.Namespace(command="bench", run=bench, rest=arguments[1:])
    else:
        args = parser.parse_args(arguments)
    try:
        return int(args.run(args))
    except SymdiffError as error:
        print(f"symdiff {args.command}: {str(error).splitlines()[0]}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
