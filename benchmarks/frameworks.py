"""JAX and PyTorch peers: the workload's loss written once against an array module, then
differentiated by ``jax.jit(jax.value_and_grad(...))`` or by PyTorch's eager autograd, in
float64. Both are optional (``pip install -e ".[bench]"``); a missing one raises Skip.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from peers import Skip

SQRT2 = math.sqrt(2.0)


def loss_of(workload: Any, xp: Any, relu: Callable[[Any], Any]) -> Callable[..., Any]:
    """The workload's value as a function of all its inputs, written with ``xp``."""
    kind = workload.id.split()[0]
    if kind in ("W1a", "W1b"):
        return lambda a, b: xp.sum(xp.log(a) + a * b - xp.sin(b))
    if kind in ("W2a", "W2b"):
        def relu_loss(w1: Any, b1: Any, w2: Any, b2: Any, x: Any, t: Any) -> Any:
            r = t - (w2 * relu(w1 * x + b1) + b2)
            return xp.sum(r * r)
        return relu_loss
    if kind == "W3":
        return lambda W1, b1, W2, b2, X, Y: xp.mean((xp.tanh(X @ W1 + b1) @ W2 + b2 - Y) ** 2)
    if kind.startswith("W4"):
        from workloads import helmholtz_data

        _, A, b = helmholtz_data(workload.args[0].size)
        A, b = xp.asarray(A), xp.asarray(b)

        def energy(x: Any) -> Any:
            s = b @ x
            ratio = (1.0 + (1.0 + SQRT2) * s) / (1.0 + (1.0 - SQRT2) * s)
            return xp.sum(x * xp.log(x / (1.0 - s))) - (x @ A @ x) / (math.sqrt(8.0) * s) * xp.log(ratio)
        return energy
    if workload.id.startswith("W5 prod_sin"):
        def product(*x: Any) -> Any:
            p = xp.sin(x[0])
            for v in x[1:]:
                p = p * xp.sin(v)
            return p
        return product
    if workload.id.startswith("W5 chain"):
        k = int(workload.id.split("=")[1])

        def chain(x: Any, y: Any) -> Any:
            z = x
            for _ in range(k):
                z = xp.sin(z * y + xp.cos(z))
            return z
        return chain
    raise Skip(f"no formulation of {workload.id}")


def jax_peer(workload: Any) -> Callable[..., Any]:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        raise Skip("jax is not installed") from None
    jax.config.update("jax_enable_x64", True)
    loss = loss_of(workload, jnp, lambda v: jnp.maximum(v, 0.0))
    positions = tuple(workload.inputs.index(v) for v in workload.wrt)
    step = jax.jit(jax.value_and_grad(loss, argnums=positions))
    args = [jnp.asarray(a, dtype=jnp.float64) for a in workload.args]

    def run(*_: Any) -> Any:
        value, grads = step(*args)
        return jax.block_until_ready((value, grads))

    return _checked(run, lambda out: (float(out[0]), tuple(np.asarray(g) for g in out[1])))


def torch_peer(workload: Any) -> Callable[..., Any]:
    try:
        import torch
    except ImportError:
        raise Skip("torch is not installed") from None
    loss = loss_of(workload, torch, torch.relu)
    wrt = set(workload.inputs.index(v) for v in workload.wrt)
    args = [torch.tensor(a, dtype=torch.float64, requires_grad=i in wrt) for i, a in enumerate(workload.args)]
    leaves = [args[i] for i in sorted(wrt)]

    def run(*_: Any) -> Any:
        value = loss(*args)
        return value, torch.autograd.grad(value, leaves)

    return _checked(run, lambda out: (float(out[0].detach()), tuple(g.numpy() for g in out[1])))


def _checked(run: Callable[..., Any], to_numpy: Callable[[Any], Any]) -> Callable[..., Any]:
    """The timed call returns the framework's own objects; ``.as_numpy`` converts one result for checking."""
    run.as_numpy = lambda *args: to_numpy(run(*args))  # type: ignore[attr-defined]
    return run
