"""Read the CAC page templates: channel lists, the JSON list API and articles.

Pure functions over bytes or text: no requests, no settings, no state.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urljoin, urlsplit

from parsel import Selector, SelectorList

# The Knownsec (知道创宇) WAF answers 200 with a page of its own; only the text
# tells it apart from a real page.
_BLOCK_MARKERS = ("知道创宇云防御", "最近有可疑的攻击行为")

_PUBTIME = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日\s*(\d{1,2}):(\d{2})")


@dataclass(frozen=True)
class ListItem:
    """One entry of a channel list."""

    title: str
    url: str
    date: str  # YYYY-MM-DD


@dataclass(frozen=True)
class AttachmentLink:
    """One attachment link of an article page."""

    url: str
    text: str
    ftext: str | None
    # Where a link has an id of its own (a notice id), that identifies it.
    link_id: str | None = None

    @property
    def key(self) -> str:
        """What identifies the link on its page: its id, the file name or the text."""
        return self.link_id or self.ftext or self.text


@dataclass(frozen=True)
class Article:
    """An announcement page."""

    title: str
    published: str | None  # YYYY-MM-DDTHH:MM (Beijing time, as printed)
    body_text: str
    attachments: tuple[AttachmentLink, ...]

    @property
    def body_hash(self) -> str:
        """Hash of the body text only: the page around it changes on every request."""
        return hashlib.sha256(self.body_text.encode()).hexdigest()


# Ruishu-style challenges: a page whose only job is to set a cookie from a
# script and reload, marked by a <meta … r="m"> tag.
_CHALLENGE_META = re.compile(r"<meta[^>]*\br=[\"']?m[\"']?[\s/>]", re.IGNORECASE)


def is_blocked(text: str) -> bool:
    """True if *text* is a firewall's block or challenge page, not the real page."""
    if any(marker in text for marker in _BLOCK_MARKERS):
        return True
    return bool(_CHALLENGE_META.search(text)) and "document.cookie" in text


def parse_channel_list(html: str, base_url: str) -> list[ListItem]:
    """Return the entries of a channel list page (``…index_1.htm``)."""
    selector = Selector(text=html)
    items = []
    for li in selector.css("#loadingInfoPage li"):
        link = li.css("h5 a")
        href = (link.attrib.get("href") or "").strip()
        if not href:
            continue
        # The link text may be cut short with "…"; the title attribute is whole.
        title = link.attrib.get("title") or " ".join(link.css("::text").getall())
        date = (li.css(".times::text").get() or "").strip()
        items.append(ListItem(title.strip(), urljoin(base_url, href), date))
    return items


def parse_json_list(body: bytes | str, base_url: str) -> list[ListItem]:
    """Return the entries of a ``/cms/JsonList`` answer."""
    data = json.loads(body)
    items = []
    for entry in data.get("list") or []:
        href = (entry.get("infourl") or "").strip()
        if not href:
            continue
        date = str(entry.get("pubtime") or "")[:10]
        items.append(
            ListItem(str(entry.get("topic", "")).strip(), urljoin(base_url, href), date)
        )
    return items


def _text_of(nodes: SelectorList[Selector]) -> str:
    """All text inside the first node, whitespace folded."""
    if not nodes:
        return ""
    return " ".join(" ".join(nodes[0].css("::text").getall()).split())


def parse_article(html: str, url: str) -> Article:
    """Return the title, time, body text and attachment links of an article page."""
    selector = Selector(text=html)
    title = _text_of(selector.css("h1.title")) or _text_of(selector.css("h1"))
    if not title:
        # The <title> carries the site name after an underscore.
        title = _text_of(selector.css("title")).split("_中央网络安全")[0]

    pubtime = selector.css("#pubtime::text").get() or ""
    match = _PUBTIME.search(pubtime)
    published = None
    if match:
        year, month, day, hour, minute = (int(part) for part in match.groups())
        published = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}"

    body = (
        selector.css("#BodyLabel")
        or selector.css(".TRS_Editor")
        or selector.css("body")
    )
    texts = body.xpath(
        ".//text()[not(ancestor::script) and not(ancestor::style)]"
    ).getall()
    body_text = " ".join(" ".join(texts).split())

    links = []
    for anchor in body.css("a"):
        href = (anchor.attrib.get("href") or "").strip()
        if "downloadfile" not in href and "fileDownLoad" not in href:
            continue
        absolute = urljoin(url, href)
        ftext = parse_qs(urlsplit(absolute).query).get("fText", [None])[0]
        text = " ".join(" ".join(anchor.css("::text").getall()).split())
        links.append(AttachmentLink(absolute, text, ftext.strip() if ftext else None))

    return Article(title, published, body_text, tuple(links))
