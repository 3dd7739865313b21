"""Agreement of the sector classifier with the hand-labelled sample.

The sample (``monitor/data/sector_sample.csv``) holds real filings drawn by
``tools/draw_sector_sample.py`` and labelled by a person reading each row;
``docs/sectors.md`` tells how. Agreement is measured as accuracy, precision
and recall per sector, and Cohen's kappa.
"""

from __future__ import annotations

import csv
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from monitor.sectors import Taxonomy, classify

logger = logging.getLogger(__name__)

SAMPLE_PATH = Path(__file__).parent / "data" / "sector_sample.csv"
NONE = "unclassified"


@dataclass
class SectorScore:
    sector: str
    labelled: int
    predicted: int
    correct: int

    @property
    def precision(self) -> float | None:
        return self.correct / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.correct / self.labelled if self.labelled else None


@dataclass
class Agreement:
    rows: int
    correct: int
    unclassified: int
    kappa: float
    sectors: list[SectorScore] = field(default_factory=list)
    mistakes: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.rows if self.rows else 0.0


def read_sample(path: Path = SAMPLE_PATH) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    unlabelled = [row["filing_key"] for row in rows if not row["label"]]
    if unlabelled:
        raise ValueError(f"{path}: rows without a label: {unlabelled[:3]}")
    return rows


def measure(taxonomy: Taxonomy, rows: list[dict[str, str]]) -> Agreement:
    """Compare the classifier's primary sector with the label of each row."""
    pairs = []
    mistakes = []
    for row in rows:
        predicted = classify(row, taxonomy).sector or NONE
        pairs.append((row["label"], predicted))
        if predicted != row["label"]:
            name = row["algorithm_name"] or row["service_name"]
            mistakes.append((name, row["label"], predicted))

    labelled = Counter(label for label, _ in pairs)
    predicted_n = Counter(predicted for _, predicted in pairs)
    correct = Counter(label for label, predicted in pairs if label == predicted)
    scores = [
        SectorScore(sector, labelled[sector], predicted_n[sector], correct[sector])
        for sector in sorted(set(labelled) | set(predicted_n))
    ]
    return Agreement(
        rows=len(pairs),
        correct=sum(correct.values()),
        unclassified=predicted_n[NONE],
        kappa=cohen_kappa(pairs),
        sectors=scores,
        mistakes=mistakes,
    )


def cohen_kappa(pairs: list[tuple[str, str]]) -> float:
    """Cohen's kappa of two labellings: agreement corrected for chance."""
    total = len(pairs)
    if not total:
        return 0.0
    observed = sum(1 for a, b in pairs if a == b) / total
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    expected = sum(first[k] * second[k] for k in first) / (total * total)
    return (observed - expected) / (1 - expected) if expected < 1 else 1.0
