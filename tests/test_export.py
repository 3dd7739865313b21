"""``cacwatch export``: CSV, XLSX and JSON Lines read back equal the database."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from crawler.replica.server import Replica
from monitor.cli import cli
from monitor.schema import SCHEMA_VERSION, TABLES, ColumnType
from tests.conftest import AFTER, expected_changes, run

EARLY = dt.date(2026, 3, 31)
ROOT = Path(__file__).parent.parent


@dataclass(frozen=True)
class TwoRuns:
    """A data directory loaded as of 2026-03-31, then updated to 2026-05-31."""

    state: Path
    filings_before: frozenset[str]
    last_batch_before: int


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> TwoRuns:
    state = tmp_path_factory.mktemp("two-runs") / "state"
    with Replica(EARLY) as site:
        assert run(site, state).kind == "initial_load"
        before = _query(state, "select filing_key, first_batch_id from filings")
        site.as_of = AFTER
        assert run(site, state).kind == "update"
    return TwoRuns(
        state,
        frozenset(row["filing_key"] for row in before),
        max(row["first_batch_id"] for row in before),
    )


def _query(state: Path, sql: str, params: Any = ()) -> list[dict[str, Any]]:
    connection = sqlite3.connect(state / "cacwatch.db")
    connection.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in connection.execute(sql, params)]
    finally:
        connection.close()


def _export(state: Path, *args: str) -> bytes:
    result = CliRunner().invoke(cli, ["export", "--state", str(state), *args])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def _db_filings(state: Path, where: str = "", params: Any = ()) -> list[dict[str, Any]]:
    # The sector is the classification's; every other column is the filing's.
    names = [column.name for column in TABLES["filings"]]
    select = ", ".join(
        "c.sector as sector" if name == "sector" else f"f.{name}" for name in names
    )
    sql = (
        f"select {select} from filings f left join classifications c "
        f"using (filing_key) {where} order by f.first_batch_id, f.filing_key"
    )
    return _query(state, sql, params)


def _as_text(value: Any) -> str:
    return "" if value is None else str(value)


def test_csv_of_filings_equals_the_database(two_runs: TwoRuns) -> None:
    data = _export(two_runs.state, "--format", "csv", "--headers", "en")

    exported = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    expected = _db_filings(two_runs.state)
    assert len(exported) == len(expected) > 9000
    for got, want in zip(exported, expected, strict=True):
        assert got == {name: _as_text(value) for name, value in want.items()}


def test_csv_headers_name_each_column_in_english_and_chinese(two_runs: TwoRuns) -> None:
    columns = TABLES["filings"]

    both = next(csv.reader(io.StringIO(_export(two_runs.state).decode("utf-8"))))
    chinese = next(
        csv.reader(io.StringIO(_export(two_runs.state, "--headers", "zh").decode()))
    )

    assert both == [f"{column.name} {column.zh}" for column in columns]
    assert both[columns.index(next(c for c in columns if c.name == "filing_no"))] == (
        "filing_no 备案编号"
    )
    assert chinese == [column.zh for column in columns]


def test_xlsx_of_filings_equals_the_database(two_runs: TwoRuns, tmp_path: Path) -> None:
    out = tmp_path / "filings.xlsx"

    _export(two_runs.state, "--format", "xlsx", "--out", str(out))

    book = openpyxl.load_workbook(out, read_only=True)
    rows = list(book["filings"].iter_rows(values_only=True))
    columns = TABLES["filings"]
    assert list(rows[0]) == [column.name for column in columns]
    assert list(rows[1]) == [column.zh for column in columns]
    expected = _db_filings(two_runs.state)
    assert len(rows) - 2 == len(expected)
    for got, want in zip(rows[2:], expected, strict=True):
        # An XLSX cell cannot tell empty text from no value: both are empty.
        assert list(got) == [None if v == "" else v for v in want.values()]
    about = dict(book["about"].iter_rows(values_only=True))
    assert about["schema_version"] == SCHEMA_VERSION
    assert about["records"] == str(len(expected))


def test_jsonl_of_events_and_rows_equals_the_database(two_runs: TwoRuns) -> None:
    events = [
        json.loads(line)
        for line in _export(two_runs.state, "--format", "jsonl", "--table", "events")
        .decode()
        .splitlines()
    ]
    rows = [
        json.loads(line)
        for line in _export(
            two_runs.state, "--format", "jsonl", "--table", "rows", "--batch", "3"
        )
        .decode()
        .splitlines()
    ]

    stored = _query(
        two_runs.state, "select * from events order by batch_id, created_at, id"
    )
    assert len(events) == len(stored) > 1000
    for got, want in zip(events, stored, strict=True):
        assert got == {**want, "payload": json.loads(want["payload"])}
    stored_rows = _query(
        two_runs.state,
        "select r.*, b.series from rows r join batches b on b.id = r.batch_id "
        "where batch_id = 3 order by table_index, row_index",
    )
    assert len(rows) == len(stored_rows) > 0
    for got, want in zip(rows, stored_rows, strict=True):
        expected = {c.name: want[c.name] for c in TABLES["rows"]}
        assert got == {**expected, "cells": json.loads(want["cells"])}


def test_since_a_batch_gives_only_the_filings_new_in_the_second_run(
    two_runs: TwoRuns,
) -> None:
    since = str(two_runs.last_batch_before)

    data = _export(two_runs.state, "--since", since, "--headers", "en")

    exported = {row["filing_key"] for row in csv.DictReader(io.StringIO(data.decode()))}
    everything = {row["filing_key"] for row in _db_filings(two_runs.state)}
    assert exported == everything - two_runs.filings_before
    # Read from the replica's lists without cacwatch's parsers: the numbers
    # listed between the two days, plus numbers known only from a notice.
    listed = expected_changes(EARLY, AFTER).listed_filings
    notice_only = {
        row["filing_key"]
        for row in _db_filings(two_runs.state, "where series = 'cancellation'")
    }
    assert listed <= exported
    assert exported - listed <= notice_only
    assert len(listed) == 807


def test_since_a_day_compares_with_when_entries_were_first_seen(
    two_runs: TwoRuns,
) -> None:
    first_seen = min(row["first_seen"] for row in _db_filings(two_runs.state))
    day = dt.date.fromisoformat(first_seen[:10])

    on_the_day = _export(two_runs.state, "--format", "jsonl", "--since", str(day))
    after_it = _export(
        two_runs.state, "--format", "jsonl", "--since", str(day + dt.timedelta(days=1))
    )

    assert len(on_the_day.splitlines()) == len(_db_filings(two_runs.state))
    assert {
        json.loads(line)["first_seen"] >= str(day) for line in on_the_day.splitlines()
    } == {True}
    later = _db_filings(
        two_runs.state, "where first_seen >= ?", [str(day + dt.timedelta(days=1))]
    )
    assert len(after_it.splitlines()) == len(later)


def test_series_and_batch_filters(two_runs: TwoRuns) -> None:
    per_series = {
        series: _export(
            two_runs.state, "--format", "jsonl", "--series", series
        ).splitlines()
        for series in ("algorithm", "deep_synthesis", "generative_ai", "cancellation")
    }
    batch = _query(two_runs.state, "select id, row_count, issue_count from batches")[-1]
    rows = _export(
        two_runs.state,
        "--format",
        "jsonl",
        "--table",
        "rows",
        "--batch",
        str(batch["id"]),
    )

    counted = _query(
        two_runs.state, "select series, count(*) n from filings group by 1"
    )
    assert {s: len(lines) for s, lines in per_series.items() if lines} == {
        row["series"]: row["n"] for row in counted
    }
    assert len(rows.splitlines()) == batch["row_count"] + batch["issue_count"]


def test_text_that_looks_like_a_formula_stays_text(
    two_runs: TwoRuns, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    source = sqlite3.connect(two_runs.state / "cacwatch.db")
    target = sqlite3.connect(state / "cacwatch.db")
    source.backup(target)
    source.close()
    key = _query(two_runs.state, "select filing_key from filings limit 1")[0][
        "filing_key"
    ]
    target.execute(
        "update filings set note = ? where filing_key = ?", ['=HYPERLINK("x")', key]
    )
    target.commit()
    target.close()
    out = tmp_path / "filings.xlsx"

    _export(state, "--format", "xlsx", "--out", str(out), "--headers", "en")

    sheet = openpyxl.load_workbook(out)["filings"]
    note = [c.name for c in TABLES["filings"]].index("note") + 1
    cells = [row[note - 1] for row in sheet.iter_rows(min_row=2) if row[note - 1].value]
    formula = [cell for cell in cells if str(cell.value).startswith("=")]
    assert [(cell.value, cell.data_type) for cell in formula] == [
        ('=HYPERLINK("x")', "s")
    ]


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        # Values no export could take are usage errors (exit 2) ...
        (["--since", "2026-13-01"], "--since takes a day", 2),
        (["--since", ""], "--since takes a day", 2),
        (["--since", "yesterday"], "--since takes a day", 2),
        # ... a batch the state does not hold is an error of the export (1).
        (["--since", "99999"], "there is no batch 99999", 1),
        (["--batch", "99999"], "there is no batch 99999", 1),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    two_runs: TwoRuns, tmp_path: Path, args: list[str], message: str, code: int
) -> None:
    out = tmp_path / "out.csv"

    result = CliRunner().invoke(
        cli, ["export", "--state", str(two_runs.state), "--out", str(out), *args]
    )

    assert result.exit_code == code
    assert message in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_destination_that_cannot_be_a_file_is_refused_by_name(
    two_runs: TwoRuns, tmp_path: Path
) -> None:
    missing = tmp_path / "missing" / "out.csv"

    for out, message in (
        (missing, f"no such directory: {missing.parent}"),
        (tmp_path, f"{tmp_path} is a directory"),
    ):
        result = CliRunner().invoke(
            cli, ["export", "--state", str(two_runs.state), "--out", str(out)]
        )

        assert result.exit_code == 2
        assert message in result.output
    assert list(tmp_path.iterdir()) == []


def test_the_schema_document_lists_every_column() -> None:
    text = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")

    assert f"Schema version: **{SCHEMA_VERSION}**" in text
    for table, columns in TABLES.items():
        section = text.split(f"## `{table}`")[1].split("\n## ")[0]
        for column in columns:
            assert f"| `{column.name}` | {column.type} | {column.zh} |" in section
    assert {column.type for columns in TABLES.values() for column in columns} == set(
        ColumnType
    )
