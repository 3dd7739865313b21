"""Compare new batches with the stored state and record what changed as events.

How a batch is applied depends on its list kind (``crawler.topics``,
``docs/series.md``). An **increment** adds filings and never repeats the
whole register: a filing missing from a later list is not a removal, and only
filing numbers never seen before produce events. A **relist** repeats a year
already published and produces none. A **cancellation** notice marks the
filings it names. What each kind means is stated once, in
``monitor.semantics``.

An attachment that CAC re-issues with new bytes is parsed as a batch of its
own and compared row by row with the previous version (``monitor.reissue``):
``modification``, ``correction`` and ``removed_from_list`` events, or one
``reissued_attachment`` event when the new bytes change no row.

The first run on an empty state is an *initial load*: it fills the state and
records no per-filing events, since every filing ever published would
otherwise be "new".
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from crawler.topics import (
    ALGORITHM,
    CANCELLATION,
    DEEP_SYNTHESIS,
    GENERATIVE_AI,
    RELIST,
)
from monitor.entities import (
    RENAME_REMARK,
    RENAMED_FILING,
    link_branches,
    record_alias,
    renames_in_note,
)
from monitor.events import (
    CANCELLATION_EVENT,
    CORRECTION,
    EVENT_KINDS,
    MODIFICATION,
    NEW_FILING,
    NEW_REGISTRANT,
    REISSUED_ATTACHMENT,
    REMOVED_FROM_LIST,
    display_name,
    event_id,
    filing_payload,
    make_event,
    store_events,
)
from monitor.filings import NOTICE, add_cancel_source, cancel_sources, insert_filing
from monitor.reissue_apply import apply_reissue, good_rows, previous_version
from monitor.semantics import semantics_of
from monitor.store import Store, now

logger = logging.getLogger(__name__)

# Re-exported: the kinds and the id scheme are part of this module's contract.
__all__ = [
    "CANCELLATION_EVENT",
    "CORRECTION",
    "EVENT_KINDS",
    "MODIFICATION",
    "NEW_FILING",
    "NEW_REGISTRANT",
    "REISSUED_ATTACHMENT",
    "REMOVED_FROM_LIST",
    "DiffResult",
    "diff_pending",
    "display_name",
    "event_id",
]

# Order in which the batches of one period are applied, so that the first
# sighting of a registrant is attributed the same way on every machine;
# cancellations come last, after the lists that hold the filings they end.
SERIES_ORDER = {ALGORITHM: 0, DEEP_SYNTHESIS: 1, GENERATIVE_AI: 2, CANCELLATION: 3}


@dataclass
class DiffResult:
    """What one diff pass did."""

    baseline: bool
    applied: list[int] = field(default_factory=list)
    backfilled: list[int] = field(default_factory=list)
    # Applied batches that are not news, and why: a file already read under
    # another link, or new bytes for a list already read.
    notes: dict[int, str] = field(default_factory=dict)
    held: list[int] = field(default_factory=list)
    events: int = 0


def in_baseline_mode(store: Store) -> bool:
    """True until a run has finished an initial load."""
    done = store.scalar(
        "select count(*) from runs "
        "where kind = 'initial_load' and finished_at is not null"
    )
    return not done


def diff_pending(store: Store, run_id: str) -> DiffResult:
    """Apply every complete, not yet diffed batch to the state, oldest first."""
    result = DiffResult(baseline=in_baseline_mode(store))
    pending = store.query(
        "select * from batches where diffed_at is null order by period, id"
    )
    pending.sort(
        key=lambda b: (b["period"] or "", SERIES_ORDER.get(b["series"], 9), b["id"])
    )

    for batch in pending:
        if batch["status"] != "complete":
            # Never diff a list we could not read whole: missing rows would be
            # taken for facts.
            result.held.append(batch["id"])
            continue

        _apply(store, batch, run_id, result)

    link_branches(store)

    logger.info(
        "Diffed %d batches (%d events, %d held)",
        len(result.applied) + len(result.backfilled),
        result.events,
        len(result.held),
    )
    return result


def _apply(
    store: Store, batch: dict[str, Any], run_id: str, result: DiffResult
) -> None:
    """Apply one complete batch in one transaction, as its list kind says."""
    semantics = semantics_of(batch["list_kind"])
    previous = previous_version(store, batch) if semantics.compares_reissues else None
    backfill = not result.baseline and previous is None and _is_backfill(store, batch)
    note = _known_file_note(store, batch)
    if batch["list_kind"] == RELIST:
        note = "a relist of a whole year: its filings are not news"
    quiet = result.baseline or backfill

    with store.transaction():
        if semantics.cancels:
            created = _apply_cancellations(store, batch, run_id, emit=not quiet)
        else:
            created = 0
            if previous is not None:
                created, counts = apply_reissue(
                    store, batch, previous, run_id, emit=not quiet
                )
                note = f"{note}: {_describe(counts)}"
            emit = not quiet and semantics.announces_filings
            created += _apply_batch(store, batch, run_id, emit=emit)
        store.db.table("batches").update(
            batch["id"],
            {
                "diffed_at": now(),
                "diff_run_id": run_id,
                "baseline": int(result.baseline),
            },
        )

    if note:
        result.notes[batch["id"]] = note
    result.events += created
    (result.backfilled if backfill else result.applied).append(batch["id"])


def _known_file_note(store: Store, batch: dict[str, Any]) -> str | None:
    """Say why an applied batch is not a new list, if it is not."""
    earlier = store.query(
        "select name, sha256, attachment_id from batches "
        "where diffed_at is not null and id != ? and (sha256 = ? or attachment_id = ?) "
        "order by id limit 1",
        [batch["id"], batch["sha256"], batch["attachment_id"]],
    )
    if not earlier:
        return None
    if earlier[0]["sha256"] == batch["sha256"]:
        return f"the same file as {earlier[0]['name']}, linked from another notice"
    return "new bytes for a list already read, re-issued by CAC"


def _describe(counts: dict[str, int]) -> str:
    parts = [f"{n} {what}" for what, n in counts.items() if n]
    return ", ".join(parts) or "no row changed"


def _apply_cancellations(
    store: Store, batch: dict[str, Any], run_id: str, *, emit: bool
) -> int:
    """Mark the filings a cancellation notice names as cancelled."""
    rows = good_rows(store, batch["id"])
    stamp = now()
    events = []
    for row in rows:
        known = store.scalar(
            "select 1 from filings where filing_key = ?", [row["filing_key"]]
        )
        if not known:
            # Cancelled before cacwatch saw it listed: keep what the notice says.
            insert_filing(store, row, batch, stamp)
        # One cancellation event per filing: a notice after another notice is
        # corroboration. A 已注销 remark never made an event of its own (it is
        # a modification), so the first notice still announces the end.
        by_notice = any(
            s["source"] == NOTICE for s in cancel_sources(store, row["filing_key"])
        )
        add_cancel_source(store, row["filing_key"], NOTICE, batch, row["cancelled_on"])
        if emit and not by_notice:
            events.append(
                _event(CANCELLATION_EVENT, row["filing_key"], run_id, batch, row)
            )

    return store_events(store, events)


def _is_backfill(store: Store, batch: dict[str, Any]) -> bool:
    """True for a list older than one already applied in its series.

    Such a list was missed earlier (a failed download, a late first crawl) and
    its filings are history, not news.
    """
    newest = store.scalar(
        "select max(period) from batches where series = ? and diffed_at is not null "
        "and attachment_id != ?",
        [batch["series"], batch["attachment_id"]],
    )
    return bool(newest and batch["period"] and batch["period"] < newest)


def _apply_batch(
    store: Store, batch: dict[str, Any], run_id: str, *, emit: bool
) -> int:
    rows = good_rows(store, batch["id"])
    stamp = now()
    events: list[dict[str, Any]] = []
    filings = store.db.table("filings")

    for row in rows:
        known_entity, first_here = _touch_entity(store, row, batch["id"], run_id, stamp)
        for old_name, _ in renames_in_note(row["note"]):
            record_alias(
                store,
                old_name,
                row["entity_key"],
                RENAME_REMARK,
                batch["id"],
                row["filing_key"],
            )
        listed_as = store.scalar(
            "select entity_key from filings where filing_key = ?", [row["filing_key"]]
        )
        if listed_as is not None:
            if listed_as != row["entity_key"]:
                # One filing under a new name: the registrant was renamed.
                old_name = store.scalar(
                    "select entity_name from filings where filing_key = ?",
                    [row["filing_key"]],
                )
                record_alias(
                    store,
                    old_name or listed_as,
                    row["entity_key"],
                    RENAMED_FILING,
                    batch["id"],
                    row["filing_key"],
                )
            filings.update(
                row["filing_key"], {"last_batch_id": batch["id"], "last_seen": stamp}
            )
            continue

        insert_filing(store, row, batch, stamp)
        if not emit:
            continue

        if first_here:
            events.append(_event(NEW_REGISTRANT, row["entity_key"], run_id, batch, row))
        events.append(
            _event(NEW_FILING, row["filing_key"], run_id, batch, row, known_entity)
        )

    return store_events(store, events)


def _touch_entity(
    store: Store, row: dict[str, Any], batch_id: int, run_id: str, stamp: str
) -> tuple[bool, bool]:
    """Record the registrant of *row*.

    Return whether it was known before this run, and whether this batch is
    the first to list it.

    Lists published together (an algorithm list and a deep-synthesis batch on
    the same day) are one piece of news: a registrant first listed in either
    is new in both.
    """
    key = row["entity_key"]
    existing = store.query(
        "select e.names, e.first_batch_id, b.diff_run_id from entities e "
        "left join batches b on b.id = e.first_batch_id where e.key = ?",
        [key],
    )
    if not existing:
        store.db.table("entities").insert(
            {
                "key": key,
                "name": row["entity_name"],
                "names": json.dumps([row["entity_name"]], ensure_ascii=False),
                "first_batch_id": batch_id,
                "first_seen": stamp,
                "last_seen": stamp,
            }
        )
        return False, True

    names = json.loads(existing[0]["names"])
    if row["entity_name"] not in names:
        names.append(row["entity_name"])
    store.db.table("entities").update(
        key, {"names": json.dumps(names, ensure_ascii=False), "last_seen": stamp}
    )
    first_batch, first_run = existing[0]["first_batch_id"], existing[0]["diff_run_id"]
    known = first_batch != batch_id and first_run != run_id
    return known, first_batch == batch_id


def _event(
    kind: str,
    key: str,
    run_id: str,
    batch: dict[str, Any],
    row: dict[str, Any],
    known_entity: bool = False,
) -> dict[str, Any]:
    if kind == NEW_REGISTRANT:
        summary = f"New registrant {row['entity_name']}"
    elif kind == CANCELLATION_EVENT:
        summary = (
            f"Cancelled {row['filing_no']} {display_name(row)} "
            f"of {row['entity_name']} ({row['cancelled_on']})"
        )
    else:
        who = "known" if known_entity else "new"
        summary = (
            f"New filing {row['filing_no']} {display_name(row)} "
            f"({who} registrant {row['entity_name']})"
        )
    payload = {
        "registrant": "known" if known_entity else "new",
        **filing_payload(batch, row),
    }
    return make_event(kind, key, run_id, batch, row, summary, payload)
