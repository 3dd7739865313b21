"""Spreadsheet lists: merges, title rows, hidden rows and sheets, .xls, passwords."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import olefile
import pytest
from msoffcrypto.format.ooxml import OOXMLFile
from openpyxl import Workbook

from monitor.parsers import (
    PARSERS,
    ParsedDocument,
    Parser,
    ParseStatus,
    parse_attachment,
)
from monitor.parsers.result import RowIssue
from monitor.parsers.xlsx import MAX_XML_BYTES
from monitor.sniff import Kind

RENDITIONS = Path(__file__).parent / "data" / "renditions"
XLS_LIST = "境内互联网信息服务算法备案清单（2022年8月）"
HEADER = [
    "序号",
    "算法名称",
    "角色",
    "主体名称",
    "应用产品",
    "主要用途",
    "备案编号",
    "备注",
]


def record(n: int, entity: str = "示例科技有限公司") -> list[str | int]:
    return [
        n,
        f"示例算法{n}",
        "服务提供者",
        entity,
        f"示例产品{n}(APP)",
        "应用于对话生成场景",
        f"网信算备{n:021d}号",
        "",
    ]


def xlsx_bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def simple_book(rows: int = 3) -> Workbook:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for n in range(1, rows + 1):
        sheet.append(record(n))
    return book


def test_merged_registrant_fills_its_rows_and_no_others() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for n in range(1, 4):
        sheet.append(record(n, "示例智能科技有限公司" if n == 1 else ""))
    sheet.append(record(4, "示例数据有限公司"))
    sheet.merge_cells("D2:D4")

    document = parse_attachment(xlsx_bytes(book))

    assert document.status is ParseStatus.COMPLETE
    entities = [row.fields["entity_name"] for row in document.rows]
    assert entities == ["示例智能科技有限公司"] * 3 + ["示例数据有限公司"]
    # An empty cell outside any merge stays empty.
    assert {row.fields["note"] for row in document.rows} == {""}


def test_header_is_found_below_title_and_group_rows() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["示例算法备案清单（2024年1月）"])
    sheet.merge_cells("A1:H1")
    sheet.append([])
    sheet.append(["基本信息", None, None, None, "备案信息"])
    sheet.merge_cells("A3:D3")
    sheet.merge_cells("E3:H3")
    sheet.append(HEADER)
    for n in range(1, 7):
        sheet.append(record(n))

    document = parse_attachment(xlsx_bytes(book))

    assert document.status is ParseStatus.COMPLETE
    assert document.title == "示例算法备案清单（2024年1月）"
    assert len(document.rows) == 6
    assert [row.row for row in document.rows] == list(range(5, 11))
    texts = {cell for row in document.rows for cell in row.cells}
    assert not texts & {"序号", "基本信息", "示例算法备案清单（2024年1月）"}


def test_hidden_rows_are_kept_flagged_and_hidden_sheets_not_mixed_in() -> None:
    book = simple_book(5)
    sheet = book.active
    assert sheet is not None
    sheet.title = "清单"
    sheet.row_dimensions[4].hidden = True
    dictionary = book.create_sheet("数据字典")
    dictionary.append(["服务提供者"])
    dictionary.append(["服务技术支持者"])
    dictionary.sheet_state = "hidden"
    old = book.create_sheet("old")
    old.append(HEADER)
    for n in range(90, 93):
        old.append(record(n))
    old.sheet_state = "veryHidden"

    document = parse_attachment(xlsx_bytes(book))

    visible = [row for row in document.rows if row.sheet == "清单"]
    assert len(visible) == 5
    assert [row.issue for row in visible] == [
        None,
        None,
        RowIssue.HIDDEN_ROW,
        None,
        None,
    ]
    stale = [row for row in document.rows if row.sheet == "old"]
    assert {row.issue for row in stale} == {RowIssue.HIDDEN_SHEET}
    # Hidden content makes the list one a person must confirm: never diffed.
    assert document.status is ParseStatus.PARTIAL
    assert "hidden sheet '数据字典' holds no filing list" in document.warnings
    assert "sheet '清单' hides 1 list rows" in document.warnings


def test_a_style_claiming_the_whole_sheet_does_not_make_it_endless() -> None:
    book = simple_book(200)
    sheet = book.active
    assert sheet is not None
    sheet.cell(1_048_576, 16_384).number_format = "0.00"
    for n in range(400):
        sheet.merge_cells(
            start_row=300 + n, start_column=26, end_row=300 + n, end_column=27
        )

    document = parse_attachment(xlsx_bytes(book))

    assert document.status is ParseStatus.COMPLETE
    assert len(document.rows) == 200


def test_a_workbook_too_big_to_be_a_list_is_refused() -> None:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", " " * (MAX_XML_BYTES + 1))

    document = parse_attachment(data.getvalue())

    assert document.status is ParseStatus.TOO_LARGE
    assert not document.rows


def test_numbers_and_dates_read_as_the_lists_write_them() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["序号", "属地", "模型名称", "备案单位", "备案号", "备案时间"])
    sheet.append(
        [
            1.0,
            "北京市",
            "示例大模型",
            "示例科技有限公司",
            "Beijing-ShiLi-20230821",
            dt.datetime(2023, 8, 31),
        ]
    )

    document = parse_attachment(xlsx_bytes(book))

    [row] = document.rows
    assert row.fields["seq"] == "1"
    assert row.fields["filed_on"] == "2023/8/31"


def encrypted(data: bytes, password: str) -> bytes:
    office = OOXMLFile(io.BytesIO(data))
    out = io.BytesIO()
    office.encrypt(password, out)
    return out.getvalue()


def test_workbook_under_the_default_password_is_opened() -> None:
    data = encrypted(xlsx_bytes(simple_book()), "VelvetSweatshop")

    document = parse_attachment(data)

    assert document.status is ParseStatus.COMPLETE
    assert len(document.rows) == 3


def test_workbook_under_a_real_password_is_named_encrypted() -> None:
    data = encrypted(xlsx_bytes(simple_book()), "secret")

    document = parse_attachment(data)

    assert document.status is ParseStatus.ENCRYPTED
    assert "password" in document.message
    assert not document.rows


def test_ole_file_that_is_no_workbook_is_unsupported() -> None:
    # Rename the workbook stream of a real .xls: the same OLE2 container with
    # content no Office reader knows, as a WPS native file has.
    xls = RENDITIONS.joinpath(f"{XLS_LIST}.xls").read_bytes()
    unknown = xls.replace(
        "Workbook".encode("utf-16-le"), "Wxrkbook".encode("utf-16-le")
    )
    assert olefile.isOleFile(io.BytesIO(unknown))

    document = parse_attachment(unknown)

    assert document.status is ParseStatus.UNSUPPORTED_FORMAT
    assert "Wxrkbook" in document.message


def test_extension_never_decides(tmp_path: Path) -> None:
    xlsx = xlsx_bytes(simple_book())
    xls = RENDITIONS.joinpath(f"{XLS_LIST}.xls").read_bytes()

    # The same bytes parse the same whatever they were called.
    for name, data in (("清单.xls", xlsx), ("清单.xlsx", xls)):
        (tmp_path / name).write_bytes(data)
        document = parse_attachment((tmp_path / name).read_bytes())
        assert document.status is ParseStatus.COMPLETE


@pytest.mark.parametrize("keep", [0.5, 0.4, 0.9])
def test_an_encrypted_workbook_cut_short_is_unreadable(keep: float) -> None:
    data = encrypted(xlsx_bytes(simple_book()), "secret")

    document = parse_attachment(data[: int(len(data) * keep)])

    assert document.status in (ParseStatus.UNREADABLE, ParseStatus.ENCRYPTED)
    assert document.message
    assert not document.rows


def test_a_parser_failure_is_a_named_status_for_that_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(data: bytes) -> ParsedDocument:
        raise RuntimeError("unexpected structure")

    monkeypatch.setitem(PARSERS, Kind.XLSX, Parser("xlsx", "1", broken))

    document = parse_attachment(xlsx_bytes(simple_book()))

    assert document.status is ParseStatus.UNREADABLE
    assert "RuntimeError: unexpected structure" in document.message
