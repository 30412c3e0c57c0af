"""The functions of symdiff.elementwise: values equal NumPy's bit for bit (special values and
broadcasting included), gradients by central differences and SymPy, second derivatives, NumPy
dispatch, the ``%`` and ``//`` operators, the numba and array API backends or their refusals,
and the keyword values symdiff refuses."""

from __future__ import annotations

import warnings
from typing import Any

import array_api_strict as xps
import mpmath
import numpy as np
import pytest

import symdiff as sd
from symdiff.graph import BOOL
from symdiff.ops import OPS
from symdiff.testing import assert_matches_sympy, check_grad

SPECIAL = np.array([0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 1.5, 2.5, -2.5, 3.7, -7.3, 1e-310, 1e300, -1e300,
                    np.inf, -np.inf, np.nan])
# points for derivatives, inside each function's domain and clear of its jumps
UNARY = {"arccosh": (1.2, 4.0), "arctanh": (-0.9, 0.9), "log2": (0.1, 5.0), "log10": (0.1, 5.0),
         "exp2": (-3.0, 3.0), "cbrt": (-3.0, -0.2), "reciprocal": (-3.0, -0.3), "deg2rad": (-5.0, 5.0),
         "rad2deg": (-5.0, 5.0), "floor": (-1.9, -1.1), "ceil": (1.1, 1.9), "trunc": (-1.9, -1.1),
         "rint": (2.6, 3.4), "sinc": (-2.0, 2.0), "nan_to_num": (-3.0, 3.0)}
BINARY = {"arctan2": ((-2.0, 2.0), (-2.0, -0.5)), "hypot": ((-2.0, 2.0), (-2.0, -0.5)),
          "logaddexp2": ((-3.0, 3.0), (-3.0, 3.0)), "fmax": ((0.0, 1.0), (1.1, 2.0)), "fmin": ((0.0, 1.0), (1.1, 2.0)),
          "remainder": ((-2.8, -2.2), (1.0, 1.05)), "fmod": ((-2.8, -2.2), (1.0, 1.05)),
          "floor_divide": ((2.2, 2.8), (-1.05, -1.0)), "copysign": ((0.5, 2.0), (-2.0, -0.5)),
          "heaviside": ((0.2, 2.0), (0.0, 1.0)), "float_power": ((0.5, 2.0), (-1.5, 1.5))}
STEPS = {"floor", "ceil", "trunc", "rint", "floor_divide", "heaviside"}  # zero gradient (heaviside: by x1)
PREDICATES = ("isnan", "isinf", "isfinite")
rng = np.random.default_rng(20261202)


def uniform(interval: tuple[float, float], shape: tuple[int, ...] = ()) -> Any:
    value = rng.uniform(*interval, size=shape)
    return float(value) if shape == () else value


def same_bits(got: Any, want: Any) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype.kind == want.dtype.kind
    np.testing.assert_array_equal(got, want)
    if want.dtype.kind == "f":
        signs = np.where(np.isnan(want), False, np.signbit(got) != np.signbit(want))
        assert not np.any(signs), f"signs differ at {np.flatnonzero(signs)}"  # of zeros too; a NaN's sign is noise


# On CPUs with AVX-512 NumPy runs its own SIMD kernels for these, which may round the last bit
# differently from the C library that the plain-float path (math) and numba call: there the
# scalar path and numba are held to a few units in the last place, with the same NaNs and
# infinities; on every other op, and on the NumPy path everywhere, to the bit.
LIBM_ROUNDED = {"exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan", "arcsin", "arccos",
                "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "cbrt", "arctan2", "hypot",
                "logaddexp", "logaddexp2", "power", "float_power"}
MAX_ULP = 4


