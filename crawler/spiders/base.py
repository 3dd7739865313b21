"""What both spiders share: due checks, attachment downloads and failure records.

Every page or download that does not give what was asked for becomes a
``FetchItem`` with a named status, so a blocked or broken crawl is recorded as
such and never looks like a site with nothing new.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

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
from crawler.items import FetchItem
from crawler.pages import AttachmentLink, is_blocked
from monitor.store import attachment_id, now


class FilingSpider(scrapy.Spider):
    """A spider that downloads filing-list attachments and records every failure."""

    def __init__(
        self,
        known: dict[str, str] | None = None,
        pages: dict[str, str] | None = None,
        refetch_days: float = 7.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        # Archived attachment id -> when its bytes were last checked.
        self.known = known or {}
        # Announcement path -> oldest check of its attachments. A page whose
        # attachments are all fresh need not be visited again.
        self.pages = pages or {}
        self.refetch_after = dt.timedelta(days=float(refetch_days))

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

    def due(self, announcement_url: str, link: AttachmentLink) -> bool:
        """True unless the attachment is archived and was checked recently."""
        checked = self.known.get(attachment_id(announcement_url, link.key))
        return checked is None or self._stale(checked)

    def fresh(self, url: str) -> bool:
        """True if every attachment of the page at *url* was checked recently."""
        checked = self.pages.get(urlsplit(url).path)
        return checked is not None and not self._stale(checked)

    def _stale(self, checked: str) -> bool:
        age = dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(checked)
        return age >= self.refetch_after

    def blocked(self, response: Response) -> FetchItem | None:
        """A failure record if *response* is a firewall's page, else None."""
        if not is_blocked(text_of(response)):
            return None
        self.logger.warning("Blocked by the site's firewall: %s", response.url)
        return self.page_failure(response.url, FetchStatus.BLOCKED, response)

    def download_request(
        self,
        link: AttachmentLink,
        announcement_url: str,
        series: str,
        referer: str | None = None,
    ) -> scrapy.Request:
        kwargs = {"series": series, "announcement_url": announcement_url, "link": link}
        timeout = self.settings.getfloat("CACWATCH_ATTACHMENT_TIMEOUT", 300)
        return scrapy.Request(
            link.url,
            # Without a Referer the site answers 200 with an empty body.
            headers={"Referer": referer or announcement_url},
            callback=self.parse_attachment,
            errback=self.attachment_failed,
            cb_kwargs=kwargs,
            # Two notices may link the same file; each needs its own record.
            dont_filter=True,
            meta={"download_timeout": timeout},
        )

    def page_failure(
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


def text_of(response: Response) -> str:
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
