"""sd.special: values against scipy.special, gradients (central differences, SymPy, second order),
stable derivatives in the tails, dispatch from SciPy's ufuncs, backends, float32, generated
modules, and the error without SciPy."""

from __future__ import annotations

import subprocess
import sys
import warnings
from typing import Any

import mpmath
import numpy as np
import pytest
import scipy.special as ss

import symdiff as sd
from symdiff import interop
from symdiff.compiler import compile_program
from symdiff.ops import OPS, USER
from symdiff.source_text import module_text
from symdiff.special_ops import MODULE, NAMES
from symdiff.testing import assert_matches_sympy, check_grad, check_op

sp = sd.special
PRIMITIVES = [name for name in NAMES if name != "polygamma"]
# builder, SciPy function, one sampling interval per argument
CASES: dict[str, tuple[Any, Any, tuple[tuple[float, float], ...]]] = {
    "gammaln": (sp.gammaln, ss.gammaln, ((-4.5, 6.0),)),
    "digamma": (sp.digamma, ss.digamma, ((-3.5, 6.0),)),
    "gamma": (sp.gamma, ss.gamma, ((-3.5, 5.0),)),
    "beta": (sp.beta, ss.beta, ((0.1, 4.0), (0.1, 4.0))),
    "betaln": (sp.betaln, ss.betaln, ((0.1, 40.0), (0.1, 4.0))),
    "erf": (sp.erf, ss.erf, ((-4.0, 4.0),)),
    "erfc": (sp.erfc, ss.erfc, ((-4.0, 9.0),)),
    "erfinv": (sp.erfinv, ss.erfinv, ((-0.999, 0.999),)),
    "erfcinv": (sp.erfcinv, ss.erfcinv, ((0.001, 1.999),)),
    "erfcx": (sp.erfcx, ss.erfcx, ((-5.0, 50.0),)),
    "ndtr": (sp.ndtr, ss.ndtr, ((-6.0, 6.0),)),
    "log_ndtr": (sp.log_ndtr, ss.log_ndtr, ((-50.0, 8.0),)),
    "ndtri": (sp.ndtri, ss.ndtri, ((0.001, 0.999),)),
    "i0": (sp.i0, ss.i0, ((-20.0, 20.0),)),
    "i1": (sp.i1, ss.i1, ((-20.0, 20.0),)),
    "i0e": (sp.i0e, ss.i0e, ((-50.0, 50.0),)),
    "i1e": (sp.i1e, ss.i1e, ((-50.0, 50.0),)),
    "xlogy": (sp.xlogy, ss.xlogy, ((-3.0, 3.0), (0.01, 5.0))),
    "xlog1py": (sp.xlog1py, ss.xlog1py, ((-3.0, 3.0), (-0.99, 5.0))),
    "entr": (sp.entr, ss.entr, ((0.01, 5.0),)),
    "rel_entr": (sp.rel_entr, ss.rel_entr, ((0.01, 5.0), (0.01, 5.0))),
    "kl_div": (sp.kl_div, ss.kl_div, ((0.01, 5.0), (0.01, 5.0))),
    "expit": (sp.expit, ss.expit, ((-40.0, 40.0),)),
    "log_expit": (sp.log_expit, ss.log_expit, ((-40.0, 40.0),)),
    "logit": (sp.logit, ss.logit, ((1e-6, 1 - 1e-6),)),
}
SHAPES = [(), (4,), (2, 1, 3)]
# for derivative checks: away from poles, and where values of very different sizes would swamp differences
SMOOTH = {"gammaln": ((0.3, 5.0),), "digamma": ((0.3, 5.0),), "gamma": ((0.3, 4.0),), "erfcx": ((-2.0, 8.0),),
          "i0": ((-5.0, 5.0),), "i1": ((-5.0, 5.0),), "log_ndtr": ((-10.0, 5.0),), "erfinv": ((-0.95, 0.95),),
          "erfcinv": ((0.05, 1.95),), "ndtri": ((0.02, 0.98),), "betaln": ((0.1, 6.0), (0.1, 4.0))}


