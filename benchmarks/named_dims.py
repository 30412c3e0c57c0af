"""Named dimensions: what one function for every size costs against one function per size.

Run: python benchmarks/named_dims.py [--rounds 31] [--out benchmarks/named_dims.md]

- Seed 004's ReLU regression compiled once with ``x`` and ``t`` of shape ``("n",)``, against the
  fixed-shape function compiled for each n, at n = 70 and n = 1e6, on the NumPy and numba
  backends. Paired, interleaved timing: each round times a block of calls of each function, in
  alternating order, and the ratio of the two blocks is one sample; the table gives the median
  ratio with a 95% confidence interval (order statistics of the rounds).
- numba's JIT: the first call at each size, for the named function and for the fixed-shape ones.
- A minibatch epoch of an MLP with a partial last batch: compiles, and the epoch's time against
  a hand-written NumPy forward and backward sweep of the same loss.
"""

from __future__ import annotations

import argparse
import functools
import math
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import symdiff as sd
from symdiff.gallery import relu_regression

WARM_UP = 0.05  # seconds of untimed calls before each block: BLAS workers and caches settle


def block_calls(fn: Callable[[], Any], seconds: float) -> int:
    """How many calls fill about ``seconds``."""
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        spent = time.perf_counter() - start
        if spent > seconds / 4 or calls > 10**6:
            return max(1, int(calls * seconds / max(spent, 1e-9)))
        calls *= 4


def timed_block(fn: Callable[[], Any], calls: int) -> float:
    settled = time.perf_counter() + WARM_UP
    while time.perf_counter() < settled:
        fn()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def median_interval(samples: list[float]) -> tuple[float, float, float]:
    """The median and a distribution-free 95% interval for it: the order statistics whose ranks
    the binomial(n, 1/2) distribution puts 2.5% beyond on each side."""
    ordered, n = sorted(samples), len(samples)
    cumulative, low = 0.0, 0
    for k in range(n + 1):
        cumulative += math.comb(n, k) / 2**n
        if cumulative > 0.025:
            low = max(k - 1, 0)
            break
    return statistics.median(ordered), ordered[low], ordered[n - 1 - low]


def paired_ratio(first: Callable[[], Any], second: Callable[[], Any], rounds: int) -> tuple[float, float, float]:
    """Median of time(first) / time(second) over interleaved rounds, with its interval."""
    calls = block_calls(second, 0.02)
    ratios = []
    for r in range(rounds):
        if r % 2:
            b = timed_block(second, calls)
            a = timed_block(first, calls)
        else:
            a = timed_block(first, calls)
            b = timed_block(second, calls)
        ratios.append(a / b)
    return median_interval(ratios)


