"""The array API backend: code for any namespace that follows the array API standard.

``compile(..., backend="array_api")`` writes a function that takes its namespace ``xp``
from its array arguments through ``array_api_compat.array_namespace``. The same code then
runs on NumPy, ``array_api_strict``, Dask, JAX or CuPy arrays. It calls only the standard's
functions under the standard's names (``xp.asin``, ``xp.concat``, ``xp.permute_dims``...),
converts constants and float arguments with ``xp.asarray``, writes nothing in place, and
returns arrays of the input namespace: the value is a 0-d array. Where arrays are mutable
(NumPy, CuPy, ``array_api_strict``), no result shares memory with an input or another result;
JAX and Dask results are not copied (JAX arrays are immutable; Dask's item assignment touches
no other array). Arguments must be real arrays or numbers (integers are cast); anything else
raises ``ArgumentError``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from symdiff.dialect import Dialect
from symdiff.dim_binding import Bindings, requirement_lines
from symdiff.dims import Dim, slice_bounds
from symdiff.emit import (
    Backend,
    Body,
    FunctionSpec,
    Param,
    Program,
    _program,
)
from symdiff.errors import EmitError, UnsupportedError
from symdiff.graph import BOOL, Node
from symdiff.ops import OPS
from symdiff.printers import ATOM, dim_text, index_text, reduction_count, shape_text
from symdiff.source_text import docstring

FLOAT = "xp.float64"


@dataclass(frozen=True, eq=False)
class ArrayApiDialect(Dialect):
    """The standard's names in the namespace ``xp``; constants are bound as ``xp`` arrays on entry."""

    def scalar(self, text: str) -> str:
        return f"xp.asarray({text})"  # the standard has no scalar types: a 0-d array, float64 by default

    def size(self, text: str) -> str:
        return f"xp.asarray({text}, dtype={FLOAT})"

    def zeros(self, shape: str) -> str:
        return f"xp.zeros({shape}, dtype={FLOAT})"

    def eye(self, k: int) -> str:
        return f"xp.eye({k}, dtype={FLOAT})"

    def constant(self, name: str) -> str:
        return "xc" + name[1:]  # C3, a NumPy array in the module, is bound to xc3 in the caller's namespace


def _reduction(name: str) -> Any:
    def render(a: Sequence[str], node: Node) -> str:
        axes, keepdims = node.attrs
        function = "sum" if name == "mean" else name
        text = f"xp.{function}({a[0]}, axis={axes}" + (", keepdims=True)" if keepdims else ")")
        if name == "mean":
            text += f" / {dim_text(reduction_count(node.inputs[0], axes))}"
        return text

    return render


def _matmul(a: Sequence[str], node: Node) -> str:
    return f"xp.matmul({a[0]}, {a[1]})"


def _transpose(a: Sequence[str], node: Node) -> str:
    return f"xp.permute_dims({a[0]}, {node.attrs[0]})"


def _reshape(a: Sequence[str], node: Node) -> str:
    return f"xp.reshape({a[0]}, {shape_text(node.attrs[0])})"


def _tofloat(a: Sequence[str], node: Node) -> str:
    return f"xp.astype({a[0]}, {FLOAT})"


def _zeros(a: Sequence[str], node: Node) -> str:
    return f"xp.zeros({shape_text(node.attrs[0])}, dtype={FLOAT})"


def _split(a: Sequence[str], node: Node) -> str:
    cuts, axis = node.attrs
    bounds = [0, *cuts, node.inputs[0].shape[axis]]
    lead = ":, " * axis
    rest = ", ..." if axis < node.inputs[0].ndim - 1 else ""  # the standard wants every axis indexed
    parts = [f"{a[0]}[{lead}{lo}:{hi}{rest}]" for lo, hi in itertools.pairwise(bounds)]
    return "(" + ", ".join(parts) + ",)"


def _logsumexp(a: Sequence[str], node: Node) -> str:
    axes, keepdims = node.attrs
    return f"_logsumexp_xp(xp, {a[0]}, {axes}, {keepdims})"


def _scatter(target: str, a: Sequence[str], node: Node) -> list[str]:
    """Pieces placed into zeros by concatenating zero blocks around them: no in-place writes."""
    shape, indices = node.attrs
    lines = []
    for part, (text, index) in enumerate(zip(a, indices, strict=True)):
        piece = f"{target}_{part}"
        lines.append(f"{piece} = xp.asarray({text}, dtype={FLOAT})")
        lines.extend(_pad(piece, shape, index))
        lines.append(f"{target} = {piece}" if part == 0 else f"{target} = {target} + {piece}")
    return lines


