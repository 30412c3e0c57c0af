"""Compile time and peak memory against graph size: a chain, a wide sum, and a random DAG.

Run: python benchmarks/scaling.py [--sizes 1000 10000 100000]

For each size it builds the graph, then times ``sd.compile`` (differentiation, code
generation and Python's own ``compile``) and measures its peak traced memory with
tracemalloc, each in a fresh process so earlier graphs do not linger.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import tracemalloc

import numpy as np

import symdiff as sd


def chain(n: int) -> tuple[sd.Node, list[sd.Node], list]:
    x = sd.var("x")
    y = x
    for _ in range(n // 2):
        y = sd.sin(y) + x
    return y, [x], [0.3]


def wide_sum(n: int) -> tuple[sd.Node, list[sd.Node], list]:
    x = sd.var("x", shape=(n // 3,))
    total = x[0] ** 2
    for i in range(1, n // 3):
        total = total + x[i] ** 2
    return total, [x], [np.linspace(0, 1, n // 3)]


def random_dag(n: int, seed: int = 0) -> tuple[sd.Node, list[sd.Node], list]:
    """Each new node combines a random earlier node with a recent one; constants keep nodes distinct."""
    rng = np.random.default_rng(seed)
    xs = [sd.var(f"x{i}") for i in range(8)]
    pool = list(xs)
    unary = [sd.sin, sd.cos, sd.tanh]
    while len(pool) < n:
        a, b = pool[rng.integers(len(pool))], pool[rng.integers(max(0, len(pool) - 50), len(pool))]
        c = float(rng.uniform(0.4, 0.6))
        pick = rng.integers(3)
        pool.append(c * (a + b) if pick == 0 else a * b * c if pick == 1 else unary[rng.integers(3)](a) * c)
    total = pool[-1]
    for node in pool[-20:-1]:
        total = total + sd.tanh(node)
    return total, xs, list(np.linspace(0.1, 0.8, 8))


SHAPES = {"chain": chain, "wide_sum": wide_sum, "random_dag": random_dag}


def measure(shape: str, n: int, traced: bool) -> dict:
    """Time without tracing (tracemalloc slows Python down), or trace peak memory without timing."""
    expr, wrt, point = SHAPES[shape](n)
    nodes = len(sd.graph.toposort([expr]))
    if traced:
        tracemalloc.start()
    start = time.perf_counter()
    fn = sd.compile(expr, wrt)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if traced else 0
    tracemalloc.stop()
    value, _ = fn(*point)
    return {"shape": shape, "size": n, "nodes": nodes, "compile_s": seconds, "peak_mb": peak / 2**20,
            "finite": bool(np.isfinite(value)), "lines": fn.source.count("\n")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]), args.one[2] == "traced")))
        return
    print(f"{'graph':<11} {'size':>7} {'nodes':>7} {'compile s':>10} {'s / 1k nodes':>13} {'peak MB':>8} {'lines':>7}")
    for shape in SHAPES:
        for n in args.sizes:
            r, traced = (json.loads(subprocess.run([sys.executable, __file__, "--one", shape, str(n), mode],
                                                  capture_output=True, text=True, check=True).stdout)
                         for mode in ("timed", "traced"))
            r["peak_mb"] = traced["peak_mb"]
            per = r["compile_s"] / r["nodes"] * 1000
            print(f"{shape:<11} {n:>7} {r['nodes']:>7} {r['compile_s']:>10.2f} {per:>13.3f} {r['peak_mb']:>8.1f} "
                  f"{r['lines']:>7}")


if __name__ == "__main__":
    main()
