"""Loops: sd.scan against hand-written forward and reverse sweeps, and against unrolling.

Run: python benchmarks/loops.py [--rounds 9] [--out benchmarks/loops.md]

- RK4 on a Lotka-Volterra system (2 states, 4 rates and 2 initial states as the 6
  parameters), the squared distance of the final state from a target, differentiated by the
  parameters: compile time, source lines, call time at 1,000 and 10,000 steps; the gradient
  against the unrolled graph at 1,000 steps (both with ``rewrites=False``) and against central
  differences of the scanned value at 10,000. The hand-written reference is the fastest plain
  Python a skilled user writes for two states: floats, the forward states kept, and the
  adjoint of each RK4 stage written out, recomputing the stages from the kept state.
- A tanh RNN (hidden 64, input 16, 200 steps, batch 32) with the loss mean(h_T ** 2), against a
  hand-written NumPy backpropagation through time (states kept, in-place accumulation).
- Peak memory of one call (tracemalloc) beside each; ``checkpoint=`` on and off.
- The numba backend, with its JIT time, and JAX's ``lax.scan`` (jit, float64) where JAX is
  installed.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
from named_dims import arguments, paired_ratio, report

import symdiff as sd

H = 0.001
TARGET = (1.0, 0.5)
START = np.array([1.0, 0.5, 0.4, 0.8, 2.0, 1.0])


def lotka_volterra(steps: int, unrolled: bool = False, checkpoint: Any = None) -> tuple[sd.Node, sd.Node]:
    params = sd.var("params", (6,))

    def rhs(state: sd.Node) -> sd.Node:
        prey, predator = state[0], state[1]
        a, b, c, d = params[0], params[1], params[2], params[3]
        return sd.stack([a * prey - b * prey * predator, c * prey * predator - d * predator])

    def rk4(state: sd.Node, _: Any) -> tuple[sd.Node, None]:
        k1 = rhs(state)
        k2 = rhs(state + H / 2 * k1)
        k3 = rhs(state + H / 2 * k2)
        k4 = rhs(state + H * k3)
        return state + H / 6 * (k1 + 2 * k2 + 2 * k3 + k4), None

    if unrolled:
        final = params[4:]
        for _ in range(steps):
            final, _ = rk4(final, None)
    else:
        final, _ = sd.scan(rk4, params[4:], length=steps, checkpoint=checkpoint)
    return sd.sum((final - np.array(TARGET)) ** 2), params


def lotka_volterra_pairs(steps: int) -> tuple[sd.Node, sd.Node]:
    """The same integration with the two states as two scalar carries, as a user may write it."""
    params = sd.var("params", (6,))
    a, b, c, d = params[0], params[1], params[2], params[3]

    def rhs(p: sd.Node, q: sd.Node) -> tuple[sd.Node, sd.Node]:
        return a * p - b * p * q, c * p * q - d * q

    def rk4(state: tuple[sd.Node, sd.Node], _: Any) -> tuple[tuple[sd.Node, sd.Node], None]:
        p, q = state
        k1 = rhs(p, q)
        k2 = rhs(p + H / 2 * k1[0], q + H / 2 * k1[1])
        k3 = rhs(p + H / 2 * k2[0], q + H / 2 * k2[1])
        k4 = rhs(p + H * k3[0], q + H * k3[1])
        return (p + H / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0]),
                q + H / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])), None

    (p, q), _ = sd.scan(rk4, (params[4], params[5]), length=steps)
    return (p - TARGET[0]) ** 2 + (q - TARGET[1]) ** 2, params


def checked_rk4(build: Callable[[int], tuple[sd.Node, sd.Node]], steps: int) -> tuple[Any, float]:
    """The compiled RK4 gradient and its compile time, checked against the hand-written sweep."""
    began = time.perf_counter()
    expr, params = build(steps)
    fn = sd.compile(expr, [params])
    compile_time = time.perf_counter() - began
    value, (grad,) = fn(START)
    hand_value, hand_grad = hand_rk4(START, steps)
    assert abs(value - hand_value) <= 1e-10 * abs(hand_value) and np.allclose(grad, hand_grad, rtol=1e-8)
    return fn, compile_time


def pair_rows(rounds: int) -> list[str]:
    """The two-scalar-carry form: its loops run on Python floats."""
    rows = []
    for steps in (1000, 10000):
        fn, compile_time = checked_rk4(lotka_volterra_pairs, steps)
        rows.append(rk4_row(f"RK4, {steps} steps, the states as two scalar carries", fn, steps, compile_time,
                            rounds, "loops on Python floats"))
    return rows


def rk4_row(label: str, fn: Any, steps: int, compile_time: float, rounds: int, note: str) -> str:
    """One table row: compile time, source lines, the paired call ratio and peak memory."""
    ratio, low, high = paired_ratio(lambda: fn(START), lambda: hand_rk4(START, steps), rounds)
    began = time.perf_counter()
    fn(START)
    call = time.perf_counter() - began
    return (f"| {label} | {compile_time:.3f} s | {len(fn.source.splitlines())} | {call * 1e3:.0f} ms; "
            f"{ratio:.2f}x hand [{low:.2f}, {high:.2f}] | {peak(lambda: fn(START)):.2f} MB "
            f"(hand {peak(lambda: hand_rk4(START, steps)):.2f}) | {note} |")


def hand_rk4(theta: np.ndarray, steps: int) -> tuple[float, np.ndarray]:
    """Value and gradient by hand: floats, states kept, each stage's adjoint written out."""
    a, b, c, d, p, q = (float(v) for v in theta)
    h = H
    ps, qs = [0.0] * steps, [0.0] * steps

    def f(p: float, q: float) -> tuple[float, float]:
        return a * p - b * p * q, c * p * q - d * q

    for n in range(steps):
        ps[n], qs[n] = p, q
        k1p, k1q = f(p, q)
        k2p, k2q = f(p + h / 2 * k1p, q + h / 2 * k1q)
        k3p, k3q = f(p + h / 2 * k2p, q + h / 2 * k2q)
        k4p, k4q = f(p + h * k3p, q + h * k3q)
        p, q = p + h / 6 * (k1p + 2 * k2p + 2 * k3p + k4p), q + h / 6 * (k1q + 2 * k2q + 2 * k3q + k4q)
    value = (p - TARGET[0]) ** 2 + (q - TARGET[1]) ** 2
    lp, lq = 2 * (p - TARGET[0]), 2 * (q - TARGET[1])
    grads = [0.0, 0.0, 0.0, 0.0]

    def back(sp: float, sq: float, kp: float, kq: float) -> tuple[float, float]:
        """k = f(s) with cotangent k-bar: the rates' gradients grow, J(s)^T k-bar is returned."""
        grads[0] += sp * kp
        grads[1] -= sp * sq * kp
        grads[2] += sp * sq * kq
        grads[3] -= sq * kq
        return (a - b * sq) * kp + c * sq * kq, -b * sp * kp + (c * sp - d) * kq

    for n in range(steps - 1, -1, -1):
        p, q = ps[n], qs[n]  # the stages again, from the kept state
        k1p, k1q = f(p, q)
        p2, q2 = p + h / 2 * k1p, q + h / 2 * k1q
        k2p, k2q = f(p2, q2)
        p3, q3 = p + h / 2 * k2p, q + h / 2 * k2q
        k3p, k3q = f(p3, q3)
        p4, q4 = p + h * k3p, q + h * k3q
        dp, dq = back(p4, q4, h / 6 * lp, h / 6 * lq)
        sp_, sq_ = lp + dp, lq + dq
        dp, dq = back(p3, q3, h / 3 * lp + h * dp, h / 3 * lq + h * dq)
        sp_, sq_ = sp_ + dp, sq_ + dq
        dp, dq = back(p2, q2, h / 3 * lp + h / 2 * dp, h / 3 * lq + h / 2 * dq)
        sp_, sq_ = sp_ + dp, sq_ + dq
        dp, dq = back(p, q, h / 6 * lp + h / 2 * dp, h / 6 * lq + h / 2 * dq)
        lp, lq = sp_ + dp, sq_ + dq
    ga, gb, gc, gd = grads
    return value, np.array([ga, gb, gc, gd, lp, lq])


