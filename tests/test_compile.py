"""The compiled function's contract (DESIGN §1): arguments, result types, errors, purity."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import threading
import traceback

import numpy as np
import pytest

import symdiff as sd


@pytest.fixture
def baydin():
    x1, x2 = sd.var("x1"), sd.var("x2")
    return sd.log(x1) + x1 * x2 - sd.sin(x2), x1, x2


def test_baydin_value_and_gradients(baydin) -> None:
    f, x1, x2 = baydin
    value, (g1, g2) = sd.compile(f, wrt=[x1, x2])(2.0, 5.0)
    assert value == pytest.approx(11.6520714552, abs=1e-10)
    assert (g1, g2) == (pytest.approx(5.5), pytest.approx(1.7163378145, abs=1e-10))


def test_scalar_results_are_floats_never_0d_arrays() -> None:
    x = sd.var("x")
    exprs = (sd.where(x > 0, x * x, -x), sd.reshape(sd.reshape(x, (1,)) * 2.0, ()), sd.sum(sd.broadcast_to(x, (3,))))
    for expr in exprs:
        value, (grad,) = sd.compile(expr, [x])(1.5)
        assert isinstance(value, float) and isinstance(grad, float)
        assert not isinstance(value, np.ndarray) and not isinstance(grad, np.ndarray)


def test_array_gradients_are_fresh_writable_and_alias_nothing() -> None:
    x, y = sd.var("x", shape=(3,)), sd.var("y", shape=(3,))
    f = sd.sum(x * y)  # d/dx is y itself and d/dy is x itself
    xv, yv = np.arange(3.0), np.ones(3)
    _, (gx, gy) = sd.compile(f, [x, y])(xv, yv)
    gx[:] = -1.0
    gy[:] = -1.0
    np.testing.assert_array_equal(xv, np.arange(3.0))
    np.testing.assert_array_equal(yv, np.ones(3))


def test_two_gradients_that_are_the_same_node_do_not_alias() -> None:
    x, y = sd.var("x", shape=(2,)), sd.var("y", shape=(2,))
    _, (gx, gy) = sd.compile(sd.sum(x + y), [x, y])(np.zeros(2), np.zeros(2))
    gx[0] = 5.0
    assert gy[0] == 1.0
    assert gx.flags.writeable and gy.flags.writeable


def test_gradient_of_a_broadcast_is_writable() -> None:
    x = sd.var("x", shape=(4,))
    _, (g,) = sd.compile(sd.sum(x), [x])(np.ones(4))
    g += 1.0
    np.testing.assert_array_equal(g, 2.0)


def test_inputs_are_never_modified() -> None:
    x = sd.var("x", shape=(5,))
    f = sd.sum(sd.exp(x[1:]) * x[:-1]) + sd.sum(x * x)
    data = np.linspace(0, 1, 5)
    before = data.copy()
    sd.compile(f, [x])(data)
    np.testing.assert_array_equal(data, before)


def test_data_inputs_are_passed_but_not_differentiated(baydin) -> None:
    f, x1, x2 = baydin
    _value, grads = sd.compile(f, wrt=[x1], inputs=[x1, x2])(2.0, 5.0)
    assert len(grads) == 1 and grads[0] == pytest.approx(5.5)


def test_keywords_by_parameter_name(baydin) -> None:
    f, x1, x2 = baydin
    fn = sd.compile(f, [x1, x2])
    assert fn(x2=5.0, x1=2.0) == fn(2.0, 5.0)


def test_unused_wrt_variable_gets_zero_gradient_of_its_shape() -> None:
    x, w = sd.var("x"), sd.var("w", shape=(2, 2))
    _value, (gx, gw) = sd.compile(x * x, [x, w])(3.0, np.ones((2, 2)))
    assert gx == 6.0
    np.testing.assert_array_equal(gw, np.zeros((2, 2)))


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [((2.0,), {}, "missing 1 required positional argument: 'x2'"), ((2.0, 5.0, 1.0), {}, "3 were given"),
     ((2.0,), {"z": 1.0}, "unexpected keyword argument 'z'")],
    ids=["too few", "too many", "unknown keyword"],
)
def test_wrong_argument_count_raises_pythons_type_error(baydin, args, kwargs, message) -> None:
    # a plain signature: the interpreter names the argument, at no per-call cost
    f, x1, x2 = baydin
    with pytest.raises(TypeError, match=message):
        sd.compile(f, [x1, x2])(*args, **kwargs)


def test_wrong_shape_names_input_and_both_shapes() -> None:
    w = sd.var("W", shape=(4, 3))
    fn = sd.compile(sd.sum(w), [w])
    with pytest.raises(sd.ArgumentError, match=r"'W'.*\(4, 3\).*\(3, 4\)"):
        fn(np.ones((3, 4)))


def test_argument_error_is_also_type_and_value_error() -> None:
    assert issubclass(sd.ArgumentError, TypeError) and issubclass(sd.ArgumentError, ValueError)
    assert issubclass(sd.ArgumentError, sd.SymdiffError)


@pytest.mark.parametrize("bad", [True, 1 + 2j, "2.0", np.ones(2)], ids=["bool", "complex", "string", "array"])
def test_bad_scalar_arguments_are_rejected(bad) -> None:
    x = sd.var("x")
    with pytest.raises(sd.ArgumentError, match="'x'"):
        sd.compile(x * x, [x])(bad)


def test_ints_lists_and_non_contiguous_arrays_are_accepted() -> None:
    x, v = sd.var("x"), sd.var("v", shape=(3,))
    fn = sd.compile(x * sd.sum(v * v), [x, v])
    expected, _ = fn(2.0, np.array([1.0, 2.0, 3.0]))
    strided = np.array([1.0, 9.0, 2.0, 9.0, 3.0])[::2]
    readonly = np.array([1.0, 2.0, 3.0])
    readonly.flags.writeable = False
    for args in ((2, [1, 2, 3]), (np.int64(2), np.array([1, 2, 3])), (2.0, strided), (2.0, readonly)):
        value, (_gx, gv) = fn(*args)
        assert value == expected
        np.testing.assert_array_equal(gv, [4.0, 8.0, 12.0])  # 2 * x * v


def test_nan_and_inf_inputs_propagate_as_ieee_says() -> None:
    x = sd.var("x")
    fn = sd.compile(sd.log(x) + 1.0 / x, [x])
    with pytest.warns(RuntimeWarning):
        value, (_grad,) = fn(0.0)
    assert value != value or np.isinf(value)
    value, _ = fn(np.inf)
    assert value == np.inf


def test_compile_requires_a_scalar_expression() -> None:
    x = sd.var("x", shape=(3,))
    with pytest.raises(sd.ShapeError, match=r"sd\.sum"):
        sd.compile(x * 2.0, [x])


def test_missing_input_is_named() -> None:
    x, data = sd.var("x"), sd.var("data")
    with pytest.raises(sd.GraphError, match="data"):
        sd.compile(x * data, [x])


@pytest.mark.parametrize(
    ("wrt", "inputs", "message"),
    [("notvar", None, "variable"), ("twice", None, "twice"), ("outside", "x only", "not in inputs"),
     ("expr", None, "variable")],
)
def test_bad_wrt_is_rejected(wrt, inputs, message) -> None:
    x, y = sd.var("x"), sd.var("y")
    f = x * y
    choices = {"notvar": [x, 2.0], "twice": [x, x], "outside": [y], "expr": [x * 2.0]}
    with pytest.raises(sd.GraphError, match=message):
        sd.compile(f, choices[wrt], inputs=[x, y] if inputs is None else [x])


def test_duplicate_inputs_are_rejected() -> None:
    x = sd.var("x")
    with pytest.raises(sd.GraphError, match="twice"):
        sd.compile(x, [x], inputs=[x, x])


def test_unused_inputs_are_accepted_for_a_stable_signature() -> None:
    x, unused = sd.var("x"), sd.var("unused", shape=(2,))
    value, _ = sd.compile(x * 2.0, [x], inputs=[x, unused])(1.0, np.zeros(2))
    assert value == 2.0


def test_source_is_inspectable_and_tracebacks_show_real_lines(baydin) -> None:
    f, x1, x2 = baydin
    fn = sd.compile(f, [x1, x2])
    assert inspect.getsource(fn) == fn.source
    with pytest.raises(sd.ArgumentError) as info:
        fn("a", 1.0)
    text = "".join(traceback.format_exception(info.value))
    assert "_scalar_arg(x1, 'x1', float)" in text


def test_labels_that_are_keywords_or_clash_get_safe_distinct_names() -> None:
    a, b, c, d = sd.var("lambda"), sd.var("x"), sd.var("x"), sd.var("ｘ")
    fn = sd.compile(a * b + c * d, [a, b, c, d])
    assert fn(1.0, 2.0, 3.0, 4.0)[1] == (2.0, 1.0, 4.0, 3.0)
    params = list(inspect.signature(fn).parameters)[:4]
    assert len(set(params)) == 4 and all(p.isascii() and p.isidentifier() for p in params)


def test_code_in_a_label_never_runs() -> None:
    x = sd.var("__import__('os').system('echo pwned')\"\"\"")
    fn = sd.compile(x * x, [x])
    compile(fn.source, "<check>", "exec")
    assert fn(3.0)[1][0] == 6.0
    code = fn.source.split('"""')[2]
    assert "system(" not in code and "'os'" not in code


