"""NumPy interoperability: ``np.sin(node)``, ``np.sum(node, axis=0)``, ``array * node``.

Nodes implement ``__array_ufunc__`` and ``__array_function__``; both land here and map
NumPy's names onto the builders. Anything unmapped raises ``UnsupportedError`` naming the
NumPy function, and conversions NumPy would do silently (``bool(node)``,
``np.array([node])``) raise instead.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import sys
from typing import Any

from symdiff import compose, shaping
from symdiff.errors import GraphError, UnsupportedError
from symdiff.graph import Node, short_text


def truth_value_error(x: Node) -> GraphError:
    return GraphError(
        f"a node has no truth value ({short_text(x)}); `if`/`and`/`or` on nodes cannot be traced. "
        "Use sd.where(cond, a, b) to choose between values."
    )


def array_conversion_error(x: Node) -> UnsupportedError:
    caller = _library_caller()
    if caller is not None:  # a library converted its argument with np.asarray: name that function
        return UnsupportedError(
            f"{caller} converts its arguments to NumPy arrays, so it cannot take a symdiff node "
            f"({short_text(x)}); only functions symdiff implements build graphs (see the README's list)"
            + _did_you_mean(caller.rsplit(".", 1)[-1], caller))
    return UnsupportedError(
        f"a node cannot become a NumPy array ({short_text(x)}): np.array and np.asarray cannot hold nodes. "
        "Build an array of nodes with sd.array([...]) or np.stack([...]), or compute values with "
        "sd.evaluate / sd.function"
    )


def number_conversion_error(x: Node, kind: str) -> GraphError:
    return GraphError(
        f"{kind}() of a node ({short_text(x)}): a node has no value while the graph is built. Compute it with "
        "sd.evaluate(expr, {variable: value}) or sd.function(inputs, expr), or keep it a node"
    )


def _library_caller() -> str | None:
    """The installed library's function (not NumPy's or symdiff's) that the user called and that
    asked for an array: the outermost frame of installed code before the user's own, by its public path."""
    frame: Any = sys._getframe(2)
    found = None
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        filename = frame.f_code.co_filename
        if not module.startswith(("numpy", "symdiff")):
            if "site-packages" not in filename and "dist-packages" not in filename:
                break
            public = ".".join(itertools.takewhile(lambda part: not part.startswith("_"), module.split(".")))
            found = f"{public or module}.{frame.f_code.co_name}"
        frame = frame.f_back
    return found


# NumPy ufuncs that are another op under a second name
UFUNC_ALIASES = {"true_divide": "divide", "fabs": "absolute", "degrees": "rad2deg", "radians": "deg2rad"}


@functools.cache
def ufuncs() -> dict[str, Any]:
    """NumPy ufunc name -> builder, from the op table's ``ufunc`` fields (read once every op is registered)."""
    import symdiff  # the public builders are named as the ufuncs they stand for
    from symdiff.ops import OPS  # ops imports the builders this module is imported by

    table: dict[str, Any] = {op.ufunc: getattr(symdiff, op.ufunc) for op in OPS.values()
                             if op.ufunc is not None and op.module is None}
    table.update({alias: table[name] for alias, name in UFUNC_ALIASES.items()})
    table["positive"] = symdiff.positive
    table["conjugate"] = symdiff.conjugate  # real input: the identity
    return table