def libm_bits(got: Any, want: Any, name: str) -> None:
    """``same_bits``, or within ``MAX_ULP`` for an op NumPy may compute with SIMD kernels of its own."""
    if name not in LIBM_ROUNDED:
        same_bits(got, want)
        return
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype.kind == want.dtype.kind
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    finite = np.isfinite(want)
    np.testing.assert_array_equal(got[~finite & ~np.isnan(want)], want[~finite & ~np.isnan(want)])
    np.testing.assert_array_max_ulp(got[finite], want[finite], maxulp=MAX_ULP)


def numpy_of(name: str) -> Any:
    return getattr(np, name)


@pytest.fixture(autouse=True)
def quiet() -> Any:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


@pytest.mark.parametrize("name", [*UNARY, *PREDICATES, "degrees", "radians", "fix", "positive"])
def test_a_function_of_one_argument_equals_numpy_bit_for_bit(name: str) -> None:
    x = sd.var("x", shape=SPECIAL.shape)
    same_bits(sd.function([x], getattr(sd, name)(x))(SPECIAL), numpy_of(name)(SPECIAL))
    for shape in [(2, 3, 4), (1, 5)]:
        y = sd.var("y", shape=shape)
        point = rng.uniform(-6.0, 6.0, size=shape)
        same_bits(sd.function([y], getattr(sd, name)(y))(point), numpy_of(name)(point))
    s = sd.var("s")  # scalars take the plain-float path first, and NumPy's where math refuses
    scalar = sd.function([s], getattr(sd, name)(s))
    for value in SPECIAL:
        libm_bits(scalar(float(value)), numpy_of(name)(value), name)


@pytest.mark.parametrize("name", [*BINARY, "mod"])
def test_a_function_of_two_arguments_equals_numpy_bit_for_bit_with_broadcasting(name: str) -> None:
    first, second = (np.repeat(SPECIAL, SPECIAL.size), np.tile(SPECIAL, SPECIAL.size))
    a, b = sd.var("a", shape=first.shape), sd.var("b", shape=second.shape)
    same_bits(sd.function([a, b], getattr(sd, name)(a, b))(first, second), numpy_of(name)(first, second))
    for left, right in [((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 2)), ((4, 1, 3), (2, 1))]:
        u, v = sd.var("u", shape=left), sd.var("v", shape=right)
        p, q = uniform((-4.0, 4.0), left), uniform((-4.0, 4.0), right)
        same_bits(sd.function([u, v], getattr(sd, name)(u, v))(p, q), numpy_of(name)(np.asarray(p), q))
    w = sd.var("w", shape=(5,))
    point = rng.uniform(-4.0, 4.0, size=5)
    both = sd.function([w], [getattr(sd, name)(w, 1.7), getattr(sd, name)(-2.3, w)])(point)
    same_bits(both[0], numpy_of(name)(point, 1.7))
    same_bits(both[1], numpy_of(name)(-2.3, point))


@pytest.mark.parametrize("name", UNARY)
def test_the_gradient_of_one_argument_matches_central_differences_and_sympy(name: str) -> None:
    x = sd.var("x", shape=(4,))
    weights = rng.uniform(0.5, 1.5, size=4)
    check_grad(sd.sum(getattr(sd, name)(x) * weights), x, at=[uniform(UNARY[name], (4,))])
    s = sd.var("s")
    assert_matches_sympy(getattr(sd, name)(s) * sd.sin(s), s, at=[uniform(UNARY[name])])


@pytest.mark.parametrize("name", BINARY)
def test_the_gradient_of_two_arguments_matches_central_differences_and_sympy(name: str) -> None:
    a, b = sd.var("a", shape=(2, 3)), sd.var("b", shape=(3,))  # b's gradient is summed over the broadcast
    weights = rng.uniform(0.5, 1.5, size=(2, 3))
    first, second = BINARY[name]
    check_grad(sd.sum(getattr(sd, name)(a, b) * weights), [a, b], at=[uniform(first, (2, 3)), uniform(second, (3,))])
    s, t = sd.var("s"), sd.var("t")
    assert_matches_sympy(getattr(sd, name)(s, t) * t, [s, t], at=[uniform(first), uniform(second)])


