"""sd.scan and sd.fori_loop against the same loops unrolled in Python, and their errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import symdiff as sd
from symdiff import scalarize


def decay(steps: int, unrolled: bool):
    """x' = -k x + sin(w t), explicit Euler: k and w closed over, t scanned."""
    k, w, x0 = sd.var("k"), sd.var("w", (2,)), sd.var("x0", (2,))
    times = np.linspace(0.0, 1.0, steps)

    def step(x, t):
        nxt = x + 0.1 * (-k * x + sd.sin(w * t))
        return nxt, sd.sum(nxt * nxt)

    if unrolled:
        x, total = x0, 0.0
        for t in times:
            x, y = step(x, float(t))
            total = total + y
    else:
        x, ys = sd.scan(step, x0, sd.as_node(times))
        total = sd.sum(ys)
    return sd.sum(x * x) + total, [k, w, x0]


POINT = (0.8, np.array([1.5, -0.5]), np.array([0.3, -1.2]))


@pytest.mark.parametrize("steps", [0, 1, 7])
def test_a_scan_gives_the_unrolled_value_and_gradient(steps: int) -> None:
    looped, wrt = decay(steps, unrolled=False)
    unrolled, wrt_u = decay(steps, unrolled=True)
    got = sd.compile(looped, wrt, rewrites=False)(*POINT)
    want = sd.compile(unrolled, wrt_u, rewrites=False)(*POINT)
    assert got[0] == pytest.approx(want[0], rel=1e-13)
    for g, e in zip(got[1], want[1], strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)


def test_the_generated_code_is_a_loop_whose_length_does_not_grow_with_the_steps(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scalarize, "SMALL", 0)  # the loop on arrays, as larger ones print
    short, wrt = decay(10, unrolled=False)
    long, wrt_long = decay(1000, unrolled=False)
    short_source = sd.compile(short, wrt).source
    long_source = sd.compile(long, wrt_long).source
    assert "for step in range(10):" in short_source and "for step_1 in range(10 - 1, -1, -1):" in short_source
    assert len(short_source.splitlines()) == len(long_source.splitlines())


def test_tuple_carries_tuple_xs_and_reverse() -> None:
    a, v = sd.var("a"), sd.var("v", (3,))
    xs = (sd.as_node(np.arange(12.0).reshape(4, 3) / 10), sd.as_node(np.array([1.0, -1.0, 0.5, 2.0])))

    def step(carry, x):
        p, q = carry
        row, s = x
        return (p * a + sd.sum(q * row), q * s + p), p * q

    def unrolled(order):
        p, q, total = a * 1.0, v, 0.0
        rows, scales = np.arange(12.0).reshape(4, 3) / 10, [1.0, -1.0, 0.5, 2.0]
        for t in order:
            p, q, y = p * a + sd.sum(q * rows[t]), q * scales[t] + p, p * q
            total = total + sd.sum(y * (t + 1))
        return p + sd.sum(q) + total

    for reverse, order in ((False, range(4)), (True, range(3, -1, -1))):
        (p, q), ys = sd.scan(step, (a * 1.0, v), xs, reverse=reverse)
        weights = np.arange(1.0, 5.0)[:, None]
        loss = p + sd.sum(q) + sd.sum(ys * weights)
        got = sd.compile(loss, [a, v])(0.9, np.array([0.2, -0.1, 0.4]))
        want = sd.compile(unrolled(order), [a, v])(0.9, np.array([0.2, -0.1, 0.4]))
        assert got[0] == pytest.approx(want[0], rel=1e-13)
        for g, e in zip(got[1], want[1], strict=True):
            np.testing.assert_allclose(g, e, rtol=1e-12)


