"""How the numba backend prints the ops whose NumPy spelling numba lacks or runs slowly.

numba compiles a subset of NumPy: no ``axis`` for ``max`` or ``prod``, one integer axis for
``sum``, reshapes of C-ordered arrays only. These printers write what numba does compile. Matrix
products are loops while small and NumPy calls through object mode when large, so that one
BLAS serves the process.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from symdiff.dims import nominal
from symdiff.errors import UnsupportedError
from symdiff.graph import BOOL, Node
from symdiff.ops import OPS, broadcast
from symdiff.printers import Printer, dim_text, reduction_count, shape_text

# matrix products of up to this many multiply-adds are loops. Against NumPy through object mode
# (256 x 256, measured): v @ M and M @ N, whose inner loop runs along rows and vectorises, are
# even at 2^16; M @ v sums each row serially, 3x slower there, so it stops at 2^12
LOOP_FLOPS = 1 << 16
LOOP_FLOPS_ROWS = 1 << 12


def where(a: Sequence[str], node: Node) -> str:
    if node.shape == ():
        return f"({a[1]} if {a[0]} else {a[2]})"
    return f"np.where({a[0]}, {a[1]}, {a[2]})"


def power(fallback: Printer, call: str) -> Printer:
    """``x ** -k`` as ``pow``: numba inverts ``x ** k`` with a division that raises
    ZeroDivisionError at 0 whatever the error model, where NumPy gives inf. NumPy's ``x ** -k``
    is pow too, where ``1 / x ** k`` would round twice."""

    def render(a: Sequence[str], node: Node) -> str:
        exponent = node.inputs[1]
        if exponent.op == "const" and exponent.shape == () and exponent.value is not None:
            value = float(exponent.value)
            if value < 0 and value.is_integer():
                return f"{call}({a[0]}, {value!r})"
        return fallback(a, node)

    return render


# Of two equal operands, NumPy returns the second (x86's maxpd: maximum(-0.0, 0.0) is 0.0) and
# numba the first, so numba is given them the other way round; either returns a NaN if there is one.
def maximum(a: Sequence[str], node: Node) -> str:
    return f"np.maximum({a[1]}, {a[0]})"


def minimum(a: Sequence[str], node: Node) -> str:
    return f"np.minimum({a[1]}, {a[0]})"


def relu(a: Sequence[str], node: Node) -> str:
    return f"np.maximum(0.0, {a[0]})"


def sign(a: Sequence[str], node: Node) -> str:
    return f"(np.sign({a[0]}) + 0.0)"  # numba's sign(-0.0) is -0.0, NumPy's 0.0; + 0.0 changes only that


def tofloat(a: Sequence[str], node: Node) -> str:
    if node.shape != ():
        return f"{a[0]}.astype(np.float64)"
    return scalar_tofloat(a, node)


def scalar_tofloat(a: Sequence[str], node: Node) -> str:
    """numba has no float(bool); an integer keeps its value."""
    return f"(1.0 if {a[0]} else 0.0)" if node.inputs[0].dtype == BOOL else f"float({a[0]})"


def reshape(a: Sequence[str], node: Node) -> str:
    source = node.inputs[0]
    if source.shape == ():
        return f"np.full({shape_text(node.attrs[0])}, {a[0]})"
    if node.attrs[0] == ():
        return f"{a[0]}.ravel()[0]"
    if source.op in ("var", "const") or not OPS[source.op].view:
        return f"{a[0]}.reshape({shape_text(node.attrs[0])})"
    return f"np.ascontiguousarray({a[0]}).reshape({shape_text(node.attrs[0])})"  # numba reshapes C order only


def sum_like(fn: str) -> Printer:
    """``sum`` and ``mean``: numba takes one integer axis, so several axes are summed one by one."""

    def render(a: Sequence[str], node: Node) -> str:
        axes, keepdims = node.attrs
        source = node.inputs[0]
        if source.ndim == 0:
            return a[0]
        text = a[0]
        if len(axes) == source.ndim:
            text = f"{text}.sum()"
        else:
            for axis in sorted(axes, reverse=True):
                text = f"{text}.sum(axis={axis})"
        if keepdims and len(axes) == source.ndim:
            text = f"np.full({shape_text(node.shape)}, {text})"  # the whole sum is a float
        elif keepdims:
            text = f"{text}.reshape({shape_text(node.shape)})"
        if fn == "mean":
            text = f"{text} / {dim_text(reduction_count(source, axes))}"
        return text

    return render


def matmul_statement(target: str, a: Sequence[str], node: Node) -> list[str]:
    """Small products as loops (a BLAS call costs ~0.3 µs before its first flop); the rest in
    NumPy, so the process has one BLAS thread pool: numba's own products call SciPy's BLAS,
    whose idle threads spin beside NumPy's."""
    if not calls_blas(node):
        return _matmul_loops(target, a, node)
    return objmode(target, node, f"np.matmul({a[0]}, {a[1]})", "NumPy's matrix product")


