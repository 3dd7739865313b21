"""The main job end to end: crawl the replica, archive, parse, diff, report."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from crawler.replica.server import Replica
from monitor import diff as diff_module
from monitor.job import crawl, new_run_id, run_job
from monitor.store import Store
from tests.conftest import (
    AFTER,
    BATCHES_AFTER_LOAD,
    BATCHES_PER_SERIES,
    DIFF_EVENTS,
    attachment_file,
    diff_event_count,
    expected_changes,
    registrant_key,
    run,
)

NEW_LISTS = (
    "境内互联网信息服务算法备案清单（2026年5月）",
    "境内深度合成服务算法备案清单（2026年5月）",
)


def stored_events(state: Path) -> list[dict[str, Any]]:
    store = Store(state)
    try:
        return store.query(f"select * from events where {DIFF_EVENTS}")
    finally:
        store.close()


def test_initial_load_stores_every_list_and_no_events(loaded_state: Path) -> None:
    store = Store(loaded_state)
    try:
        batches = store.query("select series, status from batches")
        per_series = Counter(b["series"] for b in batches)
        assert per_series == BATCHES_PER_SERIES
        assert {b["status"] for b in batches} == {"complete"}
        assert store.scalar("select count(*) from events") == 0
        assert store.scalar("select kind from runs") == "initial_load"
        assert "Initial load" in store.scalar("select report from runs")
    finally:
        store.close()


def test_new_batch_yields_exactly_its_filings_and_new_registrants(
    replica: Replica, state: Path
) -> None:
    replica.as_of = AFTER
    outcome = run(replica, state)

    expected = expected_changes()
    events = stored_events(state)
    by_kind: dict[str, set[str]] = {}
    for event in events:
        key = event["entity_key"] if event["kind"] == "new_registrant" else None
        by_kind.setdefault(event["kind"], set()).add(
            registrant_key(key) if key else event["filing_key"]
        )
    series_filings = {
        series: {
            e["filing_key"]
            for e in events
            if e["kind"] == "new_filing" and e["series"] == series
        }
        for series in ("algorithm", "deep_synthesis", "generative_ai")
    }

    # Exactly the filings of the May algorithm list and of batch 17 …
    assert len(series_filings["algorithm"]) == 78
    assert len(series_filings["deep_synthesis"]) == 608
    assert series_filings["algorithm"] == expected.series_filings["algorithm"]
    assert series_filings["deep_synthesis"] == expected.series_filings["deep_synthesis"]
    # … those of the generative-AI list published on 2026-05-13, the
    # cancellations of 2026-05-06, and exactly the new registrants among them.
    assert series_filings["generative_ai"] == expected.series_filings["generative_ai"]
    assert by_kind["new_filing"] == expected.listed_filings
    assert by_kind["new_registrant"] == expected.registrants
    assert by_kind["cancellation"] == expected.cancellations
    assert len(events) == expected.event_count
    assert outcome.kind == "update"
    assert outcome.status == "ok"
    assert f"New registrants ({len(expected.registrants)}," in outcome.report
    assert "境内深度合成服务算法备案清单（2026年5月）" in outcome.report


def test_events_carry_provenance(replica: Replica, state: Path) -> None:
    replica.as_of = AFTER
    run(replica, state)

    event = next(
        e
        for e in stored_events(state)
        if e["kind"] == "new_filing" and e["series"] == "deep_synthesis"
    )
    payload = json.loads(str(event["payload"]))
    digest = payload["attachment_sha256"]
    title = payload["batch"]
    assert hashlib.sha256(attachment_file(title).read_bytes()).hexdigest() == digest
    assert payload["row"]["table"] == 0
    assert payload["row"]["row"] >= 1


def test_rerun_without_change_downloads_nothing_and_stores_no_event(
    replica: Replica, state: Path
) -> None:
    replica.as_of = AFTER
    run(replica, state)
    count = len(stored_events(state))
    downloads = len(replica.downloads())

    outcome = run(replica, state)

    assert len(replica.downloads()) == downloads
    assert len(stored_events(state)) == count
    assert outcome.kind == "no_change"
    assert outcome.events == 0


def test_reissued_attachment_is_a_new_version_and_no_new_filing(
    replica: Replica, state: Path
) -> None:
    title = "境内深度合成服务算法备案清单（2026年3月）"
    data = attachment_file(title).read_bytes()
    # Same list, new bytes: the file is rezipped, as a re-upload would be.
    replica.overrides[title] = _rezip(data)

    outcome = run_job(
        replica.base_url, state, beian=replica.beian_url, delay=0, refetch_days=0
    )

    store = Store(state)
    try:
        versions = store.query(
            "select v.sha256 from versions v "
            "join attachments a on a.id = v.attachment_id where a.name = ?",
            [title],
        )
        assert len(versions) == 2
        # New bytes, no row changed: one trace of the re-upload, nothing new.
        kinds = [row["kind"] for row in store.query("select kind from events")]
        assert kinds == ["reissued_attachment"]
    finally:
        store.close()
    assert outcome.kind == "update"
    assert f"{title} — " in outcome.report
    assert "re-issued by CAC: no row changed" in outcome.report


def test_crash_during_diff_then_rerun_gives_same_events_once(
    replica: Replica, state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replica.as_of = AFTER
    real_apply = diff_module._apply_batch
    calls = {"n": 0}

    def crash_on_second(*args: object, **kwargs: object) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("simulated crash")
        return real_apply(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(diff_module, "_apply_batch", crash_on_second)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(replica, state)
    monkeypatch.undo()

    run(replica, state)
    run(replica, state)

    events = stored_events(state)
    assert len(events) == expected_changes().event_count
    assert len({e["id"] for e in events}) == len(events)


def test_crash_after_crawl_before_parse_is_finished_by_rerun(
    replica: Replica, state: Path
) -> None:
    replica.as_of = AFTER
    crawl(
        replica.base_url,
        state,
        new_run_id(),
        beian=replica.beian_url,
        delay=0,
        refetch_days=7,
        log_level="WARNING",
    )

    outcome = run(replica, state)

    assert diff_event_count(state, outcome.run_id) == expected_changes().event_count


def test_download_refused_for_referer_is_a_named_failure_never_an_empty_batch(
    replica: Replica, state: Path
) -> None:
    replica.as_of = AFTER
    # The site accepts only its own pages as Referer; ours does not count.
    replica.referer_prefix = "https://www.cac.gov.cn/"

    outcome = run(replica, state)

    store = Store(state)
    try:
        failures = store.query(
            "select f.status, a.name from fetches f"
            " join attachments a on a.id = f.attachment_id where f.status != 'ok'"
        )
        assert {f["status"] for f in failures} == {"empty_body"}
        # Every download of the month fails: the algorithm and deep-synthesis
        # lists, the generative-AI list and the cancellation notice.
        assert len(failures) == 4
        assert {f["name"] for f in failures} >= set(NEW_LISTS)
        assert store.scalar("select count(*) from batches") == BATCHES_AFTER_LOAD
        assert store.scalar("select count(*) from events") == 0
    finally:
        store.close()
    assert outcome.status == "partial"
    assert "empty_body" in outcome.report

    # Once the site answers again, the same lists arrive as new.
    replica.referer_prefix = None
    again = run(replica, state)
    assert diff_event_count(state, again.run_id) == expected_changes().event_count


def test_blocked_site_is_recorded_and_nothing_is_diffed(
    replica: Replica, state: Path
) -> None:
    replica.as_of = AFTER
    replica.blocked = True

    outcome = run(replica, state)

    assert outcome.status == "blocked"
    assert outcome.events == 0
    store = Store(state)
    try:
        assert store.scalar("select count(*) from batches") == BATCHES_AFTER_LOAD
        statuses = {
            row["status"]
            for row in store.query("select status from fetches where status != 'ok'")
        }
        assert statuses == {"blocked"}
    finally:
        store.close()


def _rezip(data: bytes) -> bytes:
    import io
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
    return out.getvalue()
