"""Where the standard ``pickle`` finds compiled functions: their global name carries their program.

``pickle`` stores a function as a module and a name, and looks the name up again when
loading. A compiled function is registered here under the name
``<function name>:<packed program>``, where the packed program is its source, constants and
imports, compressed. In the process that pickles it the name finds the very same function;
in any other process with symdiff installed, this module's ``__getattr__`` unpacks the name
and rebuilds the function. A wrapper object would do the same at a cost on every call; a
name costs nothing once compiled.
"""

from __future__ import annotations

import base64
import json
import types
import weakref
import zlib
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from symdiff.emit import Program

_SEPARATOR = ":"  # in neither Python identifiers nor URL-safe base64, so the name splits cleanly
_COPY = "~"  # marks a second live function with the same program; ignored when unpacking
_live: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()


def register(function: Any, program: Program) -> None:
    """Give ``function`` a global name in this module from which ``pickle`` can rebuild it."""
    base = f"{program.name}{_SEPARATOR}{_pack(program)}"
    name, copies = base, 1
    while _live.get(name) is not None:  # identical programs compiled twice are distinct objects
        copies += 1
        name = f"{base}{_COPY}{copies}"
    function.__module__ = __name__
    function.__qualname__ = name
    if not isinstance(function, types.FunctionType):
        # the numba backend's scalar functions are dispatchers, which numba pickles by value;
        # a string from __reduce__ makes pickle store them by name, as it stores functions
        function.__reduce__ = lambda: function.__qualname__
    _live[name] = function


def __getattr__(name: str) -> Any:
    found = _live.get(name)
    if found is not None:
        return found
    if _SEPARATOR not in name:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from symdiff.compiler import load  # the loader registers what it loads, so it imports us

    try:
        program = _unpack(name.split(_SEPARATOR, 1)[1].split(_COPY)[0])
    except (ValueError, KeyError, TypeError, zlib.error) as error:
        raise AttributeError(f"{name[:60]}...: not a packed symdiff program ({error})") from None
    function: Any = load(program)
    function.__qualname__ = name  # the name asked for, so pickling it again gives the same bytes
    _live[name] = function
    return function


def _pack(program: Program) -> str:
    # the text is compressed; constants follow as raw bytes, since floats barely compress
    arrays = [np.ascontiguousarray(value) for value in program.constants.values()]
    fields = {
        "name": program.name, "source": program.source, "imports": list(program.imports),
        "constants": [[key, value.dtype.str, list(value.shape)]
                      for key, value in zip(program.constants, arrays, strict=True)],
    }
    text = zlib.compress(json.dumps(fields, sort_keys=True).encode())
    packed = b"".join([len(text).to_bytes(8, "little"), text, *(value.tobytes() for value in arrays)])
    return base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")


def _unpack(token: str) -> Program:
    from symdiff.emit import Program

    packed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    size = int.from_bytes(packed[:8], "little")
    fields = json.loads(zlib.decompress(packed[8:8 + size]))
    constants, offset = {}, 8 + size
    for key, dtype, shape in fields["constants"]:
        count = int(np.prod(shape, dtype=np.int64))
        constants[key] = np.frombuffer(packed, dtype=np.dtype(dtype), count=count, offset=offset).reshape(shape).copy()
        offset += count * np.dtype(dtype).itemsize
    return Program(fields["source"], fields["name"], constants, "", tuple(fields["imports"]))
