"""Which announcement titles belong to a watched series, checked on real titles."""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

import pytest

from crawler.topics import (
    ALGORITHM,
    DEEP_SYNTHESIS,
    GENERATIVE_AI,
    batch_number,
    chinese_number,
    series_of,
)

POLICIES_CSV = (
    Path(__file__).parent.parent
    / "crawler"
    / "replica"
    / "data"
    / "cac_all_policies.csv"
)

ALGORITHM_TITLE = "国家互联网信息办公室关于发布互联网信息服务算法备案信息的公告"
FIRST_BATCH_TITLE = "国家互联网信息办公室关于发布深度合成服务算法备案信息的公告"
BATCH_15_TITLE = "国家互联网信息办公室关于发布第十五批深度合成服务算法备案信息的公告"
BATCH_17_TITLE = "国家互联网信息办公室关于发布第十七批深度合成服务算法备案信息的公告"

# Deep-synthesis batches 8–15 are the only filing-list pages among the real items.
REAL_BATCHES = list(range(8, 16))


@pytest.fixture(scope="module")
def real_titles() -> list[str]:
    """The titles of the 100 real 网信发布 channel items, in file order."""
    # Page texts in the file outgrow csv's default field limit.
    csv.field_size_limit(sys.maxsize)
    with POLICIES_CSV.open(encoding="utf-8-sig", newline="") as handle:
        return [row["title"] for row in csv.DictReader(handle)]


# --- the real channel -------------------------------------------------------


def test_real_titles_map_only_to_watched_series_or_none(
    real_titles: list[str],
) -> None:
    counts = Counter(series_of(title) for title in real_titles)

    assert len(real_titles) == 100
    assert counts == {DEEP_SYNTHESIS: len(REAL_BATCHES), GENERATIVE_AI: 6, None: 86}


def test_real_generative_ai_titles_are_the_six_announcements(
    real_titles: list[str],
) -> None:
    genai = [title for title in real_titles if series_of(title) == GENERATIVE_AI]

    assert genai == [
        title for title in real_titles if "生成式人工智能服务已备案" in title
    ]
    assert len(genai) == 6


def test_real_deep_synthesis_titles_are_batches_8_to_15(
    real_titles: list[str],
) -> None:
    deep = [title for title in real_titles if series_of(title) == DEEP_SYNTHESIS]

    assert sorted(batch_number(title) or 0 for title in deep) == REAL_BATCHES
    # Matched on the exact title, yet every real title that names the series is in.
    assert deep == [title for title in real_titles if "深度合成" in title]
    assert all(
        title.startswith("国家互联网信息办公室关于发布第")
        and title.endswith("批深度合成服务算法备案信息的公告")
        for title in deep
    )


@pytest.mark.parametrize(
    ("marker", "count"),
    [
        ("境内区块链信息服务备案编号", 5),
        ("个人信息出境认证专业机构", 1),
        ("人脸识别技术应用备案", 1),
    ],
)
def test_other_real_filing_notices_are_not_followed(
    real_titles: list[str], marker: str, count: int
) -> None:
    matching = [title for title in real_titles if marker in title]

    assert len(matching) == count
    assert [series_of(title) for title in matching] == [None] * count


def test_every_real_filing_notice_is_accounted_for(real_titles: list[str]) -> None:
    filing_notices = [title for title in real_titles if "备案" in title]
    followed = [title for title in filing_notices if series_of(title) is not None]

    # 8 deep-synthesis batches and 6 generative-AI notices are followed; the
    # 5 + 1 + 1 notices of other filings are not.
    assert len(filing_notices) == 21
    assert len(followed) == len(REAL_BATCHES) + 6


# --- titles outside the channel sample --------------------------------------


def test_series_a_page_title() -> None:
    assert series_of(ALGORITHM_TITLE) == ALGORITHM
    assert batch_number(ALGORITHM_TITLE) is None


def test_first_batch_carries_no_number() -> None:
    assert series_of(FIRST_BATCH_TITLE) == DEEP_SYNTHESIS
    assert batch_number(FIRST_BATCH_TITLE) == 1


