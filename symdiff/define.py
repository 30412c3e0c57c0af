"""User-defined ops: a new entry in the op table, with its builder.

Definition checks structure only (importability, arity, one VJP entry per input on a
symbolic probe), so a wrong *derivative* can be defined, and is then caught by
``symdiff.testing.check_op`` or by ``check_grad``'s per-node blame.
"""

from __future__ import annotations

import importlib
import inspect
import keyword
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import symdiff.api as sd
from symdiff.errors import GraphError, OpDefinitionError, ShapeError, SymdiffError
from symdiff.graph import Node
from symdiff.ops import OPS, USER, Op, broadcast_shapes
from symdiff.printers import call

PROBE_SHAPES = ((), (3,), (3, 3))  # tried in turn until the op's shape rule accepts one


def define_op(
    name: str,
    *,
    arity: int,
    numpy: Callable[..., Any] | str,
    vjp: Callable[..., Sequence[Node | None]],
    shape: Callable[..., Sequence[int]] | None = None,
    sympy: Callable[..., Any] | None = None,
    domain: Sequence[tuple[float, float]] | None = None,
    replace: bool = False,
) -> Callable[..., Node]:
    """Add an op to the table and return its builder.

    Args:
        name: the op's name (a Python identifier).
        arity: how many array inputs it takes.
        numpy: an importable function, or ``"module:function"``; generated code calls it by
            its module path, so modules written to ``generated/`` can import it.
        vjp: ``vjp(g, out, *args)`` returning one node (or ``None``) per input, built with
            symdiff's builders, like the built-in rules.
        shape: ``shape(*input_shapes) -> output shape``; elementwise broadcasting by default.
        sympy: ``sympy(*sympy_args)`` giving the scalar SymPy form, for ``to_sympy`` and checks.
        domain: one ``(low, high)`` interval per input, where tests sample points.
        replace: allow redefining a user-defined op of the same name.
    """
    _check_name(name, sd._flag(replace, f"define_op({sd._shown(name)}): replace"))
    function, module, path = _resolve(numpy, name)
    _check_arity(function, arity, name)
    for what, rule in (("vjp", vjp), ("shape", shape), ("sympy", sympy)):
        if not callable(rule) and (rule is not None or what == "vjp"):
            raise OpDefinitionError(f"define_op({name!r}): {what} must be a function, got {type(rule).__name__}")
    intervals = _intervals(domain, arity, name)
    placeholders = ", ".join(f"{{{i}}}" for i in range(arity))
    op = Op(name, _shape_rule(name, shape), call(f"{path}({placeholders})"), _checked_vjp(name, vjp, arity),
            sympy=sympy, domain=intervals, module=module, arity=arity,
            view=True, zero_d=True, kind=USER)  # user code may return its input or a 0-d array: outputs get copied
    previous = OPS.get(name)
    OPS[name] = op
    try:
        _probe(op)
    except BaseException:
        if previous is None:
            del OPS[name]
        else:
            OPS[name] = previous
        raise
    return _builder(name, arity)


def _check_name(name: str, replace: bool) -> None:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name) or not name.isascii():
        raise OpDefinitionError(f"define_op: the name {name!r} must be an ASCII Python identifier")
    if name in ("var", "const"):  # the ops of the graph's leaves
        raise OpDefinitionError(f"define_op: {name!r} names the graph's variables or constants")
    existing = OPS.get(name)
    if existing is not None and existing.kind != USER:
        raise OpDefinitionError(f"define_op: {name!r} is a built-in op and cannot be redefined")
    if existing is not None and not replace:
        raise OpDefinitionError(f"define_op: op {name!r} is already defined; pass replace=True to redefine it")


def _resolve(numpy: Callable[..., Any] | str, name: str) -> tuple[Callable[..., Any], str, str]:
    """The function, its module, and the dotted path generated code calls it by."""
    if isinstance(numpy, str):
        module, _, qualname = numpy.partition(":")
        if not module or not qualname:
            raise OpDefinitionError(f"define_op({name!r}): numpy={numpy!r} must look like 'module:function'")
    else:
        module, qualname = getattr(numpy, "__module__", None) or "", getattr(numpy, "__qualname__", "")
    dotted = f"{module}.{qualname}".split(".")  # no relative import ('.os'), no '<lambda>', no '<locals>'
    if module == "__main__" or not all(p.isidentifier() for p in dotted):
        raise OpDefinitionError(
            f"define_op({name!r}): the NumPy implementation must be importable by generated code, "
            f"got {module or '?'}:{qualname or '?'}; define it at module level in an importable module"
        )
    try:
        target: Any = importlib.import_module(module)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as error:
        raise OpDefinitionError(f"define_op({name!r}): cannot import {module}:{qualname} ({error})") from None
    if not callable(target) or (not isinstance(numpy, str) and target is not numpy):
        raise OpDefinitionError(f"define_op({name!r}): {module}:{qualname} is not the given callable")
    return target, module, f"{module}.{qualname}"


