"""The main job: crawl, then parse what is new, diff it and write the report."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.diff import diff_pending
from monitor.ingest import ingest_new_versions
from monitor.report import build_report
from monitor.store import Store, now

logger = logging.getLogger(__name__)

DEFAULT_SITE = "https://www.cac.gov.cn"


class SiteUnreachable(Exception):
    """Raised when a crawl got no answer at all from the site."""


class CrawlFailed(Exception):
    """Raised when the crawl process itself failed."""


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    status: str
    kind: str
    events: int
    report: str


def new_run_id() -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(2)}"


def run_job(
    site: str,
    state_dir: Path,
    *,
    delay: float | None = None,
    refetch_days: float = 7.0,
    log_level: str = "WARNING",
) -> RunOutcome:
    """Run one complete cycle against *site*, keeping state in *state_dir*."""
    run_id = new_run_id()
    started = now()
    summary = crawl(
        site,
        state_dir,
        run_id,
        delay=delay,
        refetch_days=refetch_days,
        log_level=log_level,
    )
    if not summary["responses"]:
        reasons = ", ".join(summary.get("exceptions") or {}) or "no response"
        raise SiteUnreachable(f"cannot reach {site} ({reasons})")

    store = Store(state_dir)
    try:
        store.ensure_run(run_id, site, started)
        ingest_new_versions(store, state_dir, run_id)
        diff = diff_pending(store, run_id)
        diff.held = [
            batch_id
            for batch_id in diff.held
            if store.scalar("select run_id from batches where id = ?", [batch_id])
            == run_id
        ]

        failures = store.query(
            "select status, count(*) n from fetches "
            "where run_id = ? and status != 'ok' group by status",
            [run_id],
        )
        status = _status(failures, diff.held)
        kind = (
            "initial_load"
            if diff.baseline and diff.applied
            else ("update" if diff.events else "no_change")
        )
        report = build_report(store, run_id, site, diff, summary)
        stats: dict[str, Any] = {
            "crawl": summary,
            "batches": len(diff.applied) + len(diff.backfilled),
            "held": len(diff.held),
            "events": diff.events,
            "failures": {row["status"]: row["n"] for row in failures},
        }
        store.finish_run(run_id, status=status, kind=kind, stats=stats, report=report)
    finally:
        store.close()

    return RunOutcome(run_id, status, kind, diff.events, report)


def _status(failures: list[dict[str, Any]], held: list[int]) -> str:
    statuses = {row["status"] for row in failures}
    if "blocked" in statuses:
        return "blocked"
    if statuses or held:
        return "partial"
    return "ok"


def crawl(
    site: str,
    state_dir: Path,
    run_id: str,
    *,
    delay: float | None,
    refetch_days: float,
    log_level: str,
) -> dict[str, Any]:
    """Run the spider in a child process and return its summary.

    A child process per crawl, because Twisted's reactor runs once per process.
    """
    with tempfile.TemporaryDirectory(prefix="cacwatch-") as scratch:
        summary_path = Path(scratch) / "summary.json"
        log_path = Path(scratch) / "crawl.log"
        command = [
            sys.executable,
            "-m",
            "crawler",
            "--site",
            site,
            "--state",
            str(state_dir),
            "--run-id",
            run_id,
            "--summary",
            str(summary_path),
            "--refetch-days",
            str(refetch_days),
            "--log-level",
            log_level,
        ]
        if delay is not None:
            command += ["--delay", str(delay)]

        logger.info("Crawling %s", site)
        with log_path.open("wb") as log:
            result = subprocess.run(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
                env=os.environ.copy(),
            )

        if result.returncode != 0 or not summary_path.exists():
            tail = log_path.read_text(errors="replace")[-2000:]
            raise CrawlFailed(f"crawl process exited with {result.returncode}: {tail}")

        summary: dict[str, Any] = json.loads(summary_path.read_text())
        if summary["responses"]:
            logs = state_dir / "logs"
            logs.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(log_path, logs / f"{run_id}.log")
        return summary