def rnn(steps: int = 200, batch: int = 32, features: int = 16, hidden: int = 64,
        checkpoint: Any = None) -> tuple[sd.Node, list[sd.Node]]:
    w, u, b = sd.var("W", (hidden, hidden)), sd.var("U", (features, hidden)), sd.var("b", (hidden,))
    xs = sd.var("xs", (steps, batch, features))
    final, _ = sd.scan(lambda h, x: (sd.tanh(h @ w + x @ u + b), None), np.zeros((batch, hidden)), xs,
                       checkpoint=checkpoint)
    return sd.mean(final ** 2), [w, u, b, xs]


def hand_rnn(w: np.ndarray, u: np.ndarray, b: np.ndarray, xs: np.ndarray) -> tuple[float, tuple[np.ndarray, ...]]:
    """Backpropagation through time: the states kept in one array, gradients accumulated in place."""
    steps, batch, _ = xs.shape
    states = np.empty((steps + 1, batch, w.shape[0]))
    states[0] = 0.0
    for t in range(steps):
        np.tanh(states[t] @ w + xs[t] @ u + b, out=states[t + 1])
    final = states[-1]
    value = float(np.mean(final * final))
    dh = final * (2.0 / final.size)
    dw, du, db = np.zeros_like(w), np.zeros_like(u), np.zeros_like(b)
    for t in range(steps - 1, -1, -1):
        dz = dh * (1.0 - states[t + 1] ** 2)
        dw += states[t].T @ dz
        du += xs[t].T @ dz
        db += dz.sum(axis=0)
        dh = dz @ w.T
    return value, (dw, du, db)


