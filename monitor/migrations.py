"""Versioned schema of the state database.

Each function is one migration, applied once and recorded in the
``_sqlite_migrations`` table. Never edit an applied migration: add a new one.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("cacwatch")


@migrations()
def m001_initial(db: Database) -> None:
    db.table("runs").create(
        {
            "id": str,
            "started_at": str,
            "finished_at": str,
            "site": str,
            "status": str,
            "kind": str,
            "stats": str,
            "report": str,
        },
        pk="id",
    )
    db.table("announcements").create(
        {
            "url": str,
            "series": str,
            "title": str,
            "published": str,
            "body_hash": str,
            "first_seen": str,
            "last_seen": str,
        },
        pk="url",
    )
    db.table("attachments").create(
        {
            "id": str,
            "announcement_url": str,
            "series": str,
            "link_key": str,
            "link_text": str,
            "name": str,
            "url": str,
            "period": str,
            "first_seen": str,
            "last_seen": str,
            "last_checked": str,
        },
        pk="id",
        foreign_keys=[("announcement_url", "announcements", "url")],
    )
    db.table("blobs").create(
        {"sha256": str, "size": int, "kind": str, "path": str, "first_seen": str},
        pk="sha256",
    )
    db.table("fetches").create(
        {
            "id": int,
            "run_id": str,
            "target": str,
            "attachment_id": str,
            "url": str,
            "final_url": str,
            "fetched_at": str,
            "status": str,
            "http_status": int,
            "sha256": str,
            "size": int,
            "kind": str,
            "headers": str,
            "message": str,
        },
        pk="id",
    )
    db.table("versions").create(
        {"attachment_id": str, "sha256": str, "first_seen": str, "run_id": str},
        pk=("attachment_id", "sha256"),
        foreign_keys=[
            ("attachment_id", "attachments", "id"),
            ("sha256", "blobs", "sha256"),
        ],
    )
    db.table("batches").create(
        {
            "id": int,
            "attachment_id": str,
            "sha256": str,
            "series": str,
            "name": str,
            "period": str,
            "announcement_url": str,
            "published": str,
            "status": str,
            "message": str,
            "row_count": int,
            "issue_count": int,
            "parser_version": str,
            "parsed_at": str,
            "run_id": str,
            "diffed_at": str,
            "diff_run_id": str,
            "baseline": int,
        },
        pk="id",
        foreign_keys=[("attachment_id", "attachments", "id")],
    )
    db.table("batches").create_index(["attachment_id", "sha256"], unique=True)
    db.table("rows").create(
        {
            "batch_id": int,
            "table_index": int,
            "row_index": int,
            "position": int,
            "filing_key": str,
            "entity_key": str,
            "seq": str,
            "algorithm_name": str,
            "algorithm_category": str,
            "role": str,
            "entity_name": str,
            "product": str,
            "purpose": str,
            "filing_no": str,
            "note": str,
            "issue": str,
            "cells": str,
        },
        pk=("batch_id", "table_index", "row_index"),
        foreign_keys=[("batch_id", "batches", "id")],
    )
    db.table("rows").create_index(["filing_key"])
    db.table("filings").create(
        {
            "filing_key": str,
            "filing_no": str,
            "series": str,
            "algorithm_name": str,
            "algorithm_category": str,
            "role": str,
            "entity_key": str,
            "entity_name": str,
            "product": str,
            "purpose": str,
            "note": str,
            "first_batch_id": int,
            "last_batch_id": int,
            "first_seen": str,
            "last_seen": str,
        },
        pk="filing_key",
    )
    db.table("entities").create(
        {
            "key": str,
            "name": str,
            "names": str,
            "first_batch_id": int,
            "first_seen": str,
            "last_seen": str,
        },
        pk="key",
    )
    db.table("events").create(
        {
            "id": str,
            "run_id": str,
            "batch_id": int,
            "kind": str,
            "series": str,
            "filing_key": str,
            "entity_key": str,
            "summary": str,
            "payload": str,
            "created_at": str,
        },
        pk="id",
    )
    db.table("events").create_index(["run_id"])
    db.table("events").create_index(["kind"])


@migrations()
def m002_generative_ai_fields(db: Database) -> None:
    """Columns of the generative-AI and cancellation lists."""
    for table in ("rows", "filings"):
        for column in ("region", "service_name", "filed_on", "cancelled_on"):
            db.table(table).add_column(column, str)


@migrations()
def m003_series_semantics(db: Database) -> None:
    """Announcement text, list kinds, record types, cancellations, reconciliation."""
    db.table("announcements").add_column("body_text", str)
    db.table("batches").add_column("list_kind", str)
    for table in ("rows", "filings"):
        db.table(table).add_column("record_type", str)
    db.table("rows").add_column("page", int)
    db.table("rows").add_column("sheet", str)
    db.table("filings").add_column("cancelled_batch_id", int)
    db.table("reconciliations").create(
        {
            "id": str,
            "run_id": str,
            "announcement_url": str,
            "announcement_title": str,
            "batch_id": int,
            "record_type": str,
            "measure": str,
            "as_of": str,
            "stated": int,
            "counted": int,
            "status": str,
            "explanation": str,
            "sentence": str,
        },
        pk="id",
    )


@migrations()
def m004_registry_events(db: Database) -> None:
    """Provinces, cancellation sources, corrections, re-issues and aliases."""
    # Imported here: the backfill reads numbers as this version understands them.
    from monitor.numbers import province_code

    for table in ("rows", "filings"):
        db.table(table).add_column("province_code", str)
    db.table("filings").add_column("cancel_sources", str)
    db.table("filings").add_column("corrected_to", str)
    db.table("filings").add_column("removed_batch_id", int)
    db.table("entities").add_column("parent_key", str)
    db.table("batches").add_column("reissue_of", int)
    db.table("batches").add_column("changes", str)
    db.table("entity_aliases").create(
        {
            "alias_key": str,
            "entity_key": str,
            "alias_name": str,
            "source": str,
            "batch_id": int,
            "filing_key": str,
        },
        pk=("alias_key", "entity_key"),
    )

    for table, key in (("rows", "rowid"), ("filings", "filing_key")):
        found = db.execute(f"select {key}, filing_no, region from {table}").fetchall()
        for ident, filing_no, region in found:
            code = province_code(filing_no, region)
            if code:
                db.execute(
                    f"update {table} set province_code = ? where {key} = ?",
                    [code, ident],
                )
    db.execute(
        "update filings set cancel_sources = json_array(json_object("
        "'source', 'notice', 'batch_id', cancelled_batch_id)) "
        "where cancelled_batch_id is not null"
    )


@migrations()
def m005_classification(db: Database) -> None:
    """Sector of each filing and the watchlists its registrant is on."""
    db.table("classifications").create(
        {
            "filing_key": str,
            "sector": str,
            "sectors": str,
            "evidence": str,
            "classifier_version": str,
        },
        pk="filing_key",
    )
    db.table("classifications").create_index(["sector"])
    db.table("watchlist_hits").create(
        {"watchlist": str, "filing_key": str, "entity_key": str, "evidence": str},
        pk=("watchlist", "filing_key"),
    )


@migrations()
def m006_outbox(db: Database) -> None:
    """Alert delivery: the channels of each subscription and the digests to send."""
    db.table("channels").create(
        {
            "subscription": str,
            "channel_key": str,
            "channel": str,
            "since": str,
            "registered_at": str,
        },
        pk=("subscription", "channel_key"),
    )
    db.table("outbox").create(
        {
            "id": str,
            "digest_key": str,
            "subscription": str,
            "channel_key": str,
            "channel": str,
            "batch_id": int,
            "event_ids": str,
            "subject": str,
            "status": str,
            "attempts": int,
            "next_attempt_at": str,
            "last_error": str,
            "created_at": str,
            "sent_at": str,
        },
        pk="id",
        not_null={"status", "digest_key", "subscription", "channel_key"},
        defaults={"attempts": 0},
    )
    db.table("outbox").create_index(["status", "next_attempt_at"])
