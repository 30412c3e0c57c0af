"""Compiled functions leave nothing behind: their source entry goes when they are collected."""

from __future__ import annotations

import gc
import inspect
import linecache

import numpy as np

import symdiff as sd


def _entries() -> int:
    return sum(1 for name in linecache.cache if name.startswith("<symdiff:"))


def test_a_thousand_compiles_leave_no_linecache_entries() -> None:
    x = sd.var("x", shape=(3,))
    gc.collect()
    before = _entries()
    for k in range(1000):
        fn = sd.compile(sd.sum(sd.sin(x) * float(k)), [x])
        assert fn(np.ones(3))[0] == 3 * np.sin(1.0) * k
    del fn
    gc.collect()
    assert _entries() == before


def test_evaluate_leaves_no_linecache_entries() -> None:
    x = sd.var("x")
    gc.collect()
    before = _entries()
    for k in range(200):
        assert sd.evaluate(x * k, {x: 2.0}) == 2.0 * k
    gc.collect()
    assert _entries() == before


def test_a_live_function_keeps_its_source_for_inspect() -> None:
    x = sd.var("x")
    fn = sd.compile(sd.exp(x), [x])
    gc.collect()
    assert "def value_and_grad(x):" in inspect.getsource(fn)
