"""Every backend computes what the NumPy backend computes at special inputs (0, -0.0, ±inf, NaN,
1e300, 1e-300) and on empty arrays: each case of the op matrix, its output, value and gradients.

numba compiles each array expression outside a loop as a function of its own, one to ten seconds
a case, so by default it runs the scalar cases (which check every op's per-element form, the one
fused loops use) and a case of each way it prints arrays: ``NUMBA_OPS``. ``SYMDIFF_TESTS=full``
runs it on every array case (about 5 minutes). The other backends always run every case.
"""

from __future__ import annotations

import functools
import math
import os
import warnings
from typing import Any

import numpy as np
import pytest
from conftest import sample
from test_ops import ARRAY_CASES, SCALAR_CASES, Case, _objective, refused_by

import symdiff as sd
from symdiff.compiler import compile_program, load

pytest.importorskip("numba")
pytest.importorskip("array_api_compat")
# one worker runs the whole file: the results of each backend are computed once and cached
pytestmark = pytest.mark.xdist_group("backend_agreement")

SPECIALS = {"0": 0.0, "-0": -0.0, "inf": math.inf, "-inf": -math.inf, "nan": math.nan,
            "1e300": 1e300, "1e-300": 1e-300}
# numba calls libm where NumPy has SIMD loops of its own (exp, tanh: 1-2 ulp apart), and its
# loops add in order where NumPy adds pairwise (sums: 1-4 ulp); exp(x - logsumexp) makes an ulp
# of a logsumexp near 5 four ulps of the softmax (up to 10 ulp)
ULPS = 16
BATCH = 10  # array cases per numba kernel: a kernel of ten compiles a little faster than ten kernels
# numba by default: broadcasting outside loops, reductions as loops (sum, max) and as loops over
# rows (prod, logsumexp, and sum and max over two axes), products and layout
NUMBA_OPS = {"div", "sum", "max", "prod", "logsumexp", "matmul", "reshape", "concatenate"}
ROWS = {"sum", "max"}


def _emptied(case: Case) -> Case | None:
    """The case with the leading axis of its widest operands empty, if it and its gradient build."""
    widest = max(len(s) for s in case.shapes)
    shapes = tuple((0, *s[1:]) if len(s) == widest else s for s in case.shapes)
    empty = Case(case.op, case.build, shapes, case.domains, tags=(*case.tags, "empty"))
    try:
        _graph(empty, 0)
    except sd.SymdiffError:  # an index past the end, a fixed scatter
        return None
    return empty


def _graph(case: Case, k: int) -> tuple[list[sd.Node], list[sd.Node]]:
    """The case's variables, and its output, value and gradients."""
    variables = [sd.var(f"c{k}_{i}", shape=s) for i, s in enumerate(case.shapes)]
    objective = _objective(case, variables, _weights)
    return variables, [sd.as_node(case.build(*variables)), objective, *sd.grad(objective, variables)]


def _weights(shape: tuple[int, ...]) -> Any:
    return np.random.default_rng(7).uniform(0.5, 1.5, size=shape) if shape else 1.3


def _numba_cases() -> list[Case]:
    """Each op of ``NUMBA_OPS`` by its first case, those of ``ROWS`` over two axes, each also emptied."""
    if os.environ.get("SYMDIFF_TESTS") == "full":
        return ARRAYS
    first: dict[str, Case] = {}
    for case in ARRAY_CASES:
        first.setdefault(case.op, case)
    rows = [c for c in ARRAY_CASES if c.op in ROWS and c.tags == ("axis=(0, 2)", "keepdims=True")]
    refused = [c for c in ARRAY_CASES if refused_by(c, "numba")]  # cheap: refused before numba compiles
    chosen = [*(c for c in first.values() if c.op in NUMBA_OPS), *rows, *refused]
    return [*chosen, *(e for c in chosen if (e := _emptied(c)) is not None)]


