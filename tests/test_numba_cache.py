"""The numba backend's disk cache: a new process loads the machine code, the key tells apart
what compiles differently, and a folder that cannot be written falls back to memory."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import symdiff as sd
from symdiff import numba_cache, pickled
from symdiff.compiler import compile_program

pytest.importorskip("numba")

# One array graph and one all-scalar graph (whose function is the kernel itself), compiled in a
# fresh process; it prints numba's cache counters and the results, exactly (float.hex).
SCRIPT = """
import json, sys
import numpy as np
import symdiff as sd

scale = float(sys.argv[1])
x = sd.var("x", (40,))
array_fn = sd.compile(sd.sum(sd.sin(x) * (np.arange(40.0) * scale)) + sd.sum(x * x), [x], backend="numba")
a, b = sd.var("a"), sd.var("b")
scalar_fn = sd.compile(sd.exp(a) * b + sd.sin(a * b), [a, b], backend="numba")
y = sd.var("y", (5000,))  # a tanh this long is NumPy's, through numba's object mode
objmode_fn = sd.function([y], sd.sum(sd.tanh(y)), "tanh_total", backend="numba")
assert "objmode" in objmode_fn.source
objmode_kernel = objmode_fn.__globals__["_tanh_total_kernel"]
kernel = array_fn.__globals__["_value_and_grad_kernel"]
value, (grad,) = array_fn(np.linspace(-1.0, 1.0, 40))
scalar_value, scalar_grads = scalar_fn(0.5, 2.0)
print(json.dumps({
    "hits": sum(kernel.stats.cache_hits.values()), "misses": sum(kernel.stats.cache_misses.values()),
    "scalar_hits": sum(scalar_fn.stats.cache_hits.values()),
    "scalar_misses": sum(scalar_fn.stats.cache_misses.values()),
    "objmode_hits": sum(objmode_kernel.stats.cache_hits.values()),
    "objmode_misses": sum(objmode_kernel.stats.cache_misses.values()),
    "objmode": objmode_fn(np.linspace(-1.0, 1.0, 5000)).hex(),
    "value": value.hex(), "grad": [g.hex() for g in grad.tolist()],
    "scalar": [float(scalar_value).hex(), *(float(g).hex() for g in scalar_grads)],
    "file": array_fn.__globals__["__file__"],
}))
"""


def _environment(folder: Path) -> dict[str, str]:
    env = {**os.environ, "SYMDIFF_CACHE_DIR": str(folder)}
    env.pop("NUMBA_CACHE_DIR", None)  # it would move numba's machine code out of the folder
    return env


def _run(folder: Path, scale: float = 1.0) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(scale)], env=_environment(folder),
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _graph(scale: float = 1.0, size: int = 40) -> tuple[sd.Node, sd.Node]:
    x = sd.var("x", (size,))
    return sd.sum(sd.sin(x) * (np.arange(float(size)) * scale)) + sd.sum(x * x), x


def _key(expr: sd.Node, x: sd.Node) -> str:
    program = compile_program(expr, [x], backend="numba")
    return numba_cache.key_of(numba_cache.module_text(program), program)


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.py"))


def _same(got: Any, want: Any) -> None:
    assert got[0] == want[0]
    for g, w in zip(got[1], want[1], strict=True):
        np.testing.assert_array_equal(g, w)


def test_a_new_process_loads_the_machine_code_from_the_folder(tmp_path: Path) -> None:
    first = _run(tmp_path)
    second = _run(tmp_path)
    for kind in ("", "scalar_", "objmode_"):
        assert first[kind + "hits"] == 0 and first[kind + "misses"] >= 1, kind
        assert second[kind + "hits"] >= 1 and second[kind + "misses"] == 0, kind  # nothing compiled
    assert {k: v for k, v in first.items() if "hits" not in k and "misses" not in k} == \
        {k: v for k, v in second.items() if "hits" not in k and "misses" not in k}
    assert len(_entries(tmp_path)) == 3
    assert Path(first["file"]).parent == tmp_path
    assert list((tmp_path / "__pycache__").glob("*.nbi")), "numba's index is beside the entries"
    # the same numbers as the in-memory compile
    expr, x = _graph()
    value, (grad,) = sd.compile(expr, [x], backend="numba", cache=False)(np.linspace(-1.0, 1.0, 40))
    assert value.hex() == first["value"]
    assert [g.hex() for g in grad.tolist()] == first["grad"]


def test_two_processes_on_an_empty_folder_both_succeed(tmp_path: Path) -> None:
    command = [sys.executable, "-c", SCRIPT, "1.0"]
    runs = [subprocess.Popen(command, env=_environment(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=600) for run in runs]
    for run, (_, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err
    results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert results[0]["value"] == results[1]["value"] and results[0]["grad"] == results[1]["grad"]
    assert len(_entries(tmp_path)) == 3
    assert not list(tmp_path.glob(".*.tmp")), "no temporary file is left behind"
    assert _run(tmp_path)["misses"] == 0  # and what they left is a valid entry


def test_graphs_that_differ_only_in_a_constant_get_their_own_entries(tmp_path: Path) -> None:
    points = np.linspace(-1.0, 1.0, 40)
    results = []
    for scale in (1.0, 2.0):
        expr, x = _graph(scale)
        cached = sd.compile(expr, [x], backend="numba", cache=tmp_path)(points)
        _same(cached, sd.compile(expr, [x], backend="numba", cache=False)(points))
        results.append(cached)
    assert results[0][0] != results[1][0]
    first, second = _entries(tmp_path)
    assert first.read_text() == second.read_text()  # the text alone cannot tell them apart
    assert {_key(*_graph(1.0)), _key(*_graph(2.0))} == {first.stem, second.stem}


def test_the_entry_holds_no_literals_and_the_function_is_the_in_memory_one(tmp_path: Path) -> None:
    expr, x = _graph(size=8)  # a constant small enough to be a literal in the source
    fn = sd.compile(expr, [x], backend="numba", cache=tmp_path)
    plain = sd.compile(expr, [x], backend="numba", cache=False)
    (entry,) = _entries(tmp_path)
    assert "C0 = np.array(" in fn.source.splitlines()[0]
    assert not [line for line in entry.read_text().splitlines() if line.startswith("C0")]  # bound, not printed
    assert "cache=True" in entry.read_text() and "cache=True" not in fn.source
    assert fn.source == plain.source and fn.__source__ == fn.source  # type: ignore[attr-defined]
    point = np.linspace(0.0, 2.0, 8)
    _same(fn(point), plain(point))
    _same(pickled.loads(pickled.dumps(fn))(point), plain(point))


def test_an_entry_is_never_rewritten(tmp_path: Path) -> None:
    expr, x = _graph()
    sd.compile(expr, [x], backend="numba", cache=tmp_path)
    (entry,) = _entries(tmp_path)
    before = entry.stat()
    sd.compile(expr, [x], backend="numba", cache=tmp_path)
    after = entry.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (before.st_ino, before.st_mtime_ns, before.st_size)
    assert before.st_mtime == numba_cache.STAMP


def test_the_folder_comes_from_the_argument_then_the_environment(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYMDIFF_CACHE_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert numba_cache.folder(tmp_path / "given", "numba") == tmp_path / "given"
    assert numba_cache.folder(str(tmp_path / "given"), "numba") == tmp_path / "given"
    assert numba_cache.folder(None, "numba") == numba_cache.folder(True, "numba") == tmp_path / "env"
    monkeypatch.delenv("SYMDIFF_CACHE_DIR")
    assert numba_cache.folder(None, "numba") == tmp_path / "xdg" / "symdiff" / "numba"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert numba_cache.folder(None, "numba") == tmp_path / "home" / ".cache" / "symdiff" / "numba"
    assert numba_cache.folder(False, "numba") is None
    assert numba_cache.folder(None, "numpy") is None


def test_cache_false_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYMDIFF_CACHE_DIR", str(tmp_path / "cache"))
    expr, x = _graph()
    value, _ = sd.compile(expr, [x], backend="numba", cache=False)(np.ones(40))
    assert sd.function([x], expr, backend="numba", cache=False)(np.ones(40)) == value
    assert not (tmp_path / "cache").exists()
    sd.function([x], expr, backend="numba")  # the environment's folder, by default
    assert len(_entries(tmp_path / "cache")) == 1


@pytest.mark.parametrize("bad", [3, 1.5, b"folder", ["folder"], ""])
def test_a_bad_cache_argument_is_refused_by_name(bad: Any) -> None:
    expr, x = _graph()
    for make in (lambda: sd.compile(expr, [x], backend="numba", cache=bad),
                 lambda: sd.function([x], expr, backend="numba", cache=bad)):
        with pytest.raises(sd.ArgumentError, match="cache"):
            make()


@pytest.mark.parametrize("backend", ["numpy", "array_api"])
@pytest.mark.parametrize("cache", [True, False, "folder"])
def test_cache_is_refused_on_other_backends(backend: str, cache: Any, tmp_path: Path) -> None:
    expr, x = _graph()
    with pytest.raises(sd.UnsupportedError, match=r"cache=.*backend='numba' only"):
        sd.compile(expr, [x], backend=backend, cache=cache)
    with pytest.raises(sd.UnsupportedError, match=r"cache=.*backend='numba' only"):
        sd.function([x], expr, backend=backend, cache=cache)
    assert sd.compile(expr, [x], backend=backend, cache=None)(np.ones(40))[0] > 0


def _fallback(folder: Path) -> None:
    """A folder that cannot be written: one warning, then the in-memory compile, silently."""
    expr, x = _graph()
    want = sd.compile(expr, [x], backend="numba", cache=False)(np.ones(40))
    with pytest.warns(UserWarning, match="numba cache.*compiling in memory"):
        fn = sd.compile(expr, [x], backend="numba", cache=folder)
    _same(fn(np.ones(40)), want)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sd.function([x], expr, backend="numba", cache=folder)(np.ones(40)) == want[0]


def test_a_folder_that_cannot_be_made_falls_back_to_memory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a file, not a folder")
    _fallback(tmp_path / "file" / "cache")


def test_a_read_only_folder_falls_back_to_memory(tmp_path: Path) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("this user writes into read-only folders (root)")
        _fallback(folder)
        assert not list(folder.iterdir())
    finally:
        folder.chmod(stat.S_IRWXU)


def test_an_entry_edited_by_hand_is_not_run(tmp_path: Path) -> None:
    expr, x = _graph()
    (tmp_path / f"{_key(expr, x)}.py").write_text("raise SystemExit('edited')\n")
    with pytest.warns(UserWarning, match="holds another program"):
        fn = sd.compile(expr, [x], backend="numba", cache=tmp_path)
    _same(fn(np.ones(40)), sd.compile(expr, [x], backend="numba", cache=False)(np.ones(40)))