def test_same_graph_gives_byte_identical_source(baydin) -> None:
    f, x1, x2 = baydin
    assert sd.compile(f, [x1, x2]).source == sd.compile(f, [x1, x2]).source


SCRIPT = """
import symdiff as sd
x = sd.var("x", shape=(3,)); y = sd.var("y")
parts = sd.split(x, 3)
f = sd.sum(sd.exp(x) * y) + sd.max(x) * parts[0][0] + sd.where(y > 0, sd.log(y), 0.0)
print(sd.compile(f, [x, y]).source)
"""


def test_source_is_identical_across_processes_with_different_hash_seeds() -> None:
    outputs = set()
    for seed in ("1", "2", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, check=True)
        outputs.add(result.stdout)
    assert len(outputs) == 1


def test_import_symdiff_does_not_import_sympy() -> None:
    code = "import sys, symdiff; print('sympy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_a_chain_of_100000_nodes_compiles_and_runs() -> None:
    x = sd.var("x")
    y = x
    for _ in range(100_000):
        y = sd.sin(y)
    value, (grad,) = sd.compile(y, [x])(0.3)
    assert np.isfinite(value) and np.isfinite(grad)


def test_a_flat_sum_of_10000_terms_is_split_into_statements() -> None:
    xs = [sd.var(f"x{i}") for i in range(10_000)]
    total = xs[0]
    for v in xs[1:]:
        total = total + v * v
    fn = sd.compile(total, xs[:3], inputs=xs)
    value, grads = fn(*([1.0] * 10_000))
    assert value == 10_000.0 and grads == (1.0, 2.0, 2.0)


