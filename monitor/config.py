"""The delivery configuration: subscriptions, their channels and filters, feeds.

It is read from one TOML file (``--config PATH``, ``CACWATCH_CONFIG``, else
``cacwatch.toml`` in the data directory) and from environment variables.
``docs/alerts.md`` describes every setting.
"""

from __future__ import annotations

import os
import re
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.topics import SERIES
from monitor.events import ALL_EVENT_KINDS
from monitor.regions import CENTRAL_SOE, REGIONS, region_by_name, region_by_pinyin

CONFIG_NAME = "cacwatch.toml"
DEFAULT_SUBSCRIPTION = "default"

# A subscription's name is also the file name of its feed.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_SLUG = re.compile(r"^[a-z0-9_]+$")
_SUBSCRIPTION_KEYS = {"urls", "series", "kinds", "sectors", "provinces", "watchlists"}


class ConfigError(Exception):
    """The delivery configuration cannot be used; the message says why."""


@dataclass(frozen=True)
class Subscription:
    """Who is told about which events, and through which channels.

    Empty filters match everything; within a filter any value matches, and
    all given filters must match.
    """

    name: str
    urls: tuple[str, ...] = ()
    series: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()  # two-digit GB/T 2260 codes
    watchlists: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeliveryConfig:
    subscriptions: tuple[Subscription, ...] = ()
    feeds_dir: Path = Path("feeds")
    feeds_base_url: str | None = None
    feed_entries: int = 200
    max_attempts: int = 10
    retry_after: float = 60.0  # seconds before the first retry, doubled each time
    retry_cap: float = 6 * 3600.0


def config_path(state_dir: Path, given: Path | None = None) -> Path:
    """The configuration file in use: given, from the environment, or the default."""
    if given is not None:
        return given
    from_env = os.environ.get("CACWATCH_CONFIG")
    return Path(from_env) if from_env else state_dir / CONFIG_NAME


def load_config(state_dir: Path, given: Path | None = None) -> DeliveryConfig:
    """Read the configuration file (if any) and the environment variables.

    A file named explicitly must exist; the default file may be absent.
    """
    path = config_path(state_dir, given)
    explicit = given is not None or bool(os.environ.get("CACWATCH_CONFIG"))
    data: dict[str, Any] = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    elif explicit:
        raise ConfigError(f"configuration file {path} does not exist")

    subscriptions = [
        _subscription(name, table, path)
        for name, table in _table(data, "subscriptions", path).items()
    ]
    from_env = _env_subscription()
    if from_env and all(s.name != from_env.name for s in subscriptions):
        subscriptions.append(from_env)

    feeds = _table(data, "feeds", path)
    delivery = _table(data, "delivery", path)
    feeds_dir = Path(str(feeds.get("dir", "feeds")))
    return DeliveryConfig(
        subscriptions=tuple(subscriptions),
        feeds_dir=feeds_dir if feeds_dir.is_absolute() else state_dir / feeds_dir,
        feeds_base_url=_optional_str(feeds, "base_url", path),
        feed_entries=_positive(feeds, "entries", 200, path),
        max_attempts=_positive(delivery, "max_attempts", 10, path),
        retry_after=float(_positive(delivery, "retry_after", 60, path)),
    )


def _table(data: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{key}] must be a table")
    return value


def _optional_str(table: dict[str, Any], key: str, path: Path) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{path}: {key} must be a string")
    return value


def _positive(table: dict[str, Any], key: str, default: int, path: Path) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{path}: {key} must be a whole number of at least 1")
    return value


def _subscription(name: str, table: Any, path: Path) -> Subscription:
    where = f"{path}: subscription {name!r}"
    if not _NAME.match(name):
        raise ConfigError(f"{where}: a name may hold letters, digits, '-' and '_' only")
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = set(table) - _SUBSCRIPTION_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown settings {', '.join(sorted(unknown))}")

    lists = {key: _strings(table.get(key, []), f"{where}: {key}") for key in table}
    urls = tuple(_expand(url, f"{where}: urls") for url in lists.get("urls", ()))
    return _checked(
        Subscription(
            name=name,
            urls=urls,
            series=lists.get("series", ()),
            kinds=lists.get("kinds", ()),
            sectors=lists.get("sectors", ()),
            provinces=tuple(
                province_code(p, where) for p in lists.get("provinces", ())
            ),
            watchlists=lists.get("watchlists", ()),
        ),
        where,
    )


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return tuple(value)


def _expand(url: str, where: str) -> str:
    """Fill ``${NAME}`` from the environment, so secrets can stay out of the file."""
    try:
        return string.Template(url).substitute(os.environ)
    except KeyError as exc:
        raise ConfigError(f"{where}: environment variable {exc} is not set") from exc
    except ValueError as exc:
        raise ConfigError(f"{where}: bad ${{…}} placeholder ({exc})") from exc


def _checked(subscription: Subscription, where: str) -> Subscription:
    for value in subscription.series:
        if value not in SERIES:
            raise ConfigError(
                f"{where}: unknown series {value!r} (one of {', '.join(SERIES)})"
            )
    for value in subscription.kinds:
        if value not in ALL_EVENT_KINDS:
            raise ConfigError(
                f"{where}: unknown event kind {value!r} "
                f"(one of {', '.join(ALL_EVENT_KINDS)})"
            )
    for value in subscription.sectors:
        if not _SLUG.match(value):
            raise ConfigError(f"{where}: sector ids are slugs such as healthcare")
    return subscription


def province_code(value: str, where: str = "configuration") -> str:
    """The two-digit code of a province given by code, Chinese, English or pinyin."""
    text = value.strip()
    if text.isdigit() and len(text) >= 2:
        code = text[:2]
        if code == CENTRAL_SOE.code or any(r.code == code for r in REGIONS):
            return code
    region = region_by_name(text)
    if region is None:
        folded = text.replace(" ", "").lower()
        region = (
            next(
                (
                    r
                    for r in (*REGIONS, CENTRAL_SOE)
                    if r.english.lower() == text.lower()
                ),
                None,
            )
            or region_by_pinyin(folded)[0]
        )
    if region is None:
        raise ConfigError(f"{where}: unknown province {value!r}")
    return region.code


def _env_subscription() -> Subscription | None:
    """The subscription of ``CACWATCH_NOTIFY_URLS`` (space-separated Apprise URLs)."""
    urls = tuple(os.environ.get("CACWATCH_NOTIFY_URLS", "").split())
    if not urls:
        return None

    where = "environment CACWATCH_NOTIFY_*"
    return _checked(
        Subscription(
            name=DEFAULT_SUBSCRIPTION,
            urls=urls,
            series=_env_list("CACWATCH_NOTIFY_SERIES"),
            kinds=_env_list("CACWATCH_NOTIFY_KINDS"),
        ),
        where,
    )


def _env_list(name: str) -> tuple[str, ...]:
    raw = os.environ.get(name, "")
    return tuple(part.strip() for part in raw.split(",") if part.strip())
