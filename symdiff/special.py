"""``sd.special``: the functions of ``scipy.special`` on symdiff nodes, with their derivatives.

Most are primitives whose generated code calls ``scipy.special`` (``symdiff.special_ops``);
they need SciPy (``pip install symdiff[scipy]``) and compile on the NumPy backend only. The
ones exactly composed from NumPy ops (``expit``, ``log_expit``, ``logit``, ``logsumexp``,
``softmax``, ``log_softmax``) need no SciPy and compile on every backend. ``scipy.special.erf(node)``
and the other SciPy ufuncs dispatch here; SciPy's plain functions (``logsumexp``, ``softmax``,
``log_softmax``, ``polygamma``) cannot see nodes: call ``sd.special.<name>`` for those.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff import interop, special_ops
from symdiff.errors import UnsupportedError
from symdiff.graph import Node
from symdiff.losses import logsumexp, sigmoid, softplus
from symdiff.special_ops import node as _node


def _unary(name: str, x: Any) -> Node:
    special_ops.require_scipy(name)
    return _node(name, sd.tofloat(sd.as_node(x, f"{name} argument")))


def _binary(name: str, a: Any, b: Any) -> Node:
    special_ops.require_scipy(name)
    return _node(name, sd.tofloat(sd.as_node(a, f"{name} first argument")),
                 sd.tofloat(sd.as_node(b, f"{name} second argument")))


def gammaln(x: Any) -> Node:
    """log|Gamma(x)|; its derivative is digamma."""
    return _unary("gammaln", x)


def digamma(x: Any) -> Node:
    """The logarithmic derivative of Gamma (``scipy.special.psi``); its derivative is polygamma(1, x)."""
    return _unary("digamma", x)


psi = digamma


def polygamma(n: Any, x: Any) -> Node:
    """The n-th derivative of digamma, for a whole number n >= 0 (polygamma(0, x) is digamma(x))."""
    special_ops.require_scipy("polygamma")
    whole = isinstance(n, numbers.Integral) or (isinstance(n, numbers.Real) and float(n).is_integer())
    if isinstance(n, (bool, np.bool_)) or not whole or n < 0 or n > 10**6:
        shown = "a node" if isinstance(n, Node) else sd._shown(n)
        raise UnsupportedError(f"polygamma: n must be a whole number from 0 to 10**6 known when the graph is built, "
                               f"got {shown}")
    return special_ops.polygamma(int(n), sd.tofloat(sd.as_node(x, "polygamma argument")))


def gamma(x: Any) -> Node:
    """Gamma(x); its derivative is Gamma(x) digamma(x)."""
    return _unary("gamma", x)


def beta(a: Any, b: Any) -> Node:
    """B(a, b) = Gamma(a) Gamma(b) / Gamma(a + b)."""
    return _binary("beta", a, b)


def betaln(a: Any, b: Any) -> Node:
    """log|B(a, b)|."""
    return _binary("betaln", a, b)


def erf(x: Any) -> Node:
    """The error function."""
    return _unary("erf", x)


def erfc(x: Any) -> Node:
    """1 - erf(x), accurate where erf(x) is near 1."""
    return _unary("erfc", x)


def erfinv(x: Any) -> Node:
    """The inverse of erf on (-1, 1); its derivative is sqrt(pi)/2 exp(erfinv(x)^2)."""
    return _unary("erfinv", x)


def erfcinv(x: Any) -> Node:
    """The inverse of erfc on (0, 2)."""
    return _unary("erfcinv", x)


def erfcx(x: Any) -> Node:
    """exp(x^2) erfc(x), without the overflow and underflow of the product."""
    return _unary("erfcx", x)


def ndtr(x: Any) -> Node:
    """The standard normal CDF."""
    return _unary("ndtr", x)


def log_ndtr(x: Any) -> Node:
    """log of the standard normal CDF, accurate far into the left tail; so is its derivative."""
    return _unary("log_ndtr", x)


def ndtri(y: Any) -> Node:
    """The inverse of ndtr on (0, 1)."""
    return _unary("ndtri", y)


def i0(x: Any) -> Node:
    """The modified Bessel function of the first kind, order 0."""
    return _unary("i0", x)


def i1(x: Any) -> Node:
    """The modified Bessel function of the first kind, order 1."""
    return _unary("i1", x)


def i0e(x: Any) -> Node:
    """exp(-|x|) i0(x), which does not overflow."""
    return _unary("i0e", x)


def i1e(x: Any) -> Node:
    """exp(-|x|) i1(x), which does not overflow."""
    return _unary("i1e", x)


def xlogy(x: Any, y: Any) -> Node:
    """x log(y), 0 where x is 0 (even where y is 0); d/dx is log(y), d/dy is x/y (0 where x is 0)."""
    return _binary("xlogy", x, y)


def xlog1py(x: Any, y: Any) -> Node:
    """x log(1 + y), 0 where x is 0."""
    return _binary("xlog1py", x, y)


def entr(x: Any) -> Node:
    """-x log(x) for x > 0, 0 at 0, -inf for x < 0."""
    return _unary("entr", x)


def rel_entr(x: Any, y: Any) -> Node:
    """x log(x/y) for x, y > 0; 0 where x is 0 and y >= 0; inf elsewhere."""
    return _binary("rel_entr", x, y)


def kl_div(x: Any, y: Any) -> Node:
    """x log(x/y) - x + y for x, y > 0; y where x is 0 and y >= 0; inf elsewhere."""
    return _binary("kl_div", x, y)


# ---- composed from NumPy ops: no SciPy needed, every backend -----------------------------

expit = sigmoid


def log_expit(x: Any) -> Node:
    """log(expit(x)) = -log(1 + exp(-x)), finite for any x."""
    return -softplus(-sd.tofloat(sd.as_node(x, "log_expit argument")))


LOGIT_NEAR_HALF = 0.2  # within it of 1/2, log(x) - log1p(-x) would cancel: 2 atanh(2x - 1) does not


def logit(x: Any) -> Node:
    """log(x / (1 - x)), the inverse of expit, accurate near 0, 1/2 and 1."""
    p = sd.tofloat(sd.as_node(x, "logit argument"))
    s = 2.0 * p - 1.0  # exact near 1/2
    near_half = sd.less(sd.abs(s), 2.0 * LOGIT_NEAR_HALF)
    return sd.where(near_half, sd.log1p(s) - sd.log1p(-s), sd.log(p) - sd.log1p(-p))


def softmax(x: Any, axis: Any = None) -> Node:
    """exp(x) / sum(exp(x), axis), as exp(log_softmax): no overflow (axis=None: over all elements, as SciPy)."""
    return sd.exp(_log_softmax(sd.tofloat(sd.as_node(x, "softmax argument")), axis, "softmax"))


def log_softmax(x: Any, axis: Any = None) -> Node:
    """x - logsumexp(x, axis), accurate where softmax underflows and where it is near 1."""
    return _log_softmax(sd.tofloat(sd.as_node(x, "log_softmax argument")), axis, "log_softmax")


def _log_softmax(node: Node, axis: Any, what: str) -> Node:
    """(x - m) - logsumexp(x - m) with m the finite maximum: x - logsumexp(x) would lose eps * |logsumexp|
    where the result is near 0. The shift's gradient cancels, as it does in exact arithmetic."""
    axes = sd._axes(axis, node, what)
    if any(node.shape[a] == 0 for a in axes):  # no maximum to shift by; the result is empty anyway
        return node - logsumexp(node, axis=axes, keepdims=True)
    peak = sd.max(node, axis=axes, keepdims=True)
    shifted = node - sd.where(sd.less(sd.abs(peak), np.inf), peak, 0.0)  # an infinite maximum is not shifted
    return shifted - logsumexp(shifted, axis=axes, keepdims=True)