def matmul_in_loop(target: str, a: Sequence[str], node: Node) -> list[str]:
    """Inside a loop the product stays in the kernel: loops when small, numba's own np.dot otherwise
    (NumPy's product through object mode in a loop's body failed LLVM's verification in numba
    0.68, "Instruction does not dominate all uses"; a transcendental there compiles)."""
    if not calls_blas(node):
        return _matmul_loops(target, a, node)
    if any(i.ndim > 2 for i in node.inputs):
        raise UnsupportedError("the numba backend cannot print a batched matrix product inside a loop; "
                               "use backend='numpy'")
    return [f"{target} = np.ascontiguousarray(np.dot({a[0]}, {a[1]}))"]


# inside a loop's body every op is a pass of its own (nothing fuses with it), so NumPy's SIMD loop
# pays for its ~2 µs call sooner than in the kernel's fused loops: a tanh of 2,048 entries took
# 6.5 µs through object mode against 15.7 µs in numba's own loop
LOOP_NUMPY_MIN = 1 << 10


def vectorised_in_loop(target: str, a: Sequence[str], node: Node) -> list[str]:
    """A transcendental on an array in a loop's body: NumPy's SIMD loop when it is large enough."""
    call = f"np.{node.op}({a[0]})"
    if node.ndim == 0 or nominal(node.size) < LOOP_NUMPY_MIN:
        return [f"{target} = {call}"]
    return objmode(target, node, call, f"NumPy's SIMD {node.op}")


def broadcasts(node: Node) -> bool:
    op = OPS.get(node.op)
    if op is None or node.ndim == 0:
        return False
    return node.op == "broadcast_to" or (op.shape is broadcast and any(
        i.shape not in ((), node.shape) for i in node.inputs))


def calls_blas(node: Node) -> bool:
    if node.op != "matmul":
        return False
    left, right = node.inputs
    if left.ndim == right.ndim == 1:  # a dot product of vectors is a sum of a loop
        return False
    limit = LOOP_FLOPS if right.ndim == 2 else LOOP_FLOPS_ROWS
    return max(left.ndim, right.ndim) > 2 or nominal(math.prod((*left.shape, *right.shape[1:]))) > limit


def _matmul_loops(target: str, a: Sequence[str], node: Node) -> list[str]:
    left, right = node.inputs
    lines: list[str] = []
    names = []
    for text, side in zip(a, ("left", "right"), strict=True):
        if not text.isidentifier():
            lines.append(f"_{target}_{side} = {text}")
            text = f"_{target}_{side}"
        names.append(text)
    m, v = names
    i, j, k, acc = (f"_{target}_{part}" for part in ("i", "j", "k", "acc"))
    if left.ndim == 1 and right.ndim == 1:
        return [*lines, f"{target} = 0.0",
                f"for {k} in range({left.shape[0]}):",
                f"    {target} += {m}[{k}] * {v}[{k}]"]
    if right.ndim == 1:  # rows of the matrix times the vector
        rows, inner = left.shape
        return [*lines, f"{target} = np.empty({rows})",
                f"for {i} in range({rows}):",
                f"    {acc} = 0.0",
                f"    for {k} in range({inner}):",
                f"        {acc} += {m}[{i}, {k}] * {v}[{k}]",
                f"    {target}[{i}] = {acc}"]
    # rows of the right factor scaled and added: the innermost loop runs along contiguous rows
    inner, cols = right.shape
    if left.ndim == 1:
        return [*lines, f"{target} = np.zeros({cols})",
                f"for {k} in range({inner}):",
                f"    {acc} = {m}[{k}]",
                f"    for {j} in range({cols}):",
                f"        {target}[{j}] += {acc} * {v}[{k}, {j}]"]
    rows = left.shape[0]
    return [*lines, f"{target} = np.zeros(({rows}, {cols}))",
            f"for {i} in range({rows}):",
            f"    for {k} in range({inner}):",
            f"        {acc} = {m}[{i}, {k}]",
            f"        for {j} in range({cols}):",
            f"            {target}[{i}, {j}] += {acc} * {v}[{k}, {j}]"]


