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
    Field("algorithm_name", "Algorithm name", ("算法名称",)),
    Field("algorithm_category", "Algorithm category", ("算法类别",)),
    Field("role", "Role (provider or technical supporter)", ("角色",)),
    Field("entity_name", "Registrant", ("主体名称",)),
    Field("product", "Product using the algorithm", ("应用产品",)),
    Field("purpose", "Main purpose", ("主要用途",)),
    Field("filing_no", "Filing number", ("备案编号",)),
    Field("note", "Remark", ("备注",)),
)

FIELD_BY_NAME = {field.name: field for field in FIELDS}

# Header text is compared after removing every kind of whitespace, because Word
# lists often break a header cell over two lines ("备案\n编号").
_HEADER_TO_FIELD = {header: field.name for field in FIELDS for header in field.headers}

# A table is a filing list only if its header names at least these fields.
REQUIRED_FIELDS = frozenset({"algorithm_name", "entity_name", "filing_no"})

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
