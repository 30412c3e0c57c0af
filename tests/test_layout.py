"""NumPy's layout functions on nodes (sd.layout): values equal NumPy's, gradients equal central
differences, np.<name>(node) dispatches to the same node, errors name the argument, and the
numba and array API backends agree or refuse by name."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import array_api_strict as xps
import numpy as np
import pytest

import symdiff as sd
from symdiff.graph import BOOL, FLOAT, free_variables, toposort
from symdiff.testing import check_grad


def _outputs(result: Any) -> list[Any]:
    return list(result) if isinstance(result, (tuple, list)) else [result]


# (id, build on nodes, the same on NumPy arrays, input shapes)
Case = tuple[str, Callable[..., Any], Callable[..., Any], list[tuple[int, ...]]]
CASES: list[Case] = [
    ("moveaxis", lambda x: sd.moveaxis(x, 0, -1), lambda a: np.moveaxis(a, 0, -1), [(2, 3, 4)]),
    ("moveaxis lists", lambda x: np.moveaxis(x, [0, -1], [2, 0]), lambda a: np.moveaxis(a, [0, -1], [2, 0]),
     [(2, 3, 4, 5)]),
    ("swapaxes", lambda x: np.swapaxes(x, 0, -1), lambda a: np.swapaxes(a, 0, -1), [(2, 3, 4)]),
    ("rollaxis", lambda x: sd.rollaxis(x, -1, 1), lambda a: np.rollaxis(a, -1, 1), [(2, 3, 4)]),
    ("rollaxis start=ndim", lambda x: np.rollaxis(x, 0, start=3), lambda a: np.rollaxis(a, 0, start=3),
     [(2, 3, 4)]),
    ("atleast_1d scalar", lambda x: sd.atleast_1d(x), lambda a: np.atleast_1d(a), [()]),
    ("atleast_2d vector", lambda x: np.atleast_2d(x), lambda a: np.atleast_2d(a), [(3,)]),
    ("atleast_3d two", lambda x, y: np.atleast_3d(x, y), lambda a, b: np.atleast_3d(a, b), [(3,), (2, 3)]),
    ("vstack", lambda x, y: np.vstack([x, y]), lambda a, b: np.vstack([a, b]), [(3,), (2, 3)]),
    ("row_stack", lambda x, y: sd.row_stack((x, y)), lambda a, b: np.vstack((a, b)), [(2, 3), (1, 3)]),
    ("hstack vectors", lambda x, y: np.hstack([x, y]), lambda a, b: np.hstack([a, b]), [(3,), (2,)]),
    ("hstack 3-d", lambda x, y: sd.hstack([x, y]), lambda a, b: np.hstack([a, b]), [(2, 1, 2), (2, 3, 2)]),
    ("dstack", lambda x, y: np.dstack([x, y]), lambda a, b: np.dstack([a, b]), [(3,), (1, 3)]),
    ("column_stack", lambda x, y: np.column_stack([x, y]), lambda a, b: np.column_stack([a, b]), [(3,), (3, 2)]),
    ("array_split uneven", lambda x: np.array_split(x, 3), lambda a: np.array_split(a, 3), [(7, 2)]),
    ("array_split indices", lambda x: sd.array_split(x, [1, -1], axis=-1),
     lambda a: np.array_split(a, [1, -1], axis=-1), [(2, 5)]),
    ("array_split more than length", lambda x: sd.array_split(x, 4), lambda a: np.array_split(a, 4), [(2,)]),
    ("hsplit", lambda x: np.hsplit(x, 2), lambda a: np.hsplit(a, 2), [(3, 4)]),
    ("hsplit vector", lambda x: sd.hsplit(x, [1]), lambda a: np.hsplit(a, [1]), [(4,)]),
    ("vsplit", lambda x: np.vsplit(x, [1]), lambda a: np.vsplit(a, [1]), [(3, 2)]),
    ("dsplit", lambda x: np.dsplit(x, 2), lambda a: np.dsplit(a, 2), [(2, 1, 4)]),
    ("tile int", lambda x: np.tile(x, 2), lambda a: np.tile(a, 2), [(2, 3)]),
    ("tile longer reps", lambda x: sd.tile(x, (2, 1, 3)), lambda a: np.tile(a, (2, 1, 3)), [(2, 3)]),
    ("tile scalar", lambda x: np.tile(x, (2, 2)), lambda a: np.tile(a, (2, 2)), [()]),
    ("repeat flat", lambda x: np.repeat(x, 2), lambda a: np.repeat(a, 2), [(2, 3)]),
    ("repeat axis", lambda x: sd.repeat(x, 3, axis=-1), lambda a: np.repeat(a, 3, axis=-1), [(2, 3)]),
    ("repeat each", lambda x: np.repeat(x, [2, 0, 1, 1], axis=1), lambda a: np.repeat(a, [2, 0, 1, 1], axis=1),
     [(2, 4)]),
    ("repeat one count in a list", lambda x: sd.repeat(x, [2], axis=0), lambda a: np.repeat(a, [2], axis=0),
     [(3, 2)]),
    ("pad int", lambda x: np.pad(x, 1), lambda a: np.pad(a, 1), [(2, 3)]),
    ("pad constant_values", lambda x: np.pad(x, ((1, 2), (0, 3)), constant_values=((1.5, -2.0), (3.0, 4.0))),
     lambda a: np.pad(a, ((1, 2), (0, 3)), constant_values=((1.5, -2.0), (3.0, 4.0))), [(2, 3)]),
    ("pad edge", lambda x: np.pad(x, (2, 1), mode="edge"), lambda a: np.pad(a, (2, 1), mode="edge"), [(2, 3)]),
    ("pad reflect", lambda x: sd.pad(x, ((1, 2), (3, 0)), "reflect"),
     lambda a: np.pad(a, ((1, 2), (3, 0)), "reflect"), [(3, 4)]),
    ("pad reflect wider than the axis", lambda x: np.pad(x, (7, 9), "reflect"),
     lambda a: np.pad(a, (7, 9), "reflect"), [(3,)]),
    ("pad reflect unit axis", lambda x: np.pad(x, 2, "reflect"), lambda a: np.pad(a, 2, "reflect"), [(1, 3)]),
    ("pad symmetric", lambda x: np.pad(x, [(5, 4)], "symmetric"), lambda a: np.pad(a, [(5, 4)], "symmetric"),
     [(2, 3)]),
    ("pad wrap", lambda x: np.pad(x, ((0, 4), (7, 1)), "wrap"), lambda a: np.pad(a, ((0, 4), (7, 1)), "wrap"),
     [(2, 3)]),
    ("pad scalar", lambda x: np.pad(x, 3), lambda a: np.pad(a, 3), [()]),
    ("roll flat", lambda x: np.roll(x, 4), lambda a: np.roll(a, 4), [(2, 3)]),
    ("roll axis", lambda x: sd.roll(x, -1, axis=-1), lambda a: np.roll(a, -1, axis=-1), [(2, 3)]),
    ("roll tuples", lambda x: np.roll(x, (1, 2, -5), axis=(0, 1, 0)),
     lambda a: np.roll(a, (1, 2, -5), axis=(0, 1, 0)), [(3, 4)]),
    ("roll shift tuple, one axis", lambda x: np.roll(x, (1, 1), axis=1), lambda a: np.roll(a, (1, 1), axis=1),
     [(2, 3)]),
    ("flip all", lambda x: np.flip(x), lambda a: np.flip(a), [(2, 3, 4)]),
    ("flip axes", lambda x: sd.flip(x, axis=(0, -1)), lambda a: np.flip(a, axis=(0, -1)), [(2, 1, 4)]),
    ("fliplr", lambda x: np.fliplr(x), lambda a: np.fliplr(a), [(2, 3)]),
    ("flipud", lambda x: np.flipud(x), lambda a: np.flipud(a), [(3,)]),
    ("rot90", lambda x: np.rot90(x), lambda a: np.rot90(a), [(2, 3)]),
    ("rot90 k=2", lambda x: sd.rot90(x, 2), lambda a: np.rot90(a, 2), [(2, 3)]),
    ("rot90 k=-1 axes", lambda x: np.rot90(x, k=-1, axes=(2, 0)), lambda a: np.rot90(a, k=-1, axes=(2, 0)),
     [(2, 3, 4)]),
    ("rot90 k=7", lambda x: sd.rot90(x, 7, (1, -1)), lambda a: np.rot90(a, 7, (1, -1)), [(2, 3, 4)]),
    ("tril", lambda x: np.tril(x), lambda a: np.tril(a), [(3, 4)]),
    ("tril k=-1 stacked", lambda x: np.tril(x, -1), lambda a: np.tril(a, -1), [(2, 4, 3)]),
    ("tril vector", lambda x: sd.tril(x, k=1), lambda a: np.tril(a, k=1), [(3,)]),
    ("triu", lambda x: np.triu(x), lambda a: np.triu(a), [(4, 3)]),
    ("triu k=2 stacked", lambda x: sd.triu(x, k=2), lambda a: np.triu(a, k=2), [(2, 3, 5)]),
    ("diag vector", lambda x: np.diag(x), lambda a: np.diag(a), [(3,)]),
    ("diag vector k=2", lambda x: sd.diag(x, 2), lambda a: np.diag(a, 2), [(3,)]),
    ("diag vector k=-1", lambda x: np.diag(x, k=-1), lambda a: np.diag(a, k=-1), [(2,)]),
    ("diag matrix", lambda x: np.diag(x), lambda a: np.diag(a), [(3, 4)]),
    ("diag matrix k=-2", lambda x: sd.diag(x, -2), lambda a: np.diag(a, -2), [(4, 3)]),
    ("diag matrix off the end", lambda x: np.diag(x, 5), lambda a: np.diag(a, 5), [(3, 4)]),
    ("diagonal", lambda x: np.diagonal(x), lambda a: np.diagonal(a), [(3, 3)]),
    ("diagonal offset", lambda x: sd.diagonal(x, offset=1), lambda a: np.diagonal(a, offset=1), [(3, 4)]),
    ("diagonal 3-d", lambda x: np.diagonal(x, -1, axis1=2, axis2=0),
     lambda a: np.diagonal(a, -1, axis1=2, axis2=0), [(3, 2, 4)]),
    ("diagonal last axes", lambda x: sd.diagonal(x, 0, -2, -1), lambda a: np.diagonal(a, 0, -2, -1), [(2, 3, 3)]),
    ("trace", lambda x: np.trace(x), lambda a: np.trace(a), [(3, 3)]),
    ("trace offset", lambda x: sd.trace(x, -1), lambda a: np.trace(a, -1), [(4, 3)]),
    ("trace 3-d", lambda x: np.trace(x, 1, axis1=1, axis2=2), lambda a: np.trace(a, 1, axis1=1, axis2=2),
     [(2, 3, 4)]),
    ("broadcast_arrays", lambda x, y: np.broadcast_arrays(x, y), lambda a, b: np.broadcast_arrays(a, b),
     [(3, 1), (4,)]),
    ("meshgrid xy", lambda x, y, z: np.meshgrid(x, y, z), lambda a, b, c: np.meshgrid(a, b, c), [(2,), (3,), (4,)]),
    ("meshgrid ij sparse", lambda x, y: sd.meshgrid(x, y, indexing="ij", sparse=True),
     lambda a, b: np.meshgrid(a, b, indexing="ij", sparse=True), [(2,), (3,)]),
    ("meshgrid flattens", lambda x, y: np.meshgrid(x, y), lambda a, b: np.meshgrid(a, b), [(2, 2), (3,)]),
    ("array", lambda x, y: sd.array([[x, 1.0], [2.0, y]]), lambda a, b: np.array([[a, 1.0], [2.0, b]]),
     [(), ()]),
    ("array rows", lambda x: sd.array([[1.0, 2.0, 3.0], x, [4.0, 5.0, 6.0]]),
     lambda a: np.array([[1.0, 2.0, 3.0], a, [4.0, 5.0, 6.0]]), [(3,)]),
    ("array ndmin", lambda x, y: sd.array((x, y), ndmin=3), lambda a, b: np.array((a, b), ndmin=3),
     [(2,), (2,)]),
]
IDS = [case[0] for case in CASES]


def _point(shapes: list[tuple[int, ...]], seed: int = 5) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.uniform(-2.0, 2.0, size=shape) for shape in shapes]


def _objective(outputs: list[Any]) -> Any:
    """A scalar with a different weight on every element of every output."""
    total: Any = 0.0
    for i, out in enumerate(outputs):
        weights = np.linspace(0.5, 1.5, out.size).reshape(out.shape) + i
        total = total + sd.sum(sd.sin(out) * weights)
    return total


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_values_and_shapes_equal_numpys(case: Case) -> None:
    _, build, reference, shapes = case
    variables = [sd.var(f"a{i}", shape=s) for i, s in enumerate(shapes)]
    point = _point(shapes)
    got, want = _outputs(build(*variables)), _outputs(reference(*point))
    assert len(got) == len(want)
    values = sd.function(variables, got)(*point)
    for node, value, expected in zip(got, values, want, strict=True):
        assert node.shape == np.shape(expected)
        np.testing.assert_array_equal(value, expected)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradients_equal_central_differences(case: Case) -> None:
    _, build, _, shapes = case
    variables = [sd.var(f"a{i}", shape=s) for i, s in enumerate(shapes)]
    check_grad(_objective(_outputs(build(*variables))), variables, at=_point(shapes))


SECOND_ORDER = ["diagonal 3-d", "trace offset", "tril k=-1 stacked", "pad reflect", "roll tuples", "rot90 k=-1 axes",
                "diag vector k=2", "repeat each", "tile longer reps", "array rows", "moveaxis lists", "hstack 3-d"]


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_hessians_and_jacobians_equal_differences_of_the_gradient(name: str) -> None:
    """Batching (jacobian, hessian) through each function, against central differences of the gradient."""
    _, build, _, shapes = CASES[IDS.index(name)]
    x = sd.var("x", shape=shapes[0])
    others = [np.asarray(p) for p in _point(shapes[1:], seed=9)]
    outputs = _outputs(build(x, *others))
    objective = _objective(outputs)
    (gradient,) = sd.grad(objective, x)
    hessian = sd.function([x], sd.hessian(objective, x))
    jacobian = sd.function([x], sd.jacobian(sd.cos(outputs[0]), x))
    at = _point(shapes[:1])[0]
    gradient_at = sd.function([x], gradient)
    first = sd.function([x], sd.cos(outputs[0]))
    expected_h = np.zeros(at.shape * 2)
    expected_j = np.zeros(outputs[0].shape + at.shape)
    h = 1e-6
    for index in np.ndindex(*at.shape):
        step = np.zeros_like(at)
        step[index] = h
        expected_h[(..., *index)] = (gradient_at(at + step) - gradient_at(at - step)) / (2 * h)
        expected_j[(..., *index)] = (first(at + step) - first(at - step)) / (2 * h)
    np.testing.assert_allclose(hessian(at), expected_h, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(jacobian(at), expected_j, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(("numpy_call", "symdiff_call"), [
    (lambda x: np.moveaxis(x, 0, 2), lambda x: sd.moveaxis(x, 0, 2)),
    (lambda x: np.swapaxes(x, axis1=1, axis2=0), lambda x: sd.swapaxes(x, 1, 0)),
    (lambda x: np.rollaxis(x, 2), lambda x: sd.rollaxis(x, 2)),
    (lambda x: np.atleast_3d(x[0]), lambda x: sd.atleast_3d(x[0])),
    (lambda x: np.vstack([x[0], x[1]]), lambda x: sd.vstack([x[0], x[1]])),
    (lambda x: np.hstack((x, x)), lambda x: sd.hstack((x, x))),
    (lambda x: np.dstack((x, x)), lambda x: sd.dstack((x, x))),
    (lambda x: np.column_stack((x[0], x[1])), lambda x: sd.column_stack((x[0], x[1]))),
    (lambda x: np.array_split(x, 3, axis=2), lambda x: sd.array_split(x, 3, axis=2)),
    (lambda x: np.hsplit(x, 3), lambda x: sd.hsplit(x, 3)),
    (lambda x: np.vsplit(x, 2), lambda x: sd.vsplit(x, 2)),
    (lambda x: np.dsplit(x, [1]), lambda x: sd.dsplit(x, [1])),
    (lambda x: np.tile(x, reps=2), lambda x: sd.tile(x, 2)),
    (lambda x: np.repeat(x, repeats=2, axis=1), lambda x: sd.repeat(x, 2, 1)),
    (lambda x: np.pad(x, 1, mode="wrap"), lambda x: sd.pad(x, 1, "wrap")),
    (lambda x: np.roll(x, shift=1, axis=0), lambda x: sd.roll(x, 1, 0)),
    (lambda x: np.flip(x, axis=1), lambda x: sd.flip(x, 1)),
    (lambda x: np.fliplr(x), lambda x: sd.fliplr(x)),
    (lambda x: np.flipud(x), lambda x: sd.flipud(x)),
    (lambda x: np.rot90(x, k=3, axes=(1, 2)), lambda x: sd.rot90(x, 3, (1, 2))),
    (lambda x: np.tril(x, k=1), lambda x: sd.tril(x, 1)),
    (lambda x: np.triu(x, k=-1), lambda x: sd.triu(x, -1)),
    (lambda x: np.diag(x[0], k=1), lambda x: sd.diag(x[0], 1)),
    (lambda x: np.diagonal(x, axis1=1, axis2=2), lambda x: sd.diagonal(x, 0, 1, 2)),
    (lambda x: np.trace(x, offset=1, axis1=2), lambda x: sd.trace(x, 1, 2)),
    (lambda x: np.broadcast_arrays(x, x[0]), lambda x: sd.broadcast_arrays(x, x[0])),
    (lambda x: np.meshgrid(x[0, 0], x[1, 1], indexing="ij"), lambda x: sd.meshgrid(x[0, 0], x[1, 1], indexing="ij")),
    (lambda x: np.zeros_like(x), lambda x: sd.zeros_like(x)),
    (lambda x: np.ones_like(x, shape=(2,)), lambda x: sd.ones_like(x, shape=(2,))),
    (lambda x: np.full_like(x, 2.5), lambda x: sd.full_like(x, 2.5)),
], ids=lambda f: "")
def test_numpy_dispatch_gives_the_symdiff_node(numpy_call: Callable[..., Any],
                                               symdiff_call: Callable[..., Any]) -> None:
    x = sd.var("x", shape=(2, 3, 2))
    got, want = _outputs(numpy_call(x)), _outputs(symdiff_call(x))
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert isinstance(a, sd.Node) and a is b  # hash-consing: the same construction is the same node


def test_row_stack_dispatches_where_numpy_still_has_it() -> None:
    x = sd.var("x", shape=(2, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert np.row_stack((x, x)) is sd.row_stack((x, x))


def test_diag_trace_and_diagonal_replace_the_composed_forms() -> None:
    """``sd.diag``/``sd.trace`` and ``np.diag``/``np.trace`` reach this module's builders, with their keywords."""
    x = sd.var("x", shape=(3, 3))
    assert sd.trace(x, 1) is np.trace(x, offset=1)
    assert sd.diag(x, k=-1) is np.diag(x, -1)
    assert sd.diagonal(x, 1) is np.diagonal(x, 1)


