"""Sector classification of filings by the keywords of an editable taxonomy.

The taxonomy is ``monitor/data/sectors.toml``: each sector lists Chinese
keywords (substrings) and optional regular expressions. A filing is scored
against every sector on its name, product, purpose and registrant; the
evidence (which keyword matched in which field) is kept with the result so a
reader can see why a filing got its sector. ``docs/sectors.md`` explains the
rules and how well they agree with a hand-labelled sample.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

TAXONOMY_PATH = Path(__file__).parent / "data" / "sectors.toml"

# What a keyword found in each field weighs. The name says most about what a
# filing does; the registrant's name only hints (a 医疗科技 company may file a
# chat assistant), so it counts least.
FIELD_WEIGHTS: dict[str, int] = {
    "algorithm_name": 3,
    "service_name": 3,
    "product": 2,
    "purpose": 2,
    "entity_name": 1,
}

# A product cell of a technical supporter holds only this placeholder.
_EMPTY_CELLS = {"", "--", "-", "—", "无", "/"}


# The keyword recorded when a series default, not a keyword, gave the sector.
DEFAULT_EVIDENCE = "default"


class TaxonomyError(Exception):
    """The taxonomy file is missing, not TOML, or breaks its own rules."""


@dataclass(frozen=True)
class Sector:
    id: str
    label: str
    chinese: str
    keywords: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...] = ()
    fallback: bool = False


@dataclass(frozen=True)
class Taxonomy:
    version: str
    sectors: tuple[Sector, ...]
    # Sector of a filing of a series when no keyword matched (by series id).
    defaults: Mapping[str, str] = field(default_factory=dict)

    def label(self, sector_id: str | None) -> str:
        """English label with the Chinese one, or "unclassified"."""
        for sector in self.sectors:
            if sector.id == sector_id:
                return f"{sector.label} ({sector.chinese})"
        return "unclassified"


@dataclass
class Classification:
    sector: str | None
    sectors: list[str] = field(default_factory=list)
    evidence: dict[str, list[dict[str, str]]] = field(default_factory=dict)


def load_taxonomy(path: Path = TAXONOMY_PATH) -> Taxonomy:
    """Read and check a taxonomy file.

    The version stored with each classification is the file's ``version``
    plus a hash of its bytes, so any edit makes ``analyse`` classify again.
    """
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TaxonomyError(f"cannot read the sector taxonomy {path}: {exc}") from exc

    sectors = tuple(_sector(entry, path) for entry in data.get("sector", []))
    ids = [sector.id for sector in sectors]
    if not sectors or len(set(ids)) != len(ids):
        raise TaxonomyError(f"{path}: sector ids must be present and unique")

    defaults = {str(k): str(v) for k, v in data.get("defaults", {}).items()}
    unknown = set(defaults.values()) - set(ids)
    if unknown:
        raise TaxonomyError(f"{path}: defaults name unknown sectors {sorted(unknown)}")

    digest = hashlib.sha256(raw).hexdigest()[:8]
    return Taxonomy(f"{data.get('version', '0')}-{digest}", sectors, defaults)


def _sector(entry: dict[str, Any], path: Path) -> Sector:
    try:
        sector_id = str(entry["id"])
        keywords = tuple(str(word) for word in entry.get("keywords", []))
        patterns = tuple(re.compile(text) for text in entry.get("patterns", []))
        sector = Sector(
            id=sector_id,
            label=str(entry["label"]),
            chinese=str(entry["chinese"]),
            keywords=keywords,
            patterns=patterns,
            fallback=bool(entry.get("fallback", False)),
        )
    except (KeyError, re.error) as exc:
        raise TaxonomyError(f"{path}: bad sector {entry!r}: {exc}") from exc

    if not re.fullmatch(r"[a-z][a-z_]*", sector_id) or not (keywords or patterns):
        raise TaxonomyError(f"{path}: sector {sector_id!r} needs a slug id and words")
    return sector


def classify(filing: Mapping[str, Any], taxonomy: Taxonomy) -> Classification:
    """Sector of one filing (a row of ``filings``) with the evidence found.

    The primary sector is the best-scoring sector that is not a fallback;
    a fallback sector (general-purpose) is primary only when nothing else
    matched. Ties go to the sector listed first in the taxonomy. When no
    keyword matched, the taxonomy's default for the filing's series applies,
    with evidence saying so (``{"field": "series", "keyword": "default"}``).
    """
    texts = {name: _text(filing.get(name)) for name in FIELD_WEIGHTS}
    scores: dict[str, int] = {}
    evidence: dict[str, list[dict[str, str]]] = {}
    for sector in taxonomy.sectors:
        hits = _hits(sector, texts)
        if hits:
            evidence[sector.id] = hits
            scores[sector.id] = sum(FIELD_WEIGHTS[hit["field"]] for hit in hits)

    ranked = [s.id for s in taxonomy.sectors if s.id in scores]
    domains = [s.id for s in taxonomy.sectors if s.id in scores and not s.fallback]
    pool = domains or ranked
    primary = max(pool, key=lambda sector_id: scores[sector_id]) if pool else None
    default = taxonomy.defaults.get(str(filing.get("series") or ""))
    if primary is None and default:
        evidence[default] = [{"field": "series", "keyword": DEFAULT_EVIDENCE}]
        return Classification(default, [default], evidence)
    return Classification(primary, ranked, evidence)


def _hits(sector: Sector, texts: dict[str, str]) -> list[dict[str, str]]:
    hits = []
    for name, text in texts.items():
        if not text:
            continue
        folded = text.casefold()
        for keyword in sector.keywords:
            if keyword.casefold() in folded:
                hits.append({"field": name, "keyword": keyword})
        for pattern in sector.patterns:
            found = pattern.search(text)
            if found:
                hits.append({"field": name, "keyword": found.group(0)})
    return hits


def _text(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    return "" if text in _EMPTY_CELLS else text