def test_length_without_xs_nested_scans_and_fori_loop() -> None:
    a = sd.var("a")
    inner_outer, _ = sd.scan(lambda c, _: (sd.scan(lambda d, __: (d * a + 1.0, None), c, length=3)[0], None), a,
                             length=2)
    d = a
    for _ in range(6):
        d = d * a + 1.0
    got, want = sd.compile(inner_outer, [a])(0.5), sd.compile(d, [a])(0.5)
    assert got[0] == pytest.approx(want[0]) and got[1][0] == pytest.approx(want[1][0])
    x = sd.var("x", (6,))
    looped = sd.fori_loop(1, 6, lambda i, c: c * 0.9 + x[i] * sd.tofloat(i) + x[i] ** 2, x[0] * 0.0)
    value, (grad,) = sd.compile(looped, [x])(np.arange(6.0))
    c, want_grad = 0.0, np.zeros(6)
    for i in range(1, 6):
        c = c * 0.9 + i * float(i) + i * i
        want_grad *= 0.9
        want_grad[i] += i + 2.0 * i
    assert value == pytest.approx(c) and np.allclose(grad, want_grad)


def test_second_derivatives_through_a_scan_match_differences_of_the_gradient() -> None:
    looped, (k, w, x0) = decay(6, unrolled=False)
    v = sd.var("v", (2,))
    hv = sd.function([k, w, x0, v], sd.hvp(looped, w, v))
    grad = sd.compile(looped, [w], [k, w, x0])
    direction = np.array([0.3, -0.7])
    eps = 1e-6
    numeric = (grad(POINT[0], POINT[1] + eps * direction, POINT[2])[1][0]
               - grad(POINT[0], POINT[1] - eps * direction, POINT[2])[1][0]) / (2 * eps)
    np.testing.assert_allclose(hv(*POINT, direction), numeric, rtol=1e-6, atol=1e-8)


def test_float32_and_a_named_number_of_steps() -> None:
    looped, wrt = decay(5, unrolled=False)
    single = sd.compile(looped, wrt, dtype=np.float32)(np.float32(0.8), *(p.astype(np.float32) for p in POINT[1:]))
    double = sd.compile(looped, wrt)(*POINT)
    assert type(single[0]) is np.float32 and single[0] == pytest.approx(double[0], rel=1e-5)
    xs, w = sd.var("xs", ("n", 2)), sd.var("w", (2,))
    final, _ = sd.scan(lambda c, x: (c * 0.5 + sd.tanh(x * w), None), w * 0.0, xs)
    fn = sd.compile(sd.sum(final), [w], [w, xs])
    for n in (0, 3, 8):
        data = np.linspace(-1, 1, 2 * n).reshape(n, 2)
        c = np.zeros(2)
        for row in data:
            c = c * 0.5 + np.tanh(row * np.array([0.4, -0.6]))
        assert fn(np.array([0.4, -0.6]), data)[0] == pytest.approx(c.sum())


def test_a_step_that_changes_its_carry_is_refused_naming_the_carry() -> None:
    x = sd.var("x", (3,))
    with pytest.raises(sd.ShapeError, match=r"carry 1 changes shape from \(3,\) to \(\)"):
        sd.scan(lambda c, _: ((c[0], sd.sum(c[1])), None), (x, x), length=2)
    with pytest.raises(sd.GraphError, match="carry 0 changes dtype from float64 to bool"):
        sd.scan(lambda c, _: (c > 0.0, None), x, length=2)
    with pytest.raises(sd.GraphError, match="structure one node, but init has a tuple of 2"):
        sd.scan(lambda c, _: (c[0], None), (x, x), length=2)
    with pytest.raises(sd.GraphError, match="must return a pair"):
        sd.scan(lambda c, _: c, x, length=2)
    with pytest.raises(sd.GraphError, match="give xs or length"):
        sd.scan(lambda c, _: (c, None), x)
    with pytest.raises(sd.ShapeError, match="different leading sizes"):
        sd.scan(lambda c, t: (c, None), x, (np.zeros((2, 1)), np.zeros((3, 1))))


def test_a_body_reading_an_unlisted_variable_and_unsupported_uses_are_refused() -> None:
    x, hidden = sd.var("x", (3,)), sd.var("hidden")
    final, _ = sd.scan(lambda c, _: (c * hidden, None), x, length=2)
    with pytest.raises(sd.GraphError, match="hidden"):
        sd.compile(sd.sum(final), [x])
    final, _ = sd.scan(lambda c, _: (sd.sin(c), None), x, length=2)
    tangent = sd.function([x], sd.jvp(final, [x], [np.ones(3)]))(np.array([0.1, 0.2, 0.3]))
    np.testing.assert_allclose(tangent, np.cos(np.sin([0.1, 0.2, 0.3])) * np.cos([0.1, 0.2, 0.3]), rtol=1e-13)


