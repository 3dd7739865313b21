"""The www.cac.gov.cn spider: finds filing announcements, downloads their attachments.

It reads the 网信发布 channel (the static first page, then the JSON list API for
older entries) and the fixed pages of the series that grow in place, keeps the
announcements whose titles match a series rule, and follows their attachment
links with a Referer, as the site requires.

Every page or download that does not give what was asked for becomes a
``FetchItem`` with a named status, so a blocked or broken crawl is recorded as
such and never looks like a site with nothing new.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.fetch_status import (
    FetchStatus,
    classify_document,
    decode_page,
    disposition_name,
    status_for_http_error,
)
from crawler.items import AnnouncementItem, FetchItem
from crawler.pages import (
    AttachmentLink,
    ListItem,
    is_blocked,
    parse_article,
    parse_channel_list,
    parse_json_list,
)
from crawler.topics import ALGORITHM, ALGORITHM_PAGE, series_of
from monitor.store import attachment_id, now

CHANNEL_CODE = "A093702"
CHANNEL_PAGE = "/wxzw/wxfb/A093702index_1.htm"
JSON_LIST = "/cms/JsonList"
PER_PAGE = 20


class CacSpider(scrapy.Spider):
    name = "cac"

    def __init__(
        self,
        site: str = "https://www.cac.gov.cn",
        since: str | None = None,
        known: dict[str, str] | None = None,
        pages: dict[str, str] | None = None,
        refetch_days: float = 7.0,
        max_pages: int = 100,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.site = site.rstrip("/")
        # Channel entries older than this date are not paged through.
        self.since = since
        # Archived attachment id -> when its bytes were last checked.
        self.known = known or {}
        # Announcement path -> oldest check of its attachments. A batch page
        # whose attachments are all fresh need not be visited again.
        self.pages = pages or {}
        self.refetch_after = dt.timedelta(days=float(refetch_days))
        self.max_pages = int(max_pages)
        self.seen_announcements: set[str] = set()

    async def start(self) -> Any:
        for request in self.start_requests():
            yield request

    def start_requests(self) -> Iterator[scrapy.Request]:
        yield self._page_request(self.site + ALGORITHM_PAGE, ALGORITHM)
        yield scrapy.Request(
            self.site + CHANNEL_PAGE,
            callback=self.parse_channel,
            errback=self.page_failed,
            dont_filter=True,
        )
        yield self._json_list_request(1)

    def parse_channel(self, response: Response) -> Iterator[Any]:
        if (failure := self._blocked(response)) is not None:
            yield failure
            return
        yield from self._follow(parse_channel_list(_text(response), response.url))

    def parse_json_list(self, response: Response, pageno: int) -> Iterator[Any]:
        if (failure := self._blocked(response)) is not None:
            yield failure
            return

        try:
            items = parse_json_list(response.body, self.site + "/")
        except ValueError:
            yield self._page_failure(response.url, FetchStatus.HTML_BODY, response)
            return
        yield from self._follow(items)

        older = self.since is not None and all(i.date < self.since for i in items)
        if items and not older and pageno < self.max_pages:
            yield self._json_list_request(pageno + 1)

    def parse_announcement(self, response: Response, series: str) -> Iterator[Any]:
        if (failure := self._blocked(response)) is not None:
            yield failure
            return

        article = parse_article(_text(response), response.url)
        if series_of(article.title) != series:
            self.logger.warning(
                "Unexpected title on %s: %s", response.url, article.title
            )

        yield AnnouncementItem(
            series, response.url, article.title, article.published, article.body_hash
        )
        for link in article.attachments:
            if self._due(response.url, link):
                yield self._download_request(link, response.url, series)

    def parse_attachment(
        self,
        response: Response,
        series: str,
        announcement_url: str,
        link: AttachmentLink,
    ) -> FetchItem:
        headers = _headers(response)
        disposition = headers.get("Content-Disposition", "")
        return FetchItem(
            target="attachment",
            series=series,
            url=link.url,
            final_url=response.url,
            status=classify_document(response.body),
            http_status=response.status,
            fetched_at=now(),
            body=response.body,
            headers=headers,
            announcement_url=announcement_url,
            link_key=link.key,
            link_text=link.text,
            name=link.ftext or disposition_name(disposition) or link.text,
        )

    def attachment_failed(self, failure: Failure) -> FetchItem:
        kwargs = failure.request.cb_kwargs  # type: ignore[attr-defined]
        link: AttachmentLink = kwargs["link"]
        status, http_status, body = _failure_details(failure)
        self.logger.warning("Attachment failed (%s): %s", status, link.url)
        return FetchItem(
            target="attachment",
            series=kwargs["series"],
            url=link.url,
            status=status,
            http_status=http_status,
            fetched_at=now(),
            body=body,
            message=failure.getErrorMessage(),
            announcement_url=kwargs["announcement_url"],
            link_key=link.key,
            link_text=link.text,
            name=link.ftext or link.text,
        )

    def page_failed(self, failure: Failure) -> FetchItem:
        request = failure.request  # type: ignore[attr-defined]
        status, http_status, body = _failure_details(failure)
        self.logger.warning("Page failed (%s): %s", status, request.url)
        return FetchItem(
            target="page",
            series=None,
            url=request.url,
            status=status,
            http_status=http_status,
            fetched_at=now(),
            body=body,
            message=failure.getErrorMessage(),
        )

    def _follow(self, items: list[ListItem]) -> Iterator[scrapy.Request]:
        for item in items:
            series = series_of(item.title)
            if series is None or series == ALGORITHM:
                # Series A has a fixed page, requested at every start.
                continue
            if item.url in self.seen_announcements or self._fresh(item.url):
                continue
            self.seen_announcements.add(item.url)
            yield self._page_request(item.url, series)

    def _due(self, announcement_url: str, link: AttachmentLink) -> bool:
        """True unless the attachment is archived and was checked recently."""
        checked = self.known.get(attachment_id(announcement_url, link.key))
        return checked is None or self._stale(checked)

    def _fresh(self, url: str) -> bool:
        checked = self.pages.get(urlsplit(url).path)
        return checked is not None and not self._stale(checked)

    def _stale(self, checked: str) -> bool:
        age = dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(checked)
        return age >= self.refetch_after

    def _blocked(self, response: Response) -> FetchItem | None:
        if not is_blocked(_text(response)):
            return None
        self.logger.warning("Blocked by the site's firewall: %s", response.url)
        return self._page_failure(response.url, FetchStatus.BLOCKED, response)

    def _page_request(self, url: str, series: str) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_announcement,
            errback=self.page_failed,
            cb_kwargs={"series": series},
            dont_filter=True,
        )

    def _json_list_request(self, pageno: int) -> scrapy.Request:
        form = {
            "channelCode": CHANNEL_CODE,
            "perPage": str(PER_PAGE),
            "pageno": str(pageno),
        }
        return scrapy.Request(
            self.site + JSON_LIST,
            method="POST",
            body=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            callback=self.parse_json_list,
            errback=self.page_failed,
            cb_kwargs={"pageno": pageno},
            dont_filter=True,
        )

    def _download_request(
        self, link: AttachmentLink, announcement_url: str, series: str
    ) -> scrapy.Request:
        kwargs = {"series": series, "announcement_url": announcement_url, "link": link}
        timeout = self.settings.getfloat("CACWATCH_ATTACHMENT_TIMEOUT", 300)
        return scrapy.Request(
            link.url,
            # Without a Referer the site answers 200 with an empty body.
            headers={"Referer": announcement_url},
            callback=self.parse_attachment,
            errback=self.attachment_failed,
            cb_kwargs=kwargs,
            # Two notices may link the same file; each needs its own record.
            dont_filter=True,
            meta={"download_timeout": timeout},
        )

    def _page_failure(
        self, url: str, status: FetchStatus, response: Response
    ) -> FetchItem:
        return FetchItem(
            target="page",
            series=None,
            url=url,
            status=status,
            fetched_at=now(),
            http_status=response.status,
            body=response.body,
            headers=_headers(response),
        )


def _text(response: Response) -> str:
    if isinstance(response, TextResponse):
        return response.text
    # Served without a usable content type: decode it ourselves.
    return decode_page(response.body)


def _headers(response: Response) -> dict[str, str]:
    return {
        key.decode("latin-1"): b", ".join(values).decode("latin-1")
        for key, values in response.headers.items()
    }


def _failure_details(failure: Failure) -> tuple[FetchStatus, int | None, bytes]:
    """Status, HTTP code and body (kept for the archive) of a failed request."""
    if isinstance(failure.value, HttpError):
        response = failure.value.response
        status = status_for_http_error(response.status, response.body)
        return status, response.status, response.body
    if isinstance(failure.value, IgnoreRequest) and "robots.txt" in str(failure.value):
        return FetchStatus.ROBOTS_FORBIDDEN, None, b""
    if "max size" in failure.getErrorMessage():
        return FetchStatus.TOO_LARGE, None, b""
    return FetchStatus.NETWORK_ERROR, None, b""
