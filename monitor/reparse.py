"""Read every archived attachment again with the current parsers.

A parser that improves should not need a new crawl: the archive keeps every
body that was parsed. ``plan_reparse`` compares what the parsers read now with
the stored rows of each batch, row by row and field by field, and changes
nothing. ``apply_reparse`` then stores the new rows and re-derives the filings
those rows name, exactly as the diff derived them, without recording events:
old lists read better are not news.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.topics import CANCELLED
from monitor.archive import Archive
from monitor.diff import SERIES_ORDER
from monitor.ingest import row_records
from monitor.parsers import ParseStatus, parse_attachment, parser_version
from monitor.store import Store, now

logger = logging.getLogger(__name__)

# Where a row is, as opposed to what it holds.
_ROW_KEY = ("batch_id", "table_index", "row_index")
_BATCH_FIELDS = ("status", "message", "row_count", "issue_count")
# Columns of a row that are about the row itself, not about its filing.
_ROW_ONLY = frozenset(
    {*_ROW_KEY, "position", "page", "sheet", "issue", "cells", "seq", "filing_key"}
)

Progress = Callable[[int, int], None]


class UnknownBatch(Exception):
    """A batch asked for by id is not in the state or not archived."""


@dataclass
class RowChange:
    """A row at the same place in the file whose fields now read differently."""

    table_index: int
    row_index: int
    filing_no: str
    fields: dict[str, tuple[Any, Any]]


@dataclass
class BatchReparse:
    """What the current parsers read in one batch, against the stored rows."""

    batch: dict[str, Any]
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[RowChange] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def differs(self) -> bool:
        return bool(self.changes or self.added or self.removed or self.changed)

    def filing_keys(self) -> set[str]:
        """Filing keys whose derivation may change with this batch's new rows."""
        rows = (*self.removed, *self.records)
        return {row["filing_key"] for row in rows if row["filing_key"]}


@dataclass
class ReparsePlan:
    """The differences of every batch read again, and the batches that failed."""

    parser_version: str
    checked: int = 0
    batches: list[BatchReparse] = field(default_factory=list)
    unreadable: list[tuple[dict[str, Any], str]] = field(default_factory=list)


@dataclass
class FilingCounts:
    """What re-deriving the filings changed."""

    updated: int = 0
    added: int = 0
    removed: int = 0
    compared: list[int] = field(default_factory=list)


def plan_reparse(
    store: Store,
    state_dir: Path,
    batch_ids: Iterable[int] = (),
    progress: Progress | None = None,
) -> ReparsePlan:
    """Parse every archived batch again and compare it with its stored rows."""
    wanted = sorted(set(batch_ids))
    sql = (
        "select b.*, l.kind as blob_kind from batches b "
        "join blobs l on l.sha256 = b.sha256"
    )
    if wanted:
        sql += f" where b.id in ({', '.join('?' for _ in wanted)})"
    batches = store.query(sql + " order by b.id", wanted)
    missing = set(wanted) - {batch["id"] for batch in batches}
    if missing:
        raise UnknownBatch(f"no archived batch {', '.join(map(str, sorted(missing)))}")

    archive = Archive(state_dir / "archive")
    plan = ReparsePlan(parser_version())
    for done, batch in enumerate(batches, 1):
        try:
            data = archive.read(batch["sha256"], batch["blob_kind"])
        except (OSError, ValueError) as exc:
            logger.warning("Archived file unusable: %s", exc)
            plan.unreadable.append((batch, str(exc)))
        else:
            result = _compare(store, batch, data)
            if result.differs:
                plan.batches.append(result)
        plan.checked += 1
        if progress is not None:
            progress(done, len(batches))
    return plan


def _compare(store: Store, batch: dict[str, Any], data: bytes) -> BatchReparse:
    document = parse_attachment(data)
    records = row_records(batch["id"], document)
    result = BatchReparse(batch=batch, records=records)
    now_batch = {
        "status": document.status.value,
        "message": document.message,
        "row_count": len(document.good_rows),
        "issue_count": len(document.issues),
    }
    result.changes = {
        name: (batch[name], now_batch[name])
        for name in _BATCH_FIELDS
        if batch[name] != now_batch[name]
    }

    stored = {
        (row["table_index"], row["row_index"]): row
        for row in store.query(
            "select * from rows where batch_id = ? order by table_index, row_index",
            [batch["id"]],
        )
    }
    fresh = {(r["table_index"], r["row_index"]): r for r in records}
    for place, record in fresh.items():
        old = stored.get(place)
        if old is None:
            result.added.append(record)
            continue
        fields = {
            name: (old[name], value)
            for name, value in record.items()
            if name not in _ROW_KEY and name in old and old[name] != value
        }
        if fields:
            filing_no = record.get("filing_no") or old.get("filing_no") or ""
            result.changed.append(RowChange(*place, filing_no, fields))
    result.removed = [row for place, row in stored.items() if place not in fresh]
    return result