@pytest.mark.parametrize("by", ["x", "w"])
def test_jacobians_and_hessians_through_a_scan_batch_the_loop(by: str) -> None:
    x, w = sd.var("x", (3,)), sd.var("w")
    times = np.linspace(0.0, 1.0, 4)
    final, ys = sd.scan(lambda c, t: (sd.sin(c * w) + t, sd.sum(c * c)), x, sd.as_node(times))
    c, total = x, 0.0
    for t in times:
        total, c = total + sd.sum(c * c), sd.sin(c * w) + t
    variable = {"x": x, "w": w}[by]
    looped = sd.function([x, w], [sd.jacobian(final, variable), sd.hessian(sd.sum(final) + sd.sum(ys), variable),
                                  sd.jacobian(final, variable, mode="forward")])
    unrolled = sd.function([x, w], [sd.jacobian(c, variable), sd.hessian(sd.sum(c) + total, variable),
                                    sd.jacobian(c, variable)])
    point = (np.array([0.2, -0.4, 0.9]), 1.3)
    for got, want in zip(looped(*point), unrolled(*point), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert "step]" in looped.source and ":, step" in looped.source  # batched: the steps on axis 1


@pytest.mark.parametrize("wrt_name", ["W", "h0"])
def test_hessian_vector_products_through_a_recurrent_scan_with_kept_intermediates(
        wrt_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scalarize, "SMALL", 0)  # the loop on arrays, as larger ones print
    w, h0 = sd.var("W", (3, 3)), sd.var("h0", (2, 3))
    xs = np.random.default_rng(5).normal(size=(4, 2, 3))
    final, ys = sd.scan(lambda h, x: (sd.tanh(h @ w + x), sd.sum(sd.exp(-h * h))), h0, sd.as_node(xs))
    loss = sd.sum(final ** 3) + sd.sum(ys)
    by = {"W": w, "h0": h0}[wrt_name]
    direction = sd.var("v", by.shape)
    hv = sd.function([w, h0, direction], sd.hvp(loss, by, direction))
    grad = sd.compile(loss, [by], [w, h0])
    rng = np.random.default_rng(6)
    point = {"W": rng.normal(scale=0.5, size=(3, 3)), "h0": rng.normal(size=(2, 3))}
    v = rng.normal(size=by.shape)
    eps = 1e-6
    plus, minus = dict(point), dict(point)
    plus[wrt_name] = point[wrt_name] + eps * v
    minus[wrt_name] = point[wrt_name] - eps * v
    numeric = (grad(plus["W"], plus["h0"])[1][0] - grad(minus["W"], minus["h0"])[1][0]) / (2 * eps)
    np.testing.assert_allclose(hv(point["W"], point["h0"], v), numeric, rtol=1e-6, atol=1e-8)
    assert "_ys1 = np.empty((4, 2, 3))" in grad.source  # the step's tanh is kept for the reverse sweep


def test_outputs_nothing_reads_are_pruned_from_the_printed_loops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scalarize, "SMALL", 0)  # the loop on arrays, as larger ones print
    w, xs = sd.var("W", (4, 4)), sd.var("xs", (6, 2, 4))
    final, _ = sd.scan(lambda h, x: (sd.tanh(h @ w + x), None), np.zeros((2, 4)), xs)
    fn = sd.compile(sd.sum(final ** 2), [w], [w, xs])
    # the forward loop keeps its carries, one slot more for the final one, which the reverse
    # sweep also reads as each step's tanh; the reverse loop stacks nothing: the cotangents of
    # the data xs are not asked for, and its own carries are not kept
    body = fn.source.split('"""')[-1]  # after the header, which quotes the forward statements
    assert body.count("np.empty(") == 1 and "np.empty((7, 2, 4))" in body
    rng = np.random.default_rng(8)
    point = (rng.normal(scale=0.5, size=(4, 4)), rng.normal(size=(6, 2, 4)))
    h = np.zeros((2, 4))
    for x in point[1]:
        h = np.tanh(h @ point[0] + x)
    assert fn(*point)[0] == pytest.approx(np.sum(h ** 2), rel=1e-13)
    numeric = np.zeros((4, 4))
    for i in range(4):
        for j in range(4):
            bump = np.zeros((4, 4))
            bump[i, j] = 1e-6
            numeric[i, j] = (fn(point[0] + bump, point[1])[0] - fn(point[0] - bump, point[1])[0]) / 2e-6
    np.testing.assert_allclose(fn(*point)[1][0], numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("every", [1, 3, 7, 20])
def test_checkpointing_gives_the_same_value_and_gradient(every: int) -> None:
    w, h0 = sd.var("W", (3, 3)), sd.var("h0", (2, 3))
    xs = np.random.default_rng(9).normal(size=(7, 2, 3))

    def loss(checkpoint):
        final, ys = sd.scan(lambda h, x: (sd.tanh(h @ w + x), sd.sum(h * x)), h0, sd.as_node(xs),
                            checkpoint=checkpoint)
        return sd.sum(final ** 2) + sd.sum(ys * np.arange(1.0, 8.0))

    point = (np.random.default_rng(10).normal(scale=0.5, size=(3, 3)), np.ones((2, 3)) * 0.3)
    plain = sd.compile(loss(None), [w, h0])(*point)
    kept_every = sd.compile(loss(every), [w, h0])(*point)
    assert kept_every[0] == pytest.approx(plain[0], rel=1e-13)
    for g, e in zip(kept_every[1], plain[1], strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)
    v = sd.var("v", (3, 3))
    hv = sd.function([w, h0, v], [sd.hvp(loss(every), w, v), sd.hvp(loss(None), w, v)])
    got, want = hv(*point, np.eye(3))
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-13)


