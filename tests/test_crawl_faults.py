"""Crawl faults end to end: the replica misbehaves, the stored state says so.

Each test starts from the state after the initial load (2026-04-30), turns on
one fault mode of the replica, runs the whole job, and checks what the state
database recorded.
"""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from crawler.replica.server import Replica
from monitor.job import RunOutcome, run_job
from monitor.store import Store
from tests.conftest import (
    AFTER,
    BATCHES_AFTER_LOAD,
    DIFF_EVENTS,
    attachment_file,
    expected_changes,
    registrant_key,
    run,
)
from tests.test_monitor_run import NEW_LISTS

DOWNLOAD = "/cms/pub/interact/downloadfile.jsp"
FILES = "/cms/files/"
BATCH_16_LIST = "境内深度合成服务算法备案清单（2026年3月）"


def query(state: Path, sql: str, params: Any = None) -> list[dict[str, Any]]:
    store = Store(state)
    try:
        return store.query(sql, params)
    finally:
        store.close()


def run_rows(state: Path, outcome: RunOutcome) -> dict[str, Any]:
    [row] = query(state, "select * from runs where id = ?", [outcome.run_id])
    return row


def run_fetches(state: Path, outcome: RunOutcome) -> list[dict[str, Any]]:
    return query(
        state, "select * from fetches where run_id = ? order by id", [outcome.run_id]
    )


def assert_expected_events(state: Path) -> None:
    """The stored events are exactly the changes of May 2026."""
    expected = expected_changes()
    events = query(
        state, f"select kind, filing_key, entity_key from events where {DIFF_EVENTS}"
    )
    new_filings = {e["filing_key"] for e in events if e["kind"] == "new_filing"}
    new_registrants = {
        registrant_key(e["entity_key"]) for e in events if e["kind"] == "new_registrant"
    }
    cancelled = {e["filing_key"] for e in events if e["kind"] == "cancellation"}
    assert new_filings == expected.listed_filings
    assert new_registrants == expected.registrants
    assert cancelled == expected.cancellations
    assert len(events) == expected.event_count


def count(state: Path, table: str) -> int:
    return int(query(state, f"select count(*) n from {table}")[0]["n"])


def assert_nothing_new(state: Path) -> None:
    assert count(state, "batches") == BATCHES_AFTER_LOAD
    assert count(state, "events") == 0


def assert_only_cancellations_arrived(state: Path) -> None:
    """Nothing came from www.cac.gov.cn; beian.cac.gov.cn, unharmed, delivered.

    Redirects and robots.txt rules act on the www host. The cancellation
    notice of May 2026 comes from the beian host and is diffed: its batch is
    complete whatever happened to the other series.
    """
    assert count(state, "batches") == BATCHES_AFTER_LOAD + 1
    events = query(state, "select kind, filing_key from events")
    assert {e["kind"] for e in events} == {"cancellation"}
    assert {e["filing_key"] for e in events} == expected_changes().cancellations


def www_fetches(
    replica: Replica, state: Path, outcome: RunOutcome
) -> list[dict[str, Any]]:
    return [
        f for f in run_fetches(state, outcome) if f["url"].startswith(replica.base_url)
    ]


# --- attachment behind a 302 -----------------------------------------


def test_redirected_downloads_are_archived_with_link_and_final_url(
    replica: Replica, state: Path
) -> None:
    replica.as_of = AFTER
    replica.redirect_downloads = True

    outcome = run(replica, state)

    assert outcome.status == "ok"
    assert_expected_events(state)
    # The algorithm and deep-synthesis lists and the generative-AI list.
    fetches = [
        f for f in www_fetches(replica, state, outcome) if f["target"] == "attachment"
    ]
    assert len(fetches) == 3
    for fetch in fetches:
        assert fetch["status"] == "ok"
        assert urlsplit(fetch["url"]).path == DOWNLOAD
        assert urlsplit(fetch["final_url"]).path.startswith(FILES)
        assert fetch["final_url"].endswith((".docx", ".pdf"))
    digests = {f["sha256"] for f in fetches}
    expected = {
        hashlib.sha256(attachment_file(t).read_bytes()).hexdigest() for t in NEW_LISTS
    }
    assert digests > expected

    assert [r.status for r in replica.downloads()] == [302, 302, 302]
    # Scrapy's RedirectMiddleware swaps the Referer for the URL that redirected,
    # and the site, which wants one, still gets one.
    files = [r for r in replica.requests if r.path.startswith(FILES)]
    assert len(files) == 3
    for request in files:
        assert request.status == 200
        referer = request.headers.get("Referer", "")
        assert referer.startswith(replica.base_url + DOWNLOAD)


# --- Ruishu-style challenge ------------------------------------------


