"""The command line, through subprocesses: show, generate, dot, bench, --help and bad input."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ["a-b", "a_b", 'say "hi"', "back\\slash\\", "two\nlines", "cr\rhere", "} digraph { x -> y; //"]
SPEC_FILE = f"HOSTILE = {HOSTILE!r}\n" + '''
import numpy as np
import symdiff as sd


def baydin():
    x1, x2 = sd.var("x1"), sd.var("x2")
    return sd.log(x1) + x1 * x2 - sd.sin(x2), [x1, x2]


def with_data():
    w, x = sd.var("w", shape=(3,)), sd.var("x", shape=(3,))
    return sd.sum(sd.tanh(w * x) ** 2), [w], [w, x]


def minibatch():
    w, x, y = sd.var("w", shape=(3,)), sd.var("x", shape=("batch", 3)), sd.var("y", shape=("batch",))
    return sd.mean((sd.tanh(x @ w) - y) ** 2), [w], [w, x, y]


def wrong():
    return 3


def boom():
    return 1 / 0


def no_inputs():
    x = sd.var("x")
    return x * x, [x], None


def sum_wrt():
    x, y = sd.var("x"), sd.var("y")
    return x * y, [x + y]


def twice():
    x = sd.var("x")
    return x * x, [x, x]


def number():
    x = sd.var("x")
    return x * x, 2.0


def hostile():
    xs = [sd.var(label) for label in HOSTILE]
    return sum(x * x for x in xs), xs
'''


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symdiff", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "problems.py").write_text(SPEC_FILE, encoding="utf-8")
    (tmp_path / "bad_syntax.py").write_text("def f(:\n", encoding="utf-8")
    (tmp_path / "bad_import.py").write_text("import no_such_module_here\n", encoding="utf-8")
    (tmp_path / "a_folder").mkdir()
    return tmp_path


def test_show_prints_the_generated_source(folder: Path) -> None:
    done = run("show", "problems.py:baydin", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("def baydin(x1, x2):") and "bar_x2 = x1 - np.cos(x2)" in done.stdout


def test_generate_writes_an_importable_module(folder: Path) -> None:
    done = run("generate", "problems.py:with_data", "-o", "out/loss.py", cwd=folder)
    assert done.returncode == 0, done.stderr
    spec = importlib.util.spec_from_file_location("loss", folder / "out" / "loss.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    w, x = np.array([0.1, -0.2, 0.3]), np.array([1.0, 2.0, 3.0])
    value, (grad,) = module.loss(w, x)
    t = np.tanh(w * x)
    np.testing.assert_allclose(value, np.sum(t**2), rtol=1e-15)
    np.testing.assert_allclose(grad, 2 * t * (1 - t**2) * x, rtol=1e-14)
    header = (folder / "out" / "loss.py").read_text(encoding="utf-8").split('"""')[1]
    assert "regenerate with `symdiff generate problems.py:with_data -o out/loss.py`" in header


GENERIC_CALLER = """
import sys
import numpy as np
sys.path.insert(0, "out")
import step
assert "symdiff" not in sys.modules
rng = np.random.default_rng(1)
w = np.array([0.1, -0.2, 0.3])
for n in (1, 32, 500):
    x, y = rng.normal(size=(n, 3)), rng.normal(size=n)
    value, (grad,) = step.step(w, x, y)
    r = np.tanh(x @ w) - y
    assert abs(value - np.mean(r ** 2)) <= 1e-13 * max(1.0, value), (n, value)
    assert np.allclose(grad, x.T @ (2 * r * (1 - np.tanh(x @ w) ** 2)) / n, rtol=1e-12, atol=1e-15), n
try:
    step.step(w, np.ones((4, 3)), np.ones(5))
except ValueError as error:
    print(error)
"""


def test_generate_writes_a_module_for_every_size_of_a_named_dimension(folder: Path) -> None:
    done = run("generate", "problems.py:minibatch", "-o", "out/step.py", cwd=folder)
    assert done.returncode == 0, done.stderr
    text = (folder / "out" / "step.py").read_text(encoding="utf-8")
    assert "batch = x.shape[0]" in text and "Dimensions (sizes read from the arguments on every call):" in text
    called = subprocess.run([sys.executable, "-c", GENERIC_CALLER], capture_output=True, text=True, cwd=folder)
    assert called.returncode == 0, called.stderr
    assert "argument 'y': dimension batch is 5 here" in called.stdout


def test_generate_with_the_array_api_backend(folder: Path) -> None:
    done = run("generate", "problems.py:with_data", "-o", "out/loss_xp.py", "--backend", "array_api", cwd=folder)
    assert done.returncode == 0, done.stderr
    text = (folder / "out" / "loss_xp.py").read_text(encoding="utf-8")
    assert "import array_api_compat" in text and "xp.tanh(" in text and "np.tanh(" not in text