def test_checkpoint_arguments_are_checked() -> None:
    x = sd.var("x", (2,))
    with pytest.raises(sd.GraphError, match="checkpoint must be a positive int"):
        sd.scan(lambda c, _: (c, None), x, length=4, checkpoint=0)
    for bad in ("binary", ("binomial", 0), ("binomial", 2.5), ("revolve", 3)):
        with pytest.raises(sd.GraphError, match=r"checkpoint|snapshots"):
            sd.scan(lambda c, _: (c, None), x, length=4, checkpoint=bad)
    with pytest.raises(sd.UnsupportedError, match="concrete number of steps"):
        sd.scan(lambda c, _: (c, None), x, length="n", checkpoint="binomial")
    final, _ = sd.scan(lambda c, _: (c * 0.5, None), x, length=5, checkpoint=2)  # xs None: 2 stretches and 1 step
    assert sd.compile(sd.sum(final), [x])(np.ones(2))[0] == pytest.approx(2 * 0.5 ** 5)


def test_the_numba_backend_compiles_the_loops_natively() -> None:
    pytest.importorskip("numba")
    looped, wrt = decay(30, unrolled=False)
    w, xs = sd.var("W", (64, 64)), sd.var("xs", (6, 32, 64))  # a BLAS-sized product inside the loop
    final, _ = sd.scan(lambda h, x: (sd.tanh(h @ w + x), None), np.zeros((32, 64)), xs)
    numba_fns = [sd.compile(looped, wrt, backend="numba"),
                 sd.compile(sd.sum(final ** 2), [w], [w, xs], backend="numba")]
    numpy_fns = [sd.compile(looped, wrt), sd.compile(sd.sum(final ** 2), [w], [w, xs])]
    rng = np.random.default_rng(12)
    points = [POINT, (rng.normal(scale=0.1, size=(64, 64)), rng.normal(size=(6, 32, 64)))]
    for fast, plain, point in zip(numba_fns, numpy_fns, points, strict=True):
        got, want = fast(*point), plain(*point)
        assert got[0] == pytest.approx(want[0], rel=1e-12)
        for g, e in zip(got[1], want[1], strict=True):
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-13)
    assert "for step in range(30):" in numba_fns[0].source
    forward_loop = numba_fns[1].source.split("for step")[1].split("t0 = (")[0]
    # the product by numba's own np.dot, the tanh of 2,048 entries by NumPy's SIMD loop
    assert "np.dot(" in forward_loop and "NumPy's SIMD tanh" in forward_loop and "np.matmul" not in forward_loop


