"""Functional updates in JAX's spelling: ``x.at[idx].set(v)``, ``.add``, ``.multiply``, ``.min``, ``.max``.

Nodes are immutable, so an update builds a new node. The values land where ``x[idx]`` reads
them: the adjoint of that indexing, applied to ``v`` (broadcast to ``x[idx]``'s shape), places
them, with repeated indices adding up as in JAX's ``.add``. ``set``, ``multiply``, ``min`` and
``max`` need to know which positions are hit, once each: their index must be constant, and a
repeated position is refused, since the result would depend on an order no one wrote down.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff.errors import ShapeError, UnsupportedError
from symdiff.graph import Node, make_const, make_var, short_text


class At:
    """``x.at``: indexing it names the positions an update writes to."""

    def __init__(self, x: Node) -> None:
        self._x = x

    def __getitem__(self, index: Any) -> Update:
        return Update(self._x, index)


class Update:
    """The positions ``x[index]``, ready for ``set``, ``add``, ``multiply``, ``min`` or ``max``."""

    def __init__(self, x: Node, index: Any) -> None:
        self._x, self._index = x, index
        self._shape = x[index].shape  # checks the index now, with indexing's own errors

    def add(self, values: Any) -> Node:
        return self._x + self._placed(values)

    # where, not x * mask: an inf or NaN overwritten by set must not survive as NaN
    def set(self, values: Any) -> Node:
        return sd.where(self._hit(), self._placed(values), self._x)

    def multiply(self, values: Any) -> Node:
        return sd.where(self._hit(), self._x * self._placed(values), self._x)

    def min(self, values: Any) -> Node:
        return sd.where(self._hit(), sd.minimum(self._x, self._placed(values)), self._x)

    def max(self, values: Any) -> Node:
        return sd.where(self._hit(), sd.maximum(self._x, self._placed(values)), self._x)

    def _placed(self, values: Any) -> Node:
        """Zeros of ``x``'s shape holding ``values`` at the indexed positions (summed where repeated)."""
        v = sd.as_node(values, "update values")
        try:
            v = sd.broadcast_to(v, self._shape)
        except ShapeError:
            raise ShapeError(f"update values of shape {v.shape} do not broadcast to the indexed shape "
                             f"{self._shape}") from None
        probe = make_var("at", self._x.shape)
        from symdiff.transforms import vjp  # transforms builds on the builders this module serves

        (placed,) = vjp(probe[self._index], probe, v)
        return placed

    def _counts(self) -> np.ndarray:
        items = self._index if isinstance(self._index, tuple) else (self._index,)
        if any(isinstance(item, Node) for item in items):
            raise UnsupportedError(f"x.at[...]: an index holding a node ({short_text(self._x)}) supports .add only; "
                                   "set, multiply, min and max need constant indices")
        positions = np.arange(self._x.size).reshape(self._x.shape)[self._index]
        counts = np.bincount(np.ravel(positions), minlength=self._x.size).reshape(self._x.shape)
        if counts.max(initial=0) > 1:
            raise UnsupportedError("x.at[...]: the index repeats a position; only .add is defined then "
                                   "(the values add up)")
        return counts

    def _hit(self) -> Node:
        return make_const(self._counts() > 0)
