"""The replica's HTTP server: stdlib ``ThreadingHTTPServer`` in a daemon thread."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit

from crawler.replica import pages
from crawler.replica.beian import BeianSite, load_notices
from crawler.replica.routes import (
    NOT_FOUND,
    CacSite,
    Request,
    Response,
    find_route,
)
from crawler.replica.series import load_timeline
from crawler.replica.waf import render_block_page, render_challenge_page

logger = logging.getLogger(__name__)

_WILDCARD_HOSTS = {"", "0.0.0.0"}

# The two hosts the replica plays, as LoggedRequest.site names them.
WWW = "www"
BEIAN = "beian"


@dataclass(frozen=True)
class LoggedRequest:
    """One request the replica answered, as a test inspects it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    status: int
    site: str = WWW


class Replica:
    """A local www.cac.gov.cn, and beian.cac.gov.cn beside it, as of ``as_of``.

    The two hosts listen on two ports of the same address: ``base_url`` and
    ``beian_url``. They start and stop together and share every knob below
    (``redirect_downloads``, ``robots_disallow`` and ``duplicate_link`` concern
    www only).

    These attributes may be changed while the server runs:

    - ``as_of``: the day the site is shown as of.
    - ``overrides``: attachment name (or stored file name, ``genai/….pdf``) →
      bytes served instead of the file.
    - ``reissues``: attachment name (or stored file name) → ``(day, bytes)``
      pairs: from each day on, the link serves those bytes instead, as when CAC
      re-uploads an old list behind the same link. Add them with ``reissue``.
    - ``blocked``: answer everything with the Knownsec WAF block page.
    - ``require_referer`` and ``referer_prefix``: downloads without a Referer
      get an empty 200 page; when a prefix is set, a Referer that does not start
      with it counts as none.

    Fault modes, all off by default:

    - ``redirect_downloads``: ``downloadfile.jsp`` answers 302 to
      ``/cms/files/<key>.docx``, which serves the file and wants a Referer too.
    - ``challenge_status``: every HTML page and the JsonList answer with
      this status (412, say) and a Ruishu-style cookie challenge.
      ``challenge_with_200`` serves the same challenge with status 200; it turns
      the challenge on by itself.
    - ``robots_disallow``: paths added as ``Disallow:`` lines to
      robots.txt (``/cms/`` forbids the downloads and the JsonList).
    - ``truncate_downloads``: files are announced at full Content-Length
      but the connection closes after 60 % of the bytes.
    - ``duplicate_link``: the deep-synthesis batch 17 page also links
      the batch 16 list, by the same URL as the batch 16 page.
    """

    def __init__(
        self,
        as_of: date,
        host: str = "127.0.0.1",
        port: int = 0,
        beian_port: int = 0,
    ) -> None:
        self.as_of = as_of
        self.host = host
        self.port = port
        self.beian_port = beian_port
        self.overrides: dict[str, bytes] = {}
        self.reissues: dict[str, list[tuple[date, bytes]]] = {}
        self.blocked = False
        self.require_referer = True
        self.referer_prefix: str | None = None
        self.redirect_downloads = False
        self.challenge_status: int | None = None
        self.challenge_with_200 = False
        self.robots_disallow: list[str] = []
        self.truncate_downloads = False
        self.duplicate_link = False
        self.requests: list[LoggedRequest] = []

        self._requests_lock = threading.Lock()
        timeline = load_timeline()
        self._routes = {
            WWW: CacSite(self, timeline).routes(),
            BEIAN: BeianSite(self, load_notices(timeline)).routes(),
        }
        self._servers: dict[str, _ReplicaServer] = {}
        self._threads: list[threading.Thread] = []

    def reissue(self, name: str, on: date, data: bytes) -> None:
        """Serve *data* behind the attachment *name* from day *on* on."""
        self.reissues.setdefault(name, []).append((on, data))

    @property
    def base_url(self) -> str:
        """The www.cac.gov.cn replica."""
        return self._url(WWW, self.port)

    @property
    def beian_url(self) -> str:
        """The beian.cac.gov.cn replica."""
        return self._url(BEIAN, self.beian_port)

    def start(self) -> Replica:
        if self._servers:
            raise RuntimeError("replica is already running")

        try:
            www = self._listen(WWW, self.port)
            self.port = www.server_address[1]
            beian = self._listen(BEIAN, self.beian_port)
            self.beian_port = beian.server_address[1]
        except OSError:
            self.stop()
            raise

        for site, server in self._servers.items():
            # A short poll keeps stop() quick; tests start and stop many replicas.
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"cac-replica-{site}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

        logger.info(
            "Replica started at %s (beian at %s) as of %s",
            self.base_url,
            self.beian_url,
            self.as_of,
        )
        return self

    def stop(self) -> None:
        if not self._servers:
            return

        for server in self._servers.values():
            if self._threads:
                server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join()
        self._servers = {}
        self._threads = []
        logger.info("Replica stopped")

    def __enter__(self) -> Replica:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def downloads(self) -> list[LoggedRequest]:
        """The logged ``downloadfile.jsp`` requests, oldest first."""
        with self._requests_lock:
            return [r for r in self.requests if r.path == pages.DOWNLOAD_PATH]

    def link_netloc(self, host_header: str | None, site: str = WWW) -> str:
        """The host:port that the site's protocol-relative links point at."""
        # A wildcard bind has no single address of its own; follow the client.
        if self.host in _WILDCARD_HOSTS and host_header:
            return host_header
        port = self.beian_port if site == BEIAN else self.port
        return f"{self._link_host()}:{port}"

    def www_netloc(self, host_header: str | None) -> str:
        """Where the www pages are, for links on the beian host.

        ``host_header`` is the Host the beian client used: on a wildcard bind,
        its host name with the www port.
        """
        host = self._link_host()
        if self.host in _WILDCARD_HOSTS and host_header:
            host = urlsplit(f"//{host_header}").hostname or host
        return f"{host}:{self.port}"

    def respond(
        self, request: Request, client_ip: str, url: str, site: str = WWW
    ) -> Response:
        """Answer one request, as the WAF in front of the site would let it."""
        if self.blocked:
            agent = request.headers.get("user-agent", "")
            html = render_block_page(client_ip, url, agent, datetime.now())
            return Response.html(html)

        route = find_route(self._routes[site], request)
        # Unknown paths get an HTML 404 page, which the challenge covers too.
        if self._challenging() and (route is None or route.page):
            return self._challenge()
        return NOT_FOUND if route is None else route.handler(request)

    def _challenging(self) -> bool:
        return self.challenge_status is not None or self.challenge_with_200

    def _challenge(self) -> Response:
        html, cookie = render_challenge_page()
        status = 200 if self.challenge_with_200 else self.challenge_status or 412
        return Response(status, html.encode("utf-8"), headers=(("Set-Cookie", cookie),))

    def record(self, logged: LoggedRequest) -> None:
        with self._requests_lock:
            self.requests.append(logged)

    def _listen(self, site: str, port: int) -> _ReplicaServer:
        server = _ReplicaServer((self.host, port), self, site)
        self._servers[site] = server
        return server

    def _link_host(self) -> str:
        return "127.0.0.1" if self.host in _WILDCARD_HOSTS else self.host

    def _url(self, site: str, port: int) -> str:
        if site not in self._servers:
            raise RuntimeError("replica is not running")
        return f"http://{self._link_host()}:{port}"


