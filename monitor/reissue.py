"""Row-by-row comparison of two versions of one attachment.

CAC re-uploads old lists behind the same link with edits: a remark gains
已注销 or 变更内容…, a product is added, a malformed filing number is
corrected, a row is dropped. Rows are matched on their filing key; a row
whose number vanished while a new number appeared for the same registrant
and the same algorithm or model name is one corrected number, not a removal
and an addition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from monitor.events import FILING_FIELDS, display_name
from monitor.fields import squash

# The number is the key; a change of its spacing alone is no change.
COMPARED_FIELDS = tuple(name for name in FILING_FIELDS if name != "filing_no")

Row = dict[str, Any]


@dataclass
class Modified:
    before: Row
    after: Row
    changes: list[dict[str, Any]]


@dataclass
class RowChanges:
    """What a new version changed in the rows of the previous one."""

    modified: list[Modified] = field(default_factory=list)
    corrected: list[Modified] = field(default_factory=list)
    removed: list[Row] = field(default_factory=list)
    added: list[Row] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "modified": len(self.modified),
            "corrected": len(self.corrected),
            "removed": len(self.removed),
            "added": len(self.added),
        }

    def __bool__(self) -> bool:
        return any(self.counts().values())


def field_changes(
    before: Row, after: Row, names: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Each field whose text differs (whitespace aside), with both values."""
    return [
        {"field": name, "before": before.get(name), "after": after.get(name)}
        for name in names
        if squash(before.get(name) or "") != squash(after.get(name) or "")
    ]


def compare_versions(before_rows: list[Row], after_rows: list[Row]) -> RowChanges:
    """Compare the good rows of two versions of one list."""
    before = {row["filing_key"]: row for row in before_rows}
    after = {row["filing_key"]: row for row in after_rows}
    changes = RowChanges()

    for key, row in after.items():
        if key in before:
            found = field_changes(before[key], row, COMPARED_FIELDS)
            if found:
                changes.modified.append(Modified(before[key], row, found))

    gone = [row for key, row in before.items() if key not in after]
    new = [row for key, row in after.items() if key not in before]
    for old in gone:
        match = next((row for row in new if _same_filing(old, row)), None)
        if match is None:
            changes.removed.append(old)
            continue
        new.remove(match)
        found = field_changes(old, match, ("filing_no", *COMPARED_FIELDS))
        changes.corrected.append(Modified(old, match, found))
    changes.added = new
    return changes


def _same_filing(old: Row, new: Row) -> bool:
    """One registrant, one algorithm or model name: the same filing renumbered."""
    name = squash(display_name(old))
    return bool(name) and (
        old["entity_key"] == new["entity_key"] and name == squash(display_name(new))
    )
