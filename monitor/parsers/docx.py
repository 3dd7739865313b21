"""Read filing rows out of the Word (.docx) lists that CAC attaches to its notices.

The real lists hold one table whose first row is the header. Some details of
the real files shape this module:

* Word auto-numbering renders the 序号 column but stores no text, so rows are
  keyed on 备案编号 and never on 序号.
* A cell may span two grid columns (``w:gridSpan``) in some rows and not in
  others, so cells are matched to headers by their order when the row has as
  many cells as the header, and by grid position only when it does not.
* Vertically merged cells (``w:vMerge``) carry their text only in the first
  cell; the continuation cells take it over, and only those.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

import docx
from docx.opc.exceptions import PackageNotFoundError
from lxml import etree

from monitor.fields import REQUIRED_FIELDS, field_for_header, join_lines, squash
from monitor.parsers.checks import finish
from monitor.parsers.result import ParsedDocument, ParsedRow, ParseStatus, RowIssue

logger = logging.getLogger(__name__)

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_TAG_P = f"{{{_W}}}p"
_TAG_T = f"{{{_W}}}t"
_TAG_TAB = f"{{{_W}}}tab"
_TAG_BR = f"{{{_W}}}br"
_TAG_CR = f"{{{_W}}}cr"
_VAL = f"{{{_W}}}val"

_ANNEX = re.compile(r"^附件\s*\d*$")
_PERIOD = re.compile(r"[（(]\s*\d{4}\s*年\s*\d{1,2}\s*月\s*[）)]")


@dataclass(frozen=True)
class _Cell:
    grid_start: int
    span: int
    text: str


def parse_docx(data: bytes) -> ParsedDocument:
    """Parse the filing tables of one .docx attachment given as bytes."""
    try:
        document = docx.Document(io.BytesIO(data))
    except (
        PackageNotFoundError,
        zipfile.BadZipFile,
        KeyError,
        etree.XMLSyntaxError,
    ) as exc:
        logger.warning("Unreadable docx: %s", exc)
        return ParsedDocument(
            ParseStatus.UNREADABLE, f"not a readable .docx file: {exc}"
        )

    body = document.element.body
    result = ParsedDocument(ParseStatus.COMPLETE)
    _read_heading(body, result)

    tables = body.findall(f"{{{_W}}}tbl")
    for index, table in enumerate(tables):
        _read_table(index, table, result)

    if not result.headers:
        result.status = ParseStatus.NO_TABLE
        result.message = (
            f"none of the {len(tables)} tables has a filing-list header "
            "(算法名称, 主体名称, 备案编号)"
        )
        return result

    return finish(result)


def _read_heading(body: etree._Element, result: ParsedDocument) -> None:
    """Take the 附件 label and the list title from the paragraphs above the table."""
    for child in body:
        if child.tag != _TAG_P:
            if child.tag == f"{{{_W}}}tbl":
                return
            continue

        text = _paragraph_text(child).strip()
        if not text:
            continue
        if result.annex is None and _ANNEX.match(text):
            result.annex = text
        elif result.title is None and _PERIOD.search(text):
            result.title = text


def _read_table(index: int, table: etree._Element, result: ParsedDocument) -> None:
    rows = [list(_cells(tr)) for tr in table.iterchildren(f"{{{_W}}}tr")]
    _fill_vertical_merges(table, rows)

    header_at = _find_header(rows)
    if header_at is None:
        logger.debug("Table %d has no filing-list header", index)
        return

    header = rows[header_at]
    columns = [field_for_header(cell.text) for cell in header]
    header_key = tuple(squash(cell.text) for cell in header)
    result.headers.append(tuple(cell.text for cell in header))
    result.unmapped_headers.extend(
        cell.text for cell, name in zip(header, columns, strict=True) if name is None
    )

    for row_index in range(header_at + 1, len(rows)):
        cells = rows[row_index]
        texts = tuple(cell.text for cell in cells)
        if not any(texts):
            result.blank_rows += 1
            continue

        if tuple(squash(text) for text in texts) == header_key:
            # Lists that run over several pages repeat their header row.
            result.skipped_header_rows += 1
            continue

        fields, issue = _map_cells(header, columns, cells)
        if issue is None and not fields.get("filing_no"):
            issue = RowIssue.NO_FILING_NO

        position = sum(1 for row in result.rows if row.table == index) + 1
        result.rows.append(ParsedRow(index, row_index, position, fields, texts, issue))


def _map_cells(
    header: list[_Cell], columns: list[str | None], cells: list[_Cell]
) -> tuple[dict[str, str], RowIssue | None]:
    fields: dict[str, str] = {}
    if len(cells) == len(header):
        for name, cell in zip(columns, cells, strict=True):
            if name is not None:
                fields[name] = join_lines(cell.text)
        return fields, None

    # A row with another cell count: fall back to the grid, and flag the row,
    # since its alignment is a guess a person should confirm.
    for name, head in zip(columns, header, strict=True):
        if name is None:
            continue
        for cell in cells:
            if cell.grid_start <= head.grid_start < cell.grid_start + cell.span:
                fields[name] = join_lines(cell.text)
                break
    return fields, RowIssue.CELL_COUNT


def _find_header(rows: list[list[_Cell]]) -> int | None:
    for index, row in enumerate(rows):
        names = {field_for_header(cell.text) for cell in row}
        if names >= REQUIRED_FIELDS:
            return index
    return None


def _cells(tr: etree._Element) -> Iterator[_Cell]:
    grid = 0
    for tc in tr.iterchildren(f"{{{_W}}}tc"):
        span = _int_property(tc, "gridSpan") or 1
        yield _Cell(grid, span, _cell_text(tc))
        grid += span


def _fill_vertical_merges(table: etree._Element, rows: list[list[_Cell]]) -> None:
    """Give vMerge continuation cells the text of the cell that starts the merge."""
    above: dict[int, str] = {}
    for tr, row in zip(table.iterchildren(f"{{{_W}}}tr"), rows, strict=True):
        for position, tc in enumerate(tr.iterchildren(f"{{{_W}}}tc")):
            cell = row[position]
            merge = tc.find(f"{{{_W}}}tcPr/{{{_W}}}vMerge")
            continues = merge is not None and merge.get(_VAL) in (None, "continue")
            if continues and not cell.text:
                row[position] = _Cell(
                    cell.grid_start, cell.span, above.get(cell.grid_start, "")
                )
            else:
                above[cell.grid_start] = cell.text


def _int_property(tc: etree._Element, name: str) -> int | None:
    prop = tc.find(f"{{{_W}}}tcPr/{{{_W}}}{name}")
    if prop is None:
        return None
    value = prop.get(_VAL)
    return int(value) if value and value.isdigit() else None


def _cell_text(tc: etree._Element) -> str:
    paragraphs = [_paragraph_text(p) for p in tc.iter(_TAG_P)]
    return "\n".join(paragraphs).strip()


def _paragraph_text(paragraph: etree._Element) -> str:
    parts: list[str] = []
    for node in paragraph.iter(_TAG_T, _TAG_TAB, _TAG_BR, _TAG_CR):
        if node.tag == _TAG_T:
            parts.append(node.text or "")
        elif node.tag == _TAG_TAB:
            parts.append("\t")
        else:
            parts.append("\n")
    return "".join(parts)
