"""``scipy_objective``: what ``scipy.optimize.minimize(f, theta0, jac=True)`` expects.

Every ``wrt`` variable is packed into one flat float64 vector ``theta``; the other inputs
follow it as SciPy's ``args``. The graph is rebuilt on slices of ``theta``, so one generated
function returns the value and the packed gradient, and ``hess`` and ``hessp`` come from the
same graph (compiled on first use).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff.compiler import CompiledFunction
from symdiff.compiler import compile as compile_value_and_grad
from symdiff.dims import is_symbolic
from symdiff.errors import ArgumentError, GraphError, UnsupportedError
from symdiff.graph import Node, make_var, toposort
from symdiff.pipeline import variables
from symdiff.transforms import function, hessian, hvp


class Packing:
    """The ``wrt`` variables packed into one flat vector ``theta``, and ``expr`` rebuilt on its slices."""

    def __init__(self, expr: Any, wrt: Sequence[Node], inputs: Sequence[Node] | None, what: str) -> None:
        self.wrt = variables(wrt, "wrt")
        listed = self.wrt if inputs is None else variables(inputs, "inputs")
        given, differentiated = set(listed), set(self.wrt)
        outside = [w.label for w in self.wrt if w not in given]
        if outside:
            raise GraphError(f"{what}: wrt variables {outside} are not in inputs")
        self.data = [v for v in listed if v not in differentiated]
        named = [w.label for w in self.wrt if is_symbolic(w.shape)]
        if named:
            raise UnsupportedError(f"{what}: wrt variables {named} have named dimensions; theta is a vector of "
                                   "one fixed length")
        self.size = sum(w.size for w in self.wrt)
        self.theta = make_var("theta", (self.size,))
        self.expr = _substitute(sd.tofloat(sd.as_node(expr, "expr")), self._slices())

    def pack(self, *values: Any) -> np.ndarray:
        """One value per ``wrt`` variable, of its shape, as the flat vector theta."""
        if len(values) != len(self.wrt):
            raise ArgumentError(f"pack: {len(values)} values given for {len(self.wrt)} wrt variables")
        parts = []
        for variable, value in zip(self.wrt, values, strict=True):
            array = np.asarray(value, dtype=np.float64)
            if array.shape != variable.shape:
                raise ArgumentError(f"pack: {variable.label!r} needs shape {variable.shape}, got {array.shape}")
            parts.append(array.ravel())
        return np.concatenate(parts) if parts else np.zeros(0)

    def unpack(self, theta: Any) -> tuple[Any, ...]:
        """theta split back into one value per ``wrt`` variable (floats for scalars)."""
        flat = np.asarray(theta, dtype=np.float64)
        if flat.shape != (self.size,):
            raise ArgumentError(f"unpack: theta must have shape ({self.size},), got {flat.shape}")
        values: list[Any] = []
        start = 0
        for variable in self.wrt:
            piece = flat[start:start + variable.size]
            values.append(float(piece[0]) if variable.shape == () else piece.reshape(variable.shape).copy())
            start += variable.size
        return tuple(values)

    def _slices(self) -> dict[Node, Node]:
        slices, start = {}, 0
        for variable in self.wrt:
            piece = self.theta[start] if variable.shape == () else sd.reshape(
                self.theta[start:start + variable.size], variable.shape)
            slices[variable] = piece
            start += variable.size
        return slices


class Objective(Packing):
    """``f(theta, *data) -> (value, gradient)``, with ``pack``, ``unpack``, ``hess`` and ``hessp``."""

    def __init__(self, expr: Any, wrt: Sequence[Node], inputs: Sequence[Node] | None, rewrites: bool,
                 sparse: bool = False) -> None:
        super().__init__(expr, wrt, inputs, "scipy_objective")
        self.rewrites, self.sparse = rewrites, sparse
        self._value_and_grad = compile_value_and_grad(self.expr, [self.theta], [self.theta, *self.data],
                                                      name="objective", rewrites=rewrites)
        self.source = self._value_and_grad.source
        self._hess: Any = None
        self._hessp: CompiledFunction | None = None

    def __call__(self, theta: Any, *data: Any) -> tuple[float, np.ndarray]:
        value, (gradient,) = self._value_and_grad(theta, *data)
        return float(value), gradient

    def hess(self, theta: Any, *data: Any) -> Any:
        """The Hessian by theta, for ``minimize(..., hess=f.hess)``: a ``scipy.sparse.csr_array``
        from the graph's sparsity when made with ``sparse=True``."""
        if self._hess is None and self.sparse:
            from symdiff.sparse import sparse_hessian

            self._hess = sparse_hessian(self.expr, self.theta, [self.theta, *self.data], name="objective_hessian")
        if self.sparse:
            return self._hess(theta, *data)[2]
        if self._hess is None:
            self._hess = function([self.theta, *self.data], hessian(self.expr, self.theta), name="objective_hessian",
                                  rewrites=self.rewrites)
        return self._hess(theta, *data)

    def hessp(self, theta: Any, p: Any, *data: Any) -> np.ndarray:
        """The Hessian times ``p``, for ``minimize(..., hessp=f.hessp)``."""
        if self._hessp is None:
            direction = make_var("p", (self.size,))
            self._hessp = function([self.theta, direction, *self.data], hvp(self.expr, self.theta, direction),
                                   name="objective_hessp", rewrites=self.rewrites)
        return self._hessp(theta, p, *data)


def scipy_objective(expr: Any, wrt: Sequence[Node], inputs: Sequence[Node] | None = None, *,
                    rewrites: bool = True, sparse: bool = False) -> Objective:
    """``f(theta, *data) -> (float, grad)`` for ``scipy.optimize.minimize(f, theta0, jac=True, args=data)``.

    ``wrt`` variables are packed into ``theta`` in order (``f.pack``, ``f.unpack``); the other
    ``inputs`` follow theta, in order. ``f.hess`` and ``f.hessp`` give second derivatives;
    ``sparse=True`` makes ``f.hess`` a sparse matrix (``sd.sparse_hessian``).
    """
    return Objective(expr, wrt, inputs, rewrites, sparse)


def _substitute(root: Node, replacement: dict[Node, Node]) -> Node:
    """``root`` rebuilt with each key of ``replacement`` replaced by its value."""
    new: dict[Node, Node] = dict(replacement)
    for node in toposort([root]):
        if node in new or not node.inputs:
            continue
        inputs = [new.get(i, i) for i in node.inputs]
        if any(a is not b for a, b in zip(inputs, node.inputs, strict=True)):
            new[node] = sd.rebuild(node, inputs)
    return new.get(root, root)
