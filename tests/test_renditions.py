"""Real lists rendered as PDF, xlsx and xls read back to the rows of their .docx.

``tools/build_renditions.py`` made the renditions with LibreOffice and
openpyxl, not with cacwatch; the ground truth is the real .docx list, whose
reading ``tests/test_docx_parser.py`` checks against an independent reader.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.parsers import ParseStatus, parse_attachment
from monitor.parsers.docx import parse_docx
from monitor.sniff import Kind, sniff
from tests.conftest import FILES

RENDITIONS = Path(__file__).parent / "data" / "renditions"
SUFFIXES = (".pdf", ".xlsx", ".xls")
FILES_BY_SUFFIX = {suffix: sorted(RENDITIONS.glob(f"*{suffix}")) for suffix in SUFFIXES}
ALL = [path for paths in FILES_BY_SUFFIX.values() for path in paths]


def truth(path: Path) -> list[dict[str, str]]:
    """The rows of the .docx a rendition was made from, 序号 as a reader sees it."""
    document = parse_docx((FILES / f"{path.stem}.docx").read_bytes())
    assert document.status is ParseStatus.COMPLETE
    rows = []
    for row in document.rows:
        fields = dict(row.fields)
        # Word numbered these rows itself, with no text in the cell; the
        # number it shows is the row's position.
        fields["seq"] = fields.get("seq") or str(row.position)
        rows.append(fields)
    return rows


def test_there_are_renditions_of_each_format() -> None:
    assert len(FILES_BY_SUFFIX[".pdf"]) >= 5
    assert len(FILES_BY_SUFFIX[".xlsx"]) >= 2
    assert len(FILES_BY_SUFFIX[".xls"]) >= 1
    kinds = {sniff(path.read_bytes()) for path in ALL}
    assert kinds == {Kind.PDF, Kind.XLSX, Kind.OLE}


@pytest.mark.parametrize("path", ALL, ids=lambda path: path.name)
def test_rendition_reads_back_every_field_of_the_real_list(path: Path) -> None:
    document = parse_attachment(path.read_bytes())

    assert document.status is ParseStatus.COMPLETE, document.message
    got = [dict(row.fields) for row in document.rows]
    for fields, row in zip(got, document.rows, strict=True):
        fields["seq"] = fields.get("seq") or str(row.position)
    assert got == truth(path)


@pytest.mark.parametrize("path", FILES_BY_SUFFIX[".pdf"], ids=lambda path: path.name)
def test_pdf_rendition_rows_carry_their_pages(path: Path) -> None:
    document = parse_attachment(path.read_bytes())

    pages = [row.page for row in document.rows]
    assert all(page is not None and page >= 1 for page in pages)
    assert pages == sorted(pages)  # type: ignore[type-var]
    assert document.skipped_header_rows > 0  # the header repeats on each page


@pytest.mark.parametrize(
    "path", FILES_BY_SUFFIX[".xlsx"] + FILES_BY_SUFFIX[".xls"], ids=lambda p: p.name
)
def test_spreadsheet_rendition_keeps_title_sheet_and_row_numbers(path: Path) -> None:
    document = parse_attachment(path.read_bytes())

    assert document.title is not None
    assert path.stem in document.title
    assert {row.sheet for row in document.rows} == {"备案清单"}
    # The title, the publisher line and the header come first.
    assert [row.row for row in document.rows][:2] == [4, 5]
    assert "hidden sheet '说明' holds no filing list" in document.warnings
