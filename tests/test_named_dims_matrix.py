"""The op matrix with a named leading dimension: one function, two sizes, against fixed shapes.

Every array case of ``test_ops`` is rebuilt with its first input's leading axis named ``n`` (and
every other input that starts with the same size). The named function, compiled once, must
give the fixed-shape function's value and gradients at two sizes. A case whose build needs a
concrete size must say so with a ``ShapeError``; a size that the fixed-shape build refuses must
be refused by the named function's call, never answered.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import sample
from test_ops import ARRAY_CASES, Case, refused_by

import symdiff as sd
from symdiff.errors import ArgumentError, ShapeError, SymdiffError

GROWTH = 3  # the second size: the case's own leading size plus this


def _named_shapes(case: Case) -> tuple[tuple[object, ...], ...] | None:
    """The case's shapes with the leading size of its first array input named ``n``."""
    leading = next((s[0] for s in case.shapes if s), None)
    if leading is None:
        return None
    return tuple(("n", *s[1:]) if s and s[0] == leading else s for s in case.shapes)


def _sized(shapes: tuple[tuple[object, ...], ...], n: int) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(n if d == "n" else d for d in s) for s in shapes)  # type: ignore[misc]


def _program(case: Case, shapes: tuple[tuple[object, ...], ...], backend: str) -> sd.CompiledFunction:
    """Value and gradients of a weighted sum of the case's output, which every entry reaches."""
    variables = [sd.var(f"a{i}", shape=s) for i, s in enumerate(shapes)]
    out = sd.tofloat(sd.as_node(case.build(*variables)))
    objective = sd.sum(sd.sin(out) + 0.5 * out)
    floats = [v for v in variables if v.dtype == sd.graph.FLOAT]
    return sd.function(variables, [objective, *sd.grad(objective, floats)], backend=backend)


def _fixed(case: Case, shapes: tuple[tuple[int, ...], ...]) -> sd.CompiledFunction | None:
    try:
        return _program(case, shapes, "numpy")
    except ShapeError:
        return None


NAMED = [c for c in ARRAY_CASES if _named_shapes(c) is not None]
BACKENDS = ["numpy", "array_api", "numba"]


def _cases(backend: str) -> list[Case]:
    usable = [c for c in NAMED if not refused_by(c, backend)]
    return usable if backend == "numpy" else usable[::5]  # the others compile slowly; a fifth is spread widely


@pytest.mark.parametrize(("backend", "case"), [(b, c) for b in BACKENDS for c in _cases(b)],
                         ids=lambda v: v if isinstance(v, str) else Case.id(v))
def test_a_named_leading_dimension_gives_the_fixed_shape_answer_at_two_sizes(backend: str, case: Case) -> None:
    if backend != "numpy":
        pytest.importorskip("numba" if backend == "numba" else "array_api_compat")
    shapes = _named_shapes(case)
    assert shapes is not None
    try:
        named = _program(case, shapes, backend)
    except ShapeError as error:  # the op needs a concrete size: the error must say which
        assert "n" in str(error), str(error)
        return
    rng = np.random.default_rng(7)
    first = next(s[0] for s in case.shapes if s)
    answered = 0
    for n in (first, first + GROWTH):
        sized = _sized(shapes, n)
        point = [sample(s, interval, rng) for s, interval in zip(sized, case.domains, strict=True)]
        fixed = _fixed(case, sized)
        if fixed is None:  # no graph of this size exists: the named function must refuse it
            with pytest.raises(ArgumentError, match="n"):
                named(*point)
            continue
        got, want = named(*point), fixed(*point)
        for g, w in zip(got, want, strict=True):
            assert np.shape(g) == np.shape(w)
            np.testing.assert_allclose(g, w, rtol=1e-11, atol=1e-13)
        answered += 1
    assert answered >= 1, "the named function answered at no size"


def test_most_cases_build_with_a_named_leading_dimension() -> None:
    """The refusals above are the exception: an op family that stops building shows up here."""
    built = 0
    for case in NAMED:
        try:
            _program(case, _named_shapes(case), "numpy")  # type: ignore[arg-type]
            built += 1
        except SymdiffError:
            pass
    assert built >= 0.8 * len(NAMED), f"{built} of {len(NAMED)} cases build"
