"""Filing numbers, provinces, list dates and the totals CAC states."""

from __future__ import annotations

import csv
import datetime as dt
import sys
from pathlib import Path

import pytest

from crawler.topics import GENERATIVE_AI, INCREMENT, RELIST, list_kind, series_of
from monitor.fields import list_name
from monitor.numbers import FILING, REGISTRATION, parse_list_date, parse_number
from monitor.regions import region_by_code, region_by_name, region_by_pinyin
from monitor.totals import CUMULATIVE, NEW, stated_totals

CSV = (
    Path(__file__).parent.parent
    / "crawler"
    / "replica"
    / "data"
    / "cac_all_policies.csv"
)


@pytest.mark.parametrize(
    ("number", "region", "record_type", "date", "serial", "fixed"),
    [
        (
            "Beijing-WenXinYiYan-20230821",
            "北京市",
            FILING,
            dt.date(2023, 8, 21),
            None,
            False,
        ),
        (
            "Beijing-XingChen-202404280001",
            "北京市",
            FILING,
            dt.date(2024, 4, 28),
            "0001",
            False,
        ),
        (
            "Shanghai-GeiLiWenDa-20240729S0019",
            "上海市",
            REGISTRATION,
            dt.date(2024, 7, 29),
            "0019",
            False,
        ),
        (
            "Shinghai-AIMinSuGuanJia-20240729S0020",
            "上海市",
            REGISTRATION,
            None,
            "0020",
            True,
        ),
        ("ZheJiang-X-20250101", "浙江省", FILING, None, None, False),
        ("ShaanXi-X-20250101", "陕西省", FILING, None, None, False),
        ("ZhongYangQiYe-X-20240101", "国资委", FILING, None, None, False),
        ("Jiangsu-Aryn GPT-20240318", "江苏省", FILING, None, None, False),
        (
            "Beijing-TengXunYunHangYeDaMoXing- 202404280005",
            "北京市",
            FILING,
            None,
            "0005",
            False,
        ),
    ],
)
def test_generative_ai_numbers(
    number: str,
    region: str,
    record_type: str,
    date: dt.date | None,
    serial: str | None,
    fixed: bool,
) -> None:
    info = parse_number(number)
    assert info.format == "genai"
    assert info.region is not None
    assert info.region.name == region
    assert info.record_type == record_type
    assert info.spelling_fixed is fixed
    if date is not None:
        assert info.date == date
    assert info.serial == serial


def test_algorithm_number_gives_the_province_of_its_district_code() -> None:
    info = parse_number("网信算备 440305795217301240017号")
    assert info.format == "algorithm"
    assert info.region is not None
    assert (info.region.name, info.region.english) == ("广东省", "Guangdong")


def test_truncated_number_is_unknown_not_guessed() -> None:
    info = parse_number("Jiangsu- SiWeiXiangLiangZhiSuanYun-")
    assert info.format == "unknown"
    assert info.record_type is None


@pytest.mark.parametrize(
    ("cell", "name"),
    [
        ("黑龙江 省", "黑龙江省"),
        ("广西壮 族自治 区", "广西壮族自治区"),
        ("国资委", "国资委"),
    ],
)
def test_region_from_a_wrapped_cell(cell: str, name: str) -> None:
    region = region_by_name(cell)
    assert region is not None
    assert region.name == name


def test_region_lookups_agree() -> None:
    by_code = region_by_code("310115")
    by_pinyin, fixed = region_by_pinyin("shinghai")
    assert by_code is not None
    assert by_code == by_pinyin == region_by_name("上海市")
    assert fixed


@pytest.mark.parametrize(
    ("cell", "date", "note"),
    [
        ("2023/8/31", dt.date(2023, 8, 31), ""),
        ("2026/5/1（补登）", dt.date(2026, 5, 1), "补登"),
        ("2026/5/1 （补登）", dt.date(2026, 5, 1), "补登"),
        ("2024年3月28日", dt.date(2024, 3, 28), ""),
        ("不详", None, "不详"),
    ],
)
def test_list_dates(cell: str, date: dt.date | None, note: str) -> None:
    assert parse_list_date(cell) == (date, note)