@pytest.mark.parametrize("reverse", [False, True])
def test_the_array_api_backend_stacks_each_step_in_a_list(reverse: bool) -> None:
    xps = pytest.importorskip("array_api_strict")
    pytest.importorskip("array_api_compat")
    w, h0 = sd.var("W", (3, 3)), sd.var("h0", (2, 3))
    xs = np.random.default_rng(5).normal(size=(4, 2, 3))
    final, ys = sd.scan(lambda h, x: (sd.tanh(h @ w + x), sd.sum(sd.exp(-h * h))), h0, sd.as_node(xs),
                        reverse=reverse)
    loss = sd.sum(final ** 3) + sd.sum(ys * np.arange(1.0, 5.0))
    portable = sd.function([w, h0], [loss, *sd.grad(loss, [w, h0]), sd.jacobian(final, w)], backend="array_api")
    plain = sd.function([w, h0], [loss, *sd.grad(loss, [w, h0]), sd.jacobian(final, w)])
    point = (np.random.default_rng(1).normal(scale=0.5, size=(3, 3)), np.full((2, 3), 0.2))
    got = portable(xps.asarray(point[0]), xps.asarray(point[1]))
    for g, e in zip(got, plain(*point), strict=True):
        np.testing.assert_allclose(np.asarray(g), e, rtol=1e-12, atol=1e-14)
    assert ".append(" in portable.source and "xp.stack(" in portable.source


STEP_OPS = [
    lambda c, x, w: sd.tanh(c * w[0] + x),
    lambda c, x, w: sd.where(c > 0.1, c * w[1], -c) + x * 0.5,
    lambda c, x, w: sd.maximum(c, x) * w[2],
    lambda c, x, w: sd.concatenate([c[1:], c[:1] * w[0]]) + x,
    lambda c, x, w: c * sd.sum(x * w[1]) / 3.0,
    lambda c, x, w: sd.sin(c) * sd.exp(-x * x) + w[2] * c[::-1],
    lambda c, x, w: sd.reshape(sd.reshape(c, (3, 1)) @ sd.reshape(x, (1, 3)) @ np.ones(3), (3,)) * 0.1 + c,
    lambda c, x, w: sd.sort(c) * w[0] + x,
    lambda c, x, w: c / (1.0 + sd.abs(x)) + sd.logsumexp(c) * w[1],
]


@pytest.mark.parametrize("trial", range(12))
def test_random_steps_agree_with_the_unrolled_graph_to_second_order(trial: int) -> None:
    rng = np.random.default_rng(100 + trial)
    first, second = (STEP_OPS[i] for i in rng.integers(0, len(STEP_OPS), size=2))
    steps, reverse = int(rng.integers(0, 5)), bool(rng.integers(0, 2))
    checkpoint = None if reverse else [None, 2][int(rng.integers(0, 2))]
    c0, w = sd.var("c0", (3,)), sd.var("w", (3,))
    xs = rng.normal(size=(steps, 3))

    def step(c, x):
        a = first(c, x, w)
        b = second(a, x, w)
        return b, sd.sum(a * b)

    final, ys = sd.scan(step, c0, sd.as_node(xs), reverse=reverse, checkpoint=checkpoint)
    looped = sd.sum(final * final) + sd.sum(ys * np.arange(1.0, steps + 1.0))
    c, total = c0, 0.0
    for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
        c, y = step(c, sd.as_node(xs[t]))
        total = total + y * (t + 1.0)
    unrolled = sd.sum(c * c) + total
    v = sd.var("v", (3,))
    outputs = [sd.hvp(looped, w, v), sd.jacobian(final, w)], [sd.hvp(unrolled, w, v), sd.jacobian(c, w)]
    point = [rng.normal(size=3), rng.uniform(0.5, 1.5, 3), np.array([1.0, -0.5, 0.2])]
    got, want = sd.compile(looped, [c0, w])(*point[:2]), sd.compile(unrolled, [c0, w])(*point[:2])
    assert got[0] == pytest.approx(want[0], rel=1e-10, abs=1e-12)
    for g, e in zip(got[1], want[1], strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-11)
    for g, e in zip(sd.function([c0, w, v], outputs[0])(*point), sd.function([c0, w, v], outputs[1])(*point),
                    strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-8, atol=1e-10)


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


