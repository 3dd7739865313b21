"""The readable report of one run, in English with the Chinese names."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from crawler.topics import ALGORITHM, SERIES_LABELS
from monitor.diff import NEW_FILING, NEW_REGISTRANT, DiffResult
from monitor.store import Store


def build_report(
    store: Store, run_id: str, site: str, diff: DiffResult, crawl: dict[str, Any]
) -> str:
    """Return the text report of run *run_id*."""
    lines = [f"cacwatch run {run_id} — {site}"]
    if diff.baseline and diff.applied:
        lines.append(_initial_load_summary(store, diff))
    lines += _batches_section(store, diff)
    lines += _events_section(store, run_id)
    lines += _problems_section(store, run_id, diff, crawl)
    return "\n".join(lines).rstrip() + "\n"


def _initial_load_summary(store: Store, diff: DiffResult) -> str:
    filings = store.scalar("select count(*) from filings")
    entities = store.scalar("select count(*) from entities")
    return (
        f"\nInitial load: {len(diff.applied)} lists, {filings} filings from "
        f"{entities} registrants stored as the starting point. Changes are "
        "reported from the next run on."
    )


def _batches_section(store: Store, diff: DiffResult) -> list[str]:
    ids = diff.applied + diff.backfilled
    if not ids:
        return ["", "No new lists."]

    lines = ["", "New lists"]
    for batch in _batches(store, ids):
        new = store.scalar(
            "select count(*) from events where batch_id = ? and kind = ?",
            [batch["id"], NEW_FILING],
        )
        registrants = store.scalar(
            "select count(*) from events where batch_id = ? and kind = ?",
            [batch["id"], NEW_REGISTRANT],
        )
        label = SERIES_LABELS.get(batch["series"], batch["series"])
        note = ""
        if batch["id"] in diff.notes:
            note = f" ({diff.notes[batch['id']]})"
        elif batch["id"] in diff.backfilled:
            note = (
                " (an older list seen for the first time: stored, not reported as new)"
            )
        elif diff.baseline:
            note = " (initial load)"
        lines.append(
            f"  • {batch['name']} — {label}{_dated(store, batch)}: "
            f"{batch['row_count']} rows, "
            f"{new} new filings, {registrants} new registrants{note}"
        )
    return lines


def _dated(store: Store, batch: dict[str, Any]) -> str:
    """When a list came out: its notice's date, or, on a page that grows in
    place (whose date is that of its first list), when cacwatch first saw it."""
    if batch["series"] != ALGORITHM and batch["published"]:
        return f", published {batch['published'][:10]}"
    seen = store.scalar(
        "select first_seen from versions where attachment_id = ? and sha256 = ?",
        [batch["attachment_id"], batch["sha256"]],
    )
    return f", first seen {seen[:10]}" if seen else ""


def _events_section(store: Store, run_id: str) -> list[str]:
    events = store.query(
        "select * from events where run_id = ? order by batch_id, id", [run_id]
    )
    if not events:
        return []

    registrants = [e for e in events if e["kind"] == NEW_REGISTRANT]
    filings = [
        json.loads(e["payload"]) | {"series": e["series"]}
        for e in events
        if e["kind"] == NEW_FILING
    ]
    by_entity: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for filing in filings:
        by_entity[filing["entity_name"]].append(filing)

    lines = ["", f"New registrants ({len(registrants)})"]
    for event in registrants:
        name = json.loads(event["payload"])["entity_name"]
        lines.append(f"  + {name}")
        lines += [f"      {_filing_line(f)}" for f in by_entity.get(name, [])]

    known = [f for f in filings if f["registrant"] == "known"]
    lines += ["", f"New filings by known registrants ({len(known)})"]
    known_by_entity: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for filing in known:
        known_by_entity[filing["entity_name"]].append(filing)
    for name, items in sorted(known_by_entity.items()):
        lines.append(f"  * {name}")
        lines += [f"      {_filing_line(f)}" for f in items]
    return lines


def _filing_line(filing: dict[str, Any]) -> str:
    kind = filing.get("algorithm_category") or filing.get("role") or ""
    product = filing.get("product") or ""
    extra = "; ".join(part for part in (kind, product) if part and part != "--")
    return f"{filing['algorithm_name']} [{filing['filing_no']}]" + (
        f" — {extra}" if extra else ""
    )


def _problems_section(
    store: Store, run_id: str, diff: DiffResult, crawl: dict[str, Any]
) -> list[str]:
    lines = []
    failures = store.query(
        "select target, url, status, http_status, message from fetches "
        "where run_id = ? and status != 'ok' order by id",
        [run_id],
    )
    for failure in failures:
        code = f" HTTP {failure['http_status']}" if failure["http_status"] else ""
        lines.append(
            f"  ! {failure['target']} download failed "
            f"({failure['status']}{code}): {failure['url']}"
        )

    forbidden = crawl.get("robots_forbidden")
    if forbidden:
        lines.append(f"  ! {forbidden} requests not made: forbidden by robots.txt")

    for batch in _batches(store, diff.held):
        lines.append(
            f"  ! {batch['name']} not compared ({batch['status']}): {batch['message']}"
        )

    return ["", "Problems", *lines] if lines else []


def _batches(store: Store, ids: list[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    return store.query(
        f"select * from batches where id in ({marks}) order by period, series, id", ids
    )
