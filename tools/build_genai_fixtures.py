"""Build the series C and D attachments of the replica, and their expected rows.

No official generative-AI list or cancellation notice file is available, so the
replica serves files rebuilt here from the rows of a third-party transcription
(``crawler/replica/data/genai_filing.json`` and ``cancel.json``). The tables,
names, formats and release days come from ``crawler/replica/lists.py``; this
script only lays them out:

* ``crawler/replica/files/genai/``: one list per period (PDF or docx), and the
  two annual relists (PDF);
* ``crawler/replica/files/cancel/``: one PDF per cancellation notice;
* ``crawler/replica/data/expected/<file name>.json``: the rows a perfect parser
  returns from that file, in order, with canonical keys and the 0-based index
  of the table each row is in.

**Cleaning.** The transcription keeps the line-wrap spaces of the official PDFs
inside cells (「苏州清睿智能科技股份 有限公司」, 「网信算备 320114586731 201240019号」,
「服 务 提 供 者」). Before anything is built, whitespace is removed wherever the
character on either side is not an ASCII letter or digit, and a run between two
ASCII letters or digits becomes one space (「Aryn GPT」 stays). Filing numbers
hold no spaces at all (CAC drops the spaces of a model name from its number:
WPS AI → Beijing-WPSAI-20231016), so every space in a number is removed
(「网信算备320114586731201240019号」).

**PDF layout.** reportlab with its built-in CID font STSong-Light (·, • and ・
are set in HeiseiMin-W3, since in STSong-Light they do not read back), A4
landscape, ruled tables with the header repeated on every page. Cells are
broken into lines here, not by reportlab, as Word and LibreOffice break them: at
a space or next to any character that is not an ASCII letter or digit; a Latin
word or number too wide for its cell (a long filing number) starts a line and
is split wherever the line is full. Two lists have one table that continues on
the next page without its header, as Word tables without a repeated header row
print: the
table is built as two Table flowables, the first filling its page (measured by
a first layout pass), the second with no header row.

**Reproducible.** PDFs are written with ``invariant=1`` (fixed dates and ID);
docx files get fixed core properties and fixed zip entry times. Two runs give
identical bytes.

Usage::

    .venv/bin/python tools/build_genai_fixtures.py            # rebuild
    .venv/bin/python tools/build_genai_fixtures.py --check    # compare only
    .venv/bin/python tools/build_genai_fixtures.py --verify   # read PDFs back

Needs reportlab (``pip install 'reportlab>=4.0'``) and python-docx.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import re
import sys
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime, time
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import docx
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from crawler.replica.lists import (
    CANCEL_DIR,
    DOCX,
    EXPECTED_DIR,
    GENAI_DIR,
    ListDocument,
    ListTable,
    all_documents,
)
from crawler.replica.timeline import ATTACHMENTS_DIR

logger = logging.getLogger("build_genai_fixtures")

FONT = "STSong-Light"
# Text in STSong-Light with these does not read back: pdfminer (under
# pdfplumber) drops them. HeiseiMin-W3 round-trips them; every other character
# of the lists round-trips in STSong-Light (checked with --verify).
FALLBACK_FONT = "HeiseiMin-W3"
FALLBACK_CHARS = frozenset("·•・")

PAGE = landscape(A4)
MARGIN_X = 2.0 * cm
MARGIN_Y = 2.2 * cm
CELL_SIZE = 9.0
CELL_LEADING = 11.5
CELL_PADDING = 3.0

# Column widths in points. Narrow enough that long names and numbers wrap,
# wide enough for the longest Latin word or number (which must not break).
GENAI_WIDTHS = (32.0, 50.0, 140.0, 150.0, 186.0, 62.0)
CANCEL_WIDTHS = (28.0, 110.0, 40.0, 110.0, 150.0, 100.0, 50.0)

# (document key, table index): tables continued on the next page without their
# header row.
CONTINUED_TABLES = frozenset({("2024-11", 0), ("2025-12", 1)})

# A cell line may not start with these (they stay on the line before) nor end
# with the opening ones (they move to the next line), as in Word's Chinese
# line breaking.
_NO_LINE_START = frozenset("）)】」』、，。：；！？-/·•・%")
_NO_LINE_END = frozenset("（(【「『“")
_UNITS = re.compile(r"[0-9A-Za-z]+| |.", re.DOTALL)
_ASCII_WORD = re.compile(r"[0-9A-Za-z]")

_FIXED_TIME = time(10, 0)


# --- cell text --------------------------------------------------------------


def text_width(text: str, size: float) -> float:
    return sum(pdfmetrics.stringWidth(char, _font_of(char), size) for char in text)


def _font_of(char: str) -> str:
    return FALLBACK_FONT if char in FALLBACK_CHARS else FONT


def break_units(text: str) -> list[str]:
    """Split cell text into pieces that a line break may separate.

    A Latin word or number is one piece; every other character is a piece of its
    own, glued to its neighbour where Chinese line breaking forbids a break; a
    space is a piece that disappears at a line end.
    """
    units: list[str] = []
    for token in _UNITS.findall(text):
        glue = (
            units
            and units[-1] != " "
            and token != " "
            and (token[0] in _NO_LINE_START or units[-1][-1] in _NO_LINE_END)
        )
        if glue:
            units[-1] += token
        else:
            units.append(token)
    return units


def wrap_cell(text: str, width: float, size: float = CELL_SIZE) -> list[str]:
    """Break ``text`` into lines no wider than ``width``.

    Breaks fall at a space or next to a character that is not an ASCII letter
    or digit. A Latin word or number wider than the cell is split where the
    line is full, as Word and LibreOffice split a long filing number.
    """
    lines: list[str] = []
    line = ""
    for unit in break_units(text):
        if unit == " ":
            line += " " if line else ""
            continue
        if text_width(line + unit, size) <= width:
            line += unit
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = ""
        if text_width(unit, size) <= width:
            line = unit
            continue
        # A word that fits on no line starts a line of its own and is split
        # wherever the line is full.
        for char in unit:
            if line and text_width(line + char, size) > width:
                lines.append(line)
                line = ""
            line += char
    lines.append(line.rstrip())

    _check_breaks(text, lines)
    return lines


def _check_breaks(text: str, lines: list[str]) -> None:
    # Breaks inside a word leave no space; every other break between two
    # ASCII words stood for one. Joining must give the text back either way.
    joined = lines[0]
    for line in lines[1:]:
        if _ASCII_WORD.match(joined[-1:]) and _ASCII_WORD.match(line[:1]):
            glued = joined + line
            spaced = joined + " " + line
            joined = glued if text.startswith(glued) else spaced
        else:
            joined += line
    if joined != text:
        raise AssertionError(f"line breaks change {text!r} into {joined!r}")


def _markup(line: str) -> str:
    parts = []
    for char in line:
        escaped = escape(char)
        if char in FALLBACK_CHARS:
            escaped = f'<font name="{FALLBACK_FONT}">{escaped}</font>'
        parts.append(escaped)
    return "".join(parts)


# --- PDF --------------------------------------------------------------------


def _register_fonts() -> None:
    for name in (FONT, FALLBACK_FONT):
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(name))


_STYLES = {
    "cell": ParagraphStyle(
        "cell", fontName=FONT, fontSize=CELL_SIZE, leading=CELL_LEADING
    ),
    "head": ParagraphStyle(
        "head",
        fontName=FONT,
        fontSize=CELL_SIZE,
        leading=CELL_LEADING,
        alignment=TA_CENTER,
    ),
    "title": ParagraphStyle(
        "title",
        fontName=FONT,
        fontSize=16,
        leading=22,
        alignment=TA_CENTER,
        spaceAfter=10,
    ),
    "caption": ParagraphStyle(
        "caption",
        fontName=FONT,
        fontSize=12,
        leading=16,
        alignment=TA_LEFT,
        spaceBefore=8,
        spaceAfter=6,
    ),
}

_GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("TOPPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("BOTTOMPADDING", (0, 0), (-1, -1), CELL_PADDING),
    ]
)


class _MeasuredTable(Table):
    """A table that records how many of its rows the first page takes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.first_page_rows: int | None = None

    def split(self, aW: float, aH: float, /) -> list[Flowable]:
        parts = super().split(aW, aH)
        if parts and self.first_page_rows is None:
            # The split-off part is a new Table holding the rows that fit.
            self.first_page_rows = len(vars(parts[0])["_cellvalues"])
        return parts


