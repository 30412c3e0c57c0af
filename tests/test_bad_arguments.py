"""Bad arguments: every one is a SymdiffError naming the function, the argument or the node.
Axes are checked as NumPy checks them, zero-size arrays follow NumPy, and shapes NumPy could
not allocate are refused when the graph is built, which allocates nothing of their size."""

from __future__ import annotations

import inspect
import tracemalloc
import warnings
from typing import Any

import numpy as np
import pytest
import sympy

import symdiff as sd
from symdiff.interop import functions, ufuncs
from symdiff.ops import OPS

v = sd.var("vec", shape=(3,))
m = sd.var("mat", shape=(3, 3))
s = sd.var("scal")
NAMES = ("vec", "mat", "scal")  # labels that an error naming a node quotes
symbol = sympy.Symbol("x")


def _sine_vjp(g: Any, y: Any, x: Any) -> tuple[Any]:
    return (g * sd.cos(x),)


def _add_row(carry: Any, row: Any) -> tuple[Any, None]:
    return carry + row, None


def _double(i: Any, carry: Any) -> Any:
    return carry * 2.0


@pytest.fixture(autouse=True)
def _forget_defined_ops() -> Any:
    """define_op adds to the op table: take out what a test added, so later tests see the table as it was."""
    before = set(OPS)
    yield
    for name in set(OPS) - before:
        del OPS[name]


# Well-formed arguments for every public function: each position is then replaced by a bad value.
GOOD: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "as_node": ((1.0, "the argument"), {}),
    "broadcast_to": ((v, (2, 3)), {}),
    "clip": ((v, 0.0, 1.0), {}),
    "compile": ((sd.sum(v * v), [v], [v]), {"name": "f", "rewrites": True, "dtype": np.float64, "backend": "numpy"}),
    "concatenate": (([v, v], 0), {}),
    "define_op": (("bad_arguments_sine",), {"arity": 1, "numpy": "numpy:sin", "vjp": _sine_vjp, "shape": None,
                                            "sympy": None, "domain": None, "replace": True}),
    "describe": ((v,), {}),
    "diag": ((m,), {}),
    "einsum": (("ij,j->i", m, v), {}),
    "expand_dims": ((v, 0), {}),
    "evaluate": ((sd.sum(v), {v: np.ones(3)}), {}),
    "from_sympy": ((symbol * 2, {symbol: s}), {}),
    "function": (([v], [v * v], "f"), {"rewrites": True, "dtype": np.float64, "backend": "numpy"}),
    "grad": ((sd.sum(v * v), [v]), {}),
    "hessian": ((sd.sum(v * v), v), {}),
    "hvp": ((sd.sum(v * v), v, np.ones(3)), {}),
    "jacobian": ((v * v, v), {"mode": None}),
    "jvp": ((v * v, [v], [np.ones(3)]), {}),
    "pullback": ((sd.sum(v * v), [v], [v]), {"name": "pb", "rewrites": True}),
    "reshape": ((m, (9,), "C"), {}),
    "scipy_objective": ((sd.sum(v * v), [v], [v]), {"rewrites": True}),
    "scipy_constraint": ((v * v, [v], 0.0, 1.0, [v], ()), {}),
    "hessian_sparsity": ((sd.sum(v * v), v), {}),
    "sparse_hessian": ((sd.sum(v * v), v, [v]), {"format": "coo"}),
    "sparse_jacobian": ((v * v, v, [v]), {"format": "coo"}),
    "scan": ((_add_row, v, m), {}),
    "fori_loop": ((0, 3, _double, v), {}),
    "split": ((v, 3, 0), {}),
    "stack": (([v, v], 0), {}),
    "sum_to": ((m, (1, 3)), {}),
    "to_sympy": ((s * 2.0, None), {}),
    "trace": ((m,), {}),
    "transpose": ((m, (1, 0)), {}),
    "var": (("x", (3,)), {}),
    "vjp": ((v * v, [v], np.ones(3)), {}),
    "where": ((v > 0, v, 1.0), {}),
    **{name: ((m, 0, False), {}) for name in ("sum", "mean", "max", "min", "prod")},
    "logsumexp": ((m, 0), {"keepdims": False}),
    "astype": ((v, np.float64), {}),
    "take": ((v, [0, 2]), {}),
    "take_along_axis": ((m, np.zeros((3, 1), dtype=np.int64), 1), {}),
    "gradient": ((v, 0.5), {}),
    "array_split": ((v, 2), {}),
    "diagonal": ((m, 0, 0, 1), {}),
    "dsplit": ((sd.reshape(m, (1, 3, 3)), 3), {}),
    "fliplr": ((m,), {}),
    "hsplit": ((v, 3), {}),
    "vsplit": ((m, 3), {}),
    "moveaxis": ((m, 0, 1), {}),
    "pad": ((v, 1, "constant"), {}),
    "repeat": ((v, 2), {}),
    "roll": ((v, 1), {}),
    "rollaxis": ((m, 1), {}),
    "rot90": ((m, 1), {}),
    "swapaxes": ((m, 0, 1), {}),
    "tile": ((v, 2), {}),
    "tensordot": ((m, m), {}),
    "percentile": ((v, 50.0), {}),
    "quantile": ((v, 0.5), {}),
    "partition": ((v, 1), {}),
    "select": (([v > 0], [v], 0.0), {}),
}
# sd.linalg and sd.special, by their dotted names
GOOD.update({
    **{f"linalg.{name}": ((m,), {}) for name in ("cholesky", "det", "diagonal", "eigh", "eigvalsh", "inv",
                                                  "matrix_norm", "matrix_transpose", "norm", "pinv", "qr", "slogdet",
                                                  "svd", "svdvals", "trace", "vector_norm", "cond")},
    "linalg.matmul": ((m, v), {}), "linalg.outer": ((v, v), {}), "linalg.matrix_power": ((m, 2), {}),
    "linalg.multi_dot": (([m, m, v],), {}), "linalg.solve": ((m, v), {}), "linalg.vecdot": ((v, v), {}),
    **{f"special.{name}": ((1.5, v), {}) for name in ("iv", "ive", "jv", "kv", "kve", "yv")},
    "special.gammainc": ((1.5, v), {}), "special.gammaincc": ((1.5, v), {}),
    "special.polygamma": ((1, v), {}), "special.yn": ((1, v), {}), "special.multigammaln": ((v, 2), {}),
})
SKIPPED = {"dumps", "loads"}  # pickle's own errors, as with pickle.dumps and pickle.loads