def test_two_threads_calling_one_function_get_correct_results() -> None:
    x = sd.var("x", shape=(1000,))
    fn = sd.compile(sd.sum(sd.tanh(x) ** 2), [x])
    inputs = [np.linspace(-1, 1, 1000) * k for k in (1.0, 2.0)]
    expected = [fn(v) for v in inputs]
    failures = []

    def work(k: int) -> None:
        for _ in range(200):
            value, (grad,) = fn(inputs[k])
            if value != expected[k][0] or not np.array_equal(grad, expected[k][1][0]):
                failures.append(k)

    threads = [threading.Thread(target=work, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


@pytest.mark.parametrize(
    ("build", "value", "grad"),
    [(lambda x: sd.as_node(3.0), 3.0, 0.0), (lambda x: x, 2.0, 1.0), (lambda x: x > 0, 1.0, 0.0)],
    ids=["a constant", "the variable itself", "a comparison counts as 0/1"],
)
def test_degenerate_expressions(build, value, grad) -> None:
    x = sd.var("x")
    got_value, (got_grad,) = sd.compile(build(x), [x])(2.0)
    assert (got_value, got_grad) == (value, grad)
    assert isinstance(got_value, float) and isinstance(got_grad, float)


def test_reverse_sweep_temporaries_carry_provenance_comments() -> None:
    x = sd.var("x", shape=(2, 3))
    source = sd.compile(sd.sum(sd.max(x, axis=1) ** 2), [x]).source
    assert "  # VJP of max" in source


def test_wrt_may_be_a_single_variable() -> None:
    x = sd.var("x")
    assert sd.compile(x * x, x)(3.0)[1] == (6.0,)


def test_evaluate_names_missing_variables() -> None:
    x, y = sd.var("x"), sd.var("y")
    with pytest.raises(sd.GraphError, match="'y'"):
        sd.evaluate(x * y, {x: 1.0})


@pytest.mark.parametrize("name", ["not an identifier", "lambda", ""], ids=["spaces", "a keyword", "empty"])
def test_a_bad_function_name_is_an_emit_error(name: str) -> None:
    x = sd.var("x")
    with pytest.raises(sd.EmitError, match="identifier"):
        sd.compile(x * x, [x], name=name)


def test_the_function_name_never_shadows_a_parameter() -> None:
    x = sd.var("f")
    fn = sd.compile(x * x, [x], name="f")
    assert fn(3.0) == (9.0, (6.0,))
    assert next(iter(inspect.signature(fn).parameters)) == "f_1"
