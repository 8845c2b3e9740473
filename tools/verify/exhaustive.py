"""Race-freedom and coverage by enumerating a launch's programs, where a whole-grid query is
beyond Z3 (a tile order with divisions by values that vary per program, say).

A recorded launch is concrete: its grid, its shapes and every loop's trip count are numbers.
So the set of elements a store writes is finite, and it is computed here exactly: the store's
offset, mask and path conditions (the Z3 terms the symbolic executor built) are evaluated with
numpy over every (program, loop iteration) and every lane, with Z3's integer semantics
(Euclidean division and remainder). Block-only subterms stay one value per block (broadcast),
so a tile's cost is in the few terms that mix in the lanes. A point is written when its mask
and context hold. Then: an element written by two programs is a race (the two programs are the
counterexample), an element of an output written by none is a coverage gap. Nothing is sampled:
either every point is evaluated and the answer is a proof or a counterexample, or the launch is
too large (`MAX_POINTS`, `MAX_EXTENT`) or a term is not evaluable, and the caller says unknown.
"""
from __future__ import annotations

import itertools

import numpy as np
import z3

from .symbolic import PIDS, Access, ax
from .trace import TensorArg

MAX_POINTS = 1 << 27  # (program, iteration, lane) points of one store: about 10 s of numpy
MAX_BLOCKS = 1 << 22  # (program, iteration) pairs, listed up front
MAX_EXTENT = 1 << 26  # elements of a tensor: the owner table is 4 bytes each
CHUNK_POINTS = 1 << 22


class NotEnumerable(Exception):
    """The launch is too large, or a term cannot be evaluated here (a loaded value)."""


def _evaluate(expr, env: dict, memo: dict, undefined: list):
    """A Z3 integer or boolean term as a numpy array over the points `env` spans. Where a
    division's divisor is 0 (Z3 leaves the quotient unspecified) 1 is used instead and the
    points are added to `undefined`: the caller must show they do not matter."""
    key = expr.get_id()
    if key in memo:
        return memo[key]
    if z3.is_int_value(expr):
        value = np.int64(expr.as_long())
    elif z3.is_true(expr) or z3.is_false(expr):
        value = np.bool_(z3.is_true(expr))
    elif z3.is_const(expr) and expr.decl().kind() == z3.Z3_OP_UNINTERPRETED:
        if str(expr) not in env:
            raise NotEnumerable(f"a value that is not an index: {expr}")
        value = env[str(expr)]
    else:
        kids = [_evaluate(k, env, memo, undefined) for k in expr.children()]
        value = _apply(expr.decl().kind(), kids, expr, undefined)
    memo[key] = value
    return value


def _apply(kind, kids, expr, undefined: list):
    if kind == z3.Z3_OP_ADD:
        return sum(kids[1:], kids[0])
    if kind == z3.Z3_OP_SUB:
        out = kids[0]
        for k in kids[1:]:
            out = out - k
        return out
    if kind == z3.Z3_OP_UMINUS:
        return -kids[0]
    if kind == z3.Z3_OP_MUL:
        out = kids[0]
        for k in kids[1:]:
            out = out * k
        return out
    if kind in (z3.Z3_OP_IDIV, z3.Z3_OP_MOD):
        a, b = kids
        zero = b == 0
        if np.any(zero):
            undefined.append(zero)
            b = np.where(zero, 1, b)
        rem = np.mod(a, np.abs(b))  # Euclidean: 0 <= rem < |b|, as Z3's div and mod
        return rem if kind == z3.Z3_OP_MOD else (a - rem) // b
    if kind == z3.Z3_OP_ITE:
        return np.where(*kids)
    compare = {z3.Z3_OP_LE: np.less_equal, z3.Z3_OP_LT: np.less, z3.Z3_OP_GE: np.greater_equal,
               z3.Z3_OP_GT: np.greater, z3.Z3_OP_EQ: np.equal, z3.Z3_OP_DISTINCT: np.not_equal}
    if kind in compare:
        return compare[kind](*kids)
    if kind == z3.Z3_OP_AND:
        return np.logical_and.reduce(np.broadcast_arrays(*kids)) if len(kids) > 1 else kids[0]
    if kind == z3.Z3_OP_OR:
        return np.logical_or.reduce(np.broadcast_arrays(*kids)) if len(kids) > 1 else kids[0]
    if kind == z3.Z3_OP_NOT:
        return np.logical_not(kids[0])
    if kind == z3.Z3_OP_IMPLIES:
        return np.logical_or(np.logical_not(kids[0]), kids[1])
    raise NotEnumerable(f"an operation not evaluated here: {expr.decl().name()}")


def _all(terms: list, env: dict, memo: dict, undefined: list):
    out = np.bool_(True)
    for term in terms:
        out = out & _evaluate(term, env, memo, undefined)
    return out


def _trips(store: Access, grid) -> list[int]:
    from .solve import _loop_trips
    trips = _loop_trips(store, grid)
    if trips is None:
        raise NotEnumerable("a loop whose trip count could not be bounded")
    return [trips[str(loop.it)] for loop in store.loops]


