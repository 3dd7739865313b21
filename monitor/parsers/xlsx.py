"""Read filing rows out of Excel 2007+ workbooks (.xlsx) with openpyxl.

Workbooks are opened in openpyxl's normal mode, not its read-only mode, because
only the normal mode knows the merged regions, hidden rows and sheet states a
list depends on: a title merged over every column, a registrant merged over
the rows of its algorithms. A merged region's text fills every cell of the
region and no other cell, so a genuinely empty cell stays empty.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Iterator

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet

from monitor.parsers.grid import MAX_BLANK_RUN, GridRow, Sheet, cell_text, read_sheets
from monitor.parsers.result import ParsedDocument, ParseStatus

logger = logging.getLogger(__name__)

# Uncompressed XML a workbook may hold. The real lists are well under a
# megabyte; a bigger file is refused rather than left to exhaust memory.
MAX_XML_BYTES = 64 * 1024 * 1024

# Columns read per row. A list has about ten; a style applied to whole rows
# makes a sheet claim 16,384.
MAX_COLUMNS = 64


def parse_xlsx(data: bytes) -> ParsedDocument:
    """Parse the filing list of every sheet of an .xlsx workbook."""
    try:
        size = _xml_size(data)
    except zipfile.BadZipFile as error:
        return ParsedDocument(
            ParseStatus.UNREADABLE, f"not a readable workbook: {error}"
        )
    if size > MAX_XML_BYTES:
        return ParsedDocument(
            ParseStatus.TOO_LARGE,
            f"the workbook unpacks to {size:,} bytes of XML, over {MAX_XML_BYTES:,}",
        )

    try:
        book = load_workbook(io.BytesIO(data), data_only=True)
    except (InvalidFileException, KeyError, ValueError, OSError) as error:
        logger.warning("Cannot open workbook: %s", error)
        return ParsedDocument(
            ParseStatus.UNREADABLE, f"not a readable workbook: {error}"
        )

    sheets = (
        Sheet(index, sheet.title, _rows(sheet), hidden=sheet.sheet_state != "visible")
        for index, sheet in enumerate(book.worksheets)
    )
    return read_sheets(sheets)


def _xml_size(data: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return sum(info.file_size for info in archive.infolist())


def _rows(sheet: Worksheet) -> Iterator[GridRow]:
    width = min(sheet.max_column, MAX_COLUMNS)
    merged = _merged_texts(sheet, width)
    blank_run = 0
    for number, row in enumerate(
        sheet.iter_rows(max_col=width, values_only=True), start=1
    ):
        cells = tuple(
            merged.get((number, column), cell_text(value))
            for column, value in enumerate(row, start=1)
        )
        hidden = bool(sheet.row_dimensions[number].hidden)
        yield GridRow(number, cells, hidden)

        # Stop on our own as well: iter_rows would walk every row a stray
        # style claims, whatever the reader of these rows does.
        blank_run = 0 if any(cells) else blank_run + 1
        if blank_run > MAX_BLANK_RUN:
            return


def _merged_texts(sheet: Worksheet, width: int) -> dict[tuple[int, int], str]:
    """The text of each merged region, for every cell of the region."""
    texts: dict[tuple[int, int], str] = {}
    for region in sheet.merged_cells.ranges:
        text = cell_text(sheet.cell(region.min_row, region.min_col).value)
        if not text:
            continue
        for row in range(region.min_row, region.max_row + 1):
            for column in range(region.min_col, min(region.max_col, width) + 1):
                texts[(row, column)] = text
    return texts
