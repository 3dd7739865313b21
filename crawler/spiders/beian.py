"""The beian.cac.gov.cn spider: cancellation notices of the algorithm filing system.

The filing system (互联网信息服务算法备案系统) is a single-page app; its public
JSON API lists pinned notices, and each notice's PDF is downloaded by its id.
Only notices whose title announces cancelled filing numbers (注销) are kept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.http import Response

from crawler.fetch_status import FetchStatus
from crawler.items import AnnouncementItem
from crawler.pages import AttachmentLink
from crawler.spiders.base import FilingSpider
from crawler.topics import CANCELLATION

NOTICE_LIST = "/api/notice/list"
DOWNLOAD = "/api/file/fileDownLoad"


class BeianSpider(FilingSpider):
    name = "beian"

    def __init__(self, beian: str = "https://beian.cac.gov.cn", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.beian = beian.rstrip("/")

    async def start(self) -> Any:
        yield scrapy.Request(
            self.beian + NOTICE_LIST,
            # The API answers an empty body to requests without a Referer.
            headers={"Referer": self.beian + "/"},
            callback=self.parse_notices,
            errback=self.page_failed,
            dont_filter=True,
        )

    def parse_notices(self, response: Response) -> Iterator[Any]:
        if (failure := self.blocked(response)) is not None:
            yield failure
            return

        try:
            notices = json.loads(response.body)["datas"]
        except (ValueError, KeyError, TypeError):
            status = (
                FetchStatus.EMPTY_BODY if not response.body else FetchStatus.HTML_BODY
            )
            yield self.page_failure(response.url, status, response)
            return

        for notice in notices:
            title = str(notice.get("title") or "")
            notice_id = str(notice.get("noticeId") or "")
            if "注销" not in title or not notice_id:
                continue

            # The app shows a notice at this address; it is the notice's identity.
            url = f"{self.beian}/#/notice/{notice_id}"
            created = str(notice.get("createTime") or "")[:16].replace(" ", "T")
            text = f"{title} {notice.get('content') or ''}".strip()
            digest = hashlib.sha256(text.encode()).hexdigest()
            yield AnnouncementItem(
                CANCELLATION, url, title, created or None, digest, text
            )

            link = AttachmentLink(
                f"{self.beian}{DOWNLOAD}?{urlencode({'noticeId': notice_id})}",
                title,
                None,
                link_id=notice_id,
            )
            if self.due(url, link):
                yield self.download_request(
                    link, url, CANCELLATION, referer=self.beian + "/"
                )
