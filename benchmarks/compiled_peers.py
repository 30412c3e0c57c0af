"""Compiled peers: SymEngine's LLVM Lambdify, PyTensor's numba mode and CasADi's SX functions.

Each builder returns a function with the hand-written sweep's results, or raises Skip. All
three are optional (``pip install -e ".[bench]"``). Each gets the workloads the way its users
write them: SymEngine and CasADi over scalar symbols, PyTensor over tensors.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from peers import Skip

SQRT2 = math.sqrt(2.0)


def _kind(workload: Any) -> str:
    return workload.id.split()[0]


def _helmholtz_scalar(lib: Any, xs: list[Any], n: int) -> Any:
    from workloads import helmholtz_data

    _, A, b = helmholtz_data(n)
    s = sum(float(b[i]) * xs[i] for i in range(n))
    quad = sum(float(A[i, j]) * xs[i] * xs[j] for i in range(n) for j in range(n))
    ratio = (1.0 + (1.0 + SQRT2) * s) / (1.0 + (1.0 - SQRT2) * s)
    return sum(x * lib.log(x / (1.0 - s)) for x in xs) - quad / (math.sqrt(8.0) * s) * lib.log(ratio)


def symengine_peer(workload: Any) -> Callable[..., Any]:
    try:
        import symengine as se
    except ImportError:
        raise Skip("symengine is not installed") from None
    kind = _kind(workload)
    if kind == "W1a":
        x1, x2 = se.symbols("x1 x2")
        f = se.log(x1) + x1 * x2 - se.sin(x2)
        call = se.Lambdify([x1, x2], [f, f.diff(x1), f.diff(x2)], cse=True, backend="llvm")

        def baydin(a: float, b: float) -> Any:
            v, g1, g2 = call(a, b)
            return float(v), (float(g1), float(g2))

        return baydin
    if kind.startswith("W4"):
        n = workload.args[0].size
        xs = list(se.symbols(f"x0:{n}"))
        f = _helmholtz_scalar(se, xs, n)
        call = se.Lambdify(xs, [f, *(f.diff(x) for x in xs)], cse=True, backend="llvm")

        def energy(x: np.ndarray) -> Any:
            out = call(x)
            return float(out[0]), (np.asarray(out[1:]),)

        return energy
    raise Skip("scalar-symbol workloads only")


def casadi_peer(workload: Any) -> Callable[..., Any]:
    try:
        import casadi as ca
    except ImportError:
        raise Skip("casadi is not installed") from None
    kind = _kind(workload)
    if kind == "W1a":
        x = ca.SX.sym("x", 2)
        f = ca.log(x[0]) + x[0] * x[1] - ca.sin(x[1])
        fn = ca.Function("f", [x], [f, ca.gradient(f, x)])

        def baydin(a: float, b: float) -> Any:
            v, g = fn([a, b])
            g = np.asarray(g).ravel()
            return float(v), (float(g[0]), float(g[1]))

        return baydin
    if kind.startswith("W4"):
        n = workload.args[0].size
        x = ca.SX.sym("x", n)
        f = _helmholtz_scalar(ca, [x[i] for i in range(n)], n)
        fn = ca.Function("f", [x], [f, ca.gradient(f, x)])

        def energy(v: np.ndarray) -> Any:
            value, g = fn(v)
            return float(value), (np.asarray(g).ravel(),)

        return energy
    raise Skip("scalar-symbol workloads only")


def pytensor_peer(workload: Any) -> Callable[..., Any]:
    try:
        import pytensor
        import pytensor.tensor as pt
    except ImportError:
        raise Skip("pytensor is not installed") from None
    kind = _kind(workload)
    if kind == "W1b":
        a, b = pt.dvector("a"), pt.dvector("b")
        f = pt.sum(pt.log(a) + a * b - pt.sin(b))
        inputs, wrt = [a, b], [a, b]
    elif kind == "W3":
        W1, W2, X, Y = pt.dmatrix("W1"), pt.dmatrix("W2"), pt.dmatrix("X"), pt.dmatrix("Y")
        b1, b2 = pt.dvector("b1"), pt.dvector("b2")
        f = pt.mean((pt.tanh(X @ W1 + b1) @ W2 + b2 - Y) ** 2)
        inputs, wrt = [W1, b1, W2, b2, X, Y], [W1, b1, W2, b2]
    elif kind.startswith("W4"):
        from workloads import helmholtz_data

        _, A, bv = helmholtz_data(workload.args[0].size)
        x = pt.dvector("x")
        s = pt.dot(pt.constant(bv), x)
        ratio = (1.0 + (1.0 + SQRT2) * s) / (1.0 + (1.0 - SQRT2) * s)
        f = pt.sum(x * pt.log(x / (1.0 - s))) - pt.dot(x, pt.dot(pt.constant(A), x)) / (math.sqrt(8.0) * s) * pt.log(
            ratio)
        inputs, wrt = [x], [x]
    else:
        raise Skip("scalar inputs: PyTensor's numba mode fails on them (n/a in the issue's table)")
    fn = pytensor.function(inputs, [f, *pytensor.grad(f, wrt)], mode="NUMBA")

    def run(*args: Any) -> Any:
        value, *grads = fn(*args)
        return float(value), tuple(grads)

    return run
