"""Atom feeds of events, one file per subscription (``feeds/<name>.xml``).

Entry ids come from event ids, so a feed reader shows each change once
however often the feed is rewritten.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from pathlib import Path
from typing import Any

from feedgen.feed import FeedGenerator

from crawler.topics import SERIES_LABELS
from monitor.config import DeliveryConfig, Subscription
from monitor.digest import batch_info
from monitor.selection import select_events
from monitor.store import Store, now

logger = logging.getLogger(__name__)


def feed_path(config: DeliveryConfig, name: str) -> Path:
    return config.feeds_dir / f"{name}.xml"


def self_link(config: DeliveryConfig, name: str) -> str:
    """Where the feed is served: under ``feeds.base_url``, else its file URI."""
    if config.feeds_base_url:
        return f"{config.feeds_base_url.rstrip('/')}/{name}.xml"
    return feed_path(config, name).resolve().as_uri()


def write_feeds(store: Store, config: DeliveryConfig) -> list[Path]:
    """Rewrite the feed of every subscription; return the files written."""
    written = []
    for subscription in config.subscriptions:
        events = select_events(store, subscription, limit=config.feed_entries)
        path = feed_path(config, subscription.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        xml = build_feed(store, config, subscription, events)

        # Written beside and renamed: a web server never serves half a feed.
        partial = path.with_suffix(".xml.partial")
        partial.write_bytes(xml)
        os.replace(partial, path)
        written.append(path)
    logger.info("Wrote %d feeds", len(written))
    return written


def build_feed(
    store: Store,
    config: DeliveryConfig,
    subscription: Subscription,
    events: list[dict[str, Any]],
) -> bytes:
    feed = FeedGenerator()
    feed.id(f"urn:cacwatch:feed:{subscription.name}")
    feed.title(f"cacwatch — {subscription.name}")
    feed.subtitle("Changes in CAC's official algorithm and AI filing lists")
    feed.author({"name": "cacwatch"})
    feed.link(href=self_link(config, subscription.name), rel="self")
    feed.language("zh-CN")
    feed.updated(_time(events[0]["created_at"] if events else now()))

    batches: dict[int, dict[str, Any]] = {}
    # feedgen puts each new entry first; oldest first keeps newest on top.
    for event in reversed(events):
        if event["batch_id"] not in batches:
            batches[event["batch_id"]] = batch_info(store, event["batch_id"])
        _add_entry(feed, event, batches[event["batch_id"]])
    return bytes(feed.atom_str(pretty=True))


def _add_entry(feed: Any, event: dict[str, Any], batch: dict[str, Any]) -> None:
    payload = json.loads(event["payload"] or "{}")
    entry = feed.add_entry()
    entry.id(f"urn:cacwatch:event:{event['id']}")
    entry.title(event["summary"])
    entry.updated(_time(event["created_at"]))
    entry.category(term=event["kind"])
    if event["series"]:
        entry.category(term=event["series"], label=SERIES_LABELS.get(event["series"]))
    if batch.get("announcement_url"):
        entry.link(href=batch["announcement_url"], rel="alternate")

    lines = [event["summary"], f"List: {batch.get('name') or payload.get('batch')}"]
    for label, name in (
        ("Filing number", "filing_no"),
        ("Registrant", "entity_name"),
        ("Attachment SHA-256", "attachment_sha256"),
    ):
        if payload.get(name):
            lines.append(f"{label}: {payload[name]}")
    entry.content("\n".join(lines), type="text")


def _time(stamp: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(stamp)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
