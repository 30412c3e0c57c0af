"""No user string runs as code: hostile labels and names through every entry point and backend."""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import symdiff as sd
from symdiff.source_text import RESERVED, module_text
from symdiff.transforms import function_program

ESCAPE = '"""\nimport builtins; builtins.SYMDIFF_PWNED = True\n"""'
HOSTILE = [
    ESCAPE, "'''\nraise SystemExit\n'''", 'x"', "a\\", "a\\n", "\r\nb", "line\u2028break", "# comment", "\x00nul",
    "ｆ", "ﬁt", "x" * 10_000, "np", "math", "xp", "xc0", "C0", "t0", "bar_x", "back", "value", "float",
    "_scalar_arg", "ArgumentError", "numba", "lambda", "x y", "",
]
HOSTILE = [h for h in HOSTILE if h]  # an empty label is refused by sd.var


def _pwned() -> bool:
    return bool(getattr(builtins, "SYMDIFF_PWNED", False))


def _backends() -> list[str]:
    found = ["numpy", "array_api"]
    try:
        import numba  # noqa: F401
    except ImportError:
        return found
    return [*found, "numba"]


def _entry_points(label: str, backend: str) -> list[tuple[str, Callable[[], Any], list[Any]]]:
    x = sd.var(label, shape=(3,))
    d = sd.var(label, shape=(3,))
    f = sd.sum(sd.sin(x) * d)
    point = [np.array([0.1, 0.2, 0.3]), np.array([1.0, 2.0, 3.0])]
    points: list[tuple[str, Callable[[], Any], list[Any]]] = [
        ("compile", lambda: sd.compile(f, [x], [x, d], backend=backend), point),
        ("function", lambda: sd.function([x, d], [f, sd.jacobian(sd.sin(x) * d, x), sd.hessian(f, x)],
                                         backend=backend), point),
    ]
    if backend == "numpy":
        points.append(("pullback", lambda: sd.pullback(f, [x], [x, d]), point))
    return points


@pytest.mark.parametrize("backend", _backends())
@pytest.mark.parametrize("label", HOSTILE, ids=lambda s: repr(s[:12]))
def test_a_label_never_runs_and_is_quoted_intact(label: str, backend: str) -> None:
    for entry, build, point in _entry_points(label, backend):
        fn = build()
        ast.parse(fn.source)  # still one valid module
        result = fn(*point)
        if entry == "pullback":
            result = result[1](1.0)
        assert not _pwned(), f"{entry} on {backend} ran code from a label"
        assert label in (fn.__doc__ or ""), f"{entry} on {backend}: the docstring lost the label"


def test_a_label_in_a_transformation_note_stays_inside_the_docstring() -> None:
    x = sd.var(ESCAPE, shape=(2,))
    fn = sd.function([x], [sd.hessian(sd.sum(x**3), x), sd.jacobian(sd.exp(x), x)])
    fn(np.array([1.0, 2.0]))
    assert not _pwned()
    assert fn.__doc__ is not None and ESCAPE in fn.__doc__
    assert fn.__doc__.count(repr(ESCAPE)) == 2  # both notes name the variable


def test_a_module_written_to_disk_quotes_labels_and_titles_safely(tmp_path) -> None:
    x = sd.var(ESCAPE)
    program = function_program([x], [sd.sin(x)], name="f")
    text = module_text(program, ESCAPE)
    path = tmp_path / "hostile.py"
    path.write_text(text)
    namespace: dict[str, Any] = {}
    exec(compile(text, str(path), "exec"), namespace)
    assert namespace["f"](0.5) == (np.sin(0.5),)
    assert not _pwned()
    assert namespace["__doc__"].startswith(ESCAPE)


@pytest.mark.parametrize("name", [None, 3, "", "np", "math", "float", "xp", "back", "_array_arg", "ArgumentError",
                                  "t0", "C1", "bar_x", "value", "ｆ", "ﬁt", "def", "a b", "x" * 100])
def test_a_function_name_that_would_clash_is_refused(name: Any) -> None:
    x = sd.var("x")
    with pytest.raises(sd.SymdiffError, match="function name"):
        sd.compile(sd.sin(x), [x], name=name)
    if name:  # sd.function's default name is None
        with pytest.raises(sd.SymdiffError, match="function name"):
            sd.function([x], [sd.sin(x)], name=name)


def test_reserved_names_cover_what_each_backend_binds() -> None:
    for name in ("np", "math", "xp", "numba", "array_api_compat", "back", "_scalar_arg", "_array_arg"):
        assert name in RESERVED


def test_a_data_input_labelled_like_an_array_api_constant_keeps_its_value() -> None:
    data = sd.var("xc0", shape=(3,))
    x = sd.var("x", shape=(3,))
    f = sd.sum(x * data) + sd.sum(x * np.array([1.0, 2.0, 3.0]))
    fn = sd.compile(f, [x], [x, data], backend="array_api")
    value, _ = fn(np.ones(3), np.array([10.0, 20.0, 30.0]))
    assert float(value) == 66.0


def test_a_variable_labelled_back_does_not_break_the_pullback() -> None:
    back = sd.var("back")
    pb = sd.pullback(sd.sin(back) * back, [back])
    _, pull = pb(0.5)
    (grad,) = pull(1.0)
    assert grad == pytest.approx(np.cos(0.5) * 0.5 + np.sin(0.5))


@pytest.mark.parametrize("name", ["var", "const"])
def test_define_op_refuses_the_names_of_leaves(name: str) -> None:
    with pytest.raises(sd.OpDefinitionError):
        sd.define_op(name, arity=1, numpy=np.sin, vjp=lambda g, y, x: (g * sd.cos(x),))
