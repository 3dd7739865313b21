"""The www.cac.gov.cn spider: finds filing announcements, downloads their attachments.

It reads the 网信发布 channel (the static first page, then the JSON list API for
older entries) and the fixed pages of the series that grow in place, keeps the
announcements whose titles match a series rule, and follows their attachment
links with a Referer, as the site requires.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import scrapy
from scrapy.http import Response

from crawler.fetch_status import FetchStatus
from crawler.items import AnnouncementItem
from crawler.pages import ListItem, parse_article, parse_channel_list, parse_json_list
from crawler.spiders.base import FilingSpider, text_of
from crawler.topics import CANCELLATION, FIXED_PAGES, series_of

CHANNEL_CODE = "A093702"
CHANNEL_PAGE = "/wxzw/wxfb/A093702index_1.htm"
JSON_LIST = "/cms/JsonList"
PER_PAGE = 20


class CacSpider(FilingSpider):
    name = "cac"

    def __init__(
        self,
        site: str = "https://www.cac.gov.cn",
        since: str | None = None,
        max_pages: int = 100,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.site = site.rstrip("/")
        # Channel entries older than this date are not paged through.
        self.since = since
        self.max_pages = int(max_pages)
        self.seen_announcements: set[str] = set()

    async def start(self) -> Any:
        for request in self.start_requests():
            yield request

    def start_requests(self) -> Iterator[scrapy.Request]:
        for series, path in FIXED_PAGES.items():
            yield self._page_request(self.site + path, series)
        yield scrapy.Request(
            self.site + CHANNEL_PAGE,
            callback=self.parse_channel,
            errback=self.page_failed,
            dont_filter=True,
        )
        yield self._json_list_request(1)

    def parse_channel(self, response: Response) -> Iterator[Any]:
        if (failure := self.blocked(response)) is not None:
            yield failure
            return
        yield from self._follow(parse_channel_list(text_of(response), response.url))

    def parse_json_list(self, response: Response, pageno: int) -> Iterator[Any]:
        if (failure := self.blocked(response)) is not None:
            yield failure
            return

        try:
            items = parse_json_list(response.body, self.site + "/")
        except ValueError:
            yield self.page_failure(response.url, FetchStatus.HTML_BODY, response)
            return
        yield from self._follow(items)

        older = self.since is not None and all(i.date < self.since for i in items)
        if items and not older and pageno < self.max_pages:
            yield self._json_list_request(pageno + 1)

    def parse_announcement(self, response: Response, series: str) -> Iterator[Any]:
        if (failure := self.blocked(response)) is not None:
            yield failure
            return

        article = parse_article(text_of(response), response.url)
        if series_of(article.title) != series:
            self.logger.warning(
                "Unexpected title on %s: %s", response.url, article.title
            )

        yield AnnouncementItem(
            series,
            response.url,
            article.title,
            article.published,
            article.body_hash,
            article.body_text,
        )
        for link in article.attachments:
            if self.due(response.url, link):
                yield self.download_request(link, response.url, series)

    def _follow(self, items: list[ListItem]) -> Iterator[scrapy.Request]:
        fixed = set(FIXED_PAGES.values())
        for item in items:
            series = series_of(item.title)
            if series is None or series == CANCELLATION:
                continue
            # The growing pages are requested at every start.
            if urlsplit(item.url).path in fixed:
                continue
            if item.url in self.seen_announcements or self.fresh(item.url):
                continue
            self.seen_announcements.add(item.url)
            yield self._page_request(item.url, series)

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