# Raw errors that remain in files outside this change: (function, parameter) -> the file to fix.
ELSEWHERE: dict[tuple[str, str], str] = {}  # positions known to miss a SymdiffError, with the reason


class Opaque:
    """An object symdiff has never heard of."""


BAD: dict[str, Any] = {
    "None": None,
    "a string": "abc",
    "a dict": {"a": 1},
    "an object": Opaque(),
    "a complex number": 1 + 2j,
    "nested lists of nodes": [v, [v, m]],
    "a wrong-shape array": np.ones((7, 5)),
    "NaN": float("nan"),
    "a float": 1.5,
    "a huge int": 10**400,
    "minus a huge int": -(10**400),
    "2**64": 2**64,
    "a negative int": -5,
    "a bool": True,
    "an empty list": [],
    "a tuple holding a string": (1, "a"),
    "a string array": np.array(["a"]),
    "a complex array": np.ones(3) * 1j,
    "a function": lambda *args: 1 / 0,
    "a matrix node": m,
    "a boolean node": v > 0,
    "the tuple from split": sd.split(v, [1])[0].inputs[0],
}


def public_functions() -> list[tuple[str, Any]]:
    top = [(name, getattr(sd, name)) for name in sd.__all__
           if inspect.isfunction(getattr(sd, name)) and name not in SKIPPED]
    spaces = [(f"{space.__name__.split('.')[-1]}.{name}", getattr(space, name)) for space in (sd.linalg, sd.special)
              for name in space.__all__ if inspect.isfunction(getattr(space, name))]
    return top + spaces


def resolve(name: str) -> Any:
    owner: Any = sd
    for part in name.split("."):
        owner = getattr(owner, part)
    return owner