def test_steps_have_zero_gradient_and_remainders_minus_the_quotient() -> None:
    a, b = sd.var("a", shape=(6,)), sd.var("b", shape=(6,))
    p = np.array([2.3, -2.3, 0.7, -0.7, 5.5, -5.5])
    q = np.array([1.02, 1.02, -0.3, -0.3, 2.0, -2.0])
    for name in sorted(STEPS - {"heaviside"}):
        args = [a, b] if OPS[name].arity == 2 else [a]
        _, grads = sd.compile(sd.sum(getattr(sd, name)(*args)), args)(*[p, q][: len(args)])
        for g in grads:
            same_bits(g, np.zeros(6))
    for name, quotient in (("remainder", np.floor_divide(p, q)), ("fmod", np.trunc(p / q))):
        _, (ga, gb) = sd.compile(sd.sum(getattr(sd, name)(a, b)), [a, b])(p, q)
        same_bits(ga, np.ones(6))
        same_bits(gb, -quotient)
    _, (gx, gh) = sd.compile(sd.sum(sd.heaviside(a, b)), [a, b])(np.array([-1.0, 0.0, 2.0, 0.0, -0.0, 3.0]), q)
    same_bits(gx, np.zeros(6))
    same_bits(gh, np.array([0.0, 1.0, 0.0, 1.0, 1.0, 0.0]))  # d/dx2 is 1 exactly where x1 == 0


@pytest.mark.parametrize("name", ["arccosh", "arctanh", "log2", "log10", "exp2", "cbrt", "reciprocal", "sinc",
                                  "arctan2", "hypot", "logaddexp2", "fmax", "remainder", "fmod", "float_power"])
def test_second_derivatives_match_central_differences_of_the_gradient(name: str) -> None:
    x = sd.var("x", shape=(3,))
    if OPS[name].arity == 1:
        expr, at = sd.sum(getattr(sd, name)(x) * sd.sin(x)), uniform(UNARY[name], (3,))
    else:
        expr, at = sd.sum(getattr(sd, name)(x, 1.0 + 0.01 * x) * x), uniform(BINARY[name][0], (3,))
    (gradient,) = sd.grad(expr, x)
    check_grad(sd.sum(gradient * np.array([0.7, 1.1, 1.3])), x, at=[at], rtol=1e-4, atol=1e-6)
    hessian = sd.function([x], sd.hessian(expr, x))(at)
    slope = sd.function([x], gradient)
    steps = np.eye(3) * 1e-6
    expected = np.stack([(slope(at + h) - slope(at - h)) / 2e-6 for h in steps], axis=1)
    np.testing.assert_allclose(hessian, expected, rtol=1e-4, atol=1e-6)


def test_the_sinc_gradient_is_accurate_near_zero_and_across_the_series_switch() -> None:
    points = np.array([1e-300, -1e-9, 1e-5, -3e-3, 0.1, 0.2499999, 0.25, -0.2500001, 0.6, 1.0, 3.7])
    x = sd.var("x", shape=points.shape)
    _, (got,) = sd.compile(sd.sum(sd.sinc(x)), x)(points)
    mpmath.mp.dps = 60
    for value, slope in zip(points, got, strict=True):
        t = mpmath.mpf(float(value))
        exact = float(mpmath.diff(lambda s: mpmath.sinc(mpmath.pi * s), t)) if abs(value) > 1e-100 else \
            -float(mpmath.pi) ** 2 / 3 * float(value)
        assert slope == pytest.approx(exact, rel=1e-14), value
    s = sd.var("s")
    value, (slope,) = sd.compile(sd.sinc(s), s)(0.0)
    assert (value, slope) == (1.0, 0.0)


