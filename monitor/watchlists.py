"""Watchlists: named lists of registrants to follow (central SOEs, chosen companies).

A watchlist is a TOML file (``monitor/data/watchlists/*.toml`` ships with
cacwatch; users add their own through ``CACWATCH_WATCHLISTS``) with:

- ``id`` and ``label``;
- ``names``: substrings of the registrant's name;
- ``patterns``: regular expressions searched in the registrant's name;
- ``regions``: 属地 values of generative-AI lists (国资委);
- ``number_prefixes``: beginnings of filing numbers (``ZhongYangQiYe-``).

A filing is on a watchlist when any rule matches; the first rule that matched
is kept as evidence. ``docs/watchlists.md`` tells how the shipped lists were
built.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SHIPPED_DIR = Path(__file__).parent / "data" / "watchlists"

# Extra watchlist files or folders of them, separated like PATH.
WATCHLISTS_ENV = "CACWATCH_WATCHLISTS"


class WatchlistError(Exception):
    """A watchlist file cannot be read or breaks the format."""


@dataclass(frozen=True)
class Watchlist:
    id: str
    label: str
    names: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()
    regions: tuple[str, ...] = ()
    number_prefixes: tuple[str, ...] = ()
    path: str = ""

    def match(self, filing: Mapping[str, Any]) -> dict[str, str] | None:
        """Evidence that *filing* is on this list, or None."""
        name = _normal(filing.get("entity_name"))
        number = _normal(filing.get("filing_no"))
        region = re.sub(r"\s", "", _normal(filing.get("region")))

        if region and region in self.regions:
            return {"rule": "region", "matched": region}
        for prefix in self.number_prefixes:
            if number.casefold().startswith(prefix.casefold()):
                return {"rule": "number_prefix", "matched": prefix}
        for part in self.names:
            if part and part in name:
                return {"rule": "name", "matched": part}
        for pattern in self.patterns:
            found = pattern.search(name)
            if found:
                return {"rule": "pattern", "matched": found.group(0)}
        return None


def _normal(value: Any) -> str:
    return unicodedata.normalize("NFKC", "" if value is None else str(value)).strip()


def load_watchlist(path: Path) -> Watchlist:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        watchlist = Watchlist(
            id=str(data["id"]),
            label=str(data.get("label", data["id"])),
            names=tuple(_normal(name) for name in data.get("names", [])),
            patterns=tuple(re.compile(text) for text in data.get("patterns", [])),
            regions=tuple(str(region) for region in data.get("regions", [])),
            number_prefixes=tuple(str(p) for p in data.get("number_prefixes", [])),
            path=str(path),
        )
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise WatchlistError(f"cannot read the watchlist {path}: {exc}") from exc
    except (KeyError, re.error) as exc:
        raise WatchlistError(f"{path} is not a valid watchlist: {exc}") from exc

    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", watchlist.id):
        raise WatchlistError(f"{path}: the id {watchlist.id!r} must be a short slug")
    return watchlist


def watchlist_paths(extra: str | None = None) -> list[Path]:
    """The shipped watchlist files, then those named by *extra* (or the env)."""
    paths = sorted(SHIPPED_DIR.glob("*.toml"))
    spec = os.environ.get(WATCHLISTS_ENV, "") if extra is None else extra
    for item in filter(None, spec.split(os.pathsep)):
        place = Path(item)
        if place.is_dir():
            paths.extend(sorted(place.glob("*.toml")))
        elif place.is_file():
            paths.append(place)
        else:
            raise WatchlistError(
                f"{WATCHLISTS_ENV} names {place}, which does not exist"
            )
    return paths


def load_watchlists(extra: str | None = None) -> list[Watchlist]:
    """Every watchlist; a user's list with a shipped id replaces the shipped one."""
    by_id: dict[str, Watchlist] = {}
    for path in watchlist_paths(extra):
        watchlist = load_watchlist(path)
        by_id[watchlist.id] = watchlist
    logger.debug("Loaded %d watchlists", len(by_id))
    return list(by_id.values())