def test_diagonal_is_a_strided_slice_without_a_mask() -> None:
    """O(n) for an (n, n) matrix: a reshape and one slice, no n x n product with an identity."""
    x = sd.var("x", shape=(50, 50))
    ops = {node.op for node in toposort([sd.diagonal(x, 3), sd.trace(x)])}
    assert ops == {"var", "reshape", "getitem", "sum"}


def test_diag_places_infinities_without_nans() -> None:
    """Off the diagonal the matrix is exactly 0, also next to inf (a product with an identity gives NaN)."""
    v = sd.var("v", shape=(3,))
    value = np.array([np.inf, -1.0, 2.0])
    np.testing.assert_array_equal(sd.function([v], sd.diag(v, 1))(value), np.diag(value, 1))


def test_a_large_tril_compares_ranges_at_run_time() -> None:
    x = sd.var("x", shape=(300, 260))
    at = np.random.default_rng(2).uniform(-1.0, 1.0, size=(300, 260))
    weights = np.random.default_rng(3).uniform(0.5, 1.5, size=(300, 260))
    fn = sd.compile(sd.sum(sd.tril(x, -3) * weights), [x])
    value, (grad,) = fn(at)
    np.testing.assert_allclose(value, np.sum(np.tril(at, -3) * weights), rtol=1e-12)
    np.testing.assert_array_equal(grad, np.tril(weights, -3))
    assert len(fn.source) < 20_000  # no 78,000-entry mask written into the code


