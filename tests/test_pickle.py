"""Compiled functions survive the standard pickle, in this process and in fresh ones."""

from __future__ import annotations

import ast
import multiprocessing
import pickle
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import symdiff as sd
from symdiff.ops import OPS

REPORT = ("import pickle, sys, numpy as np; f = pickle.loads(sys.stdin.buffer.read()); "
          "args = [np.asarray(a) if isinstance(a, list) else a for a in {args!r}]; "
          "value, grads = f(*args); "
          "print(repr([float(value), [np.asarray(g).tolist() for g in grads], f.source]))")


def _in_fresh_process(fn: Any, args: list[Any]) -> list[Any]:
    program = REPORT.format(args=[a.tolist() if isinstance(a, np.ndarray) else a for a in args])
    done = subprocess.run([sys.executable, "-c", program], input=pickle.dumps(fn), capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    return ast.literal_eval(done.stdout.decode())


def _here(fn: Any, args: list[Any]) -> list[Any]:
    value, grads = fn(*args)
    return [float(value), [np.asarray(g).tolist() for g in grads], fn.source]


def test_a_scalar_function_is_rebuilt_from_its_pickle_in_a_fresh_process() -> None:
    x1, x2 = sd.var("x1"), sd.var("x2")
    fn = sd.compile(sd.log(x1) + x1 * x2 - sd.sin(x2), [x1, x2])
    assert _in_fresh_process(fn, [2.0, 5.0]) == _here(fn, [2.0, 5.0])


@pytest.fixture
def asinh() -> Any:
    op = sd.define_op("pickle_asinh", arity=1, numpy="numpy:arcsinh",
                      vjp=lambda g, out, x: (g / sd.sqrt(1.0 + x * x),))
    yield op
    OPS.pop("pickle_asinh", None)  # the op-table walks of other tests must not see it


def test_array_constants_float32_and_user_ops_travel_with_the_function(asinh: Any) -> None:
    x = sd.var("x", shape=(3,))
    matrix = np.arange(9.0).reshape(3, 3) / 9.0
    expr = sd.sum(sd.exp(x) * np.arange(3.0)) + sd.sum(x @ matrix) + sd.sum(asinh(x))
    point = [np.array([0.1, -0.4, 0.7])]
    for dtype in (np.float64, np.float32):
        fn = sd.compile(expr, [x], dtype=dtype)
        assert "numpy.arcsinh(" in fn.source
        assert _in_fresh_process(fn, point) == _here(fn, point)


def test_in_the_same_process_pickle_gives_back_the_same_object() -> None:
    x = sd.var("x")
    fn = sd.compile(sd.exp(x) * x, [x])
    assert pickle.loads(pickle.dumps(fn)) is fn
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(fn, protocol=protocol)) is fn


def test_two_compiles_of_one_graph_are_distinct_and_both_pickle() -> None:
    x = sd.var("x")
    first, second = sd.compile(sd.cos(x) * x, [x]), sd.compile(sd.cos(x) * x, [x])
    assert first is not second
    assert pickle.loads(pickle.dumps(first)) is first
    assert pickle.loads(pickle.dumps(second)) is second
    assert _in_fresh_process(second, [0.3]) == _here(first, [0.3])


def test_functions_of_the_transformations_pickle() -> None:
    x = sd.var("x", shape=(2,))
    expr = sd.sum(sd.sin(x) * x)
    point = [np.array([0.2, 1.1])]
    hessian = sd.function([x], [expr, sd.hessian(expr, x)])
    value, matrix = pickle.loads(pickle.dumps(hessian))(*point)
    expected_value, expected_matrix = hessian(*point)
    assert value == expected_value
    np.testing.assert_array_equal(matrix, expected_matrix)


def test_array_api_functions_pickle() -> None:
    pytest.importorskip("array_api_compat")
    x = sd.var("x", shape=(4,))
    fn = sd.compile(sd.sum(sd.tanh(x) ** 2), [x], backend="array_api")
    point = [np.linspace(-1.0, 1.0, 4)]
    assert _in_fresh_process(fn, point) == _here(fn, point)


def _square_and_gradient(task: tuple[Any, float]) -> tuple[float, float]:
    fn, point = task
    value, (grad,) = fn(point)
    return float(value), float(grad)


def test_a_spawned_worker_pool_receives_a_compiled_function() -> None:
    x = sd.var("x")
    fn = sd.compile(sd.exp(sd.sin(x)) ** 2, [x])
    points = [0.0, 0.5, 1.0, 2.5]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.map(_square_and_gradient, [(fn, p) for p in points])
    assert results == [_square_and_gradient((fn, p)) for p in points]


def test_a_name_that_is_not_a_packed_program_is_refused_by_name() -> None:
    from symdiff import pickled

    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        pickled.nothing  # the module has a __getattr__, so mypy allows it
    with pytest.raises(AttributeError, match="not a packed symdiff program"):
        getattr(pickled, "f:@@@@")
