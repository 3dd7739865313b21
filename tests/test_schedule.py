"""``cacwatch schedule``: runs in a row in one process, one scheduler per data
directory, cron in Asia/Shanghai whatever the host's zone."""

from __future__ import annotations

import datetime as dt
import os
import pickle
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from crawler.replica.server import Replica
from monitor.schedule import JOB_FUNC, JOB_ID, JOBS_DB, MISFIRE_GRACE

START_LINE = "Scheduler started for"


def schedule_command(state: Path, *options: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "monitor.cli",
        "schedule",
        "--state",
        str(state),
        *options,
    ]


def finished_runs(state: Path) -> list[dict[str, Any]]:
    connection = sqlite3.connect(state / "cacwatch.db")
    connection.row_factory = sqlite3.Row
    try:
        rows = connection.execute(
            "select * from runs where finished_at is not null order by started_at"
        ).fetchall()
    finally:
        connection.close()
    return [dict(row) for row in rows]


def wait_for_line(process: subprocess.Popen[str], text: str) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        if text in line:
            return line
    raise AssertionError(f"the scheduler ended without printing {text!r}")


def stored_job(state: Path, timeout: float = 60) -> dict[str, Any]:
    """The job as the scheduler's job store keeps it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = sqlite3.connect(state / JOBS_DB)
            try:
                row = connection.execute(
                    "select job_state from apscheduler_jobs where id = ?", [JOB_ID]
                ).fetchone()
            finally:
                connection.close()
        except sqlite3.OperationalError:
            row = None
        if row:
            job: dict[str, Any] = pickle.loads(row[0])
            return job
        time.sleep(0.2)
    raise AssertionError("no job in the job store")


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_two_runs_in_one_scheduler_and_a_second_scheduler_refuses(
    replica: Replica, state: Path
) -> None:
    before = len(finished_runs(state))
    env = {
        **os.environ,
        "CACWATCH_SITE": replica.base_url,
        "CACWATCH_BEIAN": replica.beian_url,
    }
    with subprocess.Popen(
        schedule_command(state, "--interval", "1", "--max-runs", "2", "--delay", "0"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as first:
        wait_for_line(first, START_LINE)
        second = subprocess.run(
            schedule_command(state, "--interval", "1"),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert first.stdout is not None
        rest = first.stdout.read()
        assert first.wait(timeout=900) == 0, rest

    assert second.returncode == 1
    assert second.stdout == ""
    assert len(second.stderr.strip().splitlines()) == 1
    assert "another cacwatch scheduler" in second.stderr
    assert "does not start" in second.stderr

    runs = finished_runs(state)[before:]
    assert len(runs) == 2
    assert all(run["status"] == "ok" for run in runs)
    assert all(run["kind"] == "no_change" for run in runs)
    assert "ReactorNotRestartable" not in rest
    assert rest.count("Scheduled run") == 2
    assert rest.rstrip().endswith("Scheduler stopped")


def _next_nine_shanghai(now: dt.datetime) -> dt.datetime:
    """The next 01:00 UTC, which is 09:00 in Asia/Shanghai (UTC+8, no DST)."""
    candidate = now.replace(hour=1, minute=0, second=0, microsecond=0)
    return candidate if candidate > now else candidate + dt.timedelta(days=1)


@pytest.mark.parametrize("host_zone", ["UTC", "America/New_York"])
def test_cron_fires_at_nine_in_shanghai_whatever_the_host_zone(
    tmp_path: Path, host_zone: str
) -> None:
    state = tmp_path / "state"
    env = {**os.environ, "TZ": host_zone}
    with subprocess.Popen(
        schedule_command(state, "--cron", "0 9 * * *"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        try:
            line = wait_for_line(process, START_LINE)
            job = stored_job(state)
            now = dt.datetime.now(dt.UTC)
        finally:
            stop(process)

    assert "(01:00 UTC)" in line
    assert "09:00 CST" in line
    next_run = job["next_run_time"].astimezone(dt.UTC)
    assert next_run == _next_nine_shanghai(now)
    assert str(job["next_run_time"].tzinfo) == "Asia/Shanghai"
    assert job["misfire_grace_time"] == MISFIRE_GRACE
    assert MISFIRE_GRACE >= 3600
    assert job["coalesce"] is True
    assert job["max_instances"] == 1
    assert job["func"] == JOB_FUNC
    assert job["kwargs"]["state_dir"] == str(state.resolve())


def _move_stored_run(state: Path, when: dt.datetime) -> None:
    """Set the stored job's next run time, as if the scheduler had been down."""
    connection = sqlite3.connect(state / JOBS_DB)
    try:
        (raw,) = connection.execute(
            "select job_state from apscheduler_jobs where id = ?", [JOB_ID]
        ).fetchone()
        job = pickle.loads(raw)
        job["next_run_time"] = when.astimezone(job["next_run_time"].tzinfo)
        connection.execute(
            "update apscheduler_jobs set job_state = ?, next_run_time = ? where id = ?",
            [pickle.dumps(job), when.timestamp(), JOB_ID],
        )
        connection.commit()
    finally:
        connection.close()


def test_a_run_missed_while_stopped_is_made_up_within_the_grace_time(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    command = schedule_command(state, "--cron", "0 9 * * *")
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        try:
            wait_for_line(process, START_LINE)
            stored_job(state)
        finally:
            stop(process)

    # Due ten minutes ago while no scheduler ran: within the hour of grace.
    _move_stored_run(state, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10))
    restarted = subprocess.run(
        [*command, "--max-runs", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert restarted.returncode == 0, restarted.stderr
    # The site of the tests' environment is a closed port on 127.0.0.1.
    assert "Scheduled run failed: cannot reach http://127.0.0.1:9" in restarted.stderr
    assert "Scheduler stopped" in restarted.stdout
