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

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings

from crawler.spiders.beian import BeianSpider
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
    parser.add_argument("--beian", required=True)
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
    common = {
        "known": previous.known,
        "pages": previous.pages,
        "refetch_days": args.refetch_days,
    }
    crawlers = {
        "cac": process.create_crawler(CacSpider),
        "beian": process.create_crawler(BeianSpider),
    }
    process.crawl(crawlers["cac"], site=args.site, since=previous.since, **common)
    process.crawl(crawlers["beian"], beian=args.beian, **common)
    process.start()

    args.summary.write_text(json.dumps(summarise(crawlers), default=str))
    return 0


def summarise(crawlers: dict[str, Crawler]) -> dict[str, Any]:
    """The figures of the crawl that the parent process reports on."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summary: dict[str, Any] = {"peak_rss_mib": round(peak), "exceptions": {}}
    counters = {
        "responses": "downloader/response_count",
        "items": "item_scraped_count",
        "errors": "log_count/ERROR",
        "robots_forbidden": "robotstxt/forbidden",
    }
    for name, crawler in crawlers.items():
        stats: dict[str, Any] = crawler.stats.get_stats() if crawler.stats else {}
        summary[f"{name}_responses"] = stats.get("downloader/response_count", 0)
        for key, counted in counters.items():
            summary[key] = summary.get(key, 0) + stats.get(counted, 0)
        for key, value in stats.items():
            if key.startswith("downloader/exception_type_count/"):
                kind = key.removeprefix("downloader/exception_type_count/")
                summary["exceptions"][kind] = summary["exceptions"].get(kind, 0) + value
    return summary


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
        # An attachment is settled when it has an archived version whose list
        # was read whole. One whose newest list could not be read is
        # downloaded again on every run: CAC may have fixed the file.
        attachments = connection.execute(
            "select a.id, a.announcement_url, a.last_checked, "
            "a.last_checked is not null "
            "and exists (select 1 from versions v where v.attachment_id = a.id) "
            "and coalesce((select b.status from batches b "
            "where b.attachment_id = a.id order by b.id desc limit 1), 'complete') "
            "= 'complete' from attachments a"
        ).fetchall()
        newest = connection.execute(
            "select max(published) from announcements where series != 'algorithm'"
        ).fetchone()[0]
    except sqlite3.OperationalError:
        return CrawlState()
    finally:
        connection.close()

    result = CrawlState()
    unsettled = {url for _, url, _, settled in attachments if not settled}
    for attachment, url, last_checked, settled in attachments:
        if not settled:
            continue
        result.known[attachment] = last_checked
        if url not in unsettled:
            page = urlsplit(url).path
            result.pages[page] = min(result.pages.get(page, last_checked), last_checked)

    # Page back a quarter before the newest known notice, to catch notices
    # that were published late or re-dated.
    if newest:
        day = dt.date.fromisoformat(newest[:10]) - dt.timedelta(days=90)
        result.since = day.isoformat()
    return result
