"""Charts of the batch report: sector and province shares over the batches.

Drawn with matplotlib's Agg backend into PNG files. Labels are in English
only: matplotlib's bundled font has no Chinese glyphs.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import matplotlib

# Chosen before pyplot is imported: no display is needed or wanted.
matplotlib.use("Agg")

import matplotlib.pyplot as plt

logger = logging.getLogger(__name__)

# Values beyond the largest few are drawn together as "other".
SHOWN = 8


def draw_shares(
    batches: list[tuple[str, Counter[str]]],
    labels: dict[str, str],
    title: str,
    path: Path,
) -> Path:
    """A stacked bar per batch of the shares of its new filings, saved as PNG."""
    overall: Counter[str] = Counter()
    for _, counts in batches:
        overall.update(counts)
    shown = [value for value, _ in overall.most_common(SHOWN)]

    figure, axes = plt.subplots(figsize=(10, 4.8), dpi=100)
    positions = range(len(batches))
    bottoms = [0.0] * len(batches)
    for value in [*shown, "other"]:
        heights = [_percent(counts, value, shown) for _, counts in batches]
        axes.bar(positions, heights, bottom=bottoms, label=labels.get(value, value))
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]

    axes.set_xticks(list(positions), [period for period, _ in batches], rotation=60)
    axes.set_ylabel("% of the batch's new filings")
    axes.set_ylim(0, 100)
    axes.set_title(title)
    axes.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small")
    figure.tight_layout()
    figure.savefig(path, format="png")
    plt.close(figure)
    logger.debug("Drew chart %s", path)
    return path


def _percent(counts: Counter[str], value: str, shown: list[str]) -> float:
    total = sum(counts.values())
    if not total:
        return 0.0
    if value == "other":
        return 100.0 * sum(n for v, n in counts.items() if v not in shown) / total
    return 100.0 * counts.get(value, 0) / total
