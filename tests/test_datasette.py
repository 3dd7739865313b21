"""The state database in Datasette, with the metadata cacwatch ships."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.schema import TABLES

ROOT = Path(__file__).parent.parent
METADATA = json.loads(
    (ROOT / "monitor" / "datasette" / "metadata.json").read_text(encoding="utf-8")
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def datasette(state: Path) -> Iterator[str]:
    """``cacwatch datasette`` serving a copy of a loaded state on a free port."""
    port = _free_port()
    command = [sys.executable, "-m", "monitor.cli", "datasette", "--state", str(state)]
    server = subprocess.Popen(
        [*command, "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(server, base)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stderr is not None:
            server.stderr.close()


def _wait_until_up(server: subprocess.Popen[bytes], base: str) -> None:
    # Datasette needs a few seconds to import and open the database.
    for _ in range(600):
        if server.poll() is not None:
            error = server.stderr.read().decode() if server.stderr else ""
            raise AssertionError(f"datasette exited with {server.returncode}: {error}")
        try:
            with urllib.request.urlopen(f"{base}/-/versions.json", timeout=5):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise AssertionError("datasette did not start")


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def _query(state: Path, sql: str) -> list[dict[str, Any]]:
    connection = sqlite3.connect(state / "cacwatch.db")
    connection.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in connection.execute(sql)]
    finally:
        connection.close()


def test_a_table_and_its_facet(datasette: str, state: Path) -> None:
    page = _get(f"{datasette}/cacwatch/filings.json?_facet=series&_size=5")

    facet = page["facet_results"]["series"]["results"]
    counts = _query(state, "select series, count(*) n from filings group by series")
    assert {item["value"]: item["count"] for item in facet} == {
        row["series"]: row["n"] for row in counts
    }
    assert page["filtered_table_rows_count"] == sum(row["n"] for row in counts)
    assert len(page["rows"]) == 5


def test_canned_queries(datasette: str, state: Path) -> None:
    per_batch = _get(
        f"{datasette}/cacwatch/new_registrants_per_batch.json?_shape=array"
    )
    by_sector = _get(f"{datasette}/cacwatch/filings_by_sector.json?_shape=array")

    expected = _query(
        state,
        "select first_batch_id, count(*) n from entities group by 1 order by 1 desc",
    )
    assert [(row["batch_id"], row["new_registrants"]) for row in per_batch] == [
        (row["first_batch_id"], row["n"]) for row in expected
    ]
    sectors = _query(
        state,
        "select c.sector, f.series, count(*) n from classifications c "
        "join filings f using (filing_key) group by 1, 2",
    )
    assert sorted(
        (row["sector"] or "", row["series"], row["filings"]) for row in by_sector
    ) == sorted((row["sector"] or "", row["series"], row["n"]) for row in sectors)
    assert len(by_sector) > 10


def test_the_metadata_is_served(datasette: str) -> None:
    served = _get(f"{datasette}/-/metadata.json")

    assert served["title"] == "cacwatch"
    tables = served["databases"]["cacwatch"]["tables"]
    assert (
        tables["filings"]["facets"]
        == METADATA["databases"]["cacwatch"]["tables"]["filings"]["facets"]
    )


def test_every_column_of_filings_and_events_is_described(state: Path) -> None:
    tables = METADATA["databases"]["cacwatch"]["tables"]

    for table in ("filings", "events"):
        stored = {row["name"] for row in _query(state, f"pragma table_info({table})")}
        exported = {column.name for column in TABLES[table]}
        assert set(tables[table]["columns"]) >= stored & exported
