"""How the new filings of a batch are spread over sectors, provinces and roles.

Each batch is compared with the trailing batches of its series (the window):
the share of each value among the batch's new filings against its share among
the window's, the change in percentage points, the number of distinct
registrants (how crowded a sector is), and Fisher's exact test of the 2×2
table (this value or not, batch or window). ``docs/sectors.md`` documents the
window, the test and the thresholds.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.stats import fisher_exact

from monitor.provinces import filing_province, province_label
from monitor.sectors import Taxonomy
from monitor.store import Store

logger = logging.getLogger(__name__)

# The batches before this one in its series that it is compared with.
WINDOW = 3
# A shift is flagged only when the value has at least this many filings in
# the batch or in the window, moved by at least MIN_CHANGE_PP points, and
# Fisher's exact test gives p below ALPHA.
MIN_COUNT = 5
MIN_CHANGE_PP = 5.0
ALPHA = 0.01

DIMENSIONS = ("sector", "province", "role")
UNCLASSIFIED = "unclassified"
UNKNOWN = "unknown"
NOT_STATED = "not stated"
# Values that say "we do not know"; they never make a first appearance.
_NO_VALUE = {UNCLASSIFIED, UNKNOWN, NOT_STATED}

ROLE_LABELS = {
    "服务提供者": "service provider (服务提供者)",
    "服务技术支持者": "technology supplier (服务技术支持者)",
    "filing": "model filing (备案)",
    "registration": "app registration (登记)",
    NOT_STATED: NOT_STATED,
}


@dataclass(frozen=True)
class Share:
    dimension: str
    value: str
    label: str
    count: int
    total: int
    share: float  # percent of the batch's new filings
    registrants: int
    window_count: int
    window_total: int
    window_share: float
    change_pp: float
    p_value: float
    significant: bool
    first_appearance: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def value_of(filing: dict[str, Any], dimension: str) -> str:
    """The value of one filing on *dimension*."""
    if dimension == "sector":
        return str(filing.get("sector") or UNCLASSIFIED)
    if dimension == "province":
        return filing_province(filing) or UNKNOWN
    return str(filing.get("role") or filing.get("record_type") or NOT_STATED)


def label_of(dimension: str, value: str, taxonomy: Taxonomy) -> str:
    if dimension == "sector":
        return taxonomy.label(value)
    if dimension == "province":
        return province_label(None if value == UNKNOWN else value)
    return ROLE_LABELS.get(value, value)


def batch_filings(store: Store, batch_id: int) -> list[dict[str, Any]]:
    """The filings a batch listed first, with their sector."""
    return store.query(
        "select f.*, c.sector from filings f "
        "left join classifications c on c.filing_key = f.filing_key "
        "where f.first_batch_id = ? order by f.filing_key",
        [batch_id],
    )


def series_batches(store: Store, series: str) -> list[dict[str, Any]]:
    """Batches of *series* that listed new filings, oldest period first."""
    return store.query(
        "select b.id, b.name, b.period, b.series from batches b "
        "where b.series = ? and b.diffed_at is not null and exists "
        "(select 1 from filings f where f.first_batch_id = b.id) "
        "order by b.period, b.id",
        [series],
    )


def batch_shifts(
    store: Store, batch_id: int, taxonomy: Taxonomy, dimension: str
) -> list[Share]:
    """Shares of the batch's new filings on *dimension* against its window."""
    series = store.scalar("select series from batches where id = ?", [batch_id])
    order = [batch["id"] for batch in series_batches(store, str(series))]
    if batch_id not in order:
        return []

    place = order.index(batch_id)
    window_ids = order[max(0, place - WINDOW) : place]
    filings = batch_filings(store, batch_id)
    window = [f for other in window_ids for f in batch_filings(store, other)]
    seen_before = {
        value_of(f, dimension)
        for other in order[:place]
        for f in batch_filings(store, other)
    }

    counts = Counter(value_of(f, dimension) for f in filings)
    window_counts = Counter(value_of(f, dimension) for f in window)
    registrants = _registrants(filings, lambda f: value_of(f, dimension))
    shares = [
        _share(
            dimension,
            value,
            label_of(dimension, value, taxonomy),
            (counts[value], len(filings)),
            (window_counts[value], len(window)),
            registrants.get(value, 0),
            first=bool(order[:place]) and value not in seen_before,
        )
        for value in sorted(set(counts) | set(window_counts))
    ]
    return sorted(shares, key=lambda share: (-share.count, share.value))


def _registrants(
    filings: list[dict[str, Any]], key: Callable[[dict[str, Any]], str]
) -> dict[str, int]:
    groups: dict[str, set[str]] = {}
    for filing in filings:
        groups.setdefault(key(filing), set()).add(str(filing["entity_key"]))
    return {value: len(entities) for value, entities in groups.items()}


def _share(
    dimension: str,
    value: str,
    label: str,
    batch: tuple[int, int],
    window: tuple[int, int],
    registrants: int,
    *,
    first: bool,
) -> Share:
    count, total = batch
    window_count, window_total = window
    share = 100.0 * count / total if total else 0.0
    window_share = 100.0 * window_count / window_total if window_total else 0.0
    change = share - window_share

    p_value = 1.0
    if total and window_total:
        table = np.array(
            [[count, total - count], [window_count, window_total - window_count]]
        )
        p_value = float(fisher_exact(table).pvalue)
    significant = (
        bool(total and window_total)
        and value not in _NO_VALUE
        and max(count, window_count) >= MIN_COUNT
        and abs(change) >= MIN_CHANGE_PP
        and p_value < ALPHA
    )
    return Share(
        dimension=dimension,
        value=value,
        label=label,
        count=count,
        total=total,
        share=round(share, 2),
        registrants=registrants,
        window_count=window_count,
        window_total=window_total,
        window_share=round(window_share, 2),
        change_pp=round(change, 2),
        p_value=p_value,
        significant=significant,
        first_appearance=first and count > 0 and value not in _NO_VALUE,
    )


def shares_over_batches(
    store: Store, series: str, dimension: str
) -> list[tuple[str, Counter[str]]]:
    """Per batch of *series* (oldest first): its period and its value counts."""
    result = []
    for batch in series_batches(store, series):
        filings = batch_filings(store, batch["id"])
        counts = Counter(value_of(f, dimension) for f in filings)
        result.append((str(batch["period"] or batch["name"]), counts))
    return result
