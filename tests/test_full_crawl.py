"""A first ``cacwatch run`` on the whole replica: four series, CAC's stated totals."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from crawler.replica.lists import cancel_notices, genai_documents
from crawler.replica.series import load_timeline
from crawler.replica.server import Replica
from monitor.cli import cli
from tests.conftest import filing_key, read_list

# Later than every publication of the replica.
LATEST = dt.date(2026, 12, 31)

# The cumulative figures the official announcements state, as of the day
# they count to: (model filings 备案, app registrations 登记).
OFFICIAL = {
    "2024-12-31": (302, None),
    "2025-03-31": (346, 159),
    "2025-06-30": (439, 236),
    "2025-08-31": (538, 263),
    "2025-11-01": (611, 306),
    "2025-12-31": (748, 435),
}


@pytest.fixture(scope="module")
def full_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    state = tmp_path_factory.mktemp("full") / "state"
    with Replica(LATEST) as site:
        result = CliRunner().invoke(
            cli,
            [
                "run",
                "--site",
                site.base_url,
                "--beian",
                site.beian_url,
                "--state",
                str(state),
                "--delay",
                "0",
            ],
        )
    assert result.exit_code == 0, result.output
    assert "Initial load" in result.output
    return state


def _db(state: Path) -> sqlite_utils.Database:
    return sqlite_utils.Database(state / "cacwatch.db")


def test_every_series_is_read_whole(full_state: Path) -> None:
    db = _db(full_state)
    statuses = {
        (row["series"], row["status"])
        for row in db.query("select distinct series, status from batches")
    }

    assert statuses == {
        ("algorithm", "complete"),
        ("deep_synthesis", "complete"),
        ("generative_ai", "complete"),
        ("cancellation", "complete"),
    }


def test_a_list_linked_twice_has_one_name(full_state: Path) -> None:
    # The growing page links the 2025年8月 list as 「附件7：…」, its period's
    # announcement under a generic text; the batch is named as the list.
    names = {row["name"] for row in _db(full_state).query("select name from batches")}

    assert "生成式人工智能服务已备案和已登记信息（2025年8月）" in names
    assert not [name for name in names if name.startswith("附件")]


def test_stored_filings_are_those_of_the_lists(full_state: Path) -> None:
    expected: dict[str, set[str]] = {"algorithm": set(), "deep_synthesis": set()}
    for series in expected:
        for publication in load_timeline().series(series):
            for attachment in publication.attachments:
                expected[series] |= {
                    filing_key(row["备案编号"]) for row in read_list(attachment.path)
                }
    genai = {
        filing_key(str(row["filing_no"]))
        for document in genai_documents()
        for row in document.expected_rows()
    }
    cancelled = {
        filing_key(str(row["filing_no"]))
        for notice in cancel_notices()
        for row in notice.document.expected_rows()
    }
    db = _db(full_state)

    def stored(series: str) -> set[str]:
        return {
            row["filing_key"]
            for row in db.query(
                "select filing_key from filings where series = ?", [series]
            )
        }

    # A few numbers are on both an algorithm and a deep-synthesis list; the
    # filing belongs to the series that listed it first.
    assert stored("algorithm") | stored("deep_synthesis") == (
        expected["algorithm"] | expected["deep_synthesis"]
    )
    assert stored("algorithm") <= expected["algorithm"]
    assert stored("deep_synthesis") <= expected["deep_synthesis"]
    assert stored("generative_ai") == genai
    cancelled_rows = db.query(
        "select filing_key from filings where cancelled_batch_id is not null"
    )
    assert {row["filing_key"] for row in cancelled_rows} == cancelled


def test_every_official_total_is_matched_or_explained(full_state: Path) -> None:
    result = CliRunner().invoke(
        cli, ["reconcile", "--json", "--state", str(full_state)]
    )
    assert result.exit_code == 0, result.output
    checks = [json.loads(line) for line in result.output.splitlines()]

    cumulative = {
        (c["as_of"], c["record_type"]): c
        for c in checks
        if c["measure"] == "cumulative"
    }
    for as_of, (filings, registrations) in OFFICIAL.items():
        assert cumulative[(as_of, "filing")]["stated"] == filings
        if registrations is not None:
            assert cumulative[(as_of, "registration")]["stated"] == registrations

    for check in checks:
        if check["status"] == "match":
            assert check["counted"] == check["stated"]
            continue
        # Anything else says why, beyond restating the two numbers.
        assert check["status"] in ("mismatch", "source_inconsistent"), check
        reasons = check["explanation"].split("; ")[1:]
        if check["status"] == "mismatch":
            assert reasons, check

    by_key = {(c["as_of"], c["record_type"], c["measure"]): c for c in checks}
    assert by_key[("2025-11-01", "registration", "consistency")]["status"] == (
        "source_inconsistent"
    )
    assert (
        "263 (previous announcement) + 35 new = 298, stated 306"
        in (by_key[("2025-11-01", "registration", "consistency")]["explanation"])
    )
    # CAC's "2024年新增238" is three short of the rows dated 2024: three of
    # them are numbered among the 2023 filings.
    new_2024 = by_key[("2024-12-31", "filing", "new")]
    assert (new_2024["stated"], new_2024["counted"]) == (238, 241)
    assert "3 rows dated 2024 carry 序号 below 65" in new_2024["explanation"]


def test_the_text_report_shows_each_check(full_state: Path) -> None:
    result = CliRunner().invoke(cli, ["reconcile", "--state", str(full_state)])

    assert result.exit_code == 0
    lines = result.output.splitlines()
    stored = _db(full_state).execute("select count(*) from reconciliations").fetchone()
    assert len(lines) == stored[0]
    assert any("stated   748  counted   748  match" in line for line in lines)
