"""Check the counts read from the lists against the totals CAC states.

Each generative-AI announcement states how many services were filed (备案) and
how many apps or features registered (登记), cumulatively and newly. Every
stated figure is compared with a count made from the stored lists, and each
comparison is stored in ``reconciliations`` with both numbers:

* a cumulative figure against the distinct filings (or registrations) in the
  increment lists up to the announcement's own list — for an annual relist,
  the increments published before it together with the relist itself;
* a new figure against the rows of that type in the announcement's own list —
  for an annual relist, its rows filed in that year;
* each cumulative figure against the previous announcement's cumulative plus
  this one's new figure: the official texts do not always add up, and that is
  reported as a fault of the source, not of the parse.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from crawler.topics import GENERATIVE_AI, INCREMENT, RELIST, list_kind
from monitor.numbers import RECORD_TYPE_LABELS, parse_list_date
from monitor.store import Store
from monitor.totals import CUMULATIVE, NEW, StatedTotal, stated_totals

logger = logging.getLogger(__name__)

MATCH = "match"
MISMATCH = "mismatch"
NOT_CHECKED = "not_checked"  # the announcement's list was not read whole
SOURCE_INCONSISTENT = "source_inconsistent"
CONSISTENCY = "consistency"


@dataclass(frozen=True)
class Check:
    announcement_url: str
    announcement_title: str
    batch_id: int | None
    record_type: str
    measure: str
    as_of: str | None
    stated: int
    counted: int | None
    status: str
    explanation: str
    sentence: str

    @property
    def key(self) -> str:
        raw = f"{self.announcement_url}\n{self.record_type}\n{self.measure}"
        return hashlib.sha256(raw.encode()).hexdigest()[:20]


def reconcile(store: Store, run_id: str) -> list[Check]:
    """Compare every stated total with the stored lists; store and return the checks."""
    announcements = store.query(
        "select url, title, published, body_text from announcements "
        "where series = ? and body_text is not null order by published, url",
        [GENERATIVE_AI],
    )
    checks: list[Check] = []
    # Cumulative figures stated so far: the latest one per record type, and
    # those stated as of a year's last day, per (record type, year).
    previous: dict[str, int] = {}
    year_end: dict[tuple[str, int], int] = {}
    for announcement in announcements:
        published = dt.date.fromisoformat(announcement["published"][:10])
        totals = stated_totals(announcement["body_text"], published)
        if not totals:
            continue
        batch = _own_batch(store, announcement["url"])
        annual = list_kind(GENERATIVE_AI, announcement["title"]) == RELIST
        window = _window(totals, previous, year_end if annual else None)
        for total in totals:
            checks.append(_check(store, announcement, batch, total, window))
        checks += _consistency(announcement, totals, previous, year_end)

    with store.transaction():
        store.db.table("reconciliations").delete_where()
        store.db.table("reconciliations").insert_all(
            ({"id": c.key, "run_id": run_id, **c.__dict__} for c in checks),
            pk="id",
        )
    mismatches = sum(c.status == MISMATCH for c in checks)
    logger.info("Reconciled %d stated totals (%d mismatches)", len(checks), mismatches)
    return checks


def _own_batch(store: Store, url: str) -> dict[str, Any] | None:
    """The newest complete list the announcement links, if any was read."""
    rows = store.query(
        "select * from batches where announcement_url = ? and status = 'complete' "
        "order by id desc",
        [url],
    )
    if not rows:
        return None
    # On the growing page every list is the announcement's; its own list is
    # the latest period.
    return max(rows, key=lambda b: (b["period"] or "", b["id"]))


def _window(
    totals: list[StatedTotal],
    previous: dict[str, int],
    year_end: dict[tuple[str, int], int] | None = None,
) -> dict[str, tuple[int, int]]:
    """Per record type, the 序号 an announcement's new entries should carry.

    The lists number entries cumulatively, so the new ones of an announcement
    run from the previous cumulative figure + 1 to its own; those of an annual
    announcement (*year_end* given) from the cumulative figure at the end of
    the year before. Without an earlier figure, the announcement's own
    cumulative less its new figure is the base.
    """
    window = {}
    new = {t.record_type: t.count for t in totals if t.measure == NEW}
    for total in totals:
        if total.measure != CUMULATIVE:
            continue
        if year_end is not None and total.as_of is not None:
            base = year_end.get((total.record_type, total.as_of.year - 1))
        else:
            base = previous.get(total.record_type)
        if base is None and total.record_type in new:
            base = total.count - new[total.record_type]
        if base is not None:
            window[total.record_type] = (base + 1, total.count)
    return window


def _check(
    store: Store,
    announcement: dict[str, Any],
    batch: dict[str, Any] | None,
    total: StatedTotal,
    window: dict[str, tuple[int, int]],
) -> Check:
    def make(counted: int | None, status: str, explanation: str) -> Check:
        return Check(
            announcement["url"],
            announcement["title"],
            batch["id"] if batch else None,
            total.record_type,
            total.measure,
            total.as_of.isoformat() if total.as_of else None,
            total.count,
            counted,
            status,
            explanation,
            total.sentence,
        )

    if batch is None:
        return make(None, NOT_CHECKED, "the announcement's list was not read whole")

    if total.measure == CUMULATIVE:
        counted = _cumulative(store, batch, total.record_type)
        basis = "distinct entries in the lists up to this announcement's"
    else:
        counted = _new(store, batch, total.record_type)
        basis = "entries in this announcement's list"

    label = RECORD_TYPE_LABELS[total.record_type]
    if counted == total.count:
        return make(counted, MATCH, f"{counted} {label} {basis}")

    explanation = f"stated {total.count}, counted {counted} {label} {basis}"
    if total.measure == CUMULATIVE:
        expected = range(1, total.count + 1)
        batch_ids = _counted_batches(store, batch)
    else:
        low, high = window.get(total.record_type, (0, -1))
        expected = range(low, high + 1)
        batch_ids = [batch["id"]]
        if expected and counted == len(expected) != total.count:
            explanation += (
                f"; the list holds {high} − {low - 1} = {counted}, in line with CAC's "
                "own cumulative figures: the stated new figure does not add up"
            )
        if expected and batch["list_kind"] == RELIST:
            explanation += _dating(store, batch, total.record_type, expected)
    missing = sorted(
        set(expected) - _sequence_numbers(store, batch_ids, total.record_type)
    )
    if missing:
        shown = ", ".join(str(n) for n in missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        verb = "is" if len(missing) == 1 else "are"
        explanation += f"; 序号 {shown}{more} {verb} in no list read"
    return make(counted, MISMATCH, explanation)


def _sequence_numbers(store: Store, batch_ids: list[int], record_type: str) -> set[int]:
    """The 序号 of one record type in the given lists."""
    marks = ", ".join("?" for _ in batch_ids)
    rows = store.query(
        f"select seq from rows where batch_id in ({marks}) and record_type = ? "
        "and issue is null",
        [*batch_ids, record_type],
    )
    return {int(r["seq"]) for r in rows if (r["seq"] or "").strip().isdigit()}


def _counted_batches(store: Store, batch: dict[str, Any]) -> list[int]:
    """The lists a cumulative count of *batch*'s announcement is made from."""
    if batch["list_kind"] == RELIST:
        rows = store.query(
            "select id from batches where series = ? and status = 'complete' and "
            "((list_kind = ? and period < ?) or id = ?)",
            [GENERATIVE_AI, INCREMENT, (batch["published"] or "")[:7], batch["id"]],
        )
    else:
        rows = store.query(
            "select id from batches where series = ? and status = 'complete' "
            "and list_kind = ? and period <= ?",
            [GENERATIVE_AI, INCREMENT, batch["period"]],
        )
    return [row["id"] for row in rows]