def good_arguments(name: str, function: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if name in GOOD:
        return GOOD[name]
    required = [p for p in inspect.signature(function).parameters.values() if p.default is p.empty]
    return ((v,) * len(required), {})  # the elementwise builders: one or two arrays


def positions() -> list[Any]:
    cases = []
    for name, function in public_functions():
        args, kwargs = good_arguments(name, function)
        names = list(inspect.signature(function).parameters)
        slots = [(i, names[i] if i < len(names) else f"{names[-1]}[{i}]") for i in range(len(args))]
        for slot, parameter in [*slots, *((k, k) for k in kwargs)]:
            reason = ELSEWHERE.get((name, parameter))
            marks = [pytest.mark.xfail(reason=reason, strict=False)] if reason else []
            cases.append(pytest.param(name, slot, id=f"{name}-{parameter}", marks=marks))
    return cases


def call_with(function: Any, args: tuple[Any, ...], kwargs: dict[str, Any], slot: int | str, bad: Any) -> Any:
    new_args, new_kwargs = list(args), dict(kwargs)
    if isinstance(slot, int):
        new_args[slot] = bad
    else:
        new_kwargs[slot] = bad
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a bad value may be accepted as a constant that overflows
        return function(*new_args, **new_kwargs)


@pytest.mark.parametrize(("name", "slot"), positions())
def test_every_public_function_answers_bad_arguments_with_a_symdiff_error(name: str, slot: int | str) -> None:
    function = resolve(name)
    args, kwargs = good_arguments(name, function)
    function(*args, **kwargs)  # the well-formed call works
    names = list(inspect.signature(function).parameters)
    parameter = slot if isinstance(slot, str) else names[min(slot, len(names) - 1)]
    raw = {}
    for label, bad in BAD.items():
        try:
            call_with(function, args, kwargs, slot, bad)
        except sd.SymdiffError as error:
            words = (name, name.split(".")[-1], parameter, "argument", *NAMES)
            assert any(w in str(error) for w in words), f"{name}({parameter}={label}): names nothing: {error}"
        except Exception as error:  # what the test is about
            raw[label] = f"{type(error).__name__}: {error}"
    assert not raw, f"{name}, argument {slot!r}: raw errors {raw}"


# ---- the same through NumPy's functions --------------------------------------------------------

def reaches_symdiff(name: str, call: list[Any]) -> bool:
    """Whether NumPy dispatches the call to a node: one among its arguments, or its arrays."""
    listed = ("concatenate", "stack", "select", "hstack", "vstack", "dstack", "column_stack", "row_stack",
              "linalg.multi_dot")
    if name == "select" and not isinstance(call[1], (list, tuple)):
        return False  # NumPy's dispatcher iterates choicelist itself, and raises before any node is seen
    joined = call[0] if name in listed and isinstance(call[0], (list, tuple)) else []
    return any(isinstance(a, sd.Node) for a in [*call, *joined])


NUMPY_GOOD: dict[str, tuple[Any, ...]] = {
    "reshape": (m, (9,)), "transpose": (m, (1, 0)), "broadcast_to": (v, (2, 3)), "concatenate": ([v, v], 0),
    "split": (v, 3, 0), "where": (v > 0, v, 1.0), "clip": (v, 0.0, 1.0), "dot": (v, v), "outer": (v, v),
    "trace": (m,), "diag": (m,), "stack": ([v, v], 0), "einsum": ("ij,j->i", m, v), "shape": (m,), "ndim": (m,),
    "size": (m,), "ravel": (m,), "squeeze": (m,), "expand_dims": (v, 0),
    **{name: (m, 0) for name in ("sum", "mean", "max", "amax", "min", "amin", "prod")},
    **{name: (m, 0) for name in ("var", "std", "average", "cumsum", "cumprod", "ptp", "sort", "median", "nansum",
                                 "nanmean", "nanmax", "nanmin", "nanprod", "nanvar", "nanstd", "all", "any", "argmax",
                                 "argmin", "flip")},
    **{name: (m,) for name in ("atleast_1d", "atleast_2d", "atleast_3d", "fliplr", "flipud", "imag", "real",
                               "nan_to_num", "sinc", "zeros_like", "ones_like", "tril", "triu", "diagonal",
                               "round", "around", "fix", "broadcast_arrays", "gradient", "rot90")},
    **{name: ([v, v],) for name in ("hstack", "vstack", "dstack", "column_stack", "row_stack")},
    **{name: (v, v) for name in ("inner", "vdot", "kron", "cross", "meshgrid")},
    "array_split": (v, 2, 0), "hsplit": (v, 3), "vsplit": (m, 3), "dsplit": (sd.reshape(m, (1, 3, 3)), 3),
    "diff": (m, 1, 0), "percentile": (m, 50.0, 0), "quantile": (m, 0.5, 0), "tensordot": (m, m, 1),
    "full_like": (m, 2.0), "linspace": (s, 2.0, 5), "moveaxis": (m, 0, 1), "swapaxes": (m, 0, 1),
    "rollaxis": (m, 1), "pad": (v, 1), "repeat": (v, 2), "roll": (v, 1), "tile": (v, 2), "take": (v, [0, 2]),
    "take_along_axis": (m, np.zeros((3, 1), dtype=np.int64), 1),
    "angle": (v,), "real_if_close": (v,), "append": (v, v), "iscomplex": (v,), "isreal": (v,),
    "select": ([v > 0], [v]), "partition": (m, 1), "count_nonzero": (m,),
    **{f"linalg.{name}": (m,) for name in ("cholesky", "cond", "det", "diagonal", "eigh", "eigvalsh", "inv",
                                           "matrix_norm", "matrix_transpose", "norm", "pinv", "qr", "slogdet", "svd",
                                           "svdvals", "trace", "vector_norm")},
    "linalg.matmul": (m, v), "linalg.outer": (v, v), "linalg.matrix_power": (m, 2), "linalg.multi_dot": ([m, m, v],),
    "linalg.solve": (m, v), "linalg.vecdot": (v, v),
}


@pytest.mark.parametrize("name", sorted(functions()))
def test_numpy_functions_on_nodes_answer_bad_arguments_with_a_symdiff_error(name: str) -> None:
    function: Any = np
    for part in name.split("."):
        function = getattr(function, part)
    args = NUMPY_GOOD[name]
    function(*args)
    raw = {}
    keywords = {"keepdims"} if name in ("sum", "mean", "max", "amax", "min", "amin", "prod") else set()
    for slot in [*range(len(args)), *keywords]:
        for label, bad in BAD.items():
            call = list(args)
            kwargs = {}
            if isinstance(slot, int):
                call[slot] = bad
            else:
                kwargs[slot] = bad
            if not reaches_symdiff(name, call):
                continue  # no node left: NumPy's own business
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    function(*call, **kwargs)
            except sd.SymdiffError:
                pass
            except Exception as error:
                raw[(slot, label)] = f"{type(error).__name__}: {error}"
    assert not raw, f"numpy.{name}: raw errors {raw}"


@pytest.mark.parametrize("name", sorted(n for n in ufuncs() if getattr(np, n).nin == 2))
def test_numpy_ufuncs_on_a_node_and_a_bad_operand_raise_symdiff_errors(name: str) -> None:
    ufunc = getattr(np, name)
    for label, bad in BAD.items():
        for operands in ((v, bad), (bad, v)):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    ufunc(*operands)
            except sd.SymdiffError:
                pass
            except Exception as error:
                pytest.fail(f"numpy.{name} with {label}: {type(error).__name__}: {error}")


# ---- the cases named in the issue ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("run", "error", "message"),
    [
        (lambda: sd.sum(m, axis="a"), sd.ShapeError, "sum of mat: axis must be an int, got 'a'"),
        (lambda: sd.sum(m, axis=1.0), sd.ShapeError, "axis must be an int, got 1.0"),
        (lambda: sd.sum(m, axis=float("nan")), sd.ShapeError, "axis must be an int, got nan"),
        (lambda: sd.sum(m, axis=True), sd.ShapeError, "axis must be an int, got True"),
        (lambda: sd.sum(m, keepdims=np.ones(2)), sd.UnsupportedError, "keepdims must be True or False"),
        (lambda: sd.reshape(v, 2.5), sd.ShapeError, "reshape: a shape must be an int or a sequence of ints"),
        (lambda: sd.var("x", shape=True), sd.ShapeError, "var 'x': a shape must be"),
        (lambda: sd.split(v, 1.5), sd.ShapeError, "split of vec: indices_or_sections must be an int or a sequence"),
        (lambda: sd.split(v, [1.5]), sd.ShapeError, "split of vec: an index must be an int, got 1.5"),
        (lambda: v[::0], sd.ShapeError, "slice step cannot be zero"),
        (lambda: v[1.5:], sd.UnsupportedError, "slice bounds must be ints"),
        (lambda: np.where(v > 0), sd.UnsupportedError, "numpy.where\\(condition\\) gives the indices"),
        (lambda: sd.reshape(m, (9,), order="K"), sd.UnsupportedError, "order must be 'C' or 'F', got 'K'"),
        (lambda: np.reshape(m, (9,), order="A"), sd.UnsupportedError, "order must be 'C' or 'F', got 'A'"),
        (lambda: np.clip(v, 0.0, 1.0, None), sd.UnsupportedError, "numpy.clip on symdiff nodes: too many positional"),
        (lambda: sd.einsum(3, v), sd.UnsupportedError, "einsum: subscripts must be a string"),
        (lambda: sd.stack([v, v], axis=None), sd.ShapeError, "stack of vec: axis must be an int, got None"),
        (lambda: sd.concatenate(3.0), sd.UnsupportedError, "concatenate needs a sequence of arrays, got 3.0"),
        (lambda: sd.sum_to(m, None), sd.ShapeError, "sum_to: a shape must be"),
        (lambda: sd.sum_to(s, (1, 1, 1)), sd.ShapeError, "sum_to of scal: \\(\\) is not a broadcast of"),
        (lambda: sd.describe("abc"), sd.UnsupportedError, "describe argument"),
        (lambda: sd.as_node([[1.0, 2.0], [3.0]]), sd.UnsupportedError, "argument: .* is not an array of real numbers"),
        (lambda: sd.as_node(10**400), sd.UnsupportedError, "the int .* is too large for float64"),
        (lambda: sd.define_op("bad_arguments_os", arity=1, numpy=".os:system", vjp=_sine_vjp),
         sd.OpDefinitionError, "must be importable by generated code, got .os:system"),
        (lambda: sd.define_op("bad_arguments_bool", arity=True, numpy="numpy:sin", vjp=_sine_vjp),
         sd.OpDefinitionError, "arity must be an int from 1 to 255, got True"),
        (lambda: sd.define_op("bad_arguments_huge", arity=10**400, numpy="numpy:sin", vjp=_sine_vjp),
         sd.OpDefinitionError, "arity must be an int from 1 to 255"),
        (lambda: sd.define_op("bad_arguments_vjp", arity=1, numpy="numpy:sin", vjp=None),
         sd.OpDefinitionError, "vjp must be a function, got NoneType"),
        (lambda: sd.define_op("bad_arguments_domain", arity=1, numpy="numpy:sin", vjp=_sine_vjp, domain=[(1, 0)]),
         sd.OpDefinitionError, "domain must be one \\(low, high\\) pair"),
        (lambda: sd.define_op("bad_arguments_raises", arity=1, numpy="numpy:sin", vjp=lambda g, y, x: 1 / 0),
         sd.OpDefinitionError, "the VJP raised ZeroDivisionError on a symbolic probe"),
    ],
)
def test_the_bad_arguments_of_the_issue_are_symdiff_errors_that_say_what_is_wrong(run, error, message) -> None:
    with pytest.raises(error, match=message):
        run()


