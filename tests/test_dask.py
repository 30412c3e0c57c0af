"""The array API backend on Dask arrays: lazy results, computed in chunks, equal to NumPy."""

from __future__ import annotations

import math

import dask.array as da
import numpy as np

import symdiff as sd


def test_baydin_on_a_million_chunked_elements() -> None:
    n = 10**6
    x1, x2 = sd.var("x1", shape=(n,)), sd.var("x2", shape=(n,))
    f = sd.sum(sd.log(x1) + x1 * x2 - sd.sin(x2))
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.5, 2.0, n), rng.uniform(-3.0, 3.0, n)
    value, (g1, g2) = sd.compile(f, [x1, x2], backend="array_api")(da.from_array(a, chunks=100_000),
                                                                   da.from_array(b, chunks=100_000))
    assert isinstance(value, da.Array) and value.shape == () and g1.chunks == ((100_000,) * 10,)
    got_value, got_1, got_2 = da.compute(value, g1, g2)
    expected_value, (expected_1, expected_2) = sd.compile(f, [x1, x2])(a, b)
    np.testing.assert_allclose(got_value, expected_value, rtol=1e-12)  # chunked sums add in another order
    np.testing.assert_array_equal(got_1, expected_1)
    np.testing.assert_array_equal(got_2, expected_2)


def test_mlp_loss_with_the_batch_in_chunks() -> None:
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((256, 784)), rng.standard_normal((256, 10))
    W1v, W2v = rng.standard_normal((784, 256)) / math.sqrt(784), rng.standard_normal((256, 10)) / math.sqrt(256)
    W1, b1 = sd.var("W1", shape=(784, 256)), sd.var("b1", shape=(256,))
    W2, b2 = sd.var("W2", shape=(256, 10)), sd.var("b2", shape=(10,))
    Xv, Yv = sd.var("X", shape=(256, 784)), sd.var("Y", shape=(256, 10))
    loss = sd.mean((sd.tanh(Xv @ W1 + b1) @ W2 + b2 - Yv) ** 2)
    point = [W1v, np.zeros(256), W2v, np.zeros(10), X, Y]
    lazy = [da.from_array(p, chunks=(64, *p.shape[1:]) if p is X or p is Y else p.shape) for p in point]
    value, grads = sd.compile(loss, [W1, b1, W2, b2], [W1, b1, W2, b2, Xv, Yv], backend="array_api")(*lazy)
    computed = da.compute(value, *grads)
    expected_value, expected_grads = sd.compile(loss, [W1, b1, W2, b2], [W1, b1, W2, b2, Xv, Yv])(*point)
    np.testing.assert_allclose(computed[0], expected_value, rtol=1e-12)
    for got, want in zip(computed[1:], expected_grads, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)


def test_compiled_functions_travel_by_cloudpickle_to_another_process() -> None:
    import ast
    import subprocess
    import sys

    import cloudpickle

    x = sd.var("x", shape=(3,))
    fn = sd.compile(sd.sum(sd.exp(x) * np.arange(3.0)) + sd.sum(x @ (np.arange(9.0).reshape(3, 3) / 9.0)), [x])
    program = ("import pickle, sys, numpy as np; f = pickle.loads(sys.stdin.buffer.read()); "
               "v, (g,) = f(np.ones(3)); print(repr([float(v), g.tolist()]))")
    done = subprocess.run([sys.executable, "-c", program], input=cloudpickle.dumps(fn), capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    value, (grad,) = fn(np.ones(3))
    assert ast.literal_eval(done.stdout.decode()) == [float(value), grad.tolist()]
