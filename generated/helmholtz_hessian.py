"""Helmholtz energy (n = 10), its gradient and its Hessian

Written by symdiff; regenerate with `symdiff regenerate`. Imports only numpy and math.
"""

from __future__ import annotations

import numpy as np


class ArgumentError(TypeError, ValueError):
    """A wrong number, type or shape of arguments."""


def _array_arg(value, name: str, shape: tuple, dtype=np.float64, dims=None):
    """Accept real arrays of ``shape`` as ``dtype`` (ints are cast); reject the rest.

    ``shape`` holds None on an axis whose named dimension this argument binds; ``dims`` names
    each named axis's dimension and the argument that binds it."""
    try:
        array = np.asarray(value)
    except Exception as error:
        raise ArgumentError(f"argument {name!r}: cannot be read as an array ({error})") from None
    if array.dtype.kind not in "iuf":
        raise ArgumentError(f"argument {name!r}: expected a real array of shape {_shape_text(shape, dims)}, "
                            f"got dtype {array.dtype}")
    problem = _shape_problem(name, array.shape, shape, dims)
    if problem:
        raise ArgumentError(problem)
    return np.ascontiguousarray(array, dtype=dtype)


def _shape_text(shape: tuple, dims) -> str:
    """The expected shape as the user declared it: names where dimensions are named."""
    parts = [str(d[0]) if dims is not None and d is not None else str(size)
             for size, d in zip(shape, dims if dims is not None else [None] * len(shape), strict=True)]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def _shape_problem(name: str, got: tuple, shape: tuple, dims):
    """Why ``got`` does not fit ``shape`` (None if it does), naming the dimension and where it was bound."""
    expected = _shape_text(shape, dims)
    if len(got) != len(shape):
        return f"argument {name!r}: expected shape {expected}, got shape {got}"
    first: dict = {}
    for axis, (size, want) in enumerate(zip(got, shape, strict=True)):
        dim = dims[axis] if dims is not None else None
        if want is None:  # this argument binds the dimension: its other axes of that name must agree
            label = dim[0] if dim is not None else axis
            if label in first and got[first[label]] != size:
                other = first[label]
                return (f"argument {name!r}: dimension {label} is {got[other]} on axis {other} but {size} on "
                        f"axis {axis}, in shape {got} (expected {expected})")
            first.setdefault(label, axis)
        elif size != want:
            if dim is None:
                return f"argument {name!r}: expected shape {expected}, got shape {got}"
            where = f"argument {dim[1]!r}" if dim[1] is not None else "the other arguments"
            return (f"argument {name!r}: dimension {dim[0]} is {size} here (axis {axis} of shape {got}), but "
                    f"{want} in {where}")
    return None


C0 = np.array([0.011386057812474312, 0.032865276244523414, 0.08122302450369563, 0.11891984453423916, 0.16064767647433517, 0.15418231629712872, 0.14116132067446105, 0.00937787491768685, 0.17368485875381975, 0.10930532420984491])
C1 = np.array([0.124531325560856, -0.5039770711229308, -0.3654617616657625, 0.5615374085411632, 0.12473414965611729, -0.19503858564404908, 0.4714504348952733, -0.27492338862168864, 0.3735081762751248, -0.37224291153120437, -0.5039770711229308, 0.022131947139154118, 0.7756590831888727, 0.3892808808752767, -0.22542277850306958, 0.10542312273781096, 0.4082530291447256, -0.010091158014036261, -0.4469228121311981, -0.5931530752571922, -0.3654617616657625, 0.7756590831888727, 0.3596229229691672, 0.678592449421016, 0.5421704162986931, 0.010347914937975045, 0.2669747884882724, 0.5206104531574973, 0.18051098397130416, 0.051513842649523855, 0.5615374085411632, 0.3892808808752767, 0.678592449421016, -0.003887890165504171, 0.5277013365222532, -0.5483417702393717, 0.09729500180672968, 0.0007882484490142616, -0.8502830084184311, -0.6759632645397358, 0.12473414965611729, -0.22542277850306958, 0.5421704162986931, 0.5277013365222532, -0.22980973103836688, -0.006410481457355566, 0.2093341477836479, -0.22128559225431366, -0.203210357221571, 0.10580292205269182, -0.19503858564404908, 0.10542312273781096, 0.010347914937975045, -0.5483417702393717, -0.006410481457355566, 0.665993928376841, -0.394037390460379, -0.25278913478549303, -0.14546236965389236, 0.5821423665816389, 0.4714504348952733, 0.4082530291447256, 0.2669747884882724, 0.09729500180672968, 0.2093341477836479, -0.394037390460379, 0.9295236177507094, -0.7635685875942995, 0.2125079252040325, -0.38546845566623233, -0.27492338862168864, -0.010091158014036261, 0.5206104531574973, 0.0007882484490142616, -0.22128559225431366, -0.25278913478549303, -0.7635685875942995, 0.6549338859561558, -0.8828469412094541, -0.7334851020702015, 0.3735081762751248, -0.4469228121311981, 0.18051098397130416, -0.8502830084184311, -0.203210357221571, -0.14546236965389236, 0.2125079252040325, -0.8828469412094541, -0.7040742394195629, -0.2270902909956859, -0.37224291153120437, -0.5931530752571922, 0.051513842649523855, -0.6759632645397358, 0.10580292205269182, 0.5821423665816389, -0.38546845566623233, -0.7334851020702015, -0.2270902909956859, 0.541320458967959]).reshape((10, 10))
C2 = np.array([0.011386057812474312, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.032865276244523414, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.08122302450369563, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.11891984453423916, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.16064767647433517, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.15418231629712872, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.14116132067446105, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.00937787491768685, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.17368485875381975, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.10930532420984491]).reshape((10, 10))
C3 = np.array([1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]).reshape((10, 10))

