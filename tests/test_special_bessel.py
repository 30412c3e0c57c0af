"""Bessel functions of a constant order and multigammaln, against SciPy and SymPy."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff as sd
from symdiff.testing import assert_matches_sympy, check_grad

special = pytest.importorskip("scipy.special")

X = np.array([0.5, 1.2, 2.0, 3.1])
WEIGHTS = np.array([1.0, 2.0, 3.0, 4.0])


@pytest.mark.parametrize("name", ["jv", "yv", "iv", "kv", "ive", "kve"])
@pytest.mark.parametrize("order", [0.0, 1.0, 2.5, -0.5])
def test_bessel_values_gradients_and_second_derivatives(name: str, order: float) -> None:
    x = sd.var("x", (4,))
    f = getattr(sd.special, name)(order, x)
    np.testing.assert_allclose(sd.function([x], f)(X), getattr(special, name)(order, X), rtol=1e-13)
    check_grad(sd.sum(f * WEIGHTS), x, at=[X])
    (g,) = sd.grad(sd.sum(f * WEIGHTS), x)
    check_grad(sd.sum(g * WEIGHTS), x, at=[X])
    assert getattr(special, name)(order, x).op == name  # the SciPy ufunc builds the node


@pytest.mark.parametrize(("name", "order"), [("jv", 1.5), ("yv", 0.5), ("iv", 2.0), ("kv", 1.0), ("ive", 0.5),
                                             ("kve", 1.5)])
def test_bessel_derivatives_match_sympy(name: str, order: float) -> None:
    s = sd.var("s")
    assert_matches_sympy(getattr(sd.special, name)(order, s), [s], at=[1.3])


def test_fixed_orders_and_multigammaln() -> None:
    x = sd.var("x", (4,))
    for name in ("j0", "j1", "y0", "y1"):
        np.testing.assert_allclose(sd.function([x], getattr(special, name)(x))(X), getattr(special, name)(X),
                                   rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(sd.function([x], special.yn(2, x))(X), special.yn(2, X), rtol=1e-13)
    f = sd.special.multigammaln(x + 3.0, 3)
    np.testing.assert_allclose(sd.function([x], f)(X), special.multigammaln(X + 3.0, 3), rtol=1e-13)
    check_grad(sd.sum(f * WEIGHTS), x, at=[X])


def test_the_order_must_be_a_constant() -> None:
    x, v = sd.var("x", (4,)), sd.var("v")
    with pytest.raises(sd.UnsupportedError, match="the order v must be a constant"):
        sd.special.jv(v, x)
    with pytest.raises(sd.UnsupportedError, match="n must be an int"):
        sd.special.yn(1.5, x)
    with pytest.raises(sd.UnsupportedError, match="d must be a positive int"):
        sd.special.multigammaln(x, 0)
    with pytest.raises(sd.UnsupportedError, match="numba backend cannot compute jv"):
        sd.compile(sd.sum(sd.special.jv(1.0, x)), x, backend="numba")


@pytest.mark.parametrize("name", ["gammainc", "gammaincc"])
def test_incomplete_gamma_of_a_constant_a(name: str) -> None:
    x = sd.var("x", (4,))
    f = getattr(special, name)(1.7, x)
    np.testing.assert_allclose(sd.function([x], f)(X), getattr(special, name)(1.7, X), rtol=1e-13)
    check_grad(sd.sum(f * WEIGHTS), x, at=[X])
    (g,) = sd.grad(sd.sum(f * WEIGHTS), x)
    check_grad(sd.sum(g * WEIGHTS), x, at=[X])
    s = sd.var("s")
    assert_matches_sympy(getattr(sd.special, name)(1.7, s), [s], at=[1.3])
    with pytest.raises(sd.UnsupportedError, match=f"{name}: a must be a constant"):
        getattr(sd.special, name)(sd.var("a"), x)


def test_rgamma_and_gammasgn() -> None:
    x = sd.var("x", (4,))
    shifted = X - 1.7  # through the pole at 0 and past it
    np.testing.assert_allclose(sd.function([x], special.rgamma(x))(shifted), special.rgamma(shifted), rtol=1e-13)
    np.testing.assert_array_equal(sd.function([x], special.gammasgn(x))(shifted), special.gammasgn(shifted))
    check_grad(sd.sum(sd.special.rgamma(x) * WEIGHTS), x, at=[shifted])
    s = sd.var("s")
    assert_matches_sympy(sd.special.rgamma(s), [s], at=[1.3])
