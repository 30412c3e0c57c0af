"""The op record: what symdiff knows about an op, its kinds, its shape rules, and ``OPS``.

Every stage reads an op's facts from its ``Op`` entry (``symdiff.op_table`` registers the
built-in ones, ``define_op`` the user's). VJPs receive the cotangent ``g``, the op's output
node and its input nodes, and build their result with the same builders users call (``sd.mul``, ``sd.cos``...).
They return one entry per input; ``None`` means no gradient flows. A VJP may
return a cotangent of the *output's* broadcast shape: the reverse pass reduces it
to the input's shape in one place (``sum_to``).
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from symdiff.dims import Dim, slice_length
from symdiff.errors import ShapeError
from symdiff.graph import FLOAT, Node, Shape
from symdiff.printers import (  # re-exported: the backends and builders read them from here
    ATOM,
    Printer,
)

Vjp = Callable[..., Sequence["Node | None"]]

@dataclass(frozen=True)
class Op:
    """Everything symdiff knows about one op."""

    name: str
    shape: Callable[[Sequence[Any], tuple[Any, ...]], Any]
    numpy: Printer
    vjp: Vjp | None
    prec: int = ATOM
    arg_prec: tuple[int, ...] = (0,)  # least precedence each argument may print bare
    dtype: str = FLOAT
    sympy: Callable[..., Any] | None = None
    domain: tuple[tuple[float, float], ...] = ((-2.0, 2.0),)  # test points, per input
    guard: dict[int, float] | None = None  # singular input -> safe value (where-branches)
    view: bool = False  # the result may alias an input
    layout: bool = False  # moves elements without arithmetic: the result has its input's dtype
    strong_zeros: bool = False  # the VJP only moves, sums or 0/1-selects the cotangent: zeros give zeros
    kind: str = ""  # one of KINDS: what an output position depends on (shape, batching and fusion rules read it)
    # how a leading batch axis passes through (jacobian, hessian); None: elementwise ops and
    # reductions follow from their kind, ops without inputs batch nothing, the rest refuse
    batch: Callable[..., Any] | None = None
    fold: Callable[..., Any] | None = None  # the NumPy function that folds it on constants at construction
    array_api: str | None = None  # the standard's function name, where it differs from NumPy's
    vectorised: bool = False  # NumPy's SIMD loop beats a loop of libm calls (numba leaves big arrays to NumPy)
    weak_scalar: bool = False  # a Python float operand acts as np.float64 when the other operand is an array
    ufunc: str | None = None  # the NumPy ufunc it is: np.<ufunc>(node) dispatches to sd.<ufunc>
    numpy_functions: tuple[str, ...] = ()  # NumPy functions (not ufuncs) that dispatch to sd.<name>
    module: str | None = None  # the module generated code must import for it (a user-defined op's, scipy.special)
    refused: tuple[str, ...] = ()  # backends that cannot print it: compiling for one raises, naming the op
    # the nodes a refused backend prints after all (numba: a gather by one integer, a loop's index)
    taken_by: Callable[[Node, str], bool] | None = None
    convention: str | None = None  # a line for the Conventions of every function that computes it
    # what the sizes of named dimensions must satisfy for it: (dimension, least value, why) triples,
    # checked when the function runs (a slice x[-3:] needs n >= 3, a maximum over n needs n >= 1)
    requires: Callable[[Node], Sequence[tuple[Any, int, str]]] | None = None
    # which input entries each output entry reads, per input (symdiff.sparsity_rules); None:
    # by its kind (elementwise, reduction, layout); a rule may be conservative, never short
    sparsity: Callable[[Node], Sequence[Any]] | None = None
    reads_integers: bool = False  # int64 inputs are read as they are, not promoted to float as NumPy would
    arity: int | None = None  # inputs taken; None for variadic ops (set from the VJP's signature)
    zero_d: bool = False  # a scalar result may come back as a 0-d ndarray
    statement: Callable[[str, Sequence[str], Node], list[str]] | None = None
    # the plain-float form (printer, precedence, argument precedences) for all-scalar graphs;
    # None keeps a graph with this op on the NumPy path
    scalar: tuple[Printer, int, tuple[int, ...]] | None = None


OPS: dict[str, Op] = {}

# conventions several ops share: the header lists each once
STEPS = "floor, ceil, trunc, rint, round, sign, floor_divide: piecewise constant, gradient 0 (also at a jump);"
SORTS = ("sort, partition, median, percentile: each sorted position's gradient goes to one of its tied "
         "elements, not shared;")
REPEATS = "integer-array indexing: the gradients of repeated indices add up (np.add.at);"
SPECTRA = "eigh, svd: the gradient through the vectors is inf/NaN at repeated eigen- or singular values;"
INTEGERS = "argmax, argmin, count_nonzero: int64 results, no gradient;"

ELEMENTWISE = "elementwise"  # output position i reads position i of each (broadcast) input
REDUCTION = "reduction"  # reads the positions that share the kept axes (attrs: axes, keepdims)
LAYOUT = "layout"  # moves or repeats elements without arithmetic (reshape, transpose, broadcast, index)
PRODUCT = "product"  # a contraction over an inner axis (matmul)
STRUCTURE = "structure"  # joins, splits or places pieces (concatenate, split, scatter, zeros, item)
USER = "user"  # defined by define_op: nothing is known beyond its fields
KINDS = (ELEMENTWISE, REDUCTION, LAYOUT, PRODUCT, STRUCTURE, USER)
# scalar=SAME_TEXT: the plain-float form is the NumPy form (a sentinel, compared by identity)
SAME_TEXT: tuple[Printer, int, tuple[int, ...]] = (lambda a, node: "", -1, ())


def register(op: Op) -> Op:
    if op.kind not in KINDS:
        raise ValueError(f"op {op.name!r}: kind must be one of {KINDS}, got {op.kind!r}")
    if op.arity is None and op.vjp is not None:
        op = dataclasses.replace(op, arity=vjp_arity(op.vjp))
    if op.scalar is SAME_TEXT:
        op = dataclasses.replace(op, scalar=(op.numpy, op.prec, op.arg_prec))
    OPS[op.name] = op
    return op


def refuses(backend: str, node: Node) -> bool:
    """Whether ``backend`` cannot print ``node``: compiling for it raises, naming the op."""
    op = OPS.get(node.op)
    if op is None or backend not in op.refused:
        return False
    return op.taken_by is None or not op.taken_by(node, backend)


def vjp_arity(vjp: Vjp) -> int | None:
    """A VJP takes (g, out, *inputs): its signature tells the arity, or None for variadic ops."""
    params = inspect.signature(vjp).parameters.values()
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return len(params) - 2


def _sympy() -> Any:
    import sympy  # imported lazily: `import symdiff` must stay light

    return sympy


def _piecewise(*pieces: tuple[Any, Any]) -> Any:
    return _sympy().Piecewise(*pieces)


def _truth(condition: Any) -> Any:
    """A SymPy condition; a number counts as true when non-zero, as in NumPy."""
    sympy = _sympy()
    boolalg = sympy.logic.boolalg
    logical = condition.is_Relational or isinstance(condition, (boolalg.BooleanFunction, boolalg.BooleanAtom))
    return condition if logical else sympy.Ne(condition, 0)


# ---- shape rules ----------------------------------------------------------------------


def same_shape(shapes: Sequence[Shape], attrs: tuple[Any, ...]) -> Shape:
    return shapes[0]


def result_dtype(op: Op, inputs: Sequence[Node]) -> str:
    """A layout op keeps its input's dtype (a reshaped boolean is boolean); other ops have their own."""
    return inputs[0].dtype if op.layout else op.dtype


