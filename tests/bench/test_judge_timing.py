"""The judge reads a timed phase's samples, not the child's summary of them: a candidate that
reports a median its own runs do not have is measured by its runs; runs launched slower than
the GPU's cushion are flagged."""
import pytest

from tools.bench import judge


def _callable(events, launch_bound=0, forged_median=None, waits_for_gpu=False):
    return {"event": list(events), "wall": [e + 0.3 for e in events],
            "launch_bound": launch_bound, "waits_for_gpu": waits_for_gpu,
            "median_ms": forged_median or max(events, default=0)}


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


def test_a_callable_that_waits_for_the_gpu_is_said_to_and_not_called_starved():
    ref = _phase(eager=_callable([0.20] * 50, launch_bound=50, waits_for_gpu=True),
                 compile=_callable([0.10] * 50))
    cand = _phase(kernel=_callable([0.12] * 50))
    row = judge.judge_timing("default", cand, ref, _span(cand), _span(ref), [[8, 8]], None)
    assert [f for f in row["flags"] if "GPU" in f] == [
        "eager waits for the GPU inside its call (a host sync): its time includes the host's "
        "work after it"]


def test_a_phase_with_no_runs_is_rejected():
    cand = _phase(kernel=_callable([]))
    with pytest.raises(judge.Rejected):
        judge.judge_timing("default", cand, REF, 1.0, _span(REF), [[8, 8]], None)


@pytest.mark.gpu
def test_on_a_gpu_a_launch_slower_than_the_cushion_is_counted_and_not_timed():
    """A callable whose host side takes 1 ms before its kernel (a starved host): the first runs
    outlast the 0.2 ms cushion and are counted, the cushion doubles past 1 ms, and the median
    is the kernel's time, not the host's."""
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

    timed = time_callables({"slow": slow_launch, "syncing": syncing}, [[x]], repeats=60)
    slow, sync = timed["slow"], timed["syncing"]
    assert 1 <= slow["launch_bound"] <= 10 and not slow["waits_for_gpu"], slow
    assert slow["median_ms"] < 0.2, slow  # a 4 MB add: microseconds, not the host's 1 ms
    assert sync["waits_for_gpu"] and sync["launch_bound"] == 60, sync
