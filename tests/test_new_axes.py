"""``None`` (``np.newaxis``) in an index adds a unit axis where it stands, as in NumPy, beside
ints, slices and ``...``; the gradient flows back through it."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff as sd
from symdiff.testing import check_grad

A = np.arange(24.0).reshape(2, 3, 4) / 10.0
INDICES = [
    (slice(None), None),
    (None,),
    (None, slice(None), None),
    (Ellipsis, None),
    (slice(None), None, 1),
    (None, Ellipsis, 0),
    (1, None),
    (np.newaxis, 1, np.newaxis, slice(0, 2)),
    (slice(None, None, -1), None, slice(1, 3)),
    (None, None),
    (0, Ellipsis, None, 2),
]


@pytest.mark.parametrize("index", INDICES, ids=repr)
def test_an_index_with_new_axes_gives_numpys_shape_and_values(index: tuple) -> None:
    x = sd.var("x", shape=A.shape)
    node = x[index]
    assert node.shape == A[index].shape
    np.testing.assert_array_equal(sd.function([x], node)(A), A[index])


@pytest.mark.parametrize("index", INDICES[::2], ids=repr)
def test_the_gradient_flows_back_through_new_axes(index: tuple) -> None:
    x = sd.var("x", shape=A.shape)
    out = x[index]
    weights = np.random.default_rng(3).uniform(0.5, 1.5, size=out.shape)
    check_grad(sd.sum(sd.sin(out) * weights), [x], at=[A])


def test_pairwise_differences_for_a_lennard_jones_energy() -> None:
    """The first line of a Lennard-Jones energy: ``R[:, None, :] - R[None, :, :]``."""
    rng = np.random.default_rng(0)
    positions = rng.uniform(0.0, 3.0, size=(5, 3))
    R = sd.var("R", shape=(5, 3))
    d = R[:, None, :] - R[None, :, :]
    assert d.shape == (5, 5, 3)
    r2 = sd.sum(d * d, axis=-1) + np.eye(5)  # the diagonal is no pair: 1 keeps it finite
    inv6 = 1.0 / (r2 * r2 * r2)
    energy = 2.0 * sd.sum((inv6 * inv6 - inv6) * (1.0 - np.eye(5)))
    expected_d = positions[:, None, :] - positions[None, :, :]
    e2 = np.sum(expected_d**2, axis=-1) + np.eye(5)
    e6 = 1.0 / e2**3
    value, _ = sd.compile(energy, [R])(positions)
    np.testing.assert_allclose(value, 2.0 * np.sum((e6 * e6 - e6) * (1.0 - np.eye(5))), rtol=1e-13)
    check_grad(energy, [R], at=[positions], rtol=1e-5)


def test_what_an_index_cannot_hold_is_refused_by_name() -> None:
    x = sd.var("x", shape=(3, 4))
    with pytest.raises(sd.UnsupportedError, match="only ints, slices, None and"):
        x[:, "a"]
    with pytest.raises(sd.ShapeError, match="too many indices"):
        x[None, 0, 0, 0]


B = np.arange(6.0).reshape(2, 1, 3) / 4.0


@pytest.mark.parametrize(("build", "reference"), [
    (lambda x: sd.ravel(x), lambda a: np.ravel(a)),
    (lambda x: np.ravel(x, order="F"), lambda a: np.ravel(a, order="F")),
    (lambda x: x.flatten(), lambda a: a.flatten()),
    (lambda x: np.squeeze(x), lambda a: np.squeeze(a)),
    (lambda x: x.squeeze(1), lambda a: a.squeeze(1)),
    (lambda x: sd.squeeze(x, axis=(1,)), lambda a: np.squeeze(a, axis=(1,))),
    (lambda x: np.expand_dims(x, 0), lambda a: np.expand_dims(a, 0)),
    (lambda x: sd.expand_dims(x, (0, -1)), lambda a: np.expand_dims(a, (0, -1))),
], ids=["ravel", "ravel F", "flatten", "squeeze", "squeeze(1)", "squeeze axis", "expand_dims", "expand_dims two"])
def test_ravel_squeeze_and_expand_dims_follow_numpy(build, reference) -> None:
    x = sd.var("x", shape=B.shape)
    out = build(x)
    assert out.shape == reference(B).shape
    np.testing.assert_array_equal(sd.function([x], out)(B), reference(B))
    check_grad(sd.sum(sd.sin(out) * np.linspace(0.5, 1.5, out.size).reshape(out.shape)), [x], at=[B])


def test_squeeze_and_expand_dims_refuse_what_numpy_refuses() -> None:
    x = sd.var("x", shape=B.shape)
    with pytest.raises(sd.ShapeError, match="axis 0 has length 2, not 1"):
        sd.squeeze(x, 0)
    with pytest.raises(sd.ShapeError, match="repeated axis"):
        sd.expand_dims(x, (1, 1))
    with pytest.raises(sd.UnsupportedError, match="order"):
        sd.ravel(x, order="K")