@pytest.mark.parametrize("one", [s, v], ids=["scalar", "vector"])
def test_function_takes_one_variable_as_compile_takes_one_wrt(one) -> None:
    fn = sd.function(one, [one * 2.0])
    value = np.ones(one.shape) * 1.5
    np.testing.assert_array_equal(fn(value)[0], 3.0 * np.ones(one.shape))


# ---- axes, as NumPy checks them -----------------------------------------------------------------

M = np.arange(6.0).reshape(2, 3)
wide = sd.var("wide", shape=(2, 3))

AXIS_CASES = {
    "transpose (3, 2)": (lambda a: np.transpose(a, (3, 2)), 3),
    "transpose (0, -3)": (lambda a: np.transpose(a, (0, -3)), -3),
    "sum axis 2": (lambda a: np.sum(a, axis=2), 2),
    "mean axis -3": (lambda a: np.mean(a, axis=-3), -3),
    "max axis (0, 2)": (lambda a: np.max(a, axis=(0, 2)), 2),
    "prod axis 5": (lambda a: np.prod(a, axis=5), 5),
    "concatenate axis 2": (lambda a: np.concatenate([a, a], axis=2), 2),
    "split axis 2": (lambda a: np.split(a, 1, axis=2), 2),
    "stack axis 4": (lambda a: np.stack([a, a], axis=4), 4),
    "stack axis -4": (lambda a: np.stack([a, a], axis=-4), -4),
}


