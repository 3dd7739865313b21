"""Canonical fields of the filing lists and the Chinese headers that map to them.

Every parser turns a list's header row into these canonical names, so the state,
the monitor and the exports never depend on the wording of one published list.
The table in ``docs/fields.md`` documents the same mapping for readers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    """One canonical field: its name, English label and the headers that map to it."""

    name: str
    label: str
    headers: tuple[str, ...]


FIELDS: tuple[Field, ...] = (
    Field("seq", "Sequence number", ("序号",)),
    Field("region", "Province (属地)", ("属地", "所属地区", "省份")),
    Field("algorithm_name", "Algorithm name", ("算法名称",)),
    Field(
        "service_name",
        "Model, app or feature name",
        (
            "模型名称",
            "大模型名称",
            "应用/功能名称",
            "应用或功能名称",
            "应用名称",
            "功能名称",
        ),
    ),
    Field("algorithm_category", "Algorithm category", ("算法类别",)),
    Field("role", "Role (provider or technical supporter)", ("角色",)),
    Field(
        "entity_name", "Registrant", ("主体名称", "备案单位", "登记单位", "备案主体")
    ),
    Field("product", "Product using the algorithm", ("应用产品", "产品名称")),
    Field("purpose", "Main purpose", ("主要用途",)),
    Field("filing_no", "Filing number", ("备案编号", "备案号", "上线编号", "登记编号")),
    Field("filed_on", "Date filed or registered", ("备案时间", "登记时间", "上线时间")),
    Field("cancelled_on", "Date cancelled", ("注销时间",)),
    Field("note", "Remark", ("备注",)),
)

FIELD_BY_NAME = {field.name: field for field in FIELDS}

# Header text is compared after removing every kind of whitespace, because Word
# lists often break a header cell over two lines ("备案\n编号").
_HEADER_TO_FIELD = {header: field.name for field in FIELDS for header in field.headers}

# A table is a filing list only if its header names the registrant, the
# filing number and what was filed: an algorithm, or a model, app or feature.
REQUIRED_FIELDS = frozenset({"entity_name", "filing_no"})
NAME_FIELDS = frozenset({"algorithm_name", "service_name"})


def is_filing_header(names: set[str | None]) -> bool:
    """True if header cells mapped to *names* make a filing-list header."""
    return names >= REQUIRED_FIELDS and bool(names & NAME_FIELDS)


_WHITESPACE = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")


def squash(text: str) -> str:
    """Return *text* in NFKC form with every kind of whitespace removed."""
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", text))


def field_for_header(header: str) -> str | None:
    """Return the canonical field for one header cell, or None if it is unknown."""
    return _HEADER_TO_FIELD.get(squash(header))


def normalise_filing_no(raw: str) -> str:
    """Return the comparison key of a filing number such as 网信算备…号.

    The published lists wrap long numbers inside their cells and mix full- and
    half-width digits; the key removes both differences and nothing else.
    """
    return squash(raw)


_PERIOD = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月")


def period_of(name: str) -> str | None:
    """The period a list name states: 「…清单（2026年5月）」 gives ``2026-05``."""
    match = _PERIOD.search(name)
    if match is None:
        return None
    return f"{int(match.group(1)):04d}-{int(match.group(2)):02d}"


_ANNEX_LABEL = re.compile(r"^\s*附件\s*\d*\s*[：:]\s*")


def list_name(name: str) -> str:
    """A list's name without the annex label some links put before it.

    The growing generative-AI page links one list as 「附件7：生成式…（2025年8月）」
    and the announcement of its period links the same file under a generic
    text, named from the title inside the file; both are the same list.
    """
    return _ANNEX_LABEL.sub("", name)


_LINE_BREAK = re.compile(r"\s*[\r\n\t]+\s*")


def join_lines(text: str) -> str:
    """Undo the line wrapping of a table cell without inventing spaces.

    Chinese text is wrapped anywhere, so a break between two Chinese characters
    (or punctuation) is removed; a break between two Latin words becomes one
    space, as that is where the space was.
    """

    def replace(match: re.Match[str]) -> str:
        before = text[match.start() - 1] if match.start() else ""
        after = text[match.end()] if match.end() < len(text) else ""
        latin = (
            before.isascii()
            and before.isalnum()
            and after.isascii()
            and after.isalnum()
        )
        return " " if latin else ""

    return _LINE_BREAK.sub(replace, text).strip()
