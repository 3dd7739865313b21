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
    ENCRYPTED = "encrypted"  # a password is needed to open the file
    NO_TEXT_LAYER = "no_text_layer"  # a PDF of images only: a scan
    TEXT_LAYER_UNUSABLE = "text_layer_unusable"  # (cid:N) glyphs or no Chinese
    ROTATED_UNPARSED = "rotated_unparsed"  # PDF text that could not be read upright
    TOO_LARGE = "too_large_or_complex"  # over the size a list could have


class RowIssue(enum.StrEnum):
    """Why a row could not be mapped to a filing."""

    NO_FILING_NO = "no_filing_no"
    CELL_COUNT = "cell_count_mismatch"
    DUPLICATE_CONFLICT = "duplicate_conflict"
    HIDDEN_ROW = "hidden_row"  # a spreadsheet row hidden from readers
    HIDDEN_SHEET = "hidden_sheet"  # a row of a hidden worksheet


@dataclass(frozen=True)
class ParsedRow:
    """One data row of a list, with where it came from.

    ``table`` and ``row`` are 0-based positions in the document (``row`` counts
    the header row too, so it points at the row as stored). ``position`` is the
    1-based order among data rows, which is also the number Word shows when the
    序号 column is auto-numbered and holds no text.

    Rows of a PDF also carry the 1-based ``page`` they start on, with ``row``
    counting the physical rows of their table over all its pages; rows of a
    spreadsheet carry their ``sheet`` name, with ``table`` the sheet's index
    and ``row`` its 1-based row number.
    """

    table: int
    row: int
    position: int
    fields: dict[str, str]
    cells: tuple[str, ...]
    issue: RowIssue | None = None
    page: int | None = None
    sheet: str | None = None

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
    # Things a person should know that are not row issues: hidden sheets and
    # rows, pages without text.
    warnings: list[str] = field(default_factory=list)

    @property
    def issues(self) -> list[ParsedRow]:
        return [row for row in self.rows if row.issue is not None]

    @property
    def good_rows(self) -> list[ParsedRow]:
        return [row for row in self.rows if row.issue is None]
