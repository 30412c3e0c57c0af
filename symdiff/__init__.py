"""symdiff: symbolic reverse-mode differentiation that writes plain NumPy code.

Build an expression from variables and NumPy-named functions, then compile it::

    import symdiff as sd
    x1, x2 = sd.var("x1"), sd.var("x2")
    fn = sd.compile(sd.log(x1) + x1 * x2 - sd.sin(x2), wrt=[x1, x2])
    value, (g1, g2) = fn(2.0, 5.0)
    print(fn.source)
"""

from symdiff import (  # reachable as sd.linalg, sd.special, sd.testing (as in NumPy)
    complex_parts,
    elementwise,
    layout,
    linalg,
    products,
    special,
    statistics,
    testing,
)
from symdiff.api import (
    abs,
    absolute,
    add,
    arccos,
    arcsin,
    arcsinh,
    arctan,
    as_node,
    broadcast_to,
    concatenate,
    cos,
    cosh,
    describe,
    divide,
    equal,
    exp,
    expand_dims,
    expm1,
    greater,
    greater_equal,
    less,
    less_equal,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    multiply,
    negative,
    not_equal,
    power,
    prod,
    ravel,
    relu,
    reshape,
    sign,
    sin,
    sinh,
    split,
    sqrt,
    square,
    squeeze,
    subtract,
    sum,
    sum_to,
    tan,
    tanh,
    tofloat,
    transpose,
    var,
    where,
)
from symdiff.compiler import compile, evaluate
from symdiff.complex_parts import *  # noqa: F403
from symdiff.compose import clip, outer, select, stack
from symdiff.define import define_op
from symdiff.differences import gradient, linspace
from symdiff.elementwise import *  # noqa: F403  (each module lists its builders in __all__)
from symdiff.errors import (
    ArgumentError,
    EmitError,
    GradientError,
    GraphError,
    NoVJPError,
    OpDefinitionError,
    ShapeError,
    SymdiffError,
    UnsupportedAttributeError,
    UnsupportedError,
)
from symdiff.from_sympy import from_sympy
from symdiff.gather import take, take_along_axis
from symdiff.graph import Node
from symdiff.integers import argmax, argmin, astype
from symdiff.layout import *  # noqa: F403
from symdiff.losses import logaddexp, logsumexp, sigmoid, softplus
from symdiff.pickled import dumps, loads
from symdiff.products import *  # noqa: F403
from symdiff.scan import fori_loop, scan
from symdiff.scipy_constraint import scipy_constraint
from symdiff.scipy_objective import scipy_objective
from symdiff.selection import count_nonzero, partition
from symdiff.sparse import hessian_sparsity, sparse_hessian, sparse_jacobian, sparsity
from symdiff.statistics import *  # noqa: F403
from symdiff.sympy_bridge import to_sympy
from symdiff.transforms import function, grad, hessian, hvp, jacobian, jvp, pullback, vjp

__version__ = "0.1.0"

__all__ = [
    "ArgumentError", "EmitError", "GradientError", "GraphError", "NoVJPError", "Node", "OpDefinitionError",
    "ShapeError", "SymdiffError", "UnsupportedAttributeError", "UnsupportedError", "abs", "absolute", "add",
    "arccos", "arcsin", "arcsinh",
    "arctan", "as_node", "broadcast_to", "clip", "compile", "concatenate", "cos", "cosh", "define_op", "describe",
    "divide", "dumps", "equal", "evaluate", "exp", "expand_dims", "expm1", "from_sympy",
    "function", "grad", "greater", "greater_equal", "hessian", "hvp", "jacobian", "jvp", "less", "less_equal",
    "loads", "log", "log1p", "logaddexp", "logical_and", "logical_not", "logical_or", "logsumexp", "matmul", "max",
    "maximum", "mean", "min", "minimum", "multiply", "negative", "not_equal", "outer", "power", "prod", "pullback",
    "ravel", "relu", "reshape", "scipy_objective", "sigmoid", "sign", "sin", "sinh", "softplus", "special", "split",
    "sqrt", "square", "squeeze", "stack", "subtract", "sum", "sum_to", "tan", "tanh", "testing", "to_sympy",
    "tofloat", "transpose", "var", "vjp", "where", "linalg", "argmax", "argmin", "astype", "take",
    "gradient", "linspace", "count_nonzero", "partition", "select",
    "take_along_axis", "sparsity", "hessian_sparsity", "sparse_jacobian", "sparse_hessian",
    "scipy_constraint", "scan", "fori_loop",
    *complex_parts.__all__, *elementwise.__all__, *layout.__all__, *products.__all__, *statistics.__all__,
]
