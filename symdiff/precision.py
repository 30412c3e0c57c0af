"""Floating-point precision: the few NumPy spellings that name the float type.

The NumPy dialect (``symdiff.dialect``) asks it for them: a scalar cast, a zero buffer, an
array literal, the argument checks, a scalar result. Python float literals need no change:
NumPy treats them as weak scalars, so ``t * 2.0`` stays float32.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from symdiff.errors import UnsupportedError


@dataclass(frozen=True)
class Precision:
    """How generated NumPy code spells its float type."""

    name: str  # "float64" or "float32"

    @property
    def double(self) -> bool:
        return self.name == "float64"

    def scalar(self, text: str) -> str:
        """``text`` as a NumPy scalar of this type."""
        return f"np.{self.name}({text})"

    @property
    def type_text(self) -> str:
        return f"np.{self.name}"

    def zeros(self, shape: str) -> str:
        return f"np.zeros({shape})" if self.double else f"np.zeros({shape}, np.{self.name})"

    def array(self, items: str) -> str:
        """A float array literal from the text of a list."""
        return f"np.array({items})" if self.double else f"np.array({items}, dtype=np.{self.name})"

    def result(self, text: str) -> str:
        """A scalar result that may be a 0-d array: a Python float, or a float32 scalar."""
        return f"float({text})" if self.double else f"np.{self.name}({text})"

    def dtype_keyword(self) -> str:
        """``dtype=`` for a NumPy constructor: none for float64, NumPy's default."""
        return "" if self.double else f", dtype=np.{self.name}"

    def check_arg(self) -> str:
        """The extra argument of ``_scalar_arg``/``_array_arg``: none for float64."""
        return "" if self.double else f", np.{self.name}"


DOUBLE = Precision("float64")
SINGLE = Precision("float32")


def precision_of(dtype: Any) -> Precision:
    """The precision a user asked for with ``dtype``."""
    return SINGLE if float_type(dtype) == "float32" else DOUBLE


def float_type(dtype: Any) -> str:
    """'float64' or 'float32' for what a user passed as ``dtype``."""
    try:
        name = np.dtype(dtype).name
    except (TypeError, ValueError):  # not a dtype at all, or an array NumPy cannot read as one
        name = ""
    if name not in ("float64", "float32"):
        raise UnsupportedError(f"dtype must be np.float64 or np.float32, got {dtype!r}")
    return name
