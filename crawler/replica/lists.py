"""The generative-AI (series C) and cancellation (series D) lists, as tables.

The rows come from a third party's JSON transcription of the official
attachments (``data/genai_filing.json``, ``data/cancel.json``; see
``/work/shared/realdata/lawdatify-site/SOURCES.md``). No official file of these
series is available, so ``tools/build_genai_fixtures.py`` rebuilds each one as a
PDF or docx from the tables defined here, and writes beside it the rows a perfect
parser must return. Rows are taken as transcribed, changed only by
:func:`clean_cell`; nothing is added but the 序号 of the cancellation rows (the
transcription dropped that column; its value is the row's place in the notice).

What is modelled rather than known is marked as such: the release days flagged
``estimated``, the captions above the tables, the titles of the annual relists,
and the file format of each period (cac_site.md §5.1 reports PDF for the growing
page; half of the periods are built as docx so that both readers are exercised).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"
GENAI_JSON = DATA_DIR / "genai_filing.json"
CANCEL_JSON = DATA_DIR / "cancel.json"
EXPECTED_DIR = DATA_DIR / "expected"

GENAI_DIR = "genai"
CANCEL_DIR = "cancel"

PDF = "pdf"
DOCX = "docx"

GENAI_KEYS = ("seq", "region", "service_name", "entity_name", "filing_no", "filed_on")
CANCEL_KEYS = (
    "seq",
    "algorithm_name",
    "role",
    "entity_name",
    "product",
    "filing_no",
    "cancelled_on",
)

REGISTRATION_HEADER = (
    "序号",
    "属地",
    "应用/功能名称",
    "登记单位",
    "上线编号",
    "登记时间",
)
CANCEL_HEADER = (
    "序号",
    "算法名称",
    "角色",
    "主体名称",
    "应用产品",
    "备案编号",
    "注销时间",
)

# Field order of a cancel.json record, matching CANCEL_HEADER after 序号.
# Headers of the number column in the generative-AI lists.
_NUMBER_HEADERS = frozenset({"备案号", "备案编号", "上线编号", "登记编号"})

_CANCEL_FIELDS = ("name", "role", "entity", "product", "code", "cancel")

# period → (format, release day, estimated). A release day is the day the list
# appears on the growing page. Days not estimated are those of a real dated
# announcement of the same list (cac_site.md §5.2; 2026-03-17 and 2026-05-13
# are reported there, not verified) or, for 2024-04, the page's own first day.
# Estimates take the first day of the month after the period.
_PERIODS: dict[str, tuple[str, date, bool]] = {
    "2024-04": (PDF, date(2024, 4, 2), False),
    "2024-08": (DOCX, date(2024, 9, 1), True),
    "2024-11": (PDF, date(2024, 12, 1), True),
    "2025-01": (DOCX, date(2025, 1, 8), False),
    "2025-03": (DOCX, date(2025, 4, 8), False),
    "2025-06": (PDF, date(2025, 7, 11), False),
    "2025-08": (DOCX, date(2025, 9, 10), False),
    "2025-10": (DOCX, date(2025, 11, 11), False),
    "2025-12": (PDF, date(2026, 1, 9), False),
    "2026-02": (DOCX, date(2026, 3, 17), False),
    "2026-04": (PDF, date(2026, 5, 13), False),
    "2026-06": (DOCX, date(2026, 7, 1), True),
    "2026-08": (PDF, date(2026, 9, 1), True),
}

# The annual announcements relist a whole year. Which periods make up a year is
# a simplification: 2024 takes every list up to 2025-01, so it holds all 302
# filings and 105 registrations the 2025-01-08 announcement counts.
_RELISTS: dict[int, tuple[tuple[str, ...], date]] = {
    2024: (("2024-04", "2024-08", "2024-11", "2025-01"), date(2025, 1, 8)),
    2025: (
        ("2025-03", "2025-06", "2025-08", "2025-10", "2025-12"),
        date(2026, 1, 9),
    ),
}

# The transcription prefixes one list name with its annex number, as the real
# fText does ("附件7：生成式…（2025年8月）").
_ANNEX_PREFIX = re.compile(r"^(附件\d+)：(.+)$")
_REGISTRATION_NUMBER = re.compile(r"\d{8}S\d+$")


class TableKind(Enum):
    """What a table of a generative-AI list holds; the value is its caption."""

    FILING = "已备案的生成式人工智能服务"
    # The 2026-08 list has a second 备案 table, of models that run on phones.
    DEVICE = "已备案的手机端侧生成式人工智能服务"
    REGISTRATION = "已登记的生成式人工智能服务"
    CANCELLATION = ""


# The table sequences a period may have; anything else means the data changed.
_LAYOUTS = (
    (TableKind.FILING,),
    (TableKind.FILING, TableKind.REGISTRATION),
    (TableKind.FILING, TableKind.DEVICE, TableKind.REGISTRATION),
)

_NUMERALS = "一二三四五"

# A run of whitespace is a line wrap unless it sits between two ASCII letters or
# digits: there it stands for a real space (or cannot be told from one).
_WRAP = re.compile(r"(?<![0-9A-Za-z])\s+|\s+(?![0-9A-Za-z])")
_WORD_GAP = re.compile(r"\s+")


def clean_cell(text: str) -> str:
    """Undo the line-wrap spaces the transcription kept inside cells.

    Whitespace is dropped where the character on either side is not an ASCII
    letter or digit (「苏州清睿智能科技股份 有限公司」, 「服 务 提 供 者」); between two
    ASCII letters or digits it becomes one space (「Aryn GPT」). Wraps inside a
    Latin word or a number therefore stay as a space (「网信算备320114586731
    201240019号」): no rule can tell them from real spaces, and a parser that
    joins PDF lines meets the same ambiguity. The rule equals
    ``monitor.fields.join_lines`` applied with every space read as a line break.
    """
    return _WORD_GAP.sub(" ", _WRAP.sub("", text))


def clean_number(text: str) -> str:
    """A filing number with the transcription's line-wrap spaces removed.

    Filing numbers hold no spaces: CAC builds a generative-AI number from the
    model name with its spaces dropped (WPS AI → Beijing-WPSAI-20231016, Mind
    GPT → Beijing-MindGPT-20240226), and 网信算备 numbers are digits. A space
    the transcription shows in one is where the published PDF wrapped it
    (「Ningxia-…KeFuWen DaMoXing-20250102S0001」, 「网信算备320114586731
    201240019号」).
    """
    return "".join(text.split())


@dataclass(frozen=True)
class ListTable:
    """One table of a list: caption, header cells and cleaned rows."""

    kind: TableKind
    caption: str
    header: tuple[str, ...]
    keys: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class ListDocument:
    """One attachment to build: what it is called and the tables it holds.

    ``label`` is the official attachment name (fText); ``title`` the heading in
    the document, under an optional ``annex`` line (附件7); ``filename`` is
    relative to ``crawler/replica/files``.
    """

    key: str
    label: str
    title: str
    annex: str | None
    fmt: str
    released: date
    estimated: bool
    tables: tuple[ListTable, ...]
    directory: str = GENAI_DIR

    @property
    def filename(self) -> str:
        return f"{self.directory}/{self.label}.{self.fmt}"

    @property
    def expected_path(self) -> Path:
        return EXPECTED_DIR / f"{Path(self.filename).name}.json"

    @property
    def row_count(self) -> int:
        return sum(len(table.rows) for table in self.tables)

    def expected_rows(self) -> list[dict[str, str | int]]:
        """The rows a perfect parser returns, in order, each with its table."""
        rows: list[dict[str, str | int]] = []
        for index, table in enumerate(self.tables):
            for row in table.rows:
                rows.append({"table": index, **dict(zip(table.keys, row, strict=True))})
        return rows


@dataclass(frozen=True)
class CancelNotice:
    """One cancellation notice of beian.cac.gov.cn and its list."""

    notice_id: str
    title: str
    published: date
    document: ListDocument


def _read_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def _is_registration(row: tuple[str, ...]) -> bool:
    return bool(_REGISTRATION_NUMBER.search(row[4]))


def split_tables(
    rows: list[tuple[str, ...]],
) -> list[tuple[TableKind, list[tuple[str, ...]]]]:
    """Cut a period's rows into its 备案 and 登记 tables.

    The transcription runs the tables together. A 登记 table starts at the first
    登记 number (…-20240729S0020) after 备案 rows; a table also ends where 序号
    restarts at 1 (the 2026-08 phone-model table). Inside a 登记 table a row
    without an S-number stays there: one row has a truncated number
    (「Jiangsu-SiWeiXiangLiangZhiSuanYun-」) and its 序号 continues the count.
    """
    tables: list[tuple[TableKind, list[tuple[str, ...]]]] = []
    for row in rows:
        kind = tables[-1][0] if tables else TableKind.FILING
        if not tables:
            tables.append((kind, [row]))
        elif _is_registration(row) and kind is not TableKind.REGISTRATION:
            tables.append((TableKind.REGISTRATION, [row]))
        elif row[0] == "1":
            tables.append((TableKind.DEVICE, [row]))
        else:
            tables[-1][1].append(row)
    return tables


def _caption(kind: TableKind, index: int, count: int) -> str:
    # A list with a single table has no numbered sections.
    return kind.value if count == 1 else f"{_NUMERALS[index]}、{kind.value}"


def _genai_tables(
    header: tuple[str, ...], raw_rows: list[dict[str, str]], period: str
) -> tuple[ListTable, ...]:
    numbers = {name for name in header if name in _NUMBER_HEADERS}
    rows = [
        tuple(
            clean_number(raw[name]) if name in numbers else clean_cell(raw[name])
            for name in header
        )
        for raw in raw_rows
    ]
    parts = split_tables(rows)
    kinds = tuple(kind for kind, _ in parts)
    if kinds not in _LAYOUTS:
        raise ValueError(f"unexpected tables in {period}: {kinds}")

    return tuple(
        ListTable(
            kind=kind,
            caption=_caption(kind, index, len(parts)),
            header=REGISTRATION_HEADER if kind is TableKind.REGISTRATION else header,
            keys=GENAI_KEYS,
            rows=tuple(part),
        )
        for index, (kind, part) in enumerate(parts)
    )


@functools.cache
def genai_documents() -> tuple[ListDocument, ...]:
    """One document per period of ``genai_filing.json``, oldest first."""
    documents = []
    for batch in _read_json(GENAI_JSON)["batches"]:
        period = batch["period"]
        fmt, released, estimated = _PERIODS[period]
        name = batch["name"]
        annex, title = None, name
        if match := _ANNEX_PREFIX.match(name):
            annex, title = match.groups()

        tables = _genai_tables(tuple(batch["header"]), batch["rows"], period)
        document = ListDocument(
            period, name, title, annex, fmt, released, estimated, tables
        )
        if document.row_count != batch["count"]:
            raise ValueError(
                f"{period}: {document.row_count} rows, not {batch['count']}"
            )
        documents.append(document)

    if {d.key for d in documents} != set(_PERIODS):
        raise ValueError("genai_filing.json periods differ from the release table")
    return tuple(documents)


def genai_document(period: str) -> ListDocument:
    for document in genai_documents():
        if document.key == period:
            return document
    raise LookupError(period)


def _merge_tables(documents: list[ListDocument], kind: TableKind) -> ListTable:
    tables = [t for d in documents for t in d.tables if t.kind is kind]
    first = tables[0]
    return ListTable(
        kind=kind,
        caption=first.caption,
        header=first.header,
        keys=first.keys,
        rows=tuple(row for table in tables for row in table.rows),
    )


@functools.cache
def relist_documents() -> tuple[ListDocument, ...]:
    """The whole-year lists attached to the annual announcements."""
    documents = []
    for year, (periods, released) in _RELISTS.items():
        parts = [genai_document(period) for period in periods]
        title = f"{year}年生成式人工智能服务已备案和已登记信息"
        tables = (
            _merge_tables(parts, TableKind.FILING),
            _merge_tables(parts, TableKind.REGISTRATION),
        )
        documents.append(
            ListDocument(str(year), title, title, None, PDF, released, False, tables)
        )
    return tuple(documents)


def relist_document(year: int) -> ListDocument:
    for document in relist_documents():
        if document.key == str(year):
            return document
    raise LookupError(year)


@functools.cache
def cancel_notices() -> tuple[CancelNotice, ...]:
    """The cancellation notices of ``cancel.json``, oldest first."""
    notices = []
    for raw in _read_json(CANCEL_JSON)["notices"]:
        rows = tuple(
            (
                str(number),
                *(
                    clean_number(record[name])
                    if name == "code"
                    else clean_cell(record[name])
                    for name in _CANCEL_FIELDS
                ),
            )
            for number, record in enumerate(raw["records"], start=1)
        )
        if len(rows) != raw["count"]:
            raise ValueError(f"notice {raw['noticeId']}: {len(rows)} rows")

        published = date.fromisoformat(raw["date"])
        table = ListTable(TableKind.CANCELLATION, "", CANCEL_HEADER, CANCEL_KEYS, rows)
        document = ListDocument(
            key=raw["noticeId"],
            label=raw["title"],
            title=raw["title"],
            annex=None,
            fmt=PDF,
            released=published,
            estimated=False,
            tables=(table,),
            directory=CANCEL_DIR,
        )
        notices.append(CancelNotice(raw["noticeId"], raw["title"], published, document))
    return tuple(sorted(notices, key=lambda notice: notice.published))


def all_documents() -> tuple[ListDocument, ...]:
    """Every document the fixture generator builds."""
    cancellations = tuple(notice.document for notice in cancel_notices())
    return genai_documents() + relist_documents() + cancellations
