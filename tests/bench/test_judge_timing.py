"""The judge reads a timed phase's samples, not the child's summary of them: a candidate that
reports a median its own runs do not have is measured by its runs; runs launched slower than
the GPU's cushion are counted and flagged."""
import pytest

from tools.bench import judge


def _callable(events, launch_bound=0, forged_median=None):
    return {"event": list(events), "wall": [e + 0.3 for e in events],
            "launch_bound": launch_bound, "median_ms": forged_median or max(events, default=0)}


def _phase(**callables):
    return {"first": callables, "second": {k: dict(v) for k, v in callables.items()}}


def _span(phase):
    return sum(w for p in ("first", "second") for t in phase[p].values() for w in t["wall"])


REF = _phase(eager=_callable([0.20] * 50), compile=_callable([0.10] * 50))


def test_a_forged_median_is_replaced_by_the_median_of_the_runs():
    cand = _phase(kernel=_callable([0.12] * 50, forged_median=0.01))
    row = judge.judge_timing("default", cand, REF, _span(cand), _span(REF), [[8, 8]], None)
    assert row["first"]["kernel"]["median_ms"] == pytest.approx(0.12)
    assert row["speedup_vs_compile"] == pytest.approx(0.10 / 0.12)
    assert not any("launch" in f for f in row["flags"])


def test_runs_launched_slower_than_the_cushion_are_flagged():
    cand = _phase(kernel=_callable([0.12] * 50, launch_bound=9))
    row = judge.judge_timing("default", cand, REF, _span(cand), _span(REF), [[8, 8]], None)
    assert row["first"]["kernel"]["launch_bound"] == 9
    assert any(f.startswith("kernel: 9 of 50 runs launched slower") for f in row["flags"])


def test_a_callable_launch_bound_on_every_run_is_said_to_wait_for_the_gpu():
    ref = _phase(eager=_callable([0.20] * 50, launch_bound=50), compile=_callable([0.10] * 50))
    cand = _phase(kernel=_callable([0.12] * 50))
    row = judge.judge_timing("default", cand, ref, _span(cand), _span(ref), [[8, 8]], None)
    assert [f for f in row["flags"] if "launch" in f] == [
        "eager waits for the GPU inside its call (a host sync: every run's launch outlasted the "
        "cushion): its time includes the host's work"]


def test_a_phase_with_no_runs_is_rejected():
    cand = _phase(kernel=_callable([]))
    with pytest.raises(judge.Rejected):
        judge.judge_timing("default", cand, REF, 1.0, _span(REF), [[8, 8]], None)


def test_runs_adding_up_to_more_than_the_harness_watched_were_never_measured():
    """The forgery the red team ran on the H200: the candidate's process wrote its own timing
    (0.002 ms a run, 0.3 ms of wall clock each) and said it was done at once; the harness had
    watched 0.12 ms for the whole phase."""
    cand = _phase(kernel=_callable([0.002] * 100))
    with pytest.raises(judge.Rejected) as said:
        judge.judge_timing("default", cand, REF, 0.12, _span(REF), [[8, 8]], None)
    assert said.value.reason == "timing-forged" and "watched the whole phase" in said.value.detail
    # an honest phase takes at least its runs' wall clock: accepted
    judge.judge_timing("default", cand, REF, _span(cand) + 5, _span(REF), [[8, 8]], None)


@pytest.mark.gpu
def test_on_a_gpu_launches_slower_than_the_cushion_are_counted():
    """A callable whose host side takes 1 ms before its kernel (a starved host) and one that
    synchronises inside its call: every run of both outlasts the 0.2 ms cushion; a plain
    launch does not."""
    import time

    import torch

    from tools.bench.runtime import time_callables
    x = torch.zeros(1 << 20, device="cuda")

    def slow_launch(t):
        time.sleep(0.001)
        t.add_(1)

    def syncing(t):
        t.add_(1)
        torch.cuda.synchronize()

    timed = time_callables({"slow": slow_launch, "syncing": syncing,
                            "plain": lambda t: t.add_(1)}, [[x]], repeats=30)
    assert timed["slow"]["launch_bound"] == 30 and timed["syncing"]["launch_bound"] == 30, timed
    assert timed["plain"]["launch_bound"] <= 2, timed  # the first run after warm-up, at most
