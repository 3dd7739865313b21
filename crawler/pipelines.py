"""The archive pipeline: raw bytes into the archive, what was fetched into the state."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, ClassVar

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from crawler.fetch_status import FetchStatus
from crawler.items import AnnouncementItem, FetchItem
from monitor.archive import Archive
from monitor.fields import period_of
from monitor.store import Store, attachment_id, now

logger = logging.getLogger(__name__)


class ArchivePipeline:
    """Stores every fetched body once and records announcements and downloads.

    The state database is opened on the first item only, and network failures
    are held back until the site has answered at least once: a crawl that never
    reaches the site leaves the data directory untouched, and the caller reports
    the site as unreachable instead.

    One process runs a crawler per host (www.cac.gov.cn and the filing system
    beian.cac.gov.cn), each with its own pipeline. A host that never answers
    while the other did is a failure of the run, not an unreachable site: the
    last pipeline to close records what every pipeline held back once any of
    them was answered.
    """

    # The pipelines of this process still open, and the failures held back by
    # those already closed.
    _open: ClassVar[list[ArchivePipeline]] = []
    _orphans: ClassVar[list[FetchItem]] = []
    _any_answered: ClassVar[bool] = False

    def __init__(
        self,
        state_dir: Path,
        run_id: str,
        site: str,
        stats: StatsCollector | None = None,
    ) -> None:
        self.state_dir = state_dir
        self.run_id = run_id
        self.site = site
        self.started_at = now()
        self.archive = Archive(state_dir / "archive")
        self._store: Store | None = None
        self._stats = stats
        self._held: list[FetchItem] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        settings = crawler.settings
        state = settings.get("CACWATCH_STATE_DIR")
        run_id = settings.get("CACWATCH_RUN_ID")
        if not state or not run_id:
            raise NotConfigured("CACWATCH_STATE_DIR and CACWATCH_RUN_ID are required")
        site = settings.get("CACWATCH_SITE_URL", "")
        return cls(Path(state), run_id, site, crawler.stats)

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.state_dir)
            self._store.ensure_run(self.run_id, self.site, self.started_at)
        return self._store

    def open_spider(self, spider: Spider | None = None) -> None:
        ArchivePipeline._open.append(self)

    def close_spider(self, spider: Spider | None = None) -> None:
        cls = ArchivePipeline
        if self in cls._open:
            cls._open.remove(self)
        cls._any_answered = cls._any_answered or self._answered()
        cls._orphans.extend(self._held)
        self._held = []

        if not cls._open and cls._any_answered and cls._orphans:
            logger.info("Recording %d held-back failures", len(cls._orphans))
            for item in cls._orphans:
                self._record_fetch(item)
            cls._orphans.clear()
        if self._store is not None:
            self._store.close()

    def _answered(self) -> bool:
        if self._stats is None:
            return True
        return bool(self._stats.get_value("downloader/response_count", 0))

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if isinstance(item, AnnouncementItem):
            self._record_announcement(item)
        elif isinstance(item, FetchItem):
            if item.status == FetchStatus.NETWORK_ERROR and not self._answered():
                self._held.append(item)
                return item
            self._record_fetch(item)
            # The bytes are archived; do not carry them through the rest of the crawl.
            item.body = b""
        return item

    def _record_announcement(self, item: AnnouncementItem) -> None:
        stamp = now()
        with self.store.transaction():
            table = self.store.db.table("announcements")
            table.insert({"url": item.url, "first_seen": stamp}, ignore=True)
            table.update(
                item.url,
                {
                    "series": item.series,
                    "title": item.title,
                    "published": item.published,
                    "body_hash": item.body_hash,
                    "body_text": item.body_text,
                    "last_seen": stamp,
                },
            )

    def _record_fetch(self, item: FetchItem) -> None:
        blob = self.archive.put(item.body) if item.body else None
        target_id = None
        if item.target == "attachment" and item.announcement_url and item.link_key:
            target_id = attachment_id(item.announcement_url, item.link_key)

        with self.store.transaction():
            db = self.store.db
            if blob is not None:
                relative = blob.path.relative_to(self.state_dir).as_posix()
                db.table("blobs").insert(
                    {
                        "sha256": blob.sha256,
                        "size": blob.size,
                        "kind": blob.kind.value,
                        "path": relative,
                        "first_seen": item.fetched_at,
                    },
                    ignore=True,
                )
            if target_id is not None:
                self._record_attachment(target_id, item)
            db.table("fetches").insert(
                {
                    "run_id": self.run_id,
                    "target": item.target,
                    "attachment_id": target_id,
                    "url": item.url,
                    "final_url": item.final_url,
                    "fetched_at": item.fetched_at,
                    "status": item.status,
                    "http_status": item.http_status,
                    "sha256": blob.sha256 if blob else None,
                    "size": blob.size if blob else 0,
                    "kind": blob.kind.value if blob else None,
                    "headers": json.dumps(item.headers, ensure_ascii=False),
                    "message": item.message,
                }
            )
            if (
                blob is not None
                and target_id is not None
                and item.status == FetchStatus.OK
            ):
                db.table("versions").insert(
                    {
                        "attachment_id": target_id,
                        "sha256": blob.sha256,
                        "first_seen": item.fetched_at,
                        "run_id": self.run_id,
                    },
                    ignore=True,
                )
                db.table("attachments").update(
                    target_id, {"last_checked": item.fetched_at}
                )

        if item.status != FetchStatus.OK:
            logger.warning("Download failed (%s): %s", item.status, item.url)

    def _record_attachment(self, target_id: str, item: FetchItem) -> None:
        table = self.store.db.table("attachments")
        table.insert({"id": target_id, "first_seen": item.fetched_at}, ignore=True)
        table.update(
            target_id,
            {
                "announcement_url": item.announcement_url,
                "series": item.series,
                "link_key": item.link_key,
                "link_text": item.link_text,
                "name": item.name,
                "url": item.url,
                "period": period_of(item.name or ""),
                "last_seen": item.fetched_at,
            },
        )
