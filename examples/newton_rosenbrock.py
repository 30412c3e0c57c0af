"""Newton's method on the Rosenbrock function in 10 dimensions, with sd.hessian.

One generated function returns the value, the gradient and the Hessian together. A damped
Newton step with backtracking (Armijo) starts from x0 = 0 and stops when the gradient norm
falls below 1e-8. Where the Hessian is not positive definite, a multiple of the identity is
added until it is, so every step goes downhill.
"""

import numpy as np

import symdiff as sd

N = 10


def rosenbrock(x: sd.Node) -> sd.Node:
    head, tail = x[:-1], x[1:]
    return sd.sum(100.0 * (tail - head**2) ** 2 + (1.0 - head) ** 2)


def newton(x0: np.ndarray, tolerance: float = 1e-8, max_iterations: int = 40) -> tuple[np.ndarray, int, float]:
    """The minimiser, the iterations taken and the final gradient norm."""
    x = sd.var("x", shape=(N,))
    f = rosenbrock(x)
    (g,) = sd.grad(f, [x])
    value_grad_hessian = sd.function([x], [f, g, sd.hessian(f, x)], name="rosenbrock_newton")
    point = np.array(x0, dtype=float)
    for iteration in range(max_iterations + 1):
        value, gradient, hessian = value_grad_hessian(point)
        norm = float(np.linalg.norm(gradient))
        if norm < tolerance:
            return point, iteration, norm
        step = _descent_direction(hessian, gradient)
        size = 1.0
        while value_grad_hessian(point + size * step)[0] > value + 1e-4 * size * (gradient @ step) and size > 1e-12:
            size /= 2.0
        point = point + size * step
    return point, max_iterations, norm


def _descent_direction(hessian: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    shift = 0.0
    while True:
        try:
            factor = np.linalg.cholesky(hessian + shift * np.eye(len(gradient)))
        except np.linalg.LinAlgError:
            shift = max(2.0 * shift, 1e-3)
            continue
        return -np.linalg.solve(factor.T, np.linalg.solve(factor, gradient))


if __name__ == "__main__":
    solution, iterations, norm = newton(np.zeros(N))
    print(f"{iterations} Newton iterations, gradient norm {norm:.1e}, x = {np.round(solution, 10)}")
