"""Real items of the 网信发布 channel, read from ``data/cac_all_policies.csv``.

Each row's ``full_text`` is the flattened text of the whole article page:
``<title>_中央网络安全和信息化委员会办公室 … <title> YYYY年MM月DD日 HH:MM 来源： X
【打印】 【纠错】 <body> 关闭 中央网络安全和信息化委员会办公室 … publishdate:…``.
The publication time, the source and the body are cut out of it.
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

POLICIES_CSV = Path(__file__).parent / "data" / "cac_all_policies.csv"

_PAGE_TEXT = re.compile(
    r"(?P<stamp>\d{4}年\d{2}月\d{2}日 \d{2}:\d{2}) 来源：\s*(?P<source>\S*)\s*"
    r"【打印】 【纠错】(?P<body>.*?)关闭 中央网络安全和信息化委员会办公室",
    re.DOTALL,
)

# The flattening joined paragraphs with a space. A space after a sentence end, or
# before an 附件 line, is taken as a paragraph break; spaces inside a sentence
# (「数据安全技术 电子产品…」) stay.
_PARAGRAPH_BREAK = re.compile(r"(?<=[。！？；])\s+|\s+(?=附件\s*：)")


@dataclass(frozen=True)
class PolicyItem:
    """One channel item as the CSV holds it."""

    title: str
    url_path: str
    published: datetime
    source: str
    paragraphs: tuple[str, ...]


def split_paragraphs(body: str) -> tuple[str, ...]:
    """Split a flattened article body back into paragraphs."""
    parts = (part.strip() for part in _PARAGRAPH_BREAK.split(body))
    return tuple(part for part in parts if part)


def parse_policy_row(row: dict[str, str]) -> PolicyItem:
    """Turn one CSV row into a :class:`PolicyItem`.

    :raises ValueError: when the page text does not have the expected frame.
    """
    match = _PAGE_TEXT.search(row["full_text"])
    if match is None:
        raise ValueError(f"unrecognised page text for {row['url']}")

    published = datetime.strptime(match["stamp"], "%Y年%m月%d日 %H:%M")
    return PolicyItem(
        title=row["title"],
        url_path=urlsplit(row["url"]).path,
        published=published,
        source=match["source"],
        paragraphs=split_paragraphs(match["body"]),
    )


def load_policies(path: Path = POLICIES_CSV) -> list[PolicyItem]:
    """Read every channel item of the CSV, in file order."""
    # A page text may outgrow csv's default field limit of 131,072 characters.
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [parse_policy_row(row) for row in csv.DictReader(handle)]
