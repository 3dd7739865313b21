"""The main job: crawl, then parse what is new, diff it and write the report."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from monitor.analytics import analyse
from monitor.delivery import deliver_after_run
from monitor.diff import diff_pending
from monitor.ingest import ingest_new_versions
from monitor.reconcile import reconcile
from monitor.report import build_report
from monitor.store import DB_NAME, Store, now

logger = logging.getLogger(__name__)

DEFAULT_SITE = "https://www.cac.gov.cn"
DEFAULT_BEIAN = "https://beian.cac.gov.cn"

CrawlProgress = Callable[[int], None]


class JobError(Exception):
    """A run that could not take place; the message is meant for the user."""


class SiteUnreachable(JobError):
    """The crawl got no answer at all from the site."""


class CrawlFailed(JobError):
    """The crawl process itself failed."""


class StateUnusable(JobError):
    """The data directory cannot be used (not a directory, not writable, corrupt)."""


class RunInProgress(JobError):
    """Another run holds the data directory."""


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


def check_url(url: str, what: str) -> None:
    """Refuse, before anything runs, a base URL the crawler cannot use."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise JobError(f"{what} must be an http:// or https:// URL, not {url!r}")


def run_job(
    site: str,
    state_dir: Path,
    *,
    beian: str = DEFAULT_BEIAN,
    delay: float | None = None,
    refetch_days: float = 7.0,
    log_level: str = "INFO",
    config: Path | None = None,
    progress: CrawlProgress | None = None,
) -> RunOutcome:
    """Run one complete cycle against *site*, keeping state in *state_dir*.

    *beian* is the base URL of the algorithm filing system, whose notices
    carry the cancellations. Only one run at a time may use a data directory.
    *config* is the delivery configuration file (``monitor.config``).
    *progress*, if given, is called with the number of attachments downloaded
    so far while the crawl runs, and once more when it ends.
    """
    check_url(site, "the site")
    check_url(beian, "the filing-system URL")
    with state_lock(state_dir):
        check_database(state_dir)
        run_id = new_run_id()
        started = now()
        summary = crawl(
            site,
            state_dir,
            run_id,
            beian=beian,
            delay=delay,
            refetch_days=refetch_days,
            log_level=log_level,
            progress=progress,
        )
        if not summary["responses"]:
            reasons = ", ".join(summary.get("exceptions") or {}) or "no response"
            raise SiteUnreachable(f"cannot reach {site} ({reasons})")
        outcome = _monitor(site, state_dir, run_id, started, summary)
        deliver_after_run(state_dir, config)
        return outcome


def _monitor(
    site: str, state_dir: Path, run_id: str, started: str, summary: dict[str, Any]
) -> RunOutcome:
    """Parse, diff, reconcile and report what the crawl of *run_id* archived."""
    store = Store(state_dir)
    try:
        store.ensure_run(run_id, site, started)
        adopt_interrupted_runs(store, run_id)
        ingest_new_versions(store, state_dir, run_id)
        diff = diff_pending(store, run_id)
        analyse(store, run_id)
        checks = reconcile(store, run_id)
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
        events = int(
            store.scalar("select count(*) from events where run_id = ?", [run_id])
        )
        status = _status(failures, diff.held)
        applied = store.scalar(
            "select count(*) from batches where diff_run_id = ?", [run_id]
        )
        if diff.baseline and applied:
            kind = "initial_load"
        else:
            kind = "update" if events else "no_change"
        report = build_report(store, run_id, site, diff, summary, checks)
        stats: dict[str, Any] = {
            "crawl": summary,
            "batches": applied,
            "held": len(diff.held),
            "events": events,
            "failures": {row["status"]: row["n"] for row in failures},
        }
        store.finish_run(run_id, status=status, kind=kind, stats=stats, report=report)
    finally:
        store.close()

    return RunOutcome(run_id, status, kind, events, report)


