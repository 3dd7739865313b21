"""``cacwatch schedule``: run the job on a cron schedule with APScheduler.

One scheduler per data directory: an flock on ``scheduler.lock`` keeps a
second one from starting, and ``max_instances=1`` keeps one scheduler from
overlapping its own runs. The job is kept in ``scheduler.db`` (SQLAlchemy
job store) under a fixed id, referenced by its textual name with plain
arguments, so a restart restores it whatever changed in the code around it.
Each run crawls in a child process (``monitor.job.crawl``), so Twisted's
one-reactor-per-process rule never bites a second run.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import pickle
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.job import JobError, RunInProgress, run_job

logger = logging.getLogger(__name__)

JOB_ID = "cacwatch-run"
JOB_FUNC = "monitor.schedule:scheduled_run"
JOBS_DB = "scheduler.db"
LOCK_NAME = "scheduler.lock"
DEFAULT_TIMEZONE = "Asia/Shanghai"
# A run missed by up to an hour (the machine was asleep, the scheduler was
# restarting) still takes place; APScheduler's own default is one second.
MISFIRE_GRACE = 3600


class SchedulerBusy(Exception):
    """Another scheduler holds the data directory."""


def scheduled_run(
    site: str,
    state_dir: str,
    beian: str,
    delay: float | None = None,
    refetch_days: float = 7.0,
    config: str | None = None,
) -> None:
    """One scheduled run; the arguments are plain values kept in the job store."""
    try:
        outcome = run_job(
            site,
            Path(state_dir),
            beian=beian,
            delay=delay,
            refetch_days=refetch_days,
            config=Path(config) if config else None,
        )
    except RunInProgress as exc:
        logger.warning("Scheduled run skipped: %s", exc)
        return
    except JobError as exc:
        logger.error("Scheduled run failed: %s", exc)
        return
    logger.info(
        "Scheduled run %s finished: %s, %s, %d events",
        outcome.run_id,
        outcome.status,
        outcome.kind,
        outcome.events,
    )


def make_trigger(
    cron: str | None, interval: float | None, timezone: str
) -> BaseTrigger:
    """A cron trigger in *timezone*, or a fixed interval in seconds.

    Raises ``ValueError`` for a bad expression or an unknown zone.
    """
    try:
        zone = ZoneInfo(timezone)
    except (KeyError, ValueError) as exc:
        raise ValueError(f"unknown time zone {timezone!r}") from exc
    if interval is not None:
        return IntervalTrigger(seconds=interval, timezone=zone)
    if cron is None:
        raise ValueError("give --cron or --interval")
    return CronTrigger.from_crontab(cron, timezone=zone)


def jobs_url(state_dir: Path) -> str:
    return f"sqlite:///{(state_dir / JOBS_DB).resolve()}"


def run_scheduler(
    state_dir: Path,
    trigger: BaseTrigger,
    job_kwargs: dict[str, Any],
    *,
    max_runs: int | None = None,
    on_start: Callable[[str], None] = print,
) -> None:
    """Run the scheduler until interrupted (or *max_runs* runs have ended).

    Raises ``SchedulerBusy`` when another scheduler holds *state_dir*.
    """
    with scheduler_lock(state_dir):
        scheduler = BlockingScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=jobs_url(state_dir))},
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": MISFIRE_GRACE,
            },
            timezone=getattr(trigger, "timezone", ZoneInfo(DEFAULT_TIMEZONE)),
        )
        scheduler.add_job(
            JOB_FUNC,
            trigger,
            id=JOB_ID,
            name="cacwatch run",
            kwargs=job_kwargs,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=MISFIRE_GRACE,
            **_kept_next_run(state_dir, trigger, job_kwargs),
        )
        if max_runs is not None:
            scheduler.add_listener(
                _RunCounter(scheduler, max_runs), EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
            )

        on_start(_start_line(state_dir, trigger))
        try:
            scheduler.start()
        except KeyboardInterrupt:
            logger.info("Scheduler interrupted")
        finally:
            if scheduler.running:
                scheduler.shutdown(wait=False)


class _RunCounter:
    """Stops the scheduler once it has run the job *limit* times."""

    def __init__(self, scheduler: BlockingScheduler, limit: int) -> None:
        self.scheduler, self.limit, self.count = scheduler, limit, 0

    def __call__(self, event: JobExecutionEvent) -> None:
        self.count += 1
        if self.count >= self.limit:
            self.scheduler.shutdown(wait=False)


def _kept_next_run(
    state_dir: Path, trigger: BaseTrigger, job_kwargs: dict[str, Any]
) -> dict[str, Any]:
    """Keep the stored next run time of an unchanged job.

    Replacing the stored job would compute its next run from now, and a run
    missed while the scheduler was down would be lost instead of made up
    within the misfire grace time.
    """
    path = state_dir / JOBS_DB
    if not path.exists():
        return {}
    try:
        connection = sqlite3.connect(path)
        try:
            row = connection.execute(
                "select job_state from apscheduler_jobs where id = ?", [JOB_ID]
            ).fetchone()
        finally:
            connection.close()
        state = pickle.loads(row[0]) if row else None
    except (sqlite3.Error, pickle.UnpicklingError, AttributeError, ImportError):
        logger.warning("Stored scheduler job unreadable; it is replaced")
        return {}
    if not state or state.get("next_run_time") is None:
        return {}
    if str(state["trigger"]) != str(trigger) or state["kwargs"] != job_kwargs:
        return {}
    return {"next_run_time": state["next_run_time"]}


def _start_line(state_dir: Path, trigger: BaseTrigger) -> str:
    zone = getattr(trigger, "timezone", dt.UTC)
    first = trigger.get_next_fire_time(None, dt.datetime.now(zone))
    when = "never"
    if first is not None:
        utc = first.astimezone(dt.UTC)
        when = f"{first:%Y-%m-%d %H:%M %Z} ({utc:%H:%M} UTC)"
    return f"Scheduler started for {state_dir}: {trigger}, first run {when}"


@contextmanager
def scheduler_lock(state_dir: Path) -> Iterator[None]:
    """Hold ``scheduler.lock`` for the life of the scheduler; refuse if held."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / LOCK_NAME
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            holder = path.read_text().strip() or "?"
            raise SchedulerBusy(
                f"another cacwatch scheduler (pid {holder}) is running for "
                f"{state_dir}; this one does not start"
            ) from exc
        os.ftruncate(handle, 0)
        os.write(handle, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(handle)