@pytest.mark.parametrize("case", AXIS_CASES.values(), ids=AXIS_CASES.keys())
def test_an_axis_out_of_range_is_numpys_axis_error_and_a_shape_error(case) -> None:
    build, axis = case
    with pytest.raises(IndexError):
        build(M)  # NumPy refuses it: an AxisError, or the IndexError of np.split
    with pytest.raises(sd.ShapeError, match=f"axis {axis} is out of bounds") as caught:
        build(wide)
    assert isinstance(caught.value, np.exceptions.AxisError) and isinstance(caught.value, IndexError)
    assert "wide" in str(caught.value)


def test_negative_and_numpy_integer_axes_are_the_axes_numpy_takes() -> None:
    cube = sd.var("cube", shape=(2, 3, 4))
    C = np.arange(24.0).reshape(2, 3, 4)
    for axes in [(-1, 0, 1), (np.int64(2), 1, 0), (1, -1, -3)]:
        np.testing.assert_array_equal(sd.evaluate(sd.transpose(cube, axes), {cube: C}), np.transpose(C, axes))
    with pytest.raises(sd.ShapeError, match="not a permutation"):
        sd.transpose(cube, (0, 0, 1))
    with pytest.raises(sd.ShapeError, match="not a permutation"):
        sd.transpose(cube, (0, 1))
    line = sd.var("line", shape=(3,))
    assert sd.transpose(line, 0) is line  # an int for a vector, as np.transpose(vector, 0)


