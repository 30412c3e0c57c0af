"""The op table: one entry per built-in op, with its VJP, printers, SymPy form and facts.

Per entry: kind, spelling (NumPy printer; plain-float ``scalar`` form; ``array_api`` name where
the standard renames it), VJP, SymPy form, test domain, guard, folding and fusion facts.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff import batch as batching
from symdiff.dialect import current as current_dialect
from symdiff.dims import slice_requirements
from symdiff.graph import (
    BOOL,
    TUPLE,
    Node,
    Shape,
)
from symdiff.ops import (
    ELEMENTWISE,
    LAYOUT,
    PRODUCT,
    REDUCTION,
    SAME_TEXT,
    STEPS,
    STRUCTURE,
    Op,
    Vjp,
    _piecewise,
    _sympy,
    _truth,
    attr_shape,
    broadcast,
    concatenated,
    indexed,
    item_shape,
    matmul_shape,
    nonempty_reduction,
    reduced,
    register,
    same_shape,
    scattered,
    split_shapes,
    transposed,
)
from symdiff.printers import (
    ATOM,
    Printer,
    call,
    function_call,
    index_text,
    math_form,
    matmul_printer,
    power_printer,
    reduction_count,
    reduction_printer,
    reshape_printer,
    scalar_power,
    scalar_square,
    scatter_statement,
    shape_text,
    spelled,
    transpose_printer,
    typed,
    where_printer,
)
from symdiff.sparsity_rules import matmul_rule, scatter_rule

# ---- VJP helpers -----------------------------------------------------------------------


def expand_reduced(g: Node, x: Node, axes: tuple[int, ...]) -> Node:
    """Broadcast a reduction's cotangent back over the reduced axes of ``x``."""
    if g.shape == ():
        return sd.broadcast_to(g, x.shape)
    kept = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    return sd.broadcast_to(sd.reshape(g, kept), x.shape)


def kept_value(y: Node, x: Node, axes: tuple[int, ...]) -> Node:
    """A reduction's own value with its axes kept, as a reshape of it: ``sd.reshape`` would
    make a keepdims reduction of ``x``, computed a second time beside ``y``."""
    kept = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    return y if y.shape == kept else sd.apply("reshape", [y], (kept,))


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
    # d/db a**b = a**b log(a), which is 0 * -inf at a = 0: there a**b is 0 (b > 0) or constant
    # (b = 0) on the side where it is defined, so its derivative is 0: log(1) stands in for log(0)
    gb = None if b.op == "const" else g * (out * sd.log(sd.where(sd.equal(a, 0.0), 1.0, a)))
    return ga, gb


def split_vjp(gs: Sequence[Node | None], out: Node, x: Node) -> tuple[Node]:
    axis = out.attrs[1]
    parts = [sd.zeros(shape) if gi is None else gi for gi, shape in zip(gs, out.shape, strict=True)]
    return (sd.concatenate(parts, axis=axis),)


def concatenate_vjp(g: Node, out: Node, *xs: Node) -> list[Node]:
    axis = out.attrs[0]
    cuts = list(itertools.accumulate(x.shape[axis] for x in xs))[:-1]  # ints or named sizes
    return list(sd.split(g, cuts, axis=axis)) if len(xs) > 1 else [g]


def index_requirements(node: Node) -> list[tuple[Any, int, str]]:
    """A slice or an index of a named axis needs the axis long enough to mean what it says."""
    found = []
    for dim, item in zip(node.inputs[0].shape, node.attrs[0], strict=False):
        for size, least in slice_requirements(item, dim):
            found.append((size, least, f"x[{index_text(node.attrs[0])}] on an axis of size {dim}"))
    return found


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
unary("sign", lambda g, y, x: (None,), lambda a: _piecewise((1, a > 0), (-1, a < 0), (0, True)), ((0.2, 2.0),),
      convention=STEPS)

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
       kind=PRODUCT, ufunc="matmul", batch=batching.matmul_rule, sparsity=matmul_rule)
)
register(
    Op("where", broadcast, where_printer,
       lambda g, y, c, a, b: (None, sd.where(c, g, 0.0), sd.where(c, 0.0, g)),
       sympy=lambda c, a, b: _sympy().Piecewise((a, _truth(c)), (b, True)), zero_d=True, kind=ELEMENTWISE,
       scalar=(call("{1} if {0} else {2}"), 1, (2, 2, 1)), strong_zeros=True, weak_scalar=True,
       numpy_functions=("where",), fold=np.where)
)

_comparisons = [("greater", ">", "Gt"), ("greater_equal", ">=", "Ge"), ("less", "<", "Lt"),
                ("less_equal", "<=", "Le"), ("equal", "==", "Eq"), ("not_equal", "!=", "Ne")]
for _name, _symbol, _sym_cls in _comparisons:
    register(
        Op(_name, broadcast, call("{0} " + _symbol + " {1}"), lambda g, y, a, b: (None, None), prec=10,
           arg_prec=(11, 11), dtype=BOOL, sympy=sym(_sym_cls),
           kind=ELEMENTWISE, scalar=SAME_TEXT, weak_scalar=True, ufunc=_name, fold=getattr(np, _name))
    )
for _name, _sym_cls, _word in [("logical_and", "And", "and"), ("logical_or", "Or", "or")]:
    register(
        Op(_name, broadcast, function_call(_name), lambda g, y, a, b: (None, None), dtype=BOOL,
           sympy=lambda a, b, _c=_sym_cls: getattr(_sympy(), _c)(a, b), kind=ELEMENTWISE, ufunc=_name,
           fold=getattr(np, _name),
           scalar=(call("{0} " + _word + " {1}"), 4 if _word == "and" else 3, (4, 5) if _word == "and" else (3, 4)))
    )