@pytest.mark.parametrize("nested", [False, True])
def test_check_grad_blames_the_wrong_node_inside_a_loop_body(nested: bool) -> None:
    from symdiff.ops import OPS
    from symdiff.testing import check_grad

    bad = sd.define_op("wrong_softplus", arity=1, numpy=_softplus, vjp=lambda g, out, x: (g * out,))
    try:
        w = sd.var("w", (3,))

        def step(c: sd.Node, x: sd.Node) -> tuple[sd.Node, None]:
            if nested:  # the wrong op two loops down
                inner, _ = sd.scan(lambda d, _: (sd.tanh(d * w + bad(d * x)), None), c, length=2)
                return inner, None
            return sd.tanh(c * w + bad(x * c)), None

        final, _ = sd.scan(step, np.array([0.2, -0.1, 0.4]), np.linspace(0.1, 1.0, 12).reshape(4, 3))
        with pytest.raises(sd.GradientError) as info:
            check_grad(sd.sum(final ** 2), [w], at=[np.array([0.5, -0.3, 0.8])])
        assert info.value.op == "wrong_softplus" and info.value.node.shape == (3,)
        assert str(info.value).count("inside the body of a scan") == (2 if nested else 1)
        assert "wrong_softplus(%0) : (3,)   <-- here" in str(info.value)
        right = sd.scan(lambda c, x: (sd.tanh(c * w + sd.log1p(sd.exp(x * c))), None), np.array([0.2, -0.1, 0.4]),
                        np.linspace(0.1, 1.0, 12).reshape(4, 3))[0]
        check_grad(sd.sum(right ** 2), [w], at=[np.array([0.5, -0.3, 0.8])])  # raises nothing
    finally:
        OPS.pop("wrong_softplus", None)


def _scalar_pair(steps: int, step: Any) -> tuple[sd.Node, sd.Node]:
    theta = sd.var("theta", (3,))
    (p, q), ys = sd.scan(lambda c, x: step(c, x, theta), (theta[0], theta[1]), np.linspace(0.1, 0.9, steps))
    return sd.sum(ys) + p * q, theta


def _unrolled_pair(steps: int, step: Any) -> tuple[sd.Node, list[sd.Node]]:
    """``_scalar_pair``'s loop unrolled in Python: the objective and its variable."""
    theta = sd.var("theta", (3,))
    p, q, total = theta[0], theta[1], 0.0
    for x in np.linspace(0.1, 0.9, steps):
        (p, q), y = step((p, q), x, theta)
        total = total + y
    return total + p * q, [theta]


def _smooth(c: Any, x: Any, theta: sd.Node) -> Any:
    p, q = c
    return (p + 0.1 * sd.sin(q * theta[2]) + x, q - 0.05 * sd.exp(-p * p) * x), sd.log1p(p * p) * q


def test_a_loop_of_scalars_runs_on_python_floats_and_gives_the_numpy_loops_numbers() -> None:
    expr, theta = _scalar_pair(30, _smooth)
    fn = sd.compile(expr, [theta])
    assert fn.source.count("\n    try:\n") == 2 and ".tolist()" in fn.source and "math.sin(" in fn.source
    point = np.array([0.3, -0.7, 1.3])
    value, (grad,) = fn(point)
    want, (want_grad,) = sd.compile(*_unrolled_pair(30, _smooth))(point)
    assert value == pytest.approx(want, rel=1e-13)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-12)
    numba_value, (numba_grad,) = sd.compile(expr, [theta], backend="numba")(point)
    assert numba_value == pytest.approx(value, rel=1e-13)
    np.testing.assert_allclose(numba_grad, grad, rtol=1e-12)


