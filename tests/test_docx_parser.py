"""The docx parser on the 35 real lists and on small invented edge cases."""

from __future__ import annotations

import io

import docx
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from monitor.entities import entity_key
from monitor.parsers import parse_attachment
from monitor.parsers.result import ParseStatus, RowIssue
from tests.conftest import attachment_file, inventory, read_list

INVENTORY = inventory()


@pytest.mark.parametrize(
    "entry", INVENTORY, ids=[e["attachment_title"] for e in INVENTORY]
)
def test_real_list_matches_inventory(entry: dict[str, str]) -> None:
    path = attachment_file(entry["attachment_title"])
    document = parse_attachment(path.read_bytes())

    assert document.status is ParseStatus.COMPLETE
    assert len(document.rows) == int(entry["data_rows"])
    entities = {entity_key(row.fields["entity_name"]) for row in document.rows}
    assert len(entities) == int(entry["distinct_entities"])
    assert "/".join(document.headers[0]) == entry["header"]
    assert document.title == entry["attachment_title"]


@pytest.mark.parametrize(
    "entry", INVENTORY, ids=[e["attachment_title"] for e in INVENTORY]
)
def test_real_list_fields_equal_an_independent_reading(entry: dict[str, str]) -> None:
    path = attachment_file(entry["attachment_title"])
    parsed = parse_attachment(path.read_bytes()).rows
    expected = read_list(path)

    assert [row.fields["filing_no"] for row in parsed] == [
        r["备案编号"].strip() for r in expected
    ]
    assert [row.fields["entity_name"] for row in parsed] == [
        r["主体名称"].strip() for r in expected
    ]
    assert [row.fields["purpose"] for row in parsed] == [
        r["主要用途"].strip() for r in expected
    ]


def test_series_totals() -> None:
    totals: dict[str, int] = {}
    for entry in INVENTORY:
        rows = parse_attachment(
            attachment_file(entry["attachment_title"]).read_bytes()
        ).rows
        totals[entry["series"]] = totals.get(entry["series"], 0) + len(rows)
    assert totals == {"algorithm_recommendation": 938, "deep_synthesis": 7059}


def test_autonumbered_sequence_is_kept_by_position() -> None:
    path = attachment_file("境内互联网信息服务算法备案清单（2025年7月）")
    document = parse_attachment(path.read_bytes())

    assert len(document.rows) == 51
    assert all(row.fields["seq"] == "" for row in document.rows)
    assert [row.position for row in document.rows] == list(range(1, 52))
    assert [row.row for row in document.rows] == list(range(1, 52))
    assert document.annex == "附件13"


def test_cells_spanning_two_grid_columns_stay_aligned() -> None:
    # In this list two rows put the wide cell at another column than the rest.
    path = attachment_file("境内深度合成服务算法备案清单（2024年6月）")
    document = parse_attachment(path.read_bytes())

    assert len(document.rows) == 492
    assert all(row.fields["filing_no"].startswith("网信算备") for row in document.rows)
    assert all(
        row.fields["role"] in {"服务提供者", "服务技术支持者"} for row in document.rows
    )


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


def make_docx(
    rows: list[list[str]], header: list[str] = HEADER, title: str | None = None
) -> bytes:
    document = docx.Document()
    document.add_paragraph("附件")
    document.add_paragraph(title or "示例深度合成服务算法备案清单（2024年1月）")
    table = document.add_table(rows=0, cols=len(header))
    for values in [header, *rows]:
        cells = table.add_row().cells
        for cell, value in zip(cells, values, strict=True):
            cell.text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def row(
    number: int, entity: str = "示例科技有限公司", filing: str | None = None
) -> list[str]:
    filing = (
        filing if filing is not None else f"网信算备0000000000000000000{number:02d}号"
    )
    return [
        str(number),
        f"示例算法{number}",
        "服务提供者",
        entity,
        "示例(APP)",
        "示例用途",
        filing,
        "",
    ]


def test_row_without_filing_number_is_reported_not_dropped() -> None:
    document = parse_attachment(make_docx([row(1), row(2, filing=""), row(3)]))

    assert document.status is ParseStatus.PARTIAL
    assert len(document.rows) == 3
    assert [r.issue for r in document.rows] == [None, RowIssue.NO_FILING_NO, None]
    assert "1 of 3 rows" in document.message


