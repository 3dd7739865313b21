"""After each diff: classify filings, match watchlists, find shifts, record events.

``analyse`` is called by the job right after the diff. It keeps the tables
``classifications`` and ``watchlist_hits`` up to date for every filing, and
for the batches that brought new filings in this run it stores events of the
kinds in ``ANALYTICS_EVENT_KINDS``. Event ids are hashes of kind and key, so
a repeated or resumed run stores each event once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from monitor.diff import display_name
from monitor.events import (
    FIRST_APPEARANCE,
    PROVINCE_SHIFT,
    ROLE_SHIFT,
    SECTOR_SHIFT,
    WATCHLIST_HIT,
    make_event,
)
from monitor.provinces import filing_province
from monitor.sectors import Taxonomy, classify, load_taxonomy
from monitor.shifts import batch_shifts
from monitor.store import Store
from monitor.watchlists import Watchlist, load_watchlists

logger = logging.getLogger(__name__)

_SHIFT_KINDS = {"sector": SECTOR_SHIFT, "province": PROVINCE_SHIFT, "role": ROLE_SHIFT}


@dataclass
class AnalysisResult:
    classified: int = 0
    unclassified: int = 0
    watchlist_hits: int = 0
    events: int = 0


def analyse(
    store: Store,
    run_id: str,
    *,
    taxonomy: Taxonomy | None = None,
    watchlists: list[Watchlist] | None = None,
) -> AnalysisResult:
    """Bring the analytics tables up to date and store this run's events."""
    taxonomy = taxonomy or load_taxonomy()
    watchlists = load_watchlists() if watchlists is None else watchlists
    result = AnalysisResult()

    with store.transaction():
        result.classified = classify_filings(store, taxonomy)
        result.watchlist_hits = match_watchlists(store, watchlists)
        events = []
        for batch in news_batches(store, run_id):
            events += _shift_events(store, batch, run_id, taxonomy)
            events += _watchlist_events(store, batch, run_id, watchlists)
        unique = {event["id"]: event for event in events}
        if unique:
            store.db.table("events").insert_all(unique.values(), ignore=True)
        result.events = len(unique)

    result.unclassified = int(
        store.scalar("select count(*) from classifications where sector is null")
    )
    logger.info(
        "Analysed filings (%d classified, %d watchlist hits, %d events)",
        result.classified,
        result.watchlist_hits,
        result.events,
    )
    return result


def classify_filings(store: Store, taxonomy: Taxonomy, *, force: bool = False) -> int:
    """Classify filings never classified, or classified by another taxonomy."""
    sql = (
        "select f.* from filings f left join classifications c "
        "on c.filing_key = f.filing_key"
    )
    if not force:
        sql += " where c.classifier_version is null or c.classifier_version != ?"
    filings = store.query(sql, [] if force else [taxonomy.version])

    records = []
    for filing in filings:
        found = classify(filing, taxonomy)
        records.append(
            {
                "filing_key": filing["filing_key"],
                "sector": found.sector,
                "sectors": json.dumps(found.sectors),
                "evidence": json.dumps(found.evidence, ensure_ascii=False),
                "classifier_version": taxonomy.version,
            }
        )
    if records:
        store.db.table("classifications").upsert_all(records, pk="filing_key")
    return len(records)


def match_watchlists(store: Store, watchlists: list[Watchlist]) -> int:
    """Match every filing against every watchlist, replacing the stored hits.

    All hits are recomputed, so an edited or removed list leaves no stale hit.
    """
    hits = []
    for filing in store.query("select * from filings"):
        for watchlist in watchlists:
            evidence = watchlist.match(filing)
            if evidence is not None:
                hits.append(
                    {
                        "watchlist": watchlist.id,
                        "filing_key": filing["filing_key"],
                        "entity_key": filing["entity_key"],
                        "evidence": json.dumps(evidence, ensure_ascii=False),
                    }
                )

    store.db.execute("delete from watchlist_hits")
    if hits:
        store.db.table("watchlist_hits").insert_all(hits, ignore=True)
    return len(hits)


def news_batches(store: Store, run_id: str) -> list[dict[str, Any]]:
    """Batches for which this run recorded new filings (none on an initial load)."""
    return store.query(
        "select * from batches b where exists (select 1 from events e "
        "where e.batch_id = b.id and e.run_id = ? and e.kind = 'new_filing') "
        "order by b.period, b.id",
        [run_id],
    )


def _shift_events(
    store: Store, batch: dict[str, Any], run_id: str, taxonomy: Taxonomy
) -> list[dict[str, Any]]:
    events = []
    for dimension, kind in _SHIFT_KINDS.items():
        for share in batch_shifts(store, batch["id"], taxonomy, dimension):
            payload = {"batch": batch["name"], "period": batch["period"]}
            payload |= share.as_dict()
            if share.significant:
                summary = (
                    f"{batch['name']}: {share.label} {share.share:.1f}% of new "
                    f"filings, was {share.window_share:.1f}% "
                    f"({share.change_pp:+.1f} pp, p={share.p_value:.2g})"
                )
                key = f"{batch['id']}\n{dimension}\n{share.value}"
                events.append(_event(kind, key, run_id, batch, summary, payload))
            if share.first_appearance and dimension != "role":
                summary = (
                    f"{batch['name']}: first {dimension} {share.label} in "
                    f"{batch['series']} ({share.count} "
                    f"{'filing' if share.count == 1 else 'filings'})"
                )
                key = f"{batch['series']}\n{dimension}\n{share.value}"
                events.append(
                    _event(FIRST_APPEARANCE, key, run_id, batch, summary, payload)
                )
    return events


def _watchlist_events(
    store: Store, batch: dict[str, Any], run_id: str, watchlists: list[Watchlist]
) -> list[dict[str, Any]]:
    labels = {watchlist.id: watchlist.label for watchlist in watchlists}
    rows = store.query(
        "select h.watchlist, h.evidence, f.* from watchlist_hits h "
        "join filings f on f.filing_key = h.filing_key "
        "where f.first_batch_id = ? order by h.watchlist, f.filing_key",
        [batch["id"]],
    )
    events = []
    for row in rows:
        label = labels.get(row["watchlist"], row["watchlist"])
        summary = (
            f"{row['entity_name']} ({label}): {display_name(row)} [{row['filing_no']}]"
        )
        payload = {
            "watchlist": row["watchlist"],
            "watchlist_label": label,
            "evidence": json.loads(row["evidence"]),
            "batch": batch["name"],
            "period": batch["period"],
            "filing_no": row["filing_no"],
            "name": display_name(row),
            "entity_name": row["entity_name"],
            "province_code": filing_province(row),
        }
        key = f"{row['watchlist']}\n{row['filing_key']}"
        event = _event(WATCHLIST_HIT, key, run_id, batch, summary, payload)
        event["filing_key"] = row["filing_key"]
        event["entity_key"] = row["entity_key"]
        events.append(event)
    return events


def _event(
    kind: str,
    key: str,
    run_id: str,
    batch: dict[str, Any],
    summary: str,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """An event of a whole list: no filing or registrant of its own."""
    return make_event(kind, key, run_id, batch, {}, summary, payload)