def writes(store: Access, grid, extent: int):
    """(program index, element offsets) for every chunk of the store's written points; the
    program index is pid0 + g0 * (pid1 + g1 * pid2). Points outside [0, extent) are left out
    (bounds are proved apart)."""
    grid = tuple(grid) + (1,) * (3 - len(grid))
    trips = _trips(store, grid)
    lanes = max(1, int(np.prod(store.shape, dtype=np.int64)))
    blocks = [range(g) for g in grid] + [range(t) for t in trips]
    count = int(np.prod([len(b) for b in blocks], dtype=np.int64))
    if count > MAX_BLOCKS or count * lanes > MAX_POINTS:
        raise NotEnumerable(f"{count} blocks of {lanes} lanes, more than {MAX_BLOCKS} blocks or "
                            f"{MAX_POINTS} points")
    ndim = len(store.shape)
    lane_env = {str(ax(k)): np.arange(d, dtype=np.int64).reshape(
        (1,) + tuple(d if j == k else 1 for j in range(ndim))) for k, d in enumerate(store.shape)}
    every_block = np.array(list(itertools.product(*blocks)), dtype=np.int64).reshape(
        -1, len(blocks))
    per_chunk = max(1, CHUNK_POINTS // lanes)
    for start in range(0, len(every_block), per_chunk):
        chunk = every_block[start:start + per_chunk]
        shape = (len(chunk),) + (1,) * ndim
        env = dict(lane_env)
        env.update({str(PIDS[k]): chunk[:, k].reshape(shape) for k in range(3)})
        env.update({str(loop.it): chunk[:, 3 + i].reshape(shape)
                    for i, loop in enumerate(store.loops)})
        memo: dict = {}
        full = (len(chunk),) + tuple(store.shape)
        unsure: list = []
        context = _all(store.ctx, env, memo, unsure)
        if unsure:  # the path condition itself read a quotient by zero
            raise NotEnumerable("a division by zero in a store's path condition")
        offset = np.broadcast_to(_evaluate(store.offset, env, memo, unsure), full)
        active = np.broadcast_to(context & _evaluate(store.mask, env, memo, unsure), full)
        if any(np.any(context & zero) for zero in unsure):
            raise NotEnumerable("a division by zero on a path the store takes")
        active = active & (offset >= 0) & (offset < extent)
        program = np.broadcast_to((chunk[:, 0] + grid[0] * (chunk[:, 1] + grid[1] * chunk[:, 2]))
                                  .reshape(shape), full)
        yield program[active], offset[active]


def _program(index: int, grid) -> list[int]:
    grid = tuple(grid) + (1,) * (3 - len(grid))
    return [index % grid[0], index // grid[0] % grid[1], index // (grid[0] * grid[1])]


def shared_element(first: Access, second: Access, grid, tensor: TensorArg):
    """None when no element is stored by two programs (by `first` and `second`, or by
    `first` twice when they are one store); else (offset, program, other program).
    Raises NotEnumerable."""
    if tensor.extent > MAX_EXTENT:
        raise NotEnumerable(f"{tensor.extent} elements, more than {MAX_EXTENT}")
    owner = np.full(max(tensor.extent, 1), -1, dtype=np.int32)
    for program, offset in writes(first, grid, tensor.extent):
        if first is second:
            clash = _clash(owner, program, offset)
            if clash is not None:
                return clash[0], _program(clash[1], grid), _program(clash[2], grid)
        owner[offset] = program
    if first is second:
        return None
    for program, offset in writes(second, grid, tensor.extent):
        seen = owner[offset]
        bad = np.flatnonzero((seen >= 0) & (seen != program))
        if bad.size:
            i = bad[0]
            return int(offset[i]), _program(int(seen[i]), grid), _program(int(program[i]), grid)
    return None


def _clash(owner, program, offset):
    """An element this chunk writes from two programs, or that another program wrote before:
    (offset, one program, the other)."""
    order = np.argsort(offset, kind="stable")
    o, p = offset[order], program[order]
    same = np.flatnonzero((o[1:] == o[:-1]) & (p[1:] != p[:-1]))
    if same.size:
        i = same[0]
        return int(o[i]), int(p[i]), int(p[i + 1])
    seen = owner[offset]
    bad = np.flatnonzero((seen >= 0) & (seen != program))
    if bad.size:
        i = bad[0]
        return int(offset[i]), int(seen[i]), int(program[i])
    return None


def unwritten_element(stores: list[tuple[Access, tuple]], tensor: TensorArg):
    """The coordinate of an element of `tensor` that no store of any launch writes, or None.
    Raises NotEnumerable."""
    if tensor.extent > MAX_EXTENT:
        raise NotEnumerable(f"{tensor.extent} elements, more than {MAX_EXTENT}")
    written = np.zeros(max(tensor.extent, 1), dtype=bool)
    for store, grid in stores:
        for _, offset in writes(store, grid, tensor.extent):
            written[offset] = True
    # the tensor's elements, as a view of the table through its strides (bytes: one per element)
    view = np.lib.stride_tricks.as_strided(written, shape=tuple(tensor.shape),
                                           strides=tuple(tensor.strides))
    missing = np.flatnonzero(~view)
    if not missing.size:
        return None
    return [int(c) for c in np.unravel_index(missing[0], tuple(tensor.shape))]
