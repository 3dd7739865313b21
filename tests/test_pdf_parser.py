"""PDF lists: every generated list read back exactly, broken PDFs named."""

from __future__ import annotations

import hashlib
import io
import json
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from crawler.replica.lists import all_documents, cancel_notices
from crawler.replica.server import Replica
from monitor.parsers import ParseStatus, parse_attachment
from monitor.store import Store
from tests.conftest import AFTER, run

REPLICA = Path(__file__).parent.parent / "crawler" / "replica"
GENAI_APRIL = "生成式人工智能服务已备案和已登记信息（2026年4月）"
DOCUMENTS = [*all_documents(), *(notice.document for notice in cancel_notices())]


def parsed_rows(data: bytes) -> tuple[ParseStatus, list[dict[str, Any]]]:
    document = parse_attachment(data)
    return document.status, [{"table": r.table, **r.fields} for r in document.rows]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: d.filename)
def test_every_generated_list_reads_back_exactly(document: Any) -> None:
    data = (REPLICA / "files" / document.filename).read_bytes()
    expected = json.loads(document.expected_path.read_text(encoding="utf-8"))

    status, rows = parsed_rows(data)

    assert status is ParseStatus.COMPLETE
    assert len(rows) == len(expected)
    # Every field of every row, in order; the parser may name fields the
    # expected rows leave out (none today), never miss or change one.
    assert [
        {key: row.get(key) for key in want}
        for row, want in zip(rows, expected, strict=True)
    ] == expected


def test_pdf_rows_carry_their_page_and_unique_positions() -> None:
    pdf = next(d for d in DOCUMENTS if d.fmt == "pdf" and "2025年生成式" in d.filename)
    document = parse_attachment((REPLICA / "files" / pdf.filename).read_bytes())

    pages = {row.page or 0 for row in document.rows}
    assert min(pages) == 1
    assert len(pages) > 10
    # The header repeated on every page is skipped, not read as data.
    assert document.skipped_header_rows >= len(pages) - 2
    keys = [(row.table, row.row) for row in document.rows]
    assert len(keys) == len(set(keys))
    # Two tables, 备案 then 登记, told apart.
    assert {row.table for row in document.rows} == {0, 1}


# --- PDFs no parser can read -------------------------------------------------


def _text_pdf(**options: Any) -> bytes:
    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4, invariant=1, **options)
    page.setFont("STSong-Light", 10)
    page.drawString(
        72, 760, "序号 算法名称 角色 主体名称 应用产品 主要用途 备案编号 备注"
    )
    page.drawString(
        72, 740, "1 示例算法 服务提供者 示例科技有限公司 示例(APP) 问答 网信算备1"
    )
    page.save()
    return out.getvalue()


def _image_only_pdf() -> bytes:
    picture = Image.new("L", (400, 200), color=255)
    for x in range(0, 400, 4):
        picture.putpixel((x, 100), 0)
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4, invariant=1)
    page.drawImage(ImageReader(picture), 72, 500, width=400, height=200)
    page.showPage()
    page.drawImage(ImageReader(picture), 72, 500, width=400, height=200)
    page.save()
    return out.getvalue()


def _cid_pdf() -> bytes:
    """A PDF whose CID font has no /ToUnicode map, as some exporters write.

    Built by hand: the point is a font that any PDF library would fix.
    """
    codes = "".join(f"{n:04X}" for n in range(1, 40))
    content = f"BT /F1 10 Tf 72 760 Td <{codes}> Tj 0 -20 Td <{codes}> Tj ET"
    stream = zlib.compress(content.encode())
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /SimSun "
        b"/Encoding /Identity-H /DescendantFonts [6 0 R] >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
        + stream
        + b"\nendstream",
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /SimSun "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) "
        b"/Supplement 0 >> /DW 1000 >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


BROKEN = {
    "image_only": (_image_only_pdf, ParseStatus.NO_TEXT_LAYER, "OCR"),
    "encrypted": (
        lambda: _text_pdf(encrypt="secret"),
        ParseStatus.ENCRYPTED,
        "password",
    ),
    "cid_glyphs": (_cid_pdf, ParseStatus.TEXT_LAYER_UNUSABLE, "(cid:N)"),
    "truncated": (
        lambda: _text_pdf()[:-300],
        ParseStatus.UNREADABLE,
        "truncated",
    ),
    "not_a_list": (
        lambda: _latin_pdf(),
        ParseStatus.TEXT_LAYER_UNUSABLE,
        "no Chinese",
    ),
}


def _latin_pdf() -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4, invariant=1)
    page.drawString(72, 760, "Minutes of the meeting, nothing to list")
    page.save()
    return out.getvalue()


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_unreadable_pdfs_get_a_named_status_and_no_rows(case: str) -> None:
    build, status, words = BROKEN[case]

    document = parse_attachment(build())

    assert document.status is status
    assert words in document.message
    assert document.rows == []


def test_a_readable_text_pdf_is_not_mistaken_for_a_broken_one() -> None:
    # The same PDF as the encrypted case, without the password: it has text
    # and Chinese, only no ruled table.
    document = parse_attachment(_text_pdf())
    assert document.status is ParseStatus.NO_TABLE
    assert "备案编号" in document.message


# --- a broken PDF published on the site ------------------------------------


@pytest.mark.parametrize("case", ["image_only", "cid_glyphs", "encrypted"])
def test_a_broken_list_on_the_site_is_kept_named_and_never_diffed(
    replica: Replica, state: Path, case: str
) -> None:
    build, status, _ = BROKEN[case]
    data = build()
    replica.overrides[GENAI_APRIL] = data
    replica.as_of = AFTER

    outcome = run(replica, state)

    store = Store(state)
    try:
        [batch] = store.query(
            "select * from batches where name = ? and status != 'complete'",
            [GENAI_APRIL],
        )
        assert batch["status"] == status.value
        assert batch["diffed_at"] is None
        events = store.query("select kind from events where series = 'generative_ai'")
        assert events == []
        # The bytes are in the archive, to be parsed again by a better parser.
        digest = hashlib.sha256(data).hexdigest()
        assert store.scalar("select count(*) from blobs where sha256 = ?", [digest])
        assert list((state / "archive").rglob(f"{digest}*"))
    finally:
        store.close()
    assert outcome.status == "partial"
    assert status.value in outcome.report