def test_tril_keeps_infinities_out_of_the_zeroed_triangle() -> None:
    x = sd.var("x", shape=(2, 2))
    value = np.array([[1.0, np.inf], [np.nan, 2.0]])
    np.testing.assert_array_equal(sd.function([x], sd.tril(x))(value), np.tril(value))
    np.testing.assert_array_equal(sd.function([x], sd.triu(x))(value), np.triu(value))


@pytest.mark.parametrize("build", [
    lambda b: sd.flip(b), lambda b: sd.tril(b), lambda b: sd.triu(b, 1), lambda b: sd.diagonal(b),
    lambda b: sd.tile(b, 2), lambda b: sd.repeat(b, 2, axis=0), lambda b: sd.rot90(b), lambda b: sd.moveaxis(b, 0, 1),
    lambda b: sd.atleast_3d(b), lambda b: sd.broadcast_arrays(b, sd.var("y", shape=(2, 1, 1)))[0],
], ids=["flip", "tril", "triu", "diagonal", "tile", "repeat", "rot90", "moveaxis", "atleast_3d", "broadcast_arrays"])
def test_booleans_stay_boolean_through_moves(build: Callable[[Any], Any]) -> None:
    x = sd.var("x", shape=(3, 3))
    at = np.array([[0.5, -1.0, 2.0], [-0.5, 1.0, 0.0], [3.0, -2.0, 1.0]])
    out = build(x > 0.0)
    assert out.dtype == BOOL
    np.testing.assert_array_equal(sd.function([x], out)(at), sd.function([x], build(sd.tofloat(x > 0.0)))(at) > 0)


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "full_like"])
def test_like_constants_have_numpys_shape_and_dtype_and_no_gradient(name: str) -> None:
    make = getattr(sd, name)
    fill = (3.5,) if name == "full_like" else ()
    x = sd.var("x", shape=(2, 3))
    flags = x > 0.0
    at = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    for source, array, extra in [(x, at, {}), (flags, at > 0.0, {}), (x, at, {"dtype": bool}),
                                 (flags, at > 0.0, {"dtype": np.float64}), (x, at, {"shape": (4,)})]:
        node = make(source, *fill, **extra)
        expected = getattr(np, name)(array, *fill, **extra)
        assert node.shape == expected.shape
        assert node.dtype == (BOOL if expected.dtype == np.bool_ else FLOAT)
        assert not free_variables([node])  # a constant: nothing flows back to x
        np.testing.assert_array_equal(sd.evaluate(node, {}), expected)
    _, (grad,) = sd.compile(sd.sum(make(x, *fill) * x), [x])(at)
    np.testing.assert_array_equal(grad, getattr(np, name)(at, *fill))


