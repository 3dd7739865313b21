"""The tables of ``cacwatch sectors``: sectors, algorithm categories, roles."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterator
from typing import Any

from monitor.sectors import DEFAULT_EVIDENCE, Taxonomy
from monitor.shifts import ROLE_LABELS
from monitor.store import Store

logger = logging.getLogger(__name__)


def sector_rows(store: Store, taxonomy: Taxonomy) -> list[dict[str, Any]]:
    """One row per sector (taxonomy order, then unclassified) with its counts."""
    filings = store.query(
        "select c.sector, c.evidence, f.entity_key from classifications c "
        "join filings f on f.filing_key = c.filing_key"
    )
    total = len(filings)
    rows = []
    for sector_id in [*(s.id for s in taxonomy.sectors), None]:
        members = [f for f in filings if f["sector"] == sector_id]
        by_default = sum(1 for f in members if _by_default(f, sector_id))
        rows.append(
            {
                "sector": sector_id or "unclassified",
                "label": taxonomy.label(sector_id),
                "filings": len(members),
                "share": round(100.0 * len(members) / total, 1) if total else 0.0,
                "registrants": len({f["entity_key"] for f in members}),
                "by_default": by_default,
            }
        )
    return rows


def _by_default(filing: dict[str, Any], sector_id: str | None) -> bool:
    if sector_id is None:
        return False
    evidence = json.loads(filing["evidence"] or "{}").get(sector_id, [])
    return any(hit.get("keyword") == DEFAULT_EVIDENCE for hit in evidence)


def breakdown(store: Store, column: str) -> list[dict[str, Any]]:
    """Filings per value of ``algorithm_category`` or ``role``, with the top sector."""
    expression = {"algorithm_category": "f.algorithm_category", "role": _ROLE}[column]
    rows = store.query(
        f"select {expression} value, c.sector from filings f "
        "left join classifications c on c.filing_key = f.filing_key"
    )
    groups: dict[str, Counter[str]] = {}
    for row in rows:
        if row["value"]:
            groups.setdefault(row["value"], Counter())[
                row["sector"] or "unclassified"
            ] += 1
    return [
        {
            "value": value,
            "label": ROLE_LABELS.get(value, value),
            "filings": sum(sectors.values()),
            "top_sector": sectors.most_common(1)[0][0],
        }
        for value, sectors in sorted(groups.items(), key=lambda i: -sum(i[1].values()))
    ]


# Role of a filing: 服务提供者 or 服务技术支持者 (deep-synthesis lists), or the
# record type of a generative-AI entry (备案 filing, 登记 registration).
_ROLE = "coalesce(nullif(f.role, ''), f.record_type)"


def sector_lines(store: Store, taxonomy: Taxonomy, *, as_json: bool) -> Iterator[str]:
    """Lines of ``cacwatch sectors``: JSON objects or aligned text."""
    rows = sector_rows(store, taxonomy)
    categories = breakdown(store, "algorithm_category")
    roles = breakdown(store, "role")
    if as_json:
        for row in rows:
            yield json.dumps({"table": "sector", **row}, ensure_ascii=False)
        for table, entries in (("algorithm_category", categories), ("role", roles)):
            for entry in entries:
                yield json.dumps({"table": table, **entry}, ensure_ascii=False)
        return

    total = sum(row["filings"] for row in rows)
    left = rows[-1]["filings"]
    yield f"{total} filings; {left} unclassified ({rows[-1]['share']}%)"
    yield (
        f"{'sector':<22} {'filings':>7} {'share':>6} {'registrants':>11} "
        f"{'by default':>10}"
    )
    for row in rows:
        yield (
            f"{row['sector']:<22} {row['filings']:>7} {row['share']:>5}% "
            f"{row['registrants']:>11} {row['by_default']:>10}  {row['label']}"
        )
    for title, entries in (
        ("By algorithm category (算法类别)", categories),
        ("By role", roles),
    ):
        yield title
        for entry in entries:
            top = entry["top_sector"]
            yield f"  {entry['label']}: {entry['filings']} (top sector {top})"