def _intervals(domain: Any, arity: int, name: str) -> tuple[tuple[float, float], ...]:
    """One finite ``(low, high)`` interval per input, where tests sample points."""
    if domain is None:
        return ((-2.0, 2.0),) * arity
    pairs = list(domain) if isinstance(domain, (list, tuple)) else []
    if not pairs or not all(isinstance(p, (list, tuple)) and len(p) == 2 and _finite(p[0]) and _finite(p[1])
                            and p[0] < p[1] for p in pairs):
        raise OpDefinitionError(f"define_op({name!r}): domain must be one (low, high) pair of finite numbers, "
                                f"low < high, per input; got {sd._shown(domain)}")
    if len(pairs) != arity:
        raise OpDefinitionError(f"define_op({name!r}): domain has {len(pairs)} intervals for arity {arity}")
    return tuple((float(lo), float(hi)) for lo, hi in pairs)


def _finite(bound: Any) -> bool:
    try:
        return isinstance(bound, numbers.Real) and not isinstance(bound, bool) and math.isfinite(bound)
    except OverflowError:  # an int past float's range
        return False


MAX_ARITY = 255


def _check_arity(function: Callable[..., Any], arity: int, name: str) -> None:
    if not isinstance(arity, int) or isinstance(arity, bool) or not 1 <= arity <= MAX_ARITY:
        raise OpDefinitionError(f"define_op({name!r}): arity must be an int from 1 to {MAX_ARITY}, "
                                f"got {sd._shown(arity)}")
    try:
        inspect.signature(function).bind(*range(arity))
    except TypeError:
        raise OpDefinitionError(
            f"define_op({name!r}): the NumPy function does not take {arity} positional arguments"
        ) from None
    except ValueError:
        pass  # some NumPy ufuncs have no introspectable signature; trust the arity given


def _shape_rule(name: str, shape: Callable[..., Sequence[int]] | None) -> Callable[..., Any]:
    def rule(shapes: Sequence[tuple[int, ...]], attrs: tuple[Any, ...]) -> tuple[int, ...]:
        if shape is None:
            return broadcast_shapes(*shapes)
        try:
            return tuple(int(d) for d in shape(*shapes))
        except ShapeError:
            raise
        except Exception as error:
            raise ShapeError(f"the shape rule of {name!r} failed on {list(shapes)}: {error}") from None

    return rule


def _checked_vjp(name: str, vjp: Callable[..., Sequence[Node | None]], arity: int) -> Callable[..., Any]:
    def rule(g: Node, out: Node, *args: Node) -> list[Node | None]:
        result = vjp(g, out, *args)
        entries = [result] if isinstance(result, Node) or result is None else list(result)
        if len(entries) != arity:
            raise OpDefinitionError(f"the VJP of {name!r} returned {len(entries)} entries for {arity} inputs")
        return [None if e is None else sd.as_node(e, f"VJP of {name!r}") for e in entries]

    return rule


def _probe(op: Op) -> None:
    """Build the op on symbolic inputs and run its VJP once: structure only, no numbers."""
    arity = op.arity or 1
    for candidate in PROBE_SHAPES:
        args = [sd.var(f"probe{i}", shape=candidate) for i in range(arity)]
        try:
            out = sd.apply(op.name, args)
        except ShapeError:
            continue
        try:
            op.vjp(sd.var("g", shape=out.shape), out, *args)  # type: ignore[misc]
        except SymdiffError as error:
            raise OpDefinitionError(f"define_op({op.name!r}): the VJP failed on a symbolic probe: {error}") from None
        except Exception as error:  # the user's code raised: say so, and keep its traceback
            raise OpDefinitionError(f"define_op({op.name!r}): the VJP raised {type(error).__name__} on a "
                                    f"symbolic probe: {error}") from error
        return
    raise OpDefinitionError(f"define_op({op.name!r}): the shape rule accepts none of the probe shapes {PROBE_SHAPES}")


def _builder(name: str, arity: int) -> Callable[..., Node]:
    def build(*args: Any) -> Node:
        if len(args) != arity:
            raise GraphError(f"{name} takes {arity} argument(s), got {len(args)}")
        return sd.apply(name, [sd.tofloat(sd.as_node(a, f"{name} argument {i}")) for i, a in enumerate(args)])

    build.__name__ = build.__qualname__ = name
    build.__doc__ = f"The user-defined op {name!r}."
    return build
