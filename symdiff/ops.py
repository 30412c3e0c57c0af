"""The op table: one entry per op with its shape rule, NumPy printer, VJP and SymPy form.

VJPs receive the cotangent ``g``, the op's output node and its input nodes, and
build their result with the same builders users call (``sd.mul``, ``sd.cos``...).
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

import numpy as np

import symdiff.api as sd
from symdiff.dialect import current as current_dialect
from symdiff.errors import ShapeError
from symdiff.graph import BOOL, FLOAT, TUPLE, Node, Shape

Printer = Callable[[Sequence[str], Node], str]
Vjp = Callable[..., Sequence["Node | None"]]

ATOM = 100  # a call, a name, a subscript: never needs parentheses


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
    fold: Callable[..., Any] | None = None  # the NumPy function that folds it on constants at construction
    array_api: str | None = None  # the standard's function name, where it differs from NumPy's
    vectorised: bool = False  # NumPy's SIMD loop beats a loop of libm calls (numba leaves big arrays to NumPy)
    weak_scalar: bool = False  # a Python float operand acts as np.float64 when the other operand is an array
    ufunc: str | None = None  # the NumPy ufunc it is: np.<ufunc>(node) dispatches to sd.<ufunc>
    module: str | None = None  # a user-defined op's module, which generated code must import
    arity: int | None = None  # inputs taken; None for variadic ops (set from the VJP's signature)
    zero_d: bool = False  # a scalar result may come back as a 0-d ndarray
    statement: Callable[[str, Sequence[str], Node], list[str]] | None = None
    # the plain-float form (printer, precedence, argument precedences) for all-scalar graphs;
    # None keeps a graph with this op on the NumPy path
    scalar: tuple[Printer, int, tuple[int, ...]] | None = None


OPS: dict[str, Op] = {}

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
    kept = [len(range(*slice(*item).indices(dim))) for dim, item in pairs if isinstance(item, tuple)]
    return (*kept, *shape[len(index):])


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


# ---- index attrs: ints and canonical (start, stop, step) slices ------------------------


def to_index(attrs: tuple[Any, ...]) -> tuple[int | slice, ...]:
    return tuple(slice(*item) if isinstance(item, tuple) else item for item in attrs)


def index_text(attrs: tuple[Any, ...]) -> str:
    parts = []
    for item in attrs:
        if isinstance(item, tuple):
            start, stop, step = ("" if v is None else str(v) for v in item)
            parts.append(f"{start}:{stop}" + (f":{step}" if step else ""))
        else:
            parts.append(str(item))
    return ", ".join(parts)


# ---- printers ---------------------------------------------------------------------------


def call(template: str) -> Printer:
    return lambda a, node: template.format(*a)


def spelled(name: str) -> str:
    """The function NumPy calls ``name``, in the namespace and spelling of the current dialect."""
    return current_dialect().function(name)


def function_call(name: str) -> Printer:
    """``np.name(a, b)``, in the current dialect's namespace and spelling."""
    return lambda a, node: f"{spelled(name)}({', '.join(a)})"


def reduction_printer(fn: str) -> Printer:
    """``x.sum()``: the array method skips ``np.sum``'s dispatch layer (about 1.5 µs a call)."""

    def render(a: Sequence[str], node: Node) -> str:
        axes, keepdims = node.attrs
        source = node.inputs[0]
        whole = len(axes) == source.ndim and not keepdims
        if source.ndim == 0:  # a scalar may be a plain float, which has no methods
            return f"{spelled(fn)}({a[0]})"
        axis = "" if whole else "axis=" + (str(axes[0]) if len(axes) == 1 else str(axes))
        method = "sum" if fn == "mean" else fn  # a mean is what np.mean computes, without its Python wrapper
        text = f"{a[0]}.{method}({axis}" + (", keepdims=True)" if keepdims else ")")
        return text + f" / {int(reduction_count(source, axes))}" if fn == "mean" else text

    return render


