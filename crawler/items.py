"""What the spider hands to the archive pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class AnnouncementItem:
    """An announcement page of a watched series, as read on this run."""

    series: str
    url: str
    title: str
    published: str | None
    body_hash: str
    body_text: str = ""


@dataclass
class FetchItem:
    """The outcome of one download: an attachment, or a page that failed.

    ``status`` is ``ok`` only for a body that is a document; every other value
    names what went wrong (see ``crawler.fetch_status.FetchStatus``).
    """

    target: str  # "attachment" or "page"
    series: str | None
    url: str
    status: str
    fetched_at: str
    http_status: int | None = None
    final_url: str | None = None  # where redirects ended, if they did
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    message: str = ""
    announcement_url: str | None = None
    link_key: str | None = None
    link_text: str | None = None
    name: str | None = None