def peak(fn: Callable[[], Any]) -> float:
    fn()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    fn()
    used = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    return used / 2**20


def rk4_rows(rounds: int) -> list[str]:
    rows = []
    unrolled_expr, unrolled_params = lotka_volterra(1000, unrolled=True)
    unrolled = sd.compile(unrolled_expr, [unrolled_params], rewrites=False)
    looped_expr, looped_params = lotka_volterra(1000)
    looped = sd.compile(looped_expr, [looped_params], rewrites=False)
    g_loop, g_unrolled = looped(START)[1][0], unrolled(START)[1][0]
    agreement = np.abs(g_loop - g_unrolled).max() / np.abs(g_unrolled).max()
    for steps in (1000, 10000):
        fn, compile_time = checked_rk4(lotka_volterra, steps)
        grad = fn(START)[1][0]
        note = f"gradient vs unrolled (1,000 steps, rewrites off): {agreement:.1e} relative" if steps == 1000 else ""
        if steps == 10000:
            eps = 1e-6
            expr, params = lotka_volterra(steps)
            value_fn = sd.function([params], expr)
            numeric = np.array([(value_fn(START + eps * e) - value_fn(START - eps * e)) / (2 * eps) for e in np.eye(6)])
            note = f"gradient vs central differences: {np.abs(numeric - grad).max() / np.abs(grad).max():.1e} relative"
        rows.append(rk4_row(f"RK4 Lotka-Volterra, {steps} steps", fn, steps, compile_time, rounds, note))
    for label, checkpoint in (("checkpoint=100", 100), ("checkpoint='binomial' (15 carries)", "binomial")):
        expr, params = lotka_volterra(10000, checkpoint=checkpoint)
        fn = sd.compile(expr, [params])
        value, (grad,) = fn(START)
        hand_value, hand_grad = hand_rk4(START, 10000)
        assert abs(value - hand_value) <= 1e-10 * abs(hand_value) and np.allclose(grad, hand_grad, rtol=1e-8)
        ratio, low, high = paired_ratio(lambda: fn(START), lambda: hand_rk4(START, 10000), 3)  # noqa: B023
        rows.append(f"| RK4, 10000 steps, {label} | | {len(fn.source.splitlines())} | {ratio:.2f}x hand "
                    f"[{low:.2f}, {high:.2f}] | {peak(lambda: fn(START)):.2f} MB | |")  # noqa: B023
    began = time.perf_counter()
    unrolled_expr, unrolled_params = lotka_volterra(1000, unrolled=True)
    unrolled = sd.compile(unrolled_expr, [unrolled_params])
    rows.append(f"| the same unrolled, 1,000 steps | {time.perf_counter() - began:.2f} s | "
                f"{len(unrolled.source.splitlines())} | | | |")
    return rows


def rnn_rows(rounds: int) -> list[str]:
    return [*rnn_row(rounds, None), *rnn_row(rounds, 20), *rnn_row(rounds, "binomial"), *numba_rows(rounds),
            *jax_rows(rounds),
            *torch_rows(rounds)]


