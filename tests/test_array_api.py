"""The array API backend: the op matrix on array_api_strict (the standard, strictly) and on
NumPy arrays, equal to the NumPy backend; and its errors."""

from __future__ import annotations

from typing import Any

import array_api_strict as xps
import numpy as np
import pytest
from test_ops import ARRAY_CASES, Case, _objective, _point, assert_refused, refused_by

import symdiff as sd


def plain(result: Any) -> Any:
    value, grads = result
    return np.asarray(value), [np.asarray(g) for g in grads]


def compare_backends(case: Case, rng: np.random.Generator, weights: Any, to_array: Any) -> tuple[Any, Any]:
    """Compile one op-matrix case with both backends; run the array API one on ``to_array`` arrays."""
    variables = [sd.var(f"a{i}", shape=s) for i, s in enumerate(case.shapes)]
    objective = _objective(case, variables, weights)
    point = [np.asarray(p, dtype=np.float64) for p in _point(case, rng)]
    if all(p.shape == () for p in point):
        variables.append(sd.var("anchor", shape=(1,)))  # the namespace comes from an array argument
        point.append(np.zeros(1))
    fn = sd.compile(objective, variables, backend="array_api")
    assert "np." not in fn.source.split('"""')[2]
    value, grads = fn(*(to_array(p) if p.shape else float(p) for p in point))
    expected_value, expected_grads = sd.compile(objective, variables)(*point)
    np.testing.assert_allclose(np.asarray(value), expected_value, rtol=1e-12, atol=1e-14)
    for got, want, variable in zip(grads, expected_grads, variables, strict=True):
        assert tuple(got.shape) == variable.shape
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, atol=1e-14)
    return value, grads


@pytest.mark.parametrize("case", ARRAY_CASES, ids=Case.id)
def test_every_array_case_on_array_api_strict_equals_numpy(case: Case, rng: np.random.Generator,
                                                           weights: Any) -> None:
    if refused_by(case, "array_api"):
        variables = [sd.var(f"a{i}", shape=s) for i, s in enumerate(case.shapes)]
        assert_refused(case, "array_api",
                       lambda: sd.compile(_objective(case, variables, weights), variables, backend="array_api"))
        return
    value, _ = compare_backends(case, rng, weights, xps.asarray)
    assert type(value).__module__.startswith("array_api_strict") and value.shape == ()


@pytest.mark.parametrize("case", [c for c in ARRAY_CASES if not refused_by(c, "array_api")][::6], ids=Case.id)
def test_pullbacks_on_array_api_strict_equal_numpys(case: Case, rng: np.random.Generator) -> None:
    """``back`` closes over the forward sweep's arrays and the namespace: a non-scalar output's
    cotangent, as an array of the standard, gives NumPy's gradients."""
    variables = [sd.var(f"a{i}", shape=s) for i, s in enumerate(case.shapes)]
    out = sd.tofloat(sd.as_node(case.build(*variables)))
    point = [np.asarray(p, dtype=np.float64) for p in _point(case, rng)]
    anchor = [] if any(p.shape for p in point) else [sd.var("anchor", shape=(1,))]
    inputs = [*variables, *anchor]
    args = [*point, *([np.zeros(1)] if anchor else [])]
    cotangent = rng.uniform(0.5, 1.5, size=out.shape)
    value, back = sd.pullback(out, variables, inputs, backend="array_api")(
        *(xps.asarray(a) if a.shape else float(a) for a in args))
    want_value, want_back = sd.pullback(out, variables, inputs)(*args)
    np.testing.assert_allclose(np.asarray(value), want_value, rtol=1e-12, atol=1e-14)
    got = back(xps.asarray(cotangent) if cotangent.shape else float(cotangent))
    for g, w in zip(got, want_back(cotangent), strict=True):
        assert type(g).__module__.startswith("array_api_strict")
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-12, atol=1e-14)


