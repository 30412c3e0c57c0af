"""How much of autograd's public NumPy gradient test suite symdiff passes, call by call.

Usage::

    python benchmarks/numpy_suite.py AUTOGRAD_TESTS_DIR [--files test_numpy.py ...] [--json out.json]

``AUTOGRAD_TESTS_DIR`` is the ``tests`` folder of an autograd source release, read at run time.
Stand-in ``autograd`` modules are installed first: ``autograd.numpy`` is NumPy (symdiff takes
``np.f(node)`` through NumPy's dispatch), ``autograd.scipy.*`` is SciPy, ``grad`` and kin are symdiff's.
Measured unit: one ``check_grads(fun)(*args)`` call. Each float argument, or float entry of a list/tuple
argument (of ``argnum`` when the test names it), becomes an ``sd.var``; the rest are constants. The
outputs, reduced with fixed random weights ``sd.sum(out * W)``, are compiled by ``sd.compile``; the
outputs are compared with plain NumPy/SciPy, the gradients with central differences of the plain
function (step 1e-6 * max(1, |x|); rtol 1e-4, atol 1e-6 or the rounding floor), and with ``order=2``
the gradient of ``sum(grad * V)`` with central differences of the compiled gradient.

A call is ``pass``, ``wrong`` (a number or shape disagrees), ``refused`` (a ``SymdiffError``),
``crash`` (another exception on symdiff's side) or ``harness`` (complex numbers, no float argument,
the plain call fails). A test raising outside ``check_grads`` (autograd-only API, fixture) is a
harness test. Pass rate = pass / (pass + wrong + refused + crash).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import itertools
import json
import re
import signal
import sys
import types
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.stats
from _pytest.outcomes import OutcomeException  # what pytest.fail/raises raise; not an Exception

import symdiff as sd

DEFAULT_FILES = ["test_numpy.py", "test_systematic.py", "test_scalar_ops.py", "test_binary_ops.py",
                 "test_linalg.py", "test_scipy.py", "test_logic.py", "test_truediv.py"]
STATUSES = ("pass", "wrong", "refused", "crash", "harness")
RTOL, ATOL, STEP = 1e-4, 1e-6, 1e-6
ROUNDING = 100 * np.finfo(np.float64).eps  # relative error allowed in each plain evaluation
CALL_SECONDS = 60
CALLS: list[dict[str, Any]] = []
FAILED_TESTS: list[dict[str, Any]] = []
WHERE = {"file": "", "test": ""}
Leaf = tuple[int, int | None]  # (argument, entry of a list/tuple argument or None)


class HarnessError(Exception):
    """Something the stand-in modules cannot express; not symdiff's doing."""


class Wrong(Exception):
    """A value, gradient or shape disagrees with plain NumPy."""


