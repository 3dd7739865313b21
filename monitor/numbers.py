"""What filing numbers say: province, date, serial, and filing or registration.

Two formats are published:

* 网信算备 numbers of the algorithm lists (series A, B and D):
  ``网信算备`` + six-digit GB/T 2260 district code + registrant and serial
  digits + ``号``; the district code gives the province.
* generative-AI numbers (series C): ``<Province>-<Name>-<YYYYMMDD><serial>``.
  A model filing (备案) has a plain serial or none; an app or feature
  registration (登记) has ``S`` before its serial
  (``Shanghai-GeiLiWenDa-20240729S0019``). Central state-owned enterprises
  use ``ZhongYangQiYe-`` instead of a province.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from monitor.fields import squash
from monitor.regions import (
    CENTRAL_SOE,
    Region,
    region_by_code,
    region_by_name,
    region_by_pinyin,
)

FILING = "filing"  # 备案
REGISTRATION = "registration"  # 登记
RECORD_TYPE_LABELS = {
    FILING: "model filing 备案",
    REGISTRATION: "app registration 登记",
}

_ALGORITHM_NUMBER = re.compile(r"^网信算备(\d{6})(\d+)号$")
_GENAI_NUMBER = re.compile(
    r"^(?P<region>[A-Za-z]+)-(?P<name>.+)-(?P<date>\d{8})(?P<s>[Ss])?(?P<serial>\d*)$"
)


@dataclass(frozen=True)
class NumberInfo:
    """What one filing number tells."""

    raw: str
    format: str  # "algorithm", "genai" or "unknown"
    region: Region | None = None
    record_type: str | None = None  # FILING or REGISTRATION, for genai numbers
    name: str | None = None
    date: dt.date | None = None
    serial: str | None = None
    spelling_fixed: bool = False


def parse_number(raw: str) -> NumberInfo:
    """Parse a filing number; unknown formats are reported, not guessed."""
    clean = squash(raw)
    match = _ALGORITHM_NUMBER.match(clean)
    if match:
        return NumberInfo(raw, "algorithm", region=region_by_code(match.group(1)))

    # Wrapped cells leave spaces around the hyphens; the name itself may hold
    # a real space ("Aryn GPT"), so only those around hyphens go.
    spaced = re.sub(r"\s*-\s*", "-", raw.strip())
    match = _GENAI_NUMBER.match(spaced)
    if match is None:
        return NumberInfo(raw, "unknown")

    region, fixed = region_by_pinyin(match.group("region"))
    try:
        day = dt.datetime.strptime(match.group("date"), "%Y%m%d").date()
    except ValueError:
        day = None
    return NumberInfo(
        raw,
        "genai",
        region=region,
        record_type=REGISTRATION if match.group("s") else FILING,
        name=match.group("name"),
        date=day,
        serial=match.group("serial") or None,
        spelling_fixed=fixed,
    )


def province_code(filing_no: str | None, region: str | None = None) -> str | None:
    """The two-digit GB/T 2260 province code of a filing, when it can be told.

    Taken from the number (district code or pinyin prefix), else from the
    属地 cell. Central state-owned enterprises (国资委) belong to no province
    and get none.
    """
    found = parse_number(filing_no).region if filing_no else None
    if found is None and region:
        found = region_by_name(region)
    if found is None or found is CENTRAL_SOE:
        return None
    return found.code


_DATE = re.compile(r"(\d{4})\s*[/.年-]\s*(\d{1,2})\s*[/.月-]\s*(\d{1,2})日?")


def parse_list_date(text: str) -> tuple[dt.date | None, str]:
    """A date cell (``2023/8/31``, ``2026/5/1（补登）``): the date and any note."""
    match = _DATE.search(text)
    if match is None:
        return None, text.strip()
    year, month, day = (int(part) for part in match.groups())
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return None, text.strip()
    note = (text[: match.start()] + text[match.end() :]).strip(" （）()")
    return date, note