def test_numpy_arrays_through_the_array_api_backend() -> None:
    x1, x2 = sd.var("x1", shape=(4,)), sd.var("x2", shape=(4,))
    f = sd.sum(sd.log(x1) + x1 * x2 - sd.sin(x2))
    a, b = np.array([0.5, 1.0, 1.5, 2.0]), np.array([-1.0, 0.0, 1.0, 2.0])
    got = plain(sd.compile(f, [x1, x2], backend="array_api")(a, b))
    want = plain(sd.compile(f, [x1, x2])(a, b))
    np.testing.assert_array_equal(got[0], want[0])
    for g, w in zip(got[1], want[1], strict=True):
        np.testing.assert_array_equal(g, w)


GOLDEN = """\
    xp = _namespace_xp(('x1', 'x2'), x1, x2)
    x1 = _array_arg_xp(xp, x1, 'x1', (4,))
    x2 = _array_arg_xp(xp, x2, 'x2', (4,))
    # forward sweep
    value = xp.sum(xp.log(x1) + x1 * x2 - xp.sin(x2), axis=(0,))
    # reverse sweep
    bar_x1 = x2 + 1.0 / x1
    bar_x2 = x1 - xp.cos(x2)
    return value, (bar_x1, bar_x2)
"""


def test_golden_array_api_source() -> None:
    x1, x2 = sd.var("x1", shape=(4,)), sd.var("x2", shape=(4,))
    source = sd.compile(sd.sum(sd.log(x1) + x1 * x2 - sd.sin(x2)), [x1, x2], backend="array_api").source
    assert source.endswith(GOLDEN)


def test_array_api_errors_name_the_problem() -> None:
    x, s = sd.var("x", shape=(5,)), sd.var("s")
    with pytest.raises(sd.UnsupportedError, match="give it an array input"):
        sd.compile(sd.sin(s), [s], backend="array_api")
    with pytest.raises(sd.UnsupportedError, match="backend must be"):
        sd.compile(sd.sum(x), [x], backend="cupy")
    fn = sd.compile(sd.sum(x), [x], backend="array_api")
    with pytest.raises(sd.ArgumentError, match="expected shape"):
        fn(xps.asarray(np.ones(4)))


def _aliasing_cases() -> list[tuple[Any, list[np.ndarray]]]:
    """Graphs whose outputs are an input, a constant, a view, or one node twice."""
    x, y, z, s, t = sd.var("x", shape=(3,)), sd.var("y", shape=(3,)), sd.var("z", shape=(3,)), sd.var("s"), sd.var("t")
    m = sd.var("m", shape=(1, 3))
    a, b, c = np.array([0.5, 1.0, 1.5]), np.array([-1.0, 0.0, 2.0]), np.array([3.0, 4.0, 5.0])
    graphs = [
        (sd.sum(x * y), [x, y], [x, y], [a, b]),  # the gradients are the inputs
        (sd.sum(x * z) + sd.sum(y * z), [x, y], [x, y, z], [a, b, c]),  # one input, twice
        (sd.sum(x * c), [x], [x], [a]),  # a constant
        (sd.sum(m[0] * y), [m, y], [m, y], [a.reshape(1, 3), b]),  # a view; a scatter filled by its piece
        (sd.sum(x), [x], [x], [a]),  # a read-only broadcast on NumPy
        (s * t + sd.sum(x), [s, t], [s, t, x], [np.array(2.0), np.array(3.0), a]),  # 0-d inputs
        (s + t + sd.sum(x), [s, t], [s, t, x], [np.array(2.0), np.array(3.0), a]),  # constant 0-d gradients
        (s, [s], [s, x], [np.array(2.0), a]),  # the value is an input
    ]
    return [(sd.compile(f, wrt, inputs, backend="array_api"), point) for f, wrt, inputs, point in graphs]


def _memory(array: Any) -> Any:
    return array if isinstance(array, np.ndarray | np.generic) else np.from_dlpack(array)


