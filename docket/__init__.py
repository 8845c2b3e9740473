"""Markdown dockets: lossless parsing, next-task choice, line-owned edits, evidence audit.

    import docket
    d = docket.load("DOCKET.md")
    task = d.next_task()
    d.tick(task.id, evidence="1.62x vs torch.compile on NVIDIA H100 (results/...)")
    d.save()   # atomic; refuses if the file changed on disk since load()
"""
from .audit import AuditEntry, Claim, audit, find_claims
from .model import Docket, DocketConflict, load, parse
from .parser import DocketError, SubItem, Task, slugify

__all__ = ["AuditEntry", "Claim", "Docket", "DocketConflict", "DocketError", "SubItem", "Task",
           "audit", "find_claims", "load", "parse", "slugify"]
