"""Measure the parsers and a full first run against the replica.

Prints a Markdown table; the numbers in docs/benchmarks.md come from it.
Run with: python bench/bench_parse.py [--repeat N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from crawler.replica.server import Replica
from monitor.diff import diff_pending
from monitor.ingest import ingest_new_versions
from monitor.job import crawl, new_run_id
from monitor.parsers import parse_attachment
from monitor.store import Store

BEFORE = dt.date(2026, 4, 30)
ROOT = Path(__file__).parent.parent
FILES = ROOT / "crawler" / "replica" / "files"
RENDITIONS = ROOT / "tests" / "data" / "renditions"


def _time_parsing(blobs: list[bytes], repeat: int) -> tuple[list[float], int]:
    """Seconds each of *repeat* passes over *blobs* took, and the rows read."""
    timings = []
    rows = 0
    for _ in range(repeat):
        started = time.perf_counter()
        rows = sum(len(parse_attachment(data).rows) for data in blobs)
        timings.append(time.perf_counter() - started)
    return timings, rows


def _peak_memory(data: bytes) -> int:
    """Peak bytes Python allocated while parsing *data*."""
    tracemalloc.start()
    parse_attachment(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def bench_parser(repeat: int) -> list[str]:
    blobs = [path.read_bytes() for path in sorted(FILES.glob("*.docx"))]
    largest = max(blobs, key=len)
    timings, rows = _time_parsing(blobs, repeat)
    best = min(timings)
    peak = _peak_memory(largest)

    return [
        f"| parse all 35 real lists ({rows} rows) | {best:.2f} s best of {repeat}, "
        f"median {statistics.median(timings):.2f} s | {rows / best:,.0f} rows/s |",
        f"| parse the largest list ({len(largest) / 1024:.0f} KiB) | — | "
        f"peak Python memory {peak / 1_048_576:.1f} MiB |",
    ]


def bench_formats(repeat: int) -> list[str]:
    """Rows per second and peak memory of each format's parser."""
    groups = {
        "generative-AI and cancellation PDFs": [
            *sorted((FILES / "genai").glob("*.pdf")),
            *sorted((FILES / "cancel").glob("*.pdf")),
        ],
        "PDF renditions of real lists": sorted(RENDITIONS.glob("*.pdf")),
        "xlsx renditions": sorted(RENDITIONS.glob("*.xlsx")),
        "xls rendition": sorted(RENDITIONS.glob("*.xls")),
    }
    lines = []
    for what, paths in groups.items():
        blobs = [path.read_bytes() for path in paths]
        timings, rows = _time_parsing(blobs, repeat)
        best = min(timings)
        peak = _peak_memory(max(blobs, key=len))

        size = sum(len(data) for data in blobs) / 1024
        lines.append(
            f"| parse {len(blobs)} {what} ({size:,.0f} KiB, {rows:,} rows) "
            f"| {best:.2f} s best of {repeat} | {rows / best:,.0f} rows/s, "
            f"largest file peak Python memory {peak / 1_048_576:.1f} MiB |"
        )
    return lines


def bench_first_run() -> list[str]:
    with tempfile.TemporaryDirectory() as scratch, Replica(BEFORE) as site:
        state = Path(scratch) / "state"
        run_id = new_run_id()

        # The crawl runs in its own process, as in `cacwatch run`, and reports
        # its own peak memory in its summary.
        started = time.perf_counter()
        summary = crawl(
            site.base_url,
            state,
            run_id,
            beian=site.beian_url,
            delay=0,
            refetch_days=7,
            log_level="WARNING",
        )
        crawl_time = time.perf_counter() - started
        requests = len(site.requests)

        store = Store(state)
        store.ensure_run(run_id, site.base_url, "")
        started = time.perf_counter()
        ingest_new_versions(store, state, run_id)
        diff = diff_pending(store, run_id)
        monitor_time = time.perf_counter() - started
        store.close()
        size = (state / "cacwatch.db").stat().st_size

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return [
        f"| first crawl of the replica ({requests} requests, no delay) "
        f"| {crawl_time:.1f} s "
        f"| crawl process peak RSS {summary['peak_rss_mib']} MiB |",
        f"| parse and diff the {len(diff.applied)} lists of that crawl "
        f"| {monitor_time:.1f} s | process peak RSS {peak:.0f} MiB, "
        f"database {size / 1_048_576:.1f} MiB |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    python = f"{platform.python_implementation()} {platform.python_version()}"
    print(f"{python}, {platform.machine()}, {os.cpu_count()} cores")
    print()
    print("| what | time | other |")
    print("|---|---|---|")
    # The whole-run numbers first, so that their peak memory is not the parser's.
    lines = bench_first_run() + bench_parser(args.repeat)
    for line in lines + bench_formats(args.repeat):
        print(line)


if __name__ == "__main__":
    main()
