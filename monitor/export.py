"""Write filings, events or rows of the state as CSV, JSON Lines or XLSX.

The columns are those of ``monitor.schema``; values are exported as stored, so
an export read back equals the database row for row and field for field.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from monitor.schema import SCHEMA_VERSION, TABLES, Column, ColumnType
from monitor.store import Store, now

logger = logging.getLogger(__name__)


class Format(enum.StrEnum):
    CSV = "csv"
    JSONL = "jsonl"
    XLSX = "xlsx"


class Headers(enum.StrEnum):
    EN = "en"
    ZH = "zh"
    BOTH = "both"


class ExportError(Exception):
    """An export that cannot be made as asked; the message is meant for the user."""


@dataclass(frozen=True)
class Since:
    """Entries first seen on or after a day, or in batches read after a batch."""

    day: dt.date | None = None
    batch_id: int | None = None


@dataclass(frozen=True)
class Selection:
    """Which entries of a table to export."""

    table: str = "filings"
    series: tuple[str, ...] = ()
    batch_id: int | None = None
    since: Since = field(default_factory=Since)


# What a cell of an XLSX sheet may not hold (XML 1.0 control characters); text
# from a PDF's text layer occasionally carries one.
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_XLSX_CELL_LIMIT = 32767


def parse_since(value: str) -> Since:
    """Read ``--since``: a day (``YYYY-MM-DD``) or a batch id (digits)."""
    if value.isdigit():
        return Since(batch_id=int(value))
    try:
        return Since(day=dt.date.fromisoformat(value))
    except ValueError:
        raise ExportError(
            f"--since takes a day (YYYY-MM-DD) or a batch id, not {value!r}"
        ) from None


def select_sql(store: Store, selection: Selection) -> tuple[str, list[Any]]:
    """The query that yields the exported records of *selection*, in order."""
    for batch_id in (selection.batch_id, selection.since.batch_id):
        if batch_id is not None and not store.scalar(
            "select 1 from batches where id = ?", [batch_id]
        ):
            raise ExportError(f"there is no batch {batch_id}")

    builder = {"filings": _filings_sql, "events": _events_sql, "rows": _rows_sql}
    sql, columns = builder[selection.table](store)
    clauses: list[str] = []
    params: list[Any] = []
    if selection.series:
        marks = ", ".join("?" for _ in selection.series)
        clauses.append(f"{columns['series']} in ({marks})")
        params.extend(selection.series)
    if selection.batch_id is not None:
        clauses.append(f"{columns['batch']} = ?")
        params.append(selection.batch_id)
    if selection.since.batch_id is not None:
        clauses.append(f"{columns['batch']} > ?")
        params.append(selection.since.batch_id)
    if selection.since.day is not None:
        clauses.append(f"{columns['seen']} >= ?")
        params.append(selection.since.day.isoformat())

    where = f" where {' and '.join(clauses)}" if clauses else ""
    return f"{sql}{where} order by {columns['order']}", params


def _filings_sql(store: Store) -> tuple[str, dict[str, str]]:
    # Province and sector come from parts of the state that older databases
    # lack; the columns are then empty, so the schema stays the same.
    province = (
        "f.province_code" if _has_column(store, "filings", "province_code") else "null"
    )
    sector, join = "null", ""
    if store.db.table("classifications").exists():
        sector = "c.sector"
        join = " left join classifications c on c.filing_key = f.filing_key"
    special = {"province_code": province, "sector": sector}
    names = [
        f"{special.get(column.name, 'f.' + column.name)} as {column.name}"
        for column in TABLES["filings"]
    ]
    sql = f"select {', '.join(names)} from filings f{join}"
    return sql, {
        "series": "f.series",
        "batch": "f.first_batch_id",
        "seen": "f.first_seen",
        "order": "f.first_batch_id, f.filing_key",
    }


def _events_sql(store: Store) -> tuple[str, dict[str, str]]:
    names = ", ".join(f"e.{column.name}" for column in TABLES["events"])
    return f"select {names} from events e", {
        "series": "e.series",
        "batch": "e.batch_id",
        "seen": "e.created_at",
        "order": "e.batch_id, e.created_at, e.id",
    }


def _rows_sql(store: Store) -> tuple[str, dict[str, str]]:
    names = ", ".join(
        "b.series" if column.name == "series" else f"r.{column.name}"
        for column in TABLES["rows"]
    )
    sql = f"select {names} from rows r join batches b on b.id = r.batch_id"
    return sql, {
        "series": "b.series",
        "batch": "r.batch_id",
        "seen": "b.parsed_at",
        "order": "r.batch_id, r.table_index, r.row_index",
    }


def _has_column(store: Store, table: str, column: str) -> bool:
    return column in store.db.table(table).columns_dict


def header_row(columns: tuple[Column, ...], headers: Headers) -> list[str]:
    """One header row: English names, Chinese headers, or both in one cell."""
    if headers is Headers.EN:
        return [column.name for column in columns]
    if headers is Headers.ZH:
        return [column.zh for column in columns]
    return [f"{column.name} {column.zh}" for column in columns]


def export(
    store: Store,
    selection: Selection,
    fmt: Format,
    out: IO[bytes],
    *,
    headers: Headers = Headers.BOTH,
) -> int:
    """Write the records of *selection* to *out*; return how many were written."""
    sql, params = select_sql(store, selection)
    columns = TABLES[selection.table]
    records = store.db.query(sql, params)
    if fmt is Format.CSV:
        count = _write_csv(records, columns, out, headers)
    elif fmt is Format.JSONL:
        count = _write_jsonl(records, columns, out)
    else:
        count = _write_xlsx(records, columns, out, headers, selection)
    logger.info("Exported %d %s as %s", count, selection.table, fmt)
    return count


def _write_csv(
    records: Iterator[dict[str, Any]],
    columns: tuple[Column, ...],
    out: IO[bytes],
    headers: Headers,
) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(header_row(columns, headers))
    count = 0
    for record in records:
        writer.writerow(
            "" if record[column.name] is None else record[column.name]
            for column in columns
        )
        count += 1
    text.flush()
    text.detach()
    return count


def _write_jsonl(
    records: Iterator[dict[str, Any]], columns: tuple[Column, ...], out: IO[bytes]
) -> int:
    count = 0
    for record in records:
        item = {
            column.name: _json_value(column, record[column.name]) for column in columns
        }
        out.write(json.dumps(item, ensure_ascii=False).encode() + b"\n")
        count += 1
    return count


def _json_value(column: Column, value: Any) -> Any:
    if column.type is ColumnType.JSON and value is not None:
        return json.loads(value)
    return value


def _write_xlsx(
    records: Iterator[dict[str, Any]],
    columns: tuple[Column, ...],
    out: IO[bytes],
    headers: Headers,
    selection: Selection,
) -> int:
    # Write-only mode streams the rows: memory stays flat however big the state.
    book = Workbook(write_only=True)
    sheet = book.create_sheet(selection.table)
    layers = [Headers.EN, Headers.ZH] if headers is Headers.BOTH else [headers]
    for layer in layers:
        sheet.append([_text_cell(sheet, text) for text in header_row(columns, layer)])
    sheet.freeze_panes = f"A{len(layers) + 1}"

    count = 0
    for record in records:
        sheet.append(
            [_xlsx_cell(sheet, column, record[column.name]) for column in columns]
        )
        count += 1

    about = book.create_sheet("about")
    for key, value in _about(selection, count):
        about.append([_text_cell(about, key), _text_cell(about, value)])
    book.save(out)
    return count


def _about(selection: Selection, count: int) -> list[tuple[str, str]]:
    since = selection.since
    return [
        ("schema_version", SCHEMA_VERSION),
        ("table", selection.table),
        ("records", str(count)),
        ("exported_at", now()),
        ("series", ", ".join(selection.series) or "all"),
        ("batch", "" if selection.batch_id is None else str(selection.batch_id)),
        ("since_day", "" if since.day is None else since.day.isoformat()),
        ("since_batch", "" if since.batch_id is None else str(since.batch_id)),
    ]


def _xlsx_cell(sheet: WriteOnlyWorksheet, column: Column, value: Any) -> Any:
    if value is None or column.type is ColumnType.INTEGER:
        return value
    return _text_cell(sheet, str(value))


def _text_cell(sheet: WriteOnlyWorksheet, text: str) -> WriteOnlyCell:
    """A cell that holds *text* as text, never as a formula (``=…`` stays text)."""
    if _ILLEGAL_XLSX.search(text):
        logger.warning("Replaced control characters in %r", text[:40])
        text = _ILLEGAL_XLSX.sub("\ufffd", text)
    if len(text) > _XLSX_CELL_LIMIT:
        raise ExportError(
            f"a value of {len(text)} characters does not fit an XLSX cell; "
            "export as csv or jsonl instead"
        )
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    return cell


@contextmanager
def output_file(path: Path) -> Iterator[IO[bytes]]:
    """Write *path* through a temporary file, so a failed export leaves nothing."""
    directory = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            yield file
        # mkstemp makes the file private; an export is meant to be shared.
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