def test_numpy_dispatches_each_function_to_its_builder() -> None:
    x, y = sd.var("x", shape=(3,)), sd.var("y", shape=(3,))
    for name in [*UNARY, *PREDICATES]:
        assert numpy_of(name)(x) is getattr(sd, name)(x), name
    for name in BINARY:
        assert numpy_of(name)(x, y) is getattr(sd, name)(x, y), name
    assert np.mod(x, y) is sd.remainder(x, y) and np.degrees(x) is sd.rad2deg(x) and np.radians(x) is sd.deg2rad(x)
    assert np.absolute(x) is sd.abs(x) and np.fabs(x) is sd.abs(x) and np.positive(x) is x
    assert np.real(x) is x and np.round(x, 2) is sd.round(x, 2) and np.around(x, -1) is sd.around(x, -1)
    assert np.fix(x) is sd.trunc(x) and np.sinc(x) is sd.sinc(x)
    assert np.nan_to_num(x, nan=2.0, neginf=-1.0) is sd.nan_to_num(x, nan=2.0, neginf=-1.0)
    assert sd.conj(x) is x and sd.conjugate(x) is x and sd.positive(x) is x and sd.mod is sd.remainder
    zeros = np.imag(x)
    assert zeros.shape == (3,) and sd.grad(sd.sum(zeros * x), x)[0].op != "var"
    same_bits(sd.function([x], zeros)(np.array([1.0, -2.0, np.nan])), np.zeros(3))
    assert sd.imag(x > 0).dtype == BOOL and sd.evaluate(sd.imag(2.0), {}) == 0.0


