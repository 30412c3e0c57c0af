"""The op matrix: every entry of the OPS table against SymPy, finite differences and NumPy."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from conftest import sample, verify

import symdiff as sd
from symdiff.api import identity_seed, scatter, tofloat, zeros
from symdiff.graph import BOOL, FLOAT
from symdiff.ops import ELEMENTWISE, OPS, refuses
from symdiff.testing import assert_matches_sympy, check_grad

Interval = tuple[float, float]


@dataclass(frozen=True)
class Case:
    """One op exercised at points inside its domain. ``ref`` recomputes the value with NumPy."""

    op: str
    build: Callable[..., Any]
    shapes: tuple[tuple[int, ...], ...]
    domains: tuple[Interval, ...]
    ref: Callable[..., Any] | None = None
    sympy: bool = True
    tags: tuple[str, ...] = field(default=())

    def id(self) -> str:
        shapes = " and ".join(str(s) for s in self.shapes)
        return f"{self.op} on {shapes}" + (f" ({', '.join(self.tags)})" if self.tags else "")


def dom(op: str) -> tuple[Interval, ...]:
    return OPS[op].domain


# From the op table: float ops that are NumPy ufuncs, checked against those ufuncs. neg and
# logaddexp have cases of their own below.
_FLOAT_UFUNCS = {name: op for name, op in OPS.items()
                 if op.kind == ELEMENTWISE and op.ufunc and op.module is None and name not in ("neg", "logaddexp")}
UNARY = [name for name, op in _FLOAT_UFUNCS.items() if op.arity == 1 and op.dtype == FLOAT]
NUMPY_UNARY = {name: getattr(np, OPS[name].ufunc or "") for name in UNARY}
BINARY = {name: getattr(np, op.ufunc or "") for name, op in _FLOAT_UFUNCS.items()
          if op.arity == 2 and op.dtype == FLOAT}
COMPARE = {name: getattr(np, op.ufunc or "") for name, op in _FLOAT_UFUNCS.items()
           if op.arity == 2 and op.dtype == BOOL and op.weak_scalar}

SCALAR_CASES: list[Case] = []
ARRAY_CASES: list[Case] = []

for _name in UNARY:
    _fn = NUMPY_UNARY[_name]
    SCALAR_CASES.append(Case(_name, _fn, ((),), dom(_name)))
    ARRAY_CASES.append(Case(_name, _fn, ((2, 3),), dom(_name), ref=_fn))
_LOSS = {"sigmoid": (sd.sigmoid, lambda x: 1.0 / (1.0 + np.exp(-x))),
         "softplus": (sd.softplus, lambda x: np.logaddexp(0.0, x))}
for _name, (_build, _ref) in _LOSS.items():
    SCALAR_CASES.append(Case(_name, _build, ((),), dom(_name)))
    ARRAY_CASES.append(Case(_name, _build, ((2, 3),), dom(_name), ref=_ref))
# ops of the table that are NumPy functions but not ufuncs, and the floating-point predicates
# (boolean: they choose between two values)
for _name, _fn in (("sinc", np.sinc), ("nan_to_num", np.nan_to_num)):
    SCALAR_CASES.append(Case(_name, _fn, ((),), dom(_name)))
    ARRAY_CASES.append(Case(_name, _fn, ((2, 3),), dom(_name), ref=_fn))
for _name, _test in (("isnan", np.isnan), ("isinf", np.isinf), ("isfinite", np.isfinite)):
    _choose = lambda a, _f=_test: np.where(_f(a), a * a, np.sin(a))
    SCALAR_CASES.append(Case(_name, _choose, ((),), dom(_name)))
    ARRAY_CASES.append(Case(_name, _choose, ((2, 3),), dom(_name), ref=_choose))
SCALAR_CASES.append(Case("logaddexp", np.logaddexp, ((), ()), dom("logaddexp")))
ARRAY_CASES.append(Case("logaddexp", np.logaddexp, ((2, 3), (3,)), dom("logaddexp"), ref=np.logaddexp))
SCALAR_CASES.append(Case("relu", sd.relu, ((),), dom("relu")))
ARRAY_CASES.append(Case("relu", sd.relu, ((2, 3),), ((-2.0, 2.0),), ref=lambda x: np.maximum(x, 0.0)))
SCALAR_CASES.append(Case("neg", lambda x: -x, ((),), dom("neg")))
ARRAY_CASES.append(Case("neg", lambda x: -x, ((4,),), dom("neg"), ref=lambda x: -x))

for _name, _fn in BINARY.items():
    SCALAR_CASES.append(Case(_name, _fn, ((), ()), dom(_name)))
    ARRAY_CASES.append(Case(_name, _fn, ((2, 3), (3,)), dom(_name), ref=_fn, tags=("broadcast",)))
    ARRAY_CASES.append(Case(_name, _fn, ((2, 1), (1, 3)), dom(_name), ref=_fn, tags=("outer broadcast",)))
    ARRAY_CASES.append(Case(_name, _fn, ((), (2, 2)), dom(_name), ref=_fn, tags=("scalar with array",)))

for _name, _fn in COMPARE.items():
    _pick = lambda a, b, _f=_fn: np.where(_f(a, b), a * b, a - b)
    SCALAR_CASES.append(Case(_name, _pick, ((), ()), ((-2.0, 2.0), (-2.0, 2.0))))
    ARRAY_CASES.append(Case(_name, _pick, ((3,), (2, 3)), ((-2.0, 2.0), (-2.0, 2.0)), ref=_pick))

_logic = {
    "logical_and": lambda a, b: np.where(np.logical_and(a > 0, b > 0), a * b, a + b),
    "logical_or": lambda a, b: np.where(np.logical_or(a > 0, b > 0), a * b, a + b),
    "logical_not": lambda a, b: np.where(np.logical_not(a > b), a * b, a + b),
    "tofloat": lambda a, b: tofloat(a > b) * a * b,
    "where": lambda a, b: np.where(a > b, np.sin(a), np.cos(b)),
}
for _name, _fn in _logic.items():
    SCALAR_CASES.append(Case(_name, _fn, ((), ()), ((-2.0, 2.0), (-2.0, 2.0))))
_logic_ref = {**_logic, "tofloat": lambda a, b: (a > b) * a * b}
for _name, _fn in _logic.items():
    ARRAY_CASES.append(Case(_name, _fn, ((2, 3), (3,)), ((-2.0, 2.0), (-2.0, 2.0)), ref=_logic_ref[_name]))

_AXES = [None, 0, -1, (0, 2)]


def _logsumexp(x, axis=None, keepdims=False):
    peak = np.max(x, axis=axis, keepdims=True)
    total = np.log(np.sum(np.exp(x - peak), axis=axis, keepdims=True)) + peak
    return total if keepdims else np.squeeze(total, axis=axis)


_REDUCTIONS = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod}
for _name, _fn in {**_REDUCTIONS, "logsumexp": _logsumexp}.items():
    for _axis in _AXES:
        for _keep in (False, True):
            _f = lambda x, _g=_fn, _a=_axis, _k=_keep: _g(x, axis=_a, keepdims=_k)
            if _name == "logsumexp":
                _f = lambda x, _a=_axis, _k=_keep: (sd.logsumexp if isinstance(x, sd.Node) else _logsumexp)(
                    x, axis=_a, keepdims=_k)
            _tags = (f"axis={_axis}", f"keepdims={_keep}")
            ARRAY_CASES.append(Case(_name, _f, ((2, 3, 4),), ((-2.0, 2.0),), ref=_f, tags=_tags))

_MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
                  ((5, 1, 2, 3), (4, 3, 2)), ((3,), (5, 3, 2)), ((5, 2, 3), (3,))]
for _a, _b in _MATMUL_SHAPES:
    ARRAY_CASES.append(Case("matmul", lambda a, b: a @ b, (_a, _b), dom("matmul"), ref=np.matmul))

_LAYOUT = [
    Case("reshape", lambda x: np.reshape(x, (3, -1)), ((2, 3, 2),), ((-2.0, 2.0),), ref=lambda x: x.reshape(3, -1)),
    Case("reshape", lambda x: x.reshape(4), ((2, 2),), ((-2.0, 2.0),), ref=lambda x: x.reshape(4), tags=("method",)),
    Case("transpose", lambda x: np.transpose(x), ((2, 3, 4),), ((-2.0, 2.0),), ref=np.transpose),
    Case("transpose", lambda x: x.transpose(1, 2, 0), ((2, 3, 4),), ((-2.0, 2.0),),
         ref=lambda x: x.transpose(1, 2, 0), tags=("axes",)),
    Case("transpose", lambda x: x.T, ((2, 3),), ((-2.0, 2.0),), ref=lambda x: x.T, tags=(".T",)),
    Case("broadcast_to", lambda x: np.broadcast_to(x, (2, 3, 4)), ((3, 1),), ((-2.0, 2.0),),
         ref=lambda x: np.broadcast_to(x, (2, 3, 4))),
    Case("getitem", lambda x: x[1:], ((5,),), ((-2.0, 2.0),), ref=lambda x: x[1:], tags=("slice",)),
    Case("getitem", lambda x: x[-1], ((5,),), ((-2.0, 2.0),), ref=lambda x: x[-1], tags=("negative int",)),
    Case("getitem", lambda x: x[::2], ((5,),), ((-2.0, 2.0),), ref=lambda x: x[::2], tags=("step",)),
    Case("getitem", lambda x: x[::-1], ((5,),), ((-2.0, 2.0),), ref=lambda x: x[::-1], tags=("reversed",)),
    Case("getitem", lambda x: x[:, 1:], ((3, 4),), ((-2.0, 2.0),), ref=lambda x: x[:, 1:], tags=("2-D",)),
    Case("getitem", lambda x: x[1][2], ((3, 4),), ((-2.0, 2.0),), ref=lambda x: x[1][2], tags=("chained",)),
    Case("getitem", lambda x: x[..., 0], ((2, 3, 4),), ((-2.0, 2.0),), ref=lambda x: x[..., 0], tags=("ellipsis",)),
    Case("scatter", lambda x: scatter(x, (4, 3), ((1, 3, None),)), ((2, 3),), ((-2.0, 2.0),),
         ref=lambda x: np.concatenate([np.zeros((1, 3)), x, np.zeros((1, 3))])),
    Case("concatenate", lambda a, b: np.concatenate([a, b], axis=1), ((2, 3), (2, 2)), ((-2.0, 2.0), (-2.0, 2.0)),
         ref=lambda a, b: np.concatenate([a, b], axis=1)),
    Case("concatenate", lambda a: sd.concatenate([a, np.array([1.0, 2.0])]), ((3,),), ((-2.0, 2.0),),
         ref=lambda a: np.concatenate([a, [1.0, 2.0]]), tags=("with a constant",)),
    Case("split", lambda x: np.split(x, [1, 3], axis=1)[2] * np.split(x, [1, 3], axis=1)[0], ((2, 5),), ((-2.0, 2.0),),
         ref=lambda x: np.split(x, [1, 3], axis=1)[2] * np.split(x, [1, 3], axis=1)[0]),
    Case("item", lambda x: sd.split(x, 2)[1] - sd.split(x, 2)[0] ** 2, ((4,),), ((-2.0, 2.0),),
         ref=lambda x: x[2:] - x[:2] ** 2),
    Case("zeros", lambda x: x + zeros((3,)), ((3,),), ((-2.0, 2.0),), ref=lambda x: x + 0.0),
    Case("eye", lambda x: x * identity_seed(3, (3,)) + sd.sum(x * identity_seed(3, (1, 3)), axis=1),
         ((3, 3),), ((-2.0, 2.0),), ref=lambda x: x * np.eye(3) + np.sum(x * np.eye(3)[:, None, :], axis=1)),
]
ARRAY_CASES.extend(_LAYOUT)

from cases_indexing_linalg import CASES as _INDEXING_AND_LINALG  # noqa: E402  (it builds on Case)

ARRAY_CASES.extend(_INDEXING_AND_LINALG)


@functools.cache
def refused_by(case: Case, backend: str) -> tuple[str, ...]:
    """The ops of a case's value and gradient graph that ``backend`` refuses (their records say so)."""
    from symdiff.graph import toposort

    variables = [sd.var(f"a{i}", shape=s) for i, s in enumerate(case.shapes)]
    out = sd.tofloat(sd.as_node(case.build(*variables)))
    objective = sd.sum(out)
    nodes = toposort([objective, *sd.grad(objective, variables)])
    return tuple(sorted({n.op for n in nodes if refuses(backend, n)}))