def _cell_rows(table: ListTable, widths: Sequence[float]) -> list[list[Paragraph]]:
    inner = [width - 2 * CELL_PADDING for width in widths]
    header = [
        Paragraph("<br/>".join(map(_markup, wrap_cell(text, w))), _STYLES["head"])
        for text, w in zip(table.header, inner, strict=True)
    ]
    body = [
        [
            Paragraph("<br/>".join(map(_markup, wrap_cell(text, w))), _STYLES["cell"])
            for text, w in zip(row, inner, strict=True)
        ]
        for row in table.rows
    ]
    return [header, *body]


def _continued(
    data: list[list[Paragraph]], widths: Sequence[float], first_page: int
) -> tuple[_MeasuredTable, Table]:
    """The table's first page with its header, then the rest without one."""
    return (
        _MeasuredTable(data[:first_page], colWidths=widths, repeatRows=1, style=_GRID),
        Table(data[first_page:], colWidths=widths, repeatRows=0, style=_GRID),
    )


def _story(
    document: ListDocument, first_pages: dict[int, int]
) -> tuple[list[Flowable], dict[int, _MeasuredTable]]:
    widths = CANCEL_WIDTHS if document.directory == CANCEL_DIR else GENAI_WIDTHS
    story: list[Flowable] = []
    if document.annex:
        story.append(Paragraph(escape(document.annex), _STYLES["caption"]))
    story.append(Paragraph(_markup(document.title), _STYLES["title"]))

    measured: dict[int, _MeasuredTable] = {}
    for index, table in enumerate(document.tables):
        if table.caption:
            story.append(Paragraph(_markup(table.caption), _STYLES["caption"]))
        else:
            story.append(Spacer(1, 6))
        data = _cell_rows(table, widths)

        if (document.key, index) not in CONTINUED_TABLES:
            story.append(Table(data, colWidths=widths, repeatRows=1, style=_GRID))
        elif index in first_pages:
            first, rest = _continued(data, widths, first_pages[index])
            measured[index] = first
            story += [first, rest]
        else:
            # First pass: lay the table out whole to see where its page ends.
            whole = _MeasuredTable(data, colWidths=widths, repeatRows=1, style=_GRID)
            measured[index] = whole
            story.append(whole)
    return story, measured