def elementwise(op: Op) -> bool:
    """Each output position depends only on the same position of each (broadcast) input."""
    return op.kind == ELEMENTWISE


def broadcast_shapes(*shapes: Shape) -> Shape:
    """NumPy's broadcasting rule, without NumPy's per-call overhead (it runs once per node)."""
    first = shapes[0]
    if shapes.count(first) == len(shapes):
        return first
    ndim = max(len(s) for s in shapes)
    result = []
    for axis in range(ndim):
        size = 1
        for s in shapes:
            d = s[axis - ndim + len(s)] if axis >= ndim - len(s) else 1
            if d != 1:
                if size not in (1, d):
                    raise ShapeError("shapes " + " and ".join(map(str, shapes)) + " do not broadcast")
                size = d
        result.append(size)
    return tuple(result)


def broadcast(shapes: Sequence[Shape], attrs: tuple[Any, ...]) -> Shape:
    return broadcast_shapes(*shapes)


def attr_shape(shapes: Sequence[Shape], attrs: tuple[Any, ...]) -> Shape:
    return attrs[0]


def reduced(shapes: Sequence[Shape], attrs: tuple[Any, ...]) -> Shape:
    axes, keepdims = attrs
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shapes[0]))
    return tuple(d for i, d in enumerate(shapes[0]) if i not in axes)


