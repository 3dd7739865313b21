"""Run one crawl in this process and write a JSON summary of it.

Twisted's reactor cannot be restarted, so cacwatch starts this module as a
child process for every crawl (``python -m crawler``); the parent reads the
summary file and goes on with parsing and diffing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import resource
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler.spiders.cac import CacSpider
from monitor.store import DB_NAME

logger = logging.getLogger(__name__)


@dataclass
class CrawlState:
    """What earlier runs archived, as the spider needs it."""

    # Archived attachment id -> when its bytes were last checked.
    known: dict[str, str] = field(default_factory=dict)
    # Announcement path -> when the least recently checked of its attachments
    # was checked; only pages whose every attachment is archived.
    pages: dict[str, str] = field(default_factory=dict)
    since: str | None = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler")
    parser.add_argument("--site", required=True)
    parser.add_argument("--state", required=True, type=Path)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--summary", required=True, type=Path)
    parser.add_argument("--delay", type=float, default=None)
    parser.add_argument("--refetch-days", type=float, default=7.0)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("CACWATCH_SITE_URL", args.site)
    settings.set("CACWATCH_STATE_DIR", str(args.state))
    settings.set("CACWATCH_RUN_ID", args.run_id)
    settings.set("LOG_LEVEL", args.log_level)
    if args.delay is not None:
        settings.set("DOWNLOAD_DELAY", args.delay)
        settings.set("AUTOTHROTTLE_ENABLED", args.delay > 0)

    previous = read_state(args.state)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(CacSpider)
    process.crawl(
        crawler,
        site=args.site,
        since=previous.since,
        known=previous.known,
        pages=previous.pages,
        refetch_days=args.refetch_days,
    )
    process.start()

    stats: dict[str, Any] = crawler.stats.get_stats() if crawler.stats else {}
    summary = {
        "responses": stats.get("downloader/response_count", 0),
        "items": stats.get("item_scraped_count", 0),
        "errors": stats.get("log_count/ERROR", 0),
        "robots_forbidden": stats.get("robotstxt/forbidden", 0),
        "finish_reason": stats.get("finish_reason"),
        "peak_rss_mib": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        ),
        "exceptions": {
            key.removeprefix("downloader/exception_type_count/"): value
            for key, value in stats.items()
            if key.startswith("downloader/exception_type_count/")
        },
    }
    args.summary.write_text(json.dumps(summary, default=str))
    return 0


def read_state(state: Path) -> CrawlState:
    """What the spider needs to know of earlier runs.

    Reads without creating anything: a first run against an unreachable site
    must leave an empty data directory empty.
    """
    path = state / DB_NAME
    if not path.exists():
        return CrawlState()

    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        checked = connection.execute(
            "select a.id, a.announcement_url, a.last_checked from attachments a "
            "where a.last_checked is not null and exists "
            "(select 1 from versions v where v.attachment_id = a.id)"
        ).fetchall()
        unchecked = {
            url
            for (url,) in connection.execute(
                "select a.announcement_url from attachments a where not exists "
                "(select 1 from versions v where v.attachment_id = a.id)"
            )
        }
        newest = connection.execute(
            "select max(published) from announcements where series != 'algorithm'"
        ).fetchone()[0]
    except sqlite3.OperationalError:
        return CrawlState()
    finally:
        connection.close()

    result = CrawlState(known={row[0]: row[2] for row in checked})
    for _, url, last_checked in checked:
        if url in unchecked:
            continue
        page = urlsplit(url).path
        result.pages[page] = min(result.pages.get(page, last_checked), last_checked)

    # Page back a quarter before the newest known notice, to catch notices
    # that were published late or re-dated.
    if newest:
        day = dt.date.fromisoformat(newest[:10]) - dt.timedelta(days=90)
        result.since = day.isoformat()
    return result
