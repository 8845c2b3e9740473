"""The GPU lock between processes of one host (`tools.bench.gpu_lock`, files only: no GPU
needed): untimed runs share the card, a timed phase has it alone, a timer waiting for it goes
before runs that came after it, and two runs that each hold the card shared and then ask for it
alone both finish."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKER = """
import sys, time, pathlib
from tools.bench import gpu_lock
modes, flags, name = sys.argv[1].split(","), pathlib.Path(sys.argv[2]), sys.argv[3]
def inside(modes):
    with gpu_lock("cuda", modes[0]):
        (flags / f"{name}-{modes[0]}-in").write_text(repr(time.monotonic()))
        if modes[1:]:
            time.sleep(0.5)  # a worker beside it takes its first hold meanwhile
            inside(modes[1:])
        else:
            while not (flags / f"{name}-go").exists():
                time.sleep(0.01)
        (flags / f"{name}-{modes[0]}-out").write_text(repr(time.monotonic()))
inside(modes)
"""


@pytest.fixture
def lab(tmp_path, monkeypatch):
    """Workers whose lock files live in this test's own folder."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    flags = tmp_path / "flags"
    flags.mkdir()
    procs = []

    def start(name: str, modes: str):
        procs.append(subprocess.Popen([sys.executable, "-c", WORKER, modes, str(flags), name],
                                      cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}))
    yield flags, start
    for p in procs:
        p.kill()


def _when(flags: Path, event: str, timeout: float = 30) -> float:
    deadline = time.monotonic() + timeout
    while not (flags / event).exists():
        assert time.monotonic() < deadline, f"{event} never happened"
        time.sleep(0.02)
    time.sleep(0.02)  # the writer's text is complete
    return float((flags / event).read_text())


def test_a_timer_waits_for_the_sharers_and_goes_before_those_that_came_after(lab):
    flags, start = lab
    start("a", "shared")
    start("b", "shared")
    _when(flags, "a-shared-in")
    _when(flags, "b-shared-in")  # both at once: sharing is sharing
    start("timer", "alone")
    time.sleep(1.0)  # the timer is waiting at the turnstile now
    start("late", "shared")
    time.sleep(1.0)
    assert not (flags / "timer-alone-in").exists()  # a and b still use the card
    assert not (flags / "late-shared-in").exists()  # behind the waiting timer
    (flags / "a-go").write_text("")
    (flags / "b-go").write_text("")
    timer_in = _when(flags, "timer-alone-in")
    assert timer_in >= max(_when(flags, "a-shared-out"), _when(flags, "b-shared-out"))
    time.sleep(0.5)
    assert not (flags / "late-shared-in").exists()  # the timer has the card alone
    (flags / "timer-go").write_text("")
    assert _when(flags, "late-shared-in") >= _when(flags, "timer-alone-out")
    (flags / "late-go").write_text("")
    _when(flags, "late-shared-out")


def test_two_sharers_asking_for_the_card_alone_both_finish(lab):
    flags, start = lab
    start("a", "shared,alone")
    start("b", "shared,alone")
    # each holds it shared (both at once: half a second each before asking), then asks for
    # it alone
    deadline = time.monotonic() + 30
    while not any((flags / f"{n}-alone-in").exists() for n in "ab"):
        assert time.monotonic() < deadline, "neither got the card alone"
        time.sleep(0.02)
    (flags / "a-go").write_text("")
    (flags / "b-go").write_text("")
    a_alone = (_when(flags, "a-alone-in"), _when(flags, "a-alone-out"))
    b_alone = (_when(flags, "b-alone-in"), _when(flags, "b-alone-out"))
    assert a_alone[1] <= b_alone[0] or b_alone[1] <= a_alone[0]  # never both alone at once
    assert _when(flags, "b-shared-in") < a_alone[0] and _when(flags, "a-shared-in") < b_alone[0]
    _when(flags, "a-shared-out")
    _when(flags, "b-shared-out")


