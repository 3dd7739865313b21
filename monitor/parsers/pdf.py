"""Read filing rows out of PDF lists with pdfplumber.

A PDF has no table structure, only characters and ruling lines, so the table
of a list is rebuilt from geometry, page by page, and the pages are stitched
back into the tables of the document. Details that shape this module, seen in
Word lists exported to PDF:

* The header row is repeated at the top of every page; a repeat is skipped,
  not read as data, and a table on the next page without a header continues the
  table above when its columns sit where the header's do.
* A row may break across pages. Its continuation starts the next page with an
  empty 序号 cell and is joined to the row it continues.
* Cells wrap. Chinese text wraps anywhere and its lines are joined with no
  space. Latin text and numbers wrap at spaces and after hyphens; a layout
  engine breaks inside a word only when the word is wider than the cell, as a
  long filing number is (「网信算备440115128941」 over 「206250019号」). So a
  wrap between two Latin letters or digits held a space unless the word it
  splits would not have fitted on one line, which the geometry tells.
* A page may be a scan (no characters), or its font may lack a usable
  ``/ToUnicode`` map, so that Chinese comes out as ``(cid:N)``. Such files get
  a named status and no rows, never rows of garbage.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pdfplumber
from pdfminer.pdfdocument import PDFPasswordIncorrect
from pdfminer.psexceptions import PSException
from pdfplumber.page import Page
from pdfplumber.utils.exceptions import PdfminerException

from monitor.fields import field_for_header, is_filing_header, join_lines, squash
from monitor.parsers.checks import finish
from monitor.parsers.result import ParsedDocument, ParsedRow, ParseStatus, RowIssue

logger = logging.getLogger(__name__)

Char = dict[str, Any]

# More than this share of (cid:N) glyphs and the text layer is not trusted.
MAX_CID_SHARE = 0.05

# Cells whose edges are this close (in points) are taken for the same column.
COLUMN_TOLERANCE = 3.0

_CID = re.compile(r"\(cid:\d+\)")
_BRACKETS = frozenset("（）【】《》〔〕")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_PAGE_NUMBER = re.compile(
    r"^[-—–−\s]*(第?\s*\d+\s*页?\s*(/\s*共?\s*\d+\s*页?)?)?[-—–−\s]*$"
)
_ANNEX = re.compile(r"^附件\s*\d*$")
_PERIOD = re.compile(r"[（(]\s*\d{4}\s*年\s*\d{1,2}\s*月\s*[）)]")


@dataclass(frozen=True)
class _Line:
    """One line of text in a cell, with the widths that tell how it wrapped."""

    text: str
    x0: float
    width: float  # from the first printed glyph to the last
    first: float  # width of the first glyph
    head: float  # width of the word the line starts with
    tail: float  # width of the word the line ends with


@dataclass
class _Cell:
    x0: float
    x1: float
    lines: list[_Line]
    room: float = 0.0  # the width a line may fill: the cell less its padding

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


@dataclass
class _Draft:
    """A data row being read; a row split over pages grows until the table moves on."""

    page: int
    table: int
    row: int
    cells: list[_Cell]
    columns: list[list[_Cell]]  # the cell pieces that fell under each header column
    issue: RowIssue | None


@dataclass
class _Table:
    """A table of the document, which may run over many pages."""

    index: int
    header: list[_Cell]
    names: list[str | None]
    key: tuple[str, ...]
    page: int
    bottom: float
    seq_column: int | None
    drafts: list[_Draft] = field(default_factory=list)
    # Physical rows read so far over all pages, repeated headers included, so
    # that a row's index is unique within its table.
    rows_read: int = 0


@dataclass
class _Caption:
    page: int
    top: float
    text: str


@dataclass
class _Reading:
    """What has been read so far across the pages."""

    result: ParsedDocument
    tables: list[_Table] = field(default_factory=list)
    captions: list[_Caption] = field(default_factory=list)
    pdf_tables: int = 0
    chars: int = 0
    cid_chars: int = 0
    cjk_chars: int = 0
    image_pages: list[int] = field(default_factory=list)
    rotated_pages: list[int] = field(default_factory=list)

    @property
    def current(self) -> _Table | None:
        return self.tables[-1] if self.tables else None


def parse_pdf(data: bytes) -> ParsedDocument:
    """Parse the filing tables of one PDF attachment given as bytes."""
    if b"%%EOF" not in data[-4096:]:
        # pdfminer rebuilds a truncated file from what is left and would
        # return its first pages as if they were the whole list.
        return ParsedDocument(
            ParseStatus.UNREADABLE, "the PDF is truncated: it has no %EOF marker"
        )

    reading = _Reading(ParsedDocument(ParseStatus.COMPLETE))
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for number, page in enumerate(pdf.pages, start=1):
                _read_page(page, number, reading)
                page.close()
    except PdfminerException as exc:
        cause = exc.args[0] if exc.args else exc
        if isinstance(cause, PDFPasswordIncorrect):
            return ParsedDocument(
                ParseStatus.ENCRYPTED, "the PDF is encrypted with a user password"
            )
        logger.warning("Unreadable PDF: %s", cause)
        return ParsedDocument(ParseStatus.UNREADABLE, f"not a readable PDF: {cause}")
    except (PSException, ValueError, KeyError, TypeError) as exc:
        logger.warning("Unreadable PDF: %s", exc)
        return ParsedDocument(ParseStatus.UNREADABLE, f"not a readable PDF: {exc}")

    return _conclude(reading)


def _conclude(reading: _Reading) -> ParsedDocument:
    """Turn what was read into a result, or into the status that explains why not."""
    result = reading.result
    failure = _text_layer_failure(reading)
    if failure is not None:
        return failure

    for table in reading.tables:
        _emit_rows(table, result)

    if not result.headers:
        result.status = ParseStatus.NO_TABLE
        result.message = (
            f"none of the {reading.pdf_tables} tables has a filing-list header "
            "(算法名称, 主体名称, 备案编号)"
        )
        return result

    finish(result)
    if reading.image_pages and result.status is ParseStatus.COMPLETE:
        result.status = ParseStatus.PARTIAL
        result.message = f"pages {_pages(reading.image_pages)} have no text layer"
    return result


def _text_layer_failure(reading: _Reading) -> ParsedDocument | None:
    if reading.rotated_pages:
        return ParsedDocument(
            ParseStatus.ROTATED_UNPARSED,
            f"text on pages {_pages(reading.rotated_pages)} is rotated "
            "and could not be read upright",
        )

    if reading.chars == 0:
        if reading.image_pages:
            return ParsedDocument(
                ParseStatus.NO_TEXT_LAYER,
                "the PDF has images but no text: a scan that needs OCR",
            )
        return ParsedDocument(ParseStatus.NO_TABLE, "the PDF holds no text")

    if reading.cid_chars > MAX_CID_SHARE * reading.chars:
        return ParsedDocument(
            ParseStatus.TEXT_LAYER_UNUSABLE,
            f"{reading.cid_chars} of {reading.chars} characters are unmapped "
            "(cid:N) glyphs: the font has no usable /ToUnicode map",
        )

    if reading.cjk_chars == 0:
        return ParsedDocument(
            ParseStatus.TEXT_LAYER_UNUSABLE,
            "the text layer holds no Chinese characters where a list has them",
        )
    return None


def _pages(numbers: Sequence[int]) -> str:
    return ", ".join(str(number) for number in numbers)


# Pages


def _read_page(page: Page, number: int, reading: _Reading) -> None:
    chars = [char for char in page.chars if char["text"].strip()]
    if not chars:
        if page.images:
            reading.image_pages.append(number)
            reading.result.warnings.append(f"page {number} has no text layer")
        return

    reading.chars += len(chars)
    reading.cid_chars += sum(1 for char in chars if _CID.fullmatch(char["text"]))
    reading.cjk_chars += sum(1 for char in chars if _CJK.match(char["text"]))
    if sum(1 for char in chars if not char["upright"]) > len(chars) / 2:
        reading.rotated_pages.append(number)
        return

    found = sorted(page.find_tables(), key=lambda table: table.bbox[1])
    boxes = [table.bbox for table in found]
    captions = _captions(page.chars, boxes, number)
    if not reading.tables:
        for caption in captions:
            _read_heading(caption.text, reading.result)
    reading.captions.extend(captions)

    for index, table in enumerate(found):
        reading.pdf_tables += 1
        last = len(table.rows) - 1
        rows = [
            _row_cells(page.chars, row.cells, spill=number == last)
            for number, row in enumerate(table.rows)
        ]
        _fit_rooms(rows)
        _read_table(rows, number, index, table.bbox, reading)


def _captions(
    chars: list[Char], boxes: list[tuple[float, float, float, float]], page: int
) -> list[_Caption]:
    """Lines of text outside every table, less page numbers."""
    outside = [char for char in chars if not any(_inside(char, box) for box in boxes)]
    captions = []
    for line in _lines(outside):
        text = "".join(char["text"] for char in line).strip()
        if text and not _PAGE_NUMBER.match(text):
            captions.append(_Caption(page, min(char["top"] for char in line), text))
    return captions


def _read_heading(text: str, result: ParsedDocument) -> None:
    """Take the 附件 label and the list title from the lines above the table."""
    squashed = squash(text)
    if result.annex is None and _ANNEX.match(squashed):
        result.annex = squashed
    elif result.title is None and _PERIOD.search(text):
        result.title = squashed


# Tables


def _read_table(
    rows: list[list[_Cell]],
    page: int,
    index: int,
    bbox: tuple[float, float, float, float],
    reading: _Reading,
) -> None:
    header_at = next((i for i, cells in enumerate(rows) if _is_header(cells)), None)
    table = reading.current
    if header_at is None:
        if table is None or not _continues(table, rows, page, bbox[1], reading):
            logger.debug("Table %d of page %d is not a filing list", index, page)
            return
        logger.debug("Table %d of page %d continues table %d", index, page, table.index)
        start = 0
    else:
        header = rows[header_at]
        key = tuple(squash(cell.text) for cell in header)
        if (
            table is not None
            and table.key == key
            and _continues(table, rows, page, bbox[1], reading)
        ):
            reading.result.skipped_header_rows += 1
        else:
            table = _new_table(header, key, page, reading)
        start = header_at + 1

    assert table is not None
    first = True
    for number in range(start, len(rows)):
        row = table.rows_read + number
        _read_row(table, rows[number], page, row, first, reading.result)
        first = False
    table.rows_read += len(rows)
    table.page = page
    table.bottom = bbox[3]


def _is_header(cells: list[_Cell]) -> bool:
    return is_filing_header({field_for_header(cell.text) for cell in cells})


def _new_table(
    header: list[_Cell], key: tuple[str, ...], page: int, reading: _Reading
) -> _Table:
    names = [field_for_header(cell.text) for cell in header]
    seq = names.index("seq") if "seq" in names else None
    table = _Table(len(reading.tables), header, names, key, page, 0.0, seq)
    reading.tables.append(table)

    result = reading.result
    result.headers.append(tuple(cell.text for cell in header))
    result.unmapped_headers.extend(
        cell.text for cell, name in zip(header, names, strict=True) if name is None
    )
    return table


def _continues(
    table: _Table, rows: list[list[_Cell]], page: int, top: float, reading: _Reading
) -> bool:
    """True if a table found at *top* of *page* carries on *table*.

    It must follow on the same or the next page with no caption in between,
    and its columns must sit where the header's do.
    """
    if page not in (table.page, table.page + 1):
        return False
    if any(_between(caption, table, page, top) for caption in reading.captions):
        return False
    return any(_aligned(table.header, cells) for cells in rows)


def _between(caption: _Caption, table: _Table, page: int, top: float) -> bool:
    if table.page == page:
        return caption.page == page and table.bottom < caption.top < top
    if caption.page == table.page:
        return caption.top > table.bottom
    return caption.page == page and caption.top < top


def _aligned(header: list[_Cell], cells: list[_Cell]) -> bool:
    return len(cells) == len(header) and all(
        abs(cell.x0 - head.x0) <= COLUMN_TOLERANCE
        and abs(cell.x1 - head.x1) <= COLUMN_TOLERANCE
        for cell, head in zip(cells, header, strict=True)
    )


def _read_row(
    table: _Table,
    cells: list[_Cell],
    page: int,
    number: int,
    first_on_page: bool,
    result: ParsedDocument,
) -> None:
    texts = [cell.text for cell in cells]
    if not any(texts):
        result.blank_rows += 1
        return

    if tuple(squash(text) for text in texts) == table.key:
        result.skipped_header_rows += 1
        return

    columns, issue = _columns(table.header, cells)
    if first_on_page and table.drafts and _continues_row(table, columns):
        # The row broke at the foot of the previous page.
        previous = table.drafts[-1]
        logger.debug("Row %d of page %d continues the row above", number, page)
        for pieces, more in zip(previous.columns, columns, strict=True):
            pieces.extend(more)
        previous.cells.extend(cells)
        if issue is not None:
            previous.issue = issue
        return

    table.drafts.append(_Draft(page, table.index, number, cells, columns, issue))


def _continues_row(table: _Table, columns: list[list[_Cell]]) -> bool:
    """True if a row at the top of a page is the rest of the last row.

    The rest of a broken row has an empty 序号 cell, where the row it continues
    has one; a list without 序号 numbers gives no such sign.
    """
    seq = table.seq_column
    if seq is None:
        return False
    previous = table.drafts[-1].columns[seq]
    return not _text(columns[seq]) and bool(_text(previous))


def _columns(
    header: list[_Cell], cells: list[_Cell]
) -> tuple[list[list[_Cell]], RowIssue | None]:
    """The cells of a row under each header column.

    A row with as many cells as the header is matched by order, as the docx
    parser does. Any other row is matched by where its cells sit, and flagged,
    since its alignment is a guess a person should confirm.
    """
    if len(cells) == len(header):
        return [[cell] for cell in cells], None

    columns: list[list[_Cell]] = []
    for head in header:
        middle = (head.x0 + head.x1) / 2
        columns.append([cell for cell in cells if cell.x0 <= middle < cell.x1])
    return columns, RowIssue.CELL_COUNT


def _emit_rows(table: _Table, result: ParsedDocument) -> None:
    for position, draft in enumerate(table.drafts, start=1):
        fields = {
            name: _text(pieces)
            for name, pieces in zip(table.names, draft.columns, strict=True)
            if name is not None
        }
        issue = draft.issue
        if issue is None and not fields.get("filing_no"):
            issue = RowIssue.NO_FILING_NO
        result.rows.append(
            ParsedRow(
                draft.table,
                draft.row,
                position,
                fields,
                tuple(cell.text for cell in draft.cells),
                issue,
                page=draft.page,
            )
        )


# Cells and lines


def _row_cells(
    chars: list[Char],
    boxes: Iterable[tuple[float, float, float, float] | None],
    *,
    spill: bool = False,
) -> list[_Cell]:
    """The cells of one table row, with the characters inside each.

    With *spill* (the last row of a table on a page), a line that starts
    inside a cell belongs to it even if it runs past the bottom border: a row
    taller than a page makes LibreOffice draw its last line over the border.
    """
    cells = []
    for box in boxes:
        if box is None:
            continue  # covered by a cell spanning several columns
        inside = [char for char in chars if _inside(char, box, spill=spill)]
        cells.append(_Cell(box[0], box[2], [_line(line) for line in _lines(inside)]))
    return cells


def _inside(
    char: Char, box: tuple[float, float, float, float], *, spill: bool = False
) -> bool:
    x: float = (char["x0"] + char["x1"]) / 2
    y: float = char["top"] if spill else (char["top"] + char["bottom"]) / 2
    return box[0] <= x < box[2] and box[1] <= y < box[3]


def _lines(chars: list[Char]) -> list[list[Char]]:
    """Group characters into lines, top to bottom, each left to right.

    A character joins a line when its middle lies within the line's height:
    CJK and Latin glyphs of one line have different tops and bottoms.
    """
    lines: list[list[Char]] = []
    bounds: list[tuple[float, float]] = []
    for char in sorted(chars, key=lambda c: (c["top"], c["x0"])):
        middle = (char["top"] + char["bottom"]) / 2
        if bounds and bounds[-1][0] <= middle <= bounds[-1][1]:
            lines[-1].append(char)
            top, bottom = bounds[-1]
            bounds[-1] = (min(top, char["top"]), max(bottom, char["bottom"]))
        else:
            lines.append([char])
            bounds.append((char["top"], char["bottom"]))
    return [sorted(line, key=lambda c: c["x0"]) for line in lines]


def _line(chars: list[Char]) -> _Line:
    # Spaces are glyphs in the PDF and kept as they are; gaps between glyphs
    # are not read as spaces, which justified Chinese text is full of.
    printed = [char for char in chars if char["text"].strip()]
    if not printed:
        return _Line("", 0.0, 0.0, 0.0, 0.0, 0.0)

    start, end = chars.index(printed[0]), chars.index(printed[-1])
    shown = chars[start : end + 1]
    return _Line(
        "".join(char["text"] for char in shown),
        float(printed[0]["x0"]),
        float(printed[-1]["x1"] - printed[0]["x0"]),
        float(printed[0]["x1"] - printed[0]["x0"]),
        _word_width(shown, leading=True),
        _word_width(shown[::-1], leading=False),
    )


def _word_width(chars: list[Char], *, leading: bool) -> float:
    """Width of the run of Latin letters and digits at one end of a line.

    The run stops where a line may break: a space or a Chinese character, or
    a hyphen, after which a break is allowed (the hyphen stays with the word
    before it). Brackets glued to the word belong to it: layout engines do
    not break between 「FacePlay」 and the 「（APP）」 that follows it.
    """
    word: list[Char] = []
    for char in chars:
        text = char["text"]
        if text.isspace() or not (text.isascii() or text in _BRACKETS):
            break
        if text == "-":
            if leading:
                word.append(char)
            break
        word.append(char)
    if not word:
        return 0.0
    return float(max(c["x1"] for c in word) - min(c["x0"] for c in word))


def _fit_rooms(rows: list[list[_Cell]]) -> None:
    """Set how wide a line may get in each cell, from the padding of its column.

    The padding is the least gap seen between a cell's left edge and its text
    over all cells of the column on the page: centred text leaves more.
    """
    pads: dict[tuple[int, int], float] = {}
    for cells in rows:
        for cell in cells:
            key = (round(cell.x0), round(cell.x1))
            for line in cell.lines:
                if line.text:
                    gap = max(line.x0 - cell.x0, 0.0)
                    pads[key] = min(pads.get(key, gap), gap)
    for cells in rows:
        for cell in cells:
            pad = pads.get((round(cell.x0), round(cell.x1)), 0.0)
            cell.room = cell.x1 - cell.x0 - 2 * pad


def _text(pieces: list[_Cell]) -> str:
    """The field value of the cell pieces under one column, wrapping undone."""
    text = ""
    previous: _Line | None = None
    for cell in pieces:
        for line in cell.lines:
            if previous is None:
                text = line.text
            elif _split_word(previous, line, cell.room):
                text += line.text
            else:
                text += "\n" + line.text
            previous = line
    return join_lines(text)


def _split_word(previous: _Line, line: _Line, room: float) -> bool:
    """True if the wrap between two lines fell inside a word, so held no space.

    A layout engine moves a word that fits on a line to the next line whole;
    it splits a word only when the word is wider than the line can hold, and
    then fills the line up to the last glyph that fits. A wrap at a space
    leaves the line short of that unless the word before it happened to end
    right at the edge, which no geometry can tell from a split.

    A word glued to a bracket (「FacePlay（APP）」) is split where the engine
    likes: LibreOffice leaves such a line short. There, a word too wide for
    the line is split whether or not the line is full.
    """
    if not (_latin(previous.text[-1:]) and _latin(line.text[:1])):
        return False
    too_wide = previous.tail + line.head > room - 0.5
    filled = previous.width + line.first > room - 0.5
    return too_wide and (filled or _glued(line.text))


def _glued(text: str) -> bool:
    """True if the word *text* starts with runs on into a bracket."""
    for char in text:
        if char in _BRACKETS:
            return True
        if char.isspace() or not char.isascii():
            return False
    return False


def _latin(char: str) -> bool:
    return char.isascii() and char.isalnum()