@pytest.mark.parametrize(
    "title",
    [
        pytest.param(f"  {BATCH_15_TITLE}  ", id="spaces-around"),
        pytest.param(f"\n{BATCH_15_TITLE}\t", id="newline-tab"),
        pytest.param(f"\u3000{BATCH_15_TITLE}", id="ideographic-space"),
        pytest.param(BATCH_15_TITLE.replace("关于", "关于 "), id="inner-space"),
        pytest.param(BATCH_15_TITLE.replace("关于", "\n关于"), id="inner-newline"),
        # The real channel has a title that starts with a zero-width space.
        pytest.param(f"\u200b{BATCH_15_TITLE}", id="leading-zwsp"),
        pytest.param(BATCH_15_TITLE.replace("深度", "\u200b深度"), id="inner-zwsp"),
        pytest.param(f"{BATCH_15_TITLE}\u200b ", id="trailing-zwsp-space"),
    ],
)
def test_stray_whitespace_and_zero_width_space_are_ignored(title: str) -> None:
    assert title != BATCH_15_TITLE
    assert series_of(title) == DEEP_SYNTHESIS
    assert batch_number(title) == 15


@pytest.mark.parametrize(
    "title",
    [
        pytest.param(f"{BATCH_15_TITLE}答记者问", id="answers-to-press"),
        pytest.param(f"《{BATCH_15_TITLE}》答记者问", id="answers-to-press-quoted"),
        pytest.param(f"一图读懂｜{BATCH_15_TITLE}", id="one-chart"),
        pytest.param(f"一图读懂{BATCH_15_TITLE}", id="one-chart-unseparated"),
        pytest.param(
            "国家互联网信息办公室关于发布第二十一批境内区块链信息服务备案编号的公告",
            id="blockchain-batch-21",
        ),
        pytest.param(
            "国家互联网信息办公室关于发布第十五批境内区块链信息服务备案编号的公告",
            id="blockchain-batch-15",
        ),
        pytest.param(
            "国家互联网信息办公室关于发布2025年生成式人工智能服务算法备案信息的公告",
            id="generative-ai-misnamed",
        ),
        pytest.param(
            "关于开展生成式人工智能服务已备案信息核查的通知", id="generative-ai-other"
        ),
        pytest.param("关于发布第十五批深度合成服务算法备案信息的公告", id="no-issuer"),
        pytest.param(
            BATCH_15_TITLE.replace("公告", "通知"), id="notice-not-announcement"
        ),
        pytest.param(BATCH_15_TITLE.replace("十五", ""), id="empty-batch-number"),
        pytest.param("境内深度合成服务算法备案清单（2026年1月）", id="list-name"),
        pytest.param(f"{ALGORITHM_TITLE}答记者问", id="series-a-answers"),
        pytest.param("", id="empty"),
    ],
)
def test_near_miss_titles_are_not_followed(title: str) -> None:
    assert series_of(title) is None


# --- numbers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("一", 1),
        ("十", 10),
        ("十七", 17),
        ("二十", 20),
        ("二十一", 21),
        ("两百", 200),
        ("一百零二", 102),
        ("一百一十", 110),
        ("7", 7),
        ("17", 17),
        ("102", 102),
    ],
)
def test_chinese_number(text: str, number: int) -> None:
    assert chinese_number(text) == number


@pytest.mark.parametrize(
    ("title", "number"),
    [
        ("国家互联网信息办公室关于发布第一批深度合成服务算法备案信息的公告", 1),
        ("国家互联网信息办公室关于发布第十批深度合成服务算法备案信息的公告", 10),
        (BATCH_17_TITLE, 17),
        ("国家互联网信息办公室关于发布第二十一批深度合成服务算法备案信息的公告", 21),
        ("国家互联网信息办公室关于发布第一百零二批深度合成服务算法备案信息的公告", 102),
        ("国家互联网信息办公室关于发布第17批深度合成服务算法备案信息的公告", 17),
    ],
)
def test_batch_number(title: str, number: int) -> None:
    assert series_of(title) == DEEP_SYNTHESIS
    assert batch_number(title) == number


def test_titles_without_a_batch_have_no_number() -> None:
    assert batch_number("关于开展人脸识别技术应用备案工作的公告") is None
    assert batch_number("") is None


@pytest.mark.parametrize(
    "title",
    [
        pytest.param(BATCH_17_TITLE.replace("第十七批", "第 十七 批"), id="spaces"),
        pytest.param(BATCH_17_TITLE.replace("第十七批", "第十\u200b七批"), id="zwsp"),
    ],
)
def test_batch_number_ignores_whitespace_inside_the_number(title: str) -> None:
    assert series_of(title) == DEEP_SYNTHESIS
    assert batch_number(title) == 17
