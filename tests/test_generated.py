"""The committed modules under generated/, the command line, and golden source."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import json
import shutil
import subprocess
import sys
import typing
from pathlib import Path

import numpy as np
import pytest

import symdiff as sd
from symdiff.dims import Dim
from symdiff.gallery import GENERATED, baydin, relu_regression

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "generated"
NAMES = [make().name for make in GENERATED]


def load_module(path: Path):
    spec = importlib.util.spec_from_file_location(f"generated_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symdiff", *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize("name", NAMES)
def test_generated_module_imports_only_numpy_and_math(name: str) -> None:
    tree = ast.parse((FOLDER / f"{name}.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    assert imported <= {"numpy", "math", "__future__"}


@pytest.mark.parametrize("name", NAMES)
def test_generated_module_annotations_resolve(name: str) -> None:
    """Every annotation names something the module has: no name used without its import."""
    module = load_module(FOLDER / f"{name}.py")
    functions = [v for v in vars(module).values() if inspect.isfunction(v) and v.__module__ == module.__name__]
    assert name in {f.__name__ for f in functions}
    for function in functions:
        typing.get_type_hints(function)


@pytest.mark.parametrize("make", GENERATED, ids=NAMES)
def test_generated_module_computes_what_compile_computes(make) -> None:
    example = make()
    module = load_module(FOLDER / f"{example.name}.py")
    rng = np.random.default_rng(3)
    point = [rng.uniform(0.2, 0.8, size=_sized(v.shape, 7)) if v.shape else float(rng.uniform(0.5, 2.0))
             for v in example.inputs]
    if example.outputs is not None:
        expected = sd.function(example.inputs, example.outputs)(*point)
        for got, want in zip(getattr(module, example.name)(*point), expected, strict=True):
            np.testing.assert_array_equal(got, want)
        return
    expected_value, expected_grads = sd.compile(example.expr, example.wrt, example.inputs)(*point)
    value, grads = getattr(module, example.name)(*point)
    assert value == expected_value
    for got, want in zip(grads, expected_grads, strict=True):
        np.testing.assert_array_equal(got, want)


def _sized(shape: tuple, n: int) -> tuple[int, ...]:
    """A shape with every named dimension set to ``n``."""
    return tuple(n if isinstance(d, Dim) else d for d in shape)


FRESH_PROCESS = """
import importlib.util, json, sys
import numpy as np
spec = importlib.util.spec_from_file_location("module", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert "symdiff" not in sys.modules
rng = np.random.default_rng(0)
out = {}
for n in (1, 70, 1000):
    x, t = rng.normal(size=n), rng.normal(size=n)
    value, grads = module.relu_regression(0.5, 0.1, -1.2, 0.3, x, t)
    out[n] = [float(value), *map(float, grads)]
print(json.dumps(out))
"""


def test_the_shape_generic_module_runs_in_a_fresh_process_at_three_sizes() -> None:
    """The committed module serves every number of points, without symdiff, as the fixed-shape function does."""
    result = subprocess.run([sys.executable, "-c", FRESH_PROCESS, str(FOLDER / "relu_regression.py")],
                            capture_output=True, text=True, check=True)
    got = json.loads(result.stdout)
    rng = np.random.default_rng(0)
    for n in (1, 70, 1000):
        x, t = rng.normal(size=n), rng.normal(size=n)
        example = relu_regression(n)
        value, grads = sd.compile(example.expr, example.wrt, example.inputs)(0.5, 0.1, -1.2, 0.3, x, t)
        np.testing.assert_allclose(got[str(n)], [value, *grads], rtol=1e-12, atol=1e-15)


def test_a_generated_module_with_a_named_dimension_names_it_on_a_mismatch() -> None:
    module = load_module(FOLDER / "softmax_cross_entropy.py")
    with pytest.raises(ValueError, match=r"argument 'Y': dimension n is 5 here .* but 4 in argument 'X'"):
        module.softmax_cross_entropy(np.ones((4, 3)), np.ones((4, 4)), np.ones((5, 3)))


def test_generated_hessian_matches_differences_of_the_generated_gradient() -> None:
    module = load_module(FOLDER / "helmholtz_hessian.py")
    x0 = np.random.default_rng(5).uniform(0.1, 1.0, 10)
    _, _, hessian = module.helmholtz_hessian(x0)
    eps = 1e-6
    columns = [(module.helmholtz_hessian(x0 + eps * e)[1] - module.helmholtz_hessian(x0 - eps * e)[1]) / (2 * eps)
               for e in np.eye(10)]
    assert np.abs(hessian - np.array(columns).T).max() <= 1e-6 * np.abs(hessian).max()
    assert "over reverse, identity-seeded" in (FOLDER / "helmholtz_hessian.py").read_text(encoding="utf-8")


def test_generated_jacobian_is_forward_mode_and_exact() -> None:
    module = load_module(FOLDER / "decay_jacobian.py")
    assert "forward mode" in (FOLDER / "decay_jacobian.py").read_text(encoding="utf-8")
    p, t, y = np.array([2.0, 0.7, 0.1]), np.linspace(0, 3, 50), np.zeros(50)
    residuals, jac = module.decay_jacobian(p, t, y)
    decay = np.exp(-p[1] * t)
    np.testing.assert_allclose(residuals, p[0] * decay + p[2], rtol=1e-15)
    np.testing.assert_allclose(jac, np.stack([decay, -p[0] * t * decay, np.ones(50)], axis=1), rtol=1e-15)


def test_generated_module_rejects_a_wrong_shape_with_value_error() -> None:
    module = load_module(FOLDER / "softmax_cross_entropy.py")
    with pytest.raises(ValueError, match="'W'"):
        module.softmax_cross_entropy(np.ones((3, 3)), np.ones((20, 4)), np.ones((20, 3)))
    with pytest.raises(TypeError, match="missing"):
        module.softmax_cross_entropy(np.ones((4, 3)))


def test_regenerate_check_passes_on_the_committed_files() -> None:
    result = run_cli("regenerate", "--check")
    assert result.returncode == 0, result.stderr


def test_regenerate_check_names_a_stale_file(tmp_path: Path) -> None:
    shutil.copytree(FOLDER, tmp_path / "generated")
    stale = tmp_path / "generated" / "baydin.py"
    stale.write_text(stale.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    result = run_cli("regenerate", "--check", "--dir", str(tmp_path / "generated"))
    assert result.returncode == 1
    assert "baydin.py" in result.stderr and "relu_regression" not in result.stderr


def test_regenerate_writes_what_check_accepts(tmp_path: Path) -> None:
    target = tmp_path / "out"
    assert run_cli("regenerate", "--dir", str(target)).returncode == 0
    assert sorted(p.stem for p in target.glob("*.py")) == sorted(NAMES)
    assert run_cli("regenerate", "--check", "--dir", str(target)).returncode == 0


def test_demo_prints_expression_source_numbers_and_sympy_check() -> None:
    result = run_cli("demo")
    assert result.returncode == 0, result.stderr
    for text in ("x1*x2 + log(x1) - sin(x2)", "def baydin(", "11.6520714552", "5.5000000000", "1.7163378145",
                 "SymPy"):
        assert text in result.stdout


BAYDIN_BODY = """\
    # forward sweep
    value = np.log(x1) + x1 * x2 - np.sin(x2)
    # reverse sweep
    bar_x1 = x2 + 1.0 / x1
    bar_x2 = x1 - np.cos(x2)
    return value, (bar_x1, bar_x2)
"""


def test_golden_baydin_source() -> None:
    example = baydin()
    source = sd.compile(example.expr, example.wrt, name="baydin").source
    assert source.startswith("def baydin(x1, x2):\n")
    assert source.endswith(BAYDIN_BODY)


SOFTMAX_BODY = """\
    # forward sweep
    t0 = X.dot(W)
    t1 = t0.max(axis=1, keepdims=True)
    t2 = t0 - t1
    t3 = t2 - _logsumexp(t2, (1,), True)
    value = -((Y * t3).sum(axis=1).sum() / n)
    # reverse sweep
    t4 = -1.0 / np.float64(n)  # VJP of mean
    bar_t2 = t4 * Y + -t4 * Y.sum(axis=1, keepdims=True) * np.exp(t3)
    t5 = np.float64(t0 == t1)  # VJP of max at t1
    bar_W = X.T.dot(bar_t2 - bar_t2.sum(axis=1, keepdims=True) * (t5 / t5.sum(axis=1, keepdims=True)))
    return value, (bar_W,)
"""


def test_golden_softmax_cross_entropy_source() -> None:
    text = (FOLDER / "softmax_cross_entropy.py").read_text(encoding="utf-8")
    assert text.endswith(SOFTMAX_BODY)


def test_large_constants_are_globals_in_memory_and_literals_in_module_files(tmp_path: Path) -> None:
    from symdiff.compiler import compile_program
    from symdiff.source_text import module_text

    x = sd.var("x", shape=(10,))
    A = np.arange(100.0).reshape(10, 10) / 7.0
    f = x @ A @ x + sd.sum(x * np.array([1.0, -2.0, 0.5, 0, 0, 0, 0, 0, 0, 3.0]))
    fn = sd.compile(f, [x], name="quadratic")
    assert "# C0: a float64 array of shape (10, 10)" in fn.source
    path = tmp_path / "quadratic.py"
    path.write_text(module_text(compile_program(f, [x], name="quadratic"), "x A x"), encoding="utf-8")
    module = load_module(path)
    point = np.linspace(-1, 1, 10)
    value, (grad,) = module.quadratic(point)
    expected_value, (expected_grad,) = fn(point)
    assert value == expected_value
    np.testing.assert_array_equal(grad, expected_grad)
    np.testing.assert_allclose(grad, (A + A.T) @ point + [1.0, -2.0, 0.5, 0, 0, 0, 0, 0, 0, 3.0], rtol=1e-13)
