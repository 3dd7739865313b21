"""What a list means, in one place: how each kind of list changes the register.

CAC publishes in three ways (``docs/series.md``):

* an **incremental batch**: each deep-synthesis announcement, each dated
  generative-AI announcement, each list appended to a growing page; it adds
  filings and repeats none;
* a **growing page**: the algorithm page and the generative-AI page keep every
  list they ever linked, and CAC re-uploads old lists there with edits (备注
  gains 已注销, a number is corrected, a row is dropped);
* a **cumulative relist**: the annual generative-AI announcements repeat a
  whole year already published.

Cancellation notices are a fourth kind: they end filings.

A filing missing from a later list is never a removal: no list is the whole
register. Only a row that vanishes from a new version of the *same*
attachment is ``removed_from_list``, and that is never a cancellation.
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.topics import CANCELLED, INCREMENT, RELIST


@dataclass(frozen=True)
class ListSemantics:
    """How one kind of list is applied to the state."""

    kind: str
    # Filing numbers never seen before are news (new_filing, new_registrant).
    announces_filings: bool
    # Every filing number it names is cancelled.
    cancels: bool
    # A new version of the same attachment is compared row by row with the
    # previous one: modification, correction, removed_from_list.
    compares_reissues: bool


SEMANTICS = {
    INCREMENT: ListSemantics(
        INCREMENT, announces_filings=True, cancels=False, compares_reissues=True
    ),
    RELIST: ListSemantics(
        RELIST, announces_filings=False, cancels=False, compares_reissues=True
    ),
    CANCELLED: ListSemantics(
        CANCELLED, announces_filings=False, cancels=True, compares_reissues=False
    ),
}


def semantics_of(list_kind: str | None) -> ListSemantics:
    """The semantics of a batch's list kind; unknown kinds read as increments."""
    return SEMANTICS.get(list_kind or INCREMENT, SEMANTICS[INCREMENT])