ARRAYS = [*ARRAY_CASES, *(e for c in ARRAY_CASES if (e := _emptied(c)) is not None)]
NUMBA_ARRAYS = _numba_cases()


def _points(case: Case) -> dict[str, list[Any]]:
    """Each special value everywhere, and at the first element of a point inside the domain; read-only.
    The point is positive: sums of terms of one sign add to within an ulp or two in any order, so
    ``ULPS`` measures the ops (a mixed-sign sum of matmul's 40 products came out 17 ulp apart)."""
    rng = np.random.default_rng(20261123)
    inside = [sample(s, (max(lo, 0.0), hi), rng) for s, (lo, hi) in zip(case.shapes, case.domains, strict=True)]
    points = {}
    for name, value in SPECIALS.items():
        points[f"all {name}"] = [value if s == () else np.full(s, value) for s in case.shapes]
        one = [value if s == () else p.copy() for s, p in zip(case.shapes, inside, strict=True)]
        for p in one:
            if isinstance(p, np.ndarray) and p.size:
                p.flat[0] = value
        points[f"one {name}"] = one
    for p in (p for args in points.values() for p in args if isinstance(p, np.ndarray)):
        p.flags.writeable = False  # every backend takes read-only arrays (a frozen model, np.broadcast_to)
    return points


def _call(fn: Any, args: list[Any]) -> list[np.ndarray] | str:
    # the NumPy backend warns where numba does not: the values are what is compared
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = fn(*args)
        except Exception as error:
            return f"raises {type(error).__name__}"
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], tuple):
        result = (result[0], *result[1])  # compile's (value, (gradients...))
    return [np.asarray(r, dtype=np.float64) for r in result]


Results = dict[str, list[np.ndarray] | str]  # point -> outputs, or what calling raised


def _scalar_function(case: Case, backend: str) -> Any:
    variables = [sd.var(f"a{i}") for i in range(len(case.shapes))]
    expr = sd.tofloat(sd.as_node(case.build(*variables)))
    if backend == "array_api":  # it takes its namespace from an array argument
        fn = sd.compile(expr, variables, [*variables, sd.var("anchor", shape=(1,))], backend=backend)
        return lambda *args: fn(*args, np.zeros(1))
    if backend == "numpy kernels":  # the NumPy body alone, without the plain-float path in front
        return load(compile_program(expr, variables, fast_path=False))
    return sd.compile(expr, variables, backend=backend)


@functools.cache
def _scalar_results(backend: str) -> dict[str, Results | str]:
    """case id -> results, or why compiling was refused."""
    out: dict[str, Results | str] = {}
    for case in SCALAR_CASES:
        try:
            fn = _scalar_function(case, backend)
        except sd.UnsupportedError as error:
            out[case.id()] = f"refused: {error}"
            continue
        out[case.id()] = {name: _call(fn, args) for name, args in _points(case).items()}
    return out


@functools.cache
def _array_results(backend: str) -> dict[str, Results | str]:
    """As ``_scalar_results``; numba compiles ``BATCH`` cases into one function, whose outputs
    are each case's output, value and gradients, and whose arguments are each case's."""
    cases, size = (NUMBA_ARRAYS, BATCH) if backend == "numba" else (ARRAYS, 1)
    out: dict[str, Results | str] = {}
    if size > 1:  # a refused case compiles alone, so that its batch is not refused with it
        alone = [c for c in cases if refused_by(c, backend)]
        cases = [c for c in cases if not refused_by(c, backend)]
        out.update((c.id(), _refusal(c, backend)) for c in alone)
    for start in range(0, len(cases), size):
        batch = cases[start:start + size]
        graphs = [_graph(case, k) for k, case in enumerate(batch)]
        try:
            fn = sd.function([v for variables, _ in graphs for v in variables],
                             [o for _, outputs in graphs for o in outputs], backend=backend)
        except sd.UnsupportedError as error:
            assert size == 1, error
            out[batch[0].id()] = f"refused: {error}"
            continue
        points = [_points(case) for case in batch]
        results: list[Results] = [{} for _ in batch]
        for name in points[0]:  # a raise shows in every case of the batch
            got = _call(fn, [a for p in points for a in p[name]])
            first = 0
            for (_, outputs), result in zip(graphs, results, strict=True):
                result[name] = got if isinstance(got, str) else got[first:first + len(outputs)]
                first += len(outputs)
        out.update((case.id(), result) for case, result in zip(batch, results, strict=True))
    return out