def numpy_ufunc(ufunc: Any, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Node:
    name, owner = ufunc.__name__, _ufunc_module(ufunc)
    builder: Any = ufuncs().get(name) if owner == "numpy" else SCIPY_UFUNCS.get(name)
    if builder is None or method != "__call__" or kwargs:
        detail = f".{method}" if method != "__call__" else ""
        extra = f" with {sorted(kwargs)}" if kwargs else ""
        raise UnsupportedError(f"{owner}.{name}{detail}{extra} is not supported on symdiff nodes"
                               + _did_you_mean(name, owner))
    return builder(*inputs)


def _ufunc_module(ufunc: Any) -> str:
    """``numpy`` or ``scipy.special``: a ufunc does not record its module, so ask where it is found."""
    import numpy as np

    if getattr(np, ufunc.__name__, None) is ufunc:
        return "numpy"
    special = sys.modules.get("scipy.special")
    if special is not None and getattr(special, ufunc.__name__, None) is ufunc:
        return "scipy.special"
    return "a ufunc"


# scipy.special ufunc name -> builder; symdiff.special fills it in
SCIPY_UFUNCS: dict[str, Any] = {}


def _did_you_mean(name: str, module: str = "") -> str:
    """A hint naming symdiff's function of that name, in the namespace that mirrors ``module`` first."""
    import symdiff

    first = "special." if "special" in module else "linalg." if "linalg" in module else ""
    for where in dict.fromkeys((first, "", "special.", "linalg.")):
        owner = symdiff if not where else getattr(symdiff, where[:-1], None)
        if owner is not None and callable(getattr(owner, name, None)):
            return f"; did you mean sd.{where}{name}?"
    return ""


# NumPy functions built from several ops (compose.py), and shape queries; looked up at call time:
# compose and losses import the builders this module is imported by
COMPOSED: dict[str, Any] = {
    "shape": lambda x: x.shape, "ndim": lambda x: x.ndim, "size": lambda x: x.size,
    "dot": lambda a, b: compose.dot(a, b),
    "clip": lambda a, a_min=None, a_max=None: compose.clip(a, a_min, a_max),
    "outer": lambda a, b: compose.outer(a, b),
    "stack": lambda arrays, axis=0: compose.stack(arrays, axis),
    "select": lambda condlist, choicelist, default=0: compose.select(condlist, choicelist, default),
    "einsum": lambda subscripts, *operands: compose.einsum(subscripts, *operands),
    "ravel": lambda a, order="C": shaping.ravel(a, order),
    "squeeze": lambda a, axis=None: shaping.squeeze(a, axis),
    "expand_dims": lambda a, axis: shaping.expand_dims(a, axis),
}


def provide(table: dict[str, Any]) -> None:
    """Add NumPy functions built by other modules; a name inside a NumPy submodule is qualified
    (``linalg.solve`` for ``numpy.linalg.solve``)."""
    COMPOSED.update(table)
    functions.cache_clear()


@functools.cache
def functions() -> dict[str, Any]:
    """NumPy function name -> builder: each op's ``numpy_functions`` (read once every op is
    registered), and the composed ones."""
    import symdiff
    from symdiff.ops import OPS

    table = {name: getattr(symdiff, op.name) for op in OPS.values() if op.module is None
             for name in op.numpy_functions}
    return {**table, **COMPOSED}
def numpy_function(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    module = getattr(func, "__module__", None) or "numpy"
    where = module.removeprefix("numpy").lstrip(".")
    key = f"{where}.{func.__name__}" if where else func.__name__
    builder = functions().get(key)
    if builder is None:
        raise UnsupportedError(f"{module}.{func.__name__} is not supported on symdiff nodes"
                               + _did_you_mean(func.__name__, module))
    if "newshape" in kwargs:
        kwargs = {**kwargs, "shape": kwargs.pop("newshape")}
    if func.__name__ == "where" and len(args) + len(kwargs) == 1:
        raise UnsupportedError("numpy.where(condition) gives the indices of true elements, whose number depends on "
                               "values; symdiff builds where(condition, a, b)")
    try:
        _signature(builder).bind(*args, **kwargs)
    except TypeError as error:  # NumPy's own signature allows forms the builders do not take
        raise UnsupportedError(f"{module}.{func.__name__} on symdiff nodes: {error}") from None
    return builder(*args, **kwargs)


@functools.cache
def _signature(builder: Any) -> inspect.Signature:
    return inspect.signature(builder)
