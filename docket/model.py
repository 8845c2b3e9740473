"""The Docket: parsed tasks over the original lines, line-owned edits, and safe saving."""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from .parser import DocketError, Task, content_of, parse_lines, split_lines

MAX_BYTES = 256 * 1024 * 1024
PENDING_SECTION = re.compile(r"pending|to-?do|backlog|next up", re.IGNORECASE)


class DocketConflict(DocketError):
    """The file changed on disk after it was read; saving would lose someone's edit."""


def decode(data: bytes) -> str:
    """UTF-8 text of a docket, or a DocketError naming the first unreadable line."""
    if len(data) > MAX_BYTES:
        raise DocketError(f"file is {len(data) / 2**20:.0f} MiB; dockets over "
                          f"{MAX_BYTES // 2**20} MiB are refused")
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise DocketError(f"line {line}: NUL byte; this is a binary file, not a Markdown docket")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise DocketError(f"line {line}: not UTF-8 text (byte 0x{data[err.start]:02x})") from None


class Docket:
    def __init__(self, text: str, path: Path | None = None, source_digest: str | None = None):
        self.path = path
        self.lines = split_lines(text)
        self._source_digest = source_digest
        self._reparse()
        self._parse()  # unreadable text fails here, at load, not at first use

    def _reparse(self) -> None:
        """Mark the parse stale after an edit; the next read of the tasks parses again."""
        self._parsed: tuple[list[Task], list[str], dict[str, Task]] | None = None

    def _parse(self) -> tuple[list[Task], list[str], dict[str, Task]]:
        if self._parsed is None:
            tasks, warnings = parse_lines(self.lines)
            self._parsed = tasks, warnings, {t.id: t for t in tasks}
        return self._parsed

    @property
    def tasks(self) -> list[Task]:
        return self._parse()[0]

    @property
    def warnings(self) -> list[str]:
        return self._parse()[1]

    # reading -----------------------------------------------------------------------------
    def render(self) -> str:
        return "".join(self.lines)

    def task(self, task_id: str) -> Task:
        try:
            return self._parse()[2][task_id]
        except KeyError:
            raise DocketError(f"no task with id {task_id!r}") from None

    @property
    def duplicates(self) -> list[list[str]]:
        """Groups of task ids that share a title, first occurrence first."""
        groups: dict[str, list[str]] = {}
        for t in self.tasks:
            if t.duplicate_of:
                groups.setdefault(t.duplicate_of, [t.duplicate_of]).append(t.id)
        return list(groups.values())

    def open_tasks(self, skip: set[str] | frozenset[str] = frozenset(),
                   done: set[str] | frozenset[str] = frozenset()) -> list[Task]:
        """Open tasks in the order they are taken: those under a pending section first, then
        the others, each in file order.

        `skip`: ids autodocket holds elsewhere (in progress, awaiting review, parked);
        `done`: ids with an evidence record (how plan-table rows become done).
        """
        candidates = [t for t in self.tasks
                      if not t.checked and t.id not in skip and t.id not in done]
        is_pending = [bool(t.section and PENDING_SECTION.search(t.section)) for t in candidates]
        return ([t for t, p in zip(candidates, is_pending) if p] +
                [t for t, p in zip(candidates, is_pending) if not p])

    def next_task(self, skip: set[str] | frozenset[str] = frozenset(),
                  done: set[str] | frozenset[str] = frozenset()) -> Task | None:
        """The first of `open_tasks`."""
        tasks = self.open_tasks(skip, done)
        return tasks[0] if tasks else None

    # editing: each edit touches only the lines the task owns --------------------------------
    def tick(self, task_id: str, evidence: str | None = None) -> bool:
        """Check the task's box and, with `evidence`, append a ``- result:`` sub-item.

        Idempotent: ticking a ticked task with evidence already present changes nothing.
        Returns whether the text changed.
        """
        task = self.task(task_id)
        note = None if evidence is None else f"result: {_one_line(evidence)}"  # validate first
        if task.kind == "table" or task.box_col is None:
            raise DocketError(f"{task_id} is a plan-table row: it is done by its evidence record, "
                              "not by a tick")
        changed = False
        if not task.checked:
            i = task.line - 1
            line = self.lines[i]
            if line[task.box_col] != " ":
                raise DocketError(f"line {task.line}: checkbox moved since the docket was read")
            self.lines[i] = line[: task.box_col] + "x" + line[task.box_col + 1:]
            changed = True
        if note is not None:
            changed = self._add_sub_item(task, note) or changed
        if changed:
            self._reparse()
        return changed

    def set_status(self, task_id: str, status: str, note: str | None = None) -> bool:
        """Write ``- status: STATUS (note)`` under the task, replacing an earlier status line."""
        task = self.task(task_id)
        if task.kind == "table":
            raise DocketError(f"{task_id} is a plan-table row: it has no lines for a status")
        text = f"status: {_one_line(status)}" + (f" ({_one_line(note)})" if note else "")
        for sub in task.sub_items:
            if sub.text.lower().startswith("status:"):
                i = sub.line - 1
                old = content_of(self.lines[i])
                new = old[: old.index(sub.text)] + text
                if new == old:
                    return False
                self.lines[i] = new + self.lines[i][len(old):]
                self._reparse()
                return True
        changed = self._add_sub_item(task, text)
        if changed:
            self._reparse()
        return changed

    def _add_sub_item(self, task: Task, text: str) -> bool:
        if any(sub.text == text for sub in task.sub_items):
            return False
        if task.kind == "table":
            raise DocketError(f"{task.id} is a plan-table row: sub-items cannot go under it")
        after = task.end_line - 1  # index of the task's last non-blank line
        indent = task.child_indent
        marker = "-"
        if task.sub_items:
            first = content_of(self.lines[task.sub_items[0].line - 1])
            marker = first.lstrip(" \t")[0] if first.lstrip(" \t")[0] in "-*+" else "-"
        eol = _eol_of(self.lines[task.line - 1]) or self._dominant_eol()
        new_line = f"{indent}{marker} {text}"
        prev = self.lines[after]
        if _eol_of(prev):
            self.lines.insert(after + 1, new_line + eol)
        else:  # the task ends the file without a final newline: keep it that way
            self.lines[after] = prev + eol
            self.lines.insert(after + 1, new_line)
        return True

    def _dominant_eol(self) -> str:
        crlf = sum(1 for line in self.lines if line.endswith("\r\n"))
        return "\r\n" if crlf * 2 > len(self.lines) else "\n"

    # saving --------------------------------------------------------------------------------
    def save(self, path: str | Path | None = None) -> None:
        """Atomic write (temp file + rename). Refuses to overwrite the file it was loaded from
        if that file changed on disk since it was read."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise DocketError("this docket was parsed from text: give save() a path")
        data = self.render().encode("utf-8")
        same_file = self.path is not None and target.resolve() == self.path.resolve()
        if same_file and self._source_digest is not None:
            try:
                on_disk = target.read_bytes()
            except FileNotFoundError:
                raise DocketConflict(f"{target}: deleted since it was read; not recreated") from None
            if _digest(on_disk) != self._source_digest:
                raise DocketConflict(f"{target}: changed on disk since it was read; "
                                     "reload and redo the edit")
        mode = target.stat().st_mode & 0o7777 if target.exists() else 0o644
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        if same_file or self.path is None:
            self.path = target
            self._source_digest = _digest(data)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _eol_of(line: str) -> str:
    return line[len(content_of(line)):]


def _one_line(text: str) -> str:
    if "\n" in text or "\r" in text:
        raise DocketError("docket annotations must be one line")
    return text.strip()


def parse(text: str) -> Docket:
    return Docket(text)


def _read_regular(path: Path) -> bytes:
    """The bytes of a regular file, at most MAX_BYTES + 1 of them: a FIFO would block the
    read forever and /dev/zero never end it."""
    import stat
    with open(path, "rb", opener=lambda p, flags: os.open(p, flags | os.O_NONBLOCK)) as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise DocketError(f"{path}: not a regular file (a FIFO, device or socket); a docket "
                              "is a Markdown file")
        return handle.read(MAX_BYTES + 1)


def load(path: str | Path) -> Docket:
    path = Path(path)
    try:
        data = _read_regular(path)
    except FileNotFoundError:
        raise DocketError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DocketError(f"{path}: is a directory, not a docket") from None
    except PermissionError:
        raise DocketError(f"{path}: permission denied") from None
    try:
        return Docket(decode(data), path=path, source_digest=_digest(data))
    except DocketError as err:
        raise DocketError(f"{path}: {err}") from None
