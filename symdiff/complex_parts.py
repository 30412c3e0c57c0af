"""NumPy's functions of complex numbers, on real input: ``angle``, ``real_if_close``, ``iscomplex``, ``isreal``.

symdiff computes in real numbers, so these are the real cases: ``angle(x)`` is 0 or pi (NumPy's
``arctan2(0, x)``, with -0.0 giving pi), ``real_if_close(x)`` is ``x``.
"""

from __future__ import annotations

import math
from typing import Any

import symdiff.api as sd
from symdiff import interop
from symdiff.graph import Node

__all__ = ["angle", "iscomplex", "isreal", "real_if_close"]


def angle(z: Any, deg: bool = False) -> Node:
    """The argument of a real number: 0 for x > 0 (and +0.0), pi for x < 0 (and -0.0); gradient 0 off 0."""
    from symdiff.elementwise import arctan2  # elementwise builds on the api this module is imported by

    turned = arctan2(0.0, sd.as_node(z, "angle argument"))
    return turned * (180.0 / math.pi) if sd._flag(deg, "angle deg") else turned


def real_if_close(a: Any, tol: float = 100) -> Node:
    """Real input is returned as it is."""
    return sd.as_node(a, "real_if_close argument")


def iscomplex(x: Any) -> Node:
    """False everywhere: a real node has no imaginary part."""
    node = sd.as_node(x, "iscomplex argument")
    return sd.broadcast_to(sd.as_node(False), node.shape) if node.shape else sd.as_node(False)


def isreal(x: Any) -> Node:
    """True everywhere: every node is real."""
    node = sd.as_node(x, "isreal argument")
    return sd.broadcast_to(sd.as_node(True), node.shape) if node.shape else sd.as_node(True)


interop.provide({"angle": angle, "real_if_close": real_if_close, "iscomplex": iscomplex, "isreal": isreal})
