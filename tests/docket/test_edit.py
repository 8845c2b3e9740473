"""Edits touch only the lines a task owns, and saving never clobbers someone else's edit."""
import difflib
import os

import pytest

import docket


def diff(before: str, after: str) -> list[str]:
    return [l for l in difflib.unified_diff(before.splitlines(True), after.splitlines(True), n=0)
            if l[:1] in "+-" and not l.startswith(("+++", "---"))]


def test_tick_with_evidence_changes_exactly_two_lines(seed_copy):
    path = seed_copy("docket-lucca-lab-a.md")
    before = path.read_text()
    d = docket.load(path)
    task = d.next_task()
    evidence = ("1.62x vs torch.compile on NVIDIA H100 "
                f"(results/{task.id}/evidence.json, commit abc1234)")
    assert d.tick(task.id, evidence=evidence)
    d.save()
    after = path.read_text()
    old_line = before.splitlines(True)[task.line - 1]
    assert diff(before, after) == [
        "-" + old_line,
        "+" + old_line.replace("- [ ]", "- [x]", 1),
        f"+  - result: {evidence}\n",
    ]
    reread = docket.load(path)
    assert reread.task(task.id).checked and reread.task(task.id).evidence == [evidence]
    assert reread.next_task() is None or reread.next_task().id != task.id


def test_tick_is_idempotent_and_keeps_line_endings():
    text = "## Pending Tasks\r\n- [ ] **K**: fuse\r\n  - note: first\r\n\r\n- [ ] **L**: next"
    d = docket.parse(text)
    assert d.tick("k", evidence="2x")
    assert not d.tick("k", evidence="2x")
    assert d.render() == ("## Pending Tasks\r\n- [x] **K**: fuse\r\n  - note: first\r\n"
                          "  - result: 2x\r\n\r\n- [ ] **L**: next")
    d.tick("l", evidence="3x")  # last line, no final newline: the file still has none
    assert d.render().endswith("- [x] **L**: next\r\n  - result: 3x")


def test_set_status_replaces_its_own_line():
    d = docket.parse("- [ ] **A**: x\n  * status: parked (old)\n- [ ] **B**: y\n")
    assert d.set_status("a", "parked", "not a kernel task")
    assert d.render() == "- [ ] **A**: x\n  * status: parked (not a kernel task)\n- [ ] **B**: y\n"
    assert not d.set_status("a", "parked", "not a kernel task")
    d.set_status("b", "needs-human")
    assert d.render().endswith("- [ ] **B**: y\n  - status: needs-human\n")


def test_edits_refuse_bad_targets():
    d = docket.parse("| **S-1** | **Router** | route | std < 3% |\n- [ ] T\n")
    with pytest.raises(docket.DocketError, match="plan-table row"):
        d.tick("s-1-router")
    with pytest.raises(docket.DocketError, match="no task"):
        d.tick("missing")
    with pytest.raises(docket.DocketError, match="one line"):
        d.tick("t", evidence="two\nlines")
    assert d.render() == "| **S-1** | **Router** | route | std < 3% |\n- [ ] T\n"


def test_save_refuses_a_file_changed_since_read(seed_copy):
    path = seed_copy("docket-lucca-lab-a.md")
    d = docket.load(path)
    researcher_edit = path.read_text() + "- [ ] **New idea**: added while the loop ran\n"
    path.write_text(researcher_edit)
    d.tick(d.next_task().id)
    with pytest.raises(docket.DocketConflict, match="changed on disk"):
        d.save()
    assert path.read_text() == researcher_edit
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left


def test_save_is_atomic_and_keeps_mode(seed_copy):
    path = seed_copy("docket-lucca-lab-b.md")
    os.chmod(path, 0o640)
    inode = path.stat().st_ino
    d = docket.load(path)
    d.tick(d.next_task().id)
    d.save()
    assert path.stat().st_ino != inode  # replaced by rename, not rewritten in place
    assert path.stat().st_mode & 0o777 == 0o640
    d.tick(d.next_task().id)  # a second save after our own save is not a conflict
    d.save()
    assert all(t.checked for t in docket.load(path).tasks)  # 76 checked + the 2 pending