def test_the_modulo_and_floor_division_operators() -> None:
    x, y = sd.var("x", shape=(4,)), sd.var("y", shape=(4,))
    assert x % y is sd.remainder(x, y) and 2.5 % x is sd.remainder(2.5, x)
    assert x // y is sd.floor_divide(x, y) and 2.5 // x is sd.floor_divide(2.5, x)
    assert divmod(x, y) == (sd.floor_divide(x, y), sd.remainder(x, y))
    assert divmod(3.0, x) == (sd.floor_divide(3.0, x), sd.remainder(3.0, x))
    assert round(x) is sd.rint(x) and round(x, 1) is sd.round(x, 1)
    p, q = np.array([5.5, -5.5, 7.0, -0.0]), np.array([2.0, 2.0, -3.0, -1.0])
    got = sd.function([x, y], [x % y, x // y, 1.5 % x, 7.0 // y, round(x, 1)])(p, q)
    for value, want in zip(got, [p % q, p // q, 1.5 % p, 7.0 // q, np.round(p, 1)], strict=True):
        same_bits(value, want)


@pytest.mark.parametrize("decimals", [0, 1, 3, 9, 23, 320, -1, -5, -400])
def test_round_computes_what_numpy_computes_for_any_decimals(decimals: int) -> None:
    point = np.concatenate([rng.uniform(-1e4, 1e4, 40), rng.uniform(-1.0, 1.0, 20), SPECIAL, [0.125, 2.675, 1e22]])
    x = sd.var("x", shape=point.shape)
    same_bits(sd.function([x], np.round(x, decimals))(point), np.round(point, decimals))
    _, (g,) = sd.compile(sd.sum(sd.around(x, decimals)), x)(point)
    same_bits(g, np.zeros_like(point))


@pytest.mark.parametrize("keywords", [{}, {"nan": 2.5}, {"nan": -0.0}, {"posinf": 7.0}, {"neginf": -np.inf},
                                      {"nan": np.nan, "posinf": 1.0, "neginf": 3.0}, {"copy": False}])
def test_nan_to_num_takes_numpys_keywords(keywords: dict[str, Any]) -> None:
    x = sd.var("x", shape=SPECIAL.shape)
    same_bits(sd.function([x], np.nan_to_num(x, **keywords))(SPECIAL), np.nan_to_num(SPECIAL, **keywords))
    _, (g,) = sd.compile(sd.sum(sd.nan_to_num(x, **keywords) * 2.0), x)(SPECIAL)
    same_bits(g, np.where(np.isfinite(SPECIAL), 2.0, 0.0))
    same_bits(sd.evaluate(sd.nan_to_num(SPECIAL, **keywords), {}), np.nan_to_num(SPECIAL, **keywords))
    assert sd.nan_to_num(x > 0) is sd.greater(x, 0.0)  # booleans hold no NaN


def test_single_precision_keeps_numpys_float32_results() -> None:
    point = np.array([np.inf, -np.inf, np.nan, 3.25, -7.5, 1e-3], dtype=np.float32)
    x = sd.var("x", shape=point.shape)
    outs = [sd.nan_to_num(x), sd.log2(x), sd.exp2(x), sd.round(x, 2), x % 1.5, sd.cbrt(x), sd.float_power(x, 2.5)]
    got = sd.function([x], outs, dtype=np.float32)(point)
    wants = [np.nan_to_num(point), np.log2(point), np.exp2(point), np.round(point, 2), point % np.float32(1.5),
             np.cbrt(point), np.float_power(point, 2.5)]  # float_power's float64 result, here in float32
    for value, want in zip(got, wants, strict=True):
        assert value.dtype == np.float32
        np.testing.assert_allclose(value, want, rtol=1e-6)
    assert got[0][0] == np.finfo(np.float32).max  # the float type's own largest value


def test_predicates_are_boolean_and_pass_no_gradient() -> None:
    x = sd.var("x", shape=SPECIAL.shape)
    for name in PREDICATES:
        node = getattr(sd, name)(x)
        assert node.dtype == BOOL and getattr(sd, name)(x > 0).inputs[0].op == "tofloat"
    expr = sd.sum(sd.where(sd.isfinite(x), x * x, 0.0))
    value, (g,) = sd.compile(expr, x)(SPECIAL)
    finite = np.isfinite(SPECIAL)
    assert value == np.sum(np.where(finite, SPECIAL * SPECIAL, 0.0))
    same_bits(g, np.where(finite, 2.0 * np.where(finite, SPECIAL, 0.0), 0.0))


NUMBA_UNARY = [n for n in [*UNARY, *PREDICATES] if "numba" not in OPS[n].refused]
NUMBA_BINARY = [n for n in BINARY if "numba" not in OPS[n].refused]


def test_numba_computes_what_numpy_computes_or_refuses_by_name() -> None:
    first, second = (np.repeat(SPECIAL, SPECIAL.size), np.tile(SPECIAL, SPECIAL.size))
    a, b = sd.var("a", shape=first.shape), sd.var("b", shape=second.shape)
    outputs = [getattr(sd, n)(a) for n in NUMBA_UNARY] + [getattr(sd, n)(a, b) for n in NUMBA_BINARY]
    got = sd.function([a, b], outputs, backend="numba")(first, second)
    wants = [numpy_of(n)(first) for n in NUMBA_UNARY] + [numpy_of(n)(first, second) for n in NUMBA_BINARY]
    for name, value, want in zip([*NUMBA_UNARY, *NUMBA_BINARY], got, wants, strict=True):
        if name in ("fmax", "fmin"):  # of two equal zeros NumPy returns either one, by position
            want = np.where(want == 0, value, want)
        libm_bits(value, want, name)
    x = sd.var("x", shape=(5,))
    expr = sd.sum(sd.arccosh(x) + sd.sinc(x) * sd.log2(x) + sd.fmod(x, 0.7) + sd.arctan2(x, 1.0) + sd.round(x, 1))
    point = rng.uniform(1.2, 3.0, size=5)
    numba_value, numba_grads = sd.compile(expr, x, backend="numba")(point)
    value, grads = sd.compile(expr, x)(point)
    np.testing.assert_allclose(numba_value, value, rtol=1e-13)
    np.testing.assert_allclose(numba_grads[0], grads[0], rtol=1e-12)
    for name in sorted(n for n, op in OPS.items() if "numba" in op.refused and n in {*UNARY, *BINARY}):
        with pytest.raises(sd.UnsupportedError, match=f"numba backend cannot compute {name}"):
            sd.function([a, b], getattr(sd, name)(a, b), backend="numba")


def test_the_array_api_backend_prints_the_standards_functions_or_refuses_by_name() -> None:
    names = [n for n in [*UNARY, *BINARY, *PREDICATES] if "array_api" not in OPS[n].refused]
    a, b = sd.var("a", shape=(3, 4)), sd.var("b", shape=(4,))
    p, q = rng.uniform(1.2, 3.0, size=(3, 4)), rng.uniform(-2.0, -0.5, size=4)
    outputs = [getattr(sd, n)(a, b) if OPS[n].arity == 2 else getattr(sd, n)(a) for n in names]
    got = sd.function([a, b], outputs, backend="array_api")(xps.asarray(p), xps.asarray(q))
    for name, value in zip(names, got, strict=True):
        want = numpy_of(name)(p, q) if OPS[name].arity == 2 else numpy_of(name)(p)
        np.testing.assert_allclose(np.asarray(value), want, rtol=1e-15, err_msg=name)  # float_power is xp.pow
    expr = sd.sum(sd.arctanh(a / 4.0) * sd.remainder(a, b) + sd.hypot(a, b) * sd.copysign(a, b))
    value, grads = sd.compile(expr, [a, b], backend="array_api")(xps.asarray(p), xps.asarray(q))
    expected_value, expected_grads = sd.compile(expr, [a, b])(p, q)
    np.testing.assert_allclose(float(value), expected_value, rtol=1e-14)
    for got_grad, want in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(np.asarray(got_grad), want, rtol=1e-13)
    for name in sorted(n for n, op in OPS.items() if "array_api" in op.refused and n in {*UNARY, *BINARY}):
        node = getattr(sd, name)(a, b) if OPS[name].arity == 2 else getattr(sd, name)(a)
        with pytest.raises(sd.UnsupportedError, match=f"array_api backend cannot compute {name}"):
            sd.function([a, b], node, backend="array_api")


def test_jacobians_batch_through_the_new_ops() -> None:
    x = sd.var("x", shape=(3,))
    out = sd.remainder(sd.arctan2(x, 2.0) * 10.0, 0.9) + sd.nan_to_num(sd.exp2(x), nan=1.0) + sd.floor(x)
    point = np.array([0.3, -0.4, 0.8])
    jacobian = sd.function([x], sd.jacobian(out, x))(point)
    slope = 10.0 * 2.0 / (4.0 + point**2) + np.log(2.0) * np.exp2(point)
    np.testing.assert_allclose(jacobian, np.diag(slope), rtol=1e-14)


def test_unsupported_keyword_values_are_refused_by_name() -> None:
    x, y = sd.var("x", shape=(3,)), sd.var("y", shape=(4,))
    with pytest.raises(sd.UnsupportedError, match="decimals must be an int"):
        np.round(x, decimals=1.5)
    with pytest.raises(sd.UnsupportedError, match="decimals"):
        sd.round(x, 2**40)
    with pytest.raises(sd.UnsupportedError, match="out="):
        np.round(x, out=np.empty(3))
    with pytest.raises(sd.UnsupportedError, match="out="):
        np.fix(x, np.empty(3))
    with pytest.raises(sd.UnsupportedError, match="out"):
        np.isnan(x, out=np.empty(3, dtype=bool))
    with pytest.raises(sd.UnsupportedError, match="where"):
        np.remainder(x, 2.0, where=np.array([True, False, True]))
    with pytest.raises(sd.UnsupportedError, match="nan must be a real number"):
        np.nan_to_num(x, nan="zero")
    with pytest.raises(sd.UnsupportedError, match="posinf must be a real number"):
        sd.nan_to_num(x, posinf=x)
    with pytest.raises(sd.UnsupportedError, match="copy must be True or False"):
        sd.nan_to_num(x, copy=None)
    with pytest.raises(sd.ShapeError, match="arctan2"):
        sd.arctan2(x, y)
    with pytest.raises(sd.ShapeError, match="remainder"):
        x % y
