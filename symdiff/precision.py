"""Single precision: the float64 program, retyped to float32.

The generator writes float64 code; for ``dtype=np.float32`` this pass rewrites the few places
that name the type: the argument checks and conversions, the zero buffers, constant arrays and
scalar results. Python float literals need no change: NumPy treats them as weak scalars, so
``t * 2.0`` stays float32.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import numpy as np

from symdiff.emit import Program
from symdiff.errors import UnsupportedError

_SCALAR_ARG = re.compile(r"_scalar_arg\((\w+), ('[^']*')\)")
_ARRAY_ARG = re.compile(r"_array_arg\((\w+), ('[^']*'), (\([0-9, ]*\))\)")
_ZEROS = re.compile(r"np\.zeros\((\([0-9, ]*\))\)")
_LITERAL = re.compile(r"np\.array\((\[[^\]]*\])\)")
_RESULT = re.compile(r"(?<![\w.])float\(")


def float_type(dtype: Any) -> str:
    """'float64' or 'float32' for what a user passed as ``dtype``."""
    try:
        name = np.dtype(dtype).name
    except (TypeError, ValueError):  # not a dtype at all, or an array NumPy cannot read as one
        name = ""
    if name not in ("float64", "float32"):
        raise UnsupportedError(f"dtype must be np.float64 or np.float32, got {dtype!r}")
    return name


def retype(program: Program) -> Program:
    """The same program computing in float32."""
    constants = {name: value.astype(np.float32) if value.dtype == np.float64 else value
                 for name, value in program.constants.items()}
    return replace(program, source=_text(program.source), module_source=_text(program.module_source),
                   constants=constants)


def _text(source: str) -> str:
    source = source.replace("np.float64", "np.float32").replace("numpy.float64", "numpy.float32")
    source = _SCALAR_ARG.sub(r"_scalar_arg(\1, \2, np.float32)", source)
    source = _ARRAY_ARG.sub(r"_array_arg(\1, \2, \3, np.float32)", source)
    source = _ZEROS.sub(r"np.zeros(\1, np.float32)", source)
    source = _LITERAL.sub(r"np.array(\1, dtype=np.float32)", source)
    return _RESULT.sub("np.float32(", source)
