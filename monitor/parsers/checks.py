"""Checks every parser runs on its rows before handing them on."""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict

from monitor.fields import normalise_filing_no
from monitor.parsers.result import ParsedDocument, ParsedRow, ParseStatus, RowIssue

logger = logging.getLogger(__name__)


def finish(result: ParsedDocument) -> ParsedDocument:
    """Resolve duplicate filing numbers and set the final status of *result*.

    A filing listed twice with the same values is kept once. Listed twice with
    different values, both rows are flagged as a conflict: picking one would
    make the diff depend on row order.
    """
    by_key: dict[str, list[ParsedRow]] = defaultdict(list)
    for row in result.rows:
        if row.issue is None:
            by_key[normalise_filing_no(row.filing_no)].append(row)

    dropped: set[int] = set()
    for rows in by_key.values():
        if len(rows) < 2:
            continue
        if len({_comparable(row) for row in rows}) == 1:
            dropped.update(id(row) for row in rows[1:])
            continue
        for row in rows:
            _flag(result, row, RowIssue.DUPLICATE_CONFLICT)

    if dropped:
        logger.info("Collapsed %d identical duplicate rows", len(dropped))
        result.duplicates_collapsed = len(dropped)
        result.rows = [row for row in result.rows if id(row) not in dropped]

    issues = result.issues
    if issues:
        result.status = ParseStatus.PARTIAL
        result.message = f"{len(issues)} of {len(result.rows)} rows could not be mapped"
    elif not result.rows:
        result.status = ParseStatus.EMPTY
        result.message = "the filing-list table has no data rows"
    return result


def _comparable(row: ParsedRow) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in row.fields.items() if k != "seq"))


def _flag(result: ParsedDocument, row: ParsedRow, issue: RowIssue) -> None:
    index = next(i for i, other in enumerate(result.rows) if other is row)
    result.rows[index] = dataclasses.replace(row, issue=issue)