def test_repeated_header_and_blank_rows_are_skipped_and_counted() -> None:
    document = parse_attachment(make_docx([row(1), HEADER, [""] * 8, row(2)]))

    assert document.status is ParseStatus.COMPLETE
    assert [r.fields["algorithm_name"] for r in document.rows] == [
        "示例算法1",
        "示例算法2",
    ]
    assert document.skipped_header_rows == 1
    assert document.blank_rows == 1


def test_identical_duplicate_is_collapsed_and_conflicting_one_flagged() -> None:
    same = row(5)
    conflict_a = row(6)
    conflict_b = row(6, entity="示例另一科技有限公司")
    document = parse_attachment(make_docx([same, same, conflict_a, conflict_b]))

    assert document.duplicates_collapsed == 1
    assert document.status is ParseStatus.PARTIAL
    issues = [r.issue for r in document.rows]
    assert issues == [None, RowIssue.DUPLICATE_CONFLICT, RowIssue.DUPLICATE_CONFLICT]


def test_wrapped_header_cells_still_map() -> None:
    header = [
        "序\n号",
        "算法\n名称",
        "角色",
        "主体 名称",
        "应用产品",
        "主要用途",
        "备案\n编号",
        "备注",
    ]
    document = parse_attachment(make_docx([row(1)], header=header))

    assert document.status is ParseStatus.COMPLETE
    assert document.rows[0].fields["filing_no"] == "网信算备000000000000000000001号"


def test_unknown_column_is_reported_and_kept_in_cells() -> None:
    header = [*HEADER, "服务形式"]
    document = parse_attachment(make_docx([[*row(1), "网站"]], header=header))

    assert document.status is ParseStatus.COMPLETE
    assert document.unmapped_headers == ["服务形式"]
    assert document.rows[0].cells[-1] == "网站"


def test_vertically_merged_registrant_is_filled_inside_the_merge_only() -> None:
    data = make_docx([row(1), row(2, entity=""), row(3, entity="")])
    document = docx.Document(io.BytesIO(data))
    table = document.tables[0]
    table.cell(1, 3).merge(table.cell(2, 3))  # rows 1-2 of the entity column merged
    out = io.BytesIO()
    document.save(out)

    parsed = parse_attachment(out.getvalue())

    entities = [r.fields["entity_name"] for r in parsed.rows]
    assert entities[:2] == ["示例科技有限公司", "示例科技有限公司"]
    assert entities[2] == ""


def test_table_without_filing_header_is_no_table() -> None:
    document = parse_attachment(make_docx([["1", "2", "3"]], header=["甲", "乙", "丙"]))
    assert document.status is ParseStatus.NO_TABLE
    assert "备案编号" in document.message


def test_header_without_rows_is_empty() -> None:
    assert parse_attachment(make_docx([])).status is ParseStatus.EMPTY


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"PK\x03\x04broken zip", ParseStatus.UNREADABLE),
        (b"<html><body>error</body></html>", ParseStatus.UNSUPPORTED_FORMAT),
        (b"", ParseStatus.UNREADABLE),
        # An OLE2 signature with no container behind it.
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1legacy", ParseStatus.UNREADABLE),
    ],
)
def test_non_docx_bytes_get_a_named_status(data: bytes, status: ParseStatus) -> None:
    document = parse_attachment(data)
    assert document.status is status
    assert document.rows == []
    assert document.message


def test_docx_with_broken_xml_is_unreadable() -> None:
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(make_docx([row(1)])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "word/document.xml":
                content = content[: len(content) // 2]
            target.writestr(info.filename, content)

    document = parse_attachment(out.getvalue())

    assert document.status is ParseStatus.UNREADABLE
    assert document.rows == []


def test_gridspan_row_with_fewer_cells_is_flagged() -> None:
    data = make_docx([row(1), row(2)])
    document = docx.Document(io.BytesIO(data))
    tr = document.tables[0].rows[2]._tr
    cells = tr.tc_lst
    # Merge the product and purpose cells of the second data row into one.
    span = OxmlElement("w:gridSpan")
    span.set(qn("w:val"), "2")
    cells[4].get_or_add_tcPr().append(span)
    tr.remove(cells[5])
    out = io.BytesIO()
    document.save(out)

    parsed = parse_attachment(out.getvalue())

    assert parsed.rows[1].issue is RowIssue.CELL_COUNT
    assert parsed.rows[1].fields["filing_no"] == "网信算备000000000000000000002号"
    assert parsed.status is ParseStatus.PARTIAL
