"""Pickling compiled functions: by a reconstructor that takes their program as data.

A compiled function is rebuilt by ``rebuild(token, name, source, constants, imports)``, which
compiles the source again; in the process that pickled it, the token finds the very same
object. Looking up a name in this module never compiles or runs anything.

The standard ``pickle`` stores a plain function by its module and name alone, before it
consults ``copyreg``, and a wrapper that could carry the program instead would slow every
call (W1a: 0.66x of hand-written NumPy instead of 0.56x, over the 0.6x target). So plain
functions travel by ``dumps``, whose pickler writes the reconstructor, and by ``cloudpickle``
(Dask, joblib, Ray), which pickles them by value; ``pickle.dumps`` refuses them ("attribute
lookup ... on symdiff.pickled failed"). The numba backend's scalar functions are dispatchers,
not plain functions, and carry the reconstructor in their own ``__reduce__``, so every
pickler takes it.

Unpickling any of these runs the carried source: load only data you trust, as with any pickle.
"""

from __future__ import annotations

import io
import pickle
import types
import uuid
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from symdiff.emit import Program

_live: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
_reductions: weakref.WeakKeyDictionary[Any, tuple[Any, ...]] = weakref.WeakKeyDictionary()


def register(function: Any, program: Program) -> None:
    """Record how to rebuild ``function``; its ``__name__`` and ``__qualname__`` stay plain."""
    token = uuid.uuid4().hex  # random, not a counter: a forked child must not reuse its parent's tokens
    args = (token, program.name, program.source, program.constants, program.imports)
    _live[token] = function
    function.__module__ = __name__  # so pickle.dumps fails naming this module, whose docstring explains
    if isinstance(function, types.FunctionType):
        _reductions[function] = args
    else:
        function.__reduce__ = lambda: (rebuild, args)


def rebuild(token: str, name: str, source: str, constants: dict[str, Any], imports: tuple[str, ...]) -> Any:
    """What unpickling calls: the live function of ``token``, or ``source`` compiled again (it runs it)."""
    found = _live.get(token)
    if found is not None:
        return found
    from symdiff.compiler import load
    from symdiff.emit import Program

    return load(Program(source, name, dict(constants), (), tuple(imports)))


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        # consulted before pickle's own rule for functions, which would store a name
        args = _reductions.get(obj) if isinstance(obj, types.FunctionType) else None
        return NotImplemented if args is None else (rebuild, args)


def dumps(obj: Any, protocol: int | None = None) -> bytes:
    """``pickle.dumps`` that also carries compiled functions, anywhere inside ``obj``."""
    buffer = io.BytesIO()
    _Pickler(buffer, protocol).dump(obj)
    return buffer.getvalue()


def loads(data: bytes) -> Any:
    """``pickle.loads``: it rebuilds compiled functions by running their source, so trust ``data``."""
    return pickle.loads(data)
