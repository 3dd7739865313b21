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
from crawler.replica.series import deep_synthesis_path
from crawler.replica.timeline import Attachment, Publication, Timeline
from crawler.replica.tokens import file_key

logger = logging.getLogger(__name__)

HTML = "text/html; charset=UTF-8"

ROBOTS_TXT = """User-agent: *
Disallow: /zfz/
Disallow: /wxb_zfz/
Disallow: /wxzf/
Disallow: /vmsfile/newVideo.html?vid=*
"""

# With ``duplicate_link`` on, this batch page also links the previous batch's
# list, as two notices sharing one file would.
_DUPLICATE_ON_BATCH = 17
_DUPLICATED_BATCH = 16

# A truncated download stops after this share of its declared length.
TRUNCATED_SHARE = 0.6

_FILE_NAME = re.compile(re.escape(pages.FILES_PATH) + r"([0-9a-f]{32})\.[a-z]+")

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
    """An answer; ``content_length`` is announced instead of ``len(body)`` if set.

    A ``content_length`` above ``len(body)`` makes the server hang up early, as a
    connection lost mid-transfer would.
    """

    status: int
    body: bytes = b""
    content_type: str = HTML
    headers: tuple[tuple[str, str], ...] = ()
    content_length: int | None = None

    @classmethod
    def html(cls, text: str, status: int = 200) -> Response:
        return cls(status, text.encode("utf-8"))

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Response:
        return cls(status, headers=(("Location", location),))


NOT_FOUND = Response.html(_NOT_FOUND_PAGE, status=404)

Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    """Requests whose path fully matches ``pattern`` go to ``handler``.

    ``page`` marks an HTML page or the list API: what a challenging firewall
    guards. robots.txt and the files are not pages.
    """

    pattern: re.Pattern[str]
    handler: Handler
    methods: frozenset[str] = frozenset({"GET", "HEAD"})
    page: bool = True


def find_route(routes: Sequence[Route], request: Request) -> Route | None:
    """Return the first route that matches ``request``, if any."""
    for route in routes:
        if request.method in route.methods and route.pattern.fullmatch(request.path):
            return route
    return None


def dispatch(routes: Sequence[Route], request: Request) -> Response:
    """Answer ``request`` with the first matching route, else 404."""
    route = find_route(routes, request)
    return NOT_FOUND if route is None else route.handler(request)


class SiteState(Protocol):
    """The knobs a test turns while the replica runs."""

    as_of: date
    overrides: dict[str, bytes]
    reissues: dict[str, list[tuple[date, bytes]]]
    require_referer: bool
    referer_prefix: str | None
    robots_disallow: list[str]
    redirect_downloads: bool
    truncate_downloads: bool
    duplicate_link: bool


def refuses_referer(state: SiteState, request: Request) -> bool:
    """Whether a download counts as sent without a Referer."""
    if not state.require_referer:
        return False
    referer = request.headers.get("referer", "")
    prefix = state.referer_prefix
    return not referer or (prefix is not None and not referer.startswith(prefix))


def reissued_bytes(state: SiteState, attachment: Attachment) -> bytes | None:
    """The newest re-issue of an attachment dated on or before the replica's day."""
    dated = state.reissues.get(attachment.label) or state.reissues.get(
        attachment.filename, []
    )
    current = [(day, data) for day, data in dated if day <= state.as_of]
    return max(current, key=lambda item: item[0])[1] if current else None


def attachment_response(state: SiteState, attachment: Attachment) -> Response:
    """Serve an attachment's bytes, or its override, as a download.

    An override is looked up by the attachment's name, then by its stored file
    name: several GenAI announcements share one generic name, and the file name
    singles out one list.
    """
    override = state.overrides.get(attachment.label)
    if override is None:
        override = state.overrides.get(attachment.filename)
    if override is None:
        override = reissued_bytes(state, attachment)
    body = attachment.path.read_bytes() if override is None else override
    disposition = "attachment; filename*=UTF-8''" + quote(
        attachment.download_name, safe=""
    )
    headers = (("Content-Disposition", disposition),)
    media_type = attachment.media_type

    if state.truncate_downloads:
        sent = int(len(body) * TRUNCATED_SHARE)
        logger.debug("Cutting attachment %s at %d bytes", attachment.label, sent)
        return Response(200, body[:sent], media_type, headers, len(body))

    logger.debug("Serving attachment %s (%d bytes)", attachment.label, len(body))
    return Response(200, body, media_type, headers)