def smooth(name: str) -> tuple[tuple[float, float], ...]:
    return SMOOTH.get(name, tuple((lo, min(hi, 6.0)) for lo, hi in CASES[name][2]))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_scipy(name: str, shape: tuple[int, ...], rng: np.random.Generator) -> None:
    make, reference, domain = CASES[name]
    args = [rng.uniform(lo, hi, size=shape) for lo, hi in domain]
    variables = [sd.var(f"a{i}", shape=shape) for i in range(len(domain))]
    got, expected = sd.function(variables, make(*variables))(*args), reference(*args)
    assert np.shape(got) == np.shape(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-300)


def test_special_points_match_scipy() -> None:
    """Zeros, poles, infinities and the conventions at 0 (xlogy(0, 0) = 0, entr(0) = 0)."""
    x = sd.var("x", shape=(7,))
    points = np.array([0.0, -0.0, -1.0, 1.0, np.inf, -np.inf, np.nan])
    with np.errstate(all="ignore"):
        for name in ["gammaln", "gamma", "erf", "erfc", "erfcx", "log_ndtr", "ndtr", "i0e", "i1e", "entr", "logit",
                     "log_expit", "erfinv", "erfcinv", "ndtri"]:
            make, reference, _ = CASES[name]
            np.testing.assert_array_equal(sd.function([x], make(x))(points), reference(points), err_msg=name)
        y = sd.var("y", shape=(7,))
        for name in ["xlogy", "xlog1py", "rel_entr", "kl_div"]:
            make, reference, _ = CASES[name]
            pairs = np.array([0.0, 0.0, 1.0, 0.0, -1.0, 2.0, 0.0]), np.array([0.0, -1.0, 0.0, 3.0, 2.0, -1.0, np.inf])
            np.testing.assert_array_equal(sd.function([x, y], make(x, y))(*pairs), reference(*pairs), err_msg=name)


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_polygamma_matches_scipy(n: int, rng: np.random.Generator) -> None:
    x = sd.var("x", shape=(2, 3))
    point = rng.uniform(-3.5, 6.0, size=(2, 3))
    np.testing.assert_allclose(sd.function([x], sp.polygamma(n, x))(point), ss.polygamma(n, point), rtol=1e-13)
    assert sp.polygamma(np.int64(n), x) is sp.polygamma(n, x) is sp.polygamma(float(n), x)


@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)])
def test_softmax_log_softmax_logsumexp_match_scipy(axis: Any, rng: np.random.Generator) -> None:
    x = sd.var("x", shape=(2, 3, 4))
    point = rng.uniform(-30.0, 30.0, size=(2, 3, 4))
    f = sd.function([x], [sp.softmax(x, axis=axis), sp.log_softmax(x, axis=axis), sp.logsumexp(x, axis=axis)])
    for got, expected in zip(f(point), [ss.softmax(point, axis=axis), ss.log_softmax(point, axis=axis),
                                        ss.logsumexp(point, axis=axis)], strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-300)
    assert sp.logsumexp is sd.losses.logsumexp


