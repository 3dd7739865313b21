"""Which announcements belong to which filing-list series, by exact title rules.

The 网信发布 channel also carries other 备案 notices (blockchain filing numbers,
personal-information certification bodies, face-recognition filings …); only
titles that match one of these rules are followed.

Each series publishes its lists in its own way, and that decides how a list
is compared with what is known (``LIST_KINDS``):

* ``increment`` — each list adds filings and repeats none (series A and B,
  and the generative-AI lists of the growing page and of the bimonthly
  announcements);
* ``relist`` — a list that repeats a whole year already published (the
  annual generative-AI announcements): its rows are never news;
* ``cancellation`` — a notice of filing numbers cancelled (series D).
"""

from __future__ import annotations

import re

ALGORITHM = "algorithm"
DEEP_SYNTHESIS = "deep_synthesis"
GENERATIVE_AI = "generative_ai"
CANCELLATION = "cancellation"

SERIES = (ALGORITHM, DEEP_SYNTHESIS, GENERATIVE_AI, CANCELLATION)

SERIES_LABELS = {
    ALGORITHM: "Algorithm filings (境内互联网信息服务算法备案清单)",
    DEEP_SYNTHESIS: "Deep-synthesis filings (境内深度合成服务算法备案清单)",
    GENERATIVE_AI: "Generative-AI services (生成式人工智能服务已备案/已登记信息)",
    CANCELLATION: "Cancelled filing numbers (算法备案编号注销公告)",
}

# How a list of each series is named in English in reports.
SERIES_NOUNS = {
    ALGORITHM: "algorithm filings",
    DEEP_SYNTHESIS: "deep-synthesis filings",
    GENERATIVE_AI: "generative-AI services",
    CANCELLATION: "cancelled filing numbers",
}

INCREMENT = "increment"
RELIST = "relist"
CANCELLED = "cancellation"
LIST_KINDS = (INCREMENT, RELIST, CANCELLED)

# Series A and the generative-AI series each live on one page that keeps
# growing; their addresses are fixed.
ALGORITHM_PAGE = "/2022-08/12/c_1661927474338504.htm"
GENERATIVE_AI_PAGE = "/2024-04/02/c_1713729983803145.htm"
FIXED_PAGES = {ALGORITHM: ALGORITHM_PAGE, GENERATIVE_AI: GENERATIVE_AI_PAGE}

_NUMERAL = "[0-9一二三四五六七八九十百零〇两]+"

_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        ALGORITHM,
        re.compile(r"^国家互联网信息办公室关于发布互联网信息服务算法备案信息的公告$"),
    ),
    (
        DEEP_SYNTHESIS,
        re.compile(
            rf"^国家互联网信息办公室关于发布(第{_NUMERAL}批)?深度合成服务算法备案信息的公告$"
        ),
    ),
    (
        GENERATIVE_AI,
        re.compile(
            r"^(国家互联网信息办公室)?关于发布(\d{4}年)?生成式人工智能服务"
            r"已备案(和已登记)?信息的公告(（\d{4}年\d{1,2}月(至\d{1,2}月)?）)?$"
        ),
    ),
)

# The annual generative-AI announcements relist the whole year.
_ANNUAL = re.compile(r"关于发布\d{4}年生成式人工智能服务")

_BATCH = re.compile(rf"第({_NUMERAL})批")
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}


def clean_title(title: str) -> str:
    """A title without whitespace or zero-width characters, as rules compare it."""
    return re.sub(r"[\s\u200b\u200c\u200d\u2060\ufeff]+", "", title)


def series_of(title: str) -> str | None:
    """Return the series an announcement title belongs to, or None."""
    clean = clean_title(title)
    for series, rule in _RULES:
        if rule.match(clean):
            return series
    return None


def list_kind(series: str, title: str) -> str:
    """How a list published under an announcement titled *title* is compared."""
    if series == CANCELLATION:
        return CANCELLED
    if series == GENERATIVE_AI and _ANNUAL.search(clean_title(title)):
        return RELIST
    return INCREMENT


def batch_number(title: str) -> int | None:
    """Return N of 第N批 in a title; the first deep-synthesis batch carries none."""
    match = _BATCH.search(clean_title(title))
    if match is None:
        return 1 if series_of(title) == DEEP_SYNTHESIS else None
    return chinese_number(match.group(1))


def chinese_number(text: str) -> int:
    """Convert 十七 / 二十一 / 17 style numbers below 1,000 to an int."""
    if text.isdigit():
        return int(text)

    total, current = 0, 0
    for char in text:
        if char in _DIGITS:
            current = _DIGITS[char]
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        elif char == "百":
            total += (current or 1) * 100
            current = 0
    return total + current
