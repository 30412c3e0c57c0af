"""A generated gradient over a Dask cluster: Baydin's example on 4e6 chunked elements.

    pip install -e ".[dask]" "dask[distributed]"
    python examples/dask_cluster.py

The array API backend writes code that takes its namespace from its arguments. Given Dask
arrays, the generated function builds a lazy task graph; a ``LocalCluster`` (two worker
processes here) computes the value and both gradients chunk by chunk, and the script compares
them with the NumPy backend on the same data.
"""

from __future__ import annotations

import numpy as np

import symdiff as sd

N, CHUNK = 4_000_000, 500_000


def problem() -> tuple[sd.Node, list[sd.Node]]:
    x1, x2 = sd.var("x1", shape=(N,)), sd.var("x2", shape=(N,))
    return sd.sum(sd.log(x1) + x1 * x2 - sd.sin(x2)), [x1, x2]


def points(k):
    """x1 in [0.5, 2) and x2 in [-3, 3), spread by two irrational strides; NumPy or Dask alike."""
    return 0.5 + 1.5 * ((k * 0.6180339887498949) % 1.0), -3.0 + 6.0 * ((k * 0.4142135623730951) % 1.0)


def run(workers: int = 2) -> tuple[float, float]:
    """The largest relative differences from NumPy: of the value, and of the gradients."""
    import dask.array as da
    from dask.distributed import Client, LocalCluster

    expr, wrt = problem()
    on_cluster = sd.compile(expr, wrt, backend="array_api")
    with LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        # the data are made on the workers, chunk by chunk, by the same formulas as below
        value, grads = on_cluster(*points(da.arange(N, chunks=CHUNK, dtype=np.float64)))
        computed = client.compute([value, *grads], sync=True)
    expected_value, expected_grads = sd.compile(expr, wrt)(*points(np.arange(N, dtype=np.float64)))
    value_error = abs(float(computed[0]) - expected_value) / abs(expected_value)
    grad_error = max(float(np.abs(np.asarray(g) - e).max() / np.abs(e).max())
                     for g, e in zip(computed[1:], expected_grads, strict=True))
    return value_error, grad_error


if __name__ == "__main__":
    value_error, grad_error = run()
    print(f"{N:.0e} elements in chunks of {CHUNK:.0e} on a 2-worker LocalCluster: value differs from NumPy "
          f"by {value_error:.1e} (relative), gradients by {grad_error:.1e}")
