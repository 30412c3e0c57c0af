"""The numba backend: the op matrix's cases equal the NumPy backend, fusion does what it says,
and what numba cannot compile is refused by name.

numba takes seconds per kernel, so by default the cases run in shared kernels and in samples
(see ``_sample``); ``SYMDIFF_TESTS=full`` runs each case alone under both threshold settings."""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import pytest
from test_ops import ARRAY_CASES, SCALAR_CASES, Case, _objective, _point, assert_refused, refused_by

import symdiff as sd
from symdiff.fusion import Loop, schedule
from symdiff.graph import toposort

pytest.importorskip("numba")



def assert_same(got: Any, want: Any, what: str = "") -> None:
    """Equal to the NumPy backend within 1e-12 relative (sums may add in another order)."""
    value, grads = got
    expected_value, expected_grads = want
    assert type(value) is float or isinstance(value, float), what
    np.testing.assert_allclose(value, expected_value, rtol=1e-12, atol=1e-14, err_msg=what)
    for g, w in zip(grads, expected_grads, strict=True):
        assert np.shape(g) == np.shape(w), what
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14, err_msg=what)


PRINTED = [c for c in ARRAY_CASES if not refused_by(c, "numba")]
REFUSED = [c for c in SCALAR_CASES + ARRAY_CASES if refused_by(c, "numba")]
FULL = os.environ.get("SYMDIFF_TESTS") == "full"  # every case in both tests, one compile per case
GROUP = 8  # cheap cases per kernel: eight compile in about the time of two
# reductions numba writes as loops over rows: one such kernel takes seconds to compile, and the
# time grows faster than the kernel, so each compiles alone
ROW_LOOPS = ("max", "min", "prod", "logsumexp")


def _sample(cases: list[Case], half: int) -> list[Case]:
    """CI's share of the op matrix for one of the two tests (``half`` 0 or 1): every other case,
    so each case runs in one of them, and one variant (axis, keepdims) of each row-loop
    reduction, chosen so that the four reductions over both tests meet all eight variants."""
    if FULL:
        return cases
    chosen: list[Case] = []
    position: dict[str, int] = {}
    for index, case in enumerate(cases):
        if case.op not in ROW_LOOPS:
            if index % 2 == half:
                chosen.append(case)
            continue
        k = position[case.op] = position.get(case.op, -1) + 1
        if k == (2 * ROW_LOOPS.index(case.op) + half) % 8:
            chosen.append(case)
    return chosen


def _groups(cases: list[Case]) -> list[list[Case]]:
    groups: list[list[Case]] = []
    for case in cases:
        if FULL or case.op in ROW_LOOPS or not groups or len(groups[-1]) == GROUP or groups[-1][0].op in ROW_LOOPS:
            groups.append([case])
        else:
            groups[-1].append(case)
    return groups


def _group_id(cases: list[Case]) -> str:
    return cases[0].id() if len(cases) == 1 else f"{cases[0].id()} and {len(cases) - 1} more"


def assert_group_matches_numpy(cases: list[Case], rng: np.random.Generator, weights: Any) -> None:
    """Every case's value and gradient from one numba kernel equal the NumPy backend's."""
    variables = [[sd.var(f"c{k}_a{i}", shape=s) for i, s in enumerate(case.shapes)] for k, case in enumerate(cases)]
    objectives = [_objective(case, vs, weights) for case, vs in zip(cases, variables, strict=True)]
    every = [v for vs in variables for v in vs]
    total = objectives[0]
    for objective in objectives[1:]:
        total = total + objective
    outputs = [*objectives, *sd.grad(total, every)]
    point = [value for case in cases for value in _point(case, rng)]
    got = sd.function(every, outputs, backend="numba")(*point)
    want = sd.function(every, outputs)(*point)
    start = len(cases)  # the gradients follow the values, case by case
    for k, (case, vs) in enumerate(zip(cases, variables, strict=True)):
        mine = slice(start, start + len(vs))
        assert_same((got[k], got[mine]), (want[k], want[mine]), case.id())
        start += len(vs)


