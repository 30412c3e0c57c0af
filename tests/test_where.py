"""where-branches: the untaken side never puts NaN or inf into a gradient, and guarding is linear."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest
from test_ops import ARRAY_CASES, Case

import symdiff as sd
from symdiff.compiler import prepare
from symdiff.graph import toposort
from symdiff.guard import guard_where

HUGE = 1e200


@pytest.mark.parametrize(
    "build",
    [lambda x: x * x * x, lambda x: x**3, lambda x: sd.square(sd.square(x)), lambda x: x / 0.0,
     lambda x: x * sd.log(-1.0), lambda x: sd.exp(x) * x, lambda x: sd.cosh(x) / x],
    ids=["x*x*x", "x**3", "square(square(x))", "x / 0", "x * log(-1)", "exp(x) * x", "cosh(x) / x"],
)
@pytest.mark.parametrize("shape", [(), (3,)], ids=["scalar", "array"])
def test_an_overflowing_untaken_branch_gives_a_zero_gradient(build, shape) -> None:
    x = sd.var("x", shape=shape)
    fn = sd.compile(sd.sum(sd.where(x < 1e100, build(x), 0.0)), [x])
    with np.errstate(all="ignore"):  # the forward sweep of the untaken branch may overflow, as np.where's does
        value, (grad,) = fn(np.full(shape, HUGE) if shape else HUGE)
    assert value == 0.0
    np.testing.assert_array_equal(grad, np.zeros(shape))


SPECIAL = [0.0, -0.0, -1.0, 1e-300, HUGE, -HUGE, np.inf, np.nan]


def _untaken(case: Case, variables: list[sd.Node], keep: sd.Node) -> sd.Node:
    """``case``'s op, amplified to overflow, as the branch a where never takes."""
    out = sd.as_node(case.build(*variables))
    out = sd.tofloat(out) if out.dtype == "bool" else out
    return sd.sum(sd.where(keep > 0, 1.0, out * out * out))


@pytest.mark.parametrize("case", ARRAY_CASES, ids=Case.id)
def test_no_op_leaks_nan_or_inf_from_the_untaken_branch(case: Case) -> None:
    variables = [sd.var(f"x{i}", shape=s) for i, s in enumerate(case.shapes)]
    out_shape = sd.as_node(case.build(*variables)).shape
    keep = sd.var("keep", shape=out_shape)
    fn = sd.compile(_untaken(case, variables, keep), variables, [*variables, keep])
    ones = np.ones(out_shape) if out_shape else 1.0
    for special in SPECIAL:
        point = [np.full(s, special) if s else special for s in case.shapes]
        with np.errstate(all="ignore"):
            try:
                value, grads = fn(*point, ones)
            except np.linalg.LinAlgError:  # a factorisation of a singular matrix raises in NumPy's own
                continue  # forward sweep, which computes both sides of a where, as np.where does
        assert value == np.prod(out_shape)
        for variable, grad in zip(variables, grads, strict=True):
            np.testing.assert_array_equal(grad, np.zeros(variable.shape), err_msg=f"at {special}")


def test_a_guarded_op_at_its_domain_edge_warns_nowhere() -> None:
    x = sd.var("x", shape=(4,))
    f = sd.sum(sd.where(x > 0, sd.log(x) + sd.sqrt(x) + 1.0 / x + sd.arcsin(x - 1.0) + x ** -0.5, 0.0))
    fn = sd.compile(f, [x])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, (grad,) = fn(np.array([-1.0, 0.0, -0.0, 1.0]))
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert np.all(grad[:3] == 0.0)


def test_a_guard_never_changes_a_taken_value_through_a_layout_op() -> None:
    # the branch reads log(x) transposed: the condition's positions are not log's
    x = sd.var("x", shape=(2, 2))
    fn = sd.compile(sd.sum(sd.where(x > 0, sd.log(x).T, 0.0)), [x])
    point = np.array([[1.0, 4.0], [-1.0, 2.0]])
    with np.errstate(all="ignore"):
        value, _ = fn(point)
        expected = np.sum(np.where(point > 0, np.log(point).T, 0.0))
    np.testing.assert_equal(value, expected)  # nan: the taken position (0, 1) reads log(-1)


def test_a_guard_never_changes_a_taken_value_through_a_reduction() -> None:
    x = sd.var("x", shape=(3,))
    fn = sd.compile(sd.sum(sd.where(x > 0, sd.sum(sd.log(x)) + 0.0 * x, 0.0)), [x])
    point = np.array([1.0, 2.0, 0.0])
    with np.errstate(all="ignore"):
        value, _ = fn(point)
    assert value == -np.inf  # the sum reads log(0) = -inf for the taken positions too


def test_nested_conditions_guard_together() -> None:
    x = sd.var("x")
    fn = sd.compile(sd.where(x > 0, sd.where(x < 10, sd.log(x), 1.0), 0.0), [x])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fn(-1.0) == (0.0, (0.0,))
        assert fn(20.0) == (1.0, (0.0,))
    value, (grad,) = fn(2.0)
    assert value == np.log(2.0) and grad == 0.5


# ---- node growth: every pass is linear -------------------------------------------------------


def nested(depth: int) -> tuple[sd.Node, sd.Node]:
    y = sd.var("y", shape=(5,))
    e = y
    for k in range(depth):
        e = sd.where(e > 0.1 * k, sd.log(e) + e, sd.sqrt(e * e + 1.0))
    return sd.sum(e), y


def shared(uses: int) -> tuple[sd.Node, sd.Node]:
    z = sd.var("z", shape=(3,))
    branch = z
    for _ in range(200):
        branch = sd.sin(branch) + 0.1 * branch
    total = sd.as_node(0.0)
    for k in range(uses):
        total = total + sd.sum(sd.where(z > 0.1 * k, sd.log(branch * branch + 1.0 + k), 0.0))
    return total, z


def sizes(expr: sd.Node, wrt: sd.Node) -> tuple[int, int, int]:
    """Nodes of the graph, of the guarded graph, and of value plus gradient after the rewrites."""
    prepared = prepare(expr, [wrt])
    return len(toposort([expr])), len(toposort(guard_where([expr]))), len(prepared.order)


@pytest.mark.parametrize("family", [nested, shared])
def test_guard_and_gradient_grow_linearly(family) -> None:
    small, large = sizes(*family(8)), sizes(*family(16))
    for before, after in zip(small, large, strict=True):
        assert after <= 2.5 * before
    graph, guarded, with_gradient = large
    assert guarded <= 3 * graph and with_gradient <= 12 * graph


def test_twenty_nested_wheres_compile_quickly() -> None:
    expr, y = nested(20)
    started = time.perf_counter()
    fn = sd.compile(expr, [y])
    assert time.perf_counter() - started < 20.0  # exponential growth took 6 s at depth 9
    assert len(fn.source.splitlines()) < 2000
    sd.testing.check_grad(expr, [y], at=[np.linspace(0.5, 2.0, 5)])


def test_the_hessian_through_layers_of_where_grows_linearly() -> None:
    def layers(depth: int) -> tuple[int, int]:
        x = sd.var("x", shape=(3,))
        e = x
        for k in range(depth):
            e = sd.where(e > 0.1 * k, sd.log(e * e + 1.0), e * e)
        h = sd.hessian(sd.sum(e), x)
        return len(toposort([sd.sum(e)])), len(toposort([h]))

    (_, hessian4), (graph8, hessian8) = layers(4), layers(8)
    assert hessian8 <= 2.5 * hessian4 and hessian8 <= 60 * graph8
