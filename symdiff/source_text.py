"""Text that reaches generated source: names claimed for nodes and labels, escaped docstring
lines, and numbers and array constants as literals."""

from __future__ import annotations

import builtins
import inspect
import keyword
import math
import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from symdiff import runtime
from symdiff.dialect import current as current_dialect
from symdiff.errors import EmitError
from symdiff.printers import ATOM

if TYPE_CHECKING:
    from symdiff.dim_binding import Bindings
    from symdiff.emit import FunctionSpec, Param, Program
    from symdiff.graph import Node

UNARY = 15  # the precedence of a negative literal

MAX_NAME = 24  # sanitised labels are cut to this many characters before the suffix

MAX_PLAIN = 64  # a longer label is cut and suffixed too (numba's LLVM fails on 10,000-character names)

# Every name the emitted code binds or reads besides its parameters, on every backend: modules,
# argument-check helpers, module-file definitions, array-API and numba globals, the pullback's
# nested function. Labels become parameters only when they avoid these and the patterns below.
RESERVED = (set(keyword.kwlist) | set(dir(builtins))
            | {"np", "math", "xp", "numba", "array_api_compat", "back", "ArgumentError", "annotations"}
            | {fn.__name__ for fn in runtime.HELPERS})
GENERATED = re.compile(r"t\d+|C\d+|xc\d+|bar_.*|value|float64")

class Namer:
    """Hands out unique identifiers; generated names never shadow each other or the inputs."""

    def __init__(self) -> None:
        self.used: set[str] = set(RESERVED)
        self.temps = 0

    def claim(self, base: str, always_suffix: bool = False) -> str:
        name, k = (f"{base}_1", 2) if always_suffix else (base, 1)
        while name in self.used:
            name, k = f"{base}_{k}", k + 1
        self.used.add(name)
        return name

    def temp(self) -> str:
        while f"t{self.temps}" in self.used:
            self.temps += 1
        return self.claim(f"t{self.temps}")

    def param(self, label: str) -> str:
        """The label itself when it is a plain ASCII identifier clashing with nothing."""
        if plain(label):
            return self.claim(label, always_suffix=label in self.used)
        ascii_form = unicodedata.normalize("NFKC", label)
        base = "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in ascii_form).strip("_")
        base = re.sub("_+", "_", base)[:MAX_NAME]
        if not base or not base[0].isalpha():
            base = "v_" + base
        return self.claim(base, always_suffix=True)


def plain(name: str) -> bool:
    """An ASCII identifier of modest length that no generated name can be (NFKC leaves it alone)."""
    return (name.isascii() and name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_")
            and len(name) <= MAX_PLAIN and not GENERATED.fullmatch(name))


def check_function_name(name: object) -> str:
    """The generated function's name: plain, and bound to nothing else in its namespace."""
    if not isinstance(name, str) or not plain(name) or name in RESERVED:
        raise EmitError(
            f"function name {name!r} must be a short ASCII identifier, not starting with '_', that the "
            "generated code does not use itself (np, math, xp, back, t0, C0, bar_..., builtins, keywords)")
    return name


def doc_escape(text: str) -> str:
    """The one way text reaches generated source outside code: escaped, so it cannot end a
    docstring or a comment line. Applied to every docstring line, so labels, notes and user
    op names are covered wherever they are quoted."""
    return text.encode("unicode_escape").decode("ascii").replace('"', '\\"')


def number_text(value: float) -> tuple[str, int]:
    """A float as source text with its precedence; never ``np.float64(...)``."""
    if math.isnan(value):
        return "math.nan", ATOM
    if math.isinf(value):
        return ("math.inf", ATOM) if value > 0 else ("-math.inf", UNARY)
    text = repr(float(value))
    return text, (UNARY if text.startswith("-") else ATOM)