@pytest.mark.parametrize("cases", _groups(_sample(PRINTED, 0)), ids=_group_id)
def test_every_array_case_equals_the_numpy_backend(cases: list[Case], rng: np.random.Generator,
                                                   weights: Any) -> None:
    assert_group_matches_numpy(cases, rng, weights)


@pytest.fixture
def thresholds_at_their_extremes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every loop parallel, every transcendental and matrix product a NumPy call, every constant
    an argument: the other side of each size threshold, on the op matrix's small shapes."""
    from symdiff import fusion, numba_backend, numba_printers

    monkeypatch.setattr(numba_backend, "PARALLEL_MIN", 1)
    monkeypatch.setattr(fusion, "NUMPY_MIN", 1)
    monkeypatch.setattr(numba_printers, "LOOP_FLOPS", 0)
    monkeypatch.setattr(numba_printers, "LOOP_FLOPS_ROWS", 0)
    monkeypatch.setattr(numba_backend, "FREEZE_MAX", 0)


@pytest.mark.parametrize("cases", _groups(_sample(PRINTED, 1)), ids=_group_id)
def test_every_array_case_equals_the_numpy_backend_past_every_threshold(
        cases: list[Case], rng: np.random.Generator, weights: Any, thresholds_at_their_extremes: None) -> None:
    assert_group_matches_numpy(cases, rng, weights)


@pytest.mark.parametrize("case", REFUSED, ids=Case.id)
def test_cases_with_ops_numba_cannot_print_are_refused_by_name(case: Case, weights: Any) -> None:
    variables = [sd.var(f"a{i}", shape=s) for i, s in enumerate(case.shapes)]
    assert_refused(case, "numba", lambda: sd.compile(_objective(case, variables, weights), variables, backend="numba"))


@pytest.mark.parametrize("case", [c for c in SCALAR_CASES if not refused_by(c, "numba")], ids=Case.id)
def test_every_scalar_case_is_one_straight_line_kernel(case: Case, rng: np.random.Generator) -> None:
    variables = [sd.var(f"a{i}") for i in range(len(case.shapes))]
    expr = sd.tofloat(sd.as_node(case.build(*variables)))
    fn = sd.compile(expr, variables, backend="numba")
    kernel = fn.source.split("\n\n\ndef ")[0]
    assert " for " not in kernel and "np.empty" not in kernel
    point = _point(case, rng)
    assert_same(fn(*point), sd.compile(expr, variables)(*point), case.id())


def test_baydin_scalars_reproduce_the_seed() -> None:
    x1, x2 = sd.var("x1"), sd.var("x2")
    fn = sd.compile(sd.log(x1) + x1 * x2 - sd.sin(x2), [x1, x2], backend="numba")
    value, (g1, g2) = fn(2.0, 5.0)
    assert (round(value, 10), round(g1, 10), round(g2, 10)) == (11.6520714552, 5.5, 1.7163378145)


def _relu_loss(n: int) -> tuple[sd.Node, list[sd.Node], list[Any]]:
    w1, b1, w2, b2 = (sd.var(n) for n in ("w1", "b1", "w2", "b2"))
    x, t = sd.var("x", shape=(n,)), sd.var("t", shape=(n,))
    loss = sd.sum((t - (w2 * sd.relu(w1 * x + b1) + b2)) ** 2)
    points = np.linspace(-2, 5, n, endpoint=False)
    return loss, [w1, b1, w2, b2, x, t], [1.0, 1.0, 1.0, 1.0, points, 5 * np.maximum(0, 2 * points - 1) + 1]


def test_the_relu_loss_and_its_four_gradients_come_from_one_loop() -> None:
    loss, inputs, args = _relu_loss(70)
    fn = sd.compile(loss, inputs[:4], inputs, backend="numba")
    kernel = fn.source.split("\n\n\ndef ")[0]
    assert kernel.count(" for ") == 1 and "np.empty" not in kernel
    assert "prange" not in kernel  # 70 points stay serial
    assert_same(fn(*args), sd.compile(loss, inputs[:4], inputs)(*args))