def _page_number(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont(FONT, 9)
    canvas.drawCentredString(PAGE[0] / 2, MARGIN_Y / 2, f"- {doc.page} -")
    canvas.restoreState()


def _render_pdf(document: ListDocument, story: list[Flowable]) -> bytes:
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=PAGE,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_Y,
        bottomMargin=MARGIN_Y,
        title=document.title,
        author="",
        subject="",
        creator="",
        invariant=1,
    )
    template.build(story, onFirstPage=_page_number, onLaterPages=_page_number)
    return buffer.getvalue()


def build_pdf(document: ListDocument) -> bytes:
    """Lay out ``document`` as a PDF; see the module docstring."""
    _register_fonts()
    story, measured = _story(document, {})
    pdf = _render_pdf(document, story)
    if not measured:
        return pdf

    first_pages = {}
    for index, table in measured.items():
        if table.first_page_rows is None:
            raise ValueError(f"{document.key} table {index} fits on one page")
        first_pages[index] = table.first_page_rows

    story, measured = _story(document, first_pages)
    pdf = _render_pdf(document, story)
    # The first part must fill its page exactly, or its own split would repeat
    # the header where none should be.
    if any(table.first_page_rows is not None for table in measured.values()):
        raise AssertionError(f"{document.key}: continued table split again")
    return pdf


# --- docx -------------------------------------------------------------------


def _repeat_header(row: Any) -> None:
    properties = row._tr.get_or_add_trPr()
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    properties.append(marker)