def test_results_are_fresh_on_mutable_namespaces_and_not_copied_on_dask() -> None:
    import array_api_compat
    import dask.array as da

    for fn, point in _aliasing_cases():
        for to_array in (np.asarray, xps.asarray):
            args = [to_array(p) for p in point]
            value, grads = fn(*args)
            outputs = [value, *grads]
            expected = [np.array(_memory(out)) for out in outputs]
            for i, out in enumerate(outputs):
                assert array_api_compat.array_namespace(out) is array_api_compat.array_namespace(args[0])
                for other in [*args, *outputs[:i]]:
                    assert not np.shares_memory(_memory(out), _memory(other)), fn.source
                if not isinstance(out, np.generic):  # NumPy's 0-d results may be immutable scalars
                    out[...] = -7.0  # writable; the inputs and the constants keep their values
            for arg, original in zip(args, point, strict=True):
                np.testing.assert_array_equal(_memory(arg), original)
            value, grads = fn(*args)
            for out, want in zip([value, *grads], expected, strict=True):
                np.testing.assert_array_equal(_memory(out), want)
    fn, point = _aliasing_cases()[0]
    lazy = [da.from_array(p) for p in point]
    _, (grad_x, grad_y) = fn(*lazy)
    assert grad_x is lazy[1] and grad_y is lazy[0]  # not copied: Dask's item assignment touches no other array


def _with_numpy(x: Any) -> Any:
    return pytest.param(x, np.ones(3), id=type(x).__name__ + (f"-{x.dtype}" if hasattr(x, "dtype") else ""))


@pytest.mark.parametrize("bad, other", [
    *(_with_numpy(bad) for bad in (None, "abc", [0.5, 1.0, 1.5], 2.0, np.array([True, False, True]),
                                   np.ones(3) * 1j, np.array(["a", "b", "c"]), np.array([None] * 3))),
    pytest.param(xps.asarray([True, False, True]), xps.ones(3), id="strict-bool"),
    pytest.param(xps.ones(3) * 1j, xps.ones(3), id="strict-complex"),
    pytest.param(xps.ones(3), np.ones(3), id="two-namespaces"),
])
def test_array_arguments_must_be_real_arrays(bad: Any, other: Any) -> None:
    x, y = sd.var("x", shape=(3,)), sd.var("y", shape=(3,))
    fn = sd.compile(sd.sum(x * y), [x, y], backend="array_api")
    with pytest.raises(sd.ArgumentError, match="'x'"):
        fn(bad, other)


@pytest.mark.parametrize("bad", [None, "2.5", True, np.bool_(True), 1 + 2j, np.asarray(1 + 2j), np.ones(1),
                                 xps.asarray(True)], ids=repr)
def test_scalar_arguments_must_be_real_numbers(bad: Any) -> None:
    x, s = sd.var("x", shape=(3,)), sd.var("s")
    fn = sd.compile(sd.sum(x * s), [x, s], backend="array_api")
    with pytest.raises(sd.ArgumentError, match="argument 's'"):
        fn(np.ones(3), bad)
    value, (grad_x, grad_s) = fn(np.arange(3), 2)  # integers are cast
    assert value == 6.0 and grad_x.dtype == np.float64 and grad_s == 3.0


def test_an_array_api_module_imports_array_api_compat_and_runs(tmp_path) -> None:
    import importlib.util

    from symdiff.compiler import compile_program
    from symdiff.source_text import module_text

    x = sd.var("x", shape=(3,))
    expr = sd.sum(sd.logsumexp(sd.reshape(x, (3, 1)) * np.arange(4.0), axis=1))
    path = tmp_path / "lse.py"
    path.write_text(module_text(compile_program(expr, [x], name="lse", backend="array_api"), "logsumexp"),
                    encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    assert "import array_api_compat" in text and "def _logsumexp_xp(" in text and "def _scalar_arg(" not in text
    spec = importlib.util.spec_from_file_location("lse", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    point = np.array([0.1, -0.4, 0.3])
    value, (grad,) = module.lse(xps.asarray(point))
    expected_value, (expected_grad,) = sd.compile(expr, [x])(point)
    np.testing.assert_allclose(np.asarray(value), expected_value, rtol=1e-13)
    np.testing.assert_allclose(np.asarray(grad), expected_grad, rtol=1e-13)
