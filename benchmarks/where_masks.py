"""What the where-branch strong zeros cost per call, against the same code without them and
against the fastest hand-written NumPy, in one run.

Run: python benchmarks/where_masks.py [--repeats 7]

Each workload is compiled twice: as shipped, and with the reverse pass's masks switched off
(the guard's safe inputs stay). The hand-written sweeps compute the same value and gradient
with one ``np.where`` per branch, reusing the forward temporaries.
"""

from __future__ import annotations

import argparse
import functools
import timeit
from collections.abc import Callable
from typing import Any
from unittest import mock

import numpy as np

import symdiff as sd
from symdiff.guard import Guarded


def cube(n: int) -> tuple[sd.Node, sd.Node, Callable[[np.ndarray], Any]]:
    """where(x < 1, x**3 * s, -x): the branch's adjoint leaves it twice (x*x*x)."""
    x = sd.var("x", shape=(n,))
    expr = sd.sum(sd.where(x < 1.0, x * x * x, -x))

    def hand(v: np.ndarray) -> Any:
        inside = v < 1.0  # one mask, the square reused by value and gradient
        square = v * v
        return np.where(inside, square * v, -v).sum(), np.where(inside, 3.0 * square, -1.0)

    return expr, x, hand


def guarded_log(n: int) -> tuple[sd.Node, sd.Node, Callable[[np.ndarray], Any]]:
    """where(x > 0, log(x), 0): the guard's own where masks; no extra strong zero."""
    x = sd.var("x", shape=(n,))
    expr = sd.sum(sd.where(x > 0.0, sd.log(x), 0.0))

    def hand(v: np.ndarray) -> Any:
        inside = v > 0.0
        safe = np.where(inside, v, 1.0)
        return np.where(inside, np.log(safe), 0.0).sum(), np.where(inside, 1.0 / safe, 0.0)

    return expr, x, hand


def best(fn: Callable[[], Any], repeats: int) -> float:
    number = max(1, int(0.05 / max(timeit.timeit(fn, number=1), 1e-7)))
    return min(timeit.repeat(fn, number=number, repeat=repeats)) / number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print("| workload | n | hand | symdiff | without masks | masks cost |")
    print("|---|---|---|---|---|---|")
    for make in (cube, guarded_log):
        for n in (70, 1_000_000):
            expr, x, hand = make(n)
            point = np.linspace(-2.0, 2.0, n)
            shipped = sd.compile(expr, [x])
            with mock.patch.object(Guarded, "contribution", lambda self, node, child, part, strong: (part, True)), \
                    mock.patch.object(Guarded, "cotangent", lambda self, node, g, strong: (g, True)):
                bare = sd.compile(expr, [x])
            np.testing.assert_allclose(shipped(point)[1][0], hand(point)[1])
            t_hand, t_sd, t_bare = (best(functools.partial(fn, point), args.repeats) for fn in (hand, shipped, bare))
            print(f"| {make.__name__} | {n:,} | {t_hand * 1e6:.1f} µs | {t_sd / t_hand:.2f}x | "
                  f"{t_bare / t_hand:.2f}x | {(t_sd - t_bare) / t_bare:+.0%} |")


if __name__ == "__main__":
    main()