def matmul_printer(a: Sequence[str], node: Node) -> str:
    if max(node.inputs[0].ndim, node.inputs[1].ndim) <= 2:
        return f"{a[0]}.dot({a[1]})"  # the method is about 0.5 µs faster than ``@`` on small operands
    return f"{spelled('matmul')}({a[0]}, {a[1]})"


def reshape_printer(a: Sequence[str], node: Node) -> str:
    if node.inputs[0].ndim == 0:  # a scalar may be a plain float, which has no methods
        return f"{spelled('reshape')}({a[0]}, {shape_text(node.attrs[0])})"
    return f"{a[0]}.reshape({shape_text(node.attrs[0])})"


def shape_text(shape: Shape) -> str:
    return str(tuple(shape))


def power_printer(a: Sequence[str], node: Node) -> str:
    base, exponent = node.inputs
    if base.op == "const" and exponent.op == "const":
        # two Python floats would not follow IEEE: (-8.0) ** 0.5 is complex
        return f"{spelled('power')}({a[0]}, {a[1]})"
    if exponent.op == "const" and exponent.shape == () and exponent.value is not None:
        value = float(exponent.value)
        if value.is_integer() and abs(value) < 2**53:
            return f"{a[0]} ** {int(value)}"  # reads like maths; NumPy takes the same fast path
    return f"{a[0]} ** {a[1]}"


def typed(text: str, node: Node) -> str:
    """A scalar as ``np.float64(...)`` (or float32) where no array operand fixes the result's type:
    NumPy would make a Python float float64."""
    return current_dialect().scalar(text) if node.shape == () and node.dtype == FLOAT and node.op == "const" else text


def where_printer(a: Sequence[str], node: Node) -> str:
    _, x, y = node.inputs
    first = current_dialect().scalar(a[1]) if x.shape == () and y.shape == () and x.dtype == FLOAT else a[1]
    return f"{spelled('where')}({a[0]}, {first}, {a[2]})"


def transpose_printer(a: Sequence[str], node: Node) -> str:
    axes = node.attrs[0]
    if axes == tuple(reversed(range(len(axes)))):
        return f"{a[0]}.T"
    return f"{a[0]}.transpose({axes})"


def scatter_statement(target: str, a: Sequence[str], node: Node) -> list[str]:
    shape, indices = node.attrs
    zeros = current_dialect().zeros(shape_text(shape))
    if len(indices) == 1:
        return [f"{target} = {zeros}", f"{target}[{index_text(indices[0])}] = {a[0]}"]
    adds = [f"{target}[{index_text(index)}] += {g}" for index, g in zip(indices, a, strict=True)]
    return [f"{target} = {zeros}", *adds]


# ---- VJP helpers -----------------------------------------------------------------------


def expand_reduced(g: Node, x: Node, axes: tuple[int, ...]) -> Node:
    """Broadcast a reduction's cotangent back over the reduced axes of ``x``."""
    if g.shape == ():
        return sd.broadcast_to(g, x.shape)
    kept = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    return sd.broadcast_to(sd.reshape(g, kept), x.shape)


def reduction_count(x: Node, axes: tuple[int, ...]) -> float:
    return float(np.prod([x.shape[i] for i in axes], dtype=np.int64))


def tie_mask(a: Node, b: Node, wins: Callable[[Node, Node], Node]) -> Node:
    """1 where ``a`` wins, ½ on ties, 0 where ``b`` wins (DESIGN §8)."""
    return sd.where(wins(a, b), 1.0, sd.where(sd.equal(a, b), 0.5, 0.0))