@pytest.mark.parametrize("trouble", ["log of a negative", "division by zero", "overflow"])
def test_where_math_raises_or_overflows_the_numpy_loop_gives_ieee_results_and_warnings(trouble: str) -> None:
    def step(c: Any, x: Any, theta: sd.Node) -> Any:
        p, q = c
        if trouble == "log of a negative":
            return (p - x, q), sd.log(p) * q  # p falls below zero on the way
        if trouble == "division by zero":
            return (p * 0.0, q), q / p  # 1 / 0 from the second step on
        return (p * p * theta[2], q), p * q  # p squares past 1e308

    expr, theta = _scalar_pair(12, step)
    fn = sd.compile(expr, [theta])
    point = np.array([2.0, 0.5, 1e30])
    with pytest.warns(RuntimeWarning):
        value, (grad,) = fn(point)
    with pytest.warns(RuntimeWarning):
        want, (want_grad,) = sd.compile(*_unrolled_pair(12, step))(point)
    np.testing.assert_array_equal(value, want)
    np.testing.assert_array_equal(grad, want_grad)


def _recurrent(checkpoint: Any, reverse: bool, steps: int = 13) -> tuple[sd.Node, list[sd.Node]]:
    w, u = sd.var("w", (3,)), sd.var("u", (steps, 3))

    def step(c: Any, x: Any) -> Any:
        h, s = c
        new = sd.tanh(h * w + x[0] * s) + 0.1 * x[1]
        return (new, s * 0.9 + sd.sum(new) * 0.01), sd.sum(new * x[1])

    xs = (u, np.linspace(-1.0, 1.0, steps * 3).reshape(steps, 3))
    (h, s), ys = sd.scan(step, (np.array([0.2, -0.1, 0.4]), w[0] * 1.5), xs, reverse=reverse, checkpoint=checkpoint)
    return sd.sum(h ** 2) + s * s + sd.sum(ys * np.arange(steps)), [w, u]


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("checkpoint", ["binomial", ("binomial", 1), ("binomial", 2), ("binomial", 40), 4])
def test_binomial_and_reversed_checkpointing_give_the_plain_scans_gradient(checkpoint: Any, reverse: bool) -> None:
    plain, variables = _recurrent(None, reverse)
    expr, checked_variables = _recurrent(checkpoint, reverse)
    point = [np.array([0.5, -0.3, 0.8]), np.random.default_rng(13).uniform(-1.0, 1.0, (13, 3))]
    want, want_grads = sd.compile(plain, variables)(*point)
    fn = sd.compile(expr, checked_variables)
    got, grads = fn(*point)
    assert got == pytest.approx(want, rel=1e-14)
    for g, h in zip(grads, want_grads, strict=True):
        np.testing.assert_allclose(g, h, rtol=1e-12, atol=1e-14)
    if checkpoint != 4:
        assert "_revolve(13, " in fn.source and "_saved" not in fn.source  # no carry is saved per step


@pytest.mark.parametrize("steps", [0, 1, 2])
def test_binomial_checkpointing_of_short_loops(steps: int) -> None:
    x = sd.var("x", (2,))
    final, _ = sd.scan(lambda c, _: (sd.sin(c) * x, None), x, length=steps, checkpoint="binomial")
    plain, _ = sd.scan(lambda c, _: (sd.sin(c) * x, None), x, length=steps)
    point = np.array([0.7, -1.1])
    got, want = sd.compile(sd.sum(final), [x])(point), sd.compile(sd.sum(plain), [x])(point)
    assert got[0] == pytest.approx(want[0], rel=1e-15)
    np.testing.assert_allclose(got[1][0], want[1][0], rtol=1e-14)


@pytest.mark.parametrize(("steps", "snapshots"), [(1, 1), (9, 1), (10, 2), (100, 3), (1000, 5), (10000, 15), (7, 10)])
def test_the_binomial_schedule_reverses_every_step_within_griewanks_bound(steps: int, snapshots: int) -> None:
    from math import comb

    from symdiff.runtime import _revolve

    slots: dict[int, int] = {}
    at: int | None = 0
    reversed_steps, runs = [], np.zeros(steps, dtype=np.int64)
    for kind, arg, t in _revolve(steps, snapshots):
        if kind == 0:
            assert slots[arg] == t
            at = t
        elif kind == 1:
            assert at == t and 0 <= arg < snapshots
            slots[arg] = t
        elif kind == 2:
            assert at == t and arg > 0
            runs[t:t + arg] += 1
            at = t + arg
        else:
            assert at == t
            reversed_steps.append(t)
            at = None  # the carry is spent: the next action restores one
    assert reversed_steps == list(range(steps - 1, -1, -1))
    if snapshots > 1:  # Griewank: with s - 1 free slots, r repetitions reach C(s - 1 + r, r) steps
        fewest = next(r for r in range(steps + 1) if comb(snapshots - 1 + r, r) >= steps)
        assert runs.max() <= fewest
    else:
        assert runs.max() <= steps - 1


