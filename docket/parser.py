"""Line-based, lossless reading of a Markdown docket.

The parser never rewrites text: it keeps every line with its own line ending and records, for
each task, which lines it owns. Edits (see `docket.model`) replace or insert single lines, so an
unedited docket renders back byte for byte.

Recognised tasks:
  - checklist items ``- [ ] **Title**: text (2026-02-17)`` and ``- [x] Plain title: text``
    (any of ``-*+`` or ``1.``/``1)`` as marker, any indentation, nested sub-items below);
  - plan-table rows ``| **S-1** | **Name** | what it must do | success criterion |``.
Checkboxes inside fenced code blocks and HTML comments are text, not tasks.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field


class DocketError(ValueError):
    """A docket that cannot be read or an edit that cannot be made (exit code 2)."""


@dataclass
class SubItem:
    line: int  # 1-based
    text: str  # without list marker and checkbox
    checked: bool | None = None  # None when the sub-item has no checkbox


@dataclass
class Task:
    id: str
    title: str
    description: str
    checked: bool
    date: str | None
    section: str | None
    line: int  # 1-based, first line of the task
    end_line: int  # 1-based, last non-blank line the task owns
    kind: str = "checklist"  # "checklist" | "table"
    ref: str | None = None  # a plan table's own ID, e.g. "S-1"
    criterion: str | None = None  # a plan table's success criterion
    sub_items: list[SubItem] = field(default_factory=list)
    duplicate_of: str | None = None  # id of the first task with the same title
    # where the edits go: column of the box character, and the indentation of sub-items
    box_col: int | None = field(default=None, repr=False)
    child_indent: str = field(default="  ", repr=False)

    @property
    def evidence(self) -> list[str]:
        """Evidence sub-items (``- result: ...`` / ``- evidence: ...``), text after the key."""
        out = []
        for sub in self.sub_items:
            key, _, rest = sub.text.partition(":")
            if key.strip().lower() in EVIDENCE_KEYS and rest.strip():
                out.append(rest.strip())
        return out

    def to_dict(self) -> dict:
        return {
            "id": self.id, "title": self.title, "description": self.description,
            "checked": self.checked, "date": self.date, "section": self.section,
            "line": self.line, "end_line": self.end_line, "kind": self.kind, "ref": self.ref,
            "criterion": self.criterion, "duplicate_of": self.duplicate_of,
            "sub_items": [s.__dict__ for s in self.sub_items], "evidence": self.evidence,
        }


EVIDENCE_KEYS = {"result", "evidence"}

_ITEM = re.compile(r"^([ \t]*)([-*+]|\d{1,9}[.)])([ \t]+)(?:\[([ xX])\](?=[ \t]|$)[ \t]*)?(.*)$")
# "- [ **Title" or "- [x text": a checkbox that was opened but never closed
_BROKEN_BOX = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+\[[ xX]?(?=[ \t]|$)")
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
_TABLE_ROW = re.compile(r"^[ \t]*\|[ \t]*\*\*([A-Za-z][A-Za-z0-9]*-\d+)\*\*[ \t]*\|(.*)$")
_BLOCK_START = re.compile(r"^[ \t]*(?:[-*+][ \t]|\d{1,9}[.)][ \t]|#|>|\||<|`{3}|~{3}|[-*_]{3,}[ \t]*$)")
_DATE_SUFFIX = re.compile(r"[ \t]*\((\d{4}-\d{2}-\d{2})\)[ \t]*\.?$")
_BOLD_TITLE = re.compile(r"^\*\*(.+?)\*\*[ \t]*:?[ \t]*(.*)$")
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")

MAX_ID_LEN = 80


def split_lines(text: str) -> list[str]:
    """Split on '\\n' only, keeping each line's ending ('\\r\\n', '\\n' or '' for the last)."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def content_of(line: str) -> str:
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith("\n"):
        return line[:-1]
    return line


_NON_ALNUM = re.compile(r"[^A-Za-z0-9]+")


def slugify(title: str) -> str:
    if not title.isascii():
        title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = _NON_ALNUM.sub("-", title).strip("-").lower()
    if len(slug) > MAX_ID_LEN:
        slug = slug[:MAX_ID_LEN].rsplit("-", 1)[0]
    return slug or "task"


def _width(indent: str) -> int:
    return len(indent.expandtabs(4))


def _split_title(text: str) -> tuple[str, str]:
    """Title and description of an item's text: bold title, or text before a top-level colon."""
    bold = _BOLD_TITLE.match(text)
    if bold:
        return bold.group(1).strip().rstrip(":").strip(), bold.group(2).strip()
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch == ":" and depth == 0 and (i + 1 == len(text) or text[i + 1] in " \t"):
            if 0 < i <= 120:
                return text[:i].strip(), text[i + 1:].strip()
            break
    return text.strip().rstrip(".").strip(), ""


def _take_date(text: str) -> tuple[str, str | None]:
    m = _DATE_SUFFIX.search(text)
    if not m:
        return text, None
    return text[: m.start()].rstrip(), m.group(1)


def _table_cells(rest: str) -> list[str]:
    cells = [c.strip() for c in _UNESCAPED_PIPE.split(rest)]
    if cells and cells[-1] == "":
        cells.pop()
    return cells