# ---- NumPy's semantics -------------------------------------------------------------------------


def test_concatenate_with_axis_none_flattens_as_numpy_does() -> None:
    row = sd.var("row", shape=(4,))
    R = np.arange(4.0) - 1.5
    expr = np.concatenate([wide, row, 2.0], axis=None)
    expected = np.concatenate([M, R, 2.0], axis=None)
    np.testing.assert_array_equal(sd.evaluate(expr, {wide: M, row: R}), expected)
    weights = np.arange(11.0)
    value, (g_wide, g_row) = sd.compile(sd.sum(expr * weights), [wide, row])(M, R)
    assert value == pytest.approx(expected @ weights)
    np.testing.assert_array_equal(g_wide, weights[:6].reshape(2, 3))
    np.testing.assert_array_equal(g_row, weights[6:10])
    np.testing.assert_array_equal(sd.evaluate(sd.concatenate([wide], axis=None), {wide: M}), M.ravel())


def test_reshape_in_fortran_order_is_numpys() -> None:
    target = np.arange(6.0).reshape(3, 2)
    for expr in [sd.reshape(wide, (3, 2), order="F"), np.reshape(wide, (3, 2), order="F"),
                 np.reshape(wide, (-1, 2), "F")]:
        np.testing.assert_array_equal(sd.evaluate(expr, {wide: M}), np.reshape(M, (3, 2), order="F"))
    value, (grad,) = sd.compile(sd.sum(sd.reshape(wide, (3, 2), order="F") * target), [wide])(M)
    assert value == pytest.approx(np.sum(np.reshape(M, (3, 2), order="F") * target))
    np.testing.assert_array_equal(grad, np.reshape(target, (2, 3), order="F"))


