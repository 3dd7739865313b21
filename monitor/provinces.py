"""The province of a filing, for the analytics.

One function, so the source of the province can change in one place: a
stored ``province_code`` column wins when the state has one; otherwise the
province is read from the filing's 属地 cell or its number (``monitor.regions``,
``monitor.numbers``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitor.numbers import parse_number
from monitor.regions import CENTRAL_SOE, REGIONS, Region, region_by_name

_BY_CODE = {region.code: region for region in (*REGIONS, CENTRAL_SOE)}


def filing_province(filing: Mapping[str, Any]) -> str | None:
    """Two-digit province code of a filing (``00`` for SASAC), or None."""
    stored = filing.get("province_code")
    if stored:
        return str(stored)

    region: Region | None = None
    if filing.get("region"):
        region = region_by_name(str(filing["region"]))
    if region is None and filing.get("filing_no"):
        region = parse_number(str(filing["filing_no"])).region
    return region.code if region else None


def province_label(code: str | None) -> str:
    """English and Chinese name of a province code, or "unknown"."""
    region = _BY_CODE.get(code or "")
    return f"{region.english} ({region.name})" if region else "unknown"


def province_english(code: str | None) -> str:
    region = _BY_CODE.get(code or "")
    return region.english if region else "unknown"
