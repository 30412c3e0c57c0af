"""``scipy_constraint``: a ``scipy.optimize.NonlinearConstraint`` with sparse derivatives.

The ``wrt`` variables are packed into one flat vector, as ``scipy_objective`` packs them.
``NonlinearConstraint`` passes no ``args``, so the values of the other inputs are bound once,
through ``data``. ``jac`` is ``sd.sparse_jacobian`` of the constraints and ``hess(x, v)`` the
sparse Hessian of the Lagrangian term ``v . c(x)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import symdiff.api as sd
from symdiff.errors import ArgumentError
from symdiff.graph import Node, make_var
from symdiff.scipy_objective import Packing
from symdiff.sparse import sparse_hessian, sparse_jacobian
from symdiff.transforms import function


def scipy_constraint(expr: Any, wrt: Sequence[Node], lb: Any, ub: Any, inputs: Sequence[Node] | None = None,
                     data: Sequence[Any] = ()) -> Any:
    """``lb <= expr <= ub`` (flattened) as a ``NonlinearConstraint`` for ``trust-constr``, with a
    sparse ``jac`` and a sparse ``hess``; ``data`` holds the values of the non-``wrt`` inputs, in
    ``inputs`` order."""
    from scipy.optimize import NonlinearConstraint

    packed = Packing(expr, wrt, inputs, "scipy_constraint")
    flat = sd.reshape(packed.expr, (packed.expr.size,))
    if isinstance(data, (str, bytes)) or not hasattr(data, "__iter__"):
        raise ArgumentError(f"scipy_constraint: data must be a sequence of values, got {type(data).__name__}")
    values = tuple(data)
    if len(values) != len(packed.data):
        raise ArgumentError(f"scipy_constraint: {len(values)} data values given for the inputs "
                            f"{[v.label for v in packed.data]}")
    inputs_list = [packed.theta, *packed.data]
    fun = function(inputs_list, flat, name="constraints")
    jac = sparse_jacobian(flat, packed.theta, inputs_list, name="constraints_jacobian")
    weights = make_var("v", (flat.size,))
    lagrangian = sparse_hessian(sd.sum(weights * flat), packed.theta, [packed.theta, weights, *packed.data],
                                name="constraints_hessian")
    constraint = NonlinearConstraint(lambda x: fun(x, *values), lb, ub, jac=lambda x: jac(x, *values)[1],
                                     hess=lambda x, v: lagrangian(x, v, *values)[2])
    constraint.pack, constraint.unpack = packed.pack, packed.unpack
    return constraint