def matmul_vjp(g: Node, out: Node, a: Node, b: Node) -> tuple[Node, Node]:
    if a.ndim == 1 and b.ndim == 1:  # a dot product: g is a scalar
        return g * b, g * a
    if a.ndim == 2 and b.ndim == 1:  # matrix @ vector: no reshapes, an outer product by broadcasting
        return sd.reshape(g, (a.shape[0], 1)) * b, g @ a
    if a.ndim == 1 and b.ndim == 2:  # vector @ matrix
        return b @ g, sd.reshape(a, (a.shape[0], 1)) * g
    a2 = sd.reshape(a, (1, *a.shape)) if a.ndim == 1 else a
    b2 = sd.reshape(b, (*b.shape, 1)) if b.ndim == 1 else b
    g2 = sd.reshape(g, matmul_shape([a2.shape, b2.shape], ()))
    ga = sd.sum_to(sd.matmul(g2, swap_last(b2)), a2.shape)
    gb = sd.sum_to(sd.matmul(swap_last(a2), g2), b2.shape)
    return sd.reshape(ga, a.shape), sd.reshape(gb, b.shape)


def swap_last(x: Node) -> Node:
    axes = (*range(x.ndim - 2), x.ndim - 1, x.ndim - 2)
    return sd.transpose(x, axes)


def power_vjp(g: Node, out: Node, a: Node, b: Node) -> tuple[Node | None, Node | None]:
    # No derivative code for a constant: d/db would print log(a), NaN for a < 0.
    zero_exponent = b.op == "const" and b.value is not None and not b.value.any()
    ga = None if a.op == "const" or zero_exponent else g * (b * a ** (b - 1.0))
    gb = None if b.op == "const" else g * (out * sd.log(a))
    return ga, gb


def split_vjp(gs: Sequence[Node | None], out: Node, x: Node) -> tuple[Node]:
    axis = out.attrs[1]
    parts = [sd.zeros(shape) if gi is None else gi for gi, shape in zip(gs, out.shape, strict=True)]
    return (sd.concatenate(parts, axis=axis),)


def concatenate_vjp(g: Node, out: Node, *xs: Node) -> list[Node]:
    axis = out.attrs[0]
    cuts = list(np.cumsum([x.shape[axis] for x in xs])[:-1])
    return list(sd.split(g, [int(c) for c in cuts], axis=axis)) if len(xs) > 1 else [g]


# ---- plain-float forms ---------------------------------------------------------------------
# math.* and Python operators: about twice as fast as NumPy ufuncs on single floats. Where
# math raises (log(-1), 1/0, overflow) the generated function falls back to its NumPy body.
# maximum, minimum, relu and sign are left out: Python's max/min and comparisons treat NaN
# differently from NumPy.


def scalar_square(a: Sequence[str], node: Node) -> str:
    """x * x, as np.square computes it (x ** 2 is libm's pow, which can differ in the last bit)."""
    return f"{a[0]} * {a[0]}" if a[0].isidentifier() else f"{spelled('square')}({a[0]})"


def scalar_power(a: Sequence[str], node: Node) -> str:
    exponent = node.inputs[1]
    if (exponent.op == "const" and exponent.shape == () and exponent.value is not None
            and float(exponent.value).is_integer()):
        return f"{a[0]} ** {int(exponent.value)}"
    return f"math.pow({a[0]}, {a[1]})"  # raises where ** would silently return a complex number


def math_form(fn: str) -> tuple[Printer, int, tuple[int, ...]]:
    return call(f"math.{fn}({{0}})"), ATOM, (0,)


# ---- the table --------------------------------------------------------------------------
# Per entry: kind, spelling (NumPy printer; plain-float ``scalar`` form; ``array_api`` name where
# the standard renames it), VJP, SymPy form, test domain, guard, folding and fusion facts.

UNARY_DOMAIN = ((-2.0, 2.0),)
POSITIVE = ((0.2, 3.0),)


@dataclass(frozen=True)
class SympyFunction:
    """A SymPy function by name, looked up only when a check needs it; ``from_sympy`` maps it back."""

    name: str

    def __call__(self, *args: Any) -> Any:
        return getattr(_sympy(), self.name)(*args)


def sym(function: str) -> SympyFunction:
    return SympyFunction(function)