def _named_bounds(item: Any, size: Dim) -> tuple[Any, Any]:
    """Where an index item of a named axis starts and stops (the call checked that it fits)."""
    if not isinstance(item, tuple):
        start = item if item >= 0 else size + item
        return start, start + 1
    if item[2] == -1:  # the whole axis reversed
        return 0, size
    start, stop, step = item
    return slice_bounds(start, stop, step, size)


def _pad(piece: str, shape: tuple[int, ...], index: tuple[Any, ...]) -> list[str]:
    # an int's axis first comes back with length 1, so that the blocks of every axis can read
    # the lengths of the axes after it from the piece
    lines = [f"{piece} = xp.expand_dims({piece}, axis={axis})" for axis, item in enumerate(index)
             if not isinstance(item, tuple)]
    for axis, item in enumerate(index):
        size = shape[axis]
        if isinstance(size, Dim):
            start, stop = _named_bounds(item, size)
            if isinstance(item, tuple) and item[2] == -1:
                lines.append(f"{piece} = xp.flip({piece}, axis={axis})")
        elif isinstance(item, tuple):
            start, stop, step = slice(*item).indices(size)
            count = len(range(start, stop, step))
            if step != 1 and count:
                lines += _spread(piece, axis, count, step)
                start, step = (start, step) if step > 0 else (start + (count - 1) * step, -step)
                stop = start + (count - 1) * step + 1
            elif not count:
                start = stop = 0
        else:
            start, stop = item, item + 1
        before = (*shape[:axis], start, *shape[axis + 1:])
        after = (*shape[:axis], size - stop, *shape[axis + 1:])
        blocks = ([f"xp.zeros({_block(before, axis, piece)}, dtype={FLOAT})"] if start != 0 else []) + [piece] \
            + ([f"xp.zeros({_block(after, axis, piece)}, dtype={FLOAT})"] if stop != size else [])
        if len(blocks) > 1:
            lines.append(f"{piece} = xp.concat([{', '.join(blocks)}], axis={axis})")
    return lines


def _spread(piece: str, axis: int, count: int, step: int) -> list[str]:
    """A stepped slice's cotangent laid out densely: reversed for a negative step, with
    ``|step| - 1`` zeros between entries (stacked on a new axis, merged, the tail cut)."""
    lines = [f"{piece} = xp.flip({piece}, axis={axis})"] if step < 0 else []
    gap = abs(step)
    if gap > 1:
        zeros = f"xp.zeros_like({piece})"
        lines.append(f"{piece} = xp.stack([{piece}, {', '.join([zeros] * (gap - 1))}], axis={axis + 1})")
        merged = f"{piece}.shape[:{axis}] + ({count * gap},) + {piece}.shape[{axis + 2}:]"
        lines.append(f"{piece} = xp.reshape({piece}, {merged})")
        lines.append(f"{piece} = {piece}[{':, ' * axis}:{(count - 1) * gap + 1}, ...]")
    return lines


def _block(shape: tuple[int, ...], axis: int, piece: str) -> str:
    """A zero block's shape: its own length on ``axis``, the piece's lengths on the axes after."""
    dims = [str(d) for d in shape[: axis + 1]] + [f"{piece}.shape[{i}]" for i in range(axis + 1, len(shape))]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _arithmetic(symbol: str) -> Any:
    """NumPy multiplies a float by a bool as 0/1; the standard wants the bool cast first."""
    def render(a: Sequence[str], node: Node) -> str:
        parts = [f"xp.astype({text}, {FLOAT})" if child.dtype == BOOL else text
                 for text, child in zip(a, node.inputs, strict=True)]
        return f"{parts[0]} {symbol} {parts[1]}"

    return render


def _getitem(a: Sequence[str], node: Node) -> str:
    index = node.attrs[0]
    rest = ", ..." if len(index) < node.inputs[0].ndim else ""  # the standard has no implicit trailing axes
    return f"{a[0]}[{index_text(index)}{rest}]"


def _results(outputs: Sequence[Node], body: Body) -> list[str]:
    """The returned texts: ``_copy_xp`` where an output may be an input's memory or another
    output's (a no-op on immutable arrays), a new 0-d array for a scalar constant."""
    texts, seen = [], set()
    for node in outputs:
        text = body.emitter.text[node][0]
        if node.op == "const" and node.shape == ():
            text = f"xp.asarray({text}, dtype={FLOAT})"  # a new 0-d array, not a float
        elif node in seen or _may_alias(node):
            text = f"_copy_xp(xp, {text})"
        seen.add(node)
        texts.append(text)
    return texts


