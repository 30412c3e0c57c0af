"""User-defined ops: definition checks, generated code that imports their module, and blame."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy
import userops

import symdiff as sd
from symdiff.compiler import compile_program
from symdiff.ops import OPS
from symdiff.source_text import module_text
from symdiff.testing import check_grad, check_op

HERE = Path(__file__).resolve().parent


@pytest.fixture
def defined():
    """Define ops for one test and remove them afterwards, so tests stay independent."""
    names = []

    def define(name, **kwargs):
        names.append(name)
        return sd.define_op(name, **kwargs)

    yield define
    for name in names:
        OPS.pop(name, None)


def softplus_vjp(g, out, x):
    return (g / (1.0 + sd.exp(-x)),)


def test_a_defined_op_builds_compiles_and_matches_numpy(defined) -> None:
    softplus = defined("my_softplus", arity=1, numpy=userops.softplus, vjp=softplus_vjp)
    x = sd.var("x", shape=(4,))
    point = np.array([-3.0, -0.5, 0.5, 3.0])
    value, (grad,) = sd.compile(sd.sum(softplus(x)), [x])(point)
    assert value == pytest.approx(np.sum(np.log1p(np.exp(point))), rel=1e-15)
    np.testing.assert_allclose(grad, 1 / (1 + np.exp(-point)), rtol=1e-15)


def test_numpy_may_be_given_as_a_module_function_string(defined) -> None:
    hypot = defined("user_hypot", arity=2, numpy="userops:hypot",
                    vjp=lambda g, out, a, b: (g * a / out, g * b / out),
                    sympy=lambda a, b: sympy.sqrt(a**2 + b**2), domain=[(0.5, 2.0), (0.5, 2.0)])
    assert isinstance(hypot(3.0, sd.var("y")), sd.Node)
    check_op("user_hypot")


def test_check_op_passes_a_correct_op(defined) -> None:
    defined("my_softplus", arity=1, numpy=userops.softplus, vjp=softplus_vjp,
            sympy=lambda a: sympy.log(1 + sympy.exp(a)))
    assert check_op("my_softplus") is None


def test_check_op_catches_a_wrong_derivative(defined) -> None:
    defined("bad_softplus", arity=1, numpy=userops.softplus, vjp=lambda g, out, x: (g * out,))
    with pytest.raises(sd.GradientError):
        check_op("bad_softplus")


def test_check_op_covers_the_built_in_elementwise_ops() -> None:
    for name in ("sin", "log", "div", "power", "maximum", "where", "greater"):
        check_op(name)


def test_check_grad_blames_the_wrong_user_op_by_name(defined) -> None:
    bad = defined("bad_softplus", arity=1, numpy=userops.softplus, vjp=lambda g, out, x: (g * out,))
    x = sd.var("x", shape=(3,))
    expr = sd.sum(sd.sin(bad(sd.exp(x) * 0.5)) * sd.tanh(x))
    with pytest.raises(sd.GradientError) as info:
        check_grad(expr, [x], at=[np.array([0.1, -0.3, 0.7])])
    error = info.value
    assert error.op == "bad_softplus"
    assert error.node.op == "bad_softplus" and error.node.shape == (3,)
    assert "bad_softplus" in str(error) and "(3,)" in str(error) and "<-- here" in str(error)


def test_a_correct_graph_raises_nothing_and_blames_nothing(defined) -> None:
    softplus = defined("my_softplus", arity=1, numpy=userops.softplus, vjp=softplus_vjp)
    x = sd.var("x", shape=(3,))
    assert check_grad(sd.sum(softplus(x) * x), [x], at=[np.array([0.1, -0.3, 0.7])]) is None


def test_a_custom_shape_rule(defined) -> None:
    def row_norms_vjp(g, out, x):
        return (sd.reshape(g / out, (*out.shape, 1)) * x,)

    row_norms = defined("row_norms", arity=1, numpy=userops.row_norms, vjp=row_norms_vjp,
                        shape=lambda s: s[:-1], domain=[(0.5, 2.0)])
    x = sd.var("x", shape=(4, 3))
    assert row_norms(x).shape == (4,)
    check_grad(sd.sum(row_norms(x)), [x], at=[np.random.default_rng(0).uniform(0.5, 2.0, (4, 3))])


def test_generated_module_imports_the_ops_module_and_nothing_else(defined, tmp_path: Path) -> None:
    softplus = defined("my_softplus", arity=1, numpy=userops.softplus, vjp=softplus_vjp)
    x = sd.var("x", shape=(3,))
    text = module_text(compile_program(sd.sum(softplus(x) * x), [x], name="loss"), "softplus loss")
    imported = {a.name for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Import) for a in n.names}
    # math is imported only where the code uses it; this graph has a non-scalar input, so it does not
    assert imported == {"numpy", "userops"}
    path = tmp_path / "loss.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("generated_loss", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(HERE))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(HERE))
    point = np.array([0.2, -1.0, 2.0])
    assert module.loss(point)[0] == sd.compile(sd.sum(softplus(x) * x), [x])(point)[0]


def test_user_op_named_like_a_parameter_does_not_shadow_it(defined) -> None:
    softplus = defined("my_softplus", arity=1, numpy=userops.softplus, vjp=softplus_vjp)
    userops_var = sd.var("userops")
    value, (grad,) = sd.compile(softplus(userops_var), [userops_var])(0.0)
    assert value == pytest.approx(np.log(2.0)) and grad == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"numpy": lambda x: x}, "importable"),
        ({"numpy": "userops:missing"}, "cannot import"),
        ({"numpy": "no_colon"}, "module:function"),
        ({"arity": 2}, "2 positional"),
        ({"vjp": lambda g, out, x: (g, g)}, "2 entries for 1"),
        ({"domain": [(0, 1), (0, 1)]}, "2 intervals"),
    ],
    ids=["a lambda", "a missing function", "a malformed path", "the wrong arity", "a VJP with two entries",
         "a domain per input"],
)
def test_structural_mistakes_are_caught_at_definition(kwargs, message) -> None:
    arguments = {"arity": 1, "numpy": userops.softplus, "vjp": softplus_vjp, **kwargs}
    with pytest.raises(sd.OpDefinitionError, match=message):
        sd.define_op("softplus_try", **arguments)
    assert "softplus_try" not in OPS


def test_redefining_needs_replace(defined) -> None:
    defined("my_softplus", arity=1, numpy=userops.softplus, vjp=softplus_vjp)
    with pytest.raises(sd.OpDefinitionError, match="replace=True"):
        sd.define_op("my_softplus", arity=1, numpy=userops.softplus, vjp=softplus_vjp)
    sd.define_op("my_softplus", arity=1, numpy=userops.softplus, vjp=softplus_vjp, replace=True)


def test_built_in_ops_cannot_be_redefined() -> None:
    with pytest.raises(sd.OpDefinitionError, match="built-in"):
        sd.define_op("sin", arity=1, numpy=userops.softplus, vjp=softplus_vjp, replace=True)


@pytest.mark.parametrize("backend", ["array_api", "numba"])
def test_other_backends_refuse_a_user_op_by_name(backend: str) -> None:
    """A definition gives a NumPy spelling only: the other backends say which op they cannot print."""
    op = sd.define_op("user_cbrt", arity=1, numpy="numpy:cbrt", vjp=lambda g, out, x: (g / (3.0 * out * out),))
    try:
        x = sd.var("x", shape=(3,))
        with pytest.raises(sd.UnsupportedError, match=rf"the {backend} backend cannot call the user-defined ops "
                                                      r"\['user_cbrt'\]"):
            sd.compile(sd.sum(op(x)), [x], backend=backend)
    finally:
        OPS.pop("user_cbrt", None)  # the op-table walks of other tests must not see it