def unary(name: str, vjp: Vjp, sympy: Callable[..., Any], domain: tuple[tuple[float, float], ...] = UNARY_DOMAIN,
          guard: dict[int, float] | None = None, printer: Printer | None = None, **facts: Any) -> None:
    printer = printer or function_call(name)
    facts.setdefault("ufunc", name)
    register(Op(name, same_shape, printer, vjp, sympy=sympy, domain=domain, guard=guard, kind=ELEMENTWISE, **facts))


unary("exp", lambda g, y, x: (g * y,), sym("exp"), guard={0: 0.0}, scalar=math_form("exp"), vectorised=True)
unary("log", lambda g, y, x: (g / x,), sym("log"), POSITIVE, guard={0: 1.0}, scalar=math_form("log"),
      vectorised=True)
unary("log1p", lambda g, y, x: (g / (1.0 + x),), lambda a: _sympy().log(1 + a), ((-0.5, 2.0),), guard={0: 0.0},
      scalar=math_form("log1p"), vectorised=True)
# not g * (y + 1): expm1(x) rounds to -1 for x < -37, so y + 1 is 0 where exp(x) is not
unary("expm1", lambda g, y, x: (g * sd.exp(x),), lambda a: _sympy().exp(a) - 1, guard={0: 0.0},
      scalar=math_form("expm1"), vectorised=True)
unary("sqrt", lambda g, y, x: (0.5 * g / y,), sym("sqrt"), POSITIVE, guard={0: 1.0}, scalar=math_form("sqrt"))
unary("sin", lambda g, y, x: (g * sd.cos(x),), sym("sin"), scalar=math_form("sin"))
unary("cos", lambda g, y, x: (-g * sd.sin(x),), sym("cos"), scalar=math_form("cos"))
unary("tan", lambda g, y, x: (g * (1.0 + y * y),), sym("tan"), ((-1.2, 1.2),), scalar=math_form("tan"),
      vectorised=True)
unary("arcsin", lambda g, y, x: (g / sd.sqrt(1.0 - x * x),), sym("asin"), ((-0.9, 0.9),), guard={0: 0.0},
      scalar=math_form("asin"), array_api="asin", vectorised=True)
unary("arccos", lambda g, y, x: (-g / sd.sqrt(1.0 - x * x),), sym("acos"), ((-0.9, 0.9),), guard={0: 0.0},
      scalar=math_form("acos"), array_api="acos", vectorised=True)
unary("arctan", lambda g, y, x: (g / (1.0 + x * x),), sym("atan"), scalar=math_form("atan"), array_api="atan",
      vectorised=True)
# 1 / cosh(y) is 1 / sqrt(1 + x*x) without squaring x, which overflows beyond 1e154
unary("arcsinh", lambda g, y, x: (g / sd.cosh(y),), sym("asinh"), scalar=math_form("asinh"), array_api="asinh")
unary("sinh", lambda g, y, x: (g * sd.cosh(x),), sym("sinh"), guard={0: 0.0}, scalar=math_form("sinh"),
      vectorised=True)
unary("cosh", lambda g, y, x: (g * sd.sinh(x),), sym("cosh"), guard={0: 0.0}, scalar=math_form("cosh"),
      vectorised=True)
# NumPy's tanh and math.tanh differ in the last bit: the scalar form stays NumPy's
unary("tanh", lambda g, y, x: (g * (1.0 - y * y),), sym("tanh"), scalar=(function_call("tanh"), ATOM, (0,)),
      vectorised=True)
# Piecewise forms: SymPy leaves d/dx Abs(f(x)) unevaluated unless f is known to be real.
unary("abs", lambda g, y, x: (g * sd.sign(x),), lambda a: _piecewise((a, a >= 0), (-a, True)), ((0.2, 2.0),),
      scalar=(call("abs({0})"), ATOM, (0,)), ufunc="absolute")
