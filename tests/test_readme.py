"""Every Python block of the README runs, in order, in one namespace, and together they use
every public name of symdiff, so the README cannot drift from the code."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import symdiff as sd
from symdiff.ops import OPS

README = Path(__file__).resolve().parent.parent / "README.md"


def blocks() -> list[str]:
    """The runnable blocks: excerpts of generated source (indented, inside a function) are left out."""
    found = re.findall(r"^( *)```python\n(.*?)^\1```", README.read_text(encoding="utf-8"), re.S | re.M)
    runnable = []
    for indent, body in found:
        code = "\n".join(line[len(indent):] for line in body.splitlines())
        if code.startswith((" ", "\t")):
            continue
        runnable.append(code)
    return runnable


def test_every_readme_block_runs() -> None:
    namespace: dict[str, object] = {}
    code = blocks()
    assert len(code) >= 8
    table = dict(OPS)
    try:
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            for number, block in enumerate(code):
                exec(compile(block, f"README block {number}", "exec"), namespace)
    finally:  # the README defines an op of its own; the op table is shared by every test
        OPS.clear()
        OPS.update(table)
    assert "3.29744254140025" in printed.getvalue()  # seed 003 derivative, printed by its block


def test_the_readme_uses_every_public_name() -> None:
    text = "\n".join(blocks())
    unused = [name for name in sd.__all__ if not re.search(rf"\bsd\.{name}\b", text)
              and name not in ERRORS_DOCUMENTED_IN_PROSE]
    assert unused == []


# exception classes are documented in the Errors section, where they are raised by name
ERRORS_DOCUMENTED_IN_PROSE = {"ArgumentError", "EmitError", "GradientError", "GraphError", "NoVJPError", "Node",
                              "OpDefinitionError", "ShapeError", "SymdiffError", "UnsupportedError",
                              "UnsupportedAttributeError"}


def test_the_list_of_supported_functions_is_the_catalog() -> None:
    """The README's list is ``symdiff.catalog.markdown()``: a function added anywhere shows up, or this fails."""
    from symdiff import catalog

    text = README.read_text(encoding="utf-8")
    listed = text.split("<!-- supported functions: start -->\n")[1].split("\n<!-- supported functions: end -->")[0]
    assert listed == catalog.markdown(), "run `python -m symdiff.catalog` and paste its output into the README"
