"""Value + gradient per call: symdiff against hand-written NumPy and the peers, in one run.

Run: python benchmarks/run.py [--quick] [--runs 3] [--sympy-limit 300] [--sympy-w4b-limit 400]
     [--output benchmarks/RESULTS.md]

Systems are timed round-robin, repeat after repeat, rotating which goes first; each repeat
follows 0.15 s of untimed calls and is calibrated to about 0.1 s of calls, and the median
over the repeats is reported as a ratio to the hand-written forward + reverse sweep of the
same run. Every system's value and
gradients are checked against the hand-written result before timing.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import compiled_peers
import frameworks
import peers
import workloads

import symdiff as sd
from symdiff.compiler import prepare
from symdiff.graph import toposort

NUMBA_TARGETS = {"W1a": 0.45, "W1b": 0.45, "W2a": 0.3, "W2b": 0.2, "W3": 1.0, "W4a": 0.15, "W4b": 0.5}
PEERS = ["sympy", "jax", "torch", "symengine", "pytensor", "casadi"]
TARGETS = {"W1a": 0.6, "W1b": 1.02, "W2a": 1.0, "W2b": 1.0, "W3": 1.05, "W4a": 1.0, "W4b": 1.0,
           "W5 prod_sin n=100": 1.2}


def calibrate(fn: Callable[..., Any], args: list[Any], seconds: float = 0.1) -> int:
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            fn(*args)
        spent = time.perf_counter() - start
        if spent > seconds / 5 or calls > 10**6:
            return max(1, int(calls * seconds / max(spent, 1e-9)))
        calls *= 4


# OpenBLAS's idle workers spin for 2^28 cycles (~0.1 s) after a call, so whatever runs next
# shares the cores with them: numba's parallel W2b loop took 3.2 ms right after the hand-written
# sweep's np.dot instead of 1.4 ms. Each system runs this long untimed before each timed repeat.
WARM_UP = 0.15


def time_round_robin(systems: dict[str, Callable[..., Any]], args: list[Any], repeats: int) -> dict[str, float]:
    calls = {name: calibrate(fn, args) for name, fn in systems.items()}
    samples: dict[str, list[float]] = {name: [] for name in systems}
    names = list(systems)
    for r in range(repeats):
        for name in names[r % len(names):] + names[: r % len(names)]:
            fn, n = systems[name], calls[name]
            settled = time.perf_counter() + WARM_UP
            while time.perf_counter() < settled:
                fn(*args)
            start = time.perf_counter()
            for _ in range(n):
                fn(*args)
            samples[name].append((time.perf_counter() - start) / n)
    return {name: statistics.median(s) for name, s in samples.items()}


def agrees(result: Any, reference: Any) -> bool:
    value, grads = result
    ref_value, ref_grads = reference
    if not np.allclose(value, ref_value, rtol=1e-8, atol=1e-10):
        return False
    return all(np.allclose(np.asarray(g), np.asarray(h), rtol=1e-7, atol=1e-9)
               for g, h in zip(grads, ref_grads, strict=True))


def generated_ops(expr: sd.Node, wrt: list[sd.Node]) -> int:
    """Operations in the printed graph: after differentiation and the compile-time rewrites."""
    prepared = prepare(sd.as_node(expr), wrt)
    return sum(1 for n in toposort([prepared.value, *prepared.grads]) if n.inputs)


def peak_memory(fn: Callable[..., Any], args: list[Any]) -> float:
    """Peak bytes NumPy and Python allocate during one call (tracemalloc), above what was live before."""
    fn(*args)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    return peak


def run_workload(w: workloads.Workload, repeats: int, sympy_limit: float, runs: int,
                 w4b_limit: float = 0.0) -> dict[str, Any]:
    """Compile every system once, check it, then time ``runs`` independent round-robin sessions."""
    row: dict[str, Any] = {"id": w.id, "what": w.what, "compile": {}, "notes": [], "ratio": {}}
    start = time.perf_counter()
    fn = sd.compile(w.expr, w.wrt, w.inputs)
    row["compile"]["symdiff"] = time.perf_counter() - start
    row["ops"] = generated_ops(w.expr, w.wrt)
    systems: dict[str, Callable[..., Any]] = {"hand": w.hand, "symdiff": fn, "value": w.value}
    try:
        start = time.perf_counter()
        systems["numba"] = sd.compile(w.expr, w.wrt, w.inputs, backend="numba")
        row["compile"]["numba"] = time.perf_counter() - start  # numba compiles eagerly, for the argument types
    except sd.UnsupportedError as reason:
        row["notes"].append(f"numba: {reason}")
    try:
        start = time.perf_counter()
        # W4b's SymPy compile is the figure the SymPy import is measured against: give it time
        limit = max(sympy_limit, w4b_limit) if w.id == "W4b" else sympy_limit
        systems["sympy"] = peers.sympy_peer(w, limit)
        row["compile"]["sympy"] = time.perf_counter() - start
    except peers.Skip as reason:
        row["notes"].append(f"sympy: {reason}")
    for name, make in (("jax", frameworks.jax_peer), ("torch", frameworks.torch_peer),
                       ("symengine", compiled_peers.symengine_peer), ("pytensor", compiled_peers.pytensor_peer),
                       ("casadi", compiled_peers.casadi_peer)):
        try:
            start = time.perf_counter()
            systems[name] = make(w)
            systems[name](*w.args)  # JAX traces and compiles on the first call
            row["compile"][name] = time.perf_counter() - start
        except peers.Skip as reason:
            if name in ("jax", "torch") or "not installed" in str(reason):
                row["notes"].append(f"{name}: {reason}")
        except Exception as error:  # a peer that fails on a workload is reported, not fatal
            first = (str(error).splitlines() or [""])[0][:100]
            row["notes"].append(f"{name}: failed ({type(error).__name__}: {first})")
    reference = w.hand(*w.args)
    for name in [n for n in systems if n not in ("hand", "value")]:
        check = getattr(systems[name], "as_numpy", systems[name])
        if not agrees(check(*w.args), reference):
            row["notes"].append(f"{name}: results differ from the hand-written ones; not timed")
            del systems[name]
    if w.id == "W1b":
        row["memory"] = {name: peak_memory(systems[name], w.args) for name in ("hand", "symdiff", "numba", "value")
                         if name in systems}
    sessions = [time_round_robin(systems, w.args, repeats) for _ in range(runs)]
    row["hand_us"] = statistics.median(s["hand"] for s in sessions) * 1e6
    row["runs"] = [{name: t / s["hand"] for name, t in s.items() if name != "hand"} for s in sessions]
    row["ratio"] = {name: statistics.median(r[name] for r in row["runs"]) for name in row["runs"][0]}
    return row


def compile_scaling() -> list[tuple[str, int, float]]:
    rows = []
    cases = [*(workloads.helmholtz(n) for n in (10, 30, 100, 300)),
             *(workloads.prod_sin(n) for n in (10, 30, 100)), *(workloads.nested_chain(k) for k in (10, 30, 100))]
    for w in cases:
        start = time.perf_counter()
        sd.compile(w.expr, w.wrt, w.inputs)
        rows.append((w.id, generated_ops(w.expr, w.wrt), time.perf_counter() - start))
    for n in (10_000, 100_000):
        # fresh processes: the peers' imports would otherwise make every garbage collection slower;
        # the median of three, since one compile is one sample of a noisy machine
        found = [subprocess.run([sys.executable, __file__, "--chain", str(n)], capture_output=True, text=True,
                                check=True).stdout.split() for _ in range(3)]
        rows.append((f"chain of {n:.0e} sin", int(found[0][0]), statistics.median(float(f[1]) for f in found)))
    return rows


def hessian_check(n: int = 100) -> dict[str, float]:
    """Compile the Helmholtz Hessian and compare it with central differences of the compiled gradient."""
    w = workloads.helmholtz(n)
    (x,) = w.wrt
    start = time.perf_counter()
    fn = sd.function([x], sd.hessian(w.expr, x))
    seconds = time.perf_counter() - start
    gradient = sd.compile(w.expr, w.wrt, w.inputs)
    (x0,) = w.args
    hessian = fn(x0)
    eps = 1e-6
    columns = [(gradient(x0 + eps * e)[1][0] - gradient(x0 - eps * e)[1][0]) / (2 * eps) for e in np.eye(n)]
    error = float(np.abs(hessian - np.array(columns).T).max() / np.abs(hessian).max())
    calls = calibrate(fn, [x0])
    start = time.perf_counter()
    for _ in range(calls):
        fn(x0)
    per_call = (time.perf_counter() - start) / calls
    return {"n": n, "compile_s": seconds, "relative_error": error, "call_us": per_call * 1e6}


def sympy_import(n: int = 100) -> dict[str, float]:
    """Helmholtz built in SymPy over n scalar symbols, then ``from_sympy`` + ``compile``, timed apart."""
    import sympy

    x0, A, b = workloads.helmholtz_data(n)
    start = time.perf_counter()
    xs = sympy.symbols(f"x0:{n}", real=True)
    bx = sympy.Add(*[sympy.Float(b[i]) * xs[i] for i in range(n)])
    quadratic = sympy.Add(*[sympy.Float(A[i, j]) * xs[i] * xs[j] for i in range(n) for j in range(n)])
    ratio = (1 + (1 + sympy.sqrt(2)) * bx) / (1 + (1 - sympy.sqrt(2)) * bx)
    energy = sympy.Add(*[xs[i] * sympy.log(xs[i] / (1 - bx)) for i in range(n)]) \
        - quadratic / (sympy.sqrt(8) * bx) * sympy.log(ratio)
    built = time.perf_counter()
    variables = [sd.var(f"x{i}") for i in range(n)]
    graph = sd.from_sympy(energy, dict(zip(xs, variables, strict=True)))
    converted = time.perf_counter()
    fn = sd.compile(graph, variables)
    compiled = time.perf_counter()
    value, grads = fn(*x0)
    ref_value, (ref_grad,) = workloads.helmholtz(n).hand(x0)
    error = max(abs(float(value) - ref_value), float(np.abs(np.array(grads) - ref_grad).max()))
    return {"n": n, "build_s": built - start, "from_sympy_s": converted - built, "compile_s": compiled - converted,
            "error": error}


def chain_compile(n: int) -> None:
    """Print the generated-op count and compile time of a chain of ``n`` sines."""
    x = sd.var("x")
    y = x
    for _ in range(n):
        y = sd.sin(y)
    start = time.perf_counter()
    sd.compile(y, [x])
    seconds = time.perf_counter() - start
    print(generated_ops(y, [x]), seconds)


def fmt(ratio: float | None) -> str:
    return "–" if ratio is None else f"{ratio:.2f}x"


def report(rows: list[dict[str, Any]], runs: int, scaling: list[tuple[str, int, float]], command: str,
           hessian: dict[str, float], imported: dict[str, float]) -> str:
    systems = ["symdiff", "numba", "value", *PEERS]
    lines = [
        "# Benchmark results",
        "",
        f"Command: `{command}`, {runs} timing session(s) per workload, {datetime.date.today().isoformat()}.",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; "
        f"Python {platform.python_version()}, NumPy {np.__version__}, symdiff {sd.__version__}"
        + _sympy_version() + ".",
        "",
        "Each cell is the median time per value-and-gradient call as a ratio to the hand-written NumPy "
        "forward + reverse sweep of the same session (lower is better); with several sessions, the median of "
        "their ratios. `value` is the hand-written forward pass alone. Run-to-run noise on this shared "
        "2-core machine is 15-25%, so a target counts as met when the median over three runs meets it. "
        f"SymPy's lambdify needed the recursion limit raised to {peers.RECURSION_LIMIT}. "
        f"JAX: {_version('jax')}, `jax.jit(jax.value_and_grad(...))` in float64 with `block_until_ready`; "
        f"PyTorch: {_version('torch')}, eager float64 with `torch.autograd.grad`. "
        "`numba` is symdiff's `backend=\"numba\"` (numba "
        f"{_version('numba')}). SymEngine {_version('symengine')}: `diff` + `Lambdify(cse=True, "
        f"backend=\"llvm\")` over scalar symbols (W1a, W4). PyTensor {_version('pytensor')}: "
        "`pytensor.function` of `pytensor.grad` in `mode=\"NUMBA\"` (tensor workloads W1b, W3, W4; it fails "
        f"on scalar inputs). CasADi {_version('casadi')}: an SX `Function` of `gradient` (W1a, W4). "
        "A dash means the system did not run this workload (see notes). Before each timed repeat a system "
        f"runs untimed for {WARM_UP} s: OpenBLAS's idle workers spin for about 0.1 s after each call, and "
        "took a core from numba's parallel loops whenever they ran right after the hand-written sweep's "
        "`np.dot` (W2b: 3.2 ms instead of 1.4 ms).",
        "",
        "| workload | hand µs | symdiff | target | met | numba | target | met | value | "
        + " | ".join(PEERS) + " | notes |",
        "|---|---|---|---|---|---|---|---|---|" + "---|" * len(PEERS) + "---|",
    ]
    for row in rows:
        median = {s: row["ratio"].get(s) for s in systems}
        target = TARGETS.get(row["id"])
        met = "" if target is None or median["symdiff"] is None else ("yes" if median["symdiff"] <= target else "no")
        goal = NUMBA_TARGETS.get(row["id"])
        reached = "" if goal is None or median["numba"] is None else ("yes" if median["numba"] <= goal else "no")
        hand = row["hand_us"]
        lines.append(f"| {row['id']} | {hand:.1f} | {fmt(median['symdiff'])} | "
                     f"{'' if target is None else f'≤ {target}x'} | {met} | {fmt(median['numba'])} | "
                     f"{'' if goal is None else f'≤ {goal}x'} | {reached} | {fmt(median['value'])} | "
                     + " | ".join(fmt(median[p]) for p in PEERS) + f" | {'; '.join(row['notes'])} |")
    compiled = ["sympy", "jax", "symengine", "pytensor", "casadi"]
    lines += ["", "## Compile time (s)", "",
              "`numba` is symdiff's whole compile with the numba backend, most of it numba's JIT, paid once per "
              "process; a module written by `symdiff generate --backend numba` compiles with `cache=True`, so "
              "the next import loads the machine code from `__pycache__` instead. JAX: trace + first call.", "",
              "| workload | symdiff | numba | " + " | ".join(compiled) + " | generated ops |",
              "|---|---|---|" + "---|" * len(compiled) + "---|"]
    for row in rows:
        took = {k: "–" if row["compile"].get(k) is None else f"{row['compile'][k]:.3f}" for k in ["numba", *compiled]}
        lines.append(f"| {row['id']} | {row['compile']['symdiff']:.3f} | {took['numba']} | "
                     + " | ".join(took[k] for k in compiled) + f" | {row['ops']} |")
    lines += ["", "## Compile scaling", "", "| graph | generated ops | symdiff compile s |", "|---|---|---|"]
    lines += [f"| {name} | {ops} | {seconds:.3f} |" for name, ops, seconds in scaling]
    chains = [seconds for name, _, seconds in scaling if name.startswith("chain of")]
    lines += ["", f"Ten times the chain's nodes cost {chains[1] / chains[0]:.1f} times the compile time "
              "(each chain compiled in three fresh processes; the median)."]
    lines += ["", "## Hessian", "",
              f"`sd.hessian` of the Helmholtz energy at n = {hessian['n']}: compiled with `sd.function` in "
              f"{hessian['compile_s']:.3f} s; {hessian['call_us']:.0f} µs per call; largest difference from "
              "central differences of the compiled gradient, relative to the largest entry: "
              f"{hessian['relative_error']:.1e}."]
    w4b = next((row for row in rows if row["id"] == "W4b"), None)
    own = "–" if w4b is None else (f"{w4b['compile']['sympy']:.1f} s" if "sympy" in w4b["compile"] else
                                   "; ".join(n for n in w4b["notes"] if n.startswith("sympy")) or "–")
    lines += ["", "## SymPy import", "",
              f"Helmholtz at n = {imported['n']} built in SymPy over scalar symbols (x·A·x as a "
              f"{imported['n'] ** 2}-term sum) in {imported['build_s']:.1f} s; `sd.from_sympy` "
              f"{imported['from_sympy_s']:.2f} s + `sd.compile` {imported['compile_s']:.2f} s = "
              f"{imported['from_sympy_s'] + imported['compile_s']:.2f} s (largest difference from the "
              f"hand-written sweep {imported['error']:.1e}). SymPy's own `diff` + `lambdify` of W4b in this "
              f"run: {own}."]
    memory = next((row["memory"] for row in rows if "memory" in row), None)
    if memory is not None:
        lines += ["", "## Memory", "",
                  "Peak memory allocated during one W1b call (tracemalloc), in MB and as a ratio to the "
                  "hand-written sweep:", "", "| system | peak MB | ratio |", "|---|---|---|"]
        lines += [f"| {name} | {peak / 2**20:.1f} | {peak / memory['hand']:.2f}x |" for name, peak in memory.items()]
    return "\n".join(lines) + "\n" + other_sections()


# tables the other benchmark scripts write beside this one (from their own last run), kept in RESULTS.md
OTHER_SECTIONS = ("named_dims.md", "sparse.md", "loops.md")


def other_sections() -> str:
    parts = []
    for name in OTHER_SECTIONS:
        path = Path(__file__).resolve().parent / name
        if path.exists():
            parts.append("\n#" + path.read_text(encoding="utf-8"))  # its "# Title" becomes a section
    return "".join(parts)


def _version(module: str) -> str:
    try:
        return str(__import__(module).__version__)
    except ImportError:
        return "not installed"


def _sympy_version() -> str:
    try:
        import sympy
    except ImportError:
        return ""
    return f", SymPy {sympy.__version__}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1e5-element arrays instead of 1e6, 5 repeats")
    parser.add_argument("--runs", type=int, default=3, help="timing sessions per workload; the table shows the median")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--sympy-limit", type=float, default=300.0, help="seconds allowed for each SymPy compile")
    parser.add_argument("--sympy-w4b-limit", type=float, default=400.0,
                        help="seconds allowed for SymPy's compile of W4b, the SymPy-import reference")
    parser.add_argument("--output", default=str(Path(__file__).resolve().parent / "RESULTS.md"))
    parser.add_argument("--chain", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.chain:
        chain_compile(args.chain)
        return
    repeats = 5 if args.quick else max(7, args.repeats)
    rows = []
    for w in workloads.all_workloads(quick=args.quick):
        row = run_workload(w, repeats, args.sympy_limit, args.runs, args.sympy_w4b_limit)
        ratios = ", ".join(f"{k} {v:.2f}x" for k, v in row["ratio"].items())
        print(f"{row['id']:<20} hand {row['hand_us']:10.1f} us  {ratios}  {'; '.join(row['notes'])}", flush=True)
        rows.append(row)
    scaling = compile_scaling()
    hessian = hessian_check()
    imported = sympy_import()
    print(f"SymPy import n=100: from_sympy {imported['from_sympy_s']:.2f} s, compile {imported['compile_s']:.2f} s")
    print(f"Helmholtz Hessian n=100: compile {hessian['compile_s']:.3f} s, relative error "
          f"{hessian['relative_error']:.1e}")
    command = "python benchmarks/run.py " + " ".join(sys.argv[1:])
    Path(args.output).write_text(report(rows, args.runs, scaling, command.strip(), hessian, imported), encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