def arguments(doc: str, rounds: int) -> argparse.Namespace:
    """``--rounds`` and ``--out``, the options every benchmark script here takes."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--out", type=Path, default=None)
    return parser.parse_args()


def report(lines: list[str], out: Path | None, title: str, script: str, about: str = "") -> None:
    """Print the table, and write it to ``out`` (a section RESULTS.md takes in) when given."""
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if out is not None:
        out.write_text(f"# {title}\n\nWritten by `python benchmarks/{script} --out {out}` in one run on this "
                       f"machine.{about}\n\n" + text, encoding="utf-8")


def relu_rows(backend: str, rounds: int) -> list[str]:
    rng = np.random.default_rng(0)
    generic = relu_regression("n")
    start = time.perf_counter()
    named = sd.compile(generic.expr, generic.wrt, generic.inputs, backend=backend)
    params = (0.5, 0.1, -1.2, 0.3)
    rows = []
    jit = []
    for n in (70, 10**6):
        x, t = rng.normal(size=n), rng.normal(size=n)
        first_call = time.perf_counter()
        named(*params, x, t)
        if n == 70:
            jit.append(f"named: compile + first call {time.perf_counter() - start:.2f} s")
        else:
            jit.append(f"named: first call at n = 1e6 {time.perf_counter() - first_call:.2f} s "
                       "(compiles the parallel kernel, once for every long size)")
        example = relu_regression(n)
        fixed_start = time.perf_counter()
        fixed = sd.compile(example.expr, example.wrt, example.inputs, backend=backend)
        fixed(*params, x, t)
        jit.append(f"fixed n = {n:.0e}: compile + first call {time.perf_counter() - fixed_start:.2f} s")
        call_named, call_fixed = functools.partial(named, *params, x, t), functools.partial(fixed, *params, x, t)
        got, want = call_named(), call_fixed()
        assert abs(got[0] - want[0]) <= 1e-12 * abs(want[0]) and np.allclose(got[1], want[1], rtol=1e-10)
        median, low, high = paired_ratio(call_named, call_fixed, rounds)
        call = timed_block(call_fixed, block_calls(call_fixed, 0.05))
        rows.append(f"| ReLU regression, n = {n:.0e} | {backend} | {median:.3f}x | [{low:.3f}, {high:.3f}] "
                    f"| {call * 1e6:.1f} µs |")
    if backend == "numba":
        rows.append(f"| numba JIT | numba | {'; '.join(jit)} | | |")
    return rows


def mlp(batch: Any) -> tuple[sd.Node, list[sd.Node], list[sd.Node]]:
    """Softmax cross-entropy of a 64-64-10 tanh MLP over a minibatch, one-hot targets (numba has
    no integer-array gather)."""
    xb, yb = sd.var("xb", (batch, 64)), sd.var("yb", (batch, 10))
    w1, b1, w2, b2 = sd.var("w1", (64, 64)), sd.var("b1", (64,)), sd.var("w2", (64, 10)), sd.var("b2", (10,))
    logits = sd.tanh(xb @ w1 + b1) @ w2 + b2
    loss = sd.mean(sd.logsumexp(logits, axis=1) - sd.sum(yb * logits, axis=1))
    return loss, [w1, b1, w2, b2], [w1, b1, w2, b2, xb, yb]


def hand_step(w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray, x: np.ndarray,
              y: np.ndarray) -> tuple[float, tuple[np.ndarray, ...]]:
    """The fastest plain NumPy sweep: one softmax, its row shift reused, updated in place."""
    h = np.tanh(x @ w1 + b1)
    z = h @ w2 + b2
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    total = e.sum(axis=1, keepdims=True)
    n = len(y)
    loss = float(np.mean(np.log(total[:, 0]) - np.einsum("ij,ij->i", y, z)))
    e /= total
    e -= y
    e /= n
    dh = e @ w2.T
    dh *= 1.0 - h * h
    return loss, (x.T @ dh, dh.sum(axis=0), h.T @ e, e.sum(axis=0))


def epoch_rows(backend: str, rounds: int) -> list[str]:
    rng = np.random.default_rng(1)
    rows_total, size = 10_000, 256  # 39 batches of 256 and one of 16
    data_x, data_y = rng.normal(size=(rows_total, 64)), np.eye(10)[rng.integers(0, 10, size=rows_total)]
    params = [rng.normal(scale=0.1, size=(64, 64)), np.zeros(64), rng.normal(scale=0.1, size=(64, 10)), np.zeros(10)]
    batches = [(data_x[s:s + size], data_y[s:s + size]) for s in range(0, rows_total, size)]
    start = time.perf_counter()
    loss, wrt, inputs = mlp("batch")
    step = sd.compile(loss, wrt, inputs, backend=backend)
    step(*params, *batches[0])
    named_compile = time.perf_counter() - start
    start = time.perf_counter()
    fixed = {}
    for n in sorted({len(b[1]) for b in batches}):
        loss_n, wrt_n, inputs_n = mlp(n)
        fixed[n] = sd.compile(loss_n, wrt_n, inputs_n, backend=backend)
        fixed[n](*params, *batches[-1 if n != size else 0])
    fixed_compile = time.perf_counter() - start
    for xb, yb in (batches[0], batches[-1]):
        got, want = step(*params, xb, yb), hand_step(*params, xb, yb)
        assert abs(got[0] - want[0]) <= 1e-10
        assert all(np.allclose(g, h, atol=1e-12) for g, h in zip(got[1], want[1], strict=True))

    def epoch(run: Callable[..., Any]) -> Callable[[], None]:
        return lambda: [run(*params, xb, yb) for xb, yb in batches] and None

    def fixed_step(*args: Any) -> Any:
        return fixed[len(args[-1])](*args)

    few = max(rounds // 3, 9)
    median, low, high = paired_ratio(epoch(step), epoch(fixed_step), few)
    to_hand, hand_low, hand_high = paired_ratio(epoch(step), epoch(hand_step), few)
    hand = timed_block(epoch(hand_step), 3)
    return [f"| MLP epoch, 40 batches, last of 16 | {backend} | {median:.3f}x | [{low:.3f}, {high:.3f}] "
            f"| {to_hand:.2f}x hand NumPy [{hand_low:.2f}, {hand_high:.2f}], hand {hand * 1e3:.1f} ms; "
            f"compiles: named 1 ({named_compile:.2f} s), fixed shapes {len(fixed)} ({fixed_compile:.2f} s) |"]


def main() -> None:
    args = arguments(__doc__, 31)
    backends = ["numpy"]
    try:
        import numba  # noqa: F401  (imported before timing: its import alone takes about 0.5 s)

        backends.append("numba")
    except ImportError:
        pass
    lines = ["| workload | backend | named / fixed (median) | 95% interval | notes |", "|---|---|---|---|---|"]
    for backend in backends:
        lines += relu_rows(backend, args.rounds)
    for backend in backends:
        lines += epoch_rows(backend, args.rounds)
    report(lines, args.out, "Named dimensions", "named_dims.py")


if __name__ == "__main__":
    main()
