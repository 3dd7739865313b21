"""Registrant names and the key that decides whether two names are one entity."""

from __future__ import annotations

from monitor.fields import squash

# NFKC already folds full-width brackets into ASCII ones; these are the bracket
# forms it leaves alone that registrants still use interchangeably.
_BRACKETS = str.maketrans(
    {"〔": "(", "〕": ")", "［": "(", "］": ")", "[": "(", "]": ")"}
)


def entity_key(name: str) -> str:
    """Return the normalised key of a registrant name.

    The key is the NFKC form with every kind of whitespace removed and all
    bracket forms unified, so 「示例科技（上海）有限公司」 and
    「示例科技 (上海)有限公司」 are the same registrant.
    """
    return squash(name).translate(_BRACKETS)
