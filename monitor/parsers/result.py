"""What a parser returns: rows with their provenance, and a named status."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class ParseStatus(enum.StrEnum):
    """Outcome of parsing one attachment. Only COMPLETE batches are ever diffed."""

    COMPLETE = "complete"
    PARTIAL = "partial"  # some rows could not be mapped; see the row issues
    EMPTY = "empty"  # a filing-list header but no data rows
    NO_TABLE = "no_table"  # no table with a recognisable filing-list header
    UNREADABLE = "unreadable"  # the container or its XML is broken
    UNSUPPORTED_FORMAT = "unsupported_format"


class RowIssue(enum.StrEnum):
    """Why a row could not be mapped to a filing."""

    NO_FILING_NO = "no_filing_no"
    CELL_COUNT = "cell_count_mismatch"
    DUPLICATE_CONFLICT = "duplicate_conflict"


@dataclass(frozen=True)
class ParsedRow:
    """One data row of a list, with where it came from.

    ``table`` and ``row`` are 0-based positions in the document (``row`` counts
    the header row too, so it points at the row as stored). ``position`` is the
    1-based order among data rows, which is also the number Word shows when the
    序号 column is auto-numbered and holds no text.
    """

    table: int
    row: int
    position: int
    fields: dict[str, str]
    cells: tuple[str, ...]
    issue: RowIssue | None = None

    @property
    def filing_no(self) -> str:
        return self.fields.get("filing_no", "")


@dataclass
class ParsedDocument:
    """Everything one parser run learnt from one attachment."""

    status: ParseStatus
    message: str = ""
    title: str | None = None
    annex: str | None = None
    headers: list[tuple[str, ...]] = field(default_factory=list)
    rows: list[ParsedRow] = field(default_factory=list)
    skipped_header_rows: int = 0
    blank_rows: int = 0
    duplicates_collapsed: int = 0
    unmapped_headers: list[str] = field(default_factory=list)

    @property
    def issues(self) -> list[ParsedRow]:
        return [row for row in self.rows if row.issue is not None]

    @property
    def good_rows(self) -> list[ParsedRow]:
        return [row for row in self.rows if row.issue is None]
