"""Bad input gives a clear error or a correct parse, never a traceback, and the file stays."""
import os
import subprocess
import sys

import pytest

import docket


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "agents.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, "COLUMNS": "200"})


@pytest.mark.parametrize("content, expected", [
    (b"## Pending Tasks\n- [ **Unclosed**: box\n", "line 2: checkbox is not closed"),
    (b"- [x text without closing bracket\n", "line 1: checkbox is not closed"),
    (b"# ok\n\xff\xfe garbage\n", "line 2: not UTF-8"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "NUL byte"),
])
def test_unreadable_dockets_exit_2_with_the_line_and_stay_untouched(tmp_path, content, expected):
    path = tmp_path / "DOCKET.md"
    path.write_bytes(content)
    for command in ("show", "next", "audit"):
        result = run_cli(command, "--docket", str(path))
        assert result.returncode == 2, result.stderr
        assert expected in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr
    assert path.read_bytes() == content


@pytest.mark.parametrize("content", ["", "# Only a heading\n", "## Pending Tasks\n\n\n",
                                     "- [ ]\n- [link](x)\n"])
def test_empty_and_heading_only_files_parse_to_no_tasks(content):
    d = docket.parse(content)
    assert d.tasks == [] and d.render() == content
    assert d.next_task() is None


def test_empty_docket_next_exits_1(tmp_path):
    path = tmp_path / "DOCKET.md"
    path.write_text("# Only a heading\n")
    result = run_cli("next", "--docket", str(path))
    assert result.returncode == 1 and "nothing left" in result.stderr


def test_missing_file_and_directory(tmp_path):
    for target in (tmp_path / "nope.md", tmp_path):
        result = run_cli("show", "--docket", str(target))
        assert result.returncode == 2 and "Traceback" not in result.stderr


def test_no_docket_found_is_a_configuration_error(tmp_path):
    result = run_cli("show", cwd=tmp_path)
    assert result.returncode == 2 and "no docket found" in result.stderr


def test_fifty_megabyte_docket_parses(tmp_path):
    line = "- [x] **Completed experiment {}**: " + "padding text " * 40 + "(2026-02-14)\n"
    chunk = "".join(line.format(i) for i in range(1000))
    text = "## Completed Tasks\n" + chunk * (50 * 2**20 // len(chunk) + 1)
    assert len(text) > 50 * 2**20
    d = docket.parse(text)
    assert len(d.tasks) > 90_000 and d.render() == text
    # 1000 distinct titles repeated: every repeat is an id-distinct duplicate
    assert d.tasks[1000].duplicate_of == d.tasks[0].id


def test_unclosed_fence_warns_instead_of_guessing():
    d = docket.parse("- [ ] A\n```\n- [ ] inside an unclosed fence\n")
    assert [t.title for t in d.tasks] == ["A"]
    assert any("never closed" in w for w in d.warnings)


def test_a_fifo_or_a_device_as_the_docket_is_refused_without_reading_it(tmp_path):
    """A FIFO would block the read forever and /dev/zero never end it: one line, exit 2."""
    fifo = tmp_path / "DOCKET.md"
    os.mkfifo(fifo)
    for path in (str(fifo), "/dev/zero"):
        result = subprocess.run([sys.executable, "-m", "agents.cli", "show", "--docket", path],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and "not a regular file" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_forty_thousand_identical_titles_get_their_ids_in_linear_time():
    """Each repeat used to count up from -2 again (quadratic: minutes for 40,000)."""
    d = docket.parse("".join("- [ ] Same title\n" for _ in range(40_000)))
    ids = [t.id for t in d.tasks]
    assert ids[:3] == ["same-title", "same-title-2", "same-title-3"]
    assert ids[-1] == "same-title-40000" and len(set(ids)) == 40_000
    assert all(t.duplicate_of == "same-title" for t in d.tasks[1:])


def test_a_docket_that_links_out_of_the_lab_is_refused(tmp_path):
    """autodocket ticks and commits inside the lab only: a link to a file elsewhere used to end
    every run as lost-lease."""
    from git import Repo
    elsewhere = tmp_path / "elsewhere.md"
    elsewhere.write_text("## Pending Tasks\n- [ ] **Softmax**: a row softmax kernel.\n")
    lab = tmp_path / "lab"
    lab.mkdir()
    Repo.init(lab)
    (lab / "DOCKET.md").symlink_to(elsewhere)
    result = run_cli("run", "--max-tasks", "1", "--device", "cpu", cwd=lab)
    assert result.returncode == 2 and "outside the lab" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (lab / ".autodocket").exists()


def test_ingesting_a_docket_from_elsewhere_writes_this_labs_database(tmp_path):
    from git import Repo
    other = tmp_path / "other-repo"
    other.mkdir()
    Repo.init(other)
    (other / "DOCKET.md").write_text("## Done\n- [x] **Softmax**: 1.5x vs eager.\n")
    lab = tmp_path / "lab"
    lab.mkdir()
    Repo.init(lab)
    (lab / "DOCKET.md").write_text("## Pending Tasks\n")
    result = run_cli("kg", "ingest-docket", str(other / "DOCKET.md"), cwd=lab)
    assert result.returncode == 0, result.stderr
    assert (lab / ".autodocket").is_dir() and not (other / ".autodocket").exists()