def test_full_like_with_a_node_fill_value_carries_its_gradient() -> None:
    x, s = sd.var("x", shape=(2, 3)), sd.var("s")
    check_grad(sd.sum(sd.sin(sd.full_like(x, s) * x)), [s, x], at=[0.7, _point([(2, 3)])[0]])


def test_array_of_nodes_builds_one_concatenate() -> None:
    x, y = sd.var("x"), sd.var("y")
    node = sd.array([[x, 1.0, 2.0], [3.0, y, 4.0]])
    ops = [n.op for n in toposort([node])]
    assert ops.count("concatenate") == 1 and node.shape == (2, 3)
    consts = [n for n in toposort([node]) if n.op == "const"]
    assert sorted(n.size for n in consts) == [1, 3]  # the neighbouring numbers 1, 2, 3 are one constant, 4 another


def test_np_array_of_nodes_is_refused() -> None:
    x = sd.var("x")
    with pytest.raises(sd.UnsupportedError):
        np.array([x, x])


ERRORS = [
    (lambda x: sd.moveaxis(x, 3, 0), sd.ShapeError, "moveaxis source"),
    (lambda x: sd.moveaxis(x, [0, 1], [0]), sd.ShapeError, "source .* and destination"),
    (lambda x: sd.moveaxis(x, [0, 0], [1, 2]), sd.ShapeError, "repeated axis"),
    (lambda x: sd.swapaxes(x, 0, -4), sd.ShapeError, "swapaxes axis2"),
    (lambda x: sd.rollaxis(x, 0, 4), sd.ShapeError, "start must satisfy"),
    (lambda x: sd.rollaxis(x, 1.0), sd.ShapeError, "axis must be an int"),
    (lambda x: sd.vstack([]), sd.ShapeError, "vstack needs at least one array"),
    (lambda x: sd.vstack([x, x], dtype=np.int64), sd.UnsupportedError, "vstack: dtype"),
    (lambda x: sd.vstack([x, x], dtype="no such type"), sd.UnsupportedError, "vstack: dtype"),
    (lambda x: sd.hstack([x, x], casting="unsafe"), sd.UnsupportedError, "hstack: casting"),
    (lambda x: sd.array_split(x, 0), sd.ShapeError, "number of sections must be positive"),
    (lambda x: sd.array_split(x, 2.5), sd.ShapeError, "indices_or_sections must be an int"),
    (lambda x: sd.vsplit(x[0, 0], 2), sd.ShapeError, "vsplit needs an array of at least 2"),
    (lambda x: sd.dsplit(x[0], 2), sd.ShapeError, "dsplit needs an array of at least 3"),
    (lambda x: sd.hsplit(x, 5), sd.ShapeError, "sections do not divide"),
    (lambda x: sd.tile(x, -1), sd.ShapeError, "tile: reps must be non-negative"),
    (lambda x: sd.tile(x, 1.5), sd.ShapeError, "tile: reps must be an int"),
    (lambda x: sd.repeat(x, [1, 2, 3], axis=0), sd.ShapeError, "repeats .* must be one int or 2 ints"),
    (lambda x: sd.repeat(x, -1), sd.ShapeError, "repeats may not be negative"),
    (lambda x: sd.repeat(x, 1.5), sd.ShapeError, "repeats must be ints"),
    (lambda x: sd.repeat(x, sd.var("r")), sd.UnsupportedError, "repeats must be ints known"),
    (lambda x: sd.repeat(x, 2, axis=3), sd.ShapeError, "repeat"),
    (lambda x: sd.pad(x, 1, mode="maximum"), sd.UnsupportedError, "mode must be one of"),
    (lambda x: np.pad(x, 1, mode="edge", constant_values=1.0), sd.UnsupportedError, "'constant_values' .* 'edge'"),
    (lambda x: np.pad(x, 1, stat_length=2), sd.UnsupportedError, "'stat_length'"),
    (lambda x: sd.pad(x, 1, "reflect", reflect_type="odd"), sd.UnsupportedError, "reflect_type"),
    (lambda x: sd.pad(x, -1), sd.ShapeError, "pad_width may not be negative"),
    (lambda x: sd.pad(x, 1.5), sd.ShapeError, "pad_width must be ints"),
    (lambda x: sd.pad(x, (1, 2, 3)), sd.ShapeError, "pad_width .* does not give"),
    (lambda x: sd.pad(x, 1, constant_values="a"), sd.ShapeError, "constant_values must be real numbers"),
    (lambda x: sd.pad(x[:, :0], 1, "wrap"), sd.ShapeError, "axis 1 has length 0"),
    (lambda x: sd.roll(x, 1.5, 0), sd.ShapeError, "roll: shift"),
    (lambda x: sd.roll(x, (1, 2), (0, 1, 2)), sd.ShapeError, "shift .* and axis .* do not broadcast"),
    (lambda x: sd.roll(x, 1, 5), sd.ShapeError, "roll"),
    (lambda x: sd.flip(x, (0, 0)), sd.ShapeError, "repeated axis"),
    (lambda x: sd.fliplr(x[0, 0]), sd.ShapeError, "fliplr needs an array of at least 2"),
    (lambda x: sd.flipud(x[0, 0, 0]), sd.ShapeError, "flipud needs an array of at least 1"),
    (lambda x: sd.rot90(x, axes=(1, -2)), sd.ShapeError, "axes must be different"),
    (lambda x: sd.rot90(x, axes=(0,)), sd.ShapeError, "axes must hold two axes"),
    (lambda x: sd.rot90(x, 1.0), sd.ShapeError, "rot90: k"),
    (lambda x: sd.tril(x[0, 0, 0]), sd.ShapeError, "tril needs an array of at least 1"),
    (lambda x: sd.triu(x, k=0.5), sd.ShapeError, "triu of .*: k"),
    (lambda x: sd.diag(x), sd.ShapeError, "diag needs a 1-d or 2-d array"),
    (lambda x: sd.diag(x[0], k=None), sd.ShapeError, "diag of .*: k"),
    (lambda x: sd.diagonal(x[0, 0]), sd.ShapeError, "diagonal needs an array of at least 2"),
    (lambda x: sd.diagonal(x, 0, 1, -2), sd.ShapeError, "axis1 and axis2 cannot be the same"),
    (lambda x: sd.diagonal(x, 0, 0, 3), sd.ShapeError, "diagonal axis2"),
    (lambda x: np.trace(x, dtype=np.int32), sd.UnsupportedError, "trace: dtype"),
    (lambda x: np.trace(x, out=np.zeros(2)), sd.UnsupportedError, "trace: out"),
    (lambda x: sd.broadcast_arrays(x, x[0, :1, :2].T), sd.ShapeError, "broadcast_arrays"),
    (lambda x: sd.zeros_like(x, dtype=np.int64), sd.UnsupportedError, "zeros_like: dtype"),
    (lambda x: sd.ones_like(x, order="Z"), sd.UnsupportedError, "ones_like: order"),
    (lambda x: sd.ones_like(x, device="gpu"), sd.UnsupportedError, "ones_like: device"),
    (lambda x: sd.full_like(x, [1.0, 2.0]), sd.ShapeError, "full_like: fill_value"),
    (lambda x: sd.full_like(x > 0, sd.var("s")), sd.UnsupportedError, "fill a boolean"),
    (lambda x: sd.meshgrid(x, indexing="yx"), sd.UnsupportedError, "meshgrid: indexing"),
    (lambda x: sd.meshgrid(x, sparse=2), sd.UnsupportedError, "meshgrid: sparse"),
    (lambda x: sd.array([x[0], x[0, 0]]), sd.ShapeError, "inhomogeneous"),
    (lambda x: sd.array([x], dtype=bool), sd.UnsupportedError, "array: dtype"),
    (lambda x: sd.array([x], like=np.zeros(1)), sd.UnsupportedError, "like"),
]


