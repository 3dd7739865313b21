"""Turn newly archived attachment versions into batches of parsed rows."""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

from crawler.topics import list_kind
from monitor.archive import Archive
from monitor.entities import entity_key
from monitor.fields import FIELDS, list_name, normalise_filing_no, period_of
from monitor.numbers import parse_number, province_code
from monitor.parsers import PARSER_VERSION, parse_attachment
from monitor.parsers.result import ParsedDocument, ParseStatus
from monitor.store import Store, now

logger = logging.getLogger(__name__)


def ingest_new_versions(store: Store, state_dir: Path, run_id: str) -> list[int]:
    """Parse every archived version that has no batch yet; return the new batch ids.

    A version whose archived file is missing or damaged is not parsed; its
    attachment is marked for download on the next run, which repairs the
    archive.
    """
    archive = Archive(state_dir / "archive")
    pending = store.query(
        """
        select v.attachment_id, v.sha256, b.kind, a.series, a.name, a.period,
               a.announcement_url, n.published, n.title as announcement_title,
               v.first_seen
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
        try:
            data = archive.read(version["sha256"], version["kind"])
        except (OSError, ValueError) as exc:
            logger.warning("Archived file unusable, will download again: %s", exc)
            store.db.table("attachments").update(
                version["attachment_id"], {"last_checked": None}
            )
            continue
        document = parse_attachment(data)
        batch_ids.append(_store_batch(store, version, document, run_id))
    return batch_ids


def _store_batch(
    store: Store, version: dict[str, Any], document: ParsedDocument, run_id: str
) -> int:
    # A generic link text (the announcement's own title) names no list; the
    # title inside the file does.
    name = version["name"] or ""
    if not period_of(name) and document.title:
        name = document.title
    name = list_name(name)
    published = version["published"] or ""
    period = version["period"] or period_of(name) or published[:7] or None
    kind = list_kind(version["series"], version["announcement_title"] or "")
    types = _record_types(document)
    batch = {
        "attachment_id": version["attachment_id"],
        "sha256": version["sha256"],
        "series": version["series"],
        "name": name,
        "period": period,
        "announcement_url": version["announcement_url"],
        "published": version["published"],
        "list_kind": kind,
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
            (_row_record(batch_id, row, types.get(row.table)) for row in document.rows),
            batch_size=500,
        )

    if document.status is ParseStatus.COMPLETE:
        logger.info("Parsed %s: %d rows", name, len(document.rows))
    else:
        logger.warning("Batch %s is %s: %s", name, document.status, document.message)
    return batch_id


def _record_types(document: ParsedDocument) -> dict[int, str]:
    """Filing (备案) or registration (登记), per table of a generative-AI list.

    Decided by the numbers: a table whose numbers carry the ``S`` serial of
    registrations is a registration table. A row whose number is damaged
    (truncated in the published list) takes its table's type.
    """
    votes: dict[int, Counter[str]] = {}
    for row in document.rows:
        info = parse_number(row.filing_no)
        if info.record_type is not None:
            votes.setdefault(row.table, Counter())[info.record_type] += 1
    return {table: count.most_common(1)[0][0] for table, count in votes.items()}


def _row_record(batch_id: int, row: Any, record_type: str | None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "batch_id": batch_id,
        "table_index": row.table,
        "row_index": row.row,
        "position": row.position,
        "page": row.page,
        "sheet": row.sheet,
        "filing_key": normalise_filing_no(row.filing_no) or None,
        "entity_key": entity_key(row.fields.get("entity_name", "")) or None,
        "issue": row.issue.value if row.issue else None,
        "record_type": record_type,
        "cells": json.dumps(row.cells, ensure_ascii=False),
    }
    for field in FIELDS:
        record[field.name] = row.fields.get(field.name)
    record["province_code"] = province_code(row.filing_no, record.get("region"))
    return record


def row_records(batch_id: int, document: ParsedDocument) -> list[dict[str, Any]]:
    """The ``rows`` records of *document* as stored under *batch_id*."""
    types = _record_types(document)
    return [_row_record(batch_id, row, types.get(row.table)) for row in document.rows]
