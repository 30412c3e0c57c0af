"""The op record is complete: every built-in op has every fact each stage reads from it.

A new op that lacks one of them fails here by name, instead of silently taking a slow or
wrong path somewhere (a missing batching rule, no NumPy dispatch, no place in the op matrix).
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from fuzz_graphs import COVERED, INTERNAL
from test_ops import ARRAY_CASES, SCALAR_CASES

import symdiff as sd
from symdiff.compiler import compile_program
from symdiff.graph import FLOAT
from symdiff.interop import ufuncs
from symdiff.op_table import SympyFunction
from symdiff.ops import ELEMENTWISE, KINDS, LAYOUT, OPS, REDUCTION, SAME_TEXT, STRUCTURE

BUILT_IN = sorted(name for name, op in OPS.items() if op.module is None)
BOOLEAN_INPUTS = {"where", "logical_and", "logical_or", "logical_not", "tofloat"}  # test_from_sympy has them
MATRIX = {case.op for case in SCALAR_CASES + ARRAY_CASES}


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_op_has_a_kind_an_arity_and_a_test_domain(name: str) -> None:
    op = OPS[name]
    assert op.kind in KINDS
    assert op.scalar is not SAME_TEXT  # register resolves the sentinel
    if op.arity is not None and op.vjp is not None:
        assert len(op.domain) in (1, op.arity), f"{name}: one test interval per input"
    if op.kind == LAYOUT:  # a view of its input, or (gather, sort) a copy made by indexing
        assert op.layout, f"{name}: a layout op keeps its input's dtype"


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_op_has_a_vjp_unless_only_the_reverse_pass_makes_it(name: str) -> None:
    assert OPS[name].vjp is not None or name in INTERNAL


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_op_is_in_the_op_matrix_and_the_fuzzer(name: str) -> None:
    assert name in COVERED or name in INTERNAL
    reached_through_others = {"scatter", "item", "zeros", "split", "logical_and", "logical_or", "logical_not",
                              "dimsize", "arange",  # named dimensions: tests/test_named_dims*.py
                              "scan",  # loops: tests/test_scan.py
                              "integer_arithmetic",  # tests/test_integer_arithmetic.py
                              "revolve"}  # binomial checkpointing: tests/test_scan.py
    assert name in MATRIX or name in reached_through_others


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_op_can_be_batched(name: str) -> None:
    """jacobian and hessian batch every op: elementwise ones and reductions by their kind, the rest by a rule."""
    op = OPS[name]
    takes_no_inputs = name in ("zeros", "eye", "dimsize", "arange")  # nothing in them is batched
    by_kind = op.kind in (ELEMENTWISE, REDUCTION)
    assert by_kind or op.batch is not None or takes_no_inputs, f"{name} has no batching rule"


@pytest.mark.parametrize("name", [n for n in BUILT_IN if OPS[n].ufunc is not None])
def test_every_ufunc_op_dispatches_from_numpy(name: str) -> None:
    op = OPS[name]
    ufunc = getattr(np, op.ufunc or "")
    assert isinstance(ufunc, np.ufunc)
    assert ufuncs()[ufunc.__name__] is getattr(sd, op.ufunc or "")
    args = [sd.var(f"a{i}", shape=(3,)) for i in range(op.arity or 0)]
    assert ufunc(*args).op == name


@pytest.mark.parametrize("name", [n for n in BUILT_IN if OPS[n].kind == ELEMENTWISE and OPS[n].dtype == FLOAT])
def test_every_elementwise_float_op_has_a_sympy_form(name: str) -> None:
    assert OPS[name].sympy is not None


# arguments for each NumPy function an op's record names (an op that gains one needs an entry)
FUNCTION_ARGS = {"sum": (0,), "mean": (0,), "max": (0,), "amax": (0,), "min": (0,), "amin": (0,), "prod": (0,),
                 "argmax": (0,), "argmin": (0,),
                 "reshape": ((6,),), "transpose": (), "broadcast_to": ((4, 2, 3),), "split": (3, 1)}


@pytest.mark.parametrize(("name", "function"), [(n, f) for n in BUILT_IN for f in OPS[n].numpy_functions])
def test_every_numpy_function_an_op_names_dispatches_to_it(name: str, function: str) -> None:
    m = sd.var("m", shape=(2, 3))
    if function == "concatenate":
        node = np.concatenate([m, m])
    elif function == "where":
        node = np.where(m > 0.0, m, 2.0 * m)
    else:
        node = getattr(np, function)(m, *FUNCTION_ARGS[function])
    found = node[0].inputs[0] if isinstance(node, tuple) else node  # split's pieces are its items
    assert found.op == name


@pytest.mark.parametrize("name", [n for n in BUILT_IN if OPS[n].kind == ELEMENTWISE and OPS[n].sympy is not None
                                  and n not in BOOLEAN_INPUTS])
def test_every_elementwise_op_comes_back_from_its_sympy_form(name: str) -> None:
    """to_sympy and from_sympy both read the record: each op is its own SymPy function's image."""
    op = OPS[name]
    args = [sd.var(f"a{i}") for i in range(op.arity or 0)]
    node = sd.api.apply(name, args)
    symbols = {sympy.Symbol(f"a{i}"): a for i, a in enumerate(args)}
    back = sd.from_sympy(sd.to_sympy(node, {a: s for s, a in symbols.items()}), symbols)
    domains = op.domain if len(op.domain) == len(args) else op.domain * len(args)
    point = [lo + (hi - lo) * share for (lo, hi), share in zip(domains, [0.3, 0.6], strict=False)]
    expected = sd.function(args, sd.tofloat(node))(*point)
    assert sd.function(args, sd.tofloat(back))(*point) == pytest.approx(expected, rel=1e-12)
    if isinstance(op.sympy, SympyFunction) and isinstance(getattr(sympy, op.sympy.name), type):
        assert back.op == name


