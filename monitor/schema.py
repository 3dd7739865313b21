"""The published schema of the exports: their tables, columns, types and headers.

Exports are read by other people's scripts, so their columns are fixed here and
change only with ``SCHEMA_VERSION``; ``docs/schema.md`` documents every column.
A column is never renamed or removed without a new version; new columns are
added at the end of a table.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from monitor.fields import FIELD_BY_NAME

SCHEMA_VERSION = "1"


class ColumnType(enum.StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    JSON = "json"  # text holding JSON; a JSONL export nests the value itself


@dataclass(frozen=True)
class Column:
    """One exported column: English name, type and Chinese header."""

    name: str
    type: ColumnType
    zh: str


def _field(name: str, zh: str | None = None) -> Column:
    # List fields take the Chinese header the published lists use most.
    return Column(name, ColumnType.TEXT, zh or FIELD_BY_NAME[name].headers[0])


TEXT, INTEGER, JSON = ColumnType.TEXT, ColumnType.INTEGER, ColumnType.JSON

_LIST_FIELDS = (
    _field("region"),
    _field("algorithm_name"),
    _field("service_name", "模型/应用/功能名称"),
    _field("algorithm_category"),
    _field("role"),
    _field("entity_name"),
    _field("product"),
    _field("purpose"),
    _field("filing_no"),
    _field("filed_on"),
    _field("cancelled_on"),
    _field("note"),
)

FILINGS: tuple[Column, ...] = (
    Column("filing_key", TEXT, "备案编号（比对键）"),
    Column("series", TEXT, "清单系列"),
    Column("record_type", TEXT, "备案/登记"),
    *_LIST_FIELDS,
    Column("entity_key", TEXT, "主体名称（比对键）"),
    Column("province_code", TEXT, "省级行政区划代码"),
    Column("sector", TEXT, "行业"),
    Column("first_batch_id", INTEGER, "首次列出批次"),
    Column("last_batch_id", INTEGER, "最近列出批次"),
    Column("cancelled_batch_id", INTEGER, "注销公告批次"),
    Column("first_seen", TEXT, "首次发现时间"),
    Column("last_seen", TEXT, "最近发现时间"),
)

EVENTS: tuple[Column, ...] = (
    Column("id", TEXT, "事件编号"),
    Column("run_id", TEXT, "运行编号"),
    Column("batch_id", INTEGER, "批次"),
    Column("kind", TEXT, "事件类型"),
    Column("series", TEXT, "清单系列"),
    Column("filing_key", TEXT, "备案编号（比对键）"),
    Column("entity_key", TEXT, "主体名称（比对键）"),
    Column("summary", TEXT, "摘要"),
    Column("payload", JSON, "详细内容"),
    Column("created_at", TEXT, "记录时间"),
)

ROWS: tuple[Column, ...] = (
    Column("batch_id", INTEGER, "批次"),
    Column("series", TEXT, "清单系列"),
    Column("table_index", INTEGER, "表格序号"),
    Column("row_index", INTEGER, "行号"),
    Column("position", INTEGER, "数据行顺序"),
    Column("page", INTEGER, "页码"),
    Column("sheet", TEXT, "工作表"),
    Column("record_type", TEXT, "备案/登记"),
    _field("seq"),
    *_LIST_FIELDS,
    Column("filing_key", TEXT, "备案编号（比对键）"),
    Column("entity_key", TEXT, "主体名称（比对键）"),
    Column("issue", TEXT, "问题"),
    Column("cells", JSON, "原始单元格"),
)

TABLES: dict[str, tuple[Column, ...]] = {
    "filings": FILINGS,
    "events": EVENTS,
    "rows": ROWS,
}
