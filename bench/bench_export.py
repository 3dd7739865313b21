"""Measure exports and a full re-parse on the state of a first run.

Prints a Markdown table; the export numbers in docs/benchmarks.md come from it.
Run with: python bench/bench_export.py [--state DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import tempfile
import time
from pathlib import Path

from crawler.replica.server import Replica
from monitor.export import Format, Selection, export
from monitor.job import run_job
from monitor.reparse import plan_reparse
from monitor.store import Store

BEFORE = dt.date(2026, 4, 30)


def bench(state: Path) -> list[str]:
    store = Store(state, readonly=True)
    lines = []
    for table in ("filings", "rows"):
        for fmt in Format:
            # A file, as `--out` writes: memory then shows what the export
            # itself holds, not the bytes written.
            with tempfile.TemporaryFile() as out:
                started = time.perf_counter()
                count = export(store, Selection(table=table), fmt, out)
                elapsed = time.perf_counter() - started
                size = out.tell()
            lines.append(
                f"| export {count:,} {table} as {fmt} | {elapsed:.2f} s "
                f"| {size / 1_048_576:.1f} MiB written |"
            )

    started = time.perf_counter()
    plan = plan_reparse(store, state)
    elapsed = time.perf_counter() - started
    lines.append(
        f"| reparse: read {plan.checked} archived batches again and compare "
        f"| {elapsed:.1f} s | {len(plan.batches)} differ |"
    )
    store.close()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--state", type=Path, default=None)
    args = parser.parse_args()

    python = f"{platform.python_implementation()} {platform.python_version()}"
    print(f"{python}, {platform.machine()}, {os.cpu_count()} cores")
    print()
    print("| what | time | other |")
    print("|---|---|---|")
    if args.state is not None:
        lines = bench(args.state)
    else:
        with tempfile.TemporaryDirectory() as scratch, Replica(BEFORE) as site:
            state = Path(scratch) / "state"
            run_job(site.base_url, state, beian=site.beian_url, delay=0)
            lines = bench(state)
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
