"""Which stored events a subscription asks for.

Sector, province and watchlist filters read tables that other parts of the
state add (``classifications``, ``filings.province_code``,
``watchlist_hits``). Where such a table or column is missing, its filter
matches nothing rather than failing.
"""

from __future__ import annotations

from typing import Any

from monitor.config import Subscription
from monitor.store import Store


def _marks(values: tuple[str, ...]) -> str:
    return ", ".join("?" for _ in values)


def _has_column(store: Store, table: str, column: str) -> bool:
    if not store.db[table].exists():
        return False
    return column in store.db[table].columns_dict


def filter_sql(store: Store, subscription: Subscription) -> tuple[str, list[Any]]:
    """A condition on events ``e`` that holds for the events *subscription* wants."""
    clauses = ["1 = 1"]
    params: list[Any] = []
    for column, values in (
        ("series", subscription.series),
        ("kind", subscription.kinds),
    ):
        if values:
            clauses.append(f"e.{column} in ({_marks(values)})")
            params.extend(values)

    if subscription.sectors:
        if store.db["classifications"].exists():
            marks = _marks(subscription.sectors)
            clauses.append(
                "e.filing_key in (select c.filing_key from classifications c "
                f"where c.sector in ({marks}) or exists (select 1 from "
                f"json_each(c.sectors) s where s.value in ({marks})))"
            )
            params.extend(subscription.sectors * 2)
        else:
            clauses.append("0")

    if subscription.provinces:
        if _has_column(store, "filings", "province_code"):
            clauses.append(
                "e.filing_key in (select f.filing_key from filings f "
                f"where f.province_code in ({_marks(subscription.provinces)}))"
            )
            params.extend(subscription.provinces)
        else:
            clauses.append("0")

    if subscription.watchlists:
        if store.db["watchlist_hits"].exists():
            marks = _marks(subscription.watchlists)
            clauses.append(
                "exists (select 1 from watchlist_hits w where w.watchlist in "
                f"({marks}) and (w.filing_key = e.filing_key "
                "or w.entity_key = e.entity_key))"
            )
            params.extend(subscription.watchlists)
        else:
            clauses.append("0")

    return " and ".join(clauses), params


def select_events(
    store: Store,
    subscription: Subscription,
    *,
    since: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Events for *subscription*, newest first; with *since*, only those of runs
    started at or after it."""
    where, params = filter_sql(store, subscription)
    if since is not None:
        where += " and e.run_id in (select id from runs where started_at >= ?)"
        params.append(since)
    sql = (
        f"select e.* from events e where {where} "
        "order by e.created_at desc, e.batch_id desc, e.id"
    )
    if limit is not None:
        sql += f" limit {int(limit)}"
    return store.query(sql, params)
