"""Registrant names and the key that decides whether two names are one entity.

The registrant key folds the differences that do not make another company:

* Unicode NFKC form, which also turns full-width brackets ``（）`` into ``()``;
* every kind of whitespace removed: spaces, ideographic and no-break spaces,
  zero-width spaces and joiners, the byte-order mark;
* the bracket forms ``〔〕［］[]`` unified to ``()``;
* the company suffixes ``有限责任公司`` and ``股份有限公司`` at the end of the
  name read as ``有限公司``, and the insertion ``(集团)`` dropped, so
  「北京智谱华章科技股份有限公司」 and 「北京智谱华章科技有限公司」 are one
  registrant.

Renamed registrants (原主体名称“A”变更为“B” in a remark, or one filing number
listed under a new name) are recorded as aliases in ``entity_aliases``; a
branch office (…分公司) is linked to its parent company once the parent is
known (``entities.parent_key``).
"""

from __future__ import annotations

import logging
import re

from monitor.fields import squash
from monitor.store import Store

logger = logging.getLogger(__name__)

RENAME_REMARK = "remark"  # 原主体名称“A”变更为“B” in 备注
RENAMED_FILING = "filing"  # one filing number listed under a new name

# NFKC already folds full-width brackets into ASCII ones; these are the bracket
# forms it leaves alone that registrants still use interchangeably.
_BRACKETS = str.maketrans(
    {"〔": "(", "〕": ")", "［": "(", "］": ")", "[": "(", "]": ")"}
)
# Zero-width characters are not whitespace to Python's regular expressions.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_SUFFIXES = (("有限责任公司", "有限公司"), ("股份有限公司", "有限公司"))
_GROUP = "(集团)"

_RENAME = re.compile(
    r"原主体名称[“\"「](?P<old>[^”\"」]+)[”\"」]变更为[“\"「](?P<new>[^”\"」]+)"
)
_BRANCH = re.compile(r"^(?P<parent>.+?公司).+分公司$")


def entity_key(name: str) -> str:
    """Return the normalised key of a registrant name (see the module text)."""
    key = _INVISIBLE.sub("", squash(name)).translate(_BRACKETS)
    key = key.replace(_GROUP, "")
    for long, short in _SUFFIXES:
        if key.endswith(long):
            key = key[: -len(long)] + short
    return key


def renames_in_note(note: str | None) -> list[tuple[str, str]]:
    """The (old name, new name) pairs a remark announces, in order."""
    if not note:
        return []
    text = squash(note)
    return [(m["old"], m["new"]) for m in _RENAME.finditer(text)]


def parent_name(name: str) -> str | None:
    """The company a branch office (…分公司) belongs to, by its name.

    「亚马逊信息服务(北京)有限公司上海分公司」 belongs to
    「亚马逊信息服务(北京)有限公司」; a name that is not a branch gives None.
    """
    match = _BRANCH.match(squash(name))
    return match["parent"] if match else None


def record_alias(
    store: Store,
    alias_name: str,
    current_key: str,
    source: str,
    batch_id: int,
    filing_key: str | None,
) -> None:
    """Record that *alias_name* is another (usually former) name of an entity."""
    alias_key = entity_key(alias_name)
    if not alias_key or alias_key == current_key:
        return
    store.db.table("entity_aliases").insert(
        {
            "alias_key": alias_key,
            "entity_key": current_key,
            "alias_name": alias_name,
            "source": source,
            "batch_id": batch_id,
            "filing_key": filing_key,
        },
        ignore=True,
    )


def link_branches(store: Store) -> int:
    """Link every branch office whose parent company is known; return how many."""
    branches = store.query(
        "select key, name from entities where parent_key is null and key like ?",
        ["%分公司"],
    )
    linked = 0
    for branch in branches:
        parent = parent_name(branch["name"])
        if parent is None:
            continue
        key = entity_key(parent)
        if store.scalar("select 1 from entities where key = ?", [key]):
            store.db.table("entities").update(branch["key"], {"parent_key": key})
            linked += 1
    if linked:
        logger.info("Linked %d branch offices to their parent", linked)
    return linked
