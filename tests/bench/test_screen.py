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


def test_candidates_compiled_off_the_card_share_a_window_and_the_others_have_their_own():
    """The screen cuts its candidates, in order, into card windows: each run of those compiled
    off the card shares one (building and checking them takes milliseconds), any other has one
    of its own (it compiles inside it); in order, so a death charges the right candidate."""
    from tools.bench.screen import windows
    names = ["a", "b", "c", "d", "e", "f"]
    offline = {"a": True, "b": True, "c": False, "d": True, "e": True, "f": False}
    assert windows(names, offline) == [["a", "b"], ["c"], ["d", "e"], ["f"]]
    assert windows(names, {}) == [[n] for n in names]  # on the CPU: nothing compiled ahead
    assert windows(names, dict.fromkeys(names, True)) == [names]


def test_compile_only_refuses_the_gpu_and_puts_everything_back():
    """Under CompileOnly a forward runs on meta (and CPU) tensors; a tensor asked for on the GPU
    is refused before anything runs there (on this CPU-only torch, by torch itself); on the way
    out Triton's launcher and torch's device properties are what they were."""
    import torch
    from triton.runtime.jit import JITFunction

    from tools.bench.runtime import CompileOnly
    run, properties = JITFunction.run, torch.cuda.get_device_properties
    with CompileOnly():
        assert JITFunction.run is not run and torch.cuda.get_device_properties is not properties
        x = torch.empty(8, 4, device="meta")
        assert (x * 2).sum(dim=1).shape == (8,) and torch.zeros(3).sum().item() == 0
        with pytest.raises(Exception):
            torch.empty(3, device="cuda")
    assert JITFunction.run is run and torch.cuda.get_device_properties is properties


@pytest.mark.gpu
def test_on_a_gpu_compile_only_compiles_a_launch_without_running_it():
    import torch
    import triton
    import triton.language as tl

    from tools.bench.runtime import CompileOnly, OffTheCard

    @triton.jit
    def fill(y_ptr, n, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        tl.store(y_ptr + offs, 1.0, mask=offs < n)
    y = torch.full((64,), -1.0, device="cuda")
    with CompileOnly():
        compiled = fill[(1,)](torch.empty(64, device="meta"), 64, BLOCK=64)
        with pytest.raises(OffTheCard):
            torch.empty(3, device="cuda")
    torch.cuda.synchronize()
    assert compiled is not None and bool((y == -1).all())  # compiled, never ran
    fill[(1,)](y, 64, BLOCK=64)  # the same specialisation: a launch now finds it compiled
    assert bool((y == 1).all())


@pytest.mark.gpu
def test_on_a_gpu_the_screen_compiles_off_the_card_and_still_judges_each_candidate(tmp_path):
    problem = tmp_path / "problem.py"
    problem.write_text(PROBLEM)
    kernels = [_candidate(tmp_path, "good"), _candidate(tmp_path, "wrong", expr="x * 2"),
               _candidate(tmp_path, "raises", after="raise RuntimeError('boom')"),
               _candidate(tmp_path, "good_again")]
    results = screen(problem, kernels, device="cuda")
    assert [r["status"] for r in results] == ["ok", "incorrect", "crash", "ok"]
    assert results[0]["median_ms"] > 0 and results[3]["median_ms"] > 0
