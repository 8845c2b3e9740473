"""Races and coverage by enumerating a launch's programs: a persistent matmul's grouped tile
order (divisions by a per-program group size, where whole-grid queries time out) is proved,
and the same order with a planted bug gets a concrete counterexample."""
import pytest
import z3

from tools.verify import exhaustive
from tools.verify.solve import check_coverage, check_race
from tools.verify.symbolic import PIDS, Access, Loop, ax
from tools.verify.trace import TensorArg


def _tdiv(a, b):  # the C division the symbolic executor writes for arith.divsi
    return z3.If(a >= 0, a / b, -((-a) / b))


def _trem(a, b):
    return a - b * _tdiv(a, b)


def tma_store(M, N, BM=32, BN=64, G=4, programs=6, clamp_group=True):
    """The store of the catalog's persistent TMA matmul: `programs` programs walk the tiles
    in grouped order (GROUP_M row tiles at a time, the last group shorter)."""
    it = z3.Int("it0")
    tile = PIDS[0] + it * programs
    tiles_m, tiles_n = -(-M // BM), -(-N // BN)
    per_group = G * tiles_n
    first_m = _tdiv(tile, per_group) * G
    rows = z3.If(tiles_m - first_m < G, tiles_m - first_m, G) if clamp_group else z3.IntVal(G)
    pid_m = first_m + _trem(_trem(tile, per_group), rows)
    pid_n = _tdiv(_trem(tile, per_group), rows)
    r, c = pid_m * BM + ax(0), pid_n * BN + ax(1)
    store = Access("store", 60, 3, (BM, BN), r * N + c, z3.And(r >= 0, r < M, c >= 0, c < N),
                   [it >= 0, tile < tiles_m * tiles_n], [Loop(it, tile, "tile", 50)])
    return store, (programs, 1, 1), TensorArg("torch.bfloat16", (M, N), (N, 1), M * N, 0, True)


def test_a_grouped_tile_order_is_proved_race_free_and_covering():
    store, grid, y = tma_store(M=200, N=300)  # 7 x 5 tiles: the last group has 3 row tiles
    race = check_race("k", store, store, grid, y, "y", [])
    assert race.status == "proved" and "evaluated" in race.detail
    coverage = check_coverage("k", [(store, grid)], y, "y")
    assert coverage.status == "proved"


def test_a_group_size_not_clamped_at_the_edge_is_a_concrete_counterexample():
    # the last group has fewer row tiles than GROUP_M: the unclamped order sends tiles past
    # the last row (dropped by the mask) and leaves real tiles unwritten
    store, grid, y = tma_store(M=200, N=300, clamp_group=False)
    coverage = check_coverage("k", [(store, grid)], y, "y")
    assert coverage.status == "violated"
    row, col = coverage.counterexample["coordinate"]
    assert 0 <= row < 200 and 0 <= col < 300
    assert exhaustive.unwritten_element([(store, grid)], y) == [row, col]


def test_two_programs_on_one_tile_are_a_race_with_both_named():
    store, grid, y = tma_store(M=128, N=128)
    # every program also writes tile 0's first row: a race between program 0 and the others
    clobber = Access("store", 61, 3, (64,), ax(0), z3.BoolVal(True), [], [])
    race = check_race("k", store, clobber, grid, y, "y", [])
    assert race.status == "violated"
    assert race.counterexample["program"] != race.counterexample["other_program"]
    assert race.counterexample["coordinate"][0] == 0


def test_a_value_loaded_from_memory_is_not_enumerated():
    loaded = z3.Int("load_7")
    store = Access("store", 5, 0, (16,), loaded + ax(0), z3.BoolVal(True), [], [])
    y = TensorArg("torch.float32", (64,), (1,), 64, 0, True)
    with pytest.raises(exhaustive.NotEnumerable):
        exhaustive.unwritten_element([(store, (4, 1, 1))], y)


def test_a_division_by_zero_on_a_taken_path_is_not_a_proof():
    d = PIDS[0] - 1  # program 1 divides by zero, and its store is active
    store = Access("store", 5, 0, (16,), (PIDS[0] * 16) / d * 0 + PIDS[0] * 16 + ax(0),
                   z3.BoolVal(True), [], [])
    y = TensorArg("torch.float32", (64,), (1,), 64, 0, True)
    with pytest.raises(exhaustive.NotEnumerable):
        exhaustive.unwritten_element([(store, (4, 1, 1))], y)
