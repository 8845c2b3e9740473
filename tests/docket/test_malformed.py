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