from symdiff.special_bessel import (  # noqa: E402
    gammainc,
    gammaincc,
    gammasgn,
    iv,
    ive,
    j0,
    j1,
    jv,
    kv,
    kve,
    multigammaln,
    rgamma,
    y0,
    y1,
    yn,
    yv,
)

__all__ = [
    "beta", "betaln", "digamma", "entr", "erf", "erfc", "erfcinv", "erfcx", "erfinv", "expit", "gamma", "gammainc",
    "gammaincc", "gammaln", "gammasgn", "i0", "i0e", "i1", "i1e", "iv", "ive", "j0", "j1", "jv", "kl_div", "kv",
    "kve", "log_expit", "log_ndtr", "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri", "polygamma",
    "psi", "rel_entr", "rgamma", "softmax", "xlog1py", "xlogy", "y0", "y1", "yn", "yv",
]

# scipy.special ufunc name -> builder, for scipy.special.erf(node) and the like
interop.SCIPY_UFUNCS.update({
    "gammaln": gammaln, "psi": digamma, "gamma": gamma, "beta": beta, "betaln": betaln, "erf": erf, "erfc": erfc,
    "erfinv": erfinv, "erfcinv": erfcinv, "erfcx": erfcx, "ndtr": ndtr, "log_ndtr": log_ndtr, "ndtri": ndtri,
    "i0": i0, "i1": i1, "i0e": i0e, "i1e": i1e, "xlogy": xlogy, "xlog1py": xlog1py, "entr": entr,
    "rel_entr": rel_entr, "kl_div": kl_div, "expit": expit, "log_expit": log_expit, "logit": logit,
})
