"""Bessel functions of a constant order (``jv``, ``yv``, ``iv``, ``kv``, ``ive``, ``kve`` and the
fixed-order ``j0 j1 y0 y1 yn``), the regularized incomplete gamma functions of a constant ``a``
(``gammainc``, ``gammaincc``), ``rgamma``, ``gammasgn`` and ``multigammaln``, for ``sd.special``.

The derivative by ``x`` is a recurrence in the order (``jv' = (jv(v-1) - jv(v+1)) / 2``), so
it is again a Bessel function of a constant order and can be differentiated again. There is
no derivative by the order: it must be a constant, which the builders check.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff import interop
from symdiff.errors import UnsupportedError
from symdiff.graph import Node
from symdiff.special_ops import _sp, require_scipy, special
from symdiff.special_ops import node as _node

__all__ = ["gammainc", "gammaincc", "gammasgn", "iv", "ive", "j0", "j1", "jv", "kv", "kve", "multigammaln", "rgamma",
           "y0", "y1", "yn", "yv"]


def _shifted(v: Node, by: float) -> Node:
    if v.value is None:
        raise UnsupportedError("Bessel functions: the order must be a constant")
    return sd.as_node(v.value + by)


def _pair(name: str, v: Node, x: Node) -> tuple[Node, Node]:
    return _node(name, _shifted(v, -1.0), x), _node(name, _shifted(v, 1.0), x)


def _jv(g: Node, y: Node, v: Node, x: Node) -> tuple[None, Node]:
    below, above = _pair("jv", v, x)
    return None, g * (0.5 * (below - above))


def _yv(g: Node, y: Node, v: Node, x: Node) -> tuple[None, Node]:
    below, above = _pair("yv", v, x)
    return None, g * (0.5 * (below - above))


def _iv(g: Node, y: Node, v: Node, x: Node) -> tuple[None, Node]:
    below, above = _pair("iv", v, x)
    return None, g * (0.5 * (below + above))


def _kv(g: Node, y: Node, v: Node, x: Node) -> tuple[None, Node]:
    below, above = _pair("kv", v, x)
    return None, g * (-0.5 * (below + above))


def _ive(g: Node, y: Node, v: Node, x: Node) -> tuple[None, Node]:  # ive = iv exp(-|x|)
    below, above = _pair("ive", v, x)
    return None, g * (0.5 * (below + above) - sd.sign(x) * y)


def _kve(g: Node, y: Node, v: Node, x: Node) -> tuple[None, Node]:  # kve = kv exp(x)
    below, above = _pair("kve", v, x)
    return None, g * (y - 0.5 * (below + above))


ORDER = (0.5, 2.5)
special("jv", _jv, lambda v, a: _sp().besselj(v, a), (ORDER, (0.2, 4.0)))
special("yv", _yv, lambda v, a: _sp().bessely(v, a), (ORDER, (0.5, 4.0)), guard={1: 1.0})
special("iv", _iv, lambda v, a: _sp().besseli(v, a), (ORDER, (0.2, 3.0)))
special("kv", _kv, lambda v, a: _sp().besselk(v, a), (ORDER, (0.5, 3.0)), guard={1: 1.0})
special("ive", _ive, lambda v, a: _sp().besseli(v, a) * _sp().exp(-_sp().Abs(a)), (ORDER, (0.2, 3.0)))
special("kve", _kve, lambda v, a: _sp().besselk(v, a) * _sp().exp(a), (ORDER, (0.5, 3.0)), guard={1: 1.0})


def _density(a: Node, x: Node) -> Node:
    """x**(a-1) exp(-x) / Gamma(a), the derivative of gammainc by x, in logs so neither factor overflows."""
    return sd.exp((a - 1.0) * sd.log(x) - x - _node("gammaln", a))


special("gammainc", lambda g, y, a, x: (None, g * _density(a, x)), lambda a, x: _sp().lowergamma(a, x) / _sp().gamma(a),
        ((0.5, 3.0), (0.2, 3.0)), guard={1: 1.0})
special("gammaincc", lambda g, y, a, x: (None, -g * _density(a, x)),
        lambda a, x: _sp().uppergamma(a, x) / _sp().gamma(a), ((0.5, 3.0), (0.2, 3.0)), guard={1: 1.0})
# 1/Gamma is entire: its derivative -digamma(x)/Gamma(x) is written with rgamma itself, finite past Gamma's overflow
special("rgamma", lambda g, y, x: (-g * (y * _node("digamma", x)),), lambda a: 1 / _sp().gamma(a), ((0.2, 3.0),),
        guard={0: 1.0})
special("gammasgn", lambda g, y, x: (None,), lambda a: _sp().sign(_sp().gamma(a)), ((0.2, 3.0),))


def _constant_first(name: str, a: Any, x: Any, what: str) -> Node:
    require_scipy(name)
    first = sd.as_node(a, f"{name} {what}")
    if first.value is None:
        raise UnsupportedError(f"{name}: {what} must be a constant (there is no derivative by it)")
    return _node(name, first, sd.tofloat(sd.as_node(x, f"{name} argument")))


def gammainc(a: Any, x: Any) -> Node:
    """The regularized lower incomplete gamma function P(a, x), for a constant ``a``."""
    return _constant_first("gammainc", a, x, "a")


def gammaincc(a: Any, x: Any) -> Node:
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x), for a constant ``a``."""
    return _constant_first("gammaincc", a, x, "a")


