"""Peers for the benchmark: SymPy (diff + lambdify with cse). Each builder returns a function
with the hand-written function's signature and results, or raises Skip with the reason.

SymPy gets the elementwise or scalar form of each workload, the way a SymPy user writes it:
array workloads are lambdified per element and summed, Helmholtz is written over n scalar
symbols (x.A.x as an n*n-term sum).
"""

from __future__ import annotations

import gc
import signal
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

RECURSION_LIMIT = 20_000  # lambdify's compile() of the n = 100 Helmholtz gradient needs it


class Skip(Exception):
    """This peer cannot run this workload here; the message says why."""


def _with_time_limit(seconds: float, build: Callable[[], Any]) -> Any:
    def expire(signum: int, frame: Any) -> None:
        raise Skip(f"compile exceeded the {seconds:.0f} s limit")

    previous = signal.signal(signal.SIGALRM, expire)
    collecting = gc.isenabled()
    gc.disable()  # an alarm raised inside a GC callback (JAX registers one) would be swallowed
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return build()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if collecting:
            gc.enable()


def sympy_peer(workload: Any, time_limit: float) -> Callable[..., Any]:
    import sympy

    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    kind = workload.id.split()[0]
    if kind in ("W1a", "W5"):
        return _with_time_limit(time_limit, lambda: _scalar_graph(sympy, workload))
    if kind == "W1b":
        return _with_time_limit(time_limit, lambda: _elementwise(
            sympy, lambda x1, x2: sympy.log(x1) + x1 * x2 - sympy.sin(x2), 2))
    if kind in ("W2a", "W2b"):
        return _with_time_limit(time_limit, lambda: _relu(sympy))
    if kind in ("W4a", "W4b", "W4"):
        return _with_time_limit(time_limit, lambda: _helmholtz(sympy, workload))
    raise Skip("no SymPy form (matrix products of 256x784 arrays)")


def _scalar_graph(sympy: Any, workload: Any) -> Callable[..., Any]:
    from symdiff import to_sympy

    symbols = {v: sympy.Symbol(f"s{i}", real=True) for i, v in enumerate(workload.inputs)}
    f = to_sympy(workload.expr, symbols)
    args = list(symbols.values())
    lam = sympy.lambdify(args, [f, *(sympy.diff(f, s) for s in args)], "numpy", cse=True)

    def run(*x: float) -> Any:
        out = lam(*x)
        return out[0], tuple(out[1:])

    return run


def _elementwise(sympy: Any, f: Callable[..., Any], arity: int) -> Callable[..., Any]:
    symbols = sympy.symbols(f"a0:{arity}", real=True)
    expr = f(*symbols)
    lam = sympy.lambdify(symbols, [expr, *(sympy.diff(expr, s) for s in symbols)], "numpy", cse=True)

    def run(*x: np.ndarray) -> Any:
        out = lam(*x)
        return np.sum(out[0]), tuple(out[1:])

    return run


def _relu(sympy: Any) -> Callable[..., Any]:
    w1, b1, w2, b2, x, t = sympy.symbols("w1 b1 w2 b2 x t", real=True)
    r2 = (t - (w2 * sympy.Max(w1 * x + b1, 0) + b2)) ** 2
    weights = [w1, b1, w2, b2]
    lam = sympy.lambdify([*weights, x, t], [r2, *(sympy.diff(r2, w) for w in weights)], "numpy", cse=True)

    def run(w1: float, b1: float, w2: float, b2: float, x: np.ndarray, t: np.ndarray) -> Any:
        out = lam(w1, b1, w2, b2, x, t)
        return np.sum(out[0]), tuple(float(np.sum(g)) for g in out[1:])

    return run


def _helmholtz(sympy: Any, workload: Any) -> Callable[..., Any]:
    from workloads import helmholtz_data

    n = workload.args[0].size
    _, A, b = helmholtz_data(n)
    xs = sympy.symbols(f"x0:{n}", real=True)
    bx = sum(sympy.Float(b[i]) * xs[i] for i in range(n))
    xAx = sum(sympy.Float(A[i, j]) * xs[i] * xs[j] for i in range(n) for j in range(n))
    s2 = sympy.sqrt(2)
    f = sum(x * sympy.log(x / (1 - bx)) for x in xs) - xAx / (sympy.sqrt(8) * bx) * sympy.log(
        (1 + (1 + s2) * bx) / (1 + (1 - s2) * bx))
    lam = sympy.lambdify(xs, [f, *(sympy.diff(f, x) for x in xs)], "numpy", cse=True)

    def run(x: np.ndarray) -> Any:
        out = lam(*x)
        return out[0], (np.array(out[1:], dtype=np.float64),)

    return run