def _text(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


def _kind(value: Any) -> str:
    """NumPy's dtype kind of a float or complex number or array ("f", "c"); "" for anything else."""
    if isinstance(value, (float, complex, np.floating, np.complexfloating, np.ndarray)):
        return np.asarray(value).dtype.kind
    return "c" if isinstance(value, (list, tuple)) and any(_kind(v) == "c" for v in value) else ""


def _leaves(args: Sequence[Any], chosen: Sequence[int]) -> list[Leaf]:
    leaves: list[Leaf] = []
    for i in (i for i in chosen if i < len(args)):
        if _kind(args[i]) == "f":
            leaves.append((i, None))
        elif isinstance(args[i], (list, tuple)) and args[i] and all(_kind(e) == "f" for e in args[i]):
            leaves.extend((i, j) for j in range(len(args[i])))
    return leaves


def _substitute(args: Sequence[Any], leaves: list[Leaf], values: Sequence[Any]) -> list[Any]:
    new = list(args)
    for (i, j), v in zip(leaves, values, strict=True):
        new[i] = v if j is None else type(args[i])([*new[i][:j], v, *new[i][j + 1:]])
    return new


def _flat(out: Any) -> list[Any]:
    return [leaf for item in out for leaf in _flat(item)] if isinstance(out, (tuple, list)) else [out]


def _close(what: str, got: Any, want: Any, atol: float = ATOL) -> None:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        raise Wrong(f"{what}: shape {got.shape}, expected {want.shape}")
    bad = ~np.isclose(got, want, rtol=RTOL, atol=atol, equal_nan=True)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise Wrong(f"{what}: {got.flat[j]:.8g} where {want.flat[j]:.8g} is expected (entry {j}, {bad.sum()} bad)")


def _central(f: Callable[[list[np.ndarray]], float], points: list[np.ndarray], k: int) -> tuple[np.ndarray, float]:
    """Central differences of scalar ``f`` by ``points[k]``, and the absolute tolerance they allow."""
    x, out = points[k], np.empty(points[k].shape)
    steps = STEP * np.maximum(1.0, np.abs(x))
    for j in range(x.size):
        up, down = x.copy(), x.copy()
        up.flat[j] += steps.flat[j]
        down.flat[j] -= steps.flat[j]
        difference = f([*points[:k], up, *points[k + 1:]]) - f([*points[:k], down, *points[k + 1:]])
        out.flat[j] = difference / (up.flat[j] - down.flat[j])
    scale = abs(f(points)) if x.size else 0.0
    return out, max(ATOL, ROUNDING * scale / float(np.min(steps, initial=STEP)))


def _measure(fun: Callable[..., Any], argnum: Any, order: int, args: tuple[Any, ...],
             kwargs: dict[str, Any], stage: list[str]) -> None:
    """Returns on a pass; raises ``Wrong``, ``HarnessError``, a symdiff error or anything else."""
    chosen = range(len(args)) if argnum is None else [argnum] if isinstance(argnum, int) else list(argnum)
    if any(_kind(a) == "c" for a in [*args, *kwargs.values()]):
        raise HarnessError("complex argument")
    leaves = _leaves(args, chosen)
    if not leaves:
        raise HarnessError("no float argument to differentiate")
    try:
        ref = _flat(fun(*args, **kwargs))
    except sd.SymdiffError:
        raise  # a stand-in grad inside fun, refused by symdiff
    except Exception as error:
        raise HarnessError(f"plain NumPy call failed: {_text(error)}") from None
    if any(np.iscomplexobj(r) for r in ref):
        raise HarnessError("complex output")
    templates = [args[i] if j is None else args[i][j] for i, j in leaves]
    points = [np.array(t, dtype=np.float64) for t in templates]

    def plain(pts: Sequence[np.ndarray]) -> list[Any]:
        return _substitute(args, leaves, [p.copy() if isinstance(t, np.ndarray) else float(p)
                                          for t, p in zip(templates, pts, strict=True)])

    stage[0] = "build"
    variables = [sd.var(f"a{n}", p.shape) for n, p in enumerate(points)]
    outs = [sd.as_node(o) for o in _flat(fun(*_substitute(args, leaves, variables), **kwargs))]
    if [tuple(o.shape) for o in outs] != [np.shape(r) for r in ref]:
        raise Wrong(f"output shapes {[tuple(o.shape) for o in outs]} where NumPy gives {[np.shape(r) for r in ref]}")
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(np.shape(r)) for r in ref]
    expr = sum((sd.sum(o * w) for o, w in zip(outs, weights, strict=True)), sd.as_node(0.0))
    stage[0] = "compile"
    values_fn, fn = sd.function(variables, outs), sd.compile(expr, wrt=variables)
    stage[0] = "run"
    inputs = [p if p.ndim else float(p) for p in points]
    for k, (got, want) in enumerate(zip(values_fn(*inputs), ref, strict=True)):
        _close(f"output {k}", got, want)

    def weighted(pts: list[np.ndarray]) -> float:
        now = _flat(fun(*plain(pts), **kwargs))
        return float(sum(np.sum(np.asarray(o, dtype=np.float64) * w) for o, w in zip(now, weights, strict=True)))

    for k, g in enumerate(fn(*inputs)[1]):
        _close(f"gradient by a{k}", g, *_central(weighted, points, k))
    if order < 2:
        return
    stage[0] = "build (2nd order)"
    directions = [rng.standard_normal(p.shape) for p in points]
    pairing = sum((sd.sum(g * d) for g, d in zip(sd.grad(expr, variables), directions, strict=True)), sd.as_node(0.0))
    stage[0] = "compile (2nd order)"
    fn2 = sd.compile(pairing, wrt=variables)
    stage[0] = "run (2nd order)"

    def paired(pts: list[np.ndarray]) -> float:
        _, gs = fn(*(p if p.ndim else float(p) for p in pts))
        return float(sum(np.sum(np.asarray(g) * d) for g, d in zip(gs, directions, strict=True)))

    value2, grads2 = fn2(*inputs)
    _close("gradient pairing", value2, paired(points))
    for k, g in enumerate(grads2):
        _close(f"second derivative by a{k}", g, *_central(paired, points, k))


def _on_alarm(signum: int, frame: Any) -> None:
    raise TimeoutError(f"check took over {CALL_SECONDS} s")


