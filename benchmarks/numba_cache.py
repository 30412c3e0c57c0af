"""numba's disk cache: the compile in a new process, with an empty folder and with a full one.

Run: python benchmarks/numba_cache.py [--rounds 3] [--out benchmarks/numba_cache.md]

Each measurement is a fresh process (this script with ``--child``), so nothing of numba is
warm: after NumPy and symdiff it times ``import numba`` alone, then ``sd.compile(..., backend="numba")`` of the
workload, then the same compile again in that process. Per workload and round: a process with
``cache=False`` (the in-memory compile), one on an empty folder (it compiles and writes the
entry) and one on the folder that left (it loads the machine code). The table gives medians.

- a 64-32-10 tanh MLP, softmax cross-entropy over a batch of 32 with one-hot targets, by the
  four parameters;
- a Lennard-Jones energy of 50 atoms by their (50, 3) positions: pairwise differences by
  broadcasting, each pair once through a constant upper-triangle mask.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np
from named_dims import arguments, report

import symdiff as sd

WORKLOADS = {"mlp": "tanh MLP 64-32-10, batch 32, cross-entropy", "lj": "Lennard-Jones energy, 50 atoms"}


def mlp() -> tuple[Any, list[Any], list[Any], list[Any]]:
    xb, yb = sd.var("xb", (32, 64)), sd.var("yb", (32, 10))
    w1, b1, w2, b2 = sd.var("w1", (64, 32)), sd.var("b1", (32,)), sd.var("w2", (32, 10)), sd.var("b2", (10,))
    logits = sd.tanh(xb @ w1 + b1) @ w2 + b2
    loss = sd.mean(sd.logsumexp(logits, axis=1) - sd.sum(yb * logits, axis=1))
    rng = np.random.default_rng(0)
    values = [rng.normal(scale=0.1, size=(64, 32)), np.zeros(32), rng.normal(scale=0.1, size=(32, 10)), np.zeros(10),
              rng.normal(size=(32, 64)), np.eye(10)[rng.integers(0, 10, size=32)]]
    return loss, [w1, b1, w2, b2], [w1, b1, w2, b2, xb, yb], values


def lennard_jones(atoms: int = 50) -> tuple[Any, list[Any], list[Any], list[Any]]:
    positions = sd.var("R", (atoms, 3))
    d = positions[:, None, :] - positions[None, :, :]
    r2 = sd.sum(d * d, axis=-1) + np.eye(atoms)  # the diagonal is no pair: 1 keeps it finite
    inv6 = 1.0 / (r2 * r2 * r2)
    energy = 4.0 * sd.sum((inv6 * inv6 - inv6) * np.triu(np.ones((atoms, atoms)), 1))
    grid = np.stack(np.meshgrid(*[np.arange(4.0)] * 3, indexing="ij"), axis=-1).reshape(-1, 3)[:atoms]
    at = 1.12 * grid + np.random.default_rng(0).normal(scale=0.05, size=(atoms, 3))
    return energy, [positions], [positions], [at]


def child(workload: str, cache: str) -> None:
    """One fresh process (NumPy and symdiff imported, numba not yet): print the timings as JSON."""
    start = time.perf_counter()
    import numba  # noqa: F401

    imported = time.perf_counter() - start
    expr, wrt, inputs, values = (mlp if workload == "mlp" else lennard_jones)()
    folder: Any = False if cache == "off" else cache
    start = time.perf_counter()
    fn = sd.compile(expr, wrt, inputs, backend="numba", cache=folder)
    compiled = time.perf_counter() - start
    start = time.perf_counter()
    value = fn(*values)[0]
    called = time.perf_counter() - start
    start = time.perf_counter()
    sd.compile(expr, wrt, inputs, backend="numba", cache=folder)
    again = time.perf_counter() - start
    print(json.dumps({"import": imported, "compile": compiled, "call": called, "again": again, "value": value}))


def measure(workload: str, cache: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--child", workload, cache], capture_output=True, text=True,
                          check=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def rows(workload: str, rounds: int) -> list[str]:
    runs: dict[str, list[dict[str, float]]] = {"in memory": [], "empty folder": [], "full folder": []}
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as folder:
            runs["in memory"].append(measure(workload, "off"))
            runs["empty folder"].append(measure(workload, folder))
            runs["full folder"].append(measure(workload, folder))
    values = {run["value"] for kind in runs.values() for run in kind}
    assert len(values) == 1, f"{workload}: the cached function computes another value: {values}"
    lines = []
    for kind, measured in runs.items():
        def median(field: str, measured: list[dict[str, float]] = measured) -> float:
            return statistics.median(run[field] for run in measured)

        lines.append(f"| {WORKLOADS[workload]} | {kind} | {median('import'):.2f} s | {median('compile'):.2f} s "
                     f"| {median('call') * 1e3:.2f} ms | {median('again'):.3f} s |")
    return lines


def main() -> None:
    args = arguments(__doc__, 3)
    lines = ["| workload | cache | import numba | compile in a new process | first call "
             "| the same compile again in that process |", "|---|---|---|---|---|---|"]
    for workload in WORKLOADS:
        lines += rows(workload, args.rounds)
    report(lines, args.out, "numba's disk cache", "numba_cache.py",
           f" Medians of {args.rounds} fresh processes per row; the cache's folder is a new temporary one per round.")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(*sys.argv[2:4])
    else:
        main()