def array_literal(value: np.ndarray) -> str:
    if value.dtype in (np.bool_, np.int64) and value.size == 0:  # tolist() of a (0, 3) array is [], shape lost
        return f"np.zeros({tuple(value.shape)}, dtype={'np.bool_' if value.dtype == np.bool_ else 'np.int64'})"
    if value.dtype == np.bool_:
        return f"np.array({value.tolist()!r})"
    if value.dtype == np.int64:
        return f"np.array({value.tolist()!r}, dtype=np.int64)"
    float_type = current_dialect().precision
    if value.size == 0:
        return float_type.zeros(str(tuple(value.shape)))
    flat = float_type.array("[" + ", ".join(number_text(float(v))[0] for v in value.ravel()) + "]")
    return f"{flat}.reshape({tuple(value.shape)})" if value.ndim != 1 else flat


CONVENTIONS = (
    "maximum/minimum ties split the gradient 1/2 : 1/2; relu'(0) = 0; abs'(0) = 0;\n"
    "max reductions share the gradient equally among tied elements;\n"
    "where-branches are guarded: the untaken branch adds no NaN or inf to a gradient;\n"
    "scalars are numpy.{float} (IEEE: 1/0 is inf, log(-1) is nan, with NumPy's warnings).\n"
    "Exact rewrites at construction: x*1, x/1, x**1, x+(-0.0), x-0.0, --x, folding of + - * / and integer powers."
)


def op_conventions(order: Sequence[Node]) -> list[str]:
    """The conventions of the ops a function computes (their records' ``convention``), each once, in a fixed order."""
    from symdiff.ops import OPS  # the op table builds on this module

    found = {OPS[n.op].convention for n in order if n.op in OPS and OPS[n.op].convention is not None}
    return sorted(c for c in found if c is not None)


def docstring(spec: FunctionSpec, params: list[Param], returned: str, expression: list[str],
               fast_path: bool, bindings: Bindings | None = None) -> list[str]:
    lines = [*spec.summary.split("\n"), "", *("        " + line for line in expression), ""]
    lines += [f"    Returns {returned}.", ""]
    lines.append("    Inputs (label -> parameter, shape):")
    for p in params:
        role = spec.describe_inputs(p.node)
        lines.append(f"        {p.node.label} -> {p.name}, {tuple(p.node.shape)}{role}")
    lines.append("")
    if bindings is not None and bindings.where:
        lines.append("    Dimensions (sizes read from the arguments on every call):")
        lines += [f"        {name} = {where}" for name, where in sorted(bindings.where.items())]
        lines.append("")
    lines.append("    Conventions:")
    general = CONVENTIONS.format(float=current_dialect().precision.name).splitlines()
    # the ops' own conventions join the list of gradient conventions, before the note on scalars
    for line in [*general[:3], *op_conventions(spec.order or ()), *general[3:]]:
        lines.append("        " + line)
    if fast_path:
        lines.append("        All scalars: math and float arithmetic first; the NumPy sweeps where math raises or a")
        lines.append("        result is not finite, so IEEE results and NumPy's warnings are as on the NumPy path.")
    body = [doc_escape(line) for line in lines]  # every line: labels, notes and op names alike
    return ['    """' + body[0], *body[1:], '    """']


def module_text(program: Program, title: str, command: str = "symdiff regenerate") -> str:
    """A standalone module: imports numpy, math and user-defined ops' modules, and embeds the argument checks.

    ``command`` is the shell command that writes this module again, quoted in its header."""
    source = program.module_source
    used = [fn for fn in runtime.HELPERS if fn.__name__ + "(" in source]
    for _ in range(2):  # the helpers the used ones call (two levels deep at most)
        called = "".join(inspect.getsource(fn) for fn in used)
        used = [fn for fn in runtime.HELPERS if fn in used or fn.__name__ + "(" in called]
    helpers = "\n\n".join(inspect.getsource(fn) for fn in used)
    return "\n".join([
        f'"""{doc_escape(title)}',
        "",
        doc_escape(f"Written by symdiff; regenerate with `{command}`. Imports only numpy and math"
                   + (f", plus {', '.join(program.imports)}." if program.imports else ".")),
        '"""',
        "",
        "from __future__ import annotations",
        "",
        *(["import math", ""] if "math." in source else []),
        "import numpy as np",
        *(f"import {module}" for module in program.imports),
        "",
        "",
        "class ArgumentError(TypeError, ValueError):",
        '    """A wrong number, type or shape of arguments."""',
        "",
        "",
        helpers,
        "",
        source,
    ])