def assert_refused(case: Case, backend: str, compile_case: Callable[[], Any]) -> None:
    """Compiling a case with an op ``backend`` cannot print raises ``UnsupportedError`` naming the op."""
    with pytest.raises(sd.UnsupportedError, match=f"the {backend} backend cannot compute") as caught:
        compile_case()
    assert all(name in str(caught.value) for name in refused_by(case, backend)), str(caught.value)


def _point(case: Case, rng: np.random.Generator) -> list[Any]:
    return [sample(shape, interval, rng) for shape, interval in zip(case.shapes, case.domains, strict=True)]


def _objective(case: Case, variables: list[sd.Node], weights: Any) -> sd.Node:
    out = sd.as_node(case.build(*variables))
    objective = sd.sum(out * weights(out.shape))
    verify(objective)
    return objective


# the scipy.special ops have a matrix of their own (tests/test_special.py), which needs SciPy
# ops only graphs with named dimensions make (tests/test_named_dims*.py), and loops, whose body is a graph
# of the others (tests/test_scan.py)
TESTED_ELSEWHERE = {"dimsize", "arange", "scan", "integer_arithmetic", "revolve"}
NUMPY_OPS = {name for name, op in OPS.items() if op.module is None} - TESTED_ELSEWHERE


def test_every_op_in_the_table_has_cases() -> None:
    covered = {c.op for c in ARRAY_CASES} | {c.op for c in SCALAR_CASES}
    assert NUMPY_OPS - covered == set()


