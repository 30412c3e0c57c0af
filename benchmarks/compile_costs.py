"""What large constants and identity seeds cost a compile, and a dense Jacobian's call.

Run: python benchmarks/compile_costs.py [--repeats 5]

- ``constant``: ``sum(sin(x) * c)`` with a 1e6-element constant ``c``, against the same graph
  without it. An in-memory compile binds the array; only a module file writes it as text.
- ``jacobian``: the forward-mode Jacobian of a 3,000-output function of 1,500 inputs. Its
  identity seed (2.25 million entries) is an ``eye`` node, made by ``np.eye`` at call time.
Times are the fastest of ``--repeats`` (build, compile and call each).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import symdiff as sd


def fastest(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def constant(repeats: int) -> None:
    c = np.random.default_rng(0).standard_normal(10**6)

    def graph(with_constant: bool) -> tuple[sd.Node, sd.Node]:
        x = sd.var("x", shape=(10**6,))
        return (sd.sum(sd.sin(x) * c) if with_constant else sd.sum(sd.sin(x))), x

    with_c, x = graph(True)
    without, y = graph(False)
    seconds, _ = fastest(lambda: sd.compile(with_c, [x]), repeats)
    plain, _ = fastest(lambda: sd.compile(without, [y]), repeats)
    print(f"compile with a 1e6-element constant: {seconds * 1e3:.1f} ms; without it: {plain * 1e3:.1f} ms")


def jacobian(repeats: int) -> None:
    def build() -> tuple[sd.Node, sd.Node]:
        x = sd.var("x", shape=(1500,))
        return sd.jacobian(sd.concatenate([sd.sin(x), sd.cos(x) * x]), x), x

    built, (jac, x) = fastest(build, repeats)
    compiled, fn = fastest(lambda: sd.function([x], jac), repeats)
    x0 = np.linspace(-1.0, 1.0, 1500)
    called, _ = fastest(lambda: fn(x0), repeats)
    print(f"forward Jacobian 3000 x 1500: build {built * 1e3:.1f} ms, compile {compiled * 1e3:.1f} ms, "
          f"call {called * 1e3:.1f} ms, source {len(fn.source)} characters")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    constant(args.repeats)
    jacobian(args.repeats)


if __name__ == "__main__":
    main()