def apply_reparse(store: Store, plan: ReparsePlan) -> FilingCounts:
    """Store the new rows of every differing batch and re-derive their filings.

    Each batch is rewritten in one transaction with its filings, so a crash
    leaves every batch either as it was or fully re-read, and a second
    ``reparse --apply`` finishes the work. A batch that could not be compared
    before and reads whole now is applied as history: its filings are stored
    without events.
    """
    counts = FilingCounts()
    for item in plan.batches:
        with store.transaction():
            keys = _rewrite_batch(store, item, plan.parser_version, counts)
            for key in sorted(keys):
                _rederive(store, key, counts)
        logger.info("Stored new rows of batch %s", item.batch["id"])
    return counts


def _rewrite_batch(
    store: Store, item: BatchReparse, version: str, counts: FilingCounts
) -> set[str]:
    """Replace the rows of a batch; return the filing keys old or new rows name."""
    batch = item.batch
    stored = store.query(
        "select filing_key from rows where batch_id = ?", [batch["id"]]
    )
    keys = item.filing_keys() | {row["filing_key"] for row in stored}

    store.db.execute("delete from rows where batch_id = ?", [batch["id"]])
    store.db.table("rows").insert_all(item.records, batch_size=500)

    update: dict[str, Any] = {name: new for name, (_, new) in item.changes.items()}
    update |= {"parser_version": version, "parsed_at": now()}
    complete = update.get("status", batch["status"]) == ParseStatus.COMPLETE
    if batch["diffed_at"] is None and complete:
        # Compared here, as history: the diff would report its filings as new.
        update |= {"diffed_at": now(), "diff_run_id": None, "baseline": 0}
        counts.compared.append(batch["id"])
    store.db.table("batches").update(batch["id"], update)
    return {key for key in keys if key}


def _rederive(store: Store, filing_key: str, counts: FilingCounts) -> None:
    """Make the filing of *filing_key* what the diff makes of the stored rows.

    The first compared batch that lists the number gives the filing's fields
    and series; the last list (not cancellation notice) that lists it is its
    last batch; the first cancellation notice that names it cancels it. A
    number no compared batch lists any more is no filing.
    """
    listings = store.query(
        "select r.*, b.series as batch_series, b.list_kind, b.period, b.diffed_at, "
        "n.started_at from rows r join batches b on b.id = r.batch_id "
        "left join runs n on n.id = b.diff_run_id "
        "where r.filing_key = ? and r.issue is null and b.diffed_at is not null",
        [filing_key],
    )
    listings.sort(key=_applied_order)
    existing = store.query("select * from filings where filing_key = ?", [filing_key])
    if not listings:
        if existing:
            store.db.table("filings").delete(filing_key)
            counts.removed += 1
            logger.warning("Filing %s is listed by no batch any more", filing_key)
        return

    source = listings[0]
    lists = [row for row in listings if row["list_kind"] != CANCELLED]
    cancels = [row for row in listings if row["list_kind"] == CANCELLED]
    columns = store.db.table("filings").columns_dict
    derived: dict[str, Any] = {
        name: source[name]
        for name in columns
        if name in source and name not in _ROW_ONLY
    }
    derived |= {
        "series": source["batch_series"],
        "first_batch_id": source["batch_id"],
        "last_batch_id": (lists[-1] if lists else source)["batch_id"],
        "cancelled_batch_id": cancels[0]["batch_id"] if cancels else None,
    }
    if cancels:
        derived["cancelled_on"] = cancels[0]["cancelled_on"]
    _touch_entity(store, source)

    if not existing:
        stamp = now()
        store.db.table("filings").insert(
            {
                "filing_key": filing_key,
                **derived,
                "first_seen": stamp,
                "last_seen": stamp,
            }
        )
        counts.added += 1
        return
    if any(existing[0][name] != value for name, value in derived.items()):
        store.db.table("filings").update(filing_key, derived)
        counts.updated += 1


def _applied_order(row: dict[str, Any]) -> tuple[str, str, int, int]:
    # The order diff_pending applies batches in: run by run, then oldest
    # period first, then by series.
    return (
        row["started_at"] or row["diffed_at"],
        row["period"] or "",
        SERIES_ORDER.get(row["batch_series"], 9),
        row["batch_id"],
    )


def _touch_entity(store: Store, row: dict[str, Any]) -> None:
    """Keep every registrant and spelling the stored rows name; never drop one."""
    key, name = row["entity_key"], row["entity_name"]
    if not key:
        return
    found = store.query("select names from entities where key = ?", [key])
    if not found:
        stamp = now()
        store.db.table("entities").insert(
            {
                "key": key,
                "name": name,
                "names": json.dumps([name], ensure_ascii=False),
                "first_batch_id": row["batch_id"],
                "first_seen": stamp,
                "last_seen": stamp,
            }
        )
        return
    names = json.loads(found[0]["names"])
    if name not in names:
        names.append(name)
        store.db.table("entities").update(
            key, {"names": json.dumps(names, ensure_ascii=False)}
        )
