"""Registrant keys, renames, branch offices, provinces and row comparison."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlite_utils import Database

from monitor.entities import entity_key, parent_name, renames_in_note
from monitor.migrations import migrations
from monitor.numbers import province_code
from monitor.regions import division_path, find_region
from monitor.reissue import compare_versions


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("示例科技（上海）有限公司", "示例科技(上海)有限公司"),
        ("示例科技 (上海)有限公司", "示例科技(上海)有限公司"),
        ("示例科技\u00a0(上海)有限公司", "示例科技(上海)有限公司"),
        ("示例\u200b科技〔上海〕有限公司", "示例科技(上海)有限公司"),
        ("示例科技［上海］有限公司\ufeff", "示例科技(上海)有限公司"),
        ("示例科技\u3000(上海)有限责任公司", "示例科技(上海)有限公司"),
        ("北京智谱华章科技股份有限公司", "北京智谱华章科技有限公司"),
        ("中国石油天然气（集团）有限公司", "中国石油天然气有限公司"),
        ("中国石油天然气集团有限公司", "中国石油天然气集团有限公司"),
    ],
)
def test_registrant_key_folds_spellings_of_one_company(
    spelling: str, canonical: str
) -> None:
    assert entity_key(spelling) == canonical


def test_suffix_is_folded_only_at_the_end() -> None:
    assert entity_key("有限责任公司研究院") == "有限责任公司研究院"


@pytest.mark.parametrize(
    ("note", "renames"),
    [
        (
            "原主体名称“上海识装信息科技有限公司”变更为“上海得物信息集团有限公司”",
            [("上海识装信息科技有限公司", "上海得物信息集团有限公司")],
        ),
        (
            "变更内容：产品变更、原主体名称“支付宝（杭州）信息技术有限公司”"
            "变更为“支付宝（杭州）数字服务技术有限公司”",
            [("支付宝(杭州)信息技术有限公司", "支付宝(杭州)数字服务技术有限公司")],
        ),
        ("已注销", []),
        (None, []),
    ],
)
def test_renames_are_read_from_remarks(
    note: str | None, renames: list[tuple[str, str]]
) -> None:
    assert renames_in_note(note) == renames


@pytest.mark.parametrize(
    ("name", "parent"),
    [
        ("亚马逊信息服务(北京)有限公司上海分公司", "亚马逊信息服务(北京)有限公司"),
        ("长城汽车股份有限公司徐水哈弗销售分公司", "长城汽车股份有限公司"),
        ("中国电信股份有限公司数字智能科技分公司", "中国电信股份有限公司"),
        ("北京示例科技有限公司", None),
    ],
)
def test_branch_office_names_its_parent(name: str, parent: str | None) -> None:
    assert parent_name(name) == parent


@pytest.mark.parametrize(
    ("number", "region", "code"),
    [
        ("网信算备110108224236606220017号", None, "11"),
        ("网信算备 440305795217301240017号", None, "44"),
        ("Shinghai-AIMinSuGuanJia-20240729S0020", None, "31"),
        ("ShaanXi-X-20250101", None, "61"),
        ("Jiangsu- SiWeiXiangLiangZhiSuanYun-", "江苏省", "32"),
        ("ZhongYangQiYe-JiuTian-20240123", "国资委", None),
        ("网信算备406301334627601250011号", None, None),
    ],
)
def test_province_code_from_number_or_region(
    number: str, region: str | None, code: str | None
) -> None:
    assert province_code(number, region) == code


def test_division_path_reaches_the_county() -> None:
    path = division_path("110108")
    assert [(d.code, d.name, d.level) for d in path] == [
        ("110000", "北京市", "province"),
        ("110100", "北京市", "prefecture"),
        ("110108", "海淀区", "county"),
    ]
    # A district the table does not know still gives its province.
    assert division_path("449999")[0].name == "广东省"


@pytest.mark.parametrize(
    "text", ["44", "440305", "广东省", "广东", "Guangdong", "guangdong", " 广东 省"]
)
def test_find_region_accepts_codes_and_names(text: str) -> None:
    region = find_region(text)
    assert region is not None
    assert region.code == "44"


@pytest.mark.parametrize("text", ["国资委", "Atlantis", "40", ""])
def test_find_region_refuses_what_is_no_province(text: str) -> None:
    assert find_region(text) is None


def _row(key: str, entity: str, name: str, note: str = "", **extra: Any) -> Any:
    return {
        "filing_key": key,
        "filing_no": key,
        "entity_key": entity,
        "entity_name": entity,
        "algorithm_name": name,
        "note": note,
        "table_index": 0,
        "row_index": 1,
        **extra,
    }


def test_compare_versions_tells_each_kind_of_change() -> None:
    before = [
        _row("A1", "甲公司", "甲算法"),
        _row("A2", "乙公司", "乙算法"),
        _row("A3", "丙公司", "丙算法"),
        _row("A4", "丁公司", "丁算法"),
    ]
    after = [
        _row("A1", "甲公司", "甲算法", "已注销"),
        _row("A2", "乙公司", "乙 算法"),  # rewrapped text is no change
        _row("B3", "丙公司", "丙算法"),  # renumbered: a correction
        _row("B4", "丁公司", "另一算法"),  # another algorithm: an addition
    ]

    changes = compare_versions(before, after)

    assert [(m.after["filing_key"], m.changes) for m in changes.modified] == [
        ("A1", [{"field": "note", "before": "", "after": "已注销"}])
    ]
    assert [
        (m.before["filing_key"], m.after["filing_key"]) for m in changes.corrected
    ] == [("A3", "B3")]
    assert [row["filing_key"] for row in changes.removed] == ["A4"]
    assert [row["filing_key"] for row in changes.added] == ["B4"]
    assert changes.counts() == {"modified": 1, "corrected": 1, "removed": 1, "added": 1}


def test_compare_versions_of_equal_rows_is_empty() -> None:
    rows = [_row("A1", "甲公司", "甲算法")]
    assert not compare_versions(rows, [dict(r) for r in rows])


def test_migration_fills_provinces_and_sources_of_an_older_state() -> None:
    db = Database(memory=True)
    migrations.apply(db, stop_before="m004_registry_events")
    old_filings: list[dict[str, Any]] = [
        {
            "filing_key": "网信算备110108224236606220017号",
            "filing_no": "网信算备110108224236606220017号",
            "cancelled_batch_id": 7,
        },
        {
            "filing_key": "Beijing-X-20240101",
            "filing_no": "Beijing-X-20240101",
            "region": "北京市",
        },
        {"filing_key": "bad", "filing_no": "bad", "region": "黑龙江 省"},
    ]
    db.table("filings").insert_all(old_filings)
    db.table("rows").insert(
        {
            "batch_id": 1,
            "table_index": 0,
            "row_index": 1,
            "filing_no": "Shinghai-Y-20240729S0020",
        }
    )

    migrations.apply(db)

    filings = {row["filing_key"]: row for row in db.table("filings").rows}
    assert [row["province_code"] for row in filings.values()] == ["11", "11", "23"]
    sources = json.loads(filings["网信算备110108224236606220017号"]["cancel_sources"])
    assert sources == [{"source": "notice", "batch_id": 7}]
    assert filings["bad"]["cancel_sources"] is None
    assert next(iter(db.table("rows").rows))["province_code"] == "31"
    assert db.table("entity_aliases").exists()
