"""Many workers, one docket: leases in the database, branches pushed to a shared bare remote."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from git import Repo

import docket

from benchmarks.workers_throughput import shared_lab, synthetic_docket, worker_command
from memory.db import make_engine
from memory.leases import Leases, Worker

# leases, against SQLite and PostgreSQL -------------------------------------------------------
def test_claims_are_exclusive_in_order_and_released(db_url):
    a, b = (Leases(make_engine(db_url), "DOCKET.md", ttl_s=60) for _ in range(2))
    tasks = ["t1", "t2", "t3"]
    assert a.claim("A", tasks) == "t1" and b.claim("B", tasks) == "t2"
    assert a.renew("A", "t1") and not b.renew("B", "t1")
    a.release("A", "t1")
    assert b.claim("B", tasks) == "t1" and a.claim("A", tasks) == "t3"
    assert a.claim("A", tasks) is None


def test_an_expired_lease_goes_to_the_next_worker_and_its_holder_learns_it(db_url):
    leases = Leases(make_engine(db_url), "DOCKET.md", ttl_s=0.5)
    assert leases.claim("A", ["t1"]) == "t1"
    assert leases.claim("B", ["t1"]) is None  # A's lease still runs
    time.sleep(0.7)  # A stopped renewing (killed on another rig, say)
    assert leases.claim("B", ["t1"]) == "t1"
    assert not leases.renew("A", "t1") and leases.holder("t1")[0] == "B"


def test_a_dead_worker_of_this_rig_gives_its_lease_up_at_once(db_url):
    leases = Leases(make_engine(db_url), "DOCKET.md", ttl_s=600)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that no longer runs
    leases.register("ghost", "cpu")
    assert leases.claim("ghost", ["t1"]) == "t1"
    with leases.engine.begin() as conn:  # then the ghost's process dies
        conn.execute(Worker.__table__.update().where(Worker.worker_id == "ghost")
                     .values(pid=dead.pid))
    assert leases.claim("B", ["t1"]) == "t1"  # no 10-minute wait
    assert [w["state"] for w in leases.workers() if w["worker"] == "ghost"] == ["dead"]


def test_concurrent_claims_never_give_one_task_twice(pg_url):
    tasks = [f"t{i}" for i in range(40)]
    got: dict[str, list[str]] = {}

    errors = []

    def drain(name):
        try:
            leases = Leases(make_engine(pg_url), "DOCKET.md", ttl_s=60)
            mine = got.setdefault(name, [])
            while (t := leases.claim(name, tasks)) is not None:
                mine.append(t)
        except Exception as err:  # noqa: BLE001 - a thread's error must fail the test
            errors.append(err)

    threads = [threading.Thread(target=drain, args=(f"w{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    claimed = [t for mine in got.values() for t in mine]
    assert sorted(claimed) == sorted(tasks)
    assert sum(bool(mine) for mine in got.values()) >= 2  # really shared out


def test_a_task_another_worker_finishes_between_order_and_claim_is_not_run_again(tmp_path):
    from agents.config import find_lab
    from agents.loop import claim_next
    (tmp_path / ".git").mkdir()
    (tmp_path / "DOCKET.md").write_text("## Pending Tasks\n- [ ] **Fused softmax**: rows\n"
                                        "- [ ] **Fused GELU**: tanh\n")
    lab = find_lab(tmp_path / "DOCKET.md")
    store = lab.store()
    store.set("fused-softmax", "in-progress")  # another worker runs it: first in every order

    class OtherWorkerFinishesFirst(Leases):
        def claim(self, worker_id, candidates):
            # after this worker read the order, the other one commits its task and lets it go
            if store.all()["fused-softmax"].status == "in-progress":
                store.set("fused-softmax", "awaiting-review")
            return super().claim(worker_id, candidates)

    leases = OtherWorkerFinishesFirst(make_engine(lab.database_url), lab.docket_key)
    assert claim_next(lab, leases, "B", store) == ("fused-gelu", ["fused-gelu"])
    assert leases.holder("fused-softmax")[0] is None  # claimed, then let go


def test_a_worker_whose_lease_lapsed_does_not_commit(tmp_path):
    from agents.config import find_lab
    from agents.graph import LeaseLost, commit, hold_lease
    (tmp_path / ".git").mkdir()
    (tmp_path / "DOCKET.md").write_text("## Pending Tasks\n- [ ] **Fused softmax**: rows\n")
    lab = find_lab(tmp_path / "DOCKET.md")
    leases = Leases(make_engine(lab.database_url), lab.docket_key, ttl_s=60)
    # A stalled past its lease; B claimed the task and resumed it from the checkpoint
    assert leases.claim("B", ["fused-softmax"]) == "fused-softmax"
    state = {"task_id": "fused-softmax", "docket_key": "DOCKET.md"}

    def run_by(worker):
        return {"configurable": {"lab_root": str(tmp_path), "worker_id": worker, "lease_s": 60}}

    with pytest.raises(LeaseLost):
        commit(state, run_by("A"))  # refused before any file, branch or push
    assert not (tmp_path / ".autodocket" / "worktrees").exists()
    expires = leases.holder("fused-softmax")[1]
    hold_lease(state, run_by("B"))  # the holder passes, with its lease extended
    assert leases.holder("fused-softmax")[1] > expires


# four worker processes drain twelve tasks; one is killed mid-task ------------------------------
def test_four_workers_drain_twelve_tasks_and_survive_a_sigkill(tmp_path, pg_url):
    remote, clones = shared_lab(tmp_path, 12, 4)
    env = {**os.environ, "COLUMNS": "200"}
    lease_s = 6
    # the victim runs as if on another rig: its death is noticed by its lease running out
    victim = subprocess.Popen(worker_command("victim", pg_url, "cpu", lease_s),
                              cwd=clones[0], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, start_new_session=True,
                              env={**env, "AUTODOCKET_RIG": "rig-that-dies"})
    others = [subprocess.Popen(worker_command(f"w{i}", pg_url, "cpu", lease_s), cwd=c,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=env) for i, c in enumerate(clones[1:], 1)]
    killed_task = None
    for line in victim.stdout:  # SIGKILL mid-task: verified, not yet measured
        if "verify done" in line:
            killed_task = line.split(":")[0].strip()
            os.killpg(victim.pid, signal.SIGKILL)
            break
    victim.wait()
    victim_rest = victim.stdout.read()  # what it printed after the line read (under load)
    assert killed_task, "the victim never reached verify"
    holder, expires = Leases(make_engine(pg_url), "DOCKET.md").holder(killed_task)
    assert holder == "victim" and expires > datetime.now(timezone.utc)  # not taken at once
    logs = [p.communicate(timeout=600)[0] for p in others]
    assert [p.returncode for p in others] == [0, 0, 0], logs

    shared = Repo(remote)
    branches = sorted(h.name for h in shared.heads if h.name.startswith("autodocket/"))
    ids = [t.id for t in docket.parse(synthetic_docket(12)).tasks]
    assert branches == sorted(f"autodocket/{i}" for i in ids)
    for task_id in ids:  # one commit, one evidence record per task, on the shared remote
        branch = f"autodocket/{task_id}"
        assert len(list(shared.iter_commits(f"main..{branch}"))) == 1
        files = shared.git.ls_tree("-r", "--name-only", branch).splitlines()
        assert [f for f in files if f.endswith("evidence.json")] == \
            [f"results/{task_id}/evidence.json"]
    # each task ran to a commit exactly once; the victim's task was resumed by another worker
    # only after its lease had run out
    finished = [ln.split("│")[1].strip() for log in logs for ln in log.splitlines()
                if "awaiting-review" in ln and ln.startswith("│")]
    assert sorted(finished) == sorted(ids)
    # at measure, or at verify again (LangGraph streams a node's update just before it writes
    # the checkpoint after it, and the kill can fall between the two), or later: under load the
    # victim runs on while this test reads its "verify done". Killed after measure's writes were
    # saved but before the checkpoint after it, the task was once started again from select:
    # LangGraph drops such a node from `next` (agents.loop._resume_at, test_resume_point.py)
    resumer = [log for log in logs if any(f"{killed_task}: resuming at {node}" in log
                                          for node in ("verify", "measure", "review", "commit"))]
    assert len(resumer) == 1, "\n".join(
        [f"w{i}: {ln}" for i, log in enumerate(logs, 1) for ln in log.splitlines()
         if killed_task in ln] + ["victim after the kill:", victim_rest[-3000:]])
    status = json.loads(subprocess.run(
        [sys.executable, "-m", "agents.cli", "workers", "--json"], cwd=clones[1], env={
            **env, "AUTODOCKET_DATABASE_URL": pg_url}, capture_output=True, text=True).stdout)
    states = {w["worker"]: w for w in status}
    assert states["victim"]["state"] == "lost" and states["victim"]["task"] == killed_task
    assert sum(w["tasks_done"] for w in status) == 12
    # the researcher, in a clone of their own sharing the database, approves one of them
    mine = Repo.clone_from(str(remote), tmp_path / "researcher")
    env_db = {**env, "AUTODOCKET_DATABASE_URL": pg_url}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "agents.cli", *args], env=env_db,
                              cwd=mine.working_tree_dir, capture_output=True, text=True)

    prs = json.loads(cli("prs", "--remote", "origin", "--json").stdout)
    assert sorted(p["task_id"] for p in prs) == sorted(ids)
    approved = cli("approve", ids[0], "--remote", "origin")
    assert approved.returncode == 0, approved.stderr
    assert f"autodocket/{ids[0]}" not in [h.name for h in shared.heads]
    assert shared.git.show("main:DOCKET.md").splitlines()[3].startswith("- [x]")


def test_nothing_else_runs_on_a_gpu_while_a_worker_times_on_it(tmp_path, monkeypatch):
    """A second worker on the same card waits for the first one's timed phase to end (the lock
    in detail: tests/bench/test_gpu_lock.py)."""
    import tempfile

    from tools.bench import _card_locks, gpu_lock
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "7")
    monkeypatch.delitem(_card_locks, "7", raising=False)  # lock files in this test's folder
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    holder = subprocess.Popen([sys.executable, "-c", (
        "import time\nfrom tools.bench import gpu_lock\n"
        "with gpu_lock('cuda', 'alone'):\n    print('held', flush=True)\n    time.sleep(3)\n")],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    assert holder.stdout.readline().strip() == "held"
    with gpu_lock("cuda") as waited:
        assert waited > 0.5  # held 3 s: margin for a loaded machine
    with gpu_lock("cpu") as waited:
        assert waited == 0.0
    holder.wait()


def test_run_workers_starts_one_worker_each_and_shares_the_docket(tmp_path):
    """`run --workers 2` on the CPU: two worker processes on the lab's own SQLite database."""
    from test_loop import cli, make_lab
    lab = make_lab(tmp_path)
    result = cli(lab, "run", "--workers", "2", "--max-tasks", "1", "--device", "cpu")
    assert result.returncode == 0, result.stdout + result.stderr
    logs = sorted((lab / ".autodocket" / "logs").glob("worker-*.log"))
    assert len(logs) == 2
    done = [log.read_text().count("commit done") for log in logs]
    assert done == [1, 1]  # each worker took one task, none took the other's
    status = json.loads(cli(lab, "workers", "--json").stdout)
    assert sorted(w["worker"] for w in status) == ["lab-w0", "lab-w1"]
    assert all(w["state"] == "stopped" and w["tasks_done"] == 1 for w in status)
    branches = [h.name for h in Repo(lab).heads if h.name.startswith("autodocket/")]
    assert sorted(branches) == ["autodocket/fused-bias-gelu", "autodocket/fused-row-softmax"]
