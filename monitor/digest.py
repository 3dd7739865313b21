"""The text of a digest: what one batch brought, for one subscription.

A digest is built from stored events only, so after a crash it is rebuilt
word for word from the state.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Any

from crawler.topics import DEEP_SYNTHESIS, SERIES_NOUNS, batch_number
from monitor.events import (
    CANCELLATION_EVENT,
    CORRECTION,
    FIRST_APPEARANCE,
    MODIFICATION,
    NEW_FILING,
    NEW_REGISTRANT,
    PROVINCE_SHIFT,
    REISSUED_ATTACHMENT,
    REMOVED_FROM_LIST,
    ROLE_SHIFT,
    SECTOR_SHIFT,
    WATCHLIST_HIT,
)
from monitor.store import Store

# Lines of events in the body of one digest; the rest are counted.
MAX_LINES = 200

_PLURALS = {
    NEW_FILING: ("new filing", "new filings"),
    NEW_REGISTRANT: ("new registrant", "new registrants"),
    CANCELLATION_EVENT: ("cancellation", "cancellations"),
    MODIFICATION: ("modification", "modifications"),
    CORRECTION: ("corrected number", "corrected numbers"),
    REMOVED_FROM_LIST: ("removal from a list", "removals from lists"),
    REISSUED_ATTACHMENT: ("re-issued list", "re-issued lists"),
    SECTOR_SHIFT: ("sector shift", "sector shifts"),
    PROVINCE_SHIFT: ("province shift", "province shifts"),
    ROLE_SHIFT: ("role shift", "role shifts"),
    FIRST_APPEARANCE: ("first appearance", "first appearances"),
    WATCHLIST_HIT: ("watchlist hit", "watchlist hits"),
}
_HEADINGS = {
    NEW_REGISTRANT: "New registrants",
    NEW_FILING: "New filings",
    CANCELLATION_EVENT: "Cancelled filings",
}
_MARKS = {NEW_REGISTRANT: "+", NEW_FILING: "*", CANCELLATION_EVENT: "-"}


@dataclass(frozen=True)
class Digest:
    key: str  # the identity of the digest: subscription and batch
    subject: str
    body: str
    events: list[dict[str, Any]]


def digest_key(subscription: str, batch_id: int) -> str:
    """Deterministic identity of the digest of *batch_id* for *subscription*."""
    raw = f"digest\n{subscription}\n{batch_id}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def batch_info(store: Store, batch_id: int) -> dict[str, Any]:
    rows = store.query(
        "select b.id, b.name, b.series, b.period, b.published, b.announcement_url, "
        "a.title from batches b left join announcements a "
        "on a.url = b.announcement_url where b.id = ?",
        [batch_id],
    )
    return rows[0] if rows else {"id": batch_id, "series": "", "name": None}


def count_phrase(events: list[dict[str, Any]]) -> str:
    """「608 new filings, 401 new registrants」 from the kinds of *events*."""
    counts = Counter(event["kind"] for event in events)
    order = [*_PLURALS, *sorted(set(counts) - set(_PLURALS))]
    parts = []
    for kind in order:
        if counts[kind]:
            one, many = _PLURALS.get(kind, (kind.replace("_", " "),) * 2)
            parts.append(f"{counts[kind]} {one if counts[kind] == 1 else many}")
    return ", ".join(parts) or "no events"


def batch_label(batch: dict[str, Any]) -> str:
    """「Deep-synthesis batch 17」 or 「Algorithm filings 2026-05」."""
    noun = SERIES_NOUNS.get(batch["series"], batch["series"] or "list")
    number = batch_number(batch.get("title") or "")
    if batch["series"] == DEEP_SYNTHESIS and number is not None:
        return f"Deep-synthesis batch {number}"
    label = noun[0].upper() + noun[1:]
    return f"{label} {batch['period']}" if batch.get("period") else label


def build_digest(
    store: Store, subscription: str, batch_id: int, events: list[dict[str, Any]]
) -> Digest:
    batch = batch_info(store, batch_id)
    counts = count_phrase(events)
    subject = f"{batch_label(batch)}: {counts}"
    key = digest_key(subscription, batch_id)

    lines = [batch.get("name") or batch_label(batch)]
    facts = [SERIES_NOUNS.get(batch["series"], batch["series"])]
    if batch.get("published"):
        facts.append(f"published {batch['published'][:10]}")
    if batch.get("period"):
        facts.append(f"period {batch['period']}")
    lines.append(", ".join(facts))
    if batch.get("title"):
        lines.append(f"Announcement: {batch['title']}")
    if batch.get("announcement_url"):
        lines.append(batch["announcement_url"])
    lines += ["", f"{counts} (subscription {subscription})"]
    lines += _event_lines(events)
    lines += ["", f"Digest {key}"]
    return Digest(key, subject, "\n".join(lines) + "\n", events)


def _event_lines(events: list[dict[str, Any]]) -> list[str]:
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for event in sorted(events, key=lambda e: (e["filing_key"] or "", e["id"])):
        by_kind.setdefault(event["kind"], []).append(event)

    lines: list[str] = []
    shown = 0
    for kind in [*_HEADINGS, *sorted(set(by_kind) - set(_HEADINGS))]:
        group = by_kind.get(kind, [])
        if not group:
            continue
        heading = _HEADINGS.get(kind, kind.replace("_", " ").capitalize())
        lines += ["", f"{heading} ({len(group)})"]
        for event in group:
            if shown == MAX_LINES:
                break
            lines.append(f"  {_MARKS.get(kind, '~')} {event['summary']}")
            shown += 1

    hidden = len(events) - shown
    if hidden:
        lines += ["", f"… and {hidden} more: cacwatch events --json lists them all"]
    return lines