def check_grads(fun: Callable[..., Any], argnum: Any = None, modes: Any = None,
                order: int = 2) -> Callable[..., None]:
    """Stand-in for ``autograd.test_util.check_grads``: records one call's outcome, never raises."""

    def run(*args: Any, **kwargs: Any) -> None:
        stage, status, message = ["setup"], "pass", ""
        signal.alarm(CALL_SECONDS)
        try:
            _measure(fun, argnum, order, args, kwargs, stage)
        except (Wrong, HarnessError) as error:
            status, message = "wrong" if isinstance(error, Wrong) else "harness", str(error)
        except Exception as error:
            status, message = "refused" if isinstance(error, sd.SymdiffError) else "crash", _text(error)
        finally:
            signal.alarm(0)
        CALLS.append({**WHERE, "status": status, "stage": "" if status == "pass" else stage[0], "message": message,
                      "args": [list(np.shape(a)) if _kind(a) == "f" else type(a).__name__ for a in args]})

    return run


def combo_check(fun: Callable[..., Any], *check_args: Any, **check_kwargs: Any) -> Callable[..., None]:
    """Stand-in for ``autograd.test_util.combo_check``: every combination of the listed values."""

    def run(*arg_lists: Any, **kwarg_lists: Any) -> None:
        keys = list(kwarg_lists)
        for args in itertools.product(*arg_lists):
            for values in itertools.product(*(kwarg_lists[k] for k in keys)):
                check_grads(fun, *check_args, **check_kwargs)(*args, **dict(zip(keys, values, strict=True)))

    return run


def _derivative(kind: str) -> Callable[..., Callable[..., Any]]:
    """``grad``-like stand-ins: symbolic when called on a symdiff variable, compiled on numbers."""

    def transform(fun: Callable[..., Any], argnum: int = 0) -> Callable[..., Any]:
        if not isinstance(argnum, int):
            raise HarnessError(f"{kind} with argnum={argnum!r} has no stand-in")

        def run(*args: Any, **kwargs: Any) -> Any:
            x = args[argnum]
            if isinstance(x, sd.Node) and x.op != "var":
                raise HarnessError(f"{kind} of an intermediate node: the stand-in differentiates variables only")
            v = x if isinstance(x, sd.Node) else sd.var("x", np.shape(x))
            out = fun(*args[:argnum], v, *args[argnum + 1:], **kwargs)
            if kind in ("jacobian", "hessian"):
                d = getattr(sd, kind)(out, v)
            else:
                d = sd.grad(sd.sum(out) if kind == "elementwise_grad" else out, [v])[0]
            if not isinstance(x, sd.Node):
                point = np.array(x, dtype=np.float64) if np.ndim(x) else float(x)
                out, d = sd.function([v], [sd.as_node(out), d])(point)
            return (out, d) if kind == "value_and_grad" else d

        return run

    return transform


def _no_forward_mode(fun: Callable[..., Any]) -> Callable[..., Any]:
    raise HarnessError("autograd.deriv (forward mode) has no stand-in")


def _install() -> None:
    def module(name: str, **attrs: Any) -> types.ModuleType:
        made = types.ModuleType(name)
        made.__dict__.update(attrs)
        sys.modules[name] = made
        return made

    subs = {n: importlib.import_module(f"scipy.{n}") for n in ("special", "stats", "linalg", "signal", "integrate")}
    sys.modules.update({f"autograd.scipy.{name}": sub for name, sub in subs.items()})
    sys.modules["autograd.scipy.stats.multivariate_normal"] = scipy.stats.multivariate_normal
    sys.modules["autograd.numpy"], sys.modules["autograd.numpy.random"] = np, np.random
    derivatives = {k: _derivative(k) for k in ("grad", "value_and_grad", "elementwise_grad", "jacobian", "hessian")}
    module("autograd", numpy=np, tuple=tuple, deriv=_no_forward_mode, **derivatives,
           scipy=module("autograd.scipy", **subs),
           test_util=module("autograd.test_util", check_grads=check_grads, combo_check=combo_check),
           core=module("autograd.core", primitive_vjps={}), extend=module("autograd.extend", primitive=lambda f: f))


def _cases(fn: Callable[..., Any]) -> list[tuple[str, dict[str, Any] | None]]:
    """(id, keyword arguments) per pytest parametrize combination; None where a fixture is needed."""
    grids: list[list[dict[str, Any]]] = []
    for mark in (m for m in getattr(fn, "pytestmark", []) if m.name == "parametrize"):
        names = mark.args[0]
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        rows = []
        for row in mark.args[1]:
            values = row.values if type(row).__name__ == "ParameterSet" else (row,) if len(names) == 1 else row
            rows.append(dict(zip(names, values, strict=True)))
        grids.append(rows)
    cases = []
    for combo in itertools.product(*grids):
        kwargs = {k: v for part in combo for k, v in part.items()}
        label = f"{fn.__name__}[{'-'.join(str(v) for v in kwargs.values())}]" if kwargs else fn.__name__
        cases.append((label, None if set(inspect.signature(fn).parameters) - set(kwargs) else kwargs))
    return cases