@pytest.mark.parametrize(
    ("status", "with_200"), [(412, False), (None, True)], ids=["412", "200"]
)
def test_challenge_blocks_the_run_then_the_next_run_catches_up(
    replica: Replica, state: Path, status: int | None, with_200: bool
) -> None:
    replica.as_of = AFTER
    replica.challenge_status = status
    replica.challenge_with_200 = with_200
    announcements = count(state, "announcements")

    outcome = run(replica, state)

    assert outcome.status == "blocked"
    assert outcome.events == 0
    assert_nothing_new(state)
    fetches = run_fetches(state, outcome)
    assert fetches
    assert {f["status"] for f in fetches} == {"blocked"}
    assert {f["target"] for f in fetches} == {"page"}
    assert {f["http_status"] for f in fetches} == {status or 200}
    assert any(urlsplit(f["url"]).path == "/cms/JsonList" for f in fetches)
    assert run_rows(state, outcome)["status"] == "blocked"
    assert "blocked" in outcome.report
    assert replica.downloads() == []
    # Nothing was read out of a challenge body.
    assert count(state, "announcements") == announcements

    replica.challenge_status = None
    replica.challenge_with_200 = False
    again = run(replica, state)

    assert again.status == "ok"
    assert_expected_events(state)


# --- robots.txt forbids the downloads --------------------------------


def test_robots_forbidding_downloads_is_reported_not_silent(
    replica: Replica, state: Path
) -> None:
    replica.as_of = AFTER
    replica.robots_disallow = ["/cms/"]

    outcome = run(replica, state)

    assert replica.downloads() == []
    assert_only_cancellations_arrived(state)
    assert outcome.status == "partial"
    assert "forbidden by robots.txt" in outcome.report
    # Every request robots.txt stopped (the three new lists, and the JsonList,
    # which lives under /cms/ too) has a failed fetch of its own.
    fetches = www_fetches(replica, state, outcome)
    stats = json.loads(run_rows(state, outcome)["stats"])
    assert stats["crawl"]["robots_forbidden"] == len(fetches) >= 4
    assert all(f["status"] != "ok" for f in fetches)
    attachments = [f for f in fetches if f["target"] == "attachment"]
    assert len(attachments) == 3


def test_robots_refusal_is_not_recorded_as_a_network_error(
    replica: Replica, state: Path
) -> None:
    # A request robots.txt forbids is never sent; "network_error" (timeouts,
    # refused or cut connections) sends an operator after the wrong problem.
    replica.as_of = AFTER
    replica.robots_disallow = ["/cms/"]

    outcome = run(replica, state)

    statuses = {f["status"] for f in www_fetches(replica, state, outcome)}
    assert statuses
    assert statuses.isdisjoint({"ok", "network_error"})


# --- connection lost mid-download ------------------------------------


def test_truncated_downloads_are_never_archived_and_retried_next_run(
    replica: Replica, state: Path
) -> None:
    replica.as_of = AFTER
    replica.truncate_downloads = True

    outcome = run(replica, state)

    assert outcome.status == "partial"
    assert_nothing_new(state)
    # Both hosts cut the connection: the three lists of www.cac.gov.cn and the
    # cancellation notice of beian.cac.gov.cn.
    failed = [f for f in run_fetches(state, outcome) if f["target"] == "attachment"]
    assert len(failed) == 4
    assert {f["status"] for f in failed} == {"network_error"}
    assert all(f["sha256"] is None for f in failed)
    new_versions = query(
        state, "select * from versions where run_id = ?", [outcome.run_id]
    )
    assert new_versions == []
    # Data loss is retried before it is given up on.
    assert len(replica.downloads()) > len(failed)
    assert "network_error" in outcome.report

    replica.truncate_downloads = False
    again = run(replica, state)

    assert again.status == "ok"
    assert_expected_events(state)


# --- two notices link one file ---------------------------------------


def test_file_linked_from_two_notices_is_archived_once_and_adds_no_event(
    replica: Replica, state: Path
) -> None:
    replica.as_of = AFTER
    replica.duplicate_link = True

    outcome = run(replica, state)

    assert outcome.status == "ok"
    assert_expected_events(state)

    digest = hashlib.sha256(attachment_file(BATCH_16_LIST).read_bytes()).hexdigest()
    linked = query(
        state,
        "select a.announcement_url, a.url from versions v "
        "join attachments a on a.id = v.attachment_id where v.sha256 = ?",
        [digest],
    )
    assert len(linked) == 2
    assert len({urlsplit(a["announcement_url"]).path for a in linked}) == 2
    # Both notices link the file by the same URL.
    assert len({urlsplit(a["url"])[2:4] for a in linked}) == 1

    assert len(query(state, "select * from blobs where sha256 = ?", [digest])) == 1
    assert len(list((state / "archive").rglob(f"{digest}*"))) == 1
    events = query(
        state,
        "select e.id from events e join batches b on b.id = e.batch_id "
        "where b.sha256 = ?",
        [digest],
    )
    assert events == []
    assert f"the same file as {BATCH_16_LIST}, linked from another notice" in (
        outcome.report
    )


def test_an_unreachable_filing_system_is_a_failure_of_the_run(
    replica: Replica, state: Path
) -> None:
    # The CAC site answers; the filing system, with the cancellation notices,
    # does not: the run goes on and says what it could not read.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"

    outcome = run_job(replica.base_url, state, beian=closed, delay=0)

    assert outcome.status == "partial"
    failures = query(
        state,
        "select url, status from fetches where run_id = ? and status != 'ok'",
        [outcome.run_id],
    )
    assert failures == [{"url": f"{closed}/api/notice/list", "status": "network_error"}]
    assert "network_error" in outcome.report
    assert f"{closed}/api/notice/list" in outcome.report