unary("square", lambda g, y, x: (g * (2.0 * x),), lambda a: a**2, scalar=(scalar_square, 14, (0,)))
# maximum, minimum, relu and sign have no plain-float form: Python's max/min and comparisons
# treat NaN differently from NumPy
unary("relu", lambda g, y, x: (g * (x > 0.0),), lambda a: _sympy().Max(a, 0), ((0.2, 2.0),),
      printer=lambda a, n: f"{spelled('maximum')}({a[0]}, 0.0)", strong_zeros=True, ufunc=None)
unary("sign", lambda g, y, x: (None,), lambda a: _piecewise((1, a > 0), (-1, a < 0), (0, True)), ((0.2, 2.0),))

register(Op("neg", same_shape, call("-{0}"), lambda g, y, x: (-g,), prec=15, arg_prec=(15,), sympy=lambda a: -a,
            kind=ELEMENTWISE, ufunc="negative", scalar=SAME_TEXT, fold=np.negative, strong_zeros=True))
register(
    Op("add", broadcast, call("{0} + {1}"), lambda g, y, a, b: (g, g), prec=13, arg_prec=(13, 14),
       sympy=lambda a, b: a + b, domain=UNARY_DOMAIN * 2, kind=ELEMENTWISE, ufunc="add", scalar=SAME_TEXT, fold=np.add,
       strong_zeros=True, weak_scalar=True)
)
register(
    Op("sub", broadcast, call("{0} - {1}"), lambda g, y, a, b: (g, -g), prec=13, arg_prec=(13, 14),
       sympy=lambda a, b: a - b, domain=UNARY_DOMAIN * 2, kind=ELEMENTWISE, ufunc="subtract", scalar=SAME_TEXT,
       fold=np.subtract,
       strong_zeros=True, weak_scalar=True)
)
register(
    Op("mul", broadcast, call("{0} * {1}"), lambda g, y, a, b: (g * b, g * a), prec=14, arg_prec=(14, 15),
       sympy=lambda a, b: a * b, domain=UNARY_DOMAIN * 2, kind=ELEMENTWISE, ufunc="multiply", scalar=SAME_TEXT,
       fold=np.multiply,
       weak_scalar=True)
)
register(
    Op("div", broadcast, call("{0} / {1}"), lambda g, y, a, b: (g / b, -g * y / b), prec=14, arg_prec=(14, 15),
       sympy=lambda a, b: a / b, domain=((-2.0, 2.0), (0.5, 2.0)), guard={1: 1.0}, kind=ELEMENTWISE, ufunc="divide",
       scalar=SAME_TEXT, fold=np.divide, weak_scalar=True)
)
register(
    Op("power", broadcast, power_printer, power_vjp, prec=16, arg_prec=(17, 15),
       sympy=lambda a, b: a**b, domain=((0.5, 2.0), (-1.5, 1.5)), guard={0: 1.0}, kind=ELEMENTWISE,
       scalar=(scalar_power, 16, (17, 15)), array_api="pow", weak_scalar=True, ufunc="power")
)
register(
    Op("maximum", broadcast, function_call("maximum"),
       lambda g, y, a, b: (g * tie_mask(a, b, sd.greater), g * tie_mask(b, a, sd.greater)),
       sympy=lambda a, b: _sympy().Max(a, b), domain=((-2.0, 2.0), (-1.9, 1.9)), kind=ELEMENTWISE, weak_scalar=True,
       ufunc="maximum")
)
register(
    Op("minimum", broadcast, function_call("minimum"),
       lambda g, y, a, b: (g * tie_mask(a, b, sd.less), g * tie_mask(b, a, sd.less)),
       sympy=lambda a, b: _sympy().Min(a, b), domain=((-2.0, 2.0), (-1.9, 1.9)), kind=ELEMENTWISE, weak_scalar=True,
       ufunc="minimum")
)
register(
    Op("matmul", matmul_shape, matmul_printer, matmul_vjp, arg_prec=(ATOM, 0), domain=UNARY_DOMAIN * 2,
       kind=PRODUCT, ufunc="matmul")
)
register(
    Op("where", broadcast, where_printer,
       lambda g, y, c, a, b: (None, sd.where(c, g, 0.0), sd.where(c, 0.0, g)),
       sympy=lambda c, a, b: _sympy().Piecewise((a, _truth(c)), (b, True)), zero_d=True, kind=ELEMENTWISE,
       scalar=(call("{1} if {0} else {2}"), 1, (2, 2, 1)), strong_zeros=True, weak_scalar=True)
)

