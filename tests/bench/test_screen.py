"""The offline search's screen: autodocket's own candidates for one problem, checked (and on a
GPU timed) in one sandboxed process. A wrong candidate is marked incorrect, one that raises is
marked crashed, and one that kills the process is charged while the rest are still screened."""
import pytest

from tools.bench.screen import screen

PROBLEM = '''import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, x):
        return torch.relu(x) * 2


def get_inputs(n=1000):
    return [torch.randn(n)]


def get_init_inputs():
    return []
'''

CANDIDATE = '''import os
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def twice_relu(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m)
    tl.store(y_ptr + offs, EXPR, mask=m)


class ModelNew(nn.Module):
    def forward(self, x):
        y = torch.empty_like(x)
        twice_relu[(triton.cdiv(x.numel(), 256),)](x, y, x.numel(), BLOCK=256)
        AFTER
        return y
'''


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path, monkeypatch):
    """A CPU screen is cached by content: each test screens for real."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _candidate(tmp_path, name, expr="tl.maximum(x, 0.0) * 2", after="pass"):
    path = tmp_path / f"{name}.py"
    path.write_text(CANDIDATE.replace("EXPR", expr).replace("AFTER", after))
    return path


def test_each_candidate_is_judged_on_its_own_in_one_process(tmp_path):
    problem = tmp_path / "problem.py"
    problem.write_text(PROBLEM)
    kernels = [_candidate(tmp_path, "good"), _candidate(tmp_path, "wrong", expr="x * 2"),
               _candidate(tmp_path, "raises", after="raise RuntimeError('boom')"),
               _candidate(tmp_path, "exits", after="os._exit(3)"),
               _candidate(tmp_path, "good_again")]
    results = screen(problem, kernels, device="cpu")
    assert [r["status"] for r in results] == ["ok", "incorrect", "crash", "crash", "ok"]
    assert "max abs error" in results[1]["detail"]
    assert "boom" in results[2]["detail"]
    assert "the screening process ended" in results[3]["detail"]
    assert all(r["median_ms"] is None for r in results)  # no timing without a GPU


def test_a_problem_that_cannot_run_fails_every_candidate_with_its_reason(tmp_path):
    problem = tmp_path / "problem.py"
    problem.write_text(PROBLEM.replace("return [torch.randn(n)]", "raise ValueError('bad')"))
    results = screen(problem, [_candidate(tmp_path, "good")], device="cpu")
    assert results[0]["status"] == "crash" and "bad" in results[0]["detail"]


def test_a_screen_that_died_while_timing_charges_that_candidate_and_retries_the_rest():
    """The child checks every candidate, then times them in one window: those it checked but
    never timed are screened again in a fresh process; the one being timed when it died is
    charged with the death."""
    from tools.bench.screen import _settled
    checked = {"status": "ok", "median_ms": None, "detail": "", "timing": "pending"}
    said = {"results": [{"status": "ok", "median_ms": 0.1, "detail": ""},
                        {"status": "incorrect", "median_ms": None, "detail": "max abs err"},
                        dict(checked), dict(checked)], "timing_now": 2}
    settled = _settled(said, 4, "killed: time limit")
    assert settled[:2] == said["results"][:2] and settled[3] is None
    assert settled[2]["status"] == "crash" and "while timing it: killed" in settled[2]["detail"]
    # a process that broke before its timing window: what it checked is screened again
    assert _settled({"results": [dict(checked)], "timing_now": None}, 1, "crash") == [None]
