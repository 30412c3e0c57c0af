"""Hostile and bad input: every answer is a SymdiffError naming the argument, or a correct result."""

from __future__ import annotations

import builtins
import inspect
import keyword
import re
import warnings

import numpy as np
import pytest

import symdiff as sd

pytestmark = pytest.mark.usefixtures("each_backend")  # every test on both backends


LABELS = {
    "keyword": "lambda",
    "soft keyword": "match",
    "builtin": "print",
    "numpy alias": "np",
    "math module": "math",
    "temporary name": "t0",
    "adjoint name": "bar_x",
    "output name": "value",
    "dunder": "__class__",
    "dunder builtins": "__builtins__",
    "leading digit": "1x",
    "spaces and dashes": "x - y",
    "unicode letter": "α",
    "full-width x": "ｘ",
    "code": "__import__('os').system('exit 3')",
    "triple quotes": 'a"""b',
    "backslashes": "a\\nb\\",
    "newline": "line\nbreak",
    "very long": "v" * 300,
}


def signature_names(fn) -> list[str]:
    return [p for p in inspect.signature(fn).parameters if not p.startswith("_")]


@pytest.mark.parametrize("label", LABELS.values(), ids=LABELS.keys())
def test_any_non_empty_label_compiles_to_a_safe_ascii_parameter(label: str) -> None:
    x, plain = sd.var(label), sd.var("x")
    fn = sd.compile(sd.sin(x) * plain, [x, plain])
    compile(fn.source, "<check>", "exec")
    names = signature_names(fn)
    assert all(n.isascii() and n.isidentifier() and not keyword.iskeyword(n) for n in names)
    assert not set(names) & set(dir(builtins)) and "np" not in names and "math" not in names
    assert len(set(names)) == 2
    value, (gx, _) = fn(0.5, 2.0)
    assert value == pytest.approx(np.sin(0.5) * 2.0) and gx == pytest.approx(np.cos(0.5) * 2.0)


SAFE_AS_IS = {"match"}  # plain ASCII identifiers of at most 64 characters that clash with nothing keep their label


@pytest.mark.parametrize("label", LABELS.values(), ids=LABELS.keys())
def test_an_unsafe_label_never_becomes_code(label: str) -> None:
    x = sd.var(label)
    fn = sd.compile(x * 2.0, [x])
    (parameter,) = signature_names(fn)
    assert (parameter == label) == (label in SAFE_AS_IS)
    if re.search(r"[^A-Za-z0-9_]", label):
        assert label not in fn.source.split('"""')[2]  # outside the docstring


def test_labels_are_never_executed(tmp_path) -> None:
    marker = tmp_path / "ran"
    x = sd.var(f"__import__('pathlib').Path({str(marker)!r}).touch()")
    sd.compile(sd.exp(x), [x])(1.0)
    assert not marker.exists()


def test_look_alike_unicode_labels_stay_distinct_variables() -> None:
    latin, wide = sd.var("x"), sd.var("ｘ")
    fn = sd.compile(latin * 3.0 + wide * 5.0, [latin, wide])
    assert fn(1.0, 1.0)[1] == (3.0, 5.0)
    assert len(set(signature_names(fn))) == 2


def test_the_docstring_lists_label_and_parameter_side_by_side() -> None:
    x = sd.var("α")
    fn = sd.compile(x * x, [x])
    assert "\\u03b1 -> " in fn.source


def test_empty_label_is_a_graph_error() -> None:
    with pytest.raises(sd.GraphError, match="non-empty"):
        sd.var("")