_comparisons = [("greater", ">", "Gt"), ("greater_equal", ">=", "Ge"), ("less", "<", "Lt"),
                ("less_equal", "<=", "Le"), ("equal", "==", "Eq"), ("not_equal", "!=", "Ne")]
for _name, _symbol, _sym_cls in _comparisons:
    register(
        Op(_name, broadcast, call("{0} " + _symbol + " {1}"), lambda g, y, a, b: (None, None), prec=10,
           arg_prec=(11, 11), dtype=BOOL, sympy=sym(_sym_cls),
           kind=ELEMENTWISE, scalar=SAME_TEXT, weak_scalar=True, ufunc=_name)
    )
for _name, _sym_cls, _word in [("logical_and", "And", "and"), ("logical_or", "Or", "or")]:
    register(
        Op(_name, broadcast, function_call(_name), lambda g, y, a, b: (None, None), dtype=BOOL,
           sympy=lambda a, b, _c=_sym_cls: getattr(_sympy(), _c)(a, b), kind=ELEMENTWISE, ufunc=_name,
           scalar=(call("{0} " + _word + " {1}"), 4 if _word == "and" else 3, (4, 5) if _word == "and" else (3, 4)))
    )
register(Op("logical_not", same_shape, function_call("logical_not"), lambda g, y, a: (None,), dtype=BOOL,
            sympy=lambda a: _sympy().Not(a), kind=ELEMENTWISE, scalar=(call("not {0}"), 5, (5,)), ufunc="logical_not"))
register(Op("tofloat", same_shape, lambda a, n: current_dialect().scalar(a[0]), lambda g, y, a: (None,),
            sympy=lambda a: _sympy().Piecewise((1, a), (0, True)), kind=ELEMENTWISE,
            scalar=(call("float({0})"), ATOM, (0,))))

register(
    Op("sum", reduced, reduction_printer("sum"),
       lambda g, y, x: (expand_reduced(g, x, y.attrs[0]),), arg_prec=(ATOM,), sympy=lambda a: a, kind=REDUCTION,
       strong_zeros=True)
)
register(
    Op("mean", reduced, reduction_printer("mean"), lambda g, y, x: (_mean_vjp(g, x, y.attrs[0]),), prec=14,
       arg_prec=(ATOM,), sympy=lambda a: a, kind=REDUCTION, strong_zeros=True)
)


def _mean_vjp(g: Node, x: Node, axes: tuple[int, ...]) -> Node:
    count = reduction_count(x, axes)
    if count == 0:  # x has no elements: its gradient is empty (and g / 0 would warn while building)
        return sd.zeros(x.shape)
    return expand_reduced(g / count, x, axes)


def _extreme_vjp(g: Node, y: Node, x: Node) -> tuple[Node]:
    axes = y.attrs[0]
    # Ties share the cotangent equally (DESIGN §8).
    peak = (sd.max if y.op == "max" else sd.min)(x, axis=axes, keepdims=True)
    hits = sd.tofloat(sd.equal(x, peak))
    return (expand_reduced(g, x, axes) * (hits / sd.sum(hits, axis=axes, keepdims=True)),)