def test_generate_with_the_numba_backend_caches_its_machine_code(folder: Path) -> None:
    pytest.importorskip("numba")
    done = run("generate", "problems.py:with_data", "-o", "out/loss_nb.py", "--backend", "numba", cwd=folder)
    assert done.returncode == 0, done.stderr
    text = (folder / "out" / "loss_nb.py").read_text(encoding="utf-8")
    assert "import numba" in text and "cache=True" in text and "def loss_nb(w, x):" in text
    program = ("import sys, time; sys.path.insert(0, 'out'); start = time.perf_counter(); import loss_nb; "
               "import numpy as np; v, (g,) = loss_nb.loss_nb(np.array([0.1, -0.2, 0.3]), np.array([1.0, 2.0, 3.0])); "
               "print(v, time.perf_counter() - start)")
    first = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=folder)
    assert first.returncode == 0, first.stderr
    assert list((folder / "out" / "__pycache__").glob("loss_nb*.nbi")), "numba wrote no cache index"
    second = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=folder)
    t = np.tanh(np.array([0.1, -0.2, 0.3]) * np.array([1.0, 2.0, 3.0]))
    assert float(second.stdout.split()[0]) == pytest.approx(np.sum(t**2), rel=1e-14)


def test_dot_writes_the_graph_and_its_adjoints(folder: Path) -> None:
    plain = run("dot", "problems.py:baydin", cwd=folder)
    both = run("dot", "problems.py:baydin", "--grad", "-o", "graph.dot", cwd=folder)
    assert plain.returncode == 0 and both.returncode == 0, plain.stderr + both.stderr
    assert plain.stdout.startswith("digraph symdiff {") and 'label="sin"' in plain.stdout
    assert "cos" not in plain.stdout
    text = (folder / "graph.dot").read_text(encoding="utf-8")
    assert 'label="cos", shape=box, style=filled' in text and 'label="bar_x1"' in text


def test_dot_ids_are_unique_and_labels_stay_inside_their_quotes(folder: Path) -> None:
    done = run("dot", "problems.py:hostile", "--grad", cwd=folder)
    assert done.returncode == 0, done.stderr
    quoted = re.compile(r'"(?:[^"\\\n]|\\.)*"')
    lines = quoted.sub("Q", done.stdout).splitlines()
    assert lines[0] == "digraph symdiff {" and lines[-1] == "}"
    assert all(re.fullmatch(r"  [\w =,\[\]>-]+;", line) for line in lines[1:-1]), lines
    outputs = [line.split()[0] for line in lines if "fontcolor=" in line]
    assert len(outputs) == len(set(outputs)) == 1 + len(HOSTILE)
    labels = {re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], text[1:-1])
              for text in quoted.findall(done.stdout)}
    hostile = [label.replace("\r", "\n") for label in HOSTILE]
    assert {*hostile, *(f"bar_{label}" for label in hostile)} <= labels


def test_dot_renders_svg_or_says_how_to_install_graphviz(folder: Path) -> None:
    done = run("dot", "problems.py:baydin", "-o", "graph.svg", cwd=folder)
    if shutil.which("dot") is None:
        assert done.returncode == 1 and "apt install graphviz" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    else:
        assert done.returncode == 0 and (folder / "graph.svg").read_text(encoding="utf-8").lstrip().startswith("<")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "problems.py"), "SPEC must be path/to/file.py:function"),
        (("show", "missing.py:f"), "no such file"),
        (("show", "problems.py:nothing"), "has no function 'nothing'"),
        (("generate", "problems.py:wrong", "-o", "x.py"), "must return (expr, wrt)"),
        (("show", "bad_syntax.py:f"), "cannot import bad_syntax.py: SyntaxError: "),
        (("show", "bad_import.py:f"),
         "cannot import bad_import.py: ModuleNotFoundError: No module named 'no_such_module_here' "
         "(bad_import.py, line 1)"),
        (("show", "problems.py:boom"),
         "problems.py:boom raised ZeroDivisionError: division by zero (problems.py, line "),
        (("show", "problems.py:no_inputs"), "problems.py:no_inputs: inputs must be a list of variables"),
        (("generate", "problems.py:baydin", "-o", "a_folder"), "cannot write a_folder: Is a directory"),
        (("dot", "problems.py:baydin", "-o", "missing/graph.dot"),
         "cannot write missing/graph.dot: No such file or directory"),
        (("regenerate", "--dir", "problems.py"), "--dir problems.py is a file, not a folder"),
        (("regenerate", "--check", "--dir", "problems.py"), "--dir problems.py is a file, not a folder"),
        (("dot", "problems.py:sum_wrt", "--grad"), "wrt[0] must be a variable made by sd.var, got add(x, y)"),
        (("dot", "problems.py:twice", "--grad"), "wrt[1]: variable 'x' is listed twice"),
        (("dot", "problems.py:number", "--grad"), "wrt must be a list of variables, got float"),
    ],
    ids=["no name", "no file", "no function", "wrong return", "syntax error", "import error", "spec raises",
         "inputs None", "output is a folder", "no output folder", "dir is a file", "check dir is a file",
         "wrt expression", "wrt twice", "wrt float"],
)
def test_bad_input_exits_1_with_one_line(folder: Path, args, message: str) -> None:
    done = run(*args, cwd=folder)
    assert done.returncode == 1 and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["demo", "regenerate", "show", "generate", "dot", "bench"])
def test_every_command_has_help(command: str, folder: Path) -> None:
    done = run(command, "--help", cwd=folder)
    assert done.returncode == 0 and "usage:" in done.stdout


def test_bench_runs_the_benchmark_script(folder: Path) -> None:
    done = run("bench", "--help", cwd=ROOT)
    assert done.returncode == 0 and "--sympy-limit" in done.stdout
