"""Request routing: generic request/response types and the www.cac.gov.cn routes.

A site is a table of :class:`Route` objects; the server only knows how to turn
HTTP into a :class:`Request` and a :class:`Response` back into HTTP. A second
host (for example beian.cac.gov.cn) is another route table over the same types.
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol
from urllib.parse import quote

from crawler.replica import jsonlist, pages
from crawler.replica.timeline import Timeline

logger = logging.getLogger(__name__)

HTML = "text/html; charset=UTF-8"

ROBOTS_TXT = """User-agent: *
Disallow: /zfz/
Disallow: /wxb_zfz/
Disallow: /wxzf/
Disallow: /vmsfile/newVideo.html?vid=*
"""

_NOT_FOUND_PAGE = """<!DOCTYPE html>
<html><head><meta charset="UTF-8"><title>404 Not Found</title></head>
<body><h1>404 Not Found</h1></body></html>
"""


@dataclass(frozen=True)
class Request:
    """What a route handler sees of one HTTP request.

    ``params`` merges the query string and a form body, one value per name (the
    form's wins); ``headers`` has lower-case names; ``netloc`` is the host:port the
    site's own absolute links point at.
    """

    method: str
    path: str
    params: Mapping[str, str]
    headers: Mapping[str, str]
    netloc: str


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = HTML
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def html(cls, text: str, status: int = 200) -> Response:
        return cls(status, text.encode("utf-8"))


NOT_FOUND = Response.html(_NOT_FOUND_PAGE, status=404)

Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    """Requests whose path fully matches ``pattern`` go to ``handler``."""

    pattern: re.Pattern[str]
    handler: Handler
    methods: frozenset[str] = frozenset({"GET", "HEAD"})


def dispatch(routes: Sequence[Route], request: Request) -> Response:
    """Answer ``request`` with the first matching route, else 404."""
    for route in routes:
        if request.method in route.methods and route.pattern.fullmatch(request.path):
            return route.handler(request)
    return NOT_FOUND


class SiteState(Protocol):
    """The knobs a test turns while the replica runs."""

    as_of: date
    overrides: dict[str, bytes]
    require_referer: bool
    referer_prefix: str | None


class CacSite:
    """www.cac.gov.cn as it stood on ``state.as_of``."""

    def __init__(self, state: SiteState, timeline: Timeline) -> None:
        self._state = state
        self._timeline = timeline
        self._stamps = itertools.count()
        self._stamps_lock = threading.Lock()

    def routes(self) -> list[Route]:
        any_method = frozenset({"GET", "HEAD", "POST"})
        return [
            Route(re.compile(r"/robots\.txt"), self.robots),
            Route(re.compile(r"/(?:index\.htm)?"), self.home),
            Route(re.compile(re.escape(pages.CHANNEL_PATH)), self.channel),
            Route(re.compile(r"/cms/JsonList"), self.json_list, any_method),
            Route(re.compile(r"/\d{4}-\d{2}/\d{2}/c_\d+\.htm"), self.article),
            Route(re.compile(re.escape(pages.DOWNLOAD_PATH)), self.download),
        ]

    def robots(self, request: Request) -> Response:
        return Response(200, ROBOTS_TXT.encode("ascii"), "text/plain")

    def home(self, request: Request) -> Response:
        as_of = self._state.as_of
        return Response.html(pages.render_home(request.netloc, self._stamp(as_of)))

    def channel(self, request: Request) -> Response:
        as_of = self._state.as_of
        items = self._timeline.channel(as_of)[: pages.CHANNEL_PAGE_SIZE]
        html = pages.render_channel(items, request.netloc, self._stamp(as_of))
        return Response.html(html)

    def json_list(self, request: Request) -> Response:
        channel = self._timeline.channel(self._state.as_of)
        body = jsonlist.render_json_list(request.params, channel, request.netloc)
        return Response(200, body, "application/json; charset=UTF-8")

    def article(self, request: Request) -> Response:
        as_of = self._state.as_of
        publication = self._timeline.page(request.path, as_of)
        if publication is None:
            return NOT_FOUND

        stamp = self._stamp(as_of, publication.published)
        attachments = publication.attachments_as_of(as_of)
        html = pages.render_article(publication, attachments, request.netloc, stamp)
        return Response.html(html)

    def download(self, request: Request) -> Response:
        # Without a Referer the real server answers an empty 200 page
        # (cac_site.md §7.4). That it does so before looking at the token is a
        # guess.
        referer = request.headers.get("referer", "")
        prefix = self._state.referer_prefix
        if self._state.require_referer and (
            not referer or (prefix is not None and not referer.startswith(prefix))
        ):
            return Response(200)

        as_of = self._state.as_of
        attachment = self._timeline.attachment(
            request.params.get("filepath", ""), as_of
        )
        if attachment is None:
            return NOT_FOUND

        override = self._state.overrides.get(attachment.label)
        body = attachment.path.read_bytes() if override is None else override
        disposition = "attachment; filename*=UTF-8''" + quote(
            attachment.download_name, safe=""
        )
        logger.debug("Serving attachment %s (%d bytes)", attachment.label, len(body))
        return Response(
            200,
            body,
            "application/octet-stream",
            (("Content-Disposition", disposition),),
        )

    def _stamp(self, as_of: date, published: datetime | None = None) -> datetime:
        """Return a fresh ``publishdate``: the CMS regenerates pages constantly."""
        with self._stamps_lock:
            tick = next(self._stamps)

        base = datetime.combine(as_of, time(18, 0))
        if published is not None and published.date() == as_of:
            base = max(base, published + timedelta(minutes=1))
        return base + timedelta(seconds=tick)