def build_docx(document: ListDocument) -> bytes:
    """Write ``document`` as a Word file with one table per list table."""
    word = docx.Document()
    section = word.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width

    if document.annex:
        word.add_paragraph(document.annex)
    title = word.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.add_run(document.title).font.size = Pt(16)

    for table in document.tables:
        word.add_paragraph(table.caption)
        grid = word.add_table(rows=len(table.rows) + 1, cols=len(table.header))
        grid.style = "Table Grid"
        _repeat_header(grid.rows[0])
        for cell, text in zip(grid.rows[0].cells, table.header, strict=True):
            cell.text = text
        for row, values in zip(grid.rows[1:], table.rows, strict=True):
            for cell, text in zip(row.cells, values, strict=True):
                cell.text = text

    stamp = datetime.combine(document.released, _FIXED_TIME)
    properties = word.core_properties
    properties.author = "cacwatch"
    properties.last_modified_by = "cacwatch"
    properties.title = document.title
    properties.created = stamp
    properties.modified = stamp
    properties.revision = 1

    buffer = io.BytesIO()
    word.save(buffer)
    return _fixed_zip_times(buffer.getvalue(), stamp)


def _fixed_zip_times(package: bytes, stamp: datetime) -> bytes:
    # python-docx stamps each zip entry with the current time.
    date_time = stamp.timetuple()[:6]
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(package)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()


# --- outputs ----------------------------------------------------------------


def expected_json(document: ListDocument) -> bytes:
    text = json.dumps(document.expected_rows(), ensure_ascii=False, indent=1)
    return (text + "\n").encode("utf-8")


def build_all(documents: Iterable[ListDocument]) -> dict[Path, bytes]:
    """Every output file, by path, for ``documents``."""
    outputs: dict[Path, bytes] = {}
    for document in documents:
        logger.info("Building %s", document.filename)
        build = build_docx if document.fmt == DOCX else build_pdf
        outputs[ATTACHMENTS_DIR / document.filename] = build(document)
        outputs[document.expected_path] = expected_json(document)
    return outputs


def _owned_files() -> set[Path]:
    """Files in the folders this script owns, whoever wrote them."""
    folders = (ATTACHMENTS_DIR / GENAI_DIR, ATTACHMENTS_DIR / CANCEL_DIR, EXPECTED_DIR)
    return {path for folder in folders if folder.is_dir() for path in folder.iterdir()}


def write(outputs: dict[Path, bytes]) -> None:
    for stale in _owned_files() - set(outputs):
        logger.warning("Removing stale %s", stale)
        stale.unlink()
    for path, content in sorted(outputs.items()):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    logger.info("Wrote %d files", len(outputs))


def check(outputs: dict[Path, bytes]) -> bool:
    """Whether the committed files are exactly ``outputs``."""
    same = True
    for path in sorted(set(outputs) | _owned_files()):
        if not path.is_file() or path not in outputs:
            logger.error("Missing or unexpected: %s", path)
            same = False
        elif path.read_bytes() != outputs[path]:
            logger.error("Differs: %s", path)
            same = False
    return same


def _bare(text: str) -> str:
    return "".join(text.split())


def verify_pdfs(documents: Iterable[ListDocument]) -> bool:
    """Read every committed PDF's tables back and compare them to the rows.

    A development check, not a parser: header rows are recognised by their
    first cell, and cells are compared without whitespace, since telling a
    split word from a wrap at a space is the parser's job (tested in
    ``tests/test_pdf_parser.py``). It shows that every glyph reads back.
    """
    import pdfplumber

    good = True
    for document in documents:
        if document.fmt == DOCX:
            continue
        headers = {table.header[0] for table in document.tables}
        rows = []
        with pdfplumber.open(ATTACHMENTS_DIR / document.filename) as pdf:
            for page in pdf.pages:
                for table in page.extract_tables():
                    for cells in table:
                        values = tuple(_bare(cell or "") for cell in cells)
                        if values[0] not in headers:
                            rows.append(values)
        expected = [
            tuple(_bare(cell) for cell in row)
            for table in document.tables
            for row in table.rows
        ]
        if rows != expected:
            logger.error("%s does not read back as built", document.filename)
            good = False
    return good


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="build in memory and compare with the committed files",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="read the committed PDFs back with pdfplumber",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

    documents = all_documents()
    if args.verify:
        return 0 if verify_pdfs(documents) else 1

    outputs = build_all(documents)
    if args.check:
        return 0 if check(outputs) else 1
    write(outputs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
