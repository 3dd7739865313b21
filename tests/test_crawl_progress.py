"""The count of fetched attachments a run reports while it crawls."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from crawler.replica.server import Replica
from monitor.job import run_job
from tests.conftest import AFTER


def test_progress_counts_the_attachments_of_the_run(
    replica: Replica, state: Path
) -> None:
    replica.as_of = AFTER
    seen: list[int] = []

    outcome = run_job(
        replica.base_url, state, beian=replica.beian_url, delay=0, progress=seen.append
    )

    connection = sqlite3.connect(state / "cacwatch.db")
    fetched = connection.execute(
        "select count(*) from fetches where run_id = ? and target = 'attachment'",
        [outcome.run_id],
    ).fetchone()[0]
    new_versions = connection.execute(
        "select count(*) from versions where run_id = ?", [outcome.run_id]
    ).fetchone()[0]
    connection.close()
    assert seen == sorted(seen)
    assert seen[-1] == fetched
    # The four lists published in May 2026 were downloaded, at least.
    assert fetched >= new_versions >= 4
