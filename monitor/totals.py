"""The totals CAC states in its generative-AI announcements.

Each announcement says how many services were filed (备案) and how many apps or
features registered (登记) in all, or newly, up to a day. These sentences are
parsed here so the counts read from the attachments can be checked against
them. The wording varies between announcements; every pattern below occurs in
a real one.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from monitor.numbers import FILING, REGISTRATION

CUMULATIVE = "cumulative"
NEW = "new"


@dataclass(frozen=True)
class StatedTotal:
    """One figure an announcement states."""

    record_type: str  # FILING or REGISTRATION
    measure: str  # CUMULATIVE or NEW
    count: int
    as_of: dt.date | None  # the day the figure runs to, when stated
    sentence: str


_SERVICE = r"款生成式人工智能服务"
_APP = r"款(?:生成式人工智能应用或功能)?"

# (record type, measure, pattern); the number is the first group.
_PATTERNS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    (FILING, CUMULATIVE, re.compile(rf"累计有(\d+){_SERVICE}完成备案")),
    (FILING, CUMULATIVE, re.compile(rf"共有?(\d+){_SERVICE}在国家网信办完成备案")),
    (FILING, NEW, re.compile(rf"新增(\d+){_SERVICE}在国家网信办完成备案")),
    (FILING, NEW, re.compile(r"新增(\d+)款备案")),
    (
        REGISTRATION,
        CUMULATIVE,
        re.compile(rf"累计有\d+{_SERVICE}完成备案[，,](\d+){_APP}完成登记"),
    ),
    (REGISTRATION, CUMULATIVE, re.compile(rf"共有(\d+){_APP}在地方网信办完成登记")),
    (REGISTRATION, NEW, re.compile(rf"新增(\d+){_APP}完成登记")),
    (REGISTRATION, NEW, re.compile(rf"\d{{4}}年共(\d+){_APP}在地方网信办完成登记")),
)

_AS_OF = re.compile(r"截至(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日")
_SENTENCE_END = re.compile(r"[。；;]")


def stated_totals(text: str, published: dt.date) -> list[StatedTotal]:
    """Every total stated in an announcement's body *text*.

    A figure runs to the last 「截至…」 day stated before it in the same
    sentence or an earlier one; a day without a year takes the year the
    announcement was published in.
    """
    totals: list[StatedTotal] = []
    as_of: dt.date | None = None
    for sentence in _sentences(text):
        for match in _AS_OF.finditer(sentence):
            year = int(match.group(1) or published.year)
            as_of = dt.date(year, int(match.group(2)), int(match.group(3)))

        seen: set[tuple[str, str]] = set()
        for record_type, measure, pattern in _PATTERNS:
            for match in pattern.finditer(sentence):
                key = (record_type, measure)
                if key in seen:
                    continue
                seen.add(key)
                totals.append(
                    StatedTotal(
                        record_type, measure, int(match.group(1)), as_of, sentence
                    )
                )
    return totals


def _sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]
