"""What the state knows about a registrant: names, aliases, branches, filings."""

from __future__ import annotations

import json
from typing import Any

from monitor.entities import entity_key
from monitor.regions import region_by_code
from monitor.store import Store

# More than this many matches is a search too broad to print in full.
MAX_MATCHES = 20


def find_registrants(
    store: Store, text: str, limit: int = MAX_MATCHES
) -> tuple[list[dict[str, Any]], int]:
    """Registrants whose key or a former name's key contains *text*'s key.

    Returns at most *limit* of them, and how many match in all.
    """
    pattern = f"%{_escaped(entity_key(text))}%"
    keys = [
        row["key"]
        for row in store.query(
            "select key from entities where key like ? escape '\\' "
            "union select entity_key from entity_aliases "
            "where alias_key like ? escape '\\' order by 1",
            [pattern, pattern],
        )
    ]
    return [_describe(store, key) for key in keys[:limit]], len(keys)


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _describe(store: Store, key: str) -> dict[str, Any]:
    entity = store.query("select * from entities where key = ?", [key])
    aliases = store.query(
        "select alias_name, source, filing_key from entity_aliases "
        "where entity_key = ? order by alias_name",
        [key],
    )
    branches = store.query(
        "select name from entities where parent_key = ? order by name", [key]
    )
    filings = store.query(
        "select series, province_code, count(*) n, "
        "sum(cancelled_batch_id is not null) cancelled "
        "from filings where entity_key = ? group by 1, 2 order by 1, 2",
        [key],
    )
    first = entity[0] if entity else {}
    parent = first.get("parent_key")
    return {
        "key": key,
        "name": first.get("name") or key,
        "names": json.loads(first.get("names") or "[]"),
        "aliases": aliases,
        "parent": parent,
        "branches": [row["name"] for row in branches],
        "filings": filings,
    }


def registrant_text(record: dict[str, Any]) -> str:
    """The readable form of one ``find_registrants`` record."""
    lines = [f"{record['name']}  [{record['key']}]"]
    others = [name for name in record["names"] if name != record["name"]]
    if others:
        lines.append(f"  also spelt: {'; '.join(others)}")
    for alias in record["aliases"]:
        lines.append(f"  former name: {alias['alias_name']} ({alias['source']})")
    if record["parent"]:
        lines.append(f"  branch office of: {record['parent']}")
    if record["branches"]:
        lines.append(f"  branch offices: {'; '.join(record['branches'])}")

    total = sum(row["n"] for row in record["filings"])
    cancelled = sum(row["cancelled"] or 0 for row in record["filings"])
    lines.append(f"  filings: {total}, of which cancelled: {cancelled}")
    for row in record["filings"]:
        region = region_by_code(row["province_code"] or "")
        where = f"{region.name} {region.english}" if region else "province unknown"
        lines.append(f"    {row['series']:<15} {where}: {row['n']}")
    return "\n".join(lines)
