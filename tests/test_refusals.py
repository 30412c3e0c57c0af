"""What symdiff cannot do is refused by name, with the way forward."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff as sd

x = sd.var("x", (3,))


@pytest.mark.parametrize("convert", [float, int, complex])
def test_a_node_has_no_number_value(convert) -> None:
    with pytest.raises(sd.GraphError, match=rf"{convert.__name__}\(\) of a node .*sd\.evaluate"):
        convert(x[0])


def test_np_array_points_to_sd_array_and_np_stack() -> None:
    with pytest.raises(sd.UnsupportedError, match=r"sd\.array\(\[\.\.\.\]\) or np\.stack"):
        np.array([x[0], 1.0])
    with pytest.raises(sd.UnsupportedError, match=r"np\.asarray cannot hold nodes"):
        np.asarray(x)


def test_a_library_that_converts_its_arguments_is_named() -> None:
    scipy_signal = pytest.importorskip("scipy.signal")
    with pytest.raises(sd.UnsupportedError, match=r"^scipy\.signal\.convolve converts its arguments"):
        scipy_signal.convolve(x, np.ones(2))


def test_scipy_functions_that_are_not_ufuncs_point_to_sd_special() -> None:
    special = pytest.importorskip("scipy.special")
    with pytest.raises(sd.UnsupportedError, match=r"^scipy\.special\.logsumexp .*did you mean sd\.special\.logsumexp"):
        special.logsumexp(x)


def test_unsupported_functions_are_named_by_their_module_path() -> None:
    with pytest.raises(sd.UnsupportedError, match=r"^numpy\.linalg\.matrix_rank is not supported"):
        np.linalg.matrix_rank(sd.var("m", (2, 2)))
    with pytest.raises(sd.UnsupportedError, match=r"^numpy\.fft\.rfft is not supported"):
        np.fft.rfft(x)
    with pytest.raises(sd.UnsupportedError, match=r"^numpy\.add\.reduce is not supported"):
        np.add.reduce(x)
    with pytest.raises(sd.UnsupportedError, match=r"^numpy\.sin with \['out'\]"):
        np.sin(x, out=np.zeros(3))
    special = pytest.importorskip("scipy.special")
    with pytest.raises(sd.UnsupportedError, match=r"^scipy\.special\.betainc is not supported"):
        special.betainc(1.0, 2.0, x)


def test_where_with_one_argument_and_jacobian_of_several_variables() -> None:
    with pytest.raises(sd.UnsupportedError, match="indices of true elements"):
        np.where(x > 0)
    with pytest.raises(sd.GraphError, match="call it once per variable"):
        sd.jacobian(x * 2.0, [x, sd.var("y")])
