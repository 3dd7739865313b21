"""Turn newly archived attachment versions into batches of parsed rows."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from monitor.archive import Archive
from monitor.entities import entity_key
from monitor.fields import FIELDS, normalise_filing_no, period_of
from monitor.parsers import PARSER_VERSION, parse_attachment
from monitor.parsers.result import ParsedDocument, ParseStatus
from monitor.store import Store, now

logger = logging.getLogger(__name__)


def ingest_new_versions(store: Store, state_dir: Path, run_id: str) -> list[int]:
    """Parse every archived version that has no batch yet; return the new batch ids."""
    archive = Archive(state_dir / "archive")
    pending = store.query(
        """
        select v.attachment_id, v.sha256, b.kind, a.series, a.name, a.period,
               a.announcement_url, n.published, v.first_seen
        from versions v
        join attachments a on a.id = v.attachment_id
        join blobs b on b.sha256 = v.sha256
        left join announcements n on n.url = a.announcement_url
        where not exists (
            select 1 from batches t
            where t.attachment_id = v.attachment_id and t.sha256 = v.sha256
        )
        order by v.first_seen, v.attachment_id
        """
    )

    batch_ids = []
    for version in pending:
        data = archive.read(version["sha256"], version["kind"])
        document = parse_attachment(data)
        batch_ids.append(_store_batch(store, version, document, run_id))
    return batch_ids


def _store_batch(
    store: Store, version: dict[str, Any], document: ParsedDocument, run_id: str
) -> int:
    name = version["name"] or document.title or ""
    period = version["period"] or period_of(document.title or "")
    batch = {
        "attachment_id": version["attachment_id"],
        "sha256": version["sha256"],
        "series": version["series"],
        "name": name,
        "period": period,
        "announcement_url": version["announcement_url"],
        "published": version["published"],
        "status": document.status.value,
        "message": document.message,
        "row_count": len(document.good_rows),
        "issue_count": len(document.issues),
        "parser_version": PARSER_VERSION,
        "parsed_at": now(),
        "run_id": run_id,
    }

    with store.transaction():
        table = store.db.table("batches").insert(batch)
        batch_id = int(table.last_rowid or 0)
        store.db.table("rows").insert_all(
            (_row_record(batch_id, row) for row in document.rows), batch_size=500
        )

    if document.status is ParseStatus.COMPLETE:
        logger.info("Parsed %s: %d rows", name, len(document.rows))
    else:
        logger.warning("Batch %s is %s: %s", name, document.status, document.message)
    return batch_id


def _row_record(batch_id: int, row: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "batch_id": batch_id,
        "table_index": row.table,
        "row_index": row.row,
        "position": row.position,
        "filing_key": normalise_filing_no(row.filing_no) or None,
        "entity_key": entity_key(row.fields.get("entity_name", "")) or None,
        "issue": row.issue.value if row.issue else None,
        "cells": json.dumps(row.cells, ensure_ascii=False),
    }
    for field in FIELDS:
        record[field.name] = row.fields.get(field.name)
    return record