def test_long_loops_run_in_parallel_and_say_so() -> None:
    from symdiff.numba_backend import PARALLEL_MIN

    loss, inputs, args = _relu_loss(PARALLEL_MIN)
    fn = sd.compile(loss, inputs[:4], inputs, backend="numba")
    assert "numba.prange(" in fn.source and "parallel=True" in fn.source
    assert "different order" in fn.source
    assert_same(fn(*args), sd.compile(loss, inputs[:4], inputs)(*args))


def test_a_matrix_product_calls_numpy_and_keeps_loops_serial() -> None:
    W, X = sd.var("W", shape=(200, 200)), sd.var("X", shape=(200, 200))
    fn = sd.compile(sd.sum(sd.tanh(X @ W)), [W], [W, X], backend="numba")
    kernel = fn.source.split("\n\n\ndef ")[0]
    assert "np.matmul(X, W)" in kernel and "NumPy's SIMD tanh" in kernel and "prange" not in kernel
    rng = np.random.default_rng(0)
    args = [rng.standard_normal((200, 200)) / 20, rng.standard_normal((200, 200))]
    assert_same(fn(*args), sd.compile(sd.sum(sd.tanh(X @ W)), [W], [W, X])(*args))


def test_a_loop_that_needs_a_sum_waits_for_it() -> None:
    x = sd.var("x", shape=(50,))
    centred = x - sd.mean(x)
    expr = sd.sum(centred * centred)
    order = toposort([expr])
    loops = [step for step in schedule(order) if isinstance(step, Loop)]
    assert [loop.level for loop in loops] == [0, 1]
    point = np.linspace(-1.0, 2.0, 50)
    assert_same(sd.compile(expr, [x], backend="numba")(point), sd.compile(expr, [x])(point))


def test_ieee_results_and_where_guards_hold() -> None:
    x, y = sd.var("x"), sd.var("y")
    fn = sd.compile(x / y + sd.log(x), [x, y], backend="numba")
    value, (gx, gy) = fn(1.0, 0.0)
    assert (value == math.inf and gx == math.inf and math.isnan(gy)) or gy == -math.inf
    value, _ = fn(-1.0, 1.0)
    assert math.isnan(value)
    v = sd.var("v", shape=(3,))
    guarded = sd.sum(sd.where(v > 0.0, sd.log(v), 0.0))
    point = np.array([-1.0, 0.0, 2.0])
    with np.errstate(all="raise"):
        assert_same(sd.compile(guarded, [v], backend="numba")(point), sd.compile(guarded, [v])(point))


def test_bad_arguments_raise_argument_errors_naming_them() -> None:
    x = sd.var("x", shape=(3,))
    fn = sd.compile(sd.sum(sd.sin(x)), [x], backend="numba")
    with pytest.raises(sd.ArgumentError, match=r"'x'.*shape"):
        fn(np.ones(4))
    with pytest.raises(sd.ArgumentError, match="'x'"):
        fn("text")
    value, (grad,) = fn(np.arange(6.0)[::2])  # a strided view is made contiguous first
    assert grad.tolist() == np.cos(np.arange(6.0)[::2]).tolist()
    value, (grad,) = fn([0, 1, 2])  # ints are cast, as on the NumPy backend
    assert value == pytest.approx(np.sin([0, 1, 2]).sum())


def test_what_numba_cannot_compile_is_refused_when_compiling() -> None:
    x = sd.var("x", shape=(2,))
    with pytest.raises(sd.UnsupportedError, match="float32"):
        sd.compile(sd.sum(x), [x], backend="numba", dtype=np.float32)
    with pytest.raises(sd.UnsupportedError, match="float32"):
        sd.function([x], [sd.sin(x)], backend="numba", dtype=np.float32)
    asinh = sd.define_op("numba_asinh", arity=1, numpy="numpy:arcsinh",
                         vjp=lambda g, out, a: (g / sd.sqrt(1.0 + a * a),))
    try:
        with pytest.raises(sd.UnsupportedError, match="user-defined"):
            sd.compile(sd.sum(asinh(x)), [x], backend="numba")
    finally:
        from symdiff.ops import OPS

        OPS.pop("numba_asinh", None)


