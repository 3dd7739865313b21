"""analyse(): classifications, watchlist hits and analytics events of a real update."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.stats import fisher_exact

from crawler.replica.lists import genai_documents
from monitor.analytics import analyse
from monitor.cli import cli
from monitor.diff import event_id
from monitor.events import ANALYTICS_EVENT_KINDS
from monitor.job import RunOutcome
from monitor.regions import region_by_name
from monitor.sectors import load_taxonomy
from monitor.store import Store
from monitor.watchlists import WatchlistError, load_watchlist, load_watchlists
from tests.conftest import AFTER, BEFORE

UPDATE = tuple[Path, RunOutcome]


def _events(state: Path, kind: str) -> list[dict[str, object]]:
    store = Store(state, readonly=True)
    return store.query("select * from events where kind = ? order by id", [kind])


def test_the_initial_load_classifies_everything_and_records_no_analytics_event(
    loaded_state: Path,
) -> None:
    store = Store(loaded_state, readonly=True)
    marks = ", ".join("?" for _ in ANALYTICS_EVENT_KINDS)

    assert store.scalar("select count(*) from classifications") == store.scalar(
        "select count(*) from filings"
    )
    assert store.scalar("select count(*) from watchlist_hits") > 0
    assert (
        store.scalar(
            f"select count(*) from events where kind in ({marks})",
            list(ANALYTICS_EVENT_KINDS),
        )
        == 0
    )


def test_each_new_filing_on_a_watchlist_is_one_event(updated_state: UPDATE) -> None:
    state, outcome = updated_state
    store = Store(state, readonly=True)
    new = {
        row["filing_key"]
        for row in store.query(
            "select filing_key from events where kind = 'new_filing' and run_id = ?",
            [outcome.run_id],
        )
    }
    expected = set()
    for watchlist in load_watchlists():
        for filing in store.query("select * from filings"):
            if filing["filing_key"] in new and watchlist.match(filing):
                expected.add(
                    event_id("watchlist_hit", f"{watchlist.id}\n{filing['filing_key']}")
                )

    events = _events(state, "watchlist_hit")

    assert expected
    assert {event["id"] for event in events} == expected
    payload = json.loads(str(events[0]["payload"]))
    assert {"watchlist", "evidence", "filing_no", "province_code"} <= set(payload)


def test_central_soe_filings_through_sasac_are_hits(updated_state: UPDATE) -> None:
    state, _ = updated_state
    store = Store(state, readonly=True)

    hits = store.query(
        "select f.filing_no, h.evidence from watchlist_hits h join filings f "
        "using (filing_key) where h.watchlist = 'central_soe' "
        "and f.filing_no like 'ZhongYangQiYe-%'"
    )
    sasac = store.scalar(
        "select count(*) from filings where filing_no like 'ZhongYangQiYe-%'"
    )

    assert sasac > 0
    assert len(hits) == sasac


def test_a_province_new_to_the_generative_ai_lists_is_a_first_appearance(
    updated_state: UPDATE,
) -> None:
    state, _ = updated_state
    # Read from the rows the lists were built from, not from the state.
    earlier: set[str] = set()
    latest: set[str] = set()
    for document in genai_documents():
        codes = set()
        for row in document.expected_rows():
            region = region_by_name(str(row["region"]))
            if region is not None:
                codes.add(region.code)
        if document.released <= BEFORE:
            earlier |= codes
        elif document.released <= AFTER:
            latest |= codes
    new_codes = latest - earlier

    events = [
        json.loads(str(event["payload"]))
        for event in _events(state, "first_appearance")
        if event["series"] == "generative_ai"
    ]

    assert new_codes
    assert {e["value"] for e in events if e["dimension"] == "province"} == new_codes


def test_flagged_shifts_pass_the_documented_test(updated_state: UPDATE) -> None:
    state, _ = updated_state
    shifts = [
        json.loads(str(event["payload"]))
        for kind in ("sector_shift", "province_shift", "role_shift")
        for event in _events(state, kind)
    ]

    assert shifts
    for shift in shifts:
        count, total = shift["count"], shift["total"]
        window, window_total = shift["window_count"], shift["window_total"]
        table = np.array([[count, total - count], [window, window_total - window]])
        p_value = float(fisher_exact(table).pvalue)
        change = 100 * count / total - 100 * window / window_total
        assert p_value < 0.01
        assert p_value == pytest.approx(shift["p_value"])
        assert abs(change) >= 5
        assert shift["change_pp"] == pytest.approx(round(change, 2))
        assert max(count, window) >= 5


def test_a_rerun_records_no_event_twice(updated_state: UPDATE, tmp_path: Path) -> None:
    state, outcome = updated_state
    copy = tmp_path / "state"
    shutil.copytree(state, copy)
    before = Store(copy, readonly=True).query("select id, kind from events order by id")

    store = Store(copy)
    try:
        again = analyse(store, outcome.run_id)
    finally:
        store.close()

    after = Store(copy, readonly=True).query("select id, kind from events order by id")
    assert again.events > 0
    assert after == before


def test_a_users_watchlist_is_matched(
    loaded_state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "mine.toml").write_text(
        'id = "mine"\nlabel = "Mine"\nnames = ["百度"]\n', encoding="utf-8"
    )
    state = tmp_path / "state"
    shutil.copytree(loaded_state, state)
    monkeypatch.setenv("CACWATCH_WATCHLISTS", str(lists))

    store = Store(state)
    try:
        analyse(store, "no-such-run")
        hits = store.query(
            "select f.entity_name from watchlist_hits h join filings f "
            "using (filing_key) where h.watchlist = 'mine'"
        )
    finally:
        store.close()

    assert hits
    assert all("百度" in hit["entity_name"] for hit in hits)
    listed = CliRunner().invoke(
        cli, ["watchlists", "--state", str(state), "--watchlist", "mine", "--json"]
    )
    assert len(listed.output.splitlines()) == len(hits)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('label = "no id"', "not a valid watchlist"),
        ('id = "x"\npatterns = ["("]', "not a valid watchlist"),
        ('id = "Not A Slug"', "short slug"),
        ("id = ", "cannot read the watchlist"),
    ],
)
def test_a_broken_watchlist_is_refused_by_name(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(WatchlistError, match=message):
        load_watchlist(path)


def test_a_missing_watchlist_path_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CACWATCH_WATCHLISTS", "/nonexistent/lists")

    with pytest.raises(WatchlistError, match="/nonexistent/lists"):
        load_watchlists()


def test_analytics_events_are_listed_by_kind(updated_state: UPDATE) -> None:
    state, _ = updated_state
    expected = len(_events(state, "watchlist_hit"))

    listed = CliRunner().invoke(
        cli, ["events", "--state", str(state), "--kind", "watchlist_hit"]
    )

    assert listed.exit_code == 0, listed.output
    assert len(listed.output.splitlines()) == expected


def test_a_classification_keeps_its_evidence(loaded_state: Path) -> None:
    store = Store(loaded_state, readonly=True)
    taxonomy = load_taxonomy()

    row = store.query(
        "select c.*, f.algorithm_name from classifications c join filings f "
        "using (filing_key) where f.algorithm_name like '%智能客服%' limit 1"
    )[0]

    evidence = json.loads(row["evidence"])
    assert row["sector"] == "customer_service"
    assert {"field": "algorithm_name", "keyword": "客服"} in evidence[
        "customer_service"
    ]
    assert row["classifier_version"] == taxonomy.version
    assert row["sector"] in json.loads(row["sectors"])


def test_a_broken_watchlist_stops_the_run_before_the_crawl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("id = ", encoding="utf-8")
    monkeypatch.setenv("CACWATCH_WATCHLISTS", str(broken))
    state = tmp_path / "state"

    result = CliRunner().invoke(cli, ["run", "--state", str(state)])

    assert result.exit_code == 1
    assert f"cannot read the watchlist {broken}" in result.output
    assert not state.exists()


def test_the_run_report_lists_shifts_and_watchlist_hits(updated_state: UPDATE) -> None:
    state, outcome = updated_state
    store = Store(state, readonly=True)
    counts = {
        row["kind"]: row["n"]
        for row in store.query(
            "select kind, count(*) n from events where run_id = ? group by kind",
            [outcome.run_id],
        )
    }
    hits = counts.get("watchlist_hit", 0)
    shifts = sum(counts.get(kind, 0) for kind in ANALYTICS_EVENT_KINDS) - hits

    assert hits
    assert shifts
    assert f"Watchlist hits ({hits})" in outcome.report
    assert f"Shifts and first appearances ({shifts})" in outcome.report
    summaries = store.query(
        "select summary from events where run_id = ? and kind = 'sector_shift'",
        [outcome.run_id],
    )
    for row in summaries:
        assert f"  ^ {row['summary']}" in outcome.report