def _cumulative(store: Store, batch: dict[str, Any], record_type: str) -> int:
    if batch["list_kind"] == RELIST:
        # A relist is published after the increments it repeats.
        sql = (
            "select count(distinct r.filing_key) from rows r join batches b "
            "on b.id = r.batch_id where b.series = ? and b.status = 'complete' "
            "and r.record_type = ? and r.issue is null and ("
            "(b.list_kind = ? and b.period < ?) or b.id = ?)"
        )
        month = (batch["published"] or "")[:7]
        return int(
            store.scalar(
                sql, [GENERATIVE_AI, record_type, INCREMENT, month, batch["id"]]
            )
        )

    sql = (
        "select count(distinct r.filing_key) from rows r join batches b "
        "on b.id = r.batch_id where b.series = ? and b.status = 'complete' "
        "and r.record_type = ? and r.issue is null and b.list_kind = ? "
        "and b.period <= ?"
    )
    return int(
        store.scalar(sql, [GENERATIVE_AI, record_type, INCREMENT, batch["period"]])
    )


def _new(store: Store, batch: dict[str, Any], record_type: str) -> int:
    rows = store.query(
        "select filed_on from rows where batch_id = ? and record_type = ? "
        "and issue is null",
        [batch["id"], record_type],
    )
    if batch["list_kind"] != RELIST:
        return len(rows)

    # An annual relist repeats earlier years too.
    year = relist_year(batch)
    dates = (parse_list_date(row["filed_on"] or "")[0] for row in rows)
    return sum(1 for date in dates if date is not None and date.year == year)