def test_results_are_fresh_arrays() -> None:
    x, y = sd.var("x", shape=(3,)), sd.var("y", shape=(3,))
    fn = sd.compile(sd.sum(x * y), [x, y], backend="numba")
    a, b = np.ones(3), np.arange(3.0)
    _, (gx, gy) = fn(a, b)
    assert gx is not b and not np.shares_memory(gx, b) and not np.shares_memory(gy, a)


@pytest.mark.parametrize(("left", "right"), [((3,), (3, 4)), ((4, 3), (3,)), ((2, 3), (3, 5)), ((3,), (3,))],
                         ids=["vector @ matrix", "matrix @ vector", "matrix @ matrix", "vector @ vector"])
def test_small_matrix_products_are_loops_without_blas(left: tuple[int, ...], right: tuple[int, ...],
                                                      rng: np.random.Generator) -> None:
    a, b = sd.var("a", shape=left), sd.var("b", shape=right)
    expr = sd.sum(sd.sin(a @ b))
    fn = sd.compile(expr, [a, b], backend="numba")
    kernel = fn.source.split("\n\n\ndef ")[0]
    assert "np.matmul" not in kernel and ".dot(" not in kernel and "objmode" not in kernel
    point = [rng.uniform(-1, 1, left), rng.uniform(-1, 1, right)]
    assert_same(fn(*point), sd.compile(expr, [a, b])(*point))


def test_large_transcendentals_call_numpy_and_small_ones_stay_in_the_loop(rng: np.random.Generator) -> None:
    from symdiff.fusion import NUMPY_MIN

    for n, expected in ((NUMPY_MIN, True), (NUMPY_MIN - 1, False)):
        x = sd.var("x", shape=(n,))
        expr = sd.sum(sd.exp(x) * sd.log(x))
        fn = sd.compile(expr, [x], backend="numba")
        assert ("NumPy's SIMD exp" in fn.source) is expected and ("NumPy's SIMD log" in fn.source) is expected
        point = rng.uniform(0.5, 2.0, n)
        assert_same(fn(point), sd.compile(expr, [x])(point))


def test_scalar_functions_are_their_kernels_and_send_other_types_to_the_checks() -> None:
    import pickle

    x1, x2 = sd.var("x1"), sd.var("x2")
    fn = sd.compile(sd.log(x1) + x1 * x2 - sd.sin(x2), [x1, x2], backend="numba")
    assert type(fn).__name__ == "CPUDispatcher" and fn.__name__ == "value_and_grad"
    expected = fn(2.0, 5.0)
    assert fn(2, 5) == expected and fn(np.float32(2.0), np.int64(5)) == expected == fn(x2=5.0, x1=2.0)
    assert len(fn.signatures) == 1  # the other types compiled nothing new
    with pytest.raises(sd.ArgumentError, match=r"x1.*bool"):
        fn(True, 5.0)
    with pytest.raises(sd.ArgumentError, match="x2"):
        fn(2.0, "5")
    assert pickle.loads(pickle.dumps(fn)) is fn
    assert "Value and gradient" in fn.__doc__ and "def _value_and_grad_checked(x1, x2)" in fn.source


