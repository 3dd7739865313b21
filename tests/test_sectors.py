"""Sector taxonomy, classifier, labelled sample and agreement."""

from __future__ import annotations

import csv
import re
import shutil
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.agreement import SAMPLE_PATH, cohen_kappa, measure, read_sample
from monitor.cli import cli
from monitor.sectors import (
    DEFAULT_EVIDENCE,
    TaxonomyError,
    classify,
    load_taxonomy,
)
from monitor.store import Store
from tools.draw_sector_sample import COLUMNS, PER_SERIES, draw, quota, strata

ROOT = Path(__file__).parent.parent
SECTORS_DOC = (ROOT / "docs" / "sectors.md").read_text(encoding="utf-8")


def test_the_shipped_taxonomy_loads_with_unique_slugs() -> None:
    taxonomy = load_taxonomy()

    ids = [sector.id for sector in taxonomy.sectors]
    assert len(ids) == len(set(ids))
    assert {"general_purpose", "healthcare", "education", "agriculture"} <= set(ids)
    assert all(re.fullmatch(r"[a-z_]+", sector_id) for sector_id in ids)
    assert all(f"`{sector_id}`" in SECTORS_DOC for sector_id in ids)


def test_a_field_outweighs_a_general_word_and_the_evidence_says_why() -> None:
    filing = {
        "series": "deep_synthesis",
        "algorithm_name": "好心情AI陪伴文本生成算法",
        "product": "好心情AI陪伴(网站)",
        "purpose": "应用于智能对话场景，生成相应的文本回复，主要面向心理健康领域。",
        "entity_name": "北京好心情互联网医院有限公司",
    }

    found = classify(filing, load_taxonomy())

    assert found.sector == "healthcare"
    assert "general_purpose" in found.sectors
    assert {"field": "purpose", "keyword": "心理"} in found.evidence["healthcare"]
    assert {"field": "entity_name", "keyword": "医院"} in found.evidence["healthcare"]


def test_search_of_court_cases_is_legal_and_a_search_engine_is_search() -> None:
    taxonomy = load_taxonomy()
    cases = {
        "series": "algorithm",
        "algorithm_name": "聚法案例信息检索算法",
        "purpose": "应用于信息检索场景，为用户输出匹配的司法案例信息。",
    }
    engine = {
        "series": "algorithm",
        "algorithm_name": "UC浏览器通用搜索引擎算法",
        "purpose": "应用于搜索引擎，根据用户输入的查询词，搜索满足需求的网页。",
    }

    assert classify(cases, taxonomy).sector == "legal"
    assert classify(engine, taxonomy).sector == "search"


