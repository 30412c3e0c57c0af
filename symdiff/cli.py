"""The ``symdiff`` command line: ``demo`` and ``regenerate [--check]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from symdiff.compiler import compile, compile_program  # noqa: A004
from symdiff.emit import module_text
from symdiff.gallery import GENERATED, Example, baydin
from symdiff.transforms import function_program


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
    stale = []
    for make in GENERATED:
        example = make()
        path = folder / f"{example.name}.py"
        text = module_for(example)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
        else:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print("out of date (run `symdiff regenerate`): " + ", ".join(stale), file=sys.stderr)
        return 1
    if args.check:
        print(f"{len(GENERATED)} generated modules in {folder} are up to date")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="symdiff", description="Symbolic gradients as plain NumPy code.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="differentiate Baydin's example and cross-check it with SymPy").set_defaults(
        run=demo)
    again = commands.add_parser("regenerate", help="rewrite the modules under generated/")
    again.add_argument("--check", action="store_true", help="only report files that differ; exit 1 if any")
    again.add_argument("--dir", default="generated", help="the folder of generated modules (default: generated)")
    again.set_defaults(run=regenerate)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