@pytest.mark.parametrize("n", [50, 20_000], ids=["serial", "parallel"])
def test_max_and_min_share_the_loop_and_keep_numpys_nan(n: int, rng: np.random.Generator) -> None:
    x = sd.var("x", shape=(n,))
    expr = sd.max(sd.sin(x)) - sd.min(x * x) + sd.sum(x)
    fn, reference = sd.compile(expr, [x], backend="numba"), sd.compile(expr, [x])
    first_loop = fn.source.split("# one loop over")[1].split("\n    if ")[0]
    assert "max(" in first_loop and "min(" in first_loop and "+= x[i]" in first_loop
    point = rng.uniform(-2.0, 2.0, n)
    assert_same(fn(point), reference(point))
    point[n // 2] = np.nan
    with np.errstate(invalid="ignore"):  # the NumPy backend's gradient divides 0 by a NaN count
        assert np.isnan(fn(point)[0]) and np.isnan(reference(point)[0])


def test_a_boolean_constant_too_large_to_compile_in_is_passed_as_booleans() -> None:
    from symdiff.numba_backend import FREEZE_MAX

    x = sd.var("x", shape=(FREEZE_MAX + 1,))
    mask = np.arange(FREEZE_MAX + 1) % 3 == 0
    expr = sd.sum(sd.where(mask, x, 0.0))
    fn = sd.compile(expr, [x], backend="numba")
    point = np.linspace(-1.0, 1.0, FREEZE_MAX + 1)
    assert_same(fn(point), sd.compile(expr, [x])(point))


def test_read_only_arrays_reach_the_one_compiled_kernel() -> None:
    x, m = sd.var("x", shape=(3,)), sd.var("m", shape=(2, 3))
    expr = sd.sum(sd.sin(m @ x)) + sd.sum(m * m)
    fn, reference = sd.compile(expr, [x, m], backend="numba"), sd.compile(expr, [x, m])
    frozen = [np.arange(3.0), np.arange(6.0).reshape(2, 3) / 6]
    for array in frozen:
        array.flags.writeable = False
    assert_same(fn(*frozen), reference(*frozen))
    assert_same(fn(*(a.copy() for a in frozen)), reference(*frozen))
    kernel = fn.__globals__["_value_and_grad_kernel"]
    assert len(kernel.signatures) == 1  # writable arrays match the read-only signature too


def test_negative_integer_powers_of_zero_are_infinite_as_in_numpy() -> None:
    s, v = sd.var("s"), sd.var("v", shape=(3,))
    for expr, wrt, point in [(s ** -2 - s ** -1, [s], [0.0]),  # a straight-line scalar kernel
                             (sd.sum(v ** -3), [v], [np.array([0.0, -0.0, 2.0])]),  # a loop
                             (sd.sum(v) * s ** -1, [s, v], [0.0, np.ones(3)])]:  # a scalar beside arrays
        got = sd.compile(expr, wrt, backend="numba")(*point)
        with np.errstate(divide="ignore", invalid="ignore"):
            want = sd.compile(expr, wrt)(*point)
        for g, w in zip([got[0], *got[1]], [want[0], *want[1]], strict=True):
            np.testing.assert_array_equal(g, w)


def test_signed_zeros_and_ties_follow_numpy() -> None:
    """np.sign(-0.0) is 0.0; of two equal operands maximum and minimum return the second, and a
    max or min reduction the last: numba's own functions return -0.0 and the first."""
    v, w, m = sd.var("v", shape=(4,)), sd.var("w", shape=(4,)), sd.var("m", shape=(2, 2))
    outputs = [sd.sign(v), sd.relu(v), sd.maximum(v, w), sd.minimum(v, w), sd.max(m, axis=1),
               sd.min(m, axis=1), sd.max(v) * sd.min(w), sd.abs(v)]
    point = [np.array([-0.0, 0.0, -0.0, 1.0]), np.array([0.0, -0.0, -0.0, 1.0]), np.array([[-0.0, 0.0], [0.0, -0.0]])]
    got = sd.function([v, w, m], outputs, backend="numba")(*point)
    want = sd.function([v, w, m], outputs)(*point)
    for g, e in zip(got, want, strict=True):
        assert np.array_equal(np.signbit(g), np.signbit(e)) and np.array_equal(g, e), (g, e)
    s = sd.var("s")
    for expr, which in ((sd.relu(s), 0), (sd.abs(s), 1)):  # relu's value and abs's gradient, sign(s)
        got, want = sd.compile(expr, [s], backend="numba")(-0.0), sd.compile(expr, [s])(-0.0)
        assert (got[0], *got[1]) == (want[0], *want[1])
        assert math.copysign(1.0, (got[0], *got[1])[which]) == 1.0
