"""The readable report of one run, in English with the Chinese names."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit

from crawler.topics import DEEP_SYNTHESIS, FIXED_PAGES, SERIES_NOUNS, batch_number
from monitor.diff import (
    CANCELLATION_EVENT,
    CORRECTION,
    MODIFICATION,
    NEW_FILING,
    NEW_REGISTRANT,
    REISSUED_ATTACHMENT,
    REMOVED_FROM_LIST,
    DiffResult,
    display_name,
)
from monitor.events import ANALYTICS_EVENT_KINDS, KIND_LABELS, WATCHLIST_HIT
from monitor.fields import FIELDS
from monitor.numbers import RECORD_TYPE_LABELS
from monitor.reconcile import (
    CONSISTENCY,
    MATCH,
    MISMATCH,
    NOT_CHECKED,
    SOURCE_INCONSISTENT,
    Check,
)
from monitor.store import Store


def build_report(
    store: Store,
    run_id: str,
    site: str,
    diff: DiffResult,
    crawl: dict[str, Any],
    checks: list[Check] | None = None,
) -> str:
    """Return the text report of run *run_id*."""
    lines = [f"cacwatch run {run_id} — {site}"]
    if diff.baseline and diff.applied:
        lines.append(_initial_load_summary(store, diff))
    lines += _batches_section(store, run_id, diff)
    lines += _events_section(store, run_id)
    lines += _analytics_section(store, run_id)
    lines += reconciliation_lines(checks or [])
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


def _batches_section(store: Store, run_id: str, diff: DiffResult) -> list[str]:
    # From the state rather than from this process's diff: a run also reports
    # what an interrupted run before it applied.
    ids = [
        row["id"]
        for row in store.query("select id from batches where diff_run_id = ?", [run_id])
    ]
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
        label = SERIES_NOUNS.get(batch["series"], batch["series"])
        number = batch_number(batch["announcement_title"] or "")
        if batch["series"] == DEEP_SYNTHESIS and number:
            label = f"{label}, batch {number}"
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
    growing = urlsplit(batch["announcement_url"] or "").path in FIXED_PAGES.values()
    if not growing and batch["published"]:
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

    new_keys = {e["entity_key"] for e in events if e["kind"] == NEW_REGISTRANT}
    filings: dict[str, list[dict[str, Any]]] = defaultdict(list)
    names: dict[str, str] = {}
    cancelled = []
    edits: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        payload = json.loads(event["payload"])
        if event["kind"] in LIST_EDITS:
            edits[event["kind"]].append(payload)
        elif event["kind"] == NEW_FILING:
            # Grouped by registrant key, so spellings of one name stay together.
            filings[event["entity_key"]].append(payload)
            names.setdefault(event["entity_key"], payload["entity_name"])
        elif event["kind"] == CANCELLATION_EVENT:
            cancelled.append(payload)

    total = sum(len(items) for items in filings.values())
    known_keys = sorted(set(filings) - new_keys, key=lambda key: names[key])
    lines = [
        "",
        f"Summary: {_plural(total, 'new filing')}, "
        f"{_plural(len(new_keys), 'new registrant')}, "
        f"{_plural(len(cancelled), 'cancellation')}"
        + "".join(
            f", {len(edits[kind])} {KIND_LABELS[kind]}"
            for kind in LIST_EDITS
            if edits[kind]
        ),
    ]

    if not total:
        # Only changes to lists already published: no empty "new" sections.
        return lines + _cancelled_lines(cancelled) + _edits_lines(edits)

    new_filings = sum(len(filings[key]) for key in new_keys)
    lines += [
        "",
        f"New registrants ({len(new_keys)}, with {_plural(new_filings, 'filing')})",
    ]
    for key in sorted(new_keys, key=lambda key: names.get(key, key)):
        lines.append(f"  + {names.get(key, key)}")
        lines += [f"      {_filing_line(f)}" for f in filings[key]]

    known_filings = sum(len(filings[key]) for key in known_keys)
    lines += [
        "",
        f"New filings by known registrants ({known_filings}, "
        f"from {_plural(len(known_keys), 'registrant')})",
    ]
    for key in known_keys:
        lines.append(f"  * {names[key]}")
        lines += [f"      {_filing_line(f)}" for f in filings[key]]

    return lines + _cancelled_lines(cancelled) + _edits_lines(edits)


def _analytics_section(store: Store, run_id: str) -> list[str]:
    """Where the new filings moved the market, and who on a watchlist filed.

    ``cacwatch batch-report`` shows the same with the tables and charts.
    """
    marks = ", ".join("?" for _ in ANALYTICS_EVENT_KINDS)
    events = store.query(
        f"select kind, summary from events where run_id = ? and kind in ({marks}) "
        "order by batch_id, kind, id",
        [run_id, *ANALYTICS_EVENT_KINDS],
    )
    shifts = [e["summary"] for e in events if e["kind"] != WATCHLIST_HIT]
    hits = [e["summary"] for e in events if e["kind"] == WATCHLIST_HIT]

    lines = []
    if shifts:
        lines += ["", f"Shifts and first appearances ({len(shifts)})"]
        lines += [f"  ^ {summary}" for summary in shifts]
    if hits:
        lines += ["", f"Watchlist hits ({len(hits)})"]
        lines += [f"  @ {summary}" for summary in hits[:50]]
        if len(hits) > 50:
            lines.append(
                f"  … and {len(hits) - 50} more: cacwatch events --kind {WATCHLIST_HIT}"
            )
    return lines


def _cancelled_lines(cancelled: list[dict[str, Any]]) -> list[str]:
    if not cancelled:
        return []
    lines = ["", f"Cancelled filings ({len(cancelled)})"]
    for payload in cancelled:
        when = f", {payload['cancelled_on']}" if payload.get("cancelled_on") else ""
        lines.append(f"  - {payload['entity_name']}: {_filing_line(payload)}{when}")
    return lines


# Changes CAC made to lists it had already published, in report order.
LIST_EDITS = (MODIFICATION, CORRECTION, REMOVED_FROM_LIST, REISSUED_ATTACHMENT)
_EDIT_HEADINGS = {
    MODIFICATION: "Modified filings (变更, in re-issued lists)",
    CORRECTION: "Corrected filing numbers (备案编号更正)",
    REMOVED_FROM_LIST: "Removed from re-issued lists (清单删除, not cancellations)",
    REISSUED_ATTACHMENT: "Re-issued attachments that changed no filing (附件重新上传)",
}


def _edits_lines(edits: dict[str, list[dict[str, Any]]]) -> list[str]:
    lines: list[str] = []
    for kind in LIST_EDITS:
        if not edits[kind]:
            continue
        lines += ["", f"{_EDIT_HEADINGS[kind]} ({len(edits[kind])})"]
        lines += [f"  {_edit_line(kind, payload)}" for payload in edits[kind]]
    return lines


def _edit_line(kind: str, payload: dict[str, Any]) -> str:
    if kind == REISSUED_ATTACHMENT:
        added = payload["reissue"]["added"]
        what = f"{added} added, known from other lists" if added else "none changed"
        return f"• {payload['batch']} ({payload['row_count']} rows, {what})"
    where = f" (in {payload['batch']})"
    if kind == REMOVED_FROM_LIST:
        return f"x {payload['entity_name']}: {_filing_line(payload)}{where}"
    changes = "; ".join(
        f"{_FIELD_NAMES.get(c['field'], c['field'])}: "
        f"{c['before'] or '—'} → {c['after'] or '—'}"
        for c in payload["changes"]
    )
    mark = "≈" if kind == CORRECTION else "~"
    cancelled = " (marked cancelled)" if payload.get("cancellation_remark") else ""
    return (
        f"{mark} {payload['entity_name']}: {display_name(payload)} "
        f"[{payload['filing_no']}] — {changes}{cancelled}{where}"
    )


_FIELD_NAMES = {field.name: f"{field.label} {field.headers[0]}" for field in FIELDS}


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _filing_line(filing: dict[str, Any]) -> str:
    kind = filing.get("algorithm_category") or filing.get("role") or ""
    if filing.get("record_type"):
        kind = RECORD_TYPE_LABELS.get(filing["record_type"], kind)
    product = filing.get("product") or filing.get("region") or ""
    extra = "; ".join(part for part in (kind, product) if part and part != "--")
    return f"{display_name(filing)} [{filing['filing_no']}]" + (
        f" — {extra}" if extra else ""
    )


def reconciliation_lines(checks: list[Check]) -> list[str]:
    """The reconciliation of stated totals: a count, then every exception."""
    if not checks:
        return []
    stated = [c for c in checks if c.measure != CONSISTENCY]
    matched = sum(c.status == MATCH for c in stated)
    lines = [
        "",
        f"Reconciliation with CAC's stated totals: {matched} of {len(stated)} "
        "figures match the lists",
    ]
    for check in checks:
        if check.status == MATCH:
            continue
        what = f"{RECORD_TYPE_LABELS[check.record_type]}, {check.measure}"
        when = f" to {check.as_of}" if check.as_of else ""
        lines.append(
            f"  {STATUS_MARKS[check.status]} {check.announcement_title} "
            f"({what}{when}): {check.status} — {check.explanation}"
        )
    return lines


STATUS_MARKS = {MISMATCH: "!", NOT_CHECKED: "?", SOURCE_INCONSISTENT: "~"}


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
        f"select b.*, a.title as announcement_title from batches b "
        f"left join announcements a on a.url = b.announcement_url "
        f"where b.id in ({marks}) order by b.period, b.series, b.id",
        ids,
    )
