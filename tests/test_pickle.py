"""Compiled functions travel by ``sd.dumps`` and ``cloudpickle``, to this process and to fresh ones,
and rebuilding them is the one thing that runs code: looking a name up never does."""

from __future__ import annotations

import ast
import base64
import io
import json
import multiprocessing
import pickle
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pytest

import symdiff as sd
from symdiff import pickled
from symdiff.ops import OPS

DUMPERS = (sd.dumps, cloudpickle.dumps)
REPORT = ("import pickle, sys, numpy as np; f = pickle.loads(sys.stdin.buffer.read()); "
          "args = [np.asarray(a) if isinstance(a, list) else a for a in {args!r}]; "
          "value, grads = f(*args); "
          "print(repr([float(value), [np.asarray(g).tolist() for g in grads], f.source]))")


def _in_fresh_process(fn: Any, args: list[Any], dump: Any) -> list[Any]:
    program = REPORT.format(args=[a.tolist() if isinstance(a, np.ndarray) else a for a in args])
    done = subprocess.run([sys.executable, "-c", program], input=dump(fn), capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    return ast.literal_eval(done.stdout.decode())


def _here(fn: Any, args: list[Any]) -> list[Any]:
    value, grads = fn(*args)
    return [float(value), [np.asarray(g).tolist() for g in grads], fn.source]


def test_a_scalar_function_is_rebuilt_in_a_fresh_process() -> None:
    x1, x2 = sd.var("x1"), sd.var("x2")
    fn = sd.compile(sd.log(x1) + x1 * x2 - sd.sin(x2), [x1, x2])
    for dump in DUMPERS:
        assert _in_fresh_process(fn, [2.0, 5.0], dump) == _here(fn, [2.0, 5.0])


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
        for dump in DUMPERS:
            assert _in_fresh_process(fn, point, dump) == _here(fn, point)


def test_in_the_same_process_dumps_gives_back_the_same_object_even_inside_others() -> None:
    x = sd.var("x")
    fn = sd.compile(sd.exp(x) * x, [x])
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        assert sd.loads(sd.dumps(fn, protocol=protocol)) is fn
    loaded = sd.loads(sd.dumps({"fn": fn, "points": [np.ones(2), 0.5]}))
    assert loaded["fn"] is fn and loaded["points"][1] == 0.5
    copy = cloudpickle.loads(cloudpickle.dumps(fn))  # by value: a new function, the same code
    assert copy(0.7) == fn(0.7) and copy.source == fn.source


def test_two_compiles_of_one_graph_are_distinct_and_both_travel() -> None:
    x = sd.var("x")
    first, second = sd.compile(sd.cos(x) * x, [x]), sd.compile(sd.cos(x) * x, [x])
    assert first is not second
    assert sd.loads(sd.dumps(first)) is first
    assert sd.loads(sd.dumps(second)) is second
    assert _in_fresh_process(second, [0.3], sd.dumps) == _here(first, [0.3])


def test_functions_of_the_transformations_travel() -> None:
    x = sd.var("x", shape=(2,))
    expr = sd.sum(sd.sin(x) * x)
    point = [np.array([0.2, 1.1])]
    hessian = sd.function([x], [expr, sd.hessian(expr, x)])
    expected_value, expected_matrix = hessian(*point)
    for dump in DUMPERS:
        value, matrix = pickle.loads(dump(hessian))(*point)
        assert value == expected_value
        np.testing.assert_array_equal(matrix, expected_matrix)


def test_array_api_functions_travel() -> None:
    pytest.importorskip("array_api_compat")
    x = sd.var("x", shape=(4,))
    fn = sd.compile(sd.sum(sd.tanh(x) ** 2), [x], backend="array_api")
    point = [np.linspace(-1.0, 1.0, 4)]
    for dump in DUMPERS:
        assert _in_fresh_process(fn, point, dump) == _here(fn, point)


def test_numba_functions_travel_and_scalar_ones_by_the_standard_pickle_too() -> None:
    pytest.importorskip("numba")
    x1, x2, x = sd.var("x1"), sd.var("x2"), sd.var("x", shape=(3,))
    scalar = sd.compile(sd.log(x1) + x1 * x2 - sd.sin(x2), [x1, x2], backend="numba")
    array = sd.compile(sd.sum(sd.exp(x) * x), [x], backend="numba")
    assert pickle.loads(pickle.dumps(scalar)) is scalar and sd.loads(sd.dumps(array)) is array
    program = ("import pickle, sys, numpy as np; s, a = pickle.loads(sys.stdin.buffer.read()); "
               "print(repr([s(2.0, 5.0), s(2, 5), type(s).__name__, a and float(a(np.ones(3))[0])]))")
    # a plain function goes by name, so the standard pickle carries the dispatcher alone
    for dump, pair in [*((d, (scalar, array)) for d in DUMPERS), (pickle.dumps, (scalar, None))]:
        done = subprocess.run([sys.executable, "-c", program], input=dump(pair), capture_output=True)
        assert done.returncode == 0, done.stderr.decode()
        expected = [scalar(2.0, 5.0), scalar(2.0, 5.0), "CPUDispatcher", pair[1] and float(array(np.ones(3))[0])]
        assert ast.literal_eval(done.stdout.decode()) == expected


def _square_and_gradient(task: tuple[Any, float]) -> tuple[float, float]:
    fn, point = task
    value, (grad,) = fn(point)
    return float(value), float(grad)


def _rebuild_then_call(task: tuple[bytes, float]) -> tuple[float, float]:
    payload, point = task
    return _square_and_gradient((sd.loads(payload), point))


def test_a_spawned_worker_pool_receives_a_compiled_function_by_dumps() -> None:
    x = sd.var("x")
    fn = sd.compile(sd.exp(sd.sin(x)) ** 2, [x])
    points = [0.0, 0.5, 1.0, 2.5]
    payload = sd.dumps(fn)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.map(_rebuild_then_call, [(payload, p) for p in points])
    assert results == [_square_and_gradient((fn, p)) for p in points]


def test_names_stay_short_and_the_standard_pickle_refuses_plain_functions() -> None:
    x1, x2 = sd.var("x1"), sd.var("x2")
    fn = sd.compile(sd.log(x1) + x1 * x2 - sd.sin(x2), [x1, x2])
    assert fn.__name__ == fn.__qualname__ == "value_and_grad" and len(repr(fn)) < 60
    with pytest.raises(TypeError, match="missing 1 required positional argument") as missing:
        fn(2.0)  # type: ignore[call-arg]
    assert len(str(missing.value)) < 200
    # it would store a name, and a name carries no program; the message names the module that says why
    with pytest.raises(pickle.PicklingError, match=r"on symdiff\.pickled"):
        pickle.dumps(fn)


def _packed_name(source: str, name: str = "f") -> str:
    """A global name in the format that the unpickling of symdiff 0.1.0 compiled and ran."""
    fields = {"name": name, "source": source, "imports": [], "constants": []}
    text = zlib.compress(json.dumps(fields, sort_keys=True).encode())
    packed = base64.urlsafe_b64encode(len(text).to_bytes(8, "little") + text).decode("ascii").rstrip("=")
    return f"{name}:{packed}"


class _OnlySymdiffPickled(pickle.Unpickler):
    """The kind of allow-list that used to let a name run code."""

    def find_class(self, module: str, name: str) -> Any:
        assert module == "symdiff.pickled", module
        return super().find_class(module, name)


def test_looking_up_a_name_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    name = _packed_name(f"open({str(marker)!r}, 'w').close()\ndef f():\n    return 1\n")
    for looked_up in (name, name + "~2", "nothing"):
        with pytest.raises(AttributeError):
            getattr(pickled, looked_up)
        with pytest.raises(AttributeError):
            _OnlySymdiffPickled(io.BytesIO(f"csymdiff.pickled\n{looked_up}\n.".encode())).load()
    assert not marker.exists()


def test_the_payload_is_data_for_one_reconstructor() -> None:
    x = sd.var("x", shape=(3,))
    fn = sd.compile(sd.sum(x @ (np.arange(9.0).reshape(3, 3) / 9.0)), [x])
    found: list[str] = []

    class Recording(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            found.append(f"{module}.{name}")
            return super().find_class(module, name)

    assert Recording(io.BytesIO(sd.dumps(fn))).load() is fn
    assert "symdiff.pickled.rebuild" in found
    assert all(n == "symdiff.pickled.rebuild" or n.startswith("numpy.") for n in found), found
