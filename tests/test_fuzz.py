"""Property-based fuzzing: random DAGs against SymPy (scalars) and central differences (arrays).

CI runs the derandomized ``ci`` profile (100 scalar and 100 array graphs). The long run,
10,000 graphs, is ``SYMDIFF_FUZZ=long pytest tests/test_fuzz.py``.
"""

from __future__ import annotations

import os

import numpy as np
from fuzz_graphs import COVERED, INTERNAL, Graph, graphs, inside_domain
from hypothesis import HealthCheck, assume, event, given, note, settings

import symdiff as sd
from symdiff.errors import UnsupportedError
from symdiff.graph import toposort
from symdiff.guard import guard_where
from symdiff.ops import OPS
from symdiff.testing import assert_matches_sympy, check_grad, intermediate_values

_quiet = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
settings.register_profile("ci", max_examples=100, derandomize=True, deadline=None, suppress_health_check=_quiet)
settings.register_profile("long", max_examples=5000, deadline=None, suppress_health_check=_quiet)
settings.load_profile(os.environ.get("SYMDIFF_FUZZ", "ci"))


def admissible(graph: Graph) -> None:
    """Reject draws whose intermediate values leave an op's domain (or sit on a kink)."""
    note(sd.describe(graph.objective))  # printed with any falsifying example
    (root,) = guard_where([graph.objective])
    nodes = [n for n in toposort([root]) if n.inputs and n.op in OPS and n.op != "item"]
    with np.errstate(all="ignore"):  # a draw outside the domain is rejected below, not warned about
        values = intermediate_values(nodes, graph.variables, graph.point)
    for node in nodes:
        assume(inside_domain(node, [values[c] for c in node.inputs if c in values]))


def test_the_fuzzer_reaches_every_op_in_the_table() -> None:
    built_in = {name for name, op in OPS.items() if op.module is None}
    assert built_in - COVERED - set(INTERNAL) == set()


@given(graphs(scalar=True))
def test_random_scalar_graphs_match_sympy(graph: Graph) -> None:
    admissible(graph)
    try:
        assert_matches_sympy(graph.objective, graph.variables, at=graph.point, rtol=1e-7, atol=1e-9)
    except UnsupportedError:
        event("SymPy could not evaluate the graph; checked by central differences instead")
        check_grad(graph.objective, graph.variables, at=graph.point, rtol=1e-4, atol=1e-6)


@given(graphs(scalar=False))
def test_random_array_graphs_match_central_differences(graph: Graph) -> None:
    admissible(graph)
    check_grad(graph.objective, graph.variables, at=graph.point, rtol=1e-4, atol=1e-6)