def torch_rows(rounds: int) -> list[str]:
    """PyTorch (CPU, float64, eager autograd) on the tanh RNN, as its users write it."""
    try:
        import torch
    except ImportError:
        return ["| PyTorch | | | torch is not installed | | |"]
    rng = np.random.default_rng(0)
    w, u = rng.normal(scale=0.1, size=(64, 64)), rng.normal(scale=0.1, size=(16, 64))
    b, xs = np.zeros(64), rng.normal(size=(200, 32, 16))

    def torch_step() -> tuple[float, list[np.ndarray]]:
        tw, tu, tb = (torch.tensor(v, requires_grad=True) for v in (w, u, b))
        txs = torch.from_numpy(xs)
        h = torch.zeros((32, 64), dtype=torch.float64)
        for t in range(txs.shape[0]):
            h = torch.tanh(h @ tw + txs[t] @ tu + tb)
        loss = torch.mean(h ** 2)
        loss.backward()
        return float(loss.detach()), [p.grad.numpy() for p in (tw, tu, tb)]  # type: ignore[union-attr]

    loss, inputs = rnn()
    rows = []
    value, grads = torch_step()
    for backend in ("numpy", "numba"):
        ours = sd.compile(loss, inputs[:3], inputs, backend=backend)
        mine, my_grads = ours(w, u, b, xs)
        assert abs(mine - value) <= 1e-10 * abs(value)
        assert all(np.allclose(g, h, rtol=1e-8, atol=1e-12) for g, h in zip(my_grads, grads, strict=True))
        ratio, low, high = paired_ratio(lambda: ours(w, u, b, xs), torch_step, rounds)  # noqa: B023
        rows.append(f"| tanh RNN: symdiff {backend} / PyTorch {torch.__version__} (eager, CPU) | | | "
                    f"{ratio:.2f}x torch [{low:.2f}, {high:.2f}] | | |")
    return rows