def test_binomial_checkpointing_refuses_what_it_cannot_do_by_name() -> None:
    expr, variables = _recurrent("binomial", False)
    for backend in ("numba", "array_api"):
        with pytest.raises(sd.UnsupportedError, match=f"the {backend} backend cannot compute revolve"):
            sd.compile(expr, variables, backend=backend)
    with pytest.raises(sd.UnsupportedError, match="checkpoint='binomial'"):
        sd.compile(sd.sum(sd.hvp(expr, variables[0], np.ones(3))), variables)


def test_a_body_on_small_arrays_runs_on_their_entries() -> None:
    """An RK4-like step on a state of 2 entries: the loops run on scalars, the results are the
    unrolled graph's to second order, on numpy (Python floats) and numba."""
    k = sd.var("k", (3,))

    def step(state: sd.Node, x: Any) -> tuple[sd.Node, sd.Node]:
        p, q = state[0], state[1]
        rate = sd.stack([k[0] * p - k[1] * p * q, k[2] * p * q - q]) + x[:2] * 0.1
        new = state + 0.05 * sd.tanh(rate) + 0.01 * (sd.reshape(state, (2, 1)) @ sd.reshape(x[1:], (1, 2))).sum(axis=1)
        return new, sd.mean(new * new)

    xs = np.random.default_rng(3).normal(size=(7, 3))
    final, ys = sd.scan(step, sd.stack([k[0], k[1] * 2.0]), sd.as_node(xs))
    looped = sd.sum(final ** 2) + sd.sum(ys * np.arange(7.0))
    state, total = sd.stack([k[0], k[1] * 2.0]), 0.0
    for t in range(7):
        state, y = step(state, sd.as_node(xs[t]))
        total = total + y * float(t)
    unrolled = sd.sum(state ** 2) + total
    fn = sd.compile(looped, [k])
    loops = fn.source.split('"""')[-1]
    assert "np.concatenate" not in loops.split("# reverse sweep")[0].split("try:")[1].split("except")[0]
    assert "math.tanh" in loops or "np.tanh(" in loops
    point = np.array([0.9, 0.4, 0.7])
    value, (grad,) = fn(point)
    want, (want_grad,) = sd.compile(unrolled, [k])(point)
    assert value == pytest.approx(want, rel=1e-13)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-12)
    v = sd.var("v", (3,))
    direction = np.array([0.3, -1.0, 0.5])
    hv = sd.function([k, v], sd.hvp(looped, k, v))(point, direction)
    np.testing.assert_allclose(hv, sd.function([k, v], sd.hvp(unrolled, k, v))(point, direction), rtol=1e-11)
    jac = sd.function([k], sd.jacobian(final, k))(point)
    np.testing.assert_allclose(jac, sd.function([k], sd.jacobian(state, k))(point), rtol=1e-12)
    numba_value, (numba_grad,) = sd.compile(looped, [k], backend="numba")(point)
    assert numba_value == pytest.approx(value, rel=1e-13)
    np.testing.assert_allclose(numba_grad, grad, rtol=1e-12)


def test_bodies_that_cannot_run_on_entries_stay_on_arrays() -> None:
    x = sd.var("x", (3,))
    by_value, _ = sd.scan(lambda c, _: (sd.sort(c) * x, None), x, length=3)  # a sort moves entries by value
    big, _ = sd.scan(lambda c, _: (sd.tanh(c) * 0.5, None), np.ones(scalarize.SMALL + 1), length=3)
    for expr in (sd.sum(by_value), sd.sum(big * x[0])):
        source = sd.compile(expr, [x]).source
        assert "_carry0 = float(" not in source and "_carry1" not in source.split("# reverse sweep")[0]
    point = np.array([0.3, -0.2, 0.9])
    c = point.copy()
    for _ in range(3):
        c = np.sort(c) * point
    assert sd.compile(sd.sum(by_value), [x])(point)[0] == pytest.approx(c.sum(), rel=1e-14)