def _may_alias(node: Node) -> bool:
    """An input, a constant, a view, or a scatter of one piece that fills it (the piece itself);
    every other op writes a new array."""
    if node.op == "scatter":
        return len(node.inputs) == 1 and math.prod(node.inputs[0].shape) == math.prod(node.shape)
    return node.op in ("var", "const") or OPS[node.op].view


def _check(p: Param, bindings: Bindings) -> list[str]:
    """The argument conversion of one parameter: a float to a 0-d array, an array checked
    (then the sizes of the dimensions it binds read from it)."""
    if p.node.shape == ():
        return [f"    {p.name} = xp.asarray({p.name}, dtype={FLOAT}) if type({p.name}) is float"
                f" else _scalar_arg_xp(xp, {p.name}, {p.name!r})"]
    test = bindings.test(p.name, tuple(p.node.shape))
    return [f"    {p.name} = _array_arg_xp(xp, {p.name}, {p.name!r}, {test.expected}{test.dims})",
            *("    " + line for line in test.binds)]


def _assemble(spec: FunctionSpec, params: list[Param], body: Body, imports: tuple[str, ...]) -> Program:
    if imports:
        raise EmitError(f"the array_api backend cannot call user-defined ops (from {', '.join(imports)})")
    arrays = [p.name for p in params if p.node.shape != ()]
    if not arrays:
        raise UnsupportedError("the array_api backend takes its namespace from the arrays: give it an array input")
    bindings = Bindings()
    check = [f"    xp = _namespace_xp({tuple(arrays)!r}, {', '.join(arrays)})"]
    for p in params:
        check += _check(p, bindings)
    check += requirement_lines(spec.order or ())
    check += [f"    xc{name[1:]} = xp.asarray({name})" for name in body.emitter.constants]
    results = _results(spec.outputs, body)
    lines = body.emitter.lines
    signature = ", ".join(p.name for p in params)
    if spec.cotangent is None:
        returned = spec.layout(results)
        doc = docstring(spec, params, returned, body.expression, False, bindings)
        source = [f"def {spec.name}({signature}):", *doc, *check, *lines, f"    return {returned}"]
        return _program(spec.name, source, body.emitter, ("array_api_compat",))
    # a pullback: the reverse sweep is a closure over the forward sweep's arrays and the namespace
    cotangent = Param(spec.cotangent, body.emitter.names[spec.cotangent])
    split = lines.index("    # reverse sweep") if "    # reverse sweep" in lines else len(lines)
    grads = results[1:]
    cotangent_check = ["    " + line for line in _check(cotangent, bindings)]
    back = [f"    def back({cotangent.name}):", *cotangent_check, *("    " + line for line in lines[split:]),
            f"        return ({', '.join(grads)}{',' if len(grads) == 1 else ''})"]
    doc = docstring(spec, params, f"{results[0]}, back", body.expression, False, bindings)
    source = [f"def {spec.name}({signature}):", *doc, *check, *lines[:split], *back, f"    return {results[0]}, back"]
    return _program(spec.name, source, body.emitter, ("array_api_compat",))


ARRAY_API = Backend(
    printers={
        **{name: (_reduction(name), ATOM, (0,)) for name in ("sum", "max", "min", "prod")},
        "mean": (_reduction("mean"), 14, (0,)),
        "matmul": (_matmul, ATOM, (0,)),
        "transpose": (_transpose, ATOM, (0,)),
        "reshape": (_reshape, ATOM, (0,)),
        "tofloat": (_tofloat, ATOM, (0,)),
        "zeros": (_zeros, ATOM, (0,)),
        "split": (_split, ATOM, (ATOM,)),
        "logsumexp": (_logsumexp, ATOM, (0,)),
        "getitem": (_getitem, ATOM, (ATOM,)),
        **{name: (_arithmetic(symbol), OPS[name].prec, OPS[name].arg_prec)
           for name, symbol in (("add", "+"), ("sub", "-"), ("mul", "*"), ("div", "/"))},
    },
    statements={"scatter": _scatter},
    assemble=_assemble,
    # built-in ops carry NumPy's names; the record gives the standard's where it differs
    dialect=ArrayApiDialect("xp", renamed={name: op.array_api for name, op in OPS.items() if op.array_api}),
)
