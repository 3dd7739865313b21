"""Apply a re-issued attachment to the state and record what it changed."""

from __future__ import annotations

import json
import logging
from typing import Any

from monitor.entities import (
    RENAME_REMARK,
    RENAMED_FILING,
    record_alias,
    renames_in_note,
)
from monitor.events import (
    CORRECTION,
    MODIFICATION,
    REISSUED_ATTACHMENT,
    REMOVED_FROM_LIST,
    display_name,
    filing_payload,
    make_event,
    provenance,
    store_events,
)
from monitor.filings import (
    REMARK,
    add_cancel_source,
    has_cancellation_remark,
    insert_filing,
)
from monitor.reissue import Modified, RowChanges, compare_versions
from monitor.store import Store, now

logger = logging.getLogger(__name__)


def previous_version(store: Store, batch: dict[str, Any]) -> dict[str, Any] | None:
    """The newest applied, complete batch of the same attachment, if any."""
    found = store.query(
        "select * from batches where attachment_id = ? and id != ? "
        "and diffed_at is not null and status = 'complete' order by id desc limit 1",
        [batch["attachment_id"], batch["id"]],
    )
    return found[0] if found else None


def good_rows(store: Store, batch_id: int) -> list[dict[str, Any]]:
    """The mapped rows of a batch, in the order of the list."""
    return store.query(
        "select * from rows where batch_id = ? and issue is null "
        "order by table_index, row_index",
        [batch_id],
    )


def apply_reissue(
    store: Store,
    batch: dict[str, Any],
    previous: dict[str, Any],
    run_id: str,
    *,
    emit: bool,
) -> tuple[int, dict[str, int]]:
    """Compare *batch* with the *previous* version of its attachment.

    Corrected numbers are recorded as filings here, so the batch's ordinary
    pass takes them for known and announces no new filing for them. Return
    the number of events and the counts of row changes.
    """
    changes = compare_versions(
        good_rows(store, previous["id"]), good_rows(store, batch["id"])
    )
    counts = changes.counts()
    store.db.table("batches").update(
        batch["id"],
        {"reissue_of": previous["id"], "changes": json.dumps(counts)},
    )
    context = {"reissue": counts}

    events = [
        *_modifications(store, batch, previous, changes, run_id, context),
        *_corrections(store, batch, previous, changes, run_id, context),
        *_removals(store, batch, previous, changes, run_id, context),
    ]
    if not events and not _announces_filings(store, changes):
        events.append(_reissued(batch, previous, run_id, counts))
    logger.info("Re-issued list %s: %s", batch["name"], counts)
    return (store_events(store, events) if emit else 0), counts


def _announces_filings(store: Store, changes: RowChanges) -> bool:
    """Whether an added row is a filing number never seen (a new_filing event)."""
    return any(
        not store.scalar(
            "select 1 from filings where filing_key = ?", [row["filing_key"]]
        )
        for row in changes.added
    )


def _modifications(
    store: Store,
    batch: dict[str, Any],
    previous: dict[str, Any],
    changes: RowChanges,
    run_id: str,
    context: dict[str, Any],
) -> list[dict[str, Any]]:
    events = []
    for change in changes.modified:
        before, after = change.before, change.after
        cancelled = has_cancellation_remark(after["note"]) and not (
            has_cancellation_remark(before["note"])
        )
        if cancelled:
            # The filing is marked cancelled; the remark is a modification of
            # the list, not a cancellation event (docs/series.md).
            add_cancel_source(store, after["filing_key"], REMARK, batch)
        _record_renames(store, batch, change)
        fields = ", ".join(c["field"] for c in change.changes)
        summary = (
            f"Modified {after['filing_no']} {display_name(after)} "
            f"of {after['entity_name']}: {fields}"
            + (" (已注销: cancelled)" if cancelled else "")
        )
        payload = {
            **filing_payload(batch, after),
            **context,
            "changes": change.changes,
            "cancellation_remark": cancelled,
            "previous": provenance(previous, before),
        }
        key = f"{after['filing_key']}\n{batch['sha256']}"
        events.append(
            make_event(MODIFICATION, key, run_id, batch, after, summary, payload)
        )
    return events


def _record_renames(store: Store, batch: dict[str, Any], change: Modified) -> None:
    after = change.after
    if change.before["entity_key"] != after["entity_key"]:
        record_alias(
            store,
            change.before["entity_name"],
            after["entity_key"],
            RENAMED_FILING,
            batch["id"],
            after["filing_key"],
        )
    for old_name, _ in renames_in_note(after["note"]):
        record_alias(
            store,
            old_name,
            after["entity_key"],
            RENAME_REMARK,
            batch["id"],
            after["filing_key"],
        )


def _corrections(
    store: Store,
    batch: dict[str, Any],
    previous: dict[str, Any],
    changes: RowChanges,
    run_id: str,
    context: dict[str, Any],
) -> list[dict[str, Any]]:
    events = []
    stamp = now()
    for change in changes.corrected:
        before, after = change.before, change.after
        if not store.scalar(
            "select 1 from filings where filing_key = ?", [after["filing_key"]]
        ):
            insert_filing(store, after, batch, stamp)
        store.db.table("filings").update(
            before["filing_key"], {"corrected_to": after["filing_key"]}
        )
        summary = (
            f"Corrected number of {display_name(after)} of {after['entity_name']}: "
            f"{before['filing_no']} → {after['filing_no']}"
        )
        payload = {
            **filing_payload(batch, after),
            **context,
            "changes": change.changes,
            "before_filing_key": before["filing_key"],
            "previous": provenance(previous, before),
        }
        key = f"{before['filing_key']}\n{after['filing_key']}"
        events.append(
            make_event(CORRECTION, key, run_id, batch, after, summary, payload)
        )
    return events


def _removals(
    store: Store,
    batch: dict[str, Any],
    previous: dict[str, Any],
    changes: RowChanges,
    run_id: str,
    context: dict[str, Any],
) -> list[dict[str, Any]]:
    events = []
    for row in changes.removed:
        # Gone from the list, not cancelled: the filing keeps its state.
        store.db.table("filings").update(
            row["filing_key"], {"removed_batch_id": batch["id"]}
        )
        summary = (
            f"Removed from {batch['name']}: {row['filing_no']} {display_name(row)} "
            f"of {row['entity_name']}"
        )
        payload = {
            **filing_payload(batch, row),
            **provenance(batch, None),
            **context,
            "previous": provenance(previous, row),
        }
        del payload["row"]
        key = f"{row['filing_key']}\n{batch['sha256']}"
        events.append(
            make_event(REMOVED_FROM_LIST, key, run_id, batch, row, summary, payload)
        )
    return events


def _reissued(
    batch: dict[str, Any],
    previous: dict[str, Any],
    run_id: str,
    counts: dict[str, int],
) -> dict[str, Any]:
    """The one trace of a re-upload that yields no other event."""
    added = counts["added"]
    what = (
        f"{added} rows added, all known from other lists" if added else "no row changed"
    )
    summary = f"Re-issued {batch['name']} with new bytes; {what}"
    payload = {
        **provenance(batch, None),
        "previous": provenance(previous, None),
        "reissue": counts,
        "row_count": batch["row_count"],
    }
    key = f"{batch['attachment_id']}\n{batch['sha256']}"
    row = {"filing_key": None, "entity_key": None}
    return make_event(REISSUED_ATTACHMENT, key, run_id, batch, row, summary, payload)