def jax_rows(rounds: int) -> list[str]:
    """JAX's lax.scan on the same two loops, jit-compiled, float64, as its users write them."""
    try:
        import jax
    except ImportError:
        return ["| JAX | | | jax is not installed | | |"]
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def rk4_loss(theta: Any, steps: int) -> Any:
        a, b, c, d = theta[0], theta[1], theta[2], theta[3]

        def rhs(s: Any) -> Any:
            return jnp.stack([a * s[0] - b * s[0] * s[1], c * s[0] * s[1] - d * s[1]])

        def step(s: Any, _: Any) -> tuple[Any, None]:
            k1 = rhs(s)
            k2 = rhs(s + H / 2 * k1)
            k3 = rhs(s + H / 2 * k2)
            k4 = rhs(s + H * k3)
            return s + H / 6 * (k1 + 2 * k2 + 2 * k3 + k4), None

        final, _ = jax.lax.scan(step, theta[4:], None, length=steps)
        return jnp.sum((final - jnp.array(TARGET)) ** 2)

    rows = []
    for steps in (1000, 10000):
        began = time.perf_counter()
        fn = jax.jit(jax.value_and_grad(lambda t, n=steps: rk4_loss(t, n)))
        jax.block_until_ready(fn(START))
        jit = time.perf_counter() - began
        expr, params = lotka_volterra(steps)
        ours = sd.compile(expr, [params], backend="numba")
        ratio, low, high = paired_ratio(lambda: ours(START), lambda: jax.block_until_ready(fn(START)),  # noqa: B023
                                        max(rounds // 3, 3))
        rows.append(f"| RK4, {steps} steps: symdiff numba / JAX lax.scan | JAX {jit:.1f} s (jit) | | "
                    f"{ratio:.3f}x JAX [{low:.3f}, {high:.3f}] | | |")

    def rnn_loss(w: Any, u: Any, b: Any, xs: Any) -> Any:
        final, _ = jax.lax.scan(lambda h, x: (jnp.tanh(h @ w + x @ u + b), None), jnp.zeros((32, 64)), xs)
        return jnp.mean(final ** 2)

    rng = np.random.default_rng(0)
    w, u = rng.normal(scale=0.1, size=(64, 64)), rng.normal(scale=0.1, size=(16, 64))
    b, xs = np.zeros(64), rng.normal(size=(200, 32, 16))
    fn = jax.jit(jax.value_and_grad(rnn_loss, argnums=(0, 1, 2)))
    jax.block_until_ready(fn(w, u, b, xs))
    loss, inputs = rnn()
    for backend in ("numpy", "numba"):
        ours = sd.compile(loss, inputs[:3], inputs, backend=backend)
        ratio, low, high = paired_ratio(lambda: ours(w, u, b, xs),  # noqa: B023
                                        lambda: jax.block_until_ready(fn(w, u, b, xs)), rounds)
        rows.append(f"| tanh RNN: symdiff {backend} / JAX lax.scan | | | {ratio:.2f}x JAX [{low:.2f}, {high:.2f}] "
                    "| | |")
    return rows


def numba_rows(rounds: int) -> list[str]:
    """The same loops on the numba backend: its JIT time, then paired calls against the hand sweeps."""
    try:
        import numba  # noqa: F401  (imported before timing: the import alone takes about 0.5 s)
    except ImportError:
        return ["| numba backend | | | numba is not installed | | |"]
    rows = []
    expr, params = lotka_volterra(10000)
    began = time.perf_counter()
    fn = sd.compile(expr, [params], backend="numba")
    jit = time.perf_counter() - began
    ratio, low, high = paired_ratio(lambda: fn(START), lambda: hand_rk4(START, 10000), max(rounds // 3, 3))
    rows.append(f"| RK4, 10000 steps, numba backend | {jit:.1f} s (JIT) | | {ratio:.3f}x hand [{low:.3f}, {high:.3f}] "
                f"| | |")
    rng = np.random.default_rng(0)
    w, u = rng.normal(scale=0.1, size=(64, 64)), rng.normal(scale=0.1, size=(16, 64))
    b, xs = np.zeros(64), rng.normal(size=(200, 32, 16))
    loss, inputs = rnn()
    began = time.perf_counter()
    fn = sd.compile(loss, inputs[:3], inputs, backend="numba")
    jit = time.perf_counter() - began
    ratio, low, high = paired_ratio(lambda: fn(w, u, b, xs), lambda: hand_rnn(w, u, b, xs), rounds)
    rows.append(f"| tanh RNN, numba backend | {jit:.1f} s (JIT) | | {ratio:.2f}x hand [{low:.2f}, {high:.2f}] | | |")
    return rows


def rnn_row(rounds: int, checkpoint: Any) -> list[str]:
    rng = np.random.default_rng(0)
    w, u = rng.normal(scale=0.1, size=(64, 64)), rng.normal(scale=0.1, size=(16, 64))
    b, xs = np.zeros(64), rng.normal(size=(200, 32, 16))
    began = time.perf_counter()
    loss, inputs = rnn(checkpoint=checkpoint)
    fn = sd.compile(loss, inputs[:3], inputs)
    compile_time = time.perf_counter() - began
    value, grads = fn(w, u, b, xs)
    hand_value, hand_grads = hand_rnn(w, u, b, xs)
    assert abs(value - hand_value) <= 1e-12 * abs(hand_value)
    assert all(np.allclose(g, e, rtol=1e-9, atol=1e-14) for g, e in zip(grads, hand_grads, strict=True))
    ratio, low, high = paired_ratio(lambda: fn(w, u, b, xs), lambda: hand_rnn(w, u, b, xs), rounds)
    began = time.perf_counter()
    fn(w, u, b, xs)
    call = time.perf_counter() - began
    label = "" if checkpoint is None else f", checkpoint={checkpoint!r}"
    return [f"| tanh RNN, hidden 64, input 16, 200 steps, batch 32{label} | {compile_time:.3f} s | "
            f"{len(fn.source.splitlines())} | {call * 1e3:.1f} ms; {ratio:.2f}x hand [{low:.2f}, {high:.2f}] | "
            f"{peak(lambda: fn(w, u, b, xs)):.1f} MB (hand {peak(lambda: hand_rnn(w, u, b, xs)):.1f}) | |"]


def main() -> None:
    args = arguments(__doc__, 9)
    lines = ["| workload | compile | source lines | call (NumPy backend) | peak memory | notes |",
             "|---|---|---|---|---|---|"]
    lines += rk4_rows(args.rounds)
    lines += pair_rows(args.rounds)
    lines += rnn_rows(args.rounds)
    report(lines, args.out, "Loops", "loops.py", " Ratios are paired and interleaved against the hand-written "
           "sweeps (median, 95% interval).")


if __name__ == "__main__":
    main()