def _prod_vjp(g: Node, y: Node, x: Node) -> tuple[Node]:
    """The product of the *other* entries, right when entries are 0.

    A non-zero entry gets ``y / x``, which is 0 when another entry is, and whose derivative
    by that entry is still right. A zero entry gets the product of the non-zero entries when
    it is the only zero, else 0.
    """
    axes = y.attrs[0]
    zero = sd.equal(x, 0.0)
    safe = sd.where(zero, 1.0, x)
    zeros = sd.sum(sd.tofloat(zero), axis=axes, keepdims=True)
    others = sd.prod(safe, axis=axes, keepdims=True)
    product = expand_reduced(y, x, axes)
    share = sd.where(zero, sd.where(sd.equal(zeros, 1.0), others, 0.0), product / safe)
    return (expand_reduced(g, x, axes) * share,)


for _name, _vjp in (("max", _extreme_vjp), ("min", _extreme_vjp), ("prod", _prod_vjp)):
    register(Op(_name, reduced, reduction_printer(_name), _vjp, arg_prec=(ATOM,), sympy=lambda a: a, kind=REDUCTION))

# VJPs of layout and structure ops only move or sum their cotangent: strong zeros
register(
    Op("reshape", attr_shape, reshape_printer,
       lambda g, y, x: (sd.reshape(g, x.shape),), arg_prec=(ATOM,), view=True, layout=True, zero_d=True,
       sympy=lambda a: a, kind=LAYOUT, strong_zeros=True)
)
register(
    Op("transpose", transposed, transpose_printer,
       lambda g, y, x: (sd.transpose(g, tuple(int(i) for i in np.argsort(y.attrs[0]))),), arg_prec=(ATOM,),
       view=True, layout=True, zero_d=True, sympy=lambda a: a, kind=LAYOUT, strong_zeros=True)
)
register(
    Op("broadcast_to", attr_shape,
       lambda a, n: f"{spelled('broadcast_to')}({typed(a[0], n.inputs[0])}, {shape_text(n.attrs[0])})",
       lambda g, y, x: (g,), view=True, layout=True, zero_d=True, sympy=lambda a: a, kind=LAYOUT, strong_zeros=True)
)
register(
    Op("getitem", indexed, lambda a, n: f"{a[0]}[{index_text(n.attrs[0])}]",
       lambda g, y, x: (sd.scatter(g, x.shape, y.attrs[0]),), arg_prec=(ATOM,), view=True, layout=True,
       kind=LAYOUT, strong_zeros=True)
)
register(
    Op("scatter", attr_shape, lambda a, n: "", lambda g, y, *parts: [sd.take(g, index) for index in y.attrs[1]],
       statement=scatter_statement, kind=STRUCTURE, strong_zeros=True)
)
register(
    Op("concatenate", concatenated, lambda a, n: f"{spelled('concatenate')}(({', '.join(a)}), axis={n.attrs[0]})",
       concatenate_vjp, kind=STRUCTURE, array_api="concat", strong_zeros=True)
)
register(
    Op("split", split_shapes, lambda a, n: f"{spelled('split')}({a[0]}, {list(n.attrs[0])}, axis={n.attrs[1]})",
       split_vjp, dtype=TUPLE, kind=STRUCTURE)
)
register(
    Op("item", item_shape, lambda a, n: f"{a[0]}[{n.attrs[0]}]", None, arg_prec=(ATOM,), view=True, kind=STRUCTURE)
)
register(Op("zeros", attr_shape, lambda a, n: current_dialect().zeros(shape_text(n.attrs[0])), None,
            kind=STRUCTURE))


def eye_shape(shapes: Sequence[Shape], attrs: tuple[Any, ...]) -> Shape:
    return attrs[1]  # attrs: (k, shape)


def eye_printer(a: Sequence[str], node: Node) -> str:
    k, shape = node.attrs
    square = current_dialect().eye(k)
    return square if shape == (k, k) else f"{spelled('reshape')}({square}, {shape_text(shape)})"


# the k x k identity laid out in ``shape`` (the seeds of jacobian and hessian): made at run time,
# so a large one is neither baked into the program nor held by it
register(Op("eye", eye_shape, eye_printer, lambda g, y: (), kind=STRUCTURE))
