"""Products: tensordot, inner, vdot, kron, cross, dot of any rank, and einsum.

Contractions are matrix products (``sd.matmul``, so NumPy's BLAS does the work) between
operands transposed and reshaped so that the summed axes meet; products with nothing to sum
(outer, elementwise, Kronecker) broadcast a multiplication. ``einsum`` takes diagonals first
(``ii->i``), sums axes only one operand has, then contracts two operands at a time, always
the pair whose result is smallest, as NumPy's ``optimize='greedy'`` does.
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence
from typing import Any

import numpy as np

import symdiff.api as sd
from symdiff import interop
from symdiff.compose import stack
from symdiff.errors import ShapeError, UnsupportedError
from symdiff.graph import Node
from symdiff.ops import broadcast_shapes

__all__ = ["cross", "dot", "einsum", "inner", "kron", "tensordot", "vdot"]


def _operand(x: Any, what: str) -> Node:
    return sd._float(sd.as_node(x, what))


def _contract(a: Node, a_axes: Sequence[int], b: Node, b_axes: Sequence[int]) -> Node:
    """Sum ``a`` and ``b`` over paired axes; the result has a's other axes, then b's."""
    free_a = [i for i in range(a.ndim) if i not in a_axes]
    free_b = [i for i in range(b.ndim) if i not in b_axes]
    shape = (*(a.shape[i] for i in free_a), *(b.shape[i] for i in free_b))
    if not a_axes:  # nothing to sum: an outer product by broadcasting
        return sd.reshape(a, (*a.shape, *[1] * b.ndim)) * b
    k = math.prod(a.shape[i] for i in a_axes)
    rows = math.prod(a.shape[i] for i in free_a)
    cols = math.prod(b.shape[i] for i in free_b)
    left = sd.transpose(a, (*free_a, *a_axes))
    right = sd.transpose(b, (*b_axes, *free_b))
    left = sd.reshape(left, (rows, k) if free_a else (k,))
    right = sd.reshape(right, (k, cols) if free_b else (k,))
    return sd.reshape(sd.matmul(left, right), shape)


def tensordot(a: Any, b: Any, axes: Any = 2) -> Node:
    """``np.tensordot``: ``axes`` an int N (a's last N with b's first N), or a pair of axis lists or ints."""
    x, y = _operand(a, "tensordot first argument"), _operand(b, "tensordot second argument")
    items = sd._items(axes)
    if items is None:
        n = sd._int(axes, "tensordot: axes")
        if n < 0 or n > x.ndim or n > y.ndim:
            raise ShapeError(f"tensordot: axes={n} needs both operands to have at least {n} dimensions, got "
                             f"{x.shape} and {y.shape}")
        pairs_a, pairs_b = list(range(x.ndim - n, x.ndim)), list(range(n))
    else:
        if len(items) != 2:
            raise ShapeError(f"tensordot: axes must be an int or a pair of axis sequences, got {sd._shown(axes)}")
        lists = [sd._items(side) for side in items]
        side_a = list(lists[0]) if lists[0] is not None else [items[0]]
        side_b = list(lists[1]) if lists[1] is not None else [items[1]]
        if len(side_a) != len(side_b):
            raise ShapeError(f"tensordot: axes {sd._shown(axes)} pair {len(side_a)} axes with {len(side_b)}")
        pairs_a = [sd._axis(i, x, "tensordot") for i in side_a]
        pairs_b = [sd._axis(i, y, "tensordot") for i in side_b]
        if len(set(pairs_a)) != len(pairs_a) or len(set(pairs_b)) != len(pairs_b):
            raise ShapeError(f"tensordot: repeated axis in axes {sd._shown(axes)}")
    for i, j in zip(pairs_a, pairs_b, strict=True):
        if x.shape[i] != y.shape[j]:
            raise ShapeError(f"tensordot: shape mismatch for sum: axis {i} of {x.shape} against axis {j} of {y.shape}")
    return _contract(x, pairs_a, y, pairs_b)


def dot(a: Any, b: Any) -> Node:
    """``np.dot``: a product with a scalar, else a sum over a's last axis and b's second-to-last."""
    x, y = _operand(a, "dot first argument"), _operand(b, "dot second argument")
    if x.ndim == 0 or y.ndim == 0:
        return x * y
    if x.ndim <= 2 and y.ndim <= 2:
        if x.shape[-1] != y.shape[0]:
            raise ShapeError(f"dot: shapes {x.shape} and {y.shape} not aligned")
        return sd.matmul(x, y)
    inner_b = max(y.ndim - 2, 0)
    if x.shape[-1] != y.shape[inner_b]:
        raise ShapeError(f"dot: shapes {x.shape} and {y.shape} not aligned")
    return _contract(x, [x.ndim - 1], y, [inner_b])


def inner(a: Any, b: Any) -> Node:
    """``np.inner``: a sum over the last axes of both (a product with a scalar)."""
    x, y = _operand(a, "inner first argument"), _operand(b, "inner second argument")
    if x.ndim == 0 or y.ndim == 0:
        return x * y
    if x.shape[-1] != y.shape[-1]:
        raise ShapeError(f"inner: the last axes of {x.shape} and {y.shape} differ")
    return _contract(x, [x.ndim - 1], y, [y.ndim - 1])


def vdot(a: Any, b: Any) -> Node:
    """``np.vdot``: both flattened, then their dot product (real numbers: no conjugate)."""
    x, y = _operand(a, "vdot first argument"), _operand(b, "vdot second argument")
    if x.size != y.size:
        raise ShapeError(f"vdot: arrays of {x.size} and {y.size} elements")
    return sd.matmul(sd.reshape(x, (x.size,)), sd.reshape(y, (y.size,)))


def kron(a: Any, b: Any) -> Node:
    """``np.kron``: every element of ``a`` times the whole of ``b``, block by block."""
    x, y = _operand(a, "kron first argument"), _operand(b, "kron second argument")
    ndim = max(x.ndim, y.ndim)
    sa = (1,) * (ndim - x.ndim) + x.shape
    sb = (1,) * (ndim - y.ndim) + y.shape
    spread_a = sd.reshape(x, tuple(d for s in sa for d in (s, 1)))
    spread_b = sd.reshape(y, tuple(d for s in sb for d in (1, s)))
    return sd.reshape(spread_a * spread_b, tuple(p * q for p, q in zip(sa, sb, strict=True)))


def cross(a: Any, b: Any, axisa: Any = -1, axisb: Any = -1, axisc: Any = -1, axis: Any = None) -> Node:
    """``np.cross`` of 3-vectors (or 2-vectors, whose third component is 0) along the given axes."""
    x, y = _operand(a, "cross first argument"), _operand(b, "cross second argument")
    if axis is not None:
        axisa = axisb = axisc = axis
    if x.ndim == 0 or y.ndim == 0:
        raise ShapeError("cross needs arrays of at least one dimension")
    ax, bx = sd._axis(axisa, x, "cross: axisa"), sd._axis(axisb, y, "cross: axisb")
    if x.shape[ax] not in (2, 3) or y.shape[bx] not in (2, 3):
        raise ShapeError(f"cross: incompatible dimensions for cross product (dimension must be 2 or 3), got "
                         f"{x.shape[ax]} and {y.shape[bx]}")
    u = [sd.getitem(x, (*[slice(None)] * ax, i)) for i in range(x.shape[ax])]
    v = [sd.getitem(y, (*[slice(None)] * bx, i)) for i in range(y.shape[bx])]
    z = u[0] * v[1] - u[1] * v[0]
    if len(u) == len(v) == 2:
        return z
    if len(u) == len(v) == 3:
        parts = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], z]
    elif len(u) == 2:  # a's third component is 0
        parts = [u[1] * v[2], -(u[0] * v[2]), z]
    else:  # b's third component is 0
        parts = [-(u[2] * v[1]), u[2] * v[0], z]
    shape = broadcast_shapes(*(p.shape for p in parts))
    at = sd._axis(axisc, z, "cross: axisc", ndim=len(shape) + 1)
    return stack([sd.broadcast_to(p, shape) for p in parts], axis=at)


# ---- einsum ---------------------------------------------------------------------------------

Labels = tuple[str, ...]


def einsum(*operands: Any, out: Any = None, optimize: Any = False, dtype: Any = None, order: Any = "K",
           casting: Any = "safe") -> Node:
    """``np.einsum``: explicit, implicit and interleaved (``a, [0, 1], b, [1, 2], [0, 2]``) forms,
    ``...``, repeated indices in one operand (diagonals, traces), any number of operands.

    Operands are contracted pairwise, smallest intermediate first, whatever ``optimize`` says.
    """
    if out is not None:
        raise UnsupportedError(f"einsum: the keyword out= is not supported (got {sd._shown(out)})")
    if dtype is not None and np.dtype(dtype) != np.float64:
        raise UnsupportedError(f"einsum: the keyword dtype= must be None or float64, got {sd._shown(dtype)}")
    if not operands:
        raise ShapeError("einsum needs subscripts and at least one operand")
    inputs, output, arrays = _parse(operands)
    nodes = [_operand(x, f"einsum operand {i}") for i, x in enumerate(arrays)]
    labels = [_expand(spec, node, i) for i, (spec, node) in enumerate(zip(inputs, nodes, strict=True))]
    ellipsis = _ellipsis_labels(labels)
    if output is None:  # implicit: broadcast axes, then the letters used once, in order
        every = [c for ls in labels for c in ls if c not in ellipsis]
        out_labels: Labels = (*ellipsis, *sorted(c for c in set(every) if every.count(c) == 1))
    else:
        out_labels = _expand_output(output, ellipsis)
    sizes = _sizes(labels, nodes)
    for c in out_labels:
        if c not in sizes:
            raise ShapeError(f"einsum: output subscript {c!r} does not appear in the inputs")
    if len(set(out_labels)) != len(out_labels):
        raise ShapeError(f"einsum: output subscripts {''.join(out_labels)!r} repeat an index")
    terms = [_diagonal(node, ls) for node, ls in zip(nodes, labels, strict=True)]
    while True:
        terms = [_sum_lonely(node, ls, _needed(terms, k, out_labels)) for k, (node, ls) in enumerate(terms)]
        if len(terms) == 1:
            break
        i, j = _cheapest_pair(terms, out_labels, sizes)
        kept = _needed([t for k, t in enumerate(terms) if k not in (i, j)], -1, out_labels)
        merged = _pair(terms[i], terms[j], kept, sizes)
        terms = [t for k, t in enumerate(terms) if k not in (i, j)] + [merged]
    node, ls = terms[0]
    node, ls = _broadcast(node, ls, sizes)
    return sd.transpose(node, tuple(ls.index(c) for c in out_labels)) if ls != out_labels else node


def _parse(operands: Sequence[Any]) -> tuple[list[str | list[Any]], Any, list[Any]]:
    """(subscripts of each operand, the output's or None, the arrays), from either calling form."""
    first = operands[0]
    if isinstance(first, str):
        text = first.replace(" ", "")
        left, arrow, right = text.partition("->")
        specs: list[str | list[Any]] = list(left.split(","))
        arrays = list(operands[1:])
        if len(specs) != len(arrays):
            raise ShapeError(f"einsum: subscripts {first!r} name {len(specs)} operands, got {len(arrays)}")
        for s in [*specs, right]:
            assert isinstance(s, str)
            if not all(c.isalpha() and c.isascii() for c in s.replace("...", "")) or s.count("...") > 1:
                raise ShapeError(f"einsum subscripts {first!r}: letters and at most one '...' per operand")
        return specs, (right if arrow else None), arrays
    if isinstance(first, Node) or not isinstance(first, str):
        pairs = list(operands)
        output = pairs.pop() if len(pairs) % 2 == 1 else None
        arrays, specs = pairs[0::2], [_sublist(s) for s in pairs[1::2]]
        if not arrays:
            raise ShapeError("einsum: the interleaved form needs operand, sublist pairs")
        return specs, (_sublist(output) if output is not None else None), arrays
    raise UnsupportedError(f"einsum: subscripts must be a string or sublists, got {sd._shown(first)}")


def _sublist(spec: Any) -> list[Any]:
    items = sd._items(spec)
    if items is None:
        raise UnsupportedError("einsum: subscripts must be a string such as 'ij,jk->ik', or each operand followed by "
                               f"a sublist of ints and Ellipsis; got the sublist {sd._shown(spec)}")
    letters: list[Any] = []
    for item in items:
        if item is Ellipsis:
            letters.append(Ellipsis)
            continue
        k = sd._int(item, "einsum: a sublist label")
        if not 0 <= k < 52:
            raise ShapeError(f"einsum: sublist labels must be in [0, 52), got {k}")
        letters.append(string.ascii_uppercase[k] if k < 26 else string.ascii_lowercase[k - 26])
    return letters


def _pieces(spec: str | list[Any]) -> list[Any]:
    if isinstance(spec, str):
        before, dots, after = spec.partition("...")
        return [*before, *([Ellipsis] if dots else []), *after]
    return list(spec)


def _expand(spec: str | list[Any], node: Node, index: int) -> Labels:
    """The operand's labels with ``...`` spelled out as broadcast labels (the last ones line up)."""
    items = _pieces(spec)
    named = [c for c in items if c is not Ellipsis]
    if Ellipsis not in items:
        if len(named) != node.ndim:
            raise ShapeError(f"einsum: operand {index} has {node.ndim} dimensions but {len(named)} subscripts")
        return tuple(named)
    extra = node.ndim - len(named)
    if extra < 0:
        raise ShapeError(f"einsum: operand {index} has {node.ndim} dimensions, fewer than its {len(named)} subscripts")
    at = items.index(Ellipsis)
    dots = tuple(f"...{k}" for k in range(extra))[::-1]  # "...0" is the last broadcast axis
    return (*named[:at], *dots, *named[at:])


def _ellipsis_labels(labels: Sequence[Labels]) -> Labels:
    deepest = max((sum(1 for c in ls if c.startswith("...")) for ls in labels), default=0)
    return tuple(f"...{k}" for k in range(deepest))[::-1]


def _expand_output(spec: str | list[Any], ellipsis: Labels) -> Labels:
    items = _pieces(spec)
    if Ellipsis not in items and ellipsis:
        raise ShapeError("einsum: the inputs have '...' axes, so the output subscripts need '...' too")
    result: list[str] = []
    for c in items:
        result.extend(ellipsis if c is Ellipsis else [c])
    return tuple(result)


def _sizes(labels: Sequence[Labels], nodes: Sequence[Node]) -> dict[str, int]:
    """Each label's length; a length of 1 broadcasts against the others, as in NumPy."""
    sizes: dict[str, int] = {}
    for ls, node in zip(labels, nodes, strict=True):
        for c, d in zip(ls, node.shape, strict=True):
            known = sizes.setdefault(c, d)
            if known != d:
                if 1 not in (known, d):
                    raise ShapeError(f"einsum: index {c.replace('...', '... axis ')!r} has sizes {known} and {d}")
                sizes[c] = max(known, d)
    return sizes


def _diagonal(node: Node, ls: Labels) -> tuple[Node, Labels]:
    """Repeated labels in one operand (``ii``): the diagonal, by reshapes and plain slices.

    In C order the diagonal of k axes of length n sits every s = 1 + n + ... + n**(k-1)
    elements: the first n**k - 1 as rows of s hold it in their first column, and the
    last element is the last of it. No stepped slice, so every backend takes its gradient.
    """
    while len(set(ls)) != len(ls):
        c = next(c for c in ls if ls.count(c) > 1)
        at = [i for i, x in enumerate(ls) if x == c]
        n = node.shape[at[0]]
        if any(node.shape[i] != n for i in at):
            raise ShapeError(f"einsum: the repeated index {c!r} has sizes {[node.shape[i] for i in at]}")
        rest = [i for i in range(len(ls)) if i not in at]
        lead = tuple(node.shape[i] for i in rest)
        flat = sd.reshape(sd.transpose(node, (*rest, *at)), (*lead, n ** len(at)))
        if n > 1:
            step = sum(n**p for p in range(len(at)))
            rows = sd.reshape(sd.getitem(flat, (..., slice(0, (n - 1) * step))), (*lead, n - 1, step))
            first = sd.getitem(rows, (..., 0))
            flat = sd.concatenate([first, sd.getitem(flat, (..., slice(-1, None)))], axis=-1)
        elif n == 0:
            flat = sd.reshape(flat, (*lead, 0))
        node, ls = flat, (*(ls[i] for i in rest), c)
    return node, ls


def _needed(terms: Sequence[tuple[Node, Labels]], skip: int, out_labels: Labels) -> set[str]:
    """Labels another term or the output still uses."""
    return {c for k, (_, ls) in enumerate(terms) if k != skip for c in ls} | set(out_labels)


def _sum_lonely(node: Node, ls: Labels, needed: set[str]) -> tuple[Node, Labels]:
    lonely = tuple(i for i, c in enumerate(ls) if c not in needed)
    if not lonely:
        return node, ls
    return sd.sum(node, axis=lonely), tuple(c for c in ls if c in needed)


def _cheapest_pair(terms: Sequence[tuple[Node, Labels]], out_labels: Labels, sizes: dict[str, int]) -> tuple[int, int]:
    best: tuple[int, int, int, int] | None = None
    for i in range(len(terms)):
        for j in range(i + 1, len(terms)):
            others = _needed([t for k, t in enumerate(terms) if k not in (i, j)], -1, out_labels)
            union = set(terms[i][1]) | set(terms[j][1])
            size = math.prod(sizes[c] for c in union if c in others)
            cost = math.prod(sizes[c] for c in union)
            if best is None or (size, cost) < best[:2]:
                best = (size, cost, i, j)
    assert best is not None
    return best[2], best[3]


def _broadcast(node: Node, ls: Labels, sizes: dict[str, int]) -> tuple[Node, Labels]:
    full = tuple(sizes[c] for c in ls)
    return (sd.broadcast_to(node, full) if node.shape != full else node), ls


def _pair(first: tuple[Node, Labels], second: tuple[Node, Labels], kept: set[str],
          sizes: dict[str, int]) -> tuple[Node, Labels]:
    """Two terms as one: shared kept labels are batch axes, shared others are summed by matmul."""
    (a, la), (b, lb) = _broadcast(*first, sizes), _broadcast(*second, sizes)
    batch = [c for c in la if c in lb and c in kept]
    summed = [c for c in la if c in lb and c not in kept]
    only_a = [c for c in la if c not in lb]
    only_b = [c for c in lb if c not in la]
    if not summed:  # nothing to sum: a broadcast product
        labels = (*batch, *only_a, *only_b)
        a2 = sd.reshape(sd.transpose(a, tuple(la.index(c) for c in (*batch, *only_a))),
                        tuple(sizes[c] for c in (*batch, *only_a)) + (1,) * len(only_b))
        b2 = sd.transpose(b, tuple(lb.index(c) for c in (*batch, *only_b)))
        b2 = sd.reshape(b2, tuple(sizes[c] for c in batch) + (1,) * len(only_a) + tuple(sizes[c] for c in only_b))
        return a2 * b2, labels
    if not batch:
        return _contract(a, [la.index(c) for c in summed], b, [lb.index(c) for c in summed]), (*only_a, *only_b)

    def size(cs: Sequence[str]) -> int:
        return math.prod(sizes[c] for c in cs)

    left = sd.reshape(sd.transpose(a, tuple(la.index(c) for c in (*batch, *only_a, *summed))),
                      (size(batch), size(only_a), size(summed)))
    right = sd.reshape(sd.transpose(b, tuple(lb.index(c) for c in (*batch, *summed, *only_b))),
                       (size(batch), size(summed), size(only_b)))
    labels = (*batch, *only_a, *only_b)
    return sd.reshape(sd.matmul(left, right), tuple(sizes[c] for c in labels)), labels


interop.provide({"tensordot": tensordot, "inner": inner, "vdot": vdot, "kron": kron, "cross": cross,
                 "dot": dot, "einsum": einsum})