@pytest.mark.parametrize(("build", "error", "match"), ERRORS, ids=[e[2] for e in ERRORS])
def test_errors_name_the_argument(build: Callable[[Any], Any], error: type[Exception], match: str) -> None:
    x = sd.var("x", shape=(2, 3, 3))
    with pytest.raises(error, match=match):
        build(x)


def test_numba_agrees_with_numpy() -> None:
    """A sample (numba compiles are slow): a diagonal sum, a triangle, rolls and a flip in one objective."""
    x = sd.var("x", shape=(3, 3))
    objective = _objective([sd.trace(x, -1), sd.tril(x, -1), sd.roll(x, (1, -1), (0, 1)), sd.flip(x, 0)])
    at = _point([(3, 3)])[0]
    value, (grad,) = sd.compile(objective, [x], backend="numba")(at)
    expected_value, (expected_grad,) = sd.compile(objective, [x])(at)
    np.testing.assert_allclose(value, expected_value, rtol=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-14)


def test_single_precision_follows_the_double_precision_result() -> None:
    x = sd.var("x", shape=(3, 4))
    objective = _objective([sd.diag(x[0], 1), sd.pad(x, 2, "reflect"), sd.tril(x), sd.trace(x, 1)])
    at = _point([(3, 4)])[0]
    value, (grad,) = sd.compile(objective, [x], dtype=np.float32)(at.astype(np.float32))
    expected_value, (expected_grad,) = sd.compile(objective, [x])(at)
    assert grad.dtype == np.float32
    np.testing.assert_allclose(value, expected_value, rtol=1e-5)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-4, atol=1e-5)