def _refusal(case: Case, backend: str) -> str:
    variables, outputs = _graph(case, 0)
    try:
        sd.function(variables, outputs, backend=backend)
    except sd.UnsupportedError as error:
        return f"refused: {error}"
    raise AssertionError(f"{case.id()}: {backend} printed ops its records say it refuses")


def _agree(got: np.ndarray, want: np.ndarray) -> bool:
    """Both NaN, or equal with the sign of a zero, or finite, nonzero and ``ULPS`` apart."""
    if got.shape != want.shape:
        return False
    same = (got == want) & (np.signbit(got) == np.signbit(want))
    with np.errstate(all="ignore"):
        near = (np.isfinite(want) & (want != 0) & (np.sign(got) == np.sign(want))
                & (np.abs(got - want) <= ULPS * np.spacing(np.abs(want))))
    return bool(np.all(np.where(np.isnan(want), np.isnan(got), same | near)))


def _compare(got: Results | str, want: Results | str) -> None:
    if isinstance(got, str):  # refused when compiling: agreement, recorded by the refusal test
        assert got.startswith("refused"), got
        return
    assert isinstance(want, dict)
    bad = []
    for name, expected in want.items():
        result = got[name]
        if isinstance(result, str) or isinstance(expected, str):
            if result != expected:
                bad.append(f"{name}: {result} where NumPy gives {expected}")
            continue
        bad += [f"{name}, output {i}: {g.ravel()[:6]} where NumPy gives {w.ravel()[:6]}"
                for i, (g, w) in enumerate(zip(result, expected, strict=True)) if not _agree(g, w)]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("backend", ["numba", "array_api"])
@pytest.mark.parametrize("case", SCALAR_CASES, ids=Case.id)
def test_scalar_cases_agree_with_numpy_at_special_inputs(case: Case, backend: str) -> None:
    # numba calls libm as the NumPy backend's plain-float path does; the array API namespace runs
    # NumPy's kernels, which on AVX-512 CPUs round arcsinh and arccosh a bit apart from libm, and
    # their gradients at 1e300 (1 / cosh(y), y near 691) make that last bit several hundred ulp
    reference = "numpy" if backend == "numba" else "numpy kernels"
    _compare(_scalar_results(backend)[case.id()], _scalar_results(reference)[case.id()])


@pytest.mark.parametrize("case", NUMBA_ARRAYS, ids=Case.id)
def test_numba_agrees_with_numpy_on_arrays_at_special_inputs(case: Case) -> None:
    _compare(_array_results("numba")[case.id()], _array_results("numpy")[case.id()])


@pytest.mark.parametrize("case", ARRAYS, ids=Case.id)
def test_array_api_agrees_with_numpy_on_arrays_at_special_inputs(case: Case) -> None:
    _compare(_array_results("array_api")[case.id()], _array_results("numpy")[case.id()])


def test_only_the_known_refusals() -> None:
    refused = {(backend, case) for backend in ("numpy", "numba", "array_api")
               for results in (_scalar_results(backend), _array_results(backend))
               for case, result in results.items() if isinstance(result, str)}
    # exactly the cases holding an op whose record names the backend, each refused by that name
    expected = {(backend, c.id()) for backend, cases in (("numba", SCALAR_CASES + NUMBA_ARRAYS),
                                                         ("array_api", SCALAR_CASES + ARRAYS))
                for c in cases if refused_by(c, backend)}
    assert refused == expected