def test_every_op_with_a_sympy_form_has_a_scalar_case() -> None:
    with_form = {name for name in NUMPY_OPS if OPS[name].sympy is not None}
    scalar_free = {"sum", "mean", "max", "min", "prod", "logsumexp", "reshape", "transpose",
                   "broadcast_to"}  # identity on scalars
    assert with_form - scalar_free - {c.op for c in SCALAR_CASES} == set()


@pytest.mark.parametrize("case", SCALAR_CASES, ids=Case.id)
def test_scalar_form_matches_sympy_diff(case: Case, rng: np.random.Generator) -> None:
    variables = [sd.var(f"a{i}") for i in range(len(case.shapes))]
    expr = sd.as_node(case.build(*variables))
    assert_matches_sympy(expr, variables, at=_point(case, rng))


@pytest.mark.parametrize("case", SCALAR_CASES, ids=Case.id)
def test_scalar_form_matches_central_differences(case: Case, rng: np.random.Generator) -> None:
    variables = [sd.var(f"a{i}") for i in range(len(case.shapes))]
    check_grad(case.build(*variables), variables, at=_point(case, rng))


@pytest.mark.parametrize("case", ARRAY_CASES, ids=Case.id)
def test_array_form_matches_central_differences(case: Case, rng: np.random.Generator, weights: Any) -> None:
    variables = [sd.var(f"a{i}", shape=s) for i, s in enumerate(case.shapes)]
    check_grad(_objective(case, variables, weights), variables, at=_point(case, rng))


@pytest.mark.parametrize("case", [c for c in ARRAY_CASES if c.ref is not None], ids=Case.id)
def test_printed_code_computes_what_numpy_computes(case: Case, rng: np.random.Generator) -> None:
    variables = [sd.var(f"a{i}", shape=s) for i, s in enumerate(case.shapes)]
    point = _point(case, rng)
    got = sd.evaluate(case.build(*variables), dict(zip(variables, point, strict=True)))
    expected = case.ref(*(np.asarray(p) for p in point))
    np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0)
    assert np.shape(got) == np.shape(expected)