def helmholtz_hessian(x):
    """3 output(s) computed together; common subexpressions are computed once.
    Built by transformations:
        hessian (10, 10) by 'x': forward over reverse, identity-seeded
    Compile-time rewrites (rewrites=False turns them off):
        1 x sum(a*b) of vectors as a dot product
        2 x product with an identity matrix dropped
        1 x product with a rank-one matrix as a vector product
        1 x matrix product distributed over a sum
        1 x symmetric constant matrix product turned to reuse a forward product
        2 x scalar factor moved out of a matrix product
        1 x a + a as 2.0 * a
        24 x scalar factors multiplied before the array
        18 x negation merged into an addition or product

        # 150 nodes (ops: add, div, log, matmul, mul, neg, reshape, sub, sum, transpose)
        C0 = np.array([0.011386057812474312, 0.032865276244523414, 0.08122302450369563, 0.11891984453423916, 0.16064767647433517, 0.15418231629712872, 0.14116132067446105, 0.00937787491768685, 0.17368485875381975, 0.10930532420984491])
        # C1: a float64 array of shape (10, 10)
        # C2: a float64 array of shape (10, 10)
        # C3: a float64 array of shape (10, 10)
        t0 = C0.dot(x)
        t1 = 1.0 - t0
        ... (31 more statements)
        t31 = ((t23 * t14 - t30 * t8) / t7 - t15 / t7 * -0.41421356237309515 * t22) * -0.41421356237309515
        t32 = t31 - (((t26 * t18).sum(axis=1) + (-t28 * t2).sum(axis=1)) / t1 - (t25 * t19).sum(axis=1))
        t33 = ((t6 * -t21 * t23 + t29 * t9) / t5 - t17 / t5 * 2.8284271247461903 * t22) * 2.8284271247461903
        t34 = (t32 + (t30 / t7 - t16 / t7 * -0.41421356237309515 * t22) * 2.414213562373095 + t33).reshape((10, 1))
        out2 = (t24 - t25 * t12 + C1 * t10 + (t24 + t10 * C1) + t27 + t28 / t1 + t34 * C0).T

    Returns (out0, out1, out2).

    Inputs (label -> parameter, shape):
        x -> x, (10,)

    Conventions:
        maximum/minimum ties split the gradient 1/2 : 1/2; relu'(0) = 0; abs'(0) = 0;
        max reductions share the gradient equally among tied elements;
        where-branches are guarded: the untaken branch adds no NaN or inf to a gradient;
        scalars are numpy.float64 (IEEE: 1/0 is inf, log(-1) is nan, with NumPy's warnings).
        Exact rewrites at construction: x*1, x/1, x**1, x+(-0.0), x-0.0, --x, folding of + - * / and integer powers.
    """
    if type(x) is not np.ndarray or x.dtype != np.float64 or x.shape != (10,):
        x = _array_arg(x, 'x', (10,))
    t0 = C0.dot(x)
    t1 = 1.0 - t0
    t2 = x / t1
    t3 = np.log(t2)
    t4 = x.dot(C1)
    t5 = 2.8284271247461903 * t0
    t6 = t4.dot(x) / t5
    t7 = 1.0 + -0.41421356237309515 * t0
    t8 = (1.0 + 2.414213562373095 * t0) / t7
    t9 = np.log(t8)
    out0 = x.dot(t3) - t6 * t9
    t10 = -t9 / t5
    t11 = x / t2
    t12 = t11 / t1
    t13 = -t6 / t8
    t14 = -t13
    t15 = t14 * t8 / t7
    t16 = t13 / t7
    t17 = t9 * t6 / t5
    t18 = -t11
    t19 = t18 * t2 / t1
    t20 = t15 * -0.41421356237309515 + t16 * 2.414213562373095 + t17 * 2.8284271247461903 - t19.sum()
    out1 = 2.0 * t10 * t4 + t3 + t12 + t20 * C0
    t21 = -1.0 / t8
    t22 = C2.sum(axis=1)
    t23 = t22 * 2.414213562373095 / t7 - t8 / t7 * -0.41421356237309515 * t22
    t24 = (t21 * t23 / t5 - t10 / t5 * 2.8284271247461903 * t22).reshape((10, 1)) * t4
    t25 = (-t22 / t1).reshape((10, 1))
    t26 = C3 / t1 - t25 * t2
    t27 = t26 / t2
    t28 = C3 / t2 - t27 * t11
    t29 = ((C1 * x).sum(axis=1) + (C3 * t4).sum(axis=1)) / t5 - t6 / t5 * 2.8284271247461903 * t22
    t30 = -t29 / t8 - t13 / t8 * t23
    t31 = ((t23 * t14 - t30 * t8) / t7 - t15 / t7 * -0.41421356237309515 * t22) * -0.41421356237309515
    t32 = t31 - (((t26 * t18).sum(axis=1) + (-t28 * t2).sum(axis=1)) / t1 - (t25 * t19).sum(axis=1))
    t33 = ((t6 * -t21 * t23 + t29 * t9) / t5 - t17 / t5 * 2.8284271247461903 * t22) * 2.8284271247461903
    t34 = (t32 + (t30 / t7 - t16 / t7 * -0.41421356237309515 * t22) * 2.414213562373095 + t33).reshape((10, 1))
    out2 = (t24 - t25 * t12 + C1 * t10 + (t24 + t10 * C1) + t27 + t28 / t1 + t34 * C0).T
    return (out0, out1, out2)
