"""Gauss-Newton least squares with sd.jacobian: fit y = a * exp(-b * t) + c to noisy samples.

The residual vector has 50 entries and the parameters 3, so sd.jacobian picks forward mode:
one directional derivative seeded with the 3 x 3 identity. One generated function returns
the residuals and their Jacobian together.
"""

import numpy as np

import symdiff as sd

TRUE = np.array([2.5, 1.3, 0.5])


def data(points: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 4.0, points)
    return t, TRUE[0] * np.exp(-TRUE[1] * t) + TRUE[2] + rng.normal(scale=0.01, size=points)


def fit(t: np.ndarray, y: np.ndarray, start: np.ndarray, iterations: int = 20) -> tuple[np.ndarray, list[float]]:
    """The fitted parameters, and the sum of squared residuals before each iteration."""
    p = sd.var("p", shape=(3,))
    times, observed = sd.var("t", shape=t.shape), sd.var("y", shape=y.shape)
    residuals = p[0] * sd.exp(-p[1] * times) + p[2] - observed
    model = sd.function([p, times, observed], [residuals, sd.jacobian(residuals, p)], name="residuals_and_jacobian")
    params, history = np.array(start, dtype=float), []
    for _ in range(iterations):
        r, jac = model(params, t, y)
        history.append(float(r @ r))
        step = np.linalg.lstsq(jac, -r, rcond=None)[0]
        params = params + step
        if np.linalg.norm(step) < 1e-12 * (1.0 + np.linalg.norm(params)):
            break
    return params, history


if __name__ == "__main__":
    t, y = data()
    params, history = fit(t, y, np.array([1.0, 1.0, 0.0]))
    print(f"a, b, c = {np.round(params, 4)} (true {TRUE}) after {len(history)} iterations")
    print("sum of squares:", ", ".join(f"{h:.3g}" for h in history))