@pytest.mark.parametrize("name", [n for n in BUILT_IN if OPS[n].kind == ELEMENTWISE and n != "where"])
def test_array_api_code_of_every_elementwise_op_calls_only_the_standard(name: str) -> None:
    """The array API dialect prints each op from the record, with no NumPy call left behind."""
    op = OPS[name]
    args = [sd.var(f"a{i}", shape=(3,)) for i in range(op.arity or 0)]
    objective = sd.sum(sd.tofloat(sd.api.apply(name, args)))
    if "array_api" in op.refused:  # the standard lacks it: refused by name when compiling
        with pytest.raises(sd.UnsupportedError, match=f"array_api backend cannot compute .*{name}"):
            compile_program(objective, args, backend="array_api")
        return
    source = compile_program(objective, args, backend="array_api").source
    body = source[source.index('"""', source.index('"""') + 3) + 3:]  # past the docstring
    assert "np." not in body, f"{name}: NumPy's namespace in array API code"


@pytest.mark.parametrize("name", [n for n in BUILT_IN if OPS[n].fold is not None])
def test_folding_ops_fold_as_their_ufunc_does(name: str) -> None:
    op = OPS[name]
    values = [np.array([1.5, -2.0, 0.25])] * (op.arity or 0)
    folded = sd.api.apply(name, [sd.as_node(v) for v in values])
    assert folded.op == "const"
    # where and tofloat are no ufuncs: NumPy's where, and a float copy
    reference = {"where": np.where, "tofloat": lambda a: np.asarray(a, dtype=np.float64)}.get(name)
    np.testing.assert_array_equal(folded.value, (reference or getattr(np, op.ufunc or ""))(*values))


def test_kinds_name_every_reduction_and_structure_op() -> None:
    reductions = {n for n in BUILT_IN if OPS[n].kind == REDUCTION}
    # each takes (axes, keepdims)
    assert reductions == {"sum", "mean", "max", "min", "prod", "logsumexp", "argmax", "argmin", "count_nonzero"}
    structure = {n for n in BUILT_IN if OPS[n].kind == STRUCTURE}
    assert structure == {"concatenate", "split", "scatter", "scatter_add", "item", "zeros", "eye", "dimsize", "arange",
                         "scan", "integer_arithmetic", "revolve"}


def test_a_missing_kind_is_refused_when_an_op_is_registered() -> None:
    from symdiff.ops import Op, register, same_shape
    from symdiff.printers import call

    with pytest.raises(ValueError, match="kind"):
        register(Op("kindless", same_shape, call("np.kindless({0})"), None))
    assert "kindless" not in OPS