def real_genai_announcements() -> dict[str, tuple[str, str]]:
    csv.field_size_limit(sys.maxsize)
    with CSV.open(encoding="utf-8-sig") as file:
        rows = list(csv.DictReader(file))
    found = {}
    for row in rows:
        if series_of(row["title"]) == GENERATIVE_AI:
            text = row["full_text"]
            body = text[text.index("【纠错】") + 5 : text.index("关闭 中央")]
            found[row["publication_date"]] = (row["title"], body)
    return found


ANNOUNCEMENTS = real_genai_announcements()


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        (
            "2025-01-08",
            {(FILING, CUMULATIVE, 302), (FILING, NEW, 238), (REGISTRATION, NEW, 105)},
        ),
        ("2025-04-08", {(FILING, CUMULATIVE, 346), (REGISTRATION, CUMULATIVE, 159)}),
        (
            "2025-07-11",
            {
                (FILING, CUMULATIVE, 439),
                (REGISTRATION, CUMULATIVE, 236),
                (FILING, NEW, 93),
                (REGISTRATION, NEW, 77),
            },
        ),
        (
            "2025-09-10",
            {
                (FILING, CUMULATIVE, 538),
                (REGISTRATION, CUMULATIVE, 263),
                (FILING, NEW, 99),
                (REGISTRATION, NEW, 27),
            },
        ),
        (
            "2025-11-11",
            {
                (FILING, CUMULATIVE, 611),
                (REGISTRATION, CUMULATIVE, 306),
                (FILING, NEW, 73),
                (REGISTRATION, NEW, 35),
            },
        ),
        (
            "2026-01-09",
            {
                (FILING, CUMULATIVE, 748),
                (REGISTRATION, CUMULATIVE, 435),
                (FILING, NEW, 446),
                (REGISTRATION, NEW, 330),
            },
        ),
    ],
)
def test_stated_totals_of_every_real_announcement(
    published: str, expected: set[tuple[str, str, int]]
) -> None:
    _title, body = ANNOUNCEMENTS[published]
    totals = stated_totals(body, dt.date.fromisoformat(published))
    assert {(t.record_type, t.measure, t.count) for t in totals} == expected
    cumulative = [t for t in totals if t.measure == CUMULATIVE]
    assert all(t.as_of is not None for t in cumulative)


def test_year_less_as_of_takes_the_publication_year() -> None:
    _title, body = ANNOUNCEMENTS["2025-11-11"]
    totals = stated_totals(body, dt.date(2025, 11, 11))
    assert {t.as_of for t in totals if t.measure == CUMULATIVE} == {
        dt.date(2025, 11, 1)
    }


def test_annual_announcements_are_relists() -> None:
    kinds = {
        published: list_kind(GENERATIVE_AI, title)
        for published, (title, _) in ANNOUNCEMENTS.items()
    }
    assert kinds == {
        "2025-01-08": RELIST,
        "2025-04-08": INCREMENT,
        "2025-07-11": INCREMENT,
        "2025-09-10": INCREMENT,
        "2025-11-11": INCREMENT,
        "2026-01-09": RELIST,
    }


GENAI_2025_08 = "生成式人工智能服务已备案和已登记信息（2025年8月）"
ALGORITHM_2022_10 = "境内互联网信息服务算法备案清单（2022年10月）"


@pytest.mark.parametrize(
    ("name", "clean"),
    [
        (f"附件7：{GENAI_2025_08}", GENAI_2025_08),
        (f"附件 2: {ALGORITHM_2022_10}", ALGORITHM_2022_10),
        (ALGORITHM_2022_10, ALGORITHM_2022_10),
        ("关于附件的说明", "关于附件的说明"),
    ],
)
def test_list_names_lose_their_annex_label(name: str, clean: str) -> None:
    assert list_name(name) == clean
