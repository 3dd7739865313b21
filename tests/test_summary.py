"""`cacwatch summary` on the full real data, against independent counts.

The lists are read again here without cacwatch's parsers (``read_list`` for
the .docx lists, the ground-truth rows of the generative-AI and cancellation
lists); sector and watchlist figures are counted with SQL straight from the
tables ``analyse`` fills.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from crawler.replica.lists import cancel_notices, genai_documents
from crawler.replica.series import load_timeline
from monitor.cli import cli
from monitor.regions import REGIONS, region_by_name
from monitor.store import Store
from tests.conftest import AFTER, filing_key, read_list, registrant_key

_PERIOD = re.compile(r"(\d{4})年(\d{1,2})月")
_ALGORITHM_NUMBER = re.compile(r"网信算备(\d{2})")
_SERIES_ORDER = {"algorithm": 0, "deep_synthesis": 1, "generative_ai": 2}
_PROVINCES = {region.code for region in REGIONS}


@dataclass
class Lists:
    """What the lists published by 2026-05-31 hold, read independently."""

    genai_types: dict[str, str] = field(default_factory=dict)
    registrants: set[str] = field(default_factory=set)
    province: dict[str, str] = field(default_factory=dict)
    cancelled: set[str] = field(default_factory=set)

    # Per filing: (period, series order, series, role, registrant) of its first list.
    first_list: dict[str, tuple[str, int, str, str, str]] = field(default_factory=dict)

    def add(
        self, series: str, key: str, entity: str, period: str, role: str = ""
    ) -> None:
        """One row; a filing belongs to the series of the list applied first.

        Lists are applied oldest period first, and within a period algorithm
        before deep-synthesis before generative-AI (docs/data-model.md).
        """
        self.registrants.add(entity)
        place = (period, _SERIES_ORDER[series], series, role, entity)
        if key not in self.first_list or place < self.first_list[key]:
            self.first_list[key] = place

    @property
    def by_series(self) -> dict[str, set[str]]:
        groups: dict[str, set[str]] = {}
        for key, (_, _, series, _, _) in self.first_list.items():
            groups.setdefault(series, set()).add(key)
        return groups

    @property
    def first_period(self) -> dict[str, str]:
        return {key: place[0] for key, place in self.first_list.items()}

    @property
    def suppliers(self) -> set[str]:
        """Registrants of filings whose first list names them 服务技术支持者."""
        return {
            entity
            for _, _, _, role, entity in self.first_list.values()
            if role == "服务技术支持者"
        }


def _period(title: str) -> str:
    match = _PERIOD.search(title)
    assert match, title
    return f"{match.group(1)}-{int(match.group(2)):02d}"


def _read_lists() -> Lists:
    lists = Lists()
    for series in ("algorithm", "deep_synthesis"):
        for publication in load_timeline().series(series):
            for attachment in publication.attachments:
                if attachment.released > AFTER:
                    continue
                for row in read_list(attachment.path):
                    key = filing_key(row["备案编号"])
                    entity = registrant_key(row["主体名称"])
                    period = _period(attachment.label)
                    lists.add(series, key, entity, period, row.get("角色", ""))
                    code = _ALGORITHM_NUMBER.match(key)
                    if code and code.group(1) in _PROVINCES:
                        lists.province[key] = code.group(1)

    for document in genai_documents():
        if document.released > AFTER:
            continue
        for entry in document.expected_rows():
            key = filing_key(str(entry["filing_no"]))
            entity = registrant_key(str(entry["entity_name"]))
            lists.add("generative_ai", key, entity, _period(document.title))
            lists.genai_types[key] = "registration" if entry["table"] else "filing"
            region = region_by_name(str(entry["region"]))
            if region is not None:
                lists.province.setdefault(key, region.code)

    for notice in cancel_notices():
        if notice.published <= AFTER:
            rows = notice.document.expected_rows()
            lists.cancelled |= {filing_key(str(r["filing_no"])) for r in rows}
    return lists


@pytest.fixture(scope="module")
def printed(full_state: Path) -> tuple[dict[str, Any], str]:
    runner = CliRunner()
    as_json = runner.invoke(cli, ["summary", "--state", str(full_state), "--json"])
    as_text = runner.invoke(cli, ["summary", "--state", str(full_state)])
    assert as_json.exit_code == 0, as_json.output
    assert as_text.exit_code == 0, as_text.output
    return json.loads(as_json.output), as_text.output


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1)


def test_totals_per_series_and_overall(printed: tuple[dict[str, Any], str]) -> None:
    figures, text = printed
    lists = _read_lists()
    every = set(lists.first_list)
    types = Counter(lists.genai_types.values())

    assert figures["filings"] == len(every)
    for series, keys in lists.by_series.items():
        assert figures["by_series"][series] == len(keys)
    assert figures["by_series"]["generative_ai/filing"] == types["filing"]
    assert figures["by_series"]["generative_ai/registration"] == types["registration"]
    assert figures["cancelled"] == len(lists.cancelled)
    assert f"Filings: {len(every)} ({len(lists.cancelled)} cancelled)" in text


def test_new_per_month(printed: tuple[dict[str, Any], str]) -> None:
    figures, text = printed
    months = Counter(_read_lists().first_period.values())

    assert figures["new_per_month"] == dict(sorted(months.items()))
    for month, n in months.items():
        assert f"  {month}: {n}" in text


def test_companies_and_technology_suppliers(
    printed: tuple[dict[str, Any], str],
) -> None:
    figures, text = printed
    lists = _read_lists()

    assert figures["companies"] == len(lists.registrants)
    assert figures["technology_supplier_companies"] == len(lists.suppliers)
    assert f"Companies (distinct registrants): {len(lists.registrants)}" in text
    assert f"technology-supplier filings: {len(lists.suppliers)}" in text


def test_provinces_and_the_share_of_the_top_five(
    printed: tuple[dict[str, Any], str],
) -> None:
    figures, text = printed
    lists = _read_lists()
    counts = Counter(lists.province.values())
    known = sum(counts.values())
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    top = [(p["province_code"], p["count"]) for p in figures["top_provinces"]]
    assert top == ranked[:10]
    assert figures["unknown_province"] == figures["filings"] - known
    top_five = _pct(sum(n for _, n in ranked[:5]), known)
    assert figures["share_top_five_provinces"] == top_five
    assert f"Share of the top five provinces: {top_five}%" in text
    for entry in figures["top_provinces"]:
        assert f"  {entry['label']}: {entry['count']} ({entry['share']}%)" in text


def test_shares_and_top_sectors(
    printed: tuple[dict[str, Any], str], full_state: Path
) -> None:
    figures, text = printed
    store = Store(full_state, readonly=True)
    total = store.scalar("select count(*) from filings")

    def share_on(watchlists: str) -> float:
        n = store.scalar(
            "select count(distinct filing_key) from watchlist_hits "
            f"where watchlist in ({watchlists})"
        )
        return _pct(n, total)

    general = store.scalar(
        "select count(*) from classifications where sector = 'general_purpose'"
    )
    public = store.query(
        "select c.sector from filings f join classifications c using (filing_key) "
        "where f.series = 'generative_ai' "
        "or (f.series = 'deep_synthesis' and f.role = '服务提供者')"
    )
    by_filings = store.query(
        "select sector, count(*) n from classifications where sector is not null "
        "group by sector order by n desc, sector limit 10"
    )
    by_companies = store.query(
        "select c.sector, count(distinct f.entity_key) n from classifications c "
        "join filings f using (filing_key) where c.sector is not null "
        "group by c.sector order by n desc, c.sector limit 10"
    )

    assert figures["share_general_purpose"] == _pct(general, total)
    assert figures["public_generative_tools"] == len(public)
    gp_public = sum(1 for row in public if row["sector"] == "general_purpose")
    assert figures["share_general_purpose_public_generative"] == _pct(
        gp_public, len(public)
    )
    assert figures["share_state_affiliated"] == share_on(
        "'central_soe', 'public_sector'"
    )
    assert figures["share_foreign"] == share_on("'foreign_invested'")
    assert [(s["sector"], s["count"]) for s in figures["top_sectors_by_filings"]] == [
        (row["sector"], row["n"]) for row in by_filings
    ]
    assert [(s["sector"], s["count"]) for s in figures["top_sectors_by_companies"]] == [
        (row["sector"], row["n"]) for row in by_companies
    ]
    for name in ("general_purpose", "state_affiliated", "foreign"):
        assert f"Share {name.replace('_', '-')}: {figures[f'share_{name}']}%" in text
    for entry in (
        figures["top_sectors_by_filings"] + figures["top_sectors_by_companies"]
    ):
        assert f"  {entry['label']}: {entry['count']} ({entry['share']}%)" in text


def test_summary_needs_a_state(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["summary", "--state", str(tmp_path / "none")])

    assert result.exit_code == 1
    assert "no cacwatch state" in result.output
