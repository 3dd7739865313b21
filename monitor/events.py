"""Event kinds, their deterministic ids and the rows stored in ``events``."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from monitor.fields import FIELDS
from monitor.numbers import province_code
from monitor.store import Store, now

NEW_FILING = "new_filing"
NEW_REGISTRANT = "new_registrant"
CANCELLATION_EVENT = "cancellation"
MODIFICATION = "modification"
CORRECTION = "correction"
REMOVED_FROM_LIST = "removed_from_list"
REISSUED_ATTACHMENT = "reissued_attachment"
EVENT_KINDS = (
    NEW_FILING,
    NEW_REGISTRANT,
    CANCELLATION_EVENT,
    MODIFICATION,
    CORRECTION,
    REMOVED_FROM_LIST,
    REISSUED_ATTACHMENT,
)


# Kinds the analytics record after the diff (monitor/analytics.py).
SECTOR_SHIFT = "sector_shift"
PROVINCE_SHIFT = "province_shift"
ROLE_SHIFT = "role_shift"
FIRST_APPEARANCE = "first_appearance"
WATCHLIST_HIT = "watchlist_hit"
ANALYTICS_EVENT_KINDS = (
    SECTOR_SHIFT,
    PROVINCE_SHIFT,
    ROLE_SHIFT,
    FIRST_APPEARANCE,
    WATCHLIST_HIT,
)
ALL_EVENT_KINDS = EVENT_KINDS + ANALYTICS_EVENT_KINDS

# English names with the Chinese terms, for the report and the docs.
KIND_LABELS = {
    NEW_FILING: "new filing 新增备案",
    NEW_REGISTRANT: "new registrant 新备案主体",
    CANCELLATION_EVENT: "cancellation 注销",
    MODIFICATION: "modification 变更",
    CORRECTION: "corrected filing number 备案编号更正",
    REMOVED_FROM_LIST: "removed from a re-issued list 清单删除",
    REISSUED_ATTACHMENT: "re-issued attachment 附件重新上传",
}

FILING_FIELDS = tuple(field.name for field in FIELDS if field.name != "seq")


def event_id(kind: str, key: str) -> str:
    """Deterministic id: a change is recorded once, however often it is seen."""
    return hashlib.sha256(f"{kind}\n{key}".encode()).hexdigest()[:20]


def display_name(row: dict[str, Any]) -> str:
    """What was filed: the algorithm, or the model, app or feature."""
    return str(row.get("algorithm_name") or row.get("service_name") or "")


def provenance(batch: dict[str, Any], row: dict[str, Any] | None) -> dict[str, Any]:
    """Where a value was read: batch, list, attachment bytes, table and row."""
    where: dict[str, Any] = {
        "batch_id": batch["id"],
        "batch": batch["name"],
        "period": batch["period"],
        "attachment_sha256": batch["sha256"],
    }
    if row is not None:
        where["row"] = {"table": row["table_index"], "row": row["row_index"]}
    return where


def filing_payload(batch: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    """Provenance and every field of the filing *row*, as events carry them."""
    return {
        **provenance(batch, row),
        "record_type": row.get("record_type"),
        "province_code": province_code(row.get("filing_no"), row.get("region")),
        **{name: row.get(name) for name in FILING_FIELDS},
    }


def make_event(
    kind: str,
    key: str,
    run_id: str,
    batch: dict[str, Any],
    row: dict[str, Any],
    summary: str,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """The ``events`` row of one change; *key* names the change for its id."""
    return {
        "id": event_id(kind, key),
        "run_id": run_id,
        "batch_id": batch["id"],
        "kind": kind,
        "series": batch["series"],
        "filing_key": row.get("filing_key"),
        "entity_key": row.get("entity_key"),
        "summary": summary,
        "payload": json.dumps(payload, ensure_ascii=False),
        "created_at": now(),
    }


def store_events(store: Store, events: list[dict[str, Any]]) -> int:
    """Insert events once each; return how many this batch found."""
    unique = {event["id"]: event for event in events}
    if unique:
        store.db.table("events").insert_all(unique.values(), ignore=True)
    return len(unique)