@pytest.mark.parametrize("bad", [None, 3, b"x"], ids=["None", "an int", "bytes"])
def test_non_string_labels_are_graph_errors(bad) -> None:
    with pytest.raises(sd.GraphError):
        sd.var(bad)


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        (np.array([1, 2, 3]), True),
        ([1.0, 2.0, 3.0], True),
        (np.array([1.0, 2.0, 3.0], dtype=np.float32), True),
        (np.array([True, False, True]), False),
        (np.array([1 + 1j, 2, 3]), False),
        (np.array([object(), 1.0, 2.0], dtype=object), False),
        (np.array(["a", "b", "c"]), False),
        (np.ones((3, 1)), False),
        (np.ones(4), False),
    ],
    ids=["ints are cast", "a list", "float32 is cast", "bools", "complex", "objects", "strings", "(3, 1)", "(4,)"],
)
def test_array_arguments_are_cast_or_rejected(value, accepted: bool) -> None:
    v = sd.var("v", shape=(3,))
    fn = sd.compile(sd.sum(v * v), [v])
    if accepted:
        _, (grad,) = fn(value)
        np.testing.assert_allclose(grad, 2.0 * np.asarray(value, dtype=np.float64))
    else:
        with pytest.raises(sd.ArgumentError, match="'v'"):
            fn(value)


def test_a_read_only_non_contiguous_argument_is_accepted_and_untouched() -> None:
    v = sd.var("v", shape=(3, 2))
    base = np.arange(12.0).reshape(6, 2)[::2]
    base.flags.writeable = False
    _, (grad,) = sd.compile(sd.sum(sd.exp(v * 0.1)), [v])(base)
    np.testing.assert_allclose(grad, 0.1 * np.exp(base * 0.1))


def test_nan_and_inf_propagate_with_numpy_warnings_and_no_exception(numpy_warns) -> None:
    v = sd.var("v", shape=(3,))
    fn = sd.compile(sd.sum(v * v + sd.log(v)), [v])
    with numpy_warns(RuntimeWarning):
        value, (grad,) = fn(np.array([np.nan, np.inf, -1.0]))
    assert np.isnan(value)
    assert np.isnan(grad[0]) and grad[1] == np.inf


def test_an_untaken_branch_adds_no_nan_and_no_warning_even_for_nan_free_inputs() -> None:
    v = sd.var("v", shape=(3,))
    fn = sd.compile(sd.sum(sd.where(v > 0, sd.log(v) * sd.sqrt(v), -v)), [v])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, (grad,) = fn(np.array([-2.0, 0.0, 1.0]))
    assert np.isfinite(value) and np.all(np.isfinite(grad))


def test_errors_are_symdiff_errors_with_names() -> None:
    x, rate = sd.var("weights", shape=(2,)), sd.var("rate")
    cases = [
        (lambda: sd.compile(sd.sum(x), [x])(np.ones(3)), sd.ArgumentError, "'weights': expected shape"),
        (lambda: sd.compile(sd.sum(x), [x])(), TypeError, "missing 1 required positional argument: 'weights'"),
        (lambda: sd.compile(sd.sum(x), ["weights"]), sd.GraphError, r"wrt\[0\]"),
        (lambda: sd.sum(x, axis=(0, 0)), sd.ShapeError, "repeated axis"),
        (lambda: x[np.array([0.5])], sd.UnsupportedError, "index arrays must hold integers"),
        (lambda: x[True], sd.UnsupportedError, "index True"),
        (lambda: sd.reshape(x, (3, -1)), sd.ShapeError, "reshape"),
        (lambda: sd.concatenate([]), sd.ShapeError, "at least one"),
        (lambda: sd.compile(sd.sum(x) * rate, [x, rate])(np.ones(2), 10**400), sd.ArgumentError,
         "'rate': an int of 1329 bits does not fit float64"),
        (lambda: sd.compile(rate * 2.0, [rate])(-(10**400)), sd.ArgumentError, "'rate': an int of 1329 bits"),
        (lambda: sd.sum(x, axis="a"), sd.ShapeError, "sum of weights: axis must be an int, got 'a'"),
        (lambda: np.transpose(x, (1,)), sd.ShapeError, "transpose of weights: axis 1 is out of bounds"),
        (lambda: x[::0], sd.ShapeError, "slice step cannot be zero"),
    ]
    for run, error, message in cases:
        with pytest.raises(error, match=message):
            run()
