"""Where a fused loop starts to gain from threads: the ReLU loss (one loop, five sums) compiled
serial and parallel at growing sizes, timed alternately in one process.

    python benchmarks/parallel_threshold.py

``symdiff.numba_backend.PARALLEL_MIN`` is set from this table: the first size where the
parallel loop is clearly faster.
"""

from __future__ import annotations

import timeit
from typing import Any

import numpy as np

import symdiff as sd
from symdiff import numba_backend


def relu_loss(n: int) -> tuple[sd.Node, list[sd.Node], list[Any]]:
    w1, b1, w2, b2 = (sd.var(name) for name in ("w1", "b1", "w2", "b2"))
    x, t = sd.var("x", shape=(n,)), sd.var("t", shape=(n,))
    loss = sd.sum((t - (w2 * sd.relu(w1 * x + b1) + b2)) ** 2)
    points = np.linspace(-2, 5, n, endpoint=False)
    return loss, [w1, b1, w2, b2, x, t], [1.0, 1.0, 1.0, 1.0, points, 5 * np.maximum(0, 2 * points - 1) + 1]


def best(fn: Any, args: list[Any]) -> float:
    number = max(1, 20_000 // max(1, len(args[-1]) // 100))
    return min(timeit.repeat(lambda: fn(*args), number=number, repeat=7)) / number


def main() -> None:
    saved = numba_backend.PARALLEL_MIN
    print("| elements | serial µs | parallel µs | parallel / serial |")
    print("|---|---|---|---|")
    try:
        for n in (1_000, 4_000, 16_000, 32_768, 65_536, 262_144, 1_000_000):
            loss, inputs, args = relu_loss(n)
            numba_backend.PARALLEL_MIN = 1 << 62
            serial = sd.compile(loss, inputs[:4], inputs, backend="numba")
            numba_backend.PARALLEL_MIN = 1
            parallel = sd.compile(loss, inputs[:4], inputs, backend="numba")
            s, p = best(serial, args), best(parallel, args)
            print(f"| {n} | {s * 1e6:.1f} | {p * 1e6:.1f} | {p / s:.2f} |", flush=True)
    finally:
        numba_backend.PARALLEL_MIN = saved


if __name__ == "__main__":
    main()