def run_file(filename: str) -> int:
    """Run every test of one file; returns the number of tests."""
    WHERE["file"], WHERE["test"] = filename, "<import>"
    _install()
    try:
        mod = importlib.import_module(Path(filename).stem)
    except Exception as error:
        FAILED_TESTS.append({**WHERE, "reason": _text(error), "calls_before": 0})
        return 1
    tests = [f for n, f in vars(mod).items()
             if n.startswith("test") and inspect.isfunction(f) and f.__module__ == mod.__name__]
    cases = [(fn, test_id, kwargs) for fn in tests for test_id, kwargs in _cases(fn)]
    for fn, test_id, kwargs in cases:
        WHERE["test"], before = test_id, len(CALLS)
        np.random.seed(42)
        try:
            if kwargs is None:
                raise HarnessError("needs a pytest fixture")
            fn(**kwargs)
        except (Exception, OutcomeException) as error:
            FAILED_TESTS.append({**WHERE, "reason": _text(error), "calls_before": len(CALLS) - before})
    return len(cases)


def summary(calls: list[dict[str, Any]], tests: int, failed: int) -> dict[str, Any]:
    counts = Counter(c["status"] for c in calls)
    measured = sum(counts[s] for s in STATUSES[:4])
    return {"tests": tests, "harness_tests": failed, "calls": len(calls), **{s: counts[s] for s in STATUSES},
            "pass_pct": round(100.0 * counts["pass"] / measured, 1) if measured else None}


def _top(counter: Counter[str], n: int) -> list[tuple[int, str]]:
    return sorted(((c, k) for k, c in counter.items()), key=lambda t: (-t[0], t[1]))[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tests_dir", type=Path)
    parser.add_argument("--files", nargs="+", default=DEFAULT_FILES)
    parser.add_argument("--json", type=Path)
    opts = parser.parse_args()
    warnings.simplefilter("ignore")
    np.seterr(all="ignore")
    signal.signal(signal.SIGALRM, _on_alarm)
    sys.path.insert(0, str(opts.tests_dir.resolve()))
    sizes = {f: run_file(f) for f in opts.files}
    rows = {f: summary([c for c in CALLS if c["file"] == f], sizes[f], sum(t["file"] == f for t in FAILED_TESTS))
            for f in opts.files}
    rows["overall"] = summary(CALLS, sum(sizes.values()), len(FAILED_TESTS))
    columns = ["tests", "harness_tests", "calls", *STATUSES, "pass_pct"]
    print(f"| file | {' | '.join(columns)} |\n|---|{'---|' * len(columns)}")
    for name, row in rows.items():
        print(f"| {name} | {' | '.join(str(row[c]) for c in columns)} |")
    label = lambda c: re.sub(r"\ba\d+\b", "aN", f"{c['status']}: {c['message']}")  # a0, a1: argument names
    problems = Counter(label(c) for c in CALLS if c["status"] in ("refused", "crash"))
    tests_of: dict[str, Counter[str]] = {}
    for c in CALLS:
        tests_of.setdefault(label(c), Counter())[c["test"].split("[")[0]] += 1
    wrong = Counter(f"{c['file']}::{c['test']} [{c['stage']}] {c['message'].split(':')[0]}"
                    for c in CALLS if c["status"] == "wrong")
    harness = Counter(f"call: {c['message']}" for c in CALLS if c["status"] == "harness")
    harness.update(f"test: {t['reason']}" for t in FAILED_TESTS)
    for title, counter in (("Refusals and crashes", problems), ("Wrong answers", wrong), ("Harness", harness)):
        print(f"\n{title} ({sum(counter.values())} in all)")
        for count, key in _top(counter, 40):
            seen = ", ".join(t for _, t in _top(tests_of[key], 3)) if key in tests_of and title[0] == "R" else ""
            print(f"{count:5d}  {key[:160]}" + (f"  <- {seen}" if seen else ""))
    if opts.json:
        report = {"files": rows, "problems": _top(problems, len(problems)), "wrong": _top(wrong, len(wrong)),
                  "harness": _top(harness, len(harness)), "calls": CALLS, "failed_tests": FAILED_TESTS}
        opts.json.write_text(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
