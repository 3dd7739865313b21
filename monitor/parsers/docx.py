"""Read filing rows out of the Word (.docx) lists that CAC attaches to its notices.

The document XML is streamed row by row: a list of a few hundred rows is
several megabytes of XML, and a whole tree of it costs far more memory than the
rows it holds. Details of the real files that shape this module:

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
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from typing import IO

from lxml import etree

from monitor.fields import field_for_header, is_filing_header, join_lines, squash
from monitor.parsers.checks import finish
from monitor.parsers.result import ParsedDocument, ParsedRow, ParseStatus, RowIssue

logger = logging.getLogger(__name__)

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_OFFICE_DOCUMENT = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
)
_TEXT_TAGS = (f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr")

# A real list's document.xml is a few megabytes; far beyond this is a zip
# bomb or not a list.
MAX_XML_BYTES = 256 * 1024 * 1024

_ANNEX = re.compile(r"^附件\s*\d*$")
_PERIOD = re.compile(r"[（(]\s*\d{4}\s*年\s*\d{1,2}\s*月\s*[）)]")


@dataclass(frozen=True)
class _Cell:
    grid_start: int
    span: int
    text: str


@dataclass
class _Table:
    """What is known of the table being read."""

    index: int
    rows_seen: int = 0
    data_rows: int = 0
    header: list[_Cell] | None = None
    columns: list[str | None] = field(default_factory=list)
    header_key: tuple[str, ...] = ()
    above: dict[int, str] = field(default_factory=dict)


class UnreadableDocx(Exception):
    """The bytes are not a .docx whose document part can be read."""


def parse_docx(data: bytes) -> ParsedDocument:
    """Parse the filing tables of one .docx attachment given as bytes."""
    result = ParsedDocument(ParseStatus.COMPLETE)
    try:
        tables = _stream(data, result)
    except (UnreadableDocx, zipfile.BadZipFile, etree.XMLSyntaxError, OSError) as exc:
        logger.warning("Unreadable docx: %s", exc)
        return ParsedDocument(
            ParseStatus.UNREADABLE, f"not a readable .docx file: {exc}"
        )

    if not result.headers:
        result.status = ParseStatus.NO_TABLE
        result.message = (
            f"none of the {tables} tables has a filing-list header "
            "(算法名称, 主体名称, 备案编号)"
        )
        return result

    return finish(result)


def _stream(data: bytes, result: ParsedDocument) -> int:
    """Read headings and table rows into *result*; return the number of tables."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        part = _main_part(archive)
        info = archive.getinfo(part)
        if info.file_size > MAX_XML_BYTES:
            raise UnreadableDocx(f"{part} unpacks to {info.file_size} bytes")
        with archive.open(info) as xml:
            return _read_body(xml, result)


def _main_part(archive: zipfile.ZipFile) -> str:
    """The document part named by the package relationships (word/document.xml)."""
    try:
        rels = etree.fromstring(archive.read("_rels/.rels"), _safe_parser())
    except KeyError:
        rels = None
    if rels is not None:
        for rel in rels.iter(f"{_REL}Relationship"):
            if rel.get("Type") == _OFFICE_DOCUMENT:
                return posixpath.normpath(rel.get("Target", "").lstrip("/"))
    if "word/document.xml" in archive.namelist():
        return "word/document.xml"
    raise UnreadableDocx("no main document part")


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True)


def _read_body(xml: IO[bytes], result: ParsedDocument) -> int:
    depth = 0
    table: _Table | None = None
    tables = 0
    events = etree.iterparse(
        xml,
        events=("start", "end"),
        tag=(f"{_W}tbl", f"{_W}tr", f"{_W}p"),
        resolve_entities=False,
        no_network=True,
    )
    for event, element in events:
        tag = element.tag
        if tag == f"{_W}tbl":
            if event == "start":
                depth += 1
                if depth == 1:
                    table = _Table(tables)
                    tables += 1
            else:
                depth -= 1
                if depth == 0:
                    table = None
                    _release(element)
        elif event == "end" and tag == f"{_W}tr" and depth == 1 and table is not None:
            _read_row(element, table, result)
            _release(element)
        elif event == "end" and tag == f"{_W}p" and depth == 0:
            if tables == 0:
                _read_heading(_paragraph_text(element).strip(), result)
            _release(element)
    return tables


