"""Graphviz DOT text for a graph: the expression, or the expression with its adjoint nodes.

Variables are ellipses, constants plain text, ops boxes; with adjoints, the reverse-sweep
nodes are shaded and each adjoint is linked to its forward node by a dashed edge. Node ids
follow the topological order, so the same graph gives the same text; labels appear only inside
quoted strings, never in ids, so two labels never share a node.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from symdiff.errors import SymdiffError
from symdiff.graph import Node, toposort

MAX_CONSTANT = 6  # array constants up to this size are shown by value


class RenderError(SymdiffError, RuntimeError):
    """The Graphviz ``dot`` program is missing or failed."""


def to_dot(roots: Sequence[Node], names: Sequence[str], adjoint_of: dict[Node, Node] | None = None) -> str:
    """DOT text for the graph below ``roots``; ``names`` label the roots (``value``, ``bar_x``...)."""
    order = toposort(roots)
    ids = {node: f"n{i}" for i, node in enumerate(order)}
    forward = set(toposort(roots[:1]))
    lines = ["digraph symdiff {", "  rankdir=BT;", '  node [fontname="Helvetica", fontsize=11];']
    for node in order:
        lines.append(f"  {ids[node]} [{_style(node, node not in forward)}];")
    for node in order:
        lines.extend(f"  {ids[child]} -> {ids[node]};" for child in node.inputs)
    for i, (root, name) in enumerate(zip(roots, names, strict=True)):
        lines.append(f'  out{i} [label="{_escape(name)}", shape=plaintext, fontcolor="#1f4e9c"];')
        lines.append(f"  {ids[root]} -> out{i} [style=bold];")
    for adjoint, source in sorted((adjoint_of or {}).items(), key=lambda pair: ids.get(pair[0], "")):
        if adjoint in ids and source in ids and adjoint not in forward:
            lines.append(f'  {ids[source]} -> {ids[adjoint]} [style=dashed, color="#999999", constraint=false];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def write(text: str, path: Path) -> None:
    """Write DOT text, or render it with Graphviz when ``path`` ends in .svg or .png."""
    if path.suffix not in (".svg", ".png"):
        path.write_text(text, encoding="utf-8")
        return
    program = shutil.which("dot")
    if program is None:
        raise RenderError("rendering .svg or .png needs Graphviz's `dot` program: install it with "
                          "`sudo apt install graphviz` (Debian/Ubuntu) or `brew install graphviz`, "
                          "or write a .dot file instead")
    done = subprocess.run([program, f"-T{path.suffix[1:]}", "-o", str(path)], input=text, text=True,
                          capture_output=True)
    if done.returncode != 0:
        raise RenderError(f"dot failed: {done.stderr.strip()}")


def _style(node: Node, reverse: bool) -> str:
    fill = ', style=filled, fillcolor="#eeeeee"' if reverse else ""
    shape = "" if node.shape == () else f"\\n{node.shape}"
    if node.op == "var":
        return f'label="{_escape(node.label)}{shape}", shape=ellipse'
    if node.op == "const":
        value = node.value
        text = np.array2string(value, precision=4, threshold=MAX_CONSTANT) if value is not None else "?"
        if value is not None and value.size > MAX_CONSTANT:
            text = f"array{tuple(value.shape)}"
        return f'label="{_escape(text)}", shape=plaintext'
    attrs = f"\\n{_escape(str(node.attrs))}" if node.attrs and node.op not in ("const", "var") else ""
    return f'label="{_escape(node.op)}{attrs}{shape}", shape=box{fill}'


def _escape(text: str) -> str:
    """``text`` for inside a DOT quoted string; line breaks become \\n, so each statement stays one line."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return text.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")
