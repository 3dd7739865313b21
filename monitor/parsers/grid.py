"""Find and read the filing list in a grid of cell texts: one worksheet.

The spreadsheet readers (``xlsx``, ``xls``) turn a worksheet into rows of
cell texts, with merged regions filled in and hidden rows marked; this module
finds the header among them by its vocabulary, never by its position, since
provincial offices put a title, a publisher line or a row of group headings
above it, and maps the rows below it to canonical fields.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.fields import field_for_header, is_filing_header, join_lines, squash
from monitor.parsers.checks import finish
from monitor.parsers.result import ParsedDocument, ParsedRow, ParseStatus, RowIssue

logger = logging.getLogger(__name__)

# Rows read past the last row with any text before a sheet is taken to be
# over: styles applied to a whole column make a sheet claim a million rows.
MAX_BLANK_RUN = 1000

_TITLE = re.compile(r"清单|已备案|已登记")


@dataclass(frozen=True)
class GridRow:
    """One worksheet row: its 1-based number, cell texts and visibility."""

    number: int
    cells: tuple[str, ...]
    hidden: bool = False


@dataclass(frozen=True)
class Sheet:
    """One worksheet as the readers see it."""

    index: int
    name: str
    rows: Iterable[GridRow]
    hidden: bool = False


def cell_text(value: object) -> str:
    """The text a reader sees in a cell holding *value*.

    Whole numbers stored as floats (序号 typed as 1.0) lose their ``.0``, and
    dates are written the way the lists write them, ``2023/8/31``.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return f"{value.year}/{value.month}/{value.day}"
    return str(value).strip()


def read_sheets(sheets: Iterable[Sheet]) -> ParsedDocument:
    """Read the filing list of every sheet of a workbook that holds one."""
    result = ParsedDocument(ParseStatus.COMPLETE)
    for sheet in sheets:
        found = _read_sheet(sheet, result)
        if found:
            continue

        state = "hidden sheet" if sheet.hidden else "sheet"
        result.warnings.append(f"{state} {sheet.name!r} holds no filing list")
        logger.info("Sheet %r holds no filing list", sheet.name)

    if not result.headers:
        result.status = ParseStatus.NO_TABLE
        result.message = "no sheet has a filing-list header"
        return result
    return finish(result)


def _read_sheet(sheet: Sheet, result: ParsedDocument) -> bool:
    header: tuple[str, ...] | None = None
    header_key: tuple[str, ...] = ()
    columns: list[str | None] = []
    position = 0
    blank_run = 0
    hidden_rows = 0

    for row in sheet.rows:
        cells = _trimmed(row.cells)
        if not any(cells):
            blank_run += 1
            if blank_run > MAX_BLANK_RUN:
                break
            if header is not None:
                result.blank_rows += 1
            continue
        blank_run = 0

        if header is None:
            names = {field_for_header(text) for text in cells}
            if is_filing_header(names):
                header, columns = cells, [field_for_header(text) for text in cells]
                header_key = tuple(squash(text) for text in cells)
                result.headers.append(header)
                result.unmapped_headers.extend(
                    text for text, name in zip(cells, columns, strict=True) if not name
                )
            else:
                _read_heading(cells, result)
            continue

        if tuple(squash(text) for text in cells) == header_key:
            result.skipped_header_rows += 1
            continue

        position += 1
        fields, issue = _map(columns, cells)
        if issue is None and not fields.get("filing_no"):
            issue = RowIssue.NO_FILING_NO
        # Hidden rows are kept, never silently dropped or mixed in: a person
        # decides whether a row an editor hid is part of the list.
        if issue is None and sheet.hidden:
            issue = RowIssue.HIDDEN_SHEET
        elif issue is None and row.hidden:
            issue = RowIssue.HIDDEN_ROW
        hidden_rows += row.hidden
        result.rows.append(
            ParsedRow(
                table=sheet.index,
                row=row.number,
                position=position,
                fields=fields,
                cells=cells,
                issue=issue,
                sheet=sheet.name,
            )
        )

    if hidden_rows:
        result.warnings.append(f"sheet {sheet.name!r} hides {hidden_rows} list rows")
    return header is not None


def _trimmed(cells: tuple[str, ...]) -> tuple[str, ...]:
    """The cells without the empty ones trailing after the last text."""
    end = len(cells)
    while end and not cells[end - 1]:
        end -= 1
    return cells[:end]


def _map(
    columns: list[str | None], cells: tuple[str, ...]
) -> tuple[dict[str, str], RowIssue | None]:
    fields: dict[str, str] = {}
    for name, text in zip(columns, cells, strict=False):
        if name is not None:
            fields[name] = join_lines(text)
    for name in columns[len(cells) :]:
        if name is not None:
            fields[name] = ""

    # Text right of the last header cell belongs to no column.
    if len(cells) > len(columns):
        return fields, RowIssue.CELL_COUNT
    return fields, None


def _read_heading(cells: tuple[str, ...], result: ParsedDocument) -> None:
    """Keep the list's title from the rows above the header."""
    text = next((text for text in cells if text), "")
    if result.title is None and _TITLE.search(text):
        result.title = join_lines(text)
