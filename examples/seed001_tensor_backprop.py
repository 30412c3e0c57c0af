"""Seed 001: backprop through tensors: add, reshape, transpose, sum, matmul and a two-output split.

As in the article, calling backward on a non-scalar output seeds ones, which is the
gradient of sd.sum(output).
"""

import numpy as np

import symdiff as sd

X0 = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


def grad_of_sum(build, *values):
    """Gradients of sum(build(*vars)) at ``values``: the article's Backward() with ones."""
    variables = [sd.var(f"v{i}", shape=np.shape(v)) for i, v in enumerate(values)]
    out = build(*variables)
    _, grads = sd.compile(sd.sum(out), wrt=variables)(*values)
    return sd.evaluate(out, dict(zip(variables, values, strict=True))), grads


def main() -> None:
    y = X0 * 10
    print("add:", grad_of_sum(lambda a, b: a + b, X0, y))
    print("reshape:", grad_of_sum(lambda a: sd.reshape(a, (6,)), X0))
    print("transpose:", grad_of_sum(lambda a: sd.transpose(a), X0))
    print("sum:", grad_of_sum(lambda a: sd.sum(a), X0))
    rng = np.random.default_rng(0)
    out, (gx, gw) = grad_of_sum(lambda a, b: a @ b, rng.standard_normal((2, 3)), rng.standard_normal((3, 4)))
    print("matmul shapes:", out.shape, gx.shape, gw.shape)

    def separate(a):
        top, bottom = sd.split(a, 2, axis=0)
        return top + bottom

    print("split then add:", grad_of_sum(separate, X0))


if __name__ == "__main__":
    main()