def objmode(target: str, node: Node, call: str, what: str) -> list[str]:
    """A NumPy call from inside the kernel, through numba's object mode (~2 µs)."""
    kind = "float64" if node.ndim == 0 else "float64[" + ", ".join([":"] * (node.ndim - 1) + ["::1"]) + "]"
    result = call if node.ndim == 0 else f"np.ascontiguousarray({call})"
    return [f"with numba.objmode({target}=\"{kind}\"):  # {what}",
            f"    {target} = {result}"]


def rows(kind: str) -> object:
    """max, min, prod and logsumexp over any axes: the reduced axes are moved last, and each
    row is reduced by a loop (numba's own max and prod take no axis). A whole-array max or
    min without keepdims never arrives here: fusion makes it a reduction of a loop."""

    def statement(target: str, a: Sequence[str], node: Node) -> list[str]:
        axes = node.attrs[0]  # keepdims only changes the final reshape to node.shape
        source = node.inputs[0]
        if source.ndim == 0:
            return [f"{target} = {a[0]}"]
        kept = [d for d in range(source.ndim) if d not in axes]
        rows = math.prod(source.shape[d] for d in kept)
        width = math.prod(source.shape[d] for d in axes)
        order = (*kept, *axes)
        # numba gives each name one type: the row results get a name of their own
        grid, out, j, k, acc = (f"_{target}_{part}" for part in ("rows", "out", "j", "k", "acc"))
        init = {"max": "-math.inf", "min": "math.inf", "prod": "1.0", "logsumexp": "-math.inf"}[kind]
        # the element first: of two equal values NumPy keeps the later, as ``maximum`` above
        step = {"max": f"np.maximum({grid}[{j}, {k}], {acc})", "min": f"np.minimum({grid}[{j}, {k}], {acc})",
                "prod": f"{acc} * {grid}[{j}, {k}]", "logsumexp": f"np.maximum({grid}[{j}, {k}], {acc})"}[kind]
        lines = [f"{grid} = np.ascontiguousarray({a[0]}.transpose({order})).reshape(({rows}, {width}))",
                 f"{out} = np.empty({rows})",
                 f"for {j} in range({rows}):",
                 f"    {acc} = {init}",
                 f"    for {k} in range({width}):",
                 f"        {acc} = {step}"]
        if kind == "logsumexp":  # shift by the finite maximum, as runtime._logsumexp does
            lines += [f"    if not np.isfinite({acc}):",
                      f"        {acc} = 0.0",
                      f"    {out}[{j}] = np.log(np.exp({grid}[{j}] - {acc}).sum()) + {acc}"]
        else:
            lines.append(f"    {out}[{j}] = {acc}")
        if node.shape == ():
            lines.append(f"{target} = {out}[0]")
        else:
            lines.append(f"{target} = {out}.reshape({shape_text(node.shape)})")
        return lines

    return statement


def split(a: Sequence[str], node: Node) -> str:
    cuts, axis = node.attrs
    source = node.inputs[0]
    bounds = [0, *cuts, source.shape[axis]]
    lead = ":, " * axis
    parts = [f"{a[0]}[{lead}{lo}:{hi}]" for lo, hi in itertools.pairwise(bounds)]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