def adopt_interrupted_runs(store: Store, run_id: str) -> None:
    """Take over what runs that never finished applied, so it gets reported.

    Runs cannot overlap (the data directory is locked), so an unfinished run
    found here was killed or crashed. Its events and applied lists are moved
    to this run, whose report then tells them.
    """
    dead = [
        row["id"]
        for row in store.query(
            "select id from runs where finished_at is null and id != ?", [run_id]
        )
    ]
    if not dead:
        return

    marks = ", ".join("?" for _ in dead)
    with store.transaction():
        store.db.execute(
            f"update events set run_id = ? where run_id in ({marks})", [run_id, *dead]
        )
        store.db.execute(
            f"update batches set diff_run_id = ? where diff_run_id in ({marks})",
            [run_id, *dead],
        )
        store.db.execute(
            f"update runs set status = 'interrupted', finished_at = ?, "
            f"report = 'Interrupted; its changes are reported by run ' || ? "
            f"where id in ({marks})",
            [now(), run_id, *dead],
        )
    logger.warning("Took over %d interrupted runs", len(dead))


def _status(failures: list[dict[str, Any]], held: list[int]) -> str:
    statuses = {row["status"] for row in failures}
    if "blocked" in statuses:
        return "blocked"
    if statuses or held:
        return "partial"
    return "ok"


@contextmanager
def state_lock(state_dir: Path) -> Iterator[None]:
    """Hold the data directory for one run; fail at once if another holds it.

    The lock is an flock on the directory itself, so no lock file is left
    behind and a crashed run releases it with its process.
    """
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        handle = os.open(state_dir, os.O_RDONLY)
    except OSError as exc:
        raise StateUnusable(f"cannot use {state_dir} as data directory: {exc}") from exc

    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RunInProgress(
                f"another cacwatch run is using {state_dir}; try again when it ends"
            ) from exc
        if not os.access(state_dir, os.W_OK):
            raise StateUnusable(f"cannot write to the data directory {state_dir}")
        yield
    finally:
        os.close(handle)


def check_database(state_dir: Path) -> None:
    """Refuse a state database that SQLite cannot read, before touching it."""
    path = state_dir / DB_NAME
    if not path.exists():
        return
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            connection.execute("select count(*) from sqlite_master").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise StateUnusable(f"{path} is not a usable cacwatch database: {exc}") from exc


def crawl(
    site: str,
    state_dir: Path,
    run_id: str,
    *,
    beian: str,
    delay: float | None,
    refetch_days: float,
    log_level: str,
    progress: CrawlProgress | None = None,
) -> dict[str, Any]:
    """Run the spiders in a child process and return its summary.

    A child process per crawl, because Twisted's reactor runs once per process.
    The child is stopped with its parent: an interrupted run leaves no crawler
    behind.
    """
    with tempfile.TemporaryDirectory(prefix="cacwatch-") as scratch:
        summary_path = Path(scratch) / "summary.json"
        log_path = Path(scratch) / "crawl.log"
        # -P keeps the current directory off sys.path, so a folder named
        # "crawler" where the user stands cannot stand in for ours.
        command = [
            sys.executable,
            "-P",
            "-m",
            "crawler",
            "--site",
            site,
            "--beian",
            beian,
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
            child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            try:
                returncode = _wait(child, state_dir, run_id, progress)
            finally:
                _stop(child)

        if returncode != 0 or not summary_path.exists():
            tail = log_path.read_text(errors="replace")[-2000:]
            raise CrawlFailed(f"crawl process exited with {returncode}: {tail}")

        summary: dict[str, Any] = json.loads(summary_path.read_text())
        if summary["responses"]:
            logs = state_dir / "logs"
            logs.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(log_path, logs / f"{run_id}.log")
        return summary


def _wait(
    child: subprocess.Popen[bytes],
    state_dir: Path,
    run_id: str,
    progress: CrawlProgress | None,
) -> int:
    """Wait for the crawl, telling *progress* how many attachments it fetched."""
    if progress is None:
        return child.wait()

    while True:
        try:
            returncode = child.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            _report_fetched(state_dir, run_id, progress)
        else:
            _report_fetched(state_dir, run_id, progress)
            return returncode


def _report_fetched(state_dir: Path, run_id: str, progress: CrawlProgress) -> None:
    """Tell *progress* the attachments the crawl of *run_id* has recorded so far."""
    path = state_dir / DB_NAME
    sql = "select count(*) from fetches where run_id = ? and target = 'attachment'"
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            row = connection.execute(sql, [run_id]).fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        # No database yet, no tables yet, or the crawler holds a lock: the
        # count is told on the next look.
        return
    progress(int(row[0]))


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