class _ReplicaServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], replica: Replica, site: str = WWW
    ) -> None:
        self.replica = replica
        self.site = site
        super().__init__(address, _RequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up mid-response are normal for crawlers; keep them
        # out of stderr. socketserver calls this inside its except block.
        logger.debug("Connection error from %s: %r", client_address, sys.exc_info()[1])


class _RequestHandler(BaseHTTPRequestHandler):
    server_version = "CacReplica"

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("HTTP %s", format % args)

    def _serve(self) -> None:
        server = cast(_ReplicaServer, self.server)
        replica = server.replica
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        params.update(self._form())
        request = Request(
            method=self.command,
            path=url.path,
            params=params,
            headers={name.lower(): value for name, value in self.headers.items()},
            netloc=replica.link_netloc(self.headers.get("Host"), server.site),
        )

        try:
            full_url = f"http://{request.netloc}{self.path}"
            response = replica.respond(
                request, self.client_address[0], full_url, server.site
            )
        except Exception:
            logger.exception("Replica failed on %s %s", self.command, self.path)
            response = Response.html("Internal Server Error", status=500)

        # Logged before the reply goes out, so a client that has its answer
        # also finds the request in the log.
        replica.record(
            LoggedRequest(
                method=self.command,
                path=url.path,
                query=url.query,
                headers=dict(self.headers.items()),
                status=response.status,
                site=server.site,
            )
        )
        self._write(response)

    def _form(self) -> dict[str, str]:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if self.command != "POST" or length <= 0:
            return {}

        body = self.rfile.read(length).decode("utf-8", errors="replace")
        return dict(parse_qsl(body, keep_blank_values=True))

    def _write(self, response: Response) -> None:
        length = response.content_length
        if length is None:
            length = len(response.body)

        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(length))
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()

        if self.command != "HEAD":
            self.wfile.write(response.body)
        if length != len(response.body):
            # Hanging up short of the announced length is the fault asked for.
            self.close_connection = True


def serve(
    as_of: date,
    host: str = "127.0.0.1",
    port: int = 8000,
    on_ready: Callable[[str], None] | None = None,
    beian_port: int = 0,
) -> None:
    """Serve the site as of ``as_of`` until interrupted (Ctrl-C).

    ``on_ready`` receives the base URL once the server listens; the beian
    host's URL is logged.
    """
    with Replica(as_of, host, port, beian_port) as replica:
        if on_ready is not None:
            on_ready(replica.base_url)

        try:
            # Nothing sets the event: wait() parks the main thread in a way that
            # Ctrl-C interrupts.
            threading.Event().wait()
        except KeyboardInterrupt:
            logger.info("Replica interrupted")
