"""The outbox: one row per digest and channel, from queued to sent.

A row is ``pending`` until it is due, ``sending`` (committed) while it is
being sent, then ``sent``; a failed send returns it to ``pending`` with a
later ``next_attempt_at``, and after the last allowed attempt it is
``failed``. A row found ``sending`` by the next delivery was interrupted
after or during its send: it is sent again under the same identity.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections import defaultdict
from typing import Any

from monitor.config import DeliveryConfig, Subscription
from monitor.digest import Digest, build_digest, digest_key
from monitor.selection import select_events
from monitor.store import Store, now

logger = logging.getLogger(__name__)

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
STATUSES = (PENDING, SENDING, SENT, FAILED)

_ERROR_CHARS = 500


def register_channel(
    store: Store, subscription: str, channel_key: str, shown: str
) -> str:
    """Record a channel on first sight; return the run start it receives from.

    A new channel receives the events of the latest run that had any, then
    everything after: configuring a channel does not replay the whole history.
    """
    rows = store.query(
        "select since from channels where subscription = ? and channel_key = ?",
        [subscription, channel_key],
    )
    if rows:
        return str(rows[0]["since"])

    since = store.scalar(
        "select max(r.started_at) from runs r "
        "where exists (select 1 from events e where e.run_id = r.id)"
    )
    since = since or now()
    store.db.table("channels").insert(
        {
            "subscription": subscription,
            "channel_key": channel_key,
            "channel": shown,
            "since": since,
            "registered_at": now(),
        },
        ignore=True,
    )
    logger.info("Registered channel %s of %s", shown, subscription)
    return str(since)


def enqueue(
    store: Store, subscription: Subscription, channel_key: str, shown: str
) -> int:
    """Queue a digest per batch with events for this channel; return how many."""
    since = register_channel(store, subscription.name, channel_key, shown)
    queued = {
        row["batch_id"]
        for row in store.query(
            "select batch_id from outbox where subscription = ? and channel_key = ?",
            [subscription.name, channel_key],
        )
    }
    by_batch: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for event in select_events(store, subscription, since=since):
        if event["batch_id"] not in queued:
            by_batch[event["batch_id"]].append(event)

    stamp = now()
    rows = []
    for batch_id, events in sorted(by_batch.items()):
        key = digest_key(subscription.name, batch_id)
        digest = build_digest(store, subscription.name, batch_id, events)
        rows.append(
            {
                "id": outbox_id(key, channel_key),
                "digest_key": key,
                "subscription": subscription.name,
                "channel_key": channel_key,
                "channel": shown,
                "batch_id": batch_id,
                "event_ids": json.dumps(sorted(e["id"] for e in events)),
                "subject": digest.subject,
                "status": PENDING,
                "attempts": 0,
                "created_at": stamp,
            }
        )
    if rows:
        with store.transaction():
            store.db.table("outbox").insert_all(rows, ignore=True)
    return len(rows)


def outbox_id(key: str, channel_key: str) -> str:
    return hashlib.sha256(f"{key}\n{channel_key}".encode()).hexdigest()[:24]


def due(store: Store, *, force: bool = False) -> list[dict[str, Any]]:
    """Rows to send now: interrupted sends first, then pending rows that are due."""
    sql = (
        "select * from outbox where status = ? "
        "or (status = ? and (? or next_attempt_at is null or next_attempt_at <= ?)) "
        "order by status = ? desc, created_at, batch_id, id"
    )
    return store.query(sql, [SENDING, PENDING, int(force), now(), SENDING])


def claim(store: Store, row_id: str) -> None:
    """Mark a row as being sent, committed before the send begins."""
    with store.transaction():
        store.db.execute(
            "update outbox set status = ?, attempts = attempts + 1 where id = ?",
            [SENDING, row_id],
        )


def events_of(store: Store, row: dict[str, Any]) -> list[dict[str, Any]]:
    ids = json.loads(row["event_ids"])
    marks = ", ".join("?" for _ in ids)
    return store.query(f"select * from events where id in ({marks})", ids)


def mark_sent(store: Store, row_id: str) -> None:
    with store.transaction():
        store.db.table("outbox").update(
            row_id, {"status": SENT, "sent_at": now(), "last_error": None}
        )


def mark_failed(
    store: Store, row: dict[str, Any], error: str, config: DeliveryConfig
) -> str:
    """Record a failed attempt (its error already redacted); return the new status."""
    attempts = int(row["attempts"]) + 1
    if attempts >= config.max_attempts:
        status, next_at = FAILED, None
    else:
        delay = min(config.retry_cap, config.retry_after * 2 ** (attempts - 1))
        later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)
        status, next_at = PENDING, later.isoformat(timespec="seconds")
    with store.transaction():
        store.db.table("outbox").update(
            row["id"],
            {
                "status": status,
                "next_attempt_at": next_at,
                "last_error": error[-_ERROR_CHARS:],
            },
        )
    return status


def rebuild(store: Store, row: dict[str, Any]) -> Digest:
    """The digest of an outbox row, rebuilt from the stored events."""
    return build_digest(
        store, row["subscription"], row["batch_id"], events_of(store, row)
    )


def summary(store: Store) -> list[dict[str, Any]]:
    """Counts by subscription, channel and status, for ``cacwatch status``."""
    return store.query(
        "select subscription, channel, status, count(*) n, max(attempts) attempts, "
        "min(next_attempt_at) next_attempt_at, max(last_error) last_error "
        "from outbox group by subscription, channel, status "
        "order by subscription, channel, status"
    )