def _dating(
    store: Store, batch: dict[str, Any], record_type: str, expected: range
) -> str:
    """Why an annual relist's rows of the year differ from CAC's new figure.

    The year's new entries should carry the 序号 in *expected*; a row dated
    in the year but numbered before it, or numbered in it but dated in another
    year (a late registration, 补登), moves the count by one.
    """
    year = relist_year(batch)
    early: list[int] = []
    other: list[str] = []
    rows = store.query(
        "select seq, filed_on from rows where batch_id = ? and record_type = ? "
        "and issue is null",
        [batch["id"], record_type],
    )
    for row in rows:
        seq = (row["seq"] or "").strip()
        if not seq.isdigit():
            continue
        date = parse_list_date(row["filed_on"] or "")[0]
        in_year = date is not None and date.year == year
        if in_year and int(seq) < expected.start:
            early.append(int(seq))
        elif not in_year and int(seq) in expected:
            other.append(f"{seq} ({row['filed_on']})")

    parts = []
    if early:
        shown = ", ".join(str(n) for n in sorted(early))
        parts.append(
            f"{_rows(len(early))} dated {year} "
            f"{'carries' if len(early) == 1 else 'carry'} 序号 below {expected.start}, "
            f"the first CAC's figures give to {year}: {shown}"
        )
    if other:
        parts.append(
            f"{_rows(len(other))} numbered {expected.start}–{expected.stop - 1} "
            f"{'is' if len(other) == 1 else 'are'} dated in another year: "
            f"{', '.join(sorted(other))}"
        )
    return "".join(f"; {part}" for part in parts)


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def relist_year(batch: dict[str, Any]) -> int:
    """The year an annual relist reports on: the one before its publication."""
    return int((batch["published"] or "0000")[:4]) - 1


def _consistency(
    announcement: dict[str, Any],
    totals: list[StatedTotal],
    previous: dict[str, int],
    year_end: dict[tuple[str, int], int],
) -> list[Check]:
    """Does an earlier cumulative + new = this cumulative, in the source's own words?

    A bimonthly announcement's new figure adds to the previous announcement's
    cumulative one; an annual announcement's adds to the cumulative figure
    stated as of the end of the year before.
    """
    checks = []
    annual = list_kind(GENERATIVE_AI, announcement["title"]) == RELIST
    stated = {(t.record_type, t.measure): t for t in totals}
    for record_type in RECORD_TYPE_LABELS:
        cumulative = stated.get((record_type, CUMULATIVE))
        new = stated.get((record_type, NEW))
        base, source = previous.get(record_type), "previous announcement"
        if annual and cumulative and cumulative.as_of:
            year = cumulative.as_of.year - 1
            base, source = year_end.get((record_type, year)), f"end of {year}"
        if cumulative and new and base is not None:
            expected = base + new.count
            ok = expected == cumulative.count
            explanation = (
                f"{base} ({source}) + {new.count} new "
                f"= {expected}, stated {cumulative.count}"
            )
            checks.append(
                Check(
                    announcement["url"],
                    announcement["title"],
                    None,
                    record_type,
                    CONSISTENCY,
                    cumulative.as_of.isoformat() if cumulative.as_of else None,
                    cumulative.count,
                    expected,
                    MATCH if ok else SOURCE_INCONSISTENT,
                    explanation,
                    cumulative.sentence,
                )
            )
        if cumulative:
            previous[record_type] = cumulative.count
            as_of = cumulative.as_of
            if as_of and (as_of.month, as_of.day) == (12, 31):
                year_end[(record_type, as_of.year)] = cumulative.count
    return checks
