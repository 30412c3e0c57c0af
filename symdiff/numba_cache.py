"""A disk cache for the numba backend: a compile in a new process loads the machine code.

``compile(..., backend="numba")`` writes the program as a module file, ``<folder>/<key>.py``,
whose kernels carry ``cache=True``, and imports it: numba stores the machine code in
``__pycache__`` beside the file, and the next process that compiles the same graph finds it
there. The key is a SHA-256 of everything the machine code depends on: the module's text,
the constants' bytes, dtypes and shapes (numba compiles global arrays into the kernel, so
two graphs that differ only in a constant's values must not share an entry), numba's and
llvmlite's versions and settings, the CPU, Python's version and symdiff's.

The file holds no array literals: the constants, like the helpers, are put in the module's
namespace before it runs. A file is written once, to a temporary name then renamed into place,
and never rewritten: numba's index of the machine code is stamped with the file's contents (its
size and time of change in older numbas), so a rewrite would throw the machine code away.
Processes racing to write the same entry write the same bytes with the same time stamp, so
whichever rename lands last changes nothing. A folder that cannot be made or written falls
back to the in-memory compile, with one warning per folder.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import os
import platform
import sys
import uuid
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from symdiff.api import _shown
from symdiff.errors import ArgumentError, UnsupportedError

if TYPE_CHECKING:
    from symdiff.emit import Program

ENVIRONMENT = "SYMDIFF_CACHE_DIR"
# every entry gets this modification time (2001-09-09), so two processes that write the same
# entry leave the same stamp for Python's bytecode cache and for numbas that stamp by time
STAMP = 1_000_000_000
# numba's settings (read from NUMBA_* at start-up) that change the machine code; CPU_NAME and
# CPU_FEATURES override the host's, for caches shared between machines
SETTINGS = ("OPT", "BOUNDSCHECK", "DEBUGINFO_DEFAULT", "LOOP_VECTORIZE", "SLP_VECTORIZE", "ENABLE_AVX",
            "USING_SVML", "CPU_NAME", "CPU_FEATURES")
_warned: set[str] = set()


def folder(cache: Any, backend: str) -> Path | None:
    """Where ``cache=`` puts the entries, or None for the in-memory compile.

    The argument wins, then ``$SYMDIFF_CACHE_DIR``, then ``$XDG_CACHE_HOME/symdiff/numba``
    or ``~/.cache/symdiff/numba``. ``None`` and ``True`` take the default folder."""
    if cache is not None and not isinstance(cache, (bool, str, os.PathLike)):
        raise ArgumentError(f"cache must be None, True, False or a folder (a str or os.PathLike), "
                            f"got {_shown(cache)}")
    if not (isinstance(backend, str) and backend == "numba"):  # a bad backend is refused by name later
        if cache is not None:
            raise UnsupportedError(f"cache={_shown(cache)} applies to backend='numba' only: the {backend} "
                                   "backend compiles nothing to machine code, so there is nothing to cache")
        return None
    if cache is False:
        return None
    if isinstance(cache, (str, os.PathLike)):
        text = os.fsdecode(os.fspath(cache))
        if not text:
            raise ArgumentError("cache must name a folder, got the empty string")
        return Path(text).expanduser()
    return default_folder()


def default_folder() -> Path | None:
    chosen = os.environ.get(ENVIRONMENT)
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME")
    try:
        return (Path(base) if base else Path.home() / ".cache") / "symdiff" / "numba"
    except RuntimeError:  # no home folder to be found: compile in memory, as without numba's cache
        return None


def load(program: Program, where: Path, namespace: dict[str, Any]) -> Any | None:
    """``program``'s function, imported from its entry in ``where`` (written first if absent),
    with ``namespace`` put in its module; None when ``where`` cannot be written."""
    text = module_text(program)
    key = key_of(text, program)
    path = where.absolute() / f"{key}.py"  # numba finds the machine code by the file's path
    try:
        problem = _placed(path, text)
    except OSError as error:  # read-only, full, or a file where a folder should be
        problem = f"cannot write {path}: {error}"
    if problem:
        _warn(where, problem)
        return None
    return _imported(path, f"symdiff_numba_{key}", namespace, program.name)


def module_text(program: Program) -> str:
    """The module file: the kernels with ``cache=True``, the constants named, never printed."""
    notes = [f"# {name}: a {value.dtype} array of shape {tuple(value.shape)}, bound before this module runs"
             for name, value in program.constants.items()]
    return "\n".join([*notes, *([""] if notes else []), *program.module_lines]) + "\n"


def key_of(text: str, program: Program) -> str:
    digest = hashlib.sha256()
    for part in (text, *program.imports, *_machine()):
        digest.update(part.encode())
        digest.update(b"\0")  # separators, so no two different lists of parts hash alike
    for name, value in program.constants.items():
        digest.update(f"{name}:{value.dtype.str}:{value.shape}\0".encode())
        digest.update(value.tobytes())  # C order whatever the layout
    return digest.hexdigest()


@functools.cache  # none of it changes while the process runs
def _machine() -> tuple[str, ...]:
    """What besides the source decides the machine code: versions, settings and the CPU."""
    import llvmlite
    import llvmlite.binding as llvm
    import numba

    import symdiff  # imported here: this module is loaded while symdiff is

    try:
        features = llvm.get_host_cpu_features().flatten()
    except RuntimeError:  # LLVM cannot read them on some hosts; the CPU's name still counts
        features = ""
    versions = (f"numba {numba.__version__}", f"llvmlite {llvmlite.__version__}", f"symdiff {symdiff.__version__}",
                f"{sys.implementation.name} {platform.python_version()}")
    settings = tuple(f"{setting} {getattr(numba.config, setting, None)}" for setting in SETTINGS)
    return (*versions, *settings, f"cpu {llvm.get_host_cpu_name()}", f"features {features}")


def _placed(path: Path, text: str) -> str:
    """Make sure ``path`` holds ``text``, writing it if absent: what is wrong, or ""."""
    if path.exists():
        # only a hand edit makes an entry hold something else than its name says
        return "" if path.read_bytes() == text.encode() else f"{path} holds another program than its name says"
    path.parent.mkdir(parents=True, exist_ok=True)
    # a name of its own, made with the umask's permissions (mkstemp's are the owner's alone)
    temporary = path.with_name(f".{path.stem[:16]}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "x", encoding="utf-8", newline="\n") as file:
            file.write(text)
        os.utime(temporary, (STAMP, STAMP))
        os.replace(temporary, path)  # atomic: a reader sees no file or the whole file
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return ""


def _imported(path: Path, name: str, namespace: dict[str, Any], function: str) -> Any | None:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    module.__dict__.update(namespace)
    # numba rebuilds a cached object-mode block's environment by importing its module by name,
    # so the module is importable under a name that depends on the key alone
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return getattr(module, function)


def _warn(where: Path, message: str) -> None:
    if str(where) in _warned:
        return
    _warned.add(str(where))
    warnings.warn(f"symdiff's numba cache: {message}; compiling in memory (cache=False turns the cache off)",
                  stacklevel=5)  # the caller of compile or function
