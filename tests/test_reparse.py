"""``cacwatch reparse``: archived attachments read again with the current parsers."""

from __future__ import annotations

import dataclasses
import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from crawler.replica.server import Replica
from monitor.cli import cli
from monitor.parsers import (
    PARSER_VERSION,
    PARSERS,
    ParsedDocument,
    Parser,
    ParseStatus,
)
from monitor.parsers.docx import parse_docx
from monitor.parsers.result import RowIssue
from monitor.sniff import Kind
from tests.conftest import AFTER, run

# The version the parsers report with the changed docx parser below.
CHANGED_VERSION = PARSER_VERSION.replace("docx-1", "docx-2")

CORRECTION = "（更正）"


def _query(state: Path, sql: str, params: Any = ()) -> list[dict[str, Any]]:
    connection = sqlite3.connect(state / "cacwatch.db")
    connection.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in connection.execute(sql, params)]
    finally:
        connection.close()


def _digest(state: Path) -> str:
    return hashlib.sha256((state / "cacwatch.db").read_bytes()).hexdigest()


def _reparse(state: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["reparse", "--state", str(state), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _corrected_docx(data: bytes) -> ParsedDocument:
    """The docx parser as if changed: the first row's name reads differently
    and the last row is no longer found."""
    document = parse_docx(data)
    first = document.rows[0]
    fields = {
        **first.fields,
        "algorithm_name": first.fields["algorithm_name"] + CORRECTION,
    }
    document.rows = [dataclasses.replace(first, fields=fields), *document.rows[1:-1]]
    return document


def _latest_algorithm_batch(state: Path) -> dict[str, Any]:
    return _query(
        state,
        "select * from batches where series = 'algorithm' order by period desc limit 1",
    )[0]


def _snapshot(state: Path) -> dict[str, list[dict[str, Any]]]:
    return {
        table: _query(state, f"select * from {table} order by 1")
        for table in ("filings", "entities", "events")
    }


def test_an_unchanged_archive_shows_no_difference(state: Path) -> None:
    before = _digest(state)

    shown = _reparse(state)
    applied = _reparse(state, "--apply")

    batches = _query(state, "select count(*) n from batches")[0]["n"]
    assert shown.splitlines() == [
        f"Read {batches} batches again with parsers {PARSER_VERSION}: "
        "0 differ from the stored rows"
    ]
    assert applied.splitlines()[-1] == (
        "Stored the new rows of 0 batches; filings: 0 updated, 0 added, 0 removed"
    )
    assert _digest(state) == before


def test_a_changed_parser_shows_the_exact_differences_and_applies_only_on_request(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = _latest_algorithm_batch(state)
    rows = _query(
        state,
        "select * from rows where batch_id = ? order by table_index, row_index",
        [batch["id"]],
    )
    first, last = rows[0], rows[-1]
    before, digest = _snapshot(state), _digest(state)
    monkeypatch.setitem(PARSERS, Kind.DOCX, Parser("docx", "2", _corrected_docx))

    shown = _reparse(state, "--batch", str(batch["id"]))

    assert _digest(state) == digest
    assert shown.splitlines() == [
        f"Read 1 batch again with parsers {CHANGED_VERSION}: "
        "1 differ from the stored rows",
        f"batch {batch['id']} {batch['name']} (algorithm, parsed by {PARSER_VERSION}): "
        "0 rows added, 1 removed, 1 changed",
        f"  row_count: {batch['row_count']} → {batch['row_count'] - 1}",
        f"  - table {last['table_index']} row {last['row_index']} {last['filing_no']}",
        f"  ~ table {first['table_index']} row {first['row_index']} "
        f"{first['filing_no']}",
        f"      algorithm_name: {first['algorithm_name']!r} → "
        f"{first['algorithm_name'] + CORRECTION!r}",
        "Nothing was changed; run with --apply to store the new rows.",
    ]

    applied = _reparse(state, "--batch", str(batch["id"]), "--apply")

    assert applied.splitlines()[-1] == (
        "Stored the new rows of 1 batch; filings: 1 updated, 0 added, 1 removed"
    )
    after = _snapshot(state)
    assert after["events"] == before["events"]
    assert after["entities"] == before["entities"]
    filings = {row["filing_key"]: row for row in after["filings"]}
    assert last["filing_key"] not in filings
    assert filings[first["filing_key"]]["algorithm_name"] == (
        first["algorithm_name"] + CORRECTION
    )
    unchanged = [
        row for row in before["filings"] if row["filing_key"] != first["filing_key"]
    ]
    assert [row for row in unchanged if row["filing_key"] != last["filing_key"]] == [
        row for row in after["filings"] if row["filing_key"] != first["filing_key"]
    ]
    stored = _query(state, "select * from batches where id = ?", [batch["id"]])[0]
    assert stored["parser_version"] == CHANGED_VERSION
    assert stored["row_count"] == batch["row_count"] - 1
    assert len(
        _query(state, "select 1 from rows where batch_id = ?", [batch["id"]])
    ) == (len(rows) - 1)
    assert "0 differ" in _reparse(state, "--batch", str(batch["id"]))


def test_the_old_parser_restores_the_state_it_derived(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = _latest_algorithm_batch(state)["id"]
    before = _snapshot(state)
    monkeypatch.setitem(PARSERS, Kind.DOCX, Parser("docx", "2", _corrected_docx))
    _reparse(state, "--batch", str(batch), "--apply")
    monkeypatch.undo()

    restored = _reparse(state, "--batch", str(batch), "--apply")

    assert "1 row added, 0 removed, 1 changed" in restored
    assert restored.splitlines()[-1].endswith("1 updated, 1 added, 0 removed")
    after = _snapshot(state)
    assert after["events"] == before["events"]

    def stable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # A filing stored again is first seen again: only its times differ.
        return [
            {k: v for k, v in row.items() if k not in ("first_seen", "last_seen")}
            for row in rows
        ]

    assert stable(after["filings"]) == stable(before["filings"])


def test_an_unknown_batch_is_refused(state: Path) -> None:
    result = CliRunner().invoke(
        cli, ["reparse", "--state", str(state), "--batch", "9999"]
    )

    assert result.exit_code == 1
    assert "no archived batch 9999" in result.output


def test_a_missing_archive_file_is_reported_and_changes_nothing(state: Path) -> None:
    batch = _query(
        state, "select b.*, l.path from batches b join blobs l using (sha256) limit 1"
    )[0]
    archived = next((state / "archive").rglob(f"{batch['sha256']}*"))
    archived.unlink()
    digest = _digest(state)

    shown = _reparse(state, "--batch", str(batch["id"]), "--apply")

    assert f"! batch {batch['id']} {batch['name']}: not read" in shown
    assert shown.splitlines()[-1].startswith("Stored the new rows of 0 batches")
    assert _query(
        state, "select count(*) n from rows where batch_id = ?", [batch["id"]]
    )[0]["n"] == (batch["row_count"] + batch["issue_count"])
    assert _digest(state) == digest


def _partial_docx(data: bytes) -> ParsedDocument:
    """The docx parser as if it failed on the last row of every list."""
    document = parse_docx(data)
    last = dataclasses.replace(document.rows[-1], issue=RowIssue.NO_FILING_NO)
    document.rows = [*document.rows[:-1], last]
    document.status = ParseStatus.PARTIAL
    return document


def test_a_list_that_reads_whole_now_is_stored_as_history_without_events(
    replica: Replica, state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replica.as_of = AFTER
    monkeypatch.setitem(PARSERS, Kind.DOCX, Parser("docx", "0", _partial_docx))
    assert run(replica, state).status == "partial"
    monkeypatch.undo()
    held = _query(state, "select * from batches where status = 'partial'")
    events = _snapshot(state)["events"]
    assert {batch["series"] for batch in held} == {"algorithm", "deep_synthesis"}
    ids = [arg for batch in held for arg in ("--batch", str(batch["id"]))]

    applied = _reparse(state, *ids, "--apply")
    again = run(replica, state)

    held_ids = ", ".join(str(batch["id"]) for batch in held)
    assert applied.splitlines()[-1].endswith(
        f"applied as history, without events: batch {held_ids}"
    )
    assert _snapshot(state)["events"] == events
    assert again.events == 0
    listed = _query(
        state,
        "select distinct filing_key from rows where batch_id in "
        f"({held_ids}) and issue is null",
    )
    filings = {row["filing_key"] for row in _snapshot(state)["filings"]}
    assert {row["filing_key"] for row in listed} <= filings
    assert len(listed) == sum(batch["row_count"] + 1 for batch in held)