def nonempty_reduction(node: Node) -> list[tuple[Any, int, str]]:
    """A reduction with no identity (max, logsumexp, argmax) needs every named axis it reduces to
    hold an entry, where NumPy would raise."""
    axes = node.attrs[0]
    shape = node.inputs[0].shape
    return [(shape[a], 1, f"{node.op} over an axis of size {shape[a]}") for a in axes if isinstance(shape[a], Dim)]


def matmul_shape(shapes: Sequence[Shape], attrs: tuple[Any, ...]) -> Shape:
    a, b = shapes
    if not a or not b:
        raise ShapeError(f"matmul needs arrays of at least one dimension, got {a} and {b}")
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise ShapeError(f"matmul: inner dimensions differ in {a} @ {b}")
    batch = broadcast([a2[:-2], b2[:-2]], ())
    out = (*batch, a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def transposed(shapes: Sequence[Shape], attrs: tuple[Any, ...]) -> Shape:
    return tuple(shapes[0][i] for i in attrs[0])


def indexed(shapes: Sequence[Shape], attrs: tuple[Any, ...]) -> Shape:
    """Basic indexing: an int drops its axis, a slice keeps its length, the rest stay whole."""
    shape, index = shapes[0], attrs[0]
    pairs = zip(shape[: len(index)], index, strict=True)
    kept = [slice_length(item, dim) for dim, item in pairs if isinstance(item, tuple)]
    return (*kept, *shape[len(index):])


def scattered(shapes: Sequence[Shape], attrs: tuple[Any, ...]) -> Shape:
    """Zeros of ``attrs[0]`` with each part placed at its index: each part must fill its region."""
    shape, indices = attrs
    for part, index in zip(shapes, indices, strict=True):
        region = indexed([shape], (index,))
        if part != region:
            raise ShapeError(f"scatter: a part of shape {part} cannot fill a region of shape {region} of {shape}")
    return shape


def concatenated(shapes: Sequence[Shape], attrs: tuple[Any, ...]) -> Shape:
    axis = attrs[0]
    total = sum(s[axis] for s in shapes)
    return (*shapes[0][:axis], total, *shapes[0][axis + 1 :])


def split_shapes(shapes: Sequence[Shape], attrs: tuple[Any, ...]) -> tuple[Shape, ...]:
    cuts, axis = attrs
    shape = shapes[0]
    bounds = [0, *cuts, shape[axis]]
    return tuple((*shape[:axis], hi - lo, *shape[axis + 1 :]) for lo, hi in itertools.pairwise(bounds))


def item_shape(shapes: Sequence[Any], attrs: tuple[Any, ...]) -> Shape:
    return shapes[0][attrs[0]]


from symdiff import op_table  # noqa: E402, F401  (registers the built-in ops; it builds on the names above)
