"""A fixed sample of the problem suite (benchmarks/suite) through the offline coder on the CPU,
each re-checked by a fresh harness run: the whole suite runs from benchmarks/problem_suite.py."""
from pathlib import Path

import pytest

from benchmarks.problem_suite import one, totals

SUITE = Path(__file__).resolve().parents[2] / "benchmarks" / "suite"
# a norm over three dimensions, an arg-reduction over rows, a fused epilogue (CI time, 2 cores:
# matmuls, scans and convolutions become Triton in tests/kernels/test_seed.py; the whole suite
# runs from the script)
SAMPLE = ["level1/31_layernorm_3d.py", "level1/57_argmax_dim0.py",
          "fused/11_residual_add_layernorm.py"]


def test_the_suite_is_large_enough():
    assert len(list((SUITE / "level1").glob("[0-9]*.py"))) >= 80
    assert len(list((SUITE / "fused").glob("[0-9]*.py"))) >= 20


@pytest.mark.parametrize("name", SAMPLE)
def test_sampled_problem_is_solved_and_rechecked(name):
    row = one(str(SUITE / name), "cpu", None, 1)
    assert row["status"] == "solved", row.get("reason")
    assert row["rechecked"] == "correct", row.get("reason")
    assert totals([row])["solved_correct"] == 1


def test_gpu_totals_name_the_problems_where_a_template_beat_the_seed():
    def row(name, template_ms, seed_ms, vs_compile):
        return {"problem": f"level1/{name}.py", "suite": "level1", "status": "solved",
                "rechecked": "correct", "origin": "template", "verified": "proved",
                "speedups": [{"input_set": "default", "vs_eager": 2.0,
                              "vs_compile": vs_compile}],
                "candidates": [
                    {"origin": "template", "screen": "ok", "screen_ms": template_ms},
                    {"origin": "template", "screen": "incorrect", "screen_ms": None},
                    {"origin": "compiler seed", "screen": "ok", "screen_ms": seed_ms}]}
    rows = [row("softmax", 0.5, 0.7, 1.2), row("gelu", 0.9, 0.6, 0.8),
            {"problem": "level1/conv.py", "suite": "level1", "status": "failed"}]
    t = totals(rows)
    assert t["template_beats_seed"] == ["softmax"]
    assert t["fast_1"] == round(1 / 3, 3) and t["geomean_vs_eager"] == 2.0