def test_a_process_takes_its_own_hold_again_without_waiting_on_itself(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    from tools.bench import _card_locks, gpu_lock
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setitem(os.environ, "CUDA_VISIBLE_DEVICES", "7")
    _card_locks.pop("7", None)
    with gpu_lock("cuda"), gpu_lock("cuda") as waited_again:
        assert waited_again == 0.0 and _card_locks["7"].mode == "shared"
        with gpu_lock("cuda", "alone"), gpu_lock("cuda", "alone"), gpu_lock("cuda"):
            assert _card_locks["7"].mode == "alone"
        assert _card_locks["7"].mode == "shared"  # taken back after the timed phase
    assert _card_locks["7"].mode is None
    _card_locks.pop("7")


def test_the_wait_for_other_runs_is_counted(lab, monkeypatch):
    """What a measurement waited for the card is counted (`card_wait`: the harness records
    it as the `card-wait` stage and says so in a note past a second)."""
    import tempfile

    from tools.bench import _card_locks, card_wait, gpu_lock
    flags, start = lab
    monkeypatch.setattr(tempfile, "tempdir", os.environ["TMPDIR"])
    monkeypatch.setitem(os.environ, "CUDA_VISIBLE_DEVICES", "0")
    _card_locks.pop("0", None)  # this test's own lock files, in its own folder
    start("timer", "alone")
    _when(flags, "timer-alone-in")
    before = card_wait()
    releaser = subprocess.Popen([sys.executable, "-c", "import time, pathlib, sys; "
                                 "time.sleep(1.0); pathlib.Path(sys.argv[1]).write_text('')",
                                 str(flags / "timer-go")])
    with gpu_lock("cuda") as waited:
        assert waited >= 0.8 and card_wait() - before == pytest.approx(waited)
    releaser.wait()
    _card_locks.pop("0")


class ScriptedChild:
    """A sandboxed child that says `lines` in turn (skipping those the parent's read does not
    ask for, as a real one's output is read) and records the card's mode at each read."""

    def __init__(self, lines: list[str], gpu: str):
        self.lines, self.gpu = list(lines), gpu
        self.held: list = []
        self.sent: list[str] = []

    def read_line(self, prefix=""):
        from tools.bench import _card_locks
        self.held.append(getattr(_card_locks.get(self.gpu), "mode", None))
        while self.lines:
            line = self.lines.pop(0)
            if line.startswith(prefix):
                return line
        return None

    def send(self, line):
        self.sent.append(line)


@pytest.fixture
def card_takes(tmp_path, monkeypatch):
    """This test's own lock files and GPU ("5"): every mode the lock is taken in, in order."""
    import tempfile

    from tools.bench import _card_locks, _CardLock
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setitem(os.environ, "CUDA_VISIBLE_DEVICES", "5")
    _card_locks.pop("5", None)
    takes = []
    real_take = _CardLock.take
    monkeypatch.setattr(_CardLock, "take", lambda self, mode: takes.append(mode) or
                        real_take(self, mode))
    yield takes
    _card_locks.pop("5", None)


@pytest.fixture
def serve_scripted(card_takes):
    """serve_card on a scripted child, on `card_takes`' GPU: returns the phases' spans, the
    child, and every mode the lock was taken in."""
    from tools.bench import _card_locks, serve_card

    def serve(lines: list[str]):
        child = ScriptedChild(lines, "5")
        spans = serve_card(child, "cuda")
        assert _card_locks["5"].mode is None  # given back at the end
        return spans, child, card_takes
    return serve


def test_a_childs_timed_phases_take_the_card_alone_once(serve_scripted):
    """The reference's phases (one per input set) and the screen's window follow each other:
    the card is taken alone at the first and kept until the child stops asking, so a run
    beside it waits once per child, not once per phase (each wait is the longest hold of
    every run sharing the card)."""
    spans, child, takes = serve_scripted([f"@@{word} {label}"
                                          for label in ("default", "set1", "set2")
                                          for word in ("ready-to-time", "timed")])
    assert sorted(spans) == ["default", "set1", "set2"] and child.sent == ["go"] * 3
    # free before the first phase; alone from its "go" until the child stopped asking
    assert child.held == [None] + ["alone"] * 6
    assert takes == ["alone"]  # once


def test_a_childs_untimed_windows_hold_the_card_shared_only_inside_them(serve_scripted):
    """The seed generator uses the card twice (the problem's model and inputs; one eager run)
    with Inductor writing code on the CPU between: the card is shared for each window and
    free between them, so a timer beside it waits for a window, not for the whole child."""
    spans, child, takes = serve_scripted(["@@use-card", "Inductor's log line",
                                          "@@card-done"] * 2)
    # asking: free; inside a window: shared; between windows and at the end: free
    assert child.held == [None, "shared", None, "shared", None]
    assert takes == ["shared", "shared"] and child.sent == ["go"] * 2 and not spans


def test_the_screens_build_windows_share_the_card_and_its_timing_takes_it_alone(
        serve_scripted):
    """The screen builds, checks and compiles each candidate in a window of its own (the card
    free between them), then times them all: a timer beside it waits for one candidate's
    window, not for the whole screen (twelve screens each held the card shared through all
    their compiles, so every timer waited for the slowest of them)."""
    spans, child, takes = serve_scripted(["@@use-card", "@@card-done"] * 2 + [
        "a compile's log line", "@@ready-to-time screen", "@@timed screen"])
    assert list(spans) == ["screen"]
    assert child.held == [None, "shared", None, "shared", None, "alone", "alone"]
    assert takes == ["shared", "shared", "alone"]


def test_the_references_windows_share_the_card_and_its_phases_keep_it_alone_to_its_end(
        serve_scripted):
    """The reference's pattern: windows for its expected outputs, its compiles and its first
    warm-up (shared, free between: CUDA starts in the first), its phases alone with a window
    between them passing through, and the card alone until the process has ended (tearing
    down its CUDA context frees memory on the card: a timer beside it would see that)."""
    windows = ["@@use-card", "@@card-done"]
    spans, child, takes = serve_scripted(
        windows * 3 + ["@@ready-to-time default", "@@timed default"] + windows
        + ["@@ready-to-time set1", "@@timed set1", "a last log line"])
    assert sorted(spans) == ["default", "set1"]
    assert child.held == [None, "shared", None, "shared", None, "shared", None, "alone", "alone",
                          "alone", "alone", "alone", "alone"]
    assert takes == ["shared", "shared", "shared", "alone"]


def test_the_candidate_holds_the_card_from_its_claim_to_its_end(tmp_path, card_takes,
                                                                monkeypatch):
    """The candidate (untrusted: its code may launch kernels at any moment) claims the card
    before CUDA starts: shared from then, alone from its first timed phase, given back when it
    ends, without taking the shared hold again on the way out (that would wait for another
    run's whole timing for nothing). Each draw's seed goes out as it is asked for."""
    from tools.bench import _answer_candidate, _card_locks, _ChildHold, _protocol, judge
    from tools.bench.runtime import DRAW_NAMES, draw_seed
    monkeypatch.setattr(judge, "judge_set", lambda label, *a: {"input_set": label})
    monkeypatch.setattr(judge, "judge_draw", lambda *a: {})
    order = ["default", "set1"]
    lines = [" ".join(step) for step in _protocol(order, DRAW_NAMES, True)]
    timed = {i for i, line in enumerate(lines) if line.startswith("@@ready-to-time")}
    for i in sorted(timed, reverse=True):  # each phase's end follows its start
        lines.insert(i + 1, lines[i].replace("@@ready-to-time", "@@timed"))
    child = ScriptedChild(["@@use-card"] + lines, "5")
    sets = [{"label": label} for label in order]
    with _ChildHold("cuda") as hold:
        answered = _answer_candidate(child, sets, tmp_path, tmp_path, {}, None, hold, 7, True)
        assert _card_locks["5"].mode == "alone"  # until the process is gone
    first_phase = lines.index("@@ready-to-time default") + 1  # reads, after the claim's
    assert child.held[:2] == [None, "shared"]
    assert set(child.held[2:first_phase + 1]) == {"shared"}
    assert set(child.held[first_phase + 1:]) == {"alone"}
    assert card_takes == ["shared", "alone"] and _card_locks["5"].mode is None
    assert sorted(answered.spans) == ["default", "set1"]
    assert answered.unjudged(sets) is None and [r["input_set"] for r in answered.rows] == order
    assert child.sent[1:7] == [str(draw_seed(7, "default", name)) for name in DRAW_NAMES]
    assert len(set(child.sent[1:7])) == 6  # one seed per draw


def test_every_hold_is_logged_and_the_log_says_where_the_cards_time_went(tmp_path,
                                                                         monkeypatch,
                                                                         card_takes):
    """With a card log set (`kernel_library.py` sets one for its jobs), each hold on the card
    is appended as it is given back; the summary reads each card's time over the run as timed
    alone, shared by untimed work only and free, and how long requests waited."""
    from tools.bench import CARD_LOG, card_log_summary, gpu_lock
    log = tmp_path / "holds.jsonl"
    monkeypatch.setenv(CARD_LOG, str(log))
    with gpu_lock("cuda"):
        pass
    with gpu_lock("cuda", "alone"):
        pass
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    assert [h["mode"] for h in logged] == card_takes == ["shared", "alone"]
    assert all(h["asked"] <= h["got"] <= h["gave"] and h["gpu"] == "5" for h in logged)
    # a run's holds, by hand: two untimed ones overlapping, a timer that waited 2 s, and one
    # more untimed hold; on another card, one timed phase
    log.write_text("".join(json.dumps(h) + "\n" for h in [
        {"gpu": "0", "mode": "shared", "asked": 0, "got": 0, "gave": 4},
        {"gpu": "0", "mode": "shared", "asked": 2, "got": 2, "gave": 6},
        {"gpu": "0", "mode": "alone", "asked": 5, "got": 7, "gave": 8},
        {"gpu": "0", "mode": "shared", "asked": 9, "got": 9, "gave": 10},
        {"gpu": "1", "mode": "alone", "asked": 3, "got": 3, "gave": 4}]))
    cards = card_log_summary(log)
    assert cards["0"] == {"span_s": 10, "alone_s": 1, "shared_only_s": 7, "free_s": 2,
                          "waits": {"alone": {"count": 1, "median_s": 2, "max_s": 2,
                                              "total_s": 2},
                                    "shared": {"count": 3, "median_s": 0, "max_s": 0,
                                               "total_s": 0}}}
    assert cards["1"]["alone_s"] == 1 and cards["1"]["free_s"] == 0
    assert card_log_summary(tmp_path / "none.jsonl") is None
