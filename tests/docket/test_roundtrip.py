"""Parse -> render with no edit gives back the exact bytes, whatever the file looks like."""
import string

from hypothesis import given, settings, strategies as st

import docket
from conftest import FIXTURES

SEEDS = ["docket-lucca-lab-a.md", "docket-lucca-lab-b.md", "plan-algorithm-gaps.md"]


def test_seed_files_round_trip_byte_for_byte(tmp_path):
    for name in SEEDS:
        data = (FIXTURES / name).read_bytes()
        d = docket.load(FIXTURES / name)
        assert d.render().encode("utf-8") == data
        out = tmp_path / name
        d.save(out)
        assert out.read_bytes() == data


def test_crlf_bom_and_missing_final_newline_round_trip():
    text = "\ufeff# Docket\r\n## Pending Tasks\r\n- [ ] **A**: x  \r\n- [x] B\t\r\n- [ ] é ünïcode"
    assert docket.parse(text).render() == text
    assert [t.title for t in docket.parse(text).tasks] == ["A", "B", "é ünïcode"]


_pieces = st.sampled_from([
    "# Heading", "## Pending Tasks", "## Completed Tasks", "", "   ", "\t",
    "- [ ] **Title**: text (2026-02-17)", "- [x] Plain: item", "* [X] star", "1. [ ] numbered",
    "  - sub item", "    - [ ] deep sub", "  - result: 1.5x", "```", "~~~", "<!--", "-->",
    "| **S-1** | **Name** | what | crit |", "| ID | a | b |", "text paragraph", "> quote",
    "- [link](url)", "---", "- [ ]", "- [x]  trailing  ",
])
_eols = st.sampled_from(["\n", "\r\n"])
_noise = st.text(alphabet=string.printable.replace("\n", "").replace("\r", "") + "éü→×", max_size=12)


@st.composite
def dockets(draw):
    lines = draw(st.lists(st.tuples(_pieces, _noise, _eols), max_size=40))
    text = "".join(p + (n if draw(st.booleans()) else "") + e for p, n, e in lines)
    if text and draw(st.booleans()):
        text = text.rstrip("\r\n")  # no final newline
    return text


@settings(max_examples=300, deadline=None)
@given(dockets())
def test_random_dockets_round_trip(text):
    try:
        d = docket.parse(text)
    except docket.DocketError as err:  # a clear error naming a line is also acceptable
        assert str(err).startswith("line ")
        return
    assert d.render() == text
    for t in d.tasks:
        assert 1 <= t.line <= t.end_line <= max(1, len(d.lines))


@settings(max_examples=200, deadline=None)
@given(dockets(), st.data())
def test_random_tick_changes_only_the_task_lines(text, data):
    try:
        d = docket.parse(text)
    except docket.DocketError:
        return
    open_tasks = [t for t in d.tasks if t.kind == "checklist" and not t.checked]
    if not open_tasks:
        return
    task = data.draw(st.sampled_from(open_tasks))
    before = list(d.lines)
    d.tick(task.id, evidence="2.0x vs eager (results/x/evidence.json)")
    after = d.lines
    assert len(after) == len(before) + 1
    i, j = task.line - 1, task.end_line  # the insertion goes right after the task's last line
    assert after[:i] == before[:i]
    assert after[j + 1:] == before[j:]
    col = task.box_col
    ticked = before[i][:col] + "x" + before[i][col + 1:]
    # a last line without newline gains one, and the new sub-item becomes the unterminated one
    assert after[i] == ticked or (not before[-1].endswith("\n") and after[i].rstrip("\r\n") == ticked)
    assert d.render().endswith("\n") == text.endswith("\n")
    assert docket.parse(d.render()).task(task.id).checked
