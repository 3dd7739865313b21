"""Named outcomes of a download, so that no failure passes as an empty list."""

from __future__ import annotations

import enum
import re
from urllib.parse import unquote

from crawler.pages import is_blocked
from monitor.sniff import Kind, sniff


class FetchStatus(enum.StrEnum):
    OK = "ok"
    EMPTY_BODY = "empty_body"  # 200 with nothing in it (e.g. no Referer sent)
    HTML_BODY = "html_body"  # a web page where a document was expected
    BLOCKED = "blocked"  # the WAF's block page
    UNKNOWN_TYPE = "unknown_type"  # bytes that are no known document format
    HTTP_ERROR = "http_error"
    TOO_LARGE = "too_large"  # over DOWNLOAD_MAXSIZE; the download was cancelled
    ROBOTS_FORBIDDEN = "robots_forbidden"  # not requested: robots.txt forbids it
    NETWORK_ERROR = "network_error"  # timeouts, refused or cut connections


# Statuses firewalls answer with (412 is the Ruishu-style cookie challenge).
_BLOCKING_CODES = frozenset({403, 412, 429})


DOCUMENT_KINDS = frozenset({Kind.DOCX, Kind.XLSX, Kind.PDF, Kind.OLE, Kind.ZIP})


def classify_document(body: bytes) -> FetchStatus:
    """Decide whether a 2xx answer to an attachment link holds a document."""
    kind = sniff(body)
    if kind is Kind.EMPTY:
        return FetchStatus.EMPTY_BODY
    if kind in DOCUMENT_KINDS:
        return FetchStatus.OK
    if is_blocked(decode_page(body[:20000])):
        return FetchStatus.BLOCKED
    if kind is Kind.HTML:
        return FetchStatus.HTML_BODY
    return FetchStatus.UNKNOWN_TYPE


def status_for_http_error(code: int, body: bytes) -> FetchStatus:
    """Status of a non-2xx answer: a firewall's, or a plain HTTP error."""
    if code in _BLOCKING_CODES or is_blocked(decode_page(body[:20000])):
        return FetchStatus.BLOCKED
    return FetchStatus.HTTP_ERROR


def decode_page(body: bytes) -> str:
    """Decode a page body as UTF-8, else as GB18030 (which covers GBK and GB2312)."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("gb18030", errors="replace")


_FILENAME_STAR = re.compile(r"filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)")
_FILENAME = re.compile(r'filename\s*=\s*"?([^";]+)"?')


def disposition_name(header: str) -> str | None:
    """File name from a Content-Disposition header, without its extension."""
    match = _FILENAME_STAR.search(header) or _FILENAME.search(header)
    if match is None:
        return None
    name = unquote(match.group(1).strip())
    return re.sub(r"\.(docx?|pdf|xlsx?|zip)$", "", name, flags=re.IGNORECASE)
