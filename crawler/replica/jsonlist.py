"""The ``/cms/JsonList`` API behind the channel pager (cac_site.md §7.2)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from crawler.replica.timeline import Publication

CHANNEL_CODE = "A093702"
DEFAULT_PER_PAGE = 20


def _int_param(params: Mapping[str, str], name: str, default: int) -> int:
    # The CMS falls back to its defaults for missing or malformed numbers.
    try:
        return int(params.get(name, default))
    except ValueError:
        return default


def render_json_list(
    params: Mapping[str, str], channel: Sequence[Publication], netloc: str
) -> bytes:
    """Answer one JsonList query over ``channel`` (newest first).

    ``pageno`` is 1-based; a page past the end, or an unknown ``channelCode``,
    gives an empty ``list``.
    """
    items = channel if params.get("channelCode") == CHANNEL_CODE else []
    per_page = max(_int_param(params, "perPage", DEFAULT_PER_PAGE), 1)
    page_no = _int_param(params, "pageno", 1)

    start = (page_no - 1) * per_page
    page = items[start : start + per_page] if page_no >= 1 else []

    payload: dict[str, Any] = {
        "totalRec": len(items),
        "list": [_list_entry(item, netloc) for item in page],
    }
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def _list_entry(item: Publication, netloc: str) -> dict[str, str]:
    stamp = f"{item.published:%Y-%m-%d %H:%M:%S}.0"
    return {
        "topic": item.title,
        "infourl": f"//{netloc}{item.url_path}",
        "pubtime": stamp,
        "filltime": stamp,
        "description": "",
        "coverurl": "",
    }
