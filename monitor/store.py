"""The state database (``state/cacwatch.db``), reached only through this module."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlite_utils import Database

from monitor.migrations import migrations

logger = logging.getLogger(__name__)

DB_NAME = "cacwatch.db"


def now() -> str:
    """Current UTC time as an ISO 8601 string with a zone, as stored everywhere."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def attachment_id(announcement_url: str, link_key: str) -> str:
    """Stable id of an attachment: the notice that links it and the link's key.

    Only the path of the notice counts, so the same attachment keeps its id
    when the site moves between http and https or is read through a replica.
    """
    path = urlsplit(announcement_url).path
    raw = f"{path}\n{link_key}".encode()
    return hashlib.sha256(raw).hexdigest()[:16]


class OutdatedState(Exception):
    """The database needs migrations that a read-only open cannot apply."""


class Store:
    """The state database of one data directory."""

    def __init__(self, state_dir: Path, *, readonly: bool = False) -> None:
        self.path = state_dir / DB_NAME
        if readonly:
            # Reading never writes: no migration, no journal, no new file.
            uri = f"file:{self.path}?mode=ro"
            self.db = Database(sqlite3.connect(uri, uri=True, timeout=30))
            if migrations.pending(self.db):
                self.db.close()
                raise OutdatedState(
                    f"{self.path} was written by an older cacwatch; "
                    "run `cacwatch run` once to upgrade it"
                )
            return

        state_dir.mkdir(parents=True, exist_ok=True)
        # A generous timeout: the scheduler and a manual run may meet here.
        self.db = Database(sqlite3.connect(self.path, timeout=30))
        self.db.execute("PRAGMA foreign_keys=ON")
        migrations.apply(self.db)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes so a crash leaves either all of them or none."""
        with self.db.atomic():
            yield

    def query(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        return list(self.db.query(sql, params or {}))

    def scalar(self, sql: str, params: Any = None) -> Any:
        row = self.db.execute(sql, params or {}).fetchone()
        return None if row is None else row[0]

    def ensure_run(self, run_id: str, site: str, started_at: str) -> None:
        self.db.table("runs").insert(
            {"id": run_id, "site": site, "started_at": started_at, "status": "running"},
            ignore=True,
        )

    def finish_run(self, run_id: str, **values: Any) -> None:
        if "stats" in values:
            values["stats"] = json.dumps(values["stats"], ensure_ascii=False)
        self.db.table("runs").update(run_id, {"finished_at": now(), **values})

    def archived_attachments(self) -> dict[str, dict[str, Any]]:
        """Attachments with at least one archived version, by id."""
        rows = self.query(
            "select a.* from attachments a where exists "
            "(select 1 from versions v where v.attachment_id = a.id)"
        )
        return {row["id"]: row for row in rows}

    def newest_announcement(self, series: list[str]) -> str | None:
        marks = ", ".join("?" for _ in series)
        return self.scalar(  # type: ignore[no-any-return]
            f"select max(published) from announcements where series in ({marks})",
            series,
        )