def test_zero_size_reductions_follow_numpy() -> None:
    empty = sd.var("empty", shape=(0, 3))
    E = np.zeros((0, 3))
    for build, expected in [(sd.sum, 0.0), (sd.prod, 1.0), (sd.logsumexp, -np.inf)]:
        value, (grad,) = sd.compile(sd.sum(build(empty, axis=0)), [empty])(E)
        np.testing.assert_array_equal(value, np.sum(np.full(3, expected)))
        assert grad.shape == (0, 3)
        np.testing.assert_array_equal(sd.evaluate(build(empty, axis=0, keepdims=True), {empty: E}),
                                      np.full((1, 3), expected))
    assert sd.evaluate(sd.logsumexp(empty), {empty: E}) == -np.inf
    with pytest.warns(RuntimeWarning):
        assert np.isnan(sd.evaluate(sd.mean(empty), {empty: E}))  # NaN with a warning, as np.mean
    fn = sd.compile(sd.sum(sd.mean(empty, axis=0)), [empty])  # differentiating warns nothing
    with pytest.warns(RuntimeWarning):
        value, (grad,) = fn(E)
    assert np.isnan(value) and grad.shape == (0, 3)
    for extreme in (sd.max, sd.min):
        with pytest.raises(ValueError):
            getattr(np, extreme.__name__)(E, axis=0)  # no identity: NumPy raises
        with pytest.raises(sd.ShapeError, match="zero-size axis of shape \\(0, 3\\) has no"):
            extreme(empty, axis=0)
    np.testing.assert_array_equal(sd.evaluate(sd.max(empty, axis=1), {empty: E}), np.max(E, axis=1))


def test_the_logsumexp_rewrite_keeps_a_working_expression_working_on_an_empty_axis() -> None:
    empty = sd.var("empty", shape=(0, 3))
    naive = sd.sum(sd.log(sd.sum(sd.exp(empty), axis=0)))
    fn = sd.compile(naive, [empty])
    assert "logsumexp" in fn.source  # the stability rewrite applied
    value, (grad,) = fn(np.zeros((0, 3)))
    assert value == -np.inf and grad.shape == (0, 3)


# ---- sizes past int64 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: sd.var("x", shape=(2**40, 2**40)),
        lambda: sd.var("x", shape=(2**64,)),
        lambda: sd.var("x", shape=10**400),
        lambda: sd.var("x", shape=(0, 2**63)),
        lambda: sd.var("x", shape=(2**40, 1)) * sd.var("y", shape=(1, 2**40)),
        lambda: sd.broadcast_to(sd.var("x"), (2**32, 2**32)),
        lambda: sd.outer(sd.var("x", shape=(2**32,)), sd.var("y", shape=(2**32,))),
        lambda: sd.diag(sd.var("x", shape=(2**32,))),
        lambda: sd.concatenate([sd.var("x", shape=(2**59,))] * 2),
    ],
    ids=["var (2**40, 2**40)", "var 2**64", "var 10**400", "a dimension past 2**63", "broadcasting", "broadcast_to",
         "outer", "diag", "concatenate"],
)
def test_a_shape_no_array_can_have_is_a_shape_error_at_build_time(build) -> None:
    with pytest.raises(sd.ShapeError, match="too big: a float64 array holds at most 2\\*\\*63 - 1 bytes"):
        build()


def test_size_is_exact_and_building_and_compiling_huge_graphs_allocates_nothing_of_their_size() -> None:
    assert sd.var("x", shape=(2**59,)).size == 2**59
    assert sd.var("x", shape=(0, 2**62)).size == 0
    tracemalloc.start()
    try:
        big = sd.var("big", shape=(2**14, 2**14))
        line = sd.var("line", shape=(2**15,))
        expr = sd.trace(big) + sd.sum(sd.diag(line)) + sd.sum(sd.diag(big)) + sd.logsumexp(line)
        sd.compile(expr, [big, line])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**25  # identity masks from ranges of 2**15 entries, not 2**28 and 2**30 entry constants
    for n in (3, 300):  # a constant identity, and one compared from ranges at call time
        A = sd.var("A", shape=(n, n))
        w = sd.var("w", shape=(n,))
        An, wn = np.random.default_rng(n).normal(size=(n, n)), np.arange(float(n))
        value, (gA, gw) = sd.compile(sd.trace(A) + sd.sum(sd.diag(w) * A) + sd.sum(sd.diag(A) * w), [A, w])(An, wn)
        assert value == pytest.approx(np.trace(An) + np.sum(np.diag(wn) * An) + np.diag(An) @ wn)
        np.testing.assert_allclose(gA, np.eye(n) + 2.0 * np.diag(wn))
        np.testing.assert_allclose(gw, 2.0 * np.diag(An))


def test_a_dense_jacobian_too_large_for_memory_is_refused_by_name() -> None:
    v = sd.var("v", shape=(2**20,))
    with pytest.raises(sd.ShapeError, match="1048576 x 1048576 identity"):
        sd.jacobian(v * 2.0, v)
