"""Products against NumPy: tensordot, inner, vdot, kron, cross, dot and matmul of every rank,
and einsum in every calling form; gradients, second derivatives, contraction order, dispatch,
errors and backends."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import array_api_strict as xps
import numpy as np
import pytest

import symdiff as sd
from symdiff.graph import toposort
from symdiff.testing import assert_matches_sympy, check_grad

Shapes = list[tuple[int, ...]]


def _check(build: Callable[..., Any], reference: Callable[..., Any], shapes: Shapes, grad: bool = True) -> None:
    rng = np.random.default_rng(len(shapes) * 7 + sum(map(len, shapes)))
    nodes = [sd.var(f"v{i}", s) for i, s in enumerate(shapes)]
    values = [rng.normal(size=s) for s in shapes]
    out = build(*nodes)
    expected = reference(*values)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(sd.function(nodes, out)(*values), expected, rtol=1e-12, atol=1e-12)
    if grad and out.size:
        weights = rng.uniform(0.5, 1.5, size=out.shape)
        check_grad(sd.sum(sd.sin(out) * weights), nodes, at=values)


EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]), ("ii", [(3, 3)]),
    ("iii->i", [(2, 2, 2)]), ("iij->j", [(3, 3, 2)]), ("iji->ij", [(3, 2, 3)]), ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij", [(2, 3)]), ("ji", [(2, 3)]), ("i,i", [(3,), (3,)]), ("i,i->i", [(3,), (3,)]), ("i,j->ij", [(2,), (3,)]),
    ("ij,ij->i", [(2, 3), (2, 3)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("bij,bkj->bki", [(2, 3, 4), (2, 5, 4)]),
    ("...ij,...jk->...ik", [(5, 2, 3), (3, 4)]), ("...ij,...jk", [(2, 1, 2, 3), (4, 3, 2)]), ("i...->...", [(3, 2, 2)]),
    ("...,...", [(1,), (3,)]), ("ij...,jk...", [(2, 3, 5), (3, 4, 5)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("ijk,ikl,lm->jm", [(2, 3, 4), (2, 4, 5), (5, 2)]), ("i,i,i->i", [(3,), (3,), (3,)]),
    ("ij,kl,jl->ik", [(2, 3), (4, 5), (3, 5)]), ("a,ab,bc,c->", [(2,), (2, 3), (3, 4), (4,)]), (",->", [(), ()]),
    ("i,->i", [(3,), ()]), ("ii,jj->ij", [(2, 2), (3, 3)]), ("ij,j", [(2, 3), (3,)]), ("i,i", [(1,), (4,)]),
]


@pytest.mark.parametrize(("subscripts", "shapes"), EINSUM, ids=[e[0] for e in EINSUM])
def test_einsum_matches_numpy(subscripts: str, shapes: Shapes) -> None:
    _check(lambda *v: np.einsum(subscripts, *v), lambda *a: np.einsum(subscripts, *a), shapes)


@pytest.mark.parametrize("optimize", [False, True, "greedy", "optimal"])
def test_einsum_takes_the_optimize_keyword(optimize: Any) -> None:
    _check(lambda a, b, c: np.einsum("ij,jk,kl->il", a, b, c, optimize=optimize),
           lambda a, b, c: np.einsum("ij,jk,kl->il", a, b, c), [(2, 3), (3, 4), (4, 2)], grad=False)


INTERLEAVED: list[tuple[Callable[..., Any], Shapes]] = [
    (lambda f, a, b: f(a, [0, 1], b, [1, 2], [0, 2]), [(2, 3), (3, 4)]),
    (lambda f, a, b: f(a, [0, 1], b, [1, 2]), [(2, 3), (3, 4)]),
    (lambda f, a, b: f(a, [Ellipsis, 1], b, [1], [Ellipsis]), [(2, 3), (3,)]),
    (lambda f, a, b: f(a, [0, 0], b, [30, 0], [30]), [(3, 3), (2, 3)]),
    (lambda f, a: f(a, [1, 0]), [(2, 3)]),
]


@pytest.mark.parametrize(("call", "shapes"), INTERLEAVED)
def test_einsum_interleaved_sublists_match_numpy(call: Callable[..., Any], shapes: Shapes) -> None:
    _check(lambda *v: call(np.einsum, *v), lambda *a: call(np.einsum, *a), shapes)
    _check(lambda *v: call(sd.einsum, *v), lambda *a: call(np.einsum, *a), shapes, grad=False)


def test_einsum_contracts_the_cheapest_pair_first_with_matrix_products() -> None:
    """(100 x 2)(2 x 100)(100 x 3): b @ c first keeps every intermediate at most 2 x 100."""
    a, b, c = sd.var("a", (100, 2)), sd.var("b", (2, 100)), sd.var("c", (100, 3))
    out = np.einsum("ij,jk,kl->il", a, b, c, optimize=True)
    nodes = toposort([out])
    assert max(n.size for n in nodes) <= 300
    assert [n.op for n in nodes].count("matmul") == 2
    rng = np.random.default_rng(3)
    values = [rng.normal(size=s) for s in ((100, 2), (2, 100), (100, 3))]
    np.testing.assert_allclose(sd.function([a, b, c], out)(*values), np.einsum("ij,jk,kl->il", *values), rtol=1e-12)
    big = [n for n in toposort([np.einsum("ij,jk->ik", a, b)]) if n.op == "mul"]
    assert not big  # a contraction is a matmul, not a broadcast product summed


TENSORDOT = [((2, 3, 4), (3, 4, 5), 2), ((2, 3), (3, 2), ([0, 1], [1, 0])), ((2, 3), (4,), 0), ((3, 4), (4, 3), (1, 0)),
             ((3,), (3,), 1), ((2, 3, 4), (4, 2), ([-1, 0], [0, -1])), ((2, 3), (3, 2), ((1,), (0,))), ((), (3,), 0)]


@pytest.mark.parametrize(("sa", "sb", "axes"), TENSORDOT, ids=[str(t[2]) for t in TENSORDOT])
def test_tensordot_every_axes_form(sa: tuple[int, ...], sb: tuple[int, ...], axes: Any) -> None:
    _check(lambda a, b: np.tensordot(a, b, axes=axes), lambda a, b: np.tensordot(a, b, axes=axes), [sa, sb])


@pytest.mark.parametrize(("sa", "sb"), [((2, 3, 4), (5, 4, 6)), ((3,), (2, 3, 4)), ((2, 3), (3,)), ((2, 3, 4), (4,)),
                                        ((), (3,)), ((4,), (4,)), ((2, 3), (3, 4)), ((2, 2, 3), (4, 3, 2))])
def test_dot_of_any_rank(sa: tuple[int, ...], sb: tuple[int, ...]) -> None:
    _check(np.dot, np.dot, [sa, sb])
    _check(sd.dot, np.dot, [sa, sb], grad=False)


@pytest.mark.parametrize(("sa", "sb"), [((2, 3), (3, 4)), ((3,), (2, 3, 4)), ((2, 3, 4), (4,)), ((4,), (4,)),
                                        ((2, 1, 3, 4), (5, 4, 2)), ((3, 4), (2, 4, 5))])
def test_matmul_of_every_rank(sa: tuple[int, ...], sb: tuple[int, ...]) -> None:
    _check(np.matmul, np.matmul, [sa, sb])
    _check(lambda a, b: a @ b, np.matmul, [sa, sb], grad=False)


@pytest.mark.parametrize(("sa", "sb"), [((2, 3), (4, 3)), ((3,), (2, 3)), ((2, 2, 3), (3,)), ((), (2, 3))])
def test_inner(sa: tuple[int, ...], sb: tuple[int, ...]) -> None:
    _check(np.inner, np.inner, [sa, sb])


@pytest.mark.parametrize(("sa", "sb"), [((2, 3), (3, 2)), ((2,), (3, 1)), ((2, 1, 2), (2, 3)), ((), (3,))])
def test_kron(sa: tuple[int, ...], sb: tuple[int, ...]) -> None:
    _check(np.kron, np.kron, [sa, sb])


def test_vdot_flattens() -> None:
    _check(np.vdot, np.vdot, [(2, 3), (3, 2)])


CROSS = [((3,), (3,), {}), ((4, 3), (4, 3), {}), ((3, 4), (4, 3), {"axisa": 0}), ((2,), (3,), {}), ((4, 3), (2,), {}),
         ((3, 4), (3, 4), {"axis": 0}), ((2,), (2,), {}), ((4, 2), (4, 2), {}), ((5, 3), (5, 3), {"axisc": 0}),
         ((3, 2), (2, 3), {"axisa": 0, "axisb": 1, "axisc": 0}), ((2, 1, 3), (4, 3), {}),
         ((4, 3), (4, 2), {"axisc": -2})]


@pytest.mark.parametrize(("sa", "sb", "kw"), CROSS, ids=[f"{c[0]}x{c[1]}{c[2]}" for c in CROSS])
def test_cross_of_3_and_2_vectors(sa: tuple[int, ...], sb: tuple[int, ...], kw: dict[str, int]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # NumPy 2 deprecates 2-vectors
        _check(lambda a, b: np.cross(a, b, **kw), lambda a, b: np.cross(a, b, **kw), [sa, sb])


def test_scalar_forms_match_sympy() -> None:
    a, b = sd.var("a"), sd.var("b")
    for expr in (sd.einsum(",->", a, b), np.dot(a, b), np.inner(a, b), np.tensordot(a, b, axes=0), np.kron(a, b),
                 sd.einsum(",,", a, b, sd.sin(a))):
        assert_matches_sympy(sd.sin(expr), [a, b], at=[0.7, 1.3])


@pytest.mark.parametrize("name", ["einsum3", "trace", "tensordot", "cross", "kron"])
def test_second_derivatives_and_jacobians_match_differences(name: str) -> None:
    x = sd.var("x", (3, 3))
    value = np.random.default_rng(5).normal(size=(3, 3))
    out = {"einsum3": lambda: np.einsum("ij,jk,kl->il", x, x, x), "trace": lambda: np.einsum("ii,jj->ij", x, x),
           "tensordot": lambda: np.tensordot(x, x * x, axes=([0], [1])), "cross": lambda: np.cross(x, sd.sin(x)),
           "kron": lambda: np.kron(x, x[:2, :2])}[name]()
    objective = sd.sum(sd.sin(out))
    hessian = sd.function([x], sd.hessian(objective, x))(value).reshape(9, 9)
    gradient = sd.function([x], sd.grad(objective, x)[0])
    step = 1e-6
    basis = [e.reshape(3, 3) * step for e in np.eye(9)]
    columns = [(gradient(value + d) - gradient(value - d)).ravel() / (2 * step) for d in basis]
    np.testing.assert_allclose(hessian, np.stack(columns, axis=1), rtol=1e-5, atol=1e-6)
    forward = sd.function([x], out)
    expected = np.stack([(forward(value + d) - forward(value - d)).ravel() / (2 * step) for d in basis], axis=1)
    np.testing.assert_allclose(sd.function([x], sd.jacobian(out, x))(value).reshape(-1, 9), expected,
                               rtol=1e-5, atol=1e-6)


def test_numpy_dispatch_builds_the_same_nodes_as_the_builders() -> None:
    a, b = sd.var("a", (2, 3)), sd.var("b", (3, 2))
    pairs = [(np.tensordot(a, a), sd.tensordot(a, a)), (np.inner(a, a), sd.inner(a, a)), (np.vdot(a, b), sd.vdot(a, b)),
             (np.kron(a, b), sd.kron(a, b)), (np.cross(a, a), sd.cross(a, a)), (np.dot(a, b), sd.dot(a, b)),
             (np.einsum("ij,jk", a, b), sd.einsum("ij,jk", a, b))]
    for via_numpy, built in pairs:
        assert via_numpy is built
    from symdiff import compose

    assert compose.einsum("ij,jk", a, b) is sd.einsum("ij,jk", a, b) and compose.dot(a, b) is sd.dot(a, b)


def test_errors_name_the_argument() -> None:
    a, b = sd.var("a", (2, 3)), sd.var("b", (4, 4))
    with pytest.raises(sd.ShapeError, match="index 'j' has sizes 3 and 4"):
        np.einsum("ij,jk->ik", a, b)
    with pytest.raises(sd.ShapeError, match="name 2 operands, got 1"):
        np.einsum("ij,jk", a)
    with pytest.raises(sd.ShapeError, match="has 2 dimensions but 3 subscripts"):
        np.einsum("ijk", a)
    with pytest.raises(sd.ShapeError, match="output subscript 'z'"):
        np.einsum("ij->z", a)
    with pytest.raises(sd.ShapeError, match=r"need '\.\.\.' too"):
        np.einsum("...j->j", sd.var("c", (2, 2, 3)))
    with pytest.raises(sd.ShapeError, match="letters and at most one"):
        np.einsum("i1", a)
    with pytest.raises(sd.ShapeError, match="index 'i' has sizes 2 and 3"):
        np.einsum("ii", a)
    with pytest.raises(sd.UnsupportedError, match="out="):
        np.einsum("ij", a, out=np.zeros((2, 3)))
    with pytest.raises(sd.UnsupportedError, match="dtype="):
        np.einsum("ij", a, dtype=np.float32)
    with pytest.raises(sd.UnsupportedError, match="einsum: subscripts must be a string"):
        sd.einsum(3, a)
    with pytest.raises(sd.ShapeError, match="sublist labels must be in"):
        sd.einsum(a, [0, 99])
    with pytest.raises(sd.ShapeError, match="shape mismatch for sum"):
        np.tensordot(a, b, axes=1)
    with pytest.raises(sd.ShapeError, match="axes=3 needs"):
        np.tensordot(a, b, axes=3)
    with pytest.raises(sd.ShapeError, match="axis 5 is out of bounds"):
        np.tensordot(a, b, axes=([5], [0]))
    with pytest.raises(sd.ShapeError, match="not aligned"):
        np.dot(sd.var("d", (2, 3, 4)), sd.var("e", (3, 2)))
    with pytest.raises(sd.ShapeError, match="last axes"):
        np.inner(a, b)
    with pytest.raises(sd.ShapeError, match="dimension must be 2 or 3"):
        np.cross(b, b)
    with pytest.raises(sd.ShapeError, match="cross: axisa"):
        np.cross(a, a, axisa=4)
    with pytest.raises(sd.ShapeError, match="vdot: arrays of 6 and 16"):
        np.vdot(a, b)


def test_numba_and_array_api_agree_with_numpy() -> None:
    x = sd.var("x", (3, 3))
    value = np.random.default_rng(9).normal(size=(3, 3))
    objective = (sd.sum(np.einsum("ij,jk,kl->il", x, x, x)) + np.einsum("ii", x) + sd.sum(np.cross(x, x * x))
                 + sd.sum(np.kron(x, x[:2, :2])) + sd.sum(np.tensordot(x, sd.sin(x), axes=([0], [1]))))
    expected, (grad,) = sd.compile(objective, [x])(value)
    got, (grad_xp,) = sd.compile(objective, [x], backend="array_api")(xps.asarray(value))
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(grad_xp), grad, rtol=1e-12)
    # numba compiles cost seconds each: one small kernel, a contraction chain and a trace
    small = sd.sum(np.einsum("ij,jk,kl->il", x, x, x)) + np.einsum("ii", x)
    expected, (grad,) = sd.compile(small, [x])(value)
    got, (grad_numba,) = sd.compile(small, [x], backend="numba")(value)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(grad_numba, grad, rtol=1e-12)