def rgamma(x: Any) -> Node:
    """1 / Gamma(x), which is 0 at the poles of Gamma."""
    require_scipy("rgamma")
    return _node("rgamma", sd.tofloat(sd.as_node(x, "rgamma argument")))


def gammasgn(x: Any) -> Node:
    """The sign of Gamma(x); its gradient is 0."""
    require_scipy("gammasgn")
    return _node("gammasgn", sd.tofloat(sd.as_node(x, "gammasgn argument")))


def _bessel(name: str, v: Any, x: Any) -> Node:
    return _constant_first(name, v, x, "the order v")


def jv(v: Any, z: Any) -> Node:
    """Bessel function of the first kind of real order ``v`` (a constant)."""
    return _bessel("jv", v, z)


def yv(v: Any, z: Any) -> Node:
    """Bessel function of the second kind of real order ``v`` (a constant)."""
    return _bessel("yv", v, z)


def iv(v: Any, z: Any) -> Node:
    """Modified Bessel function of the first kind of real order ``v`` (a constant)."""
    return _bessel("iv", v, z)


def kv(v: Any, z: Any) -> Node:
    """Modified Bessel function of the second kind of real order ``v`` (a constant)."""
    return _bessel("kv", v, z)


def ive(v: Any, z: Any) -> Node:
    """``iv(v, z) * exp(-abs(z))``, finite where ``iv`` overflows."""
    return _bessel("ive", v, z)


def kve(v: Any, z: Any) -> Node:
    """``kv(v, z) * exp(z)``, finite where ``kv`` underflows."""
    return _bessel("kve", v, z)


def j0(x: Any) -> Node:
    return jv(0.0, x)


def j1(x: Any) -> Node:
    return jv(1.0, x)


def y0(x: Any) -> Node:
    return yv(0.0, x)


def y1(x: Any) -> Node:
    return yv(1.0, x)


def yn(n: Any, x: Any) -> Node:
    """``yv`` for an integer order ``n``."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or abs(n) > 10**6:
        raise UnsupportedError(f"yn: the order n must be an int of at most a million, got {sd._shown(n)}")
    return yv(float(n), x)


def multigammaln(a: Any, d: int) -> Node:
    """The log of the multivariate gamma function of dimension ``d``: a sum of ``gammaln``s."""
    if not isinstance(d, (int, np.integer)) or isinstance(d, bool) or not 1 <= d <= 10**4:
        # d gammaln terms: a bound keeps the graph a size one can build
        raise UnsupportedError(f"multigammaln: d must be a positive int up to 10**4, got {sd._shown(d)}")
    from symdiff.special import gammaln  # special imports this module

    x = sd.tofloat(sd.as_node(a, "multigammaln argument"))
    total: Any = 0.25 * d * (d - 1) * math.log(math.pi)
    for j in range(d):
        total = total + gammaln(x - 0.5 * j)
    return sd.as_node(total)


interop.SCIPY_UFUNCS.update({"gammainc": gammainc, "gammaincc": gammaincc, "rgamma": rgamma, "gammasgn": gammasgn,
                             "jv": jv, "yv": yv, "iv": iv, "kv": kv, "ive": ive, "kve": kve, "j0": j0, "j1": j1,
                             "y0": y0, "y1": y1, "yn": yn})
