"""The loop end to end on the offline backend (CPU), and the researcher's side of it."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from git import Repo

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "lab" / "DOCKET.md"


def cli(lab: Path, *args, timeout=600):
    return subprocess.run([sys.executable, "-m", "agents.cli", *args], cwd=lab,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "200"})


def make_lab(tmp_path: Path) -> Path:
    lab = tmp_path / "lab"
    lab.mkdir()
    (lab / "DOCKET.md").write_bytes(EXAMPLE.read_bytes())
    (lab / "notes.txt").write_text("researcher's notes\n")
    repo = Repo.init(lab, initial_branch="main")
    repo.index.add(["DOCKET.md", "notes.txt"])
    repo.index.commit("lab")
    return lab


@pytest.fixture(scope="module")
def ran_lab(tmp_path_factory):
    lab = make_lab(tmp_path_factory.mktemp("loop"))
    result = cli(lab, "run", "--max-tasks", "3", "--device", "cpu")
    assert result.returncode == 0, result.stderr
    return lab, result.stdout


def test_run_opens_three_verified_pull_requests(ran_lab):
    lab, out = ran_lab
    assert "offline backend" in out and "run summary" in out
    prs = json.loads(cli(lab, "prs", "--json").stdout)
    assert [p["task_id"] for p in prs] == ["fused-bias-gelu", "fused-row-softmax",
                                           "rmsnorm-with-residual"]
    for p in prs:
        assert p["verified"] == "proved" and p["merges_cleanly"] and p["vs_eager"] is None
        assert p["correct"] and p["council"] == "3/3 approve"
    repo = Repo(lab)
    assert repo.active_branch.name == "main" and not repo.is_dirty(untracked_files=False)
    evidence = json.loads(repo.git.show("autodocket/fused-row-softmax:results/fused-row-softmax/"
                                        "evidence.json"))
    assert evidence["timing"] is None and evidence["verification"]["status"] == "proved"
    assert evidence["verification"]["launches_on"] == "cpu"
    assert p["guarantee"].endswith("over its launches on the CPU (Triton's interpreter)")
    assert evidence["reproduce"].startswith("autodocket bench results/fused-row-softmax/")


def test_approve_two_in_reverse_order_and_reject_one(ran_lab):
    lab, _ = ran_lab
    before = (lab / "DOCKET.md").read_text().splitlines(keepends=True)
    (lab / "notes.txt").write_text("uncommitted edit the loop must not touch\n")
    assert cli(lab, "approve", "rmsnorm-with-residual").returncode == 0
    assert cli(lab, "approve", "fused-row-softmax").returncode == 0
    rejected = cli(lab, "reject", "fused-bias-gelu", "--reason", "try eight warps")
    assert rejected.returncode == 0 and "queued" in rejected.stdout
    repo = Repo(lab)
    merges = [c for c in repo.iter_commits("main") if len(c.parents) == 2]
    assert len(merges) == 2
    after = (lab / "DOCKET.md").read_text().splitlines(keepends=True)
    changed = [l for l in after if l not in before]
    assert len(changed) == 4  # two ticked lines and two evidence lines
    assert sum(l.startswith("- [x]") for l in changed) == 2
    assert all("results/" in l and "evidence.json" in l for l in changed if l.startswith("  -"))
    assert len(after) == len(before) + 2
    assert (lab / "notes.txt").read_text() == "uncommitted edit the loop must not touch\n"
    nxt = json.loads(cli(lab, "next", "--json").stdout)
    assert nxt["id"] == "fused-bias-gelu"  # back in the queue
    audit = json.loads(cli(lab, "audit", "--json").stdout)
    assert not [e for e in audit["entries"] if e["task_id"] in ("fused-row-softmax",
                                                                 "rmsnorm-with-residual")]


def test_prs_flags_a_branch_that_no_longer_merges(tmp_path):
    lab = make_lab(tmp_path)
    assert cli(lab, "run", "--max-tasks", "1", "--device", "cpu").returncode == 0
    repo = Repo(lab)
    target = lab / "results" / "fused-row-softmax" / "kernel.py"
    target.parent.mkdir(parents=True)
    target.write_text("# the researcher wrote their own\n")
    repo.index.add([str(target.relative_to(lab))])
    repo.index.commit("conflicting file on main")
    [pr] = json.loads(cli(lab, "prs", "--json").stdout)
    assert pr["merges_cleanly"] is False


def test_lab_b_pending_tasks_handled_honestly(tmp_path):
    lab = tmp_path / "lab-b"
    lab.mkdir()
    src = Path(__file__).resolve().parents[1] / "fixtures" / "docket-lucca-lab-b.md"
    (lab / "DOCKET.md").write_bytes(src.read_bytes())
    repo = Repo.init(lab, initial_branch="main")
    repo.index.add(["DOCKET.md"])
    repo.index.commit("lab b")
    result = cli(lab, "run", "--max-tasks", "2", "--device", "cpu")
    assert result.returncode == 0, result.stderr
    shown = {t["id"]: t["status"] for t in json.loads(cli(lab, "show", "--json").stdout)["tasks"]}
    assert shown["hardware-aware-neural-symbolic-synthesis-for-sm-120-v2"] == "awaiting-review"
    assert shown["latent-space-diffusion-steering-for-temporal-video-consistency-v2"] \
        == "needs-human"
    assert (lab / "DOCKET.md").read_bytes() == src.read_bytes()  # nothing ticked by the loop
    ev = json.loads(repo.git.show("autodocket/hardware-aware-neural-symbolic-synthesis-for-sm-"
                                  "120-v2:results/hardware-aware-neural-symbolic-synthesis-for-"
                                  "sm-120-v2/evidence.json"))
    assert ev["coder"]["note"].startswith("quant_int3 template")


@pytest.mark.parametrize("boundary", ["plan", "code", "verify", "measure", "review", "commit"])
def test_killed_run_resumes_with_one_branch_and_one_evidence(tmp_path, boundary):
    lab = make_lab(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "agents.cli", "run", "--max-tasks", "1",
                             "--device", "cpu"], cwd=lab, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    for line in proc.stdout:  # SIGKILL as soon as that node has finished
        if f"{boundary} done" in line:
            os.killpg(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    resumed = cli(lab, "run", "--max-tasks", "1", "--device", "cpu")
    assert resumed.returncode == 0, resumed.stderr
    if boundary != "commit":  # after the commit the graph may already wait for approval
        assert "resuming at" in resumed.stdout
    repo = Repo(lab)
    branches = [h.name for h in repo.heads if h.name.startswith("autodocket/")]
    # the killed task got exactly one branch; after "commit done" it already awaits review,
    # so the rerun took the next task instead
    expected = ["autodocket/fused-row-softmax"] + (
        ["autodocket/fused-bias-gelu"] if boundary == "commit" else [])
    assert sorted(branches) == sorted(expected)
    commits = list(repo.iter_commits("main..autodocket/fused-row-softmax"))
    assert len(commits) == 1
    files = repo.git.ls_tree("-r", "--name-only", "autodocket/fused-row-softmax").splitlines()
    assert files.count("results/fused-row-softmax/evidence.json") == 1
    assert (lab / "DOCKET.md").read_bytes() == EXAMPLE.read_bytes()


KILLING_GIT = """#!/bin/bash
# stands in for git: on the first `commit`, kills the whole run before or after the commit
real=$(PATH=${PATH#*:} command -v git)
if [[ " $* " == *" commit "* && -e "$KILL_TRIGGER" ]]; then
  rm -f "$KILL_TRIGGER"
  [ "$KILL_WHEN" = after ] && "$real" "$@"
  kill -KILL -- -$(ps -o pgid= $$ | tr -d " ")
fi
exec "$real" "$@"
"""


@pytest.mark.parametrize("when", ["before", "after"])
def test_killed_mid_commit_resumes_with_one_commit(tmp_path, when):
    """The whole run is killed inside `git commit`: before the commit object exists (files
    staged) or after it exists but before the node returns. (git hooks would be the natural
    trap, but autodocket runs git with hooks off: a stand-in git on PATH does it.)"""
    lab = make_lab(tmp_path)
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "git").write_text(KILLING_GIT)
    (shim / "git").chmod(0o755)
    trigger = tmp_path / "kill-once"
    trigger.touch()
    env = {**os.environ, "PATH": f"{shim}:{os.environ['PATH']}", "KILL_TRIGGER": str(trigger),
           "KILL_WHEN": when}
    proc = subprocess.run([sys.executable, "-m", "agents.cli", "run", "--max-tasks", "1",
                           "--device", "cpu"], cwd=lab, capture_output=True, text=True,
                          start_new_session=True, timeout=600, env=env)
    assert proc.returncode == -signal.SIGKILL and not trigger.exists()
    # a git killed while it writes the index also leaves its lock behind
    worktree = Repo(lab / ".autodocket" / "worktrees" / "fused-row-softmax")
    (Path(worktree.git_dir) / "index.lock").touch()
    resumed = cli(lab, "run", "--max-tasks", "1", "--device", "cpu")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resuming at commit" in resumed.stdout
    repo = Repo(lab)
    assert [h.name for h in repo.heads if h.name.startswith("autodocket/")] == \
        ["autodocket/fused-row-softmax"]
    assert len(list(repo.iter_commits("main..autodocket/fused-row-softmax"))) == 1
    prs = json.loads(cli(lab, "prs", "--json").stdout)
    assert [p["task_id"] for p in prs] == ["fused-row-softmax"]
    assert (lab / "DOCKET.md").read_bytes() == EXAMPLE.read_bytes()


def test_knowledge_is_committed_and_rebuilt_from_the_repo_alone(tmp_path):
    import shutil
    lab = make_lab(tmp_path)
    assert cli(lab, "run", "--max-tasks", "1", "--device", "cpu").returncode == 0
    assert cli(lab, "approve", "fused-row-softmax").returncode == 0
    assert cli(lab, "kg", "ingest-docket", "DOCKET.md").returncode == 0
    facts = (lab / "knowledge" / "facts.jsonl").read_text().splitlines()
    assert any('"decision"' in f for f in facts)
    assert "fused-row-softmax" in (lab / "knowledge" / "KNOWLEDGE.md").read_text()
    assert "knowledge/facts.jsonl" in Repo(lab).git.show("--name-only", "HEAD")
    before = json.loads(cli(lab, "kg", "query", "fused row softmax", "--json").stdout)
    shutil.rmtree(lab / ".autodocket")
    assert cli(lab, "kg", "rebuild").returncode == 0
    after = json.loads(cli(lab, "kg", "query", "fused row softmax", "--json").stdout)
    strip = lambda hits: sorted((h["subject"], h["predicate"], h["object"], h["value"],
                                 h["valid_from"], h["valid_to"]) for h in hits)
    assert before and strip(after) == strip(before)


def test_kg_cli_bad_query_is_one_line_exit_2(tmp_path):
    lab = make_lab(tmp_path)
    result = cli(lab, "kg", "query", "   ")
    assert result.returncode == 2 and "empty query" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_reproduce_reruns_the_recorded_measurement(tmp_path):
    lab = make_lab(tmp_path)
    assert cli(lab, "run", "--max-tasks", "1", "--device", "cpu").returncode == 0
    pending = json.loads(cli(lab, "reproduce", "fused-row-softmax", "--device", "cpu",
                             "--json").stdout)
    assert pending["reproduced"] and pending["correct"] and pending["rows"] == []
    assert cli(lab, "approve", "fused-row-softmax").returncode == 0
    result = cli(lab, "reproduce", "fused-row-softmax", "--device", "cpu")
    assert result.returncode == 0 and "reproduced" in result.stdout
    assert cli(lab, "reproduce", "no-such-task").returncode == 2


def test_ctrl_c_stops_after_the_node_and_the_next_run_resumes(tmp_path):
    lab = make_lab(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "agents.cli", "run", "--max-tasks", "1",
                             "--device", "cpu"], cwd=lab, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "code done" in line:
            proc.send_signal(signal.SIGINT)
    assert proc.wait(120) == 0, "".join(lines)
    out = "".join(lines)
    assert "stopped after this node" in out and "stopped" in out
    assert not [h for h in Repo(lab).heads if h.name.startswith("autodocket/")]
    resumed = cli(lab, "run", "--max-tasks", "1", "--device", "cpu")
    assert "resuming at" in resumed.stdout and "awaiting-review" in resumed.stdout


def test_select_skips_a_task_the_researcher_ticked_meanwhile(tmp_path):
    from langgraph.checkpoint.memory import InMemorySaver

    from agents.config import find_lab
    from agents.graph import build
    lab = make_lab(tmp_path)
    docket = lab / "DOCKET.md"
    docket.write_text(docket.read_text().replace("- [ ] **Fused Row Softmax**",
                                                 "- [x] **Fused Row Softmax**"))
    graph = build().compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t", "lab_root": str(lab), "device": "cpu"}}
    state = {"docket_key": "DOCKET.md",
             "backend": {"planner": "offline", "coder": "offline", "council": "offline"}}
    done = graph.invoke({**state, "task_id": "fused-row-softmax"}, config)
    assert done["outcome"] == "skipped" and not graph.get_state(config).next
    # an open task is taken as the docket has it now, and marked in-progress
    config = {"configurable": {**config["configurable"], "thread_id": "u"}}
    for update in graph.stream({**state, "task_id": "fused-bias-gelu"}, config,
                               stream_mode="updates"):
        if "select" in update:
            assert update["select"]["title"] == "Fused Bias + GELU"
            break
    assert find_lab(docket).store().all()["fused-bias-gelu"].status == "in-progress"


def test_one_wording_of_a_measured_result():
    from agents.report import speedup_phrase
    sets = [{"input_set": "default", "vs_eager": 1.612, "vs_compile": 1.004},
            {"input_set": "set1", "vs_eager": 9.0, "vs_compile": None}]
    assert speedup_phrase(sets, "NVIDIA H100 80GB HBM3") == (
        "1.61x vs eager, 1.00x vs torch.compile on NVIDIA H100 80GB HBM3 (default input set)")
    assert speedup_phrase(sets[1:]) == "9.00x vs eager (set1 input set)"
    assert speedup_phrase([]) is None and speedup_phrase([{"input_set": "default",
                                                          "vs_eager": None}]) is None


def test_the_guarantee_says_where_the_launches_proved_were_recorded():
    """A proof is of the launches recorded on one device (a persistent grid differs between
    the card and the CPU): the guarantee names it; evidence from before says nothing of it."""
    from agents.report import guarantee
    card = {"verification": {"status": "proved", "launches_on": "cuda"},
            "device": {"name": "NVIDIA H200"}}
    assert guarantee(card) == "proved in bounds and race-free by Z3 over its launches on the " \
        "NVIDIA H200"
    cpu = {"verification": {"status": "proved", "launches_on": "cpu"}, "device": {}}
    assert guarantee(cpu).endswith("over its launches on the CPU (Triton's interpreter)")
    assert guarantee({"verification": {"status": "proved"}}) == \
        "proved in bounds and race-free by Z3"


def test_the_verification_line_says_why_instead_of_printing_empty_fields():
    from agents.report import verification_line
    assert verification_line({"status": "proved", "counts": {"proved": 6},
                              "analysis_seconds": 0.31}) == \
        "**proved** — 6 proved, analysis 0.31 s"
    cuda = {"status": "unsupported", "counts": {}, "analysis_seconds": None,
            "unsupported": ["C++/CUDA extension: Z3 reads Triton kernels only"]}
    assert verification_line(cuda) == \
        "**unsupported** — C++/CUDA extension: Z3 reads Triton kernels only"
    assert verification_line({"status": "error", "error": "no such file"}) == \
        "**error** — no such file"
