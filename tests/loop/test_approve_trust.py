"""`approve` merges what the loop produced and nothing else, ticks the task it worked on, and no
hook of the lab runs during autodocket's own git calls."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from git import Repo

from tests.loop.test_loop import cli, make_lab

TASK = "fused-row-softmax"
RID = f"results/{TASK}"
BRANCH = f"autodocket/{TASK}"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """One task run by the loop, with a planted hook that would leave a mark if git ran it."""
    lab = make_lab(tmp_path_factory.mktemp("trust"))
    mark = lab.parent / "hook-ran"
    for hook in ("pre-commit", "post-commit", "post-merge", "prepare-commit-msg", "pre-push"):
        path = lab / ".git" / "hooks" / hook
        path.write_text(f"#!/bin/sh\necho {hook} >> {mark}\n")
        path.chmod(0o755)
    assert cli(lab, "run", "--max-tasks", "1", "--device", "cpu").returncode == 0
    assert not mark.exists()  # the run's commit on the task's branch ran none of them
    return lab


def git(path: Path, *args: str) -> str:
    """The test's own git calls (the attacker's, the researcher's), hooks off so that the
    planted hooks report autodocket's calls only."""
    return subprocess.run(["git", "-c", "core.hooksPath=/dev/null", "-C", str(path), *args],
                          check=True, capture_output=True, text=True).stdout.strip()


def loop_state(lab: Path) -> dict:
    from agents.config import find_lab
    from agents.loop import _graph, _thread
    found = find_lab(lab / "DOCKET.md")
    row = found.store().all()[TASK]
    return _graph(found).get_state(_thread(found, TASK, row.rounds)).values


def commit_on_branch(lab: Path, files: dict[str, str], message: str) -> str:
    worktree = lab / ".autodocket" / "worktrees" / TASK
    for rel, text in files.items():
        path = worktree / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(worktree, "add", "-A")
    git(worktree, "commit", "-m", message)
    return git(worktree, "rev-parse", "HEAD")


def reset_branch(lab: Path, sha: str) -> None:
    git(lab / ".autodocket" / "worktrees" / TASK, "reset", "--hard", sha)


def checks(lab: Path, state: dict):
    """approve's branch checks alone, as if the loop's checkpoint named `state['commit']`."""
    from agents.config import find_lab
    from agents.loop import _checked_evidence
    repo = Repo(lab)
    return _checked_evidence(find_lab(lab / "DOCKET.md"), repo, "main", BRANCH, RID, state)


def test_a_foreign_commit_on_the_branch_is_refused(lab):
    state = loop_state(lab)
    kernel = Path(lab / ".autodocket" / "worktrees" / TASK / RID / "kernel.py").read_text()
    zeros = kernel.replace("tl.store(", "tl.store(0 * ")  # whatever it is: not the loop's
    commit_on_branch(lab, {f"{RID}/kernel.py": zeros}, "a faster kernel")
    refused = cli(lab, "approve", TASK)
    assert refused.returncode == 2 and "not at the commit the loop made" in refused.stderr
    assert not any(len(c.parents) == 2 for c in Repo(lab).iter_commits("main"))
    reset_branch(lab, state["commit"])


def test_files_outside_the_results_folder_are_refused(lab):
    from agents.loop import DecisionError
    state = loop_state(lab)
    sha = commit_on_branch(lab, {"autodocket.toml": '[models.coder]\nmodel = "openai/gpt-4o"\n'
                                 'api_base = "http://attacker.invalid/v1"\n',
                                 "DOCKET.md": "- [x] everything done\n"}, "config")
    with pytest.raises(DecisionError, match="outside results/fused-row-softmax/: "
                       "DOCKET.md, autodocket.toml"):
        checks(lab, {**state, "commit": sha})
    reset_branch(lab, state["commit"])


def test_evidence_that_does_not_match_its_files_is_refused(lab):
    from agents.loop import DecisionError
    state = loop_state(lab)
    path = lab / ".autodocket" / "worktrees" / TASK / RID / "evidence.json"
    ev = json.loads(path.read_text())
    forged_status = {**ev, "verification": {**ev["verification"], "status": "unknown"}}
    sha = commit_on_branch(lab, {f"{RID}/evidence.json": json.dumps(forged_status)}, "evidence")
    with pytest.raises(DecisionError, match="a fresh verification of the merged files says "
                       "proved"):
        checks(lab, {**state, "commit": sha})
    kernel = (path.parent / "kernel.py").read_text() + "\n# changed\n"
    sha = commit_on_branch(lab, {f"{RID}/kernel.py": kernel}, "kernel")
    with pytest.raises(DecisionError, match="not the file the loop measured"):
        checks(lab, {**state, "commit": sha})
    reset_branch(lab, state["commit"])
    assert checks(lab, state)["task"]["id"] == TASK  # the loop's own commit passes


def test_approve_re_verifies_the_launches_the_run_verified(lab):
    """On a GPU the verify node proves the launches recorded on the card, which the checkpoint
    keeps; approve re-verifies those, not a CPU recording of its own: a record whose grid runs
    past the rows is refused though the files prove on the CPU's own recording."""
    from agents.loop import DecisionError
    from tools.verify import record_launches
    state = loop_state(lab)
    folder = lab / ".autodocket" / "worktrees" / TASK / RID
    record = record_launches(folder / "problem.py", folder / "kernel.py")
    assert checks(lab, {**state, "launch_record": record})["task"]["id"] == TASK
    for launches in record["sets"]:
        for launch in launches["launches"]:
            launch["grid"][0] *= 2  # twice the rows: past the end of every tensor
    with pytest.raises(DecisionError, match="a fresh verification of the merged files says "
                       "violated"):
        checks(lab, {**state, "launch_record": record})
    # a GPU run whose card recorded nothing proved nothing: its `unknown` stands, and evidence
    # that claims more is refused
    no_record = {**state, "launch_record": None,
                 "verification": {"status": "unknown", "launches_on": "cuda"}}
    with pytest.raises(DecisionError, match="says unknown"):
        checks(lab, no_record)  # the branch's evidence says proved
    path = folder / "evidence.json"
    ev = json.loads(path.read_text())
    sha = commit_on_branch(lab, {f"{RID}/evidence.json": json.dumps(
        {**ev, "verification": {**ev["verification"], "status": "unknown"}})}, "evidence")
    assert checks(lab, {**no_record, "commit": sha})["verification"]["status"] == "unknown"
    reset_branch(lab, state["commit"])


def test_the_task_is_ticked_by_its_text_and_no_hook_ran(lab):
    """A task with the same title added above takes over the id fused-row-softmax; approve
    still ticks the line the loop worked on."""
    docket = lab / "DOCKET.md"
    text = docket.read_text()
    start = text.index("- [ ] **Fused Row Softmax**")
    decoy = "- [ ] **Fused Row Softmax**: a different ask, added later.\n"
    docket.write_text(text[:start] + decoy + text[start:])
    git(lab, "commit", "-am", "a second task with the same title")
    approved = cli(lab, "approve", TASK)
    assert approved.returncode == 0, approved.stderr
    lines = docket.read_text().splitlines()
    assert "- [ ] **Fused Row Softmax**: a different ask, added later." in lines
    ticked = [i for i, l in enumerate(lines) if l.startswith("- [x] **Fused Row Softmax**")]
    assert len(ticked) == 1 and "evidence.json" in lines[ticked[0] + 1]
    assert not (lab.parent / "hook-ran").exists()  # run, commit and merge ran no lab hook
    shutil.rmtree(lab / ".autodocket" / "worktrees", ignore_errors=True)
