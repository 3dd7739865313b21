"""The generative-AI pages (series C): the growing page and the dated announcements.

The growing page (2024-04-02) gains one attachment per period, named after the
period (cac_site.md §5.1). From 2025 each period, and each year, also gets an
announcement of its own in the 网信发布 channel; those pages are real items of
the channel CSV, and each links one file under the generic name
「国家互联网信息办公室关于发布生成式人工智能服务已备案信息的公告」 (§5.2), so
neither link text nor file name tells which period it holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, time

from crawler.replica.lists import (
    ListDocument,
    genai_document,
    genai_documents,
    relist_document,
)
from crawler.replica.policies import PolicyItem
from crawler.replica.timeline import GENAI, Attachment, Publication

GENAI_PATH = "/2024-04/02/c_1713729983803145.htm"
GENAI_TITLE = "国家互联网信息办公室关于发布生成式人工智能服务已备案信息的公告"
# The dated announcements name their one attachment like this, whatever it holds.
GENERIC_ATTACHMENT = GENAI_TITLE

# No stored copy of the page exists. The text is the CCTV copy quoted in
# cac_site.md §5.1, whose elided opening clause is taken from the same copy as
# mirrored on csdn.cc; punctuation is full-width as on CAC's own pages.
_GENAI_BODY = (
    "促进生成式人工智能服务创新发展和规范应用，网信部门会同相关部门按照"
    "《生成式人工智能服务管理暂行办法》要求，有序开展生成式人工智能服务备案工作，"
    "现将已备案信息予以公告。提供具有舆论属性或者社会动员能力的生成式人工智能服务的，"
    "可通过属地网信部门履行备案程序，属地网信部门应及时将已备案信息对外公开发布，"
    "将在官网定期汇总更新，不再另行公告。",
    "已上线的生成式人工智能应用或功能，应在显著位置或产品详情页面公示所使用已备案"
    "生成式人工智能服务情况，注明模型名称及备案号。",
)

# The page's time of day is unknown; CAC posts most notices in the evening.
_GENAI_TIME = time(18, 0)

# 「…的公告（2025年1月至3月）」 covers the list of the period ending in its last month;
# 「…发布2024年生成式…的公告」 is the annual announcement relisting that year.
_QUARTER = re.compile(
    r"生成式人工智能服务已备案信息的公告（(\d{4})年\d{1,2}月至(\d{1,2})月）$"
)
_ANNUAL = re.compile(r"发布(\d{4})年生成式人工智能服务已备案信息的公告$")

# The channel CSV holds exactly these dated announcements.
_EXPECTED_ANNOUNCEMENTS = 6


def genai_page() -> Publication:
    """The growing page with every period's list, each on its release day."""
    attachments = tuple(
        Attachment(
            label=document.label,
            filename=document.filename,
            released=document.released,
        )
        for document in genai_documents()
    )
    first = min(a.released for a in attachments)
    return Publication(
        series=GENAI,
        url_path=GENAI_PATH,
        title=GENAI_TITLE,
        published=datetime.combine(first, _GENAI_TIME),
        body_paragraphs=_GENAI_BODY,
        attachments=attachments,
    )


def announced_document(title: str) -> ListDocument | None:
    """The list a dated announcement attaches, found from its title."""
    if match := _QUARTER.search(title):
        year, last_month = match.groups()
        return genai_document(f"{year}-{int(last_month):02d}")
    if match := _ANNUAL.search(title):
        return relist_document(int(match.group(1)))
    return None


def announcement_pages(policies: Iterable[PolicyItem]) -> list[Publication]:
    """The dated announcements of the channel CSV, each linking its list.

    :raises ValueError: when the CSV does not hold the expected announcements
        or one of them lacks its 附件 line.
    """
    pages = []
    for item in policies:
        document = announced_document(item.title)
        if document is None:
            continue

        # The CSV keeps the link as the last paragraph; the page renders it as a
        # link, so the body keeps every paragraph before it, unchanged.
        *body, attachment_line = item.paragraphs
        if not re.fullmatch(r"附件：\s*" + GENERIC_ATTACHMENT, attachment_line):
            raise ValueError(f"unexpected attachment line on {item.url_path}")

        attachment = Attachment(
            label=GENERIC_ATTACHMENT,
            filename=document.filename,
            released=item.published.date(),
            store_key=item.url_path,
        )
        pages.append(
            Publication(
                series=GENAI,
                url_path=item.url_path,
                title=item.title,
                published=item.published,
                body_paragraphs=tuple(body),
                attachments=(attachment,),
                source=item.source,
            )
        )

    if len(pages) != _EXPECTED_ANNOUNCEMENTS:
        raise ValueError(f"found {len(pages)} dated GenAI announcements")
    return pages