def _release(element: etree._Element) -> None:
    """Free what has been read: the element and the siblings before it."""
    element.clear()
    parent = element.getparent()
    while parent is not None and element.getprevious() is not None:
        del parent[0]


def _read_heading(text: str, result: ParsedDocument) -> None:
    """Take the 附件 label and the list title from the paragraphs above the table."""
    if not text:
        return
    if result.annex is None and _ANNEX.match(text):
        result.annex = text
    elif result.title is None and _PERIOD.search(text):
        result.title = text


def _read_row(tr: etree._Element, table: _Table, result: ParsedDocument) -> None:
    row_index = table.rows_seen
    table.rows_seen += 1
    cells = _cells(tr, table.above)

    if table.header is None:
        names = {field_for_header(cell.text) for cell in cells}
        if is_filing_header(names):
            _set_header(table, cells, result)
        else:
            logger.debug(
                "Row %d of table %d is above the header", row_index, table.index
            )
        return

    texts = tuple(cell.text for cell in cells)
    if not any(texts):
        result.blank_rows += 1
        return

    if tuple(squash(text) for text in texts) == table.header_key:
        # Lists that run over several pages repeat their header row.
        result.skipped_header_rows += 1
        return

    fields, issue = _map_cells(table.header, table.columns, cells)
    if issue is None and not fields.get("filing_no"):
        issue = RowIssue.NO_FILING_NO

    table.data_rows += 1
    result.rows.append(
        ParsedRow(table.index, row_index, table.data_rows, fields, texts, issue)
    )


def _set_header(table: _Table, cells: list[_Cell], result: ParsedDocument) -> None:
    table.header = cells
    table.columns = [field_for_header(cell.text) for cell in cells]
    table.header_key = tuple(squash(cell.text) for cell in cells)
    result.headers.append(tuple(cell.text for cell in cells))
    result.unmapped_headers.extend(
        cell.text
        for cell, name in zip(cells, table.columns, strict=True)
        if name is None
    )


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


def _cells(tr: etree._Element, above: dict[int, str]) -> list[_Cell]:
    """The cells of a row; vMerge continuations take the text of the merge start."""
    cells = []
    grid = 0
    for tc in tr.iterchildren(f"{_W}tc"):
        span = _int_property(tc, "gridSpan") or 1
        text = _cell_text(tc)
        merge = tc.find(f"{_W}tcPr/{_W}vMerge")
        continues = merge is not None and merge.get(f"{_W}val") in (None, "continue")
        if continues and not text:
            text = above.get(grid, "")
        else:
            above[grid] = text
        cells.append(_Cell(grid, span, text))
        grid += span
    return cells


def _int_property(tc: etree._Element, name: str) -> int | None:
    prop = tc.find(f"{_W}tcPr/{_W}{name}")
    if prop is None:
        return None
    value = prop.get(f"{_W}val")
    return int(value) if value and value.isdigit() else None


def _cell_text(tc: etree._Element) -> str:
    paragraphs = [_paragraph_text(p) for p in tc.iter(f"{_W}p")]
    return "\n".join(paragraphs).strip()


def _paragraph_text(paragraph: etree._Element) -> str:
    parts: list[str] = []
    for node in paragraph.iter(*_TEXT_TAGS):
        if node.tag == f"{_W}t":
            parts.append(node.text or "")
        elif node.tag == f"{_W}tab":
            parts.append("\t")
        else:
            parts.append("\n")
    return "".join(parts)
