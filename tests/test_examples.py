"""The transformation examples in examples/: Newton with sd.hessian, Gauss-Newton with sd.jacobian."""

from __future__ import annotations

import numpy as np
from test_seeds import load


def test_newton_reaches_the_rosenbrock_minimum_within_40_iterations() -> None:
    example = load("newton_rosenbrock")
    solution, iterations, norm = example.newton(np.zeros(10))
    assert iterations <= 40 and norm < 1e-8
    np.testing.assert_allclose(solution, np.ones(10), atol=1e-9)


def test_gauss_newton_recovers_the_decay_parameters() -> None:
    example = load("gauss_newton")
    t, y = example.data()
    params, history = example.fit(t, y, np.array([1.0, 1.0, 0.0]))
    np.testing.assert_allclose(params, example.TRUE, atol=0.03)
    assert history[-1] < 0.005 < history[0] and len(history) < 20
    # at the fit, the normal equations hold: J^T r = 0, with J from central differences
    residual = lambda p: p[0] * np.exp(-p[1] * t) + p[2] - y
    eps = 1e-7
    jac = np.array([(residual(params + eps * e) - residual(params - eps * e)) / (2 * eps) for e in np.eye(3)]).T
    assert np.abs(jac.T @ residual(params)).max() < 1e-8


def test_relu_regression_trains_and_draws_its_figure(tmp_path) -> None:
    import subprocess
    import sys
    from pathlib import Path

    import matplotlib.image

    script = Path(__file__).resolve().parent.parent / "examples" / "relu_regression.py"
    image = tmp_path / "relu.png"
    done = subprocess.run([sys.executable, str(script), "--plot", str(image)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "step    0: sum of squared residuals 21228.1" in done.stdout
    assert "step 2000: sum of squared residuals 115.3" in done.stdout
    pixels = matplotlib.image.imread(image)
    assert pixels.shape[:2] == (400, 600)
    rgb = pixels[..., :3].reshape(-1, 3)
    for color in ([1.0, 0.0, 0.0], [0.0, 0.5, 0.0], [0.0, 0.0, 1.0]):  # targets, initial fit, trained fit
        assert np.any(np.all(np.abs(rgb - color) < 0.05, axis=1)), color


def test_a_generated_gradient_on_a_dask_local_cluster() -> None:
    example = load("dask_cluster")
    value_error, grad_error = example.run(workers=2)
    assert value_error <= 1e-12 and grad_error <= 1e-12
