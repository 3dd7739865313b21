"""The generative-AI and cancellation parts of the replica, over real HTTP.

Also checks the generated attachments against the transcription they are built
from: every row present, cleaned by the documented rule, and readable.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import docx
import pdfplumber
import pytest
from parsel import Selector

from crawler.replica.beian import FILE_DOWNLOAD_PATH, NOTICE_LIST_PATH
from crawler.replica.genai import GENAI_PATH, GENAI_TITLE, GENERIC_ATTACHMENT
from crawler.replica.lists import (
    CANCEL_JSON,
    GENAI_JSON,
    ListDocument,
    TableKind,
    all_documents,
    cancel_notices,
    clean_cell,
    clean_number,
    genai_document,
    genai_documents,
    relist_document,
)
from crawler.replica.policies import load_policies
from crawler.replica.server import BEIAN, Replica
from crawler.replica.timeline import ATTACHMENTS_DIR
from monitor.fields import field_for_header, join_lines, squash
from tests.test_replica import (
    download_links,
    fetch,
    fetch_text,
    filename_from_disposition,
    text_content,
)

AS_OF = date(2025, 4, 30)
LATEST = date(2026, 9, 30)
PDF_TYPE = "application/pdf"

# The dated announcements of the channel CSV and the list each one attaches.
ANNOUNCEMENTS = {
    "/2025-01/08/c_1738034725920930.htm": (
        "genai/2024年生成式人工智能服务已备案和已登记信息.pdf"
    ),
    "/2025-04/08/c_1745817775881843.htm": (
        "genai/生成式人工智能服务已备案和已登记信息（2025年3月）.docx"
    ),
    "/2025-07/11/c_1753948489002783.htm": (
        "genai/生成式人工智能服务已备案和已登记信息（2025年6月）.pdf"
    ),
    "/2025-09/10/c_1759222982377536.htm": (
        "genai/附件7：生成式人工智能服务已备案和已登记信息（2025年8月）.docx"
    ),
    "/2025-11/11/c_1764585284364412.htm": (
        "genai/生成式人工智能服务已备案和已登记信息（2025年10月）.docx"
    ),
    "/2026-01/09/c_1769688009588554.htm": (
        "genai/2025年生成式人工智能服务已备案和已登记信息.pdf"
    ),
}

PDFS = [d for d in all_documents() if d.fmt == "pdf"]
DOCXS = [d for d in all_documents() if d.fmt == "docx"]


def _read_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


@pytest.fixture
def site() -> Iterator[Replica]:
    with Replica(AS_OF) as running:
        yield running


def _referer(site: Replica) -> dict[str, str]:
    return {"Referer": site.base_url + "/"}


def _notices(site: Replica) -> list[dict[str, Any]]:
    status, headers, body = fetch(site.beian_url + NOTICE_LIST_PATH)
    assert status == 200
    assert headers.get_content_type() == "application/json"
    answer = json.loads(body)
    assert answer["errno"] == 0
    assert answer["errmsg"] == ""
    datas: list[dict[str, Any]] = answer["datas"]
    return datas


def _file_download(site: Replica, notice_id: str, referer: bool = True) -> Any:
    query = urlencode({"noticeId": notice_id})
    headers = {"Referer": site.beian_url + "/"} if referer else {}
    return fetch(f"{site.beian_url}{FILE_DOWNLOAD_PATH}?{query}", headers=headers)


# --- the growing page -------------------------------------------------------


def test_genai_page_lists_the_periods_released_by_then(site: Replica) -> None:
    url = site.base_url + GENAI_PATH
    html = fetch_text(url)
    links = download_links(html, url)

    released = [d.label for d in genai_documents() if d.released <= AS_OF]
    assert [text for _, text in links] == released
    assert released[-1] == "生成式人工智能服务已备案和已登记信息（2025年3月）"
    assert len(released) == 5
    for href, text in links:
        assert parse_qs(urlsplit(href).query)["fText"] == [text]

    tree = Selector(text=html)
    assert tree.xpath('string(//h1[@class="title"])').get() == GENAI_TITLE
    pubtime = tree.xpath('string(//span[@id="pubtime"])').get()
    assert pubtime == "2024年04月02日 18:00"
    body = text_content(tree.xpath('//div[@id="BodyLabel"]')[0])
    assert "注明模型名称及备案号" in body


def test_genai_page_grows_to_all_thirteen_lists(site: Replica) -> None:
    url = site.base_url + GENAI_PATH
    site.as_of = date(2024, 4, 2)
    assert len(download_links(fetch_text(url), url)) == 1

    site.as_of = LATEST
    links = download_links(fetch_text(url), url)
    assert [text for _, text in links] == [d.label for d in genai_documents()]
    assert "附件7：生成式人工智能服务已备案和已登记信息（2025年8月）" in {
        text for _, text in links
    }

    site.as_of = date(2024, 4, 1)
    assert fetch(url)[0] == 404


def test_genai_downloads_are_the_committed_files(site: Replica) -> None:
    site.as_of = LATEST
    url = site.base_url + GENAI_PATH

    for (href, label), document in zip(
        download_links(fetch_text(url), url), genai_documents(), strict=True
    ):
        status, headers, body = fetch(href, headers={"Referer": url})
        assert status == 200
        assert body == (ATTACHMENTS_DIR / document.filename).read_bytes()
        name = filename_from_disposition(headers["Content-Disposition"])
        assert name == f"{label}.{document.fmt}"
        if document.fmt == "pdf":
            assert headers["Content-Type"] == PDF_TYPE
            assert body.startswith(b"%PDF")
        else:
            assert body.startswith(b"PK\x03\x04")


def test_unreleased_genai_list_is_404(site: Replica) -> None:
    site.as_of = LATEST
    url = site.base_url + GENAI_PATH
    last_href, _ = download_links(fetch_text(url), url)[-1]

    site.as_of = AS_OF
    assert fetch(last_href, headers=_referer(site))[0] == 404


# --- the dated announcements ------------------------------------------------


def test_dated_announcements_link_their_list_under_the_generic_name(
    site: Replica,
) -> None:
    site.as_of = LATEST
    for path, filename in ANNOUNCEMENTS.items():
        url = site.base_url + path
        [(href, text)] = download_links(fetch_text(url), url)
        assert text == GENERIC_ATTACHMENT
        assert parse_qs(urlsplit(href).query)["fText"] == [GENERIC_ATTACHMENT]

        status, headers, body = fetch(href, headers={"Referer": url})
        assert status == 200
        assert body == (ATTACHMENTS_DIR / filename).read_bytes()
        name = filename_from_disposition(headers["Content-Disposition"])
        assert name == GENERIC_ATTACHMENT + Path(filename).suffix


def test_dated_announcements_keep_their_csv_text(site: Replica) -> None:
    site.as_of = LATEST
    policies = {item.url_path: item for item in load_policies()}

    for path in ANNOUNCEMENTS:
        tree = Selector(text=fetch_text(site.base_url + path))
        body = text_content(tree.xpath('//div[@id="BodyLabel"]')[0])
        *paragraphs, attachment_line = policies[path].paragraphs
        assert attachment_line.startswith("附件")
        for paragraph in paragraphs:
            assert paragraph in body
        assert tree.xpath('string(//h1[@class="title"])').get() == (
            policies[path].title
        )


def test_an_announcement_and_the_growing_page_link_one_file_differently(
    site: Replica,
) -> None:
    page = site.base_url + GENAI_PATH
    own = {text: href for href, text in download_links(fetch_text(page), page)}
    announcement = site.base_url + "/2025-04/08/c_1745817775881843.htm"
    [(href, _)] = download_links(fetch_text(announcement), announcement)

    growing_href = own["生成式人工智能服务已备案和已登记信息（2025年3月）"]
    assert href != growing_href
    assert (
        fetch(href, headers=_referer(site))[2]
        == (fetch(growing_href, headers=_referer(site))[2])
    )


def test_overrides_by_file_name_single_out_one_list(site: Replica) -> None:
    site.as_of = LATEST
    site.overrides[ANNOUNCEMENTS["/2025-07/11/c_1753948489002783.htm"]] = b"re-issued"
    july = site.base_url + "/2025-07/11/c_1753948489002783.htm"
    april = site.base_url + "/2025-04/08/c_1745817775881843.htm"

    [(july_href, _)] = download_links(fetch_text(july), july)
    [(april_href, _)] = download_links(fetch_text(april), april)
    assert fetch(july_href, headers=_referer(site))[2] == b"re-issued"
    assert fetch(april_href, headers=_referer(site))[2].startswith(b"PK")


# --- beian.cac.gov.cn -------------------------------------------------------


def test_notice_list_follows_as_of(site: Replica) -> None:
    site.as_of = date(2025, 9, 30)
    datas = _notices(site)

    cancellations = [n for n in datas if n["type"] == 2]
    assert [n["createTime"][:10] for n in cancellations] == ["2025-09-11", "2025-07-14"]
    assert all("注销" in n["title"] for n in cancellations)
    assert all(n["noticeId"].startswith("notice_") for n in datas)
    times = [n["createTime"] for n in datas]
    assert times == sorted(times, reverse=True)

    deep = [n for n in datas if n["type"] == 3]
    # Batches 2 to 13: the real list lacks batch 1.
    assert len(deep) == 12
    assert not any("注销" in n["title"] for n in deep)

    site.as_of = LATEST
    assert len([n for n in _notices(site) if n["type"] == 2]) == 7


def test_deep_synthesis_notices_point_at_the_local_batch_pages(site: Replica) -> None:
    [newest, *_] = [n for n in _notices(site) if n["type"] == 3]

    assert newest["content"].startswith(site.base_url + "/")
    html = fetch_text(newest["content"])
    assert newest["title"] in html


def test_file_download_serves_the_cancellation_pdf(site: Replica) -> None:
    site.as_of = LATEST
    by_id = {notice.notice_id: notice for notice in cancel_notices()}

    for entry in (n for n in _notices(site) if n["type"] == 2):
        notice = by_id[entry["noticeId"]]
        status, headers, body = _file_download(site, notice.notice_id)
        assert status == 200
        assert headers["Content-Type"] == PDF_TYPE
        assert body == (ATTACHMENTS_DIR / notice.document.filename).read_bytes()
        name = filename_from_disposition(headers["Content-Disposition"])
        assert name == f"{notice.title}.pdf"

    logged = [r for r in site.requests if r.path == FILE_DOWNLOAD_PATH]
    assert len(logged) == 7
    assert all(r.site == BEIAN for r in logged)


def test_file_download_without_referer_is_empty(site: Replica) -> None:
    site.as_of = LATEST
    notice_id = cancel_notices()[0].notice_id

    status, headers, body = _file_download(site, notice_id, referer=False)
    assert (status, body) == (200, b"")
    assert headers.get_content_type() == "text/html"

    site.require_referer = False
    assert _file_download(site, notice_id, referer=False)[2].startswith(b"%PDF")


def test_file_download_of_unreleased_unknown_or_fileless_notices_is_404(
    site: Replica,
) -> None:
    last = cancel_notices()[-1].notice_id
    deep_id = next(n["noticeId"] for n in _notices(site) if n["type"] == 3)

    assert _file_download(site, last)[0] == 404
    assert _file_download(site, "notice_nope")[0] == 404
    assert _file_download(site, deep_id)[0] == 404

    site.as_of = LATEST
    assert _file_download(site, last)[0] == 200


def test_beian_honours_blocking_and_overrides(site: Replica) -> None:
    site.as_of = LATEST
    notice = cancel_notices()[0]
    site.overrides[notice.title] = b"changed"
    assert _file_download(site, notice.notice_id)[2] == b"changed"

    site.blocked = True
    status, _, body = fetch(site.beian_url + NOTICE_LIST_PATH)
    assert status == 200
    assert "知道创宇云防御" in body.decode("utf-8")


def test_beian_url_needs_a_running_replica() -> None:
    replica = Replica(AS_OF)
    with pytest.raises(RuntimeError):
        _ = replica.beian_url

    with replica:
        assert replica.beian_url != replica.base_url
        assert fetch(replica.beian_url + "/")[0] == 200
        assert fetch(replica.beian_url + "/api/nothing")[0] == 404


# --- generated files and their expected rows -------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("苏州清睿智能科技股份 有限公司", "苏州清睿智能科技股份有限公司"),
        ("网信算备 320114586731 201240019号", "网信算备320114586731 201240019号"),
        ("服 务 提 供 者", "服务提供者"),
        ("Aryn GPT", "Aryn GPT"),
        ("Jiangsu- SiWeiXiangLiangZhiSuanYun-", "Jiangsu-SiWeiXiangLiangZhiSuanYun-"),
        ("2025/8/28 （补登）", "2025/8/28（补登）"),
        ("宁夏回 族自治 区", "宁夏回族自治区"),
        ("Shaanxi-Xi’ anZhiJian", "Shaanxi-Xi’anZhiJian"),
        ("2026年3 月", "2026年3月"),
    ],
)
def test_cleaning_rule(raw: str, clean: str) -> None:
    assert clean_cell(raw) == clean
    assert join_lines(raw.replace(" ", "\n")) == clean


def _raw_values() -> Iterator[str]:
    for batch in _read_json(GENAI_JSON)["batches"]:
        for row in batch["rows"]:
            yield from row.values()
    for notice in _read_json(CANCEL_JSON)["notices"]:
        for record in notice["records"]:
            yield from record.values()


def test_cleaning_equals_joining_lines_on_every_cell() -> None:
    values = list(_raw_values())
    assert len(values) == 1842 * 6 + 57 * 6
    for value in values:
        assert clean_cell(value) == join_lines(value.replace(" ", "\n"))


def test_expected_files_are_the_cleaned_source_rows_in_order() -> None:
    batches = _read_json(GENAI_JSON)["batches"]
    assert len(batches) == 13

    for batch in batches:
        document = genai_document(batch["period"])
        expected = _read_json(document.expected_path)
        assert len(expected) == batch["count"] == len(batch["rows"])
        header = batch["header"]
        for row, raw in zip(expected, batch["rows"], strict=True):
            values = [row[key] for key in document.tables[0].keys]
            assert values == [
                clean_number(raw[name]) if key == "filing_no" else clean_cell(raw[name])
                for key, name in zip(document.tables[0].keys, header, strict=True)
            ]
            assert not any(char.isspace() for char in row["filing_no"])


def test_expected_files_match_the_documents() -> None:
    documents = all_documents()
    assert len(documents) == 13 + 2 + 7
    for document in documents:
        assert _read_json(document.expected_path) == document.expected_rows()
        assert (ATTACHMENTS_DIR / document.filename).is_file()


def test_tables_are_split_into_filings_and_registrations() -> None:
    kinds = {d.key: [t.kind for t in d.tables] for d in genai_documents()}
    assert kinds["2024-04"] == [TableKind.FILING]
    assert kinds["2026-08"] == [
        TableKind.FILING,
        TableKind.DEVICE,
        TableKind.REGISTRATION,
    ]
    assert all(
        k == [TableKind.FILING, TableKind.REGISTRATION]
        for period, k in kinds.items()
        if period not in ("2024-04", "2026-08")
    )

    device = genai_document("2026-08").tables[1]
    assert [row[0] for row in device.rows] == [str(n) for n in range(1, 8)]
    assert device.rows[0][2] == "Apple智能"

    registrations = genai_document("2025-10").tables[1]
    truncated = [row for row in registrations.rows if row[0] == "286"]
    assert truncated[0][4] == "Jiangsu-SiWeiXiangLiangZhiSuanYun-"

    expected = _read_json(genai_document("2026-08").expected_path)
    assert {row["table"] for row in expected} == {0, 1, 2}


def test_headers_map_to_the_canonical_keys() -> None:
    for document in all_documents():
        for table in document.tables:
            assert [field_for_header(h) for h in table.header] == list(table.keys)

    assert genai_document("2025-01").tables[0].header[2] == "模型名称"
    assert genai_document("2025-03").tables[0].header[2] == "大模型名称"
    assert genai_document("2025-03").tables[1].header[2] == "应用/功能名称"


def test_sequence_numbers_run_across_the_periods() -> None:
    filings = [
        int(row[0])
        for d in genai_documents()
        for t in d.tables
        if t.kind is TableKind.FILING
        for row in t.rows
    ]
    registrations = [
        int(row[0])
        for d in genai_documents()
        for t in d.tables
        if t.kind is TableKind.REGISTRATION
        for row in t.rows
    ]
    # 2024-04 lists 110, 108, 111, 109 in that order; the set is still whole.
    assert sorted(filings) == list(range(1, 1106))
    # 序号 263 of the registrations is in no list.
    assert sorted(registrations) == [n for n in range(1, 732) if n != 263]


def test_annual_relists_hold_the_year() -> None:
    year_2024 = relist_document(2024)
    # The 2025-01-08 announcement: 302 filings by 2024-12-31, 105 registrations.
    assert [len(t.rows) for t in year_2024.tables] == [302, 105]

    year_2025 = relist_document(2025)
    # The 2026-01-09 announcement counts 446 and 330; 序号 263 is in no list.
    assert [len(t.rows) for t in year_2025.tables] == [446, 329]
    assert len(_read_json(year_2025.expected_path)) == 446 + 329


def test_all_cancellation_rows_are_present() -> None:
    notices = _read_json(CANCEL_JSON)["notices"]
    codes = sorted(squash(r["code"]) for n in notices for r in n["records"])

    rows = [
        row
        for notice in cancel_notices()
        for row in _read_json(notice.document.expected_path)
    ]
    assert len(rows) == 57
    assert sorted(squash(row["filing_no"]) for row in rows) == codes
    assert all(row["table"] == 0 for row in rows)
    assert set(rows[0]) == {
        "table",
        "seq",
        "algorithm_name",
        "role",
        "entity_name",
        "product",
        "filing_no",
        "cancelled_on",
    }


# --- reading the files ------------------------------------------------------


@dataclass(frozen=True)
class _PdfPage:
    text: str
    # The top word of the 序号 column: a number where a table continues.
    first_seq_word: str
    # Squashed table cells; read on the first and the last page only.
    cells: tuple[str, ...]


@functools.cache
def _pdf_pages(filename: str) -> tuple[_PdfPage, ...]:
    """What the tests read of a PDF, read once: pdfplumber is slow."""
    pages = []
    with pdfplumber.open(ATTACHMENTS_DIR / filename) as pdf:
        last = len(pdf.pages) - 1
        words = [page.extract_words() for page in pdf.pages]
        # The 序号 column is where the first header's 序号 is, give or take
        # the cell padding.
        header = next(w for w in words[0] if w["text"] == "序号")
        low, high = header["x0"] - 12, header["x1"] + 12
        for number, page in enumerate(pdf.pages):
            column = [w for w in words[number] if w["x0"] >= low and w["x1"] <= high]
            top = min(column, key=lambda w: w["top"])["text"] if column else ""
            cells: list[str] = []
            if number in (0, last):
                for table in page.extract_tables():
                    cells += [squash(cell or "") for row in table for cell in row]
            pages.append(_PdfPage(page.extract_text(), top, tuple(cells)))
    return tuple(pages)


@pytest.mark.parametrize("document", PDFS, ids=lambda d: d.key)
def test_pdf_holds_its_first_and_last_filing_numbers(document: ListDocument) -> None:
    pages = _pdf_pages(document.filename)
    cells = pages[0].cells + pages[-1].cells
    text = "".join(page.text for page in pages)
    rows = [row for table in document.tables for row in table.rows]
    number = document.tables[0].keys.index("filing_no")

    assert squash(rows[0][number]) in cells
    assert squash(rows[-1][number]) in cells
    assert document.title in text
    # Every character of every row reads back (no glyph silently dropped).
    assert set("".join(v for row in rows for v in row)) - {" "} <= set(text)


def test_long_cancellation_notice_runs_over_two_pages() -> None:
    [notice] = [n for n in cancel_notices() if len(n.document.tables[0].rows) == 28]
    assert len(_pdf_pages(notice.document.filename)) >= 2


def _continued_pages(document: ListDocument) -> int:
    """Pages that open with a table row instead of a header or a caption."""
    pages = _pdf_pages(document.filename)[1:]
    return sum(page.first_seq_word.isdigit() for page in pages)


def test_some_pdf_tables_continue_without_their_header() -> None:
    continued = [d.key for d in PDFS if _continued_pages(d)]
    assert len(continued) >= 2
    # The others repeat the header on every page.
    assert _continued_pages(genai_document("2024-04")) == 0


@pytest.mark.parametrize("document", DOCXS, ids=lambda d: d.key)
def test_docx_holds_the_tables(document: ListDocument) -> None:
    word = docx.Document(str(ATTACHMENTS_DIR / document.filename))
    assert len(word.tables) == len(document.tables)
    for grid, table in zip(word.tables, document.tables, strict=True):
        assert tuple(cell.text for cell in grid.rows[0].cells) == table.header
        assert len(grid.rows) == len(table.rows) + 1
        last = tuple(cell.text for cell in grid.rows[-1].cells)
        assert last == table.rows[-1]
    paragraphs = [p.text for p in word.paragraphs]
    assert document.title in paragraphs
    assert re.match(r"^附件\d+$", paragraphs[0]) or paragraphs[0] == document.title
