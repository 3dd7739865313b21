"""Draw the filings of the hand-labelled sector sample (docs/sectors.md).

Usage: .venv/bin/python tools/draw_sector_sample.py STATE_DIR OUT.csv
(the committed sample is monitor/data/sector_sample.csv)

STATE_DIR is a data directory loaded from the replica as of 2026-05-31. The draw
is stratified: each series gets a fixed number of rows, spread over its batches
in proportion to their new filings (at least one per batch), and rows are taken
by a seeded random draw from each batch's filings in filing-key order, so the
same state always gives the same sample. The `label` column is left empty for a
person to fill in by reading each row.
"""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path
from typing import Any

from monitor.store import Store

SEED = 20261203
PER_SERIES = {"algorithm": 60, "deep_synthesis": 100, "generative_ai": 60}
COLUMNS = (
    "filing_key",
    "series",
    "batch",
    "algorithm_name",
    "service_name",
    "algorithm_category",
    "role",
    "entity_name",
    "product",
    "purpose",
    "label",
)


def strata(store: Store, series: str) -> list[dict[str, Any]]:
    """The batches of *series* with their new filings, in batch-id order."""
    return store.query(
        "select f.first_batch_id id, b.name, count(*) n from filings f "
        "join batches b on b.id = f.first_batch_id where f.series = ? "
        "group by 1 order by 1",
        [series],
    )


def quota(wanted: int, batch: dict[str, Any], batches: list[dict[str, Any]]) -> int:
    total = sum(int(other["n"]) for other in batches)
    return max(1, round(wanted * int(batch["n"]) / total))


def draw(store: Store) -> list[dict[str, str]]:
    """The sample, drawn batch by batch in batch-id order from one seeded RNG.

    Batch ids follow the order in which a run read the lists, which is the
    crawl's order: a state loaded by another run may number the batches in
    another order and so give another sample of the same sizes.
    """
    rng = random.Random(SEED)
    sample: list[dict[str, str]] = []
    for series, wanted in PER_SERIES.items():
        batches = strata(store, series)
        for batch in batches:
            size = quota(wanted, batch, batches)
            keys = [
                row["filing_key"]
                for row in store.query(
                    "select filing_key from filings where first_batch_id = ? "
                    "and series = ? order by filing_key",
                    [batch["id"], series],
                )
            ]
            for key in rng.sample(keys, min(size, len(keys))):
                row = store.query("select * from filings where filing_key = ?", [key])
                sample.append(_record(row[0], batch["name"]))
    return sample


def _record(filing: dict[str, str | None], batch: str) -> dict[str, str]:
    record = {name: str(filing.get(name) or "") for name in COLUMNS}
    record["batch"] = batch
    record["label"] = ""
    return record


def main() -> None:
    store = Store(Path(sys.argv[1]), readonly=True)
    rows = draw(store)
    with Path(sys.argv[2]).open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
