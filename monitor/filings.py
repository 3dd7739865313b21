"""The ``filings`` table: one row per filing number, and how it ended."""

from __future__ import annotations

import json
import logging
from typing import Any

from monitor.events import FILING_FIELDS
from monitor.fields import squash
from monitor.numbers import province_code
from monitor.store import Store

logger = logging.getLogger(__name__)

CANCELLED_REMARK = "已注销"
NOTICE = "notice"  # a cancellation notice (series D) names the filing
REMARK = "remark"  # the filing's 备注 in a list says 已注销


def has_cancellation_remark(note: str | None) -> bool:
    return bool(note) and CANCELLED_REMARK in squash(note or "")


def insert_filing(
    store: Store, row: dict[str, Any], batch: dict[str, Any], stamp: str
) -> None:
    """Record a filing number seen for the first time, as *row* gives it."""
    store.db.table("filings").insert(
        {
            "filing_key": row["filing_key"],
            "series": batch["series"],
            "entity_key": row["entity_key"],
            "record_type": row.get("record_type"),
            "province_code": province_code(row.get("filing_no"), row.get("region")),
            **{name: row.get(name) for name in FILING_FIELDS},
            "first_batch_id": batch["id"],
            "last_batch_id": batch["id"],
            "first_seen": stamp,
            "last_seen": stamp,
        }
    )
    if has_cancellation_remark(row.get("note")):
        add_cancel_source(store, row["filing_key"], REMARK, batch)


def cancel_sources(store: Store, filing_key: str) -> list[dict[str, Any]]:
    """Every source that said the filing is cancelled, first one first."""
    raw = store.scalar(
        "select cancel_sources from filings where filing_key = ?", [filing_key]
    )
    return list(json.loads(raw)) if raw else []


def add_cancel_source(
    store: Store,
    filing_key: str,
    source: str,
    batch: dict[str, Any],
    cancelled_on: str | None = None,
) -> bool:
    """Record that *source* in *batch* says the filing is cancelled.

    The first source marks the filing cancelled (``cancelled_batch_id``);
    any later one is kept beside it as corroboration. Return whether this
    source is new for the filing (a rerun records nothing twice).
    """
    sources = cancel_sources(store, filing_key)
    if any(s["source"] == source and s["batch_id"] == batch["id"] for s in sources):
        return False

    sources.append(
        {"source": source, "batch_id": batch["id"], "sha256": batch["sha256"]}
    )
    values: dict[str, Any] = {"cancel_sources": json.dumps(sources, ensure_ascii=False)}
    if len(sources) == 1:
        values["cancelled_batch_id"] = batch["id"]
    if cancelled_on:
        values["cancelled_on"] = cancelled_on
    store.db.table("filings").update(filing_key, values)
    logger.debug("Filing %s cancelled by %s", filing_key, source)
    return True
