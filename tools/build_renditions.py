"""Build PDF, xlsx and xls renditions of real series-A and B lists.

The renditions give the PDF and spreadsheet parsers ground truth they did not
make: the rows of the real .docx lists CAC published, read by the docx parser
(itself checked against an independent reading and the published counts).
Outputs go to ``tests/data/renditions/`` and are committed, so the tests need
neither LibreOffice nor its fonts.

* **PDF**: LibreOffice (``soffice --headless --convert-to pdf``) with the
  WenQuanYi Zen Hei CJK font, both from Debian's packages
  (``libreoffice-writer-nogui``, ``fonts-wqy-zenhei``). The lists position
  their table as a floating table (``w:tblpPr``), which LibreOffice will not
  break across pages; that one property is removed first, as Word's "Save as
  PDF" flows such a table over the pages anyway. Their page headers and
  footers (a page number between dashes) are dropped too: LibreOffice 7.4
  never finishes laying out these lists with them.
* **xlsx**: laid out as a provincial office publishes a list: a title row
  merged over every column, a line naming the publisher merged below it, then
  the header and the rows, with 序号 filled in (a spreadsheet has no
  auto-numbering) and a hidden sheet of notes. Cell text keeps the paragraph
  breaks of the Word cell. Written with openpyxl, the cells read from the docx
  with python-docx (not with cacwatch's parser).
* **xls**: the first xlsx converted by LibreOffice (``--convert-to xls``), a
  legacy BIFF8 workbook.

Run from the repository root::

    .venv/bin/python tools/build_renditions.py
"""

from __future__ import annotations

import argparse
import io
import logging
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import docx
from openpyxl import Workbook
from openpyxl.styles import Alignment

logger = logging.getLogger("build_renditions")

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "crawler" / "replica" / "files"
OUTPUT = ROOT / "tests" / "data" / "renditions"

PDF_LISTS = (
    "境内互联网信息服务算法备案清单（2022年8月）",
    "境内互联网信息服务算法备案清单（2025年7月）",
    "境内互联网信息服务算法备案清单（2026年5月）",
    "境内深度合成服务算法备案清单（2023年6月）",
    "境内深度合成服务算法备案清单（2024年1月）",
)
XLSX_LISTS = (
    "境内互联网信息服务算法备案清单（2025年7月）",
    "境内深度合成服务算法备案清单（2023年6月）",
)
XLS_LIST = "境内互联网信息服务算法备案清单（2022年8月）"

PUBLISHER = "填报单位：某省互联网信息办公室    更新日期：2026年5月31日"
NOTES = (
    "说明",
    "本表根据国家互联网信息办公室公布的清单整理。",
    "序号按表内顺序编排。",
)
# Fixed workbook times, so that a rebuild gives the same bytes.
FIXED_TIME = datetime(2026, 5, 31, 10, 0, 0)

_FLOATING = re.compile(rb"<w:tblpPr\b[^>]*/>")
_HEADER_FOOTER = re.compile(rb"<w:(?:header|footer)Reference\b[^>]*/>")


def flowing_docx(data: bytes) -> bytes:
    """The docx with its table's floating position and page furniture removed."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "word/document.xml":
                content = _HEADER_FOOTER.sub(b"", _FLOATING.sub(b"", content))
            target.writestr(info, content)
    return out.getvalue()


def soffice(source: Path, fmt: str, outdir: Path) -> Path:
    # A profile of its own, so that a LibreOffice the user has open does not
    # take the conversion over (or block it).
    profile = (outdir / "profile").as_uri()
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            fmt,
            "--outdir",
            str(outdir),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return outdir / f"{source.stem}.{fmt}"


def build_pdf(title: str, workdir: Path) -> None:
    source = workdir / f"{title}.docx"
    source.write_bytes(flowing_docx((SOURCES / f"{title}.docx").read_bytes()))
    pdf = soffice(source, "pdf", workdir)
    shutil.copyfile(pdf, OUTPUT / f"{title}.pdf")
    logger.info("Wrote %s.pdf", title)


def docx_table(title: str) -> tuple[str, list[list[str]]]:
    """The heading and the cell texts of the list's table, header row first."""
    document = docx.Document(str(SOURCES / f"{title}.docx"))
    heading = next(p.text.strip() for p in document.paragraphs if "清单" in p.text)
    [table] = document.tables
    rows = []
    for row in table.rows:
        cells = []
        for cell in row.cells:
            cells.append("\n".join(p.text for p in cell.paragraphs).strip())
        rows.append(cells)
    return heading, rows


def build_xlsx(title: str) -> Path:
    heading, rows = docx_table(title)
    header, data = rows[0], rows[1:]
    width = len(header)

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "备案清单"
    sheet.append([heading])
    sheet.append([PUBLISHER])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    sheet.append(header)
    for number, cells in enumerate(data, start=1):
        values: list[str | int] = list(cells)
        # Word numbered these rows itself; a spreadsheet holds the number.
        values[0] = int(cells[0]) if cells[0].isdigit() else number
        sheet.append(values)
    for row in sheet.iter_rows(min_row=3):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="center")

    notes = book.create_sheet("说明")
    for line in NOTES:
        notes.append([line])
    notes.sheet_state = "hidden"

    book.properties.created = FIXED_TIME
    book.properties.modified = FIXED_TIME
    book.properties.creator = "cacwatch tools/build_renditions.py"
    path = OUTPUT / f"{title}.xlsx"
    book.save(path)
    logger.info("Wrote %s.xlsx", title)
    return path


def build_xls(title: str, workdir: Path) -> None:
    source = build_xlsx(title)
    copy = workdir / source.name
    shutil.copyfile(source, copy)
    xls = soffice(copy, "xls", workdir)
    shutil.copyfile(xls, OUTPUT / f"{title}.xls")
    (OUTPUT / f"{title}.xlsx").unlink()
    logger.info("Wrote %s.xls", title)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    if shutil.which("soffice") is None:
        logger.error(
            "LibreOffice (soffice) is needed: apt install libreoffice-writer-nogui"
        )
        return 1

    OUTPUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for title in PDF_LISTS:
            build_pdf(title, workdir)
        build_xls(XLS_LIST, workdir)
    for title in XLSX_LISTS:
        build_xlsx(title)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