@pytest.mark.parametrize("name", PRIMITIVES)
def test_each_op_passes_the_checks_of_every_op(name: str) -> None:
    """Central differences on scalars and (2, 3) arrays, and SymPy's value and derivative on scalars."""
    assert OPS[name].sympy is not None
    check_op(name)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_of_the_builders(name: str, rng: np.random.Generator) -> None:
    make, domain = CASES[name][0], smooth(name)
    variables = [sd.var(f"a{i}", shape=(2, 3)) for i in range(len(domain))]
    point = [rng.uniform(lo, hi, size=(2, 3)) for lo, hi in domain]
    check_grad(sd.sum(make(*variables) * rng.uniform(0.5, 1.5, (2, 3))), variables, at=point, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("name", ["xlogy", "xlog1py", "beta", "betaln", "rel_entr", "kl_div"])
def test_binary_ops_broadcast_and_reduce_their_gradients(name: str, rng: np.random.Generator) -> None:
    make, reference, _ = CASES[name]
    (lo_a, hi_a), (lo_b, hi_b) = smooth(name)
    a, b = sd.var("a", shape=(2, 3)), sd.var("b", shape=(3,))
    pa, pb = rng.uniform(lo_a, hi_a, (2, 3)), rng.uniform(lo_b, hi_b, 3)
    np.testing.assert_allclose(sd.function([a, b], make(a, b))(pa, pb), reference(pa, pb), rtol=1e-14)
    check_grad(sd.sum(make(a, b) * rng.uniform(0.5, 1.5, (2, 3))), [a, b], at=[pa, pb])
    check_grad(sd.sum(make(2.0, b)), b, at=[pb])


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_derivatives(name: str, rng: np.random.Generator) -> None:
    """Every VJP is differentiable again: the gradient's own gradient against central differences."""
    make, safe = CASES[name][0], smooth(name)
    variables = [sd.var(f"a{i}", shape=(3,)) for i in range(len(safe))]
    grads = sd.grad(sd.sum(make(*variables) * rng.uniform(0.5, 1.5, 3)), variables)
    objective = sd.sum(sd.stack([sd.sum(g * rng.uniform(0.5, 1.5, 3)) for g in grads]))
    check_grad(objective, variables, at=[rng.uniform(lo, hi, 3) for lo, hi in safe], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(("make", "at"), [
    (sp.gammaln, 1.7), (sp.digamma, 0.8), (sp.erf, 0.6), (sp.erfc, -0.4), (sp.erfinv, 0.3), (sp.erfcinv, 1.4),
    (sp.erfcx, 1.2), (sp.log_ndtr, -1.3), (sp.ndtri, 0.2), (sp.i1, 0.7), (sp.i1e, 1.1), (sp.gamma, 2.5),
], ids=lambda v: getattr(v, "__name__", str(v)))
def test_second_derivatives_match_sympy(make: Any, at: float) -> None:
    x = sd.var("x")
    (first,) = sd.grad(make(x), x)
    assert_matches_sympy(first, x, at=[at])


@pytest.mark.parametrize("n", [1, 2, 3])
def test_polygamma_matches_sympy_and_differences(n: int) -> None:
    x = sd.var("x")
    assert_matches_sympy(sp.polygamma(n, x), x, at=[1.3])
    (first,) = sd.grad(sp.polygamma(n, x), x)
    assert_matches_sympy(first, x, at=[0.9])
    v = sd.var("v", shape=(3,))
    check_grad(sd.sum(sp.polygamma(n, v)), v, at=[np.array([0.5, 1.5, 4.0])], rtol=1e-5)


def test_digamma_derivative_is_polygamma_and_gammaln_derivative_is_digamma() -> None:
    x = sd.var("x", shape=(3,))
    (g,) = sd.grad(sd.sum(sp.gammaln(x)), x)
    (h,) = sd.grad(sd.sum(sp.digamma(x)), x)
    assert g.op == "digamma" and h.op == "polygamma"
    assert sp.psi is sp.digamma and sp.polygamma(0, x) is sp.digamma(x)


def test_hessian_and_jacobian_through_special_ops() -> None:
    x = sd.var("x", shape=(3,))
    point = np.array([0.5, 1.2, 3.0])
    hessian = sd.function([x], sd.hessian(sd.sum(sp.gammaln(x) + sp.erf(x)), x))(point)
    expected = np.diag(ss.polygamma(1, point) - 4.0 / np.sqrt(np.pi) * point * np.exp(-point**2))
    np.testing.assert_allclose(hessian, expected, rtol=1e-12, atol=1e-15)
    jacobian = sd.function([x], sd.jacobian(sp.xlogy(x, x[::-1]), x))(point)
    rev = point[::-1]
    expected_j = np.diag(np.log(rev)) + np.fliplr(np.diag(point / rev))
    np.testing.assert_allclose(jacobian, expected_j, rtol=1e-12)


# ---- stability: the derivatives where the textbook formula fails ------------------------------


def _derivative(make: Any, points: np.ndarray) -> np.ndarray:
    x = sd.var("x", shape=points.shape)
    _, (g,) = sd.compile(sd.sum(make(x)), x)(points)
    return g


def test_log_ndtr_derivative_is_accurate_in_both_tails() -> None:
    points = np.array([-1e4, -200.0, -40.0, -8.0, -1.0, 0.0, 3.0, 20.0, 38.0])
    mpmath.mp.dps = 50
    expected = [float(mpmath.npdf(p) / mpmath.ncdf(p)) for p in points]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = _derivative(sp.log_ndtr, points)
    np.testing.assert_allclose(got, expected, rtol=1e-13)


def test_erfcx_derivative_does_not_cancel_for_large_x() -> None:
    points = np.array([-3.0, 0.0, 2.0, 49.99, 50.01, 300.0, 1e8])
    mpmath.mp.dps = 60
    expected = [float(2 * p * mpmath.erfc(p) * mpmath.exp(mpmath.mpf(p) ** 2) - 2 / mpmath.sqrt(mpmath.pi))
                for p in points]
    np.testing.assert_allclose(_derivative(sp.erfcx, points), expected, rtol=5e-13)
    far = np.array([1e150, 1e200])  # the leading term, -1 / (sqrt(pi) x^2), underflowing to 0 past 1e154
    np.testing.assert_allclose(_derivative(sp.erfcx, far), [-1.0 / (np.sqrt(np.pi) * 1e300), 0.0], rtol=1e-15)


def test_bessel_derivatives_at_zero_and_beyond_overflow() -> None:
    points = np.array([0.0, -0.0, 1e-310, 2.0, -3.0, 800.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        i1e, i0e = (_derivative(f, points) for f in (sp.i1e, sp.i0e))
    with np.errstate(over="ignore"):  # i1(800) overflows, and so does its derivative
        i1 = _derivative(sp.i1, points)
    assert i1[-1] == np.inf
    np.testing.assert_allclose(i1e[:3], [0.5, 0.5, 0.5])
    np.testing.assert_allclose(i0e[:2], [0.0, 0.0])  # abs-like kink: the sign(0) = 0 convention
    np.testing.assert_allclose(i0e[2], -1.0)
    np.testing.assert_allclose(i1[:3], [0.5, 0.5, 0.5])
    mpmath.mp.dps = 40
    for got, f in [(i1e, lambda t: mpmath.exp(-abs(t)) * mpmath.besseli(1, t)),
                   (i0e, lambda t: mpmath.exp(-abs(t)) * mpmath.besseli(0, t))]:
        np.testing.assert_allclose(got[3:], [float(mpmath.diff(f, mpmath.mpf(p))) for p in points[3:]], rtol=1e-12)


def test_xlogy_family_gradients_at_x_zero() -> None:
    """xlogy(0, y) = 0 for every y: d/dy is 0 there, and d/dx is log(y)."""
    x, y = sd.var("x", shape=(3,)), sd.var("y", shape=(3,))
    xs, ys = np.zeros(3), np.array([0.5, 2.0, 7.0])
    for make, dx in [(sp.xlogy, np.log(ys)), (sp.xlog1py, np.log1p(ys))]:
        value, (gx, gy) = sd.compile(sd.sum(make(x, y)), [x, y])(xs, ys)
        assert value == 0.0
        np.testing.assert_allclose(gx, dx)
        np.testing.assert_array_equal(gy, np.zeros(3))
    with np.errstate(divide="ignore", invalid="raise"):  # y = 0 too: d/dx is log(0) = -inf, d/dy no 0/0
        _, (gx, gy) = sd.compile(sd.sum(sp.xlogy(x, y)), [x, y])(np.zeros(3), np.array([1.0, 2.0, 0.0]))
    np.testing.assert_array_equal(gy, np.zeros(3))
    assert gx[2] == -np.inf


def test_logit_is_accurate_near_one_half_and_the_ends() -> None:
    points = np.array([1e-300, 1e-9, 0.3, 0.5 - 1e-13, 0.5, 0.5 + 1e-10, 0.699, 0.701, 1 - 1e-12])
    mpmath.mp.dps = 50
    expected = [float(mpmath.log(mpmath.mpf(p) / (1 - mpmath.mpf(p)))) for p in points]
    x = sd.var("x", shape=points.shape)
    np.testing.assert_allclose(sd.function([x], sp.logit(x))(points), expected, rtol=4e-16, atol=1e-300)


def test_guarded_where_keeps_poles_out_of_both_sweeps() -> None:
    x = sd.var("x", shape=(3,))
    objective = sd.sum(sd.where(x > 0.0, sp.gammaln(x) + sp.entr(x) + sp.polygamma(2, x) + sp.erfinv(x / 4.0), 0.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, (g,) = sd.compile(objective, x)(np.array([-1.0, 0.0, 2.0]))
    assert np.isfinite(value) and np.all(np.isfinite(g)) and g[0] == 0.0 and g[1] == 0.0


# ---- dispatch from scipy.special -----------------------------------------------------------------


ORDERED = {"jv", "yv", "iv", "kv", "ive", "kve", "yn", "gammainc", "gammaincc"}  # a constant first argument


@pytest.mark.parametrize("name", sorted(interop.SCIPY_UFUNCS))
def test_scipy_ufuncs_dispatch_to_the_builders(name: str) -> None:
    ufunc = getattr(ss, name)
    assert isinstance(ufunc, np.ufunc)
    args: list = [sd.var(f"a{i}", shape=(3,)) for i in range(ufunc.nin)]
    if name in ORDERED:  # a Bessel function's order is a constant
        args[0] = 1
    assert ufunc(*args) is interop.SCIPY_UFUNCS[name](*args)
    assert getattr(sp, "digamma" if name == "psi" else name)(*args) is ufunc(*args)


def test_every_special_ufunc_op_is_reachable_from_scipy() -> None:
    reached = {interop.SCIPY_UFUNCS[n](*([1] if n in ORDERED else []),
                                       *[sd.var("a", shape=(2,))] * (getattr(ss, n).nin - (n in ORDERED))).op
               for n in interop.SCIPY_UFUNCS}
    assert set(PRIMITIVES) <= reached


def test_scipy_ufunc_keywords_and_methods_are_refused() -> None:
    x = sd.var("x", shape=(3,))
    with pytest.raises(sd.UnsupportedError, match=r"scipy\.special\.erf with \['dtype'\]"):
        ss.erf(x, dtype=np.float64)
    with pytest.raises(sd.UnsupportedError, match=r"scipy\.special\.xlogy\.outer"):
        ss.xlogy.outer(x, x)


REFUSED_CONVERSION = r"cannot (take a symdiff node|become a NumPy array)"


@pytest.mark.parametrize("function", [ss.logsumexp, ss.softmax, ss.log_softmax])
def test_scipy_plain_functions_on_nodes_raise(function: Any) -> None:
    """SciPy's Python functions convert their argument to an array: the node refuses."""
    with pytest.raises(sd.UnsupportedError, match=REFUSED_CONVERSION):
        function(sd.var("x", shape=(3,)))


def test_scipy_polygamma_on_a_node_raises() -> None:
    with pytest.raises(sd.UnsupportedError, match=REFUSED_CONVERSION):
        ss.polygamma(1, sd.var("x", shape=(3,)))


# ---- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [-1, 1.5, -2.0, True, "2", None, np.inf, np.array([1, 2])])
def test_polygamma_needs_a_whole_order(n: Any) -> None:
    with pytest.raises(sd.UnsupportedError, match="polygamma: n must be a whole number from 0 to"):
        sp.polygamma(n, sd.var("x"))


def test_polygamma_order_cannot_be_a_node() -> None:
    with pytest.raises(sd.UnsupportedError, match="got a node"):
        sp.polygamma(sd.var("n"), sd.var("x"))


def test_softmax_bad_axis_and_shapes() -> None:
    x = sd.var("x", shape=(2, 3))
    with pytest.raises(sd.api.AxisError, match=r"softmax|logsumexp"):
        sp.softmax(x, axis=2)
    with pytest.raises(sd.ShapeError, match="xlogy"):
        sp.xlogy(x, sd.var("y", shape=(4,)))


# ---- backends, float32, generated modules ---------------------------------------------------------


@pytest.mark.parametrize("backend", ["numba", "array_api"])
def test_backends_refuse_scipy_ops_by_name(backend: str) -> None:
    x = sd.var("x", shape=(3,))
    with pytest.raises(sd.UnsupportedError, match=f"the {backend} backend cannot compute digamma, erf, gammaln;"):
        sd.compile(sd.sum(sp.erf(x) * sp.gammaln(x)), x, backend=backend)
    for name in NAMES:
        op = OPS[name]
        assert op.refused == ("numba", "array_api") and op.kind != USER and op.module == MODULE


def test_composed_functions_run_on_the_array_api_and_numba(rng: np.random.Generator) -> None:
    import array_api_strict as xps

    x = sd.var("x", shape=(2, 3))
    point = rng.uniform(0.05, 0.95, size=(2, 3))
    objective = sd.sum(sp.log_softmax(x, axis=1) * sp.logit(x) + sp.log_expit(x) * sp.softmax(x))
    value, (g,) = sd.compile(objective, x)(point)
    xp_value, (xp_g,) = sd.compile(objective, x, backend="array_api")(xps.asarray(point))
    np.testing.assert_allclose(float(xp_value), value, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(xp_g), g, rtol=1e-12)
    small = sd.sum(sp.logit(x) * sp.log_expit(x))  # numba compiles a small graph only, for time
    nb_value, (nb_g,) = sd.compile(small, x, backend="numba")(point)
    np_value, (np_g,) = sd.compile(small, x)(point)
    np.testing.assert_allclose(nb_value, np_value, rtol=1e-12)
    np.testing.assert_allclose(nb_g, np_g, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_matches_float64(name: str, rng: np.random.Generator) -> None:
    make, safe = CASES[name][0], smooth(name)
    variables = [sd.var(f"a{i}", shape=(4,)) for i in range(len(safe))]
    point = [rng.uniform(lo, hi, size=4).astype(np.float32) for lo, hi in safe]
    objective = sd.sum(make(*variables) * np.array([0.5, 1.0, 1.5, 2.0]))
    single = sd.compile(objective, variables, dtype=np.float32)
    value, grads = single(*point)
    expected_value, expected_grads = sd.compile(objective, variables)(*(p.astype(np.float64) for p in point))
    assert type(value) is np.float32 and all(g.dtype == np.float32 for g in grads)
    np.testing.assert_allclose(value, expected_value, rtol=2e-4, atol=2e-5)
    for g, e in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(g, e, rtol=2e-4, atol=2e-5 * max(1.0, float(np.abs(e).max())))


def test_float32_scalar_constants_stay_single_precision() -> None:
    x = sd.var("x", shape=(3,))
    fn = sd.compile(sd.sum(sp.xlogy(2.0, x) + sp.polygamma(1, x)), x, dtype=np.float32)
    assert "scipy.special.xlogy(np.float32(2.0), x)" in fn.source
    _, (g,) = fn(np.array([0.5, 1.0, 2.0], np.float32))
    assert g.dtype == np.float32


def test_generated_code_imports_scipy_special(tmp_path: Any) -> None:
    x = sd.var("x", shape=(3,))
    objective = sd.sum(sp.erf(x) + sp.polygamma(2, x))
    fn = sd.compile(objective, x)
    assert "scipy.special.erf(x)" in fn.source and "scipy.special.zeta(3, x)" in fn.source
    text = module_text(compile_program(objective, x), "Special functions.")
    lines = text.splitlines()
    assert "import scipy.special" in lines and lines.index("import scipy.special") > lines.index("import numpy as np")
    assert "Imports only numpy and math, plus scipy.special." in text
    path = tmp_path / "special_module.py"
    path.write_text(text)
    namespace: dict[str, Any] = {}
    exec(compile(text, str(path), "exec"), namespace)
    point = np.array([0.5, 1.0, 2.5])
    value, (g,) = namespace["value_and_grad"](point)
    np.testing.assert_allclose(value, np.sum(ss.erf(point) + ss.polygamma(2, point)), rtol=1e-14)
    np.testing.assert_allclose(g, fn(point)[1][0], rtol=1e-15)
    assert not any("scipy" in line for line in module_text(compile_program(sd.sum(sp.logit(x)), x), "T").splitlines()
                   if line.startswith("import"))


def test_pickled_function_keeps_its_scipy_import() -> None:
    x = sd.var("x", shape=(2,))
    fn = sd.compile(sd.sum(sp.gammaln(x)), x)
    again = sd.loads(sd.dumps(fn))
    np.testing.assert_allclose(again(np.array([1.5, 3.0]))[1][0], ss.digamma([1.5, 3.0]))


# ---- SciPy is optional ---------------------------------------------------------------------------


def test_import_symdiff_does_not_import_scipy() -> None:
    code = "import sys, symdiff; sys.exit(1 if any(m.split('.')[0] == 'scipy' for m in sys.modules) else 0)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.parametrize("build", [lambda x: sp.erf(x), lambda x: sp.polygamma(1, x), lambda x: sp.xlogy(x, x),
                                   lambda x: sd.api.apply("gammaln", [x])])
def test_without_scipy_builders_say_what_to_install(build: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "scipy.special", None)
    with pytest.raises(sd.UnsupportedError, match=r"SciPy is not installed; install it with .*symdiff\[scipy\]"):
        build(sd.var("x", shape=(2,)))


def test_without_scipy_composed_functions_still_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "scipy.special", None)
    x = sd.var("x", shape=(2,))
    value = sd.function([x], sd.sum(sp.logit(x) + sp.log_softmax(x) + sp.expit(x)))(np.array([0.25, 0.5]))
    assert np.isfinite(value)