def test_array_api_agrees_with_numpy_on_unstepped_moves() -> None:
    x = sd.var("x", shape=(3, 4))
    parts = [sd.tril(x, 1), sd.triu(x, -1), sd.roll(x, 2, axis=1), sd.tile(x, (1, 2)), sd.repeat(x, 2, axis=1),
             sd.moveaxis(x, 0, -1), sd.hstack([x, x]), sd.pad(x, ((0, 0), (1, 2)), constant_values=3.0),
             sd.meshgrid(x[0], x[1, :2])[1], sd.swapaxes(sd.atleast_3d(x), 0, 2)]
    objective = _objective(parts)
    at = _point([(3, 4)])[0]
    value, (grad,) = sd.compile(objective, [x], backend="array_api")(xps.asarray(at))
    expected_value, (expected_grad,) = sd.compile(objective, [x])(at)
    assert type(value).__module__.startswith("array_api_strict")
    np.testing.assert_allclose(np.asarray(value), expected_value, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(grad), expected_grad, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("build", [lambda x: sd.flip(x, 1), lambda x: sd.diagonal(x), lambda x: sd.trace(x),
                                   lambda x: sd.pad(x, ((0, 0), (2, 1)), "reflect")],
                         ids=["flip", "diagonal", "trace", "pad reflect"])
def test_array_api_gradients_through_stepped_slices_equal_numpys(build: Callable[[Any], Any]) -> None:
    xps = pytest.importorskip("array_api_strict")
    x = sd.var("x", shape=(3, 3))
    at = np.arange(9.0).reshape(3, 3) / 7.0 - 0.4
    _, (expected,) = sd.compile(_objective([build(x)]), [x])(at)
    _, (grad,) = sd.compile(_objective([build(x)]), [x], backend="array_api")(xps.asarray(at))
    np.testing.assert_allclose(np.asarray(grad), expected, rtol=1e-12, atol=1e-14)
