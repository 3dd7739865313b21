"""beian.cac.gov.cn, the algorithm filing system: its public notice API (§7.7).

``GET /api/notice/list`` returns every notice at once (the real API ignores
paging) and ``GET /api/file/fileDownLoad?noticeId=…`` a notice's attachment. The
cancellation notices of series D are only published here, each with a PDF; the
deep-synthesis notices point at their cac.gov.cn batch page and have no file
(cac_site.md §7.7 and §8).

Modelled rather than known: ``createTime`` is the notice day at 18:00 for the
cancellations and the batch page's own time for the others, in the format
``YYYY-MM-DD HH:MM:SS``; a cancellation's ``content`` links a static path that is
gone (the real ones 404 after a cleanup); an unknown notice answers 404.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from html import escape
from typing import Any, Protocol

from crawler.replica.lists import CancelNotice, cancel_notices
from crawler.replica.routes import (
    NOT_FOUND,
    Request,
    Response,
    Route,
    SiteState,
    attachment_response,
    refuses_referer,
)
from crawler.replica.series import deep_synthesis_path
from crawler.replica.timeline import DEEP_SYNTHESIS, Attachment, Publication, Timeline

NOTICE_LIST_PATH = "/api/notice/list"
FILE_DOWNLOAD_PATH = "/api/file/fileDownLoad"
STATIC_FILES_PATH = "/api/static/fileUpload/"

CANCELLATION_TYPE = 2
DEEP_SYNTHESIS_TYPE = 3

_CANCELLATION_TIME = time(18, 0)
_JSON = "application/json;charset=UTF-8"

_INDEX_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>互联网信息服务算法备案系统</title></head>
<body><noscript>请启用JavaScript</noscript><div id="app"></div>
<script src="/static/js/app.js"></script></body></html>
"""


@dataclass(frozen=True)
class Notice:
    """One entry of the notice list.

    ``page_path`` is the cac.gov.cn page a deep-synthesis notice points at;
    ``attachment`` the file of a cancellation notice.
    """

    notice_id: str
    type: int
    title: str
    created: datetime
    page_path: str | None = None
    attachment: Attachment | None = None

    def is_published(self, as_of: date) -> bool:
        return self.created.date() <= as_of


class BeianState(SiteState, Protocol):
    """The replica's knobs, plus where the www site's pages are reached."""

    def www_netloc(self, host_header: str | None) -> str: ...


def cancellation_notice(notice: CancelNotice) -> Notice:
    document = notice.document
    attachment = Attachment(
        label=notice.title,
        filename=document.filename,
        released=notice.published,
        store_key=notice.notice_id,
    )
    return Notice(
        notice_id=notice.notice_id,
        type=CANCELLATION_TYPE,
        title=notice.title,
        created=datetime.combine(notice.published, _CANCELLATION_TIME),
        attachment=attachment,
    )


def deep_synthesis_notice(page: Publication) -> Notice:
    # Real ids are random UUIDs; these are derived from the page so they stay
    # the same from run to run.
    notice_id = f"notice_{uuid.uuid5(uuid.NAMESPACE_URL, page.url_path)}"
    return Notice(
        notice_id=notice_id,
        type=DEEP_SYNTHESIS_TYPE,
        title=page.title,
        created=page.published,
        page_path=page.url_path,
    )


def load_notices(timeline: Timeline) -> list[Notice]:
    """Every notice the replica's beian host knows, whenever published."""
    notices = [cancellation_notice(notice) for notice in cancel_notices()]
    # The real list lacks the first deep-synthesis batch (§7.7).
    first_batch = deep_synthesis_path(1)
    notices += [
        deep_synthesis_notice(page)
        for page in timeline.series(DEEP_SYNTHESIS)
        if page.url_path != first_batch
    ]

    for notice in notices:
        if notice.attachment is not None and not notice.attachment.path.is_file():
            raise FileNotFoundError(notice.attachment.path)
    return notices


class BeianSite:
    """beian.cac.gov.cn as it stood on ``state.as_of``."""

    def __init__(self, state: BeianState, notices: Iterable[Notice]) -> None:
        self._state = state
        self._notices = sorted(
            notices, key=lambda n: (n.created, n.notice_id), reverse=True
        )
        self._by_id = {notice.notice_id: notice for notice in self._notices}
        if len(self._by_id) != len(self._notices):
            raise ValueError("duplicate notice id")

    def routes(self) -> list[Route]:
        return [
            Route(re.compile(r"/(?:index\.html)?"), self.index),
            Route(
                re.compile(re.escape(NOTICE_LIST_PATH)),
                self.notice_list,
                frozenset({"GET", "HEAD", "POST"}),
            ),
            Route(
                re.compile(re.escape(FILE_DOWNLOAD_PATH)),
                self.file_download,
                page=False,
            ),
        ]

    def index(self, request: Request) -> Response:
        # The real site is a single-page app whose data all comes from the API.
        return Response.html(_INDEX_PAGE)

    def notice_list(self, request: Request) -> Response:
        as_of = self._state.as_of
        www = self._state.www_netloc(request.headers.get("host"))
        datas = [
            self._entry(notice, www)
            for notice in self._notices
            if notice.is_published(as_of)
        ]
        payload = {"errno": 0, "errmsg": "", "datas": datas}
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return Response(200, body, _JSON)

    def file_download(self, request: Request) -> Response:
        # Like cac.gov.cn, an empty 200 answer without a Referer (§7.6).
        if refuses_referer(self._state, request):
            return Response(200)

        notice = self._by_id.get(request.params.get("noticeId", ""))
        if (
            notice is None
            or notice.attachment is None
            or not notice.is_published(self._state.as_of)
        ):
            return NOT_FOUND
        return attachment_response(self._state, notice.attachment)

    def _entry(self, notice: Notice, www_netloc: str) -> dict[str, Any]:
        if notice.page_path is not None:
            # The real content is https://www.cac.gov.cn/…; a client that
            # follows it must reach the replica, never the real site.
            content = f"http://{www_netloc}{notice.page_path}"
        else:
            content = _cancellation_content(notice)
        return {
            "noticeId": notice.notice_id,
            "type": notice.type,
            "title": notice.title,
            "content": content,
            "createTime": f"{notice.created:%Y-%m-%d %H:%M:%S}",
        }


def _cancellation_content(notice: Notice) -> str:
    static = f"{STATIC_FILES_PATH}notice/{notice.notice_id.removeprefix('notice_')}.pdf"
    return (
        f"<p>{escape(notice.title)}</p>"
        f'<p><a href="{static}">{escape(notice.title)}.pdf</a></p>'
    )