def test_a_generative_ai_name_without_a_field_takes_the_series_default() -> None:
    taxonomy = load_taxonomy()
    service = {
        "series": "generative_ai",
        "service_name": "光语",
        "entity_name": "无限光年",
    }
    algorithm = {
        "series": "algorithm",
        "algorithm_name": "光语",
        "entity_name": "无限光年",
    }

    found = classify(service, taxonomy)

    assert found.sector == "general_purpose"
    assert found.evidence == {
        "general_purpose": [{"field": "series", "keyword": DEFAULT_EVIDENCE}]
    }
    assert classify(algorithm, taxonomy).sector is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version = [", "cannot read the sector taxonomy"),
        (
            '[[sector]]\nid = "Bad Id"\nlabel = "x"\nchinese = "x"\nkeywords = ["x"]',
            "slug",
        ),
        (
            '[[sector]]\nid = "a"\nlabel = "x"\nchinese = "x"\npatterns = ["("]',
            "bad sector",
        ),
        (
            '[defaults]\ngenerative_ai = "nowhere"\n[[sector]]\nid = "a"\n'
            'label = "x"\nchinese = "x"\nkeywords = ["x"]',
            "unknown sectors",
        ),
        ('version = "1"', "sector ids must be present"),
    ],
)
def test_a_broken_taxonomy_is_refused_with_its_reason(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "sectors.toml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(TaxonomyError, match=message):
        load_taxonomy(path)


def test_editing_the_taxonomy_changes_its_version(tmp_path: Path) -> None:
    original = load_taxonomy()
    edited = tmp_path / "sectors.toml"
    text = (ROOT / "monitor" / "data" / "sectors.toml").read_text(encoding="utf-8")
    edited.write_text(text.replace('"农业",', '"农业", "茶园",'), encoding="utf-8")

    assert load_taxonomy(edited).version != original.version


def test_the_sample_is_large_labelled_and_stratified() -> None:
    rows = read_sample()
    ids = {sector.id for sector in load_taxonomy().sectors}

    assert len(rows) >= 200
    assert {row["label"] for row in rows} <= ids
    series = Counter(row["series"] for row in rows)
    # Each series' quota, rounded per batch (at least one row per batch).
    assert set(series) == {"algorithm", "deep_synthesis", "generative_ai"}
    assert all(abs(series[s] - n) <= 4 for s, n in PER_SERIES.items())
    assert len({row["batch"] for row in rows}) >= 40


def test_the_sample_is_real_rows_in_the_quotas_of_the_draw(full_state: Path) -> None:
    store = Store(full_state, readonly=True)
    with SAMPLE_PATH.open(encoding="utf-8", newline="") as file:
        committed = list(csv.DictReader(file))

    # The same list may be linked under two spellings of its name (（） or ()),
    # and which link is read first depends on the crawl.
    expected = Counter(
        {
            (series, _name(batch["name"])): quota(wanted, batch, strata(store, series))
            for series, wanted in PER_SERIES.items()
            for batch in strata(store, series)
        }
    )
    drawn = draw(store)

    assert Counter((r["series"], _name(r["batch"])) for r in committed) == expected
    assert Counter((r["series"], _name(r["batch"])) for r in drawn) == expected
    # Every sampled row is a row of a real list, as printed there. (A filing
    # listed twice keeps the spelling of the list read first, which the crawl
    # decides, so the rows of every list are searched.)
    fields = [name for name in COLUMNS if name not in ("label", "batch", "series")]
    for row in committed:
        seen = store.query(
            "select * from rows where filing_key = ?", [row["filing_key"]]
        )
        printed = [[str(s[f] or "") for f in fields] for s in seen]
        assert [row[f] for f in fields] in printed


def _name(batch: str) -> str:
    return unicodedata.normalize("NFKC", batch)


def test_agreement_equals_the_published_figures() -> None:
    result = measure(load_taxonomy(), read_sample())

    assert f"| rows | {result.rows} |" in SECTORS_DOC
    assert f"| agreement (accuracy) | {100 * result.accuracy:.1f} % |" in SECTORS_DOC
    assert f"| Cohen's kappa | {result.kappa:.3f} |" in SECTORS_DOC
    assert f"| left unclassified | {result.unclassified} |" in SECTORS_DOC
    for score in result.sectors:
        if score.sector == "unclassified":
            continue
        precision = "—" if score.precision is None else f"{score.precision:.2f}"
        recall = "—" if score.recall is None else f"{score.recall:.2f}"
        row = (
            f"| `{score.sector}` | {score.labelled} | {score.predicted} "
            f"| {precision} | {recall} |"
        )
        assert row in SECTORS_DOC


def test_the_agreement_command_prints_the_same_figures() -> None:
    result = measure(load_taxonomy(), read_sample())

    printed = CliRunner().invoke(cli, ["agreement", "--mistakes"])

    assert printed.exit_code == 0, printed.output
    assert f"({100 * result.accuracy:.1f}%)" in printed.output
    assert f"Cohen's kappa {result.kappa:.3f}" in printed.output
    assert len(printed.output.splitlines()) == 2 + len(result.sectors) + len(
        result.mistakes
    )


def test_cohen_kappa_of_known_tables() -> None:
    perfect = [("a", "a"), ("b", "b")]
    # Observed agreement 0.5, chance agreement 0.5: no better than chance.
    chance = [("a", "a"), ("a", "b"), ("b", "a"), ("b", "b")]

    assert cohen_kappa(perfect) == 1.0
    assert cohen_kappa(chance) == 0.0


def test_the_classifier_covers_nine_in_ten_real_filings(full_state: Path) -> None:
    store = Store(full_state, readonly=True)
    filings = store.scalar("select count(*) from filings")
    classified = store.scalar(
        "select count(*) from classifications where sector is not null"
    )

    printed = CliRunner().invoke(cli, ["sectors", "--state", str(full_state)])

    assert store.scalar("select count(*) from classifications") == filings
    assert classified / filings >= 0.9
    left = filings - classified
    share = round(100 * left / filings, 1)
    assert printed.output.splitlines()[0] == (
        f"{filings} filings; {left} unclassified ({share}%)"
    )
    assert "服务技术支持者" in printed.output
    assert "个性化推送类" in printed.output


def test_unclassified_filings_are_listed(full_state: Path) -> None:
    store = Store(full_state, readonly=True)
    left = store.scalar("select count(*) from classifications where sector is null")

    printed = CliRunner().invoke(
        cli, ["sectors", "--state", str(full_state), "--unclassified", "--json"]
    )

    assert printed.exit_code == 0, printed.output
    assert len(printed.output.splitlines()) == left


def test_reclassify_after_an_edit_of_the_taxonomy(
    loaded_state: Path, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    shutil.copytree(loaded_state, state)
    store = Store(state)
    store.db.execute("update classifications set classifier_version = 'old'")
    store.db.conn.commit()
    store.close()

    printed = CliRunner().invoke(
        cli, ["sectors", "--state", str(state), "--reclassify"]
    )

    assert printed.exit_code == 0, printed.output
    versions = Store(state, readonly=True).query(
        "select distinct classifier_version v from classifications"
    )
    assert [row["v"] for row in versions] == [load_taxonomy().version]