class CacSite:
    """www.cac.gov.cn as it stood on ``state.as_of``."""

    def __init__(self, state: SiteState, timeline: Timeline) -> None:
        self._state = state
        self._timeline = timeline
        self._stamps = itertools.count()
        self._stamps_lock = threading.Lock()
        self._tokens_by_file_key = {
            file_key(attachment.token): attachment.token
            for publication in timeline.publications
            for attachment in publication.attachments
        }

    def routes(self) -> list[Route]:
        any_method = frozenset({"GET", "HEAD", "POST"})
        return [
            Route(re.compile(r"/robots\.txt"), self.robots, page=False),
            Route(re.compile(r"/(?:index\.htm)?"), self.home),
            Route(re.compile(re.escape(pages.CHANNEL_PATH)), self.channel),
            Route(re.compile(r"/cms/JsonList"), self.json_list, any_method),
            Route(re.compile(r"/\d{4}-\d{2}/\d{2}/c_\d+\.htm"), self.article),
            Route(
                re.compile(re.escape(pages.DOWNLOAD_PATH)), self.download, page=False
            ),
            Route(_FILE_NAME, self.stored_file, page=False),
        ]

    def robots(self, request: Request) -> Response:
        extra = "".join(f"Disallow: {path}\n" for path in self._state.robots_disallow)
        return Response(200, (ROBOTS_TXT + extra).encode("ascii"), "text/plain")

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
        borrowed = self._borrowed(publication, as_of)
        html = pages.render_article(
            publication, attachments, request.netloc, stamp, borrowed
        )
        return Response.html(html)

    def download(self, request: Request) -> Response:
        # Without a Referer the real server answers an empty 200 page
        # (cac_site.md §7.4). That it does so before looking at the token is a
        # guess.
        if refuses_referer(self._state, request):
            return Response(200)

        token = request.params.get("filepath", "")
        attachment = self._timeline.attachment(token, self._state.as_of)
        if attachment is None:
            return NOT_FOUND

        if self._state.redirect_downloads:
            # Many CMSs hand the file out from a static path.
            return Response.redirect(
                f"http://{request.netloc}{pages.file_href(attachment)}"
            )
        return attachment_response(self._state, attachment)

    def stored_file(self, request: Request) -> Response:
        """Where a redirected download ends; it asks for a Referer as well."""
        # Scrapy sends the downloadfile.jsp URL as Referer on this hop.
        if refuses_referer(self._state, request):
            return Response(200)

        match = _FILE_NAME.fullmatch(request.path)
        token = self._tokens_by_file_key.get(match.group(1)) if match else None
        attachment = self._timeline.attachment(token or "", self._state.as_of)
        if attachment is None or request.path != pages.file_href(attachment):
            return NOT_FOUND
        return attachment_response(self._state, attachment)

    def _borrowed(
        self, publication: Publication, as_of: date
    ) -> list[tuple[Publication, Attachment]]:
        """Attachments of other pages that ``publication`` links too."""
        if not self._state.duplicate_link:
            return []
        if publication.url_path != deep_synthesis_path(_DUPLICATE_ON_BATCH):
            return []

        owner = self._timeline.page(deep_synthesis_path(_DUPLICATED_BATCH), as_of)
        if owner is None:
            return []
        return [(owner, attachment) for attachment in owner.attachments_as_of(as_of)]

    def _stamp(self, as_of: date, published: datetime | None = None) -> datetime:
        """Return a fresh ``publishdate``: the CMS regenerates pages constantly."""
        with self._stamps_lock:
            tick = next(self._stamps)

        base = datetime.combine(as_of, time(18, 0))
        if published is not None and published.date() == as_of:
            base = max(base, published + timedelta(minutes=1))
        return base + timedelta(seconds=tick)
