"""The analyst's summary of everything the state holds (``cacwatch summary``).

Every figure is defined in ``docs/summary.md``; the definitions differ from
those of the published study in the ways that page explains.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from monitor.provinces import filing_province, province_label
from monitor.sectors import Taxonomy
from monitor.store import Store

logger = logging.getLogger(__name__)

TECHNOLOGY_SUPPLIER = "服务技术支持者"
SERVICE_PROVIDER = "服务提供者"
GENERAL_PURPOSE = "general_purpose"
# Watchlists whose registrants count as state-affiliated, and as foreign.
STATE_WATCHLISTS = ("central_soe", "public_sector")
FOREIGN_WATCHLISTS = ("foreign_invested",)
TOP = 10


def build_summary(store: Store, taxonomy: Taxonomy, top: int = TOP) -> dict[str, Any]:
    """All figures of the summary as one JSON-ready dict."""
    filings = store.query(
        "select f.filing_key, f.series, f.record_type, f.role, f.entity_key, "
        "f.filing_no, f.region, f.cancelled_batch_id, b.period, c.sector "
        "from filings f left join batches b on b.id = f.first_batch_id "
        "left join classifications c on c.filing_key = f.filing_key"
    )
    total = len(filings)
    public = [f for f in filings if _public_generative(f)]
    state = _on_watchlists(store, STATE_WATCHLISTS)
    foreign = _on_watchlists(store, FOREIGN_WATCHLISTS)

    return {
        "filings": total,
        "by_series": _by_series(filings),
        "cancelled": sum(1 for f in filings if f["cancelled_batch_id"] is not None),
        "new_per_month": _per_month(filings),
        "companies": len({f["entity_key"] for f in filings}),
        "technology_supplier_companies": len(
            {f["entity_key"] for f in filings if f["role"] == TECHNOLOGY_SUPPLIER}
        ),
        "unclassified": sum(1 for f in filings if f["sector"] is None),
        "share_general_purpose": _share(
            sum(1 for f in filings if f["sector"] == GENERAL_PURPOSE), total
        ),
        "public_generative_tools": len(public),
        "share_general_purpose_public_generative": _share(
            sum(1 for f in public if f["sector"] == GENERAL_PURPOSE), len(public)
        ),
        "share_state_affiliated": _share(
            sum(1 for f in filings if f["filing_key"] in state), total
        ),
        "share_foreign": _share(
            sum(1 for f in filings if f["filing_key"] in foreign), total
        ),
        "top_sectors_by_filings": _top_sectors(filings, taxonomy, top, companies=False),
        "top_sectors_by_companies": _top_sectors(
            filings, taxonomy, top, companies=True
        ),
        **_provinces(filings, top),
    }


def _public_generative(filing: dict[str, Any]) -> bool:
    """A generative tool offered to the public, the population of the study.

    Deep-synthesis filings of service providers (服务提供者) and every
    generative-AI entry (models filed, apps registered).
    """
    if filing["series"] == "generative_ai":
        return True
    return bool(
        filing["series"] == "deep_synthesis" and filing["role"] == SERVICE_PROVIDER
    )


def _share(part: int, whole: int) -> float:
    """Percent, rounded to one decimal."""
    return round(100.0 * part / whole, 1) if whole else 0.0


def _by_series(filings: list[dict[str, Any]]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for filing in filings:
        counts[filing["series"]] += 1
        if filing["record_type"]:
            counts[f"{filing['series']}/{filing['record_type']}"] += 1
    return dict(sorted(counts.items()))


def _per_month(filings: list[dict[str, Any]]) -> dict[str, int]:
    """New filings by the month of the list that first published them."""
    months = Counter(str(f["period"]) for f in filings if f["period"])
    return dict(sorted(months.items()))


def _on_watchlists(store: Store, watchlists: tuple[str, ...]) -> set[str]:
    marks = ", ".join("?" for _ in watchlists)
    rows = store.query(
        f"select distinct filing_key from watchlist_hits where watchlist in ({marks})",
        list(watchlists),
    )
    return {row["filing_key"] for row in rows}


def _top_sectors(
    filings: list[dict[str, Any]], taxonomy: Taxonomy, top: int, *, companies: bool
) -> list[dict[str, Any]]:
    groups: dict[str, set[str]] = {}
    for filing in filings:
        if filing["sector"] is None:
            continue
        member = filing["entity_key"] if companies else filing["filing_key"]
        groups.setdefault(filing["sector"], set()).add(member)
    whole = len({f["entity_key"] for f in filings}) if companies else len(filings)
    ranked = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return [
        {
            "sector": sector,
            "label": taxonomy.label(sector),
            "count": len(members),
            "share": _share(len(members), whole),
        }
        for sector, members in ranked[:top]
    ]


def _provinces(filings: list[dict[str, Any]], top: int) -> dict[str, Any]:
    counts = Counter(filing_province(f) or "unknown" for f in filings)
    known = sum(n for code, n in counts.items() if code != "unknown")
    ranked = sorted(
        ((code, n) for code, n in counts.items() if code != "unknown"),
        key=lambda item: (-item[1], item[0]),
    )
    return {
        "unknown_province": counts.get("unknown", 0),
        "top_provinces": [
            {
                "province_code": code,
                "label": province_label(code),
                "count": n,
                "share": _share(n, known),
            }
            for code, n in ranked[:top]
        ],
        "share_top_five_provinces": _share(sum(n for _, n in ranked[:5]), known),
    }


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as plain text for the terminal."""
    lines = [f"Filings: {summary['filings']} ({summary['cancelled']} cancelled)"]
    lines += [f"  {series}: {n}" for series, n in summary["by_series"].items()]
    months = summary["new_per_month"]
    lines.append("New filings per month (month of the list):")
    lines += [f"  {month}: {n}" for month, n in months.items()]
    lines += [
        f"Companies (distinct registrants): {summary['companies']}",
        "Companies with technology-supplier filings: "
        f"{summary['technology_supplier_companies']}",
        f"Unclassified filings: {summary['unclassified']}",
        f"Share general-purpose: {summary['share_general_purpose']}%",
        f"Public-facing generative tools: {summary['public_generative_tools']}, "
        f"of which general-purpose: "
        f"{summary['share_general_purpose_public_generative']}%",
        f"Share state-affiliated: {summary['share_state_affiliated']}%",
        f"Share foreign: {summary['share_foreign']}%",
        "Top sectors by filings:",
    ]
    lines += _ranked(summary["top_sectors_by_filings"])
    lines.append("Top sectors by companies:")
    lines += _ranked(summary["top_sectors_by_companies"])
    lines.append(f"Top provinces ({summary['unknown_province']} filings unknown):")
    lines += _ranked(summary["top_provinces"])
    lines.append(
        f"Share of the top five provinces: {summary['share_top_five_provinces']}%"
    )
    return "\n".join(lines)


def _ranked(entries: list[dict[str, Any]]) -> list[str]:
    return [f"  {e['label']}: {e['count']} ({e['share']}%)" for e in entries]
