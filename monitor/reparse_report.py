"""The text ``cacwatch reparse`` prints: per batch, the exact row differences."""

from __future__ import annotations

from typing import Any

from monitor.reparse import BatchReparse, FilingCounts, ReparsePlan


def describe_plan(plan: ReparsePlan) -> list[str]:
    """Lines telling every difference the current parsers read."""
    lines = [
        f"Read {_count(plan.checked, 'batch')} again with parsers "
        f"{plan.parser_version}: "
        f"{len(plan.batches)} differ from the stored rows"
    ]
    for batch, message in plan.unreadable:
        lines.append(f"! batch {batch['id']} {batch['name']}: not read ({message})")
    for item in plan.batches:
        lines += _describe_batch(item)
    return lines


def _describe_batch(item: BatchReparse) -> list[str]:
    batch = item.batch
    lines = [
        f"batch {batch['id']} {batch['name']} ({batch['series']}, parsed by "
        f"{batch['parser_version']}): {_count(len(item.added), 'row')} added, "
        f"{len(item.removed)} removed, {len(item.changed)} changed"
    ]
    for name, (old, new) in item.changes.items():
        lines.append(f"  {name}: {_show(old)} → {_show(new)}")
    for row in item.added:
        lines.append(f"  + {_place(row)} {row['filing_no'] or ''}")
    for row in item.removed:
        lines.append(f"  - {_place(row)} {row['filing_no'] or ''}")
    for change in item.changed:
        where = f"table {change.table_index} row {change.row_index}"
        lines.append(f"  ~ {where} {change.filing_no}")
        for name, (old, new) in change.fields.items():
            lines.append(f"      {name}: {_show(old)} → {_show(new)}")
    return lines


def describe_applied(plan: ReparsePlan, counts: FilingCounts) -> str:
    text = (
        f"Stored the new rows of {_count(len(plan.batches), 'batch')}; filings: "
        f"{counts.updated} updated, {counts.added} added, {counts.removed} removed"
    )
    if counts.compared:
        ids = ", ".join(map(str, counts.compared))
        text += f"; applied as history, without events: batch {ids}"
    return text


def _place(row: dict[str, Any]) -> str:
    return f"table {row['table_index']} row {row['row_index']}"


def _show(value: Any) -> str:
    return "null" if value is None else repr(value)


def _count(number: int, noun: str) -> str:
    plural = noun + ("es" if noun.endswith("ch") else "s")
    return f"{number} {noun if number == 1 else plural}"