def _unbold(cell: str) -> str:
    cell = cell.strip()
    if cell.startswith("**") and cell.endswith("**") and len(cell) > 4:
        return cell[2:-2].strip()
    return cell


class _Open:
    """The task currently collecting sub-items and continuation lines."""

    def __init__(self, task: Task, width: int, index: int):
        self.task, self.width, self.last_nonblank = task, width, index
        self.blank_seen = False


def parse_lines(lines: list[str]) -> tuple[list[Task], list[str]]:
    """Tasks and warnings of a docket given as lines with their endings."""
    tasks: list[Task] = []
    warnings: list[str] = []
    section: str | None = None
    fence: str | None = None  # the opening fence while inside a code block
    in_comment = False
    current: _Open | None = None

    def close() -> None:
        nonlocal current
        if current is not None:
            current.task.end_line = current.last_nonblank + 1
            current = None

    for index, raw in enumerate(lines):
        text = content_of(raw)
        if index == 0 and text.startswith("\ufeff"):
            text = text[1:]
        stripped = text.strip()

        if fence is not None:
            m = _FENCE.match(text)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                    and not text[m.end():].strip():
                fence = None
            if current is not None and _width(text[: len(text) - len(text.lstrip())]) > current.width:
                current.last_nonblank = index
            continue
        if in_comment:
            in_comment = "-->" not in text
            continue

        if not stripped:
            if current is not None:
                current.blank_seen = True
            continue

        indent = text[: len(text) - len(text.lstrip(" \t"))]
        width = _width(indent)

        # a line indented deeper than the open task belongs to it
        if current is not None and width > current.width:
            current.last_nonblank = index
            m = _ITEM.match(text)
            fm = _FENCE.match(text)
            if fm:
                fence = fm.group(1)
            elif m:
                box = m.group(4)
                current.task.sub_items.append(SubItem(
                    index + 1, m.group(5).strip(), None if box is None else box != " "))
                if len(current.task.sub_items) == 1:
                    current.task.child_indent = m.group(1)
            elif not current.blank_seen and not current.task.sub_items:
                current.task.description = (current.task.description + " " + stripped).strip()
            continue

        if current is not None and not current.blank_seen and not _BLOCK_START.match(text):
            # lazy continuation of the task's paragraph (CommonMark)
            current.last_nonblank = index
            current.task.description = (current.task.description + " " + stripped).strip()
            continue

        close()

        fm = _FENCE.match(text)
        if fm:
            fence = fm.group(1)
            continue
        if stripped.startswith("<!--"):
            in_comment = "-->" not in stripped[4:]
            continue
        heading = _HEADING.match(text)
        if heading:
            section = (heading.group(2) or "").strip() or None
            continue

        row = _TABLE_ROW.match(text)
        if row:
            cells = _table_cells(row.group(2))
            if len(cells) >= 2:
                title, date = _take_date(_unbold(cells[0]))
                tasks.append(Task(
                    id="", title=title, description=" | ".join(cells[1:-1]), checked=False,
                    date=date, section=section, line=index + 1, end_line=index + 1,
                    kind="table", ref=row.group(1), criterion=cells[-1]))
            else:
                warnings.append(f"line {index + 1}: table row {row.group(1)} has no success "
                                "criterion column; not read as a task")
            continue

        m = _ITEM.match(text)
        if m and m.group(4) is not None:
            body, date = _take_date(m.group(5).strip())
            title, description = _split_title(body)
            title, title_date = _take_date(title)
            if not title:
                warnings.append(f"line {index + 1}: checkbox without text; not read as a task")
                continue
            marker_gap = len(m.group(2)) + len(m.group(3))
            task = Task(
                id="", title=title, description=description, checked=m.group(4) != " ",
                date=date or title_date, section=section, line=index + 1, end_line=index + 1,
                box_col=len(m.group(1)) + marker_gap + 1,
                child_indent=m.group(1) + " " * marker_gap)
            tasks.append(task)
            current = _Open(task, width, index)
            continue
        if _BROKEN_BOX.match(text):
            raise DocketError(f"line {index + 1}: checkbox is not closed: {stripped[:60]!r}")
    close()
    if fence is not None:
        warnings.append(f"code fence {fence!r} is never closed; the rest of the file was read "
                        "as code")
    _assign_ids(tasks)
    return tasks, warnings


def _assign_ids(tasks: list[Task]) -> None:
    """Slug ids; a repeated title gets '-2', '-3'... and points at its first occurrence."""
    used: set[str] = set()
    next_suffix: dict[str, int] = {}  # per base slug: where to resume counting (linear time)
    first_by_title: dict[str, str] = {}
    for task in tasks:
        name = f"{task.ref} {task.title}" if task.ref else task.title
        base = slugify(name)
        candidate, n = base, next_suffix.get(base, 1)
        if n > 1:
            candidate = f"{base}-{n}"
        while candidate in used:
            n += 1
            candidate = f"{base}-{n}"
        next_suffix[base] = n
        task.id = candidate
        used.add(candidate)
        key = " ".join(name.casefold().split())
        if key in first_by_title:
            task.duplicate_of = first_by_title[key]
        else:
            first_by_title[key] = candidate
