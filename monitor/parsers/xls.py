"""Read filing rows out of legacy Excel 97–2003 workbooks (.xls, BIFF8) with xlrd.

xlrd is opened with ``formatting_info`` so that it reports merged regions and
hidden rows, as the .xlsx reader does; the rows then go through the same grid
reader.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import xlrd
from xlrd.biffh import XLRDError
from xlrd.sheet import Sheet as XlrdSheet

from monitor.parsers.grid import GridRow, Sheet, cell_text, read_sheets
from monitor.parsers.result import ParsedDocument, ParseStatus

logger = logging.getLogger(__name__)


class EncryptedWorkbook(Exception):
    """The workbook is protected by a password."""


def parse_xls(data: bytes) -> ParsedDocument:
    """Parse the filing list of every sheet of an .xls workbook."""
    try:
        book = xlrd.open_workbook(
            file_contents=data, formatting_info=True, on_demand=False
        )
    except XLRDError as error:
        if "encrypt" in str(error).lower():
            raise EncryptedWorkbook(str(error)) from error
        logger.warning("Cannot open workbook: %s", error)
        return ParsedDocument(
            ParseStatus.UNREADABLE, f"not a readable workbook: {error}"
        )
    except (AssertionError, IndexError, ValueError) as error:
        # xlrd meets damaged BIFF records with these.
        logger.warning("Cannot open workbook: %s", error)
        return ParsedDocument(ParseStatus.UNREADABLE, f"a damaged workbook: {error}")

    sheets = (
        Sheet(index, sheet.name, _rows(book, sheet), hidden=sheet.visibility != 0)
        for index, sheet in enumerate(book.sheets())
    )
    return read_sheets(sheets)


def _rows(book: xlrd.Book, sheet: XlrdSheet) -> Iterator[GridRow]:
    merged: dict[tuple[int, int], str] = {}
    for low_row, high_row, low_col, high_col in sheet.merged_cells:
        text = _text(book, sheet, low_row, low_col)
        for row in range(low_row, high_row):
            for column in range(low_col, high_col):
                merged[(row, column)] = text

    for row in range(sheet.nrows):
        cells = tuple(
            merged.get((row, column)) or _text(book, sheet, row, column)
            for column in range(sheet.ncols)
        )
        info = sheet.rowinfo_map.get(row)
        yield GridRow(row + 1, cells, hidden=bool(info and info.hidden))


def _text(book: xlrd.Book, sheet: XlrdSheet, row: int, column: int) -> str:
    cell = sheet.cell(row, column)
    if cell.ctype == xlrd.XL_CELL_DATE:
        serial = float(cell.value)
        return cell_text(xlrd.xldate.xldate_as_datetime(serial, book.datemode))
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
        return ""
    return cell_text(cell.value)