register(Op("logical_not", same_shape, function_call("logical_not"), lambda g, y, a: (None,), dtype=BOOL,
            sympy=lambda a: _sympy().Not(a), kind=ELEMENTWISE, scalar=(call("not {0}"), 5, (5,)), ufunc="logical_not",
            fold=np.logical_not))
register(Op("tofloat", same_shape, lambda a, n: current_dialect().scalar(a[0]), lambda g, y, a: (None,),
            sympy=lambda a: _sympy().Piecewise((1, a), (0, True)), kind=ELEMENTWISE,
            scalar=(call("float({0})"), ATOM, (0,)), reads_integers=True, fold=np.positive))

register(
    Op("sum", reduced, reduction_printer("sum"),
       lambda g, y, x: (expand_reduced(g, x, y.attrs[0]),), arg_prec=(ATOM,), sympy=lambda a: a, kind=REDUCTION,
       numpy_functions=("sum",),
       strong_zeros=True)
)
register(
    Op("mean", reduced, reduction_printer("mean"), lambda g, y, x: (_mean_vjp(g, x, y.attrs[0]),), prec=14,
       arg_prec=(ATOM,), sympy=lambda a: a, kind=REDUCTION, strong_zeros=True, numpy_functions=("mean",))
)


def _mean_vjp(g: Node, x: Node, axes: tuple[int, ...]) -> Node:
    count = reduction_count(x, axes)
    if count == 0:  # x has no elements: its gradient is empty (and g / 0 would warn while building)
        return sd.zeros(x.shape)
    return expand_reduced(g / count, x, axes)


def _extreme_vjp(g: Node, y: Node, x: Node) -> tuple[Node]:
    axes = y.attrs[0]
    # Ties share the cotangent equally (DESIGN §8).
    peak = kept_value(y, x, axes)
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
    product = sd.broadcast_to(kept_value(y, x, axes), x.shape)
    share = sd.where(zero, sd.where(sd.equal(zeros, 1.0), others, 0.0), product / safe)
    return (expand_reduced(g, x, axes) * share,)


for _name, _vjp in (("max", _extreme_vjp), ("min", _extreme_vjp), ("prod", _prod_vjp)):
    register(Op(_name, reduced, reduction_printer(_name), _vjp, arg_prec=(ATOM,), sympy=lambda a: a, kind=REDUCTION,
                numpy_functions=(_name, "a" + _name) if _name in ("max", "min") else (_name,),
                requires=nonempty_reduction if _name in ("max", "min") else None))

# VJPs of layout and structure ops only move or sum their cotangent: strong zeros
register(
    Op("reshape", attr_shape, reshape_printer,
       lambda g, y, x: (sd.reshape(g, x.shape),), arg_prec=(ATOM,), view=True, layout=True, zero_d=True,
       sympy=lambda a: a, kind=LAYOUT, strong_zeros=True, batch=batching.reshape_rule, numpy_functions=("reshape",))
)
register(
    Op("transpose", transposed, transpose_printer,
       lambda g, y, x: (sd.transpose(g, tuple(int(i) for i in np.argsort(y.attrs[0]))),), arg_prec=(ATOM,),
       view=True, layout=True, zero_d=True, sympy=lambda a: a, kind=LAYOUT, strong_zeros=True,
       batch=batching.transpose_rule, numpy_functions=("transpose",))
)
register(
    Op("broadcast_to", attr_shape,
       lambda a, n: f"{spelled('broadcast_to')}({typed(a[0], n.inputs[0])}, {shape_text(n.attrs[0])})",
       lambda g, y, x: (g,), view=True, layout=True, zero_d=True, sympy=lambda a: a, kind=LAYOUT, strong_zeros=True,
       batch=batching.broadcast_to_rule, numpy_functions=("broadcast_to",))
)
register(
    Op("getitem", indexed, lambda a, n: f"{a[0]}[{index_text(n.attrs[0])}]",
       lambda g, y, x: (sd.scatter(g, x.shape, y.attrs[0]),), arg_prec=(ATOM,), view=True, layout=True,
       kind=LAYOUT, strong_zeros=True, batch=batching.getitem_rule, requires=lambda n: index_requirements(n))
)
register(
    Op("scatter", scattered, lambda a, n: "", lambda g, y, *parts: [sd.take(g, index) for index in y.attrs[1]],
       statement=scatter_statement, kind=STRUCTURE, strong_zeros=True, batch=batching.scatter_rule,
       sparsity=scatter_rule)
)
register(
    Op("concatenate", concatenated, lambda a, n: f"{spelled('concatenate')}(({', '.join(a)}), axis={n.attrs[0]})",
       concatenate_vjp, kind=STRUCTURE, array_api="concat", strong_zeros=True, batch=batching.concatenate_rule,
       numpy_functions=("concatenate",))
)
register(
    Op("split", split_shapes, lambda a, n: f"{spelled('split')}({a[0]}, {list(n.attrs[0])}, axis={n.attrs[1]})",
       split_vjp, dtype=TUPLE, kind=STRUCTURE, batch=batching.split_rule, numpy_functions=("split",))
)
register(
    Op("item", item_shape, lambda a, n: f"{a[0]}[{n.attrs[0]}]", None, arg_prec=(ATOM,), view=True, kind=STRUCTURE,
       batch=batching.item_rule)
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


def dimsize_printer(a: Sequence[str], node: Node) -> str:
    return current_dialect().size(str(node.attrs[0]))


# a named dimension's size as a float scalar (a mean's count): the names are bound when the function runs
register(Op("dimsize", lambda shapes, attrs: (), dimsize_printer, lambda g, y: (), kind=STRUCTURE))


# integer-array indexing, argmax and argmin: their ops build on the table above
from symdiff import gather, integers, selection  # noqa: E402, F401
