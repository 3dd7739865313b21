"""The filing-list publications (series A, B and C) and the rest of the channel.

Dates, paths and attachment months are those of ``cac_site.md`` §2–§3. Pages whose
real text is in the channel CSV (deep-synthesis batches 8–15 and every distractor)
take title, time and body from it; the others are rebuilt from the verified
template of the batch pages. Series C is in ``genai.py``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time

from crawler.replica.genai import announcement_pages, genai_page
from crawler.replica.policies import PolicyItem, load_policies
from crawler.replica.timeline import (
    ALGORITHM,
    DEEP_SYNTHESIS,
    OTHER,
    Attachment,
    Publication,
    Timeline,
)

ALGORITHM_PATH = "/2022-08/12/c_1661927474338504.htm"
ALGORITHM_TITLE = "国家互联网信息办公室关于发布互联网信息服务算法备案信息的公告"
ALGORITHM_LIST = "境内互联网信息服务算法备案清单（{month}）"
DEEP_SYNTHESIS_LIST = "境内深度合成服务算法备案清单（{month}）"

# No release time is known for pages missing from the CSV; CAC usually posts
# these announcements in the early evening.
_DEFAULT_TIME = time(18, 0)

# Series A attachments are co-released with the deep-synthesis batches
# (docProps/modified of the newest file = batch day). The 2022年10月, 2023年1月 and
# 2023年4月 dates are estimates: no batch or other record dates them.
_ALGORITHM_RELEASES: tuple[tuple[str, date], ...] = (
    ("2022年8月", date(2022, 8, 12)),
    ("2022年10月", date(2022, 10, 28)),  # estimated
    ("2023年1月", date(2023, 1, 10)),  # estimated
    ("2023年4月", date(2023, 4, 28)),  # estimated
    ("2023年12月", date(2024, 1, 5)),
    ("2024年4月", date(2024, 4, 11)),
    ("2024年6月", date(2024, 6, 12)),
    ("2024年8月", date(2024, 8, 5)),
    ("2024年10月", date(2024, 11, 1)),
    ("2024年12月", date(2024, 12, 20)),
    ("2025年3月", date(2025, 3, 12)),
    ("2025年5月", date(2025, 5, 19)),
    ("2025年7月", date(2025, 7, 14)),
    ("2025年9月", date(2025, 9, 11)),
    ("2025年11月", date(2025, 11, 6)),
    ("2026年1月", date(2026, 1, 7)),
    ("2026年3月", date(2026, 3, 12)),
    ("2026年5月", date(2026, 5, 6)),
)

# The real page sometimes links an attachment without fText; 附件7 does so here,
# so a crawler has to take the name from Content-Disposition.
_ALGORITHM_WITHOUT_FTEXT = 7

# (batch, publication date, page path, attachment month)
_DEEP_SYNTHESIS_BATCHES: tuple[tuple[int, date, str, str], ...] = (
    (1, date(2023, 6, 20), "/2023-06/20/c_1688910683316256.htm", "2023年6月"),
    (2, date(2023, 9, 1), "/2023-09/01/c_1695224377544009.htm", "2023年8月"),
    (3, date(2024, 1, 5), "/2024-01/05/c_1706119043746644.htm", "2024年1月"),
    (4, date(2024, 2, 18), "/2024-02/18/c_1709925427424332.htm", "2024年2月"),
    (5, date(2024, 4, 11), "/2024-04/11/c_1714509267496697.htm", "2024年4月"),
    (6, date(2024, 6, 12), "/2024-06/12/c_1719783421546747.htm", "2024年6月"),
    (7, date(2024, 8, 5), "/2024-08/05/c_1724541639039621.htm", "2024年8月"),
    (8, date(2024, 11, 1), "/2024-11/01/c_1732152604917193.htm", "2024年10月"),
    (9, date(2024, 12, 20), "/2024-12/20/c_1736389545949567.htm", "2024年12月"),
    (10, date(2025, 3, 12), "/2025-03/12/c_1743480314931271.htm", "2025年3月"),
    (11, date(2025, 5, 19), "/2025-05/19/c_1749365589879703.htm", "2025年5月"),
    (12, date(2025, 7, 14), "/2025-07/14/c_1754207718303963.htm", "2025年7月"),
    (13, date(2025, 9, 11), "/2025-09/11/c_1759222331638208.htm", "2025年9月"),
    (14, date(2025, 11, 6), "/2025-11/06/c_1764156698314535.htm", "2025年11月"),
    (15, date(2026, 1, 7), "/2026-01/07/c_1769516642440314.htm", "2026年1月"),
    (16, date(2026, 3, 12), "/2026-03/12/c_1775050837565188.htm", "2026年3月"),
    (17, date(2026, 5, 6), "/2026-05/06/c_1779809434590762.htm", "2026年5月"),
)

# No stored copy of the algorithm page exists (cac_site.md §13); its text is
# modelled on the verified deep-synthesis batch pages.
_ALGORITHM_BODY = (
    "根据《互联网信息服务算法推荐管理规定》，现公开发布境内互联网信息服务算法名称"
    "及备案编号，具体信息可通过互联网信息服务算法备案系统"
    "（https://beian.cac.gov.cn）进行查询。任何单位或个人如有疑议，"
    "请发送邮件至pingguchu@cac.gov.cn，提出疑议应以事实为依据，"
    "并提供相关证据材料。",
)

# Batch pages 8–15 carry exactly this text, with the batch number filled in.
_DEEP_SYNTHESIS_BODY = (
    "根据《互联网信息服务深度合成管理规定》，现公开发布{batch}境内深度合成服务算法"
    "备案信息，具体信息可通过互联网信息服务算法备案系统（https://beian.cac.gov.cn）"
    "进行查询。任何单位或个人如有疑议，请发送邮件至pingguchu@cac.gov.cn，"
    "提出疑议应以事实为依据，并提供相关证据材料。",
    "《互联网信息服务深度合成管理规定》第十九条明确规定，具有舆论属性或者社会动员"
    "能力的深度合成服务提供者，应当按照《互联网信息服务算法推荐管理规定》履行备案"
    "和变更、注销备案手续。深度合成服务技术支持者应当参照履行备案和变更、注销备案"
    "手续。请尚未履行备案手续的深度合成服务提供者和技术支持者尽快申请备案。",
)

# Batches whose real page text is in the channel CSV.
_CSV_BATCHES = range(8, 16)

_DIGITS = "零一二三四五六七八九"


def chinese_numeral(number: int) -> str:
    """Write 1–99 the way batch titles do: 二, 十, 十七, 二十一."""
    if not 0 < number < 100:
        raise ValueError(f"batch number out of range: {number}")

    tens, units = divmod(number, 10)
    if tens == 0:
        return _DIGITS[units]
    head = "" if tens == 1 else _DIGITS[tens]
    return head + "十" + (_DIGITS[units] if units else "")


def batch_ordinal(batch: int) -> str:
    """Return 「第N批」, or nothing for the first batch.

    The first batch (2023-06-20) was published without a batch number.
    """
    return "" if batch == 1 else f"第{chinese_numeral(batch)}批"


def deep_synthesis_title(batch: int) -> str:
    ordinal = batch_ordinal(batch)
    return f"国家互联网信息办公室关于发布{ordinal}深度合成服务算法备案信息的公告"


def deep_synthesis_path(batch: int) -> str:
    """Return the page path of deep-synthesis batch ``batch``."""
    for number, _, path, _ in _DEEP_SYNTHESIS_BATCHES:
        if number == batch:
            return path
    raise ValueError(f"no deep-synthesis batch {batch}")


def algorithm_page() -> Publication:
    """The one growing page of series A, with all 18 attachments."""
    attachments = []
    for number, (month, released) in enumerate(_ALGORITHM_RELEASES, start=1):
        label = ALGORITHM_LIST.format(month=month)
        attachments.append(
            Attachment(
                label=label,
                filename=label + ".docx",
                released=released,
                with_ftext=number != _ALGORITHM_WITHOUT_FTEXT,
                link_text="附件" if number == 1 else f"附件{number}",
            )
        )

    return Publication(
        series=ALGORITHM,
        url_path=ALGORITHM_PATH,
        title=ALGORITHM_TITLE,
        published=datetime.combine(_ALGORITHM_RELEASES[0][1], _DEFAULT_TIME),
        body_paragraphs=_ALGORITHM_BODY,
        attachments=tuple(attachments),
    )


def deep_synthesis_pages(policies: Mapping[str, PolicyItem]) -> list[Publication]:
    """One page per deep-synthesis batch; real text where ``policies`` has it."""
    pages = []
    for batch, published, path, month in _DEEP_SYNTHESIS_BATCHES:
        label = DEEP_SYNTHESIS_LIST.format(month=month)
        attachment = Attachment(label, label + ".docx", published)
        real = policies.get(path)
        if real is None:
            page = _rebuilt_batch_page(batch, published, path, attachment)
        else:
            page = _real_batch_page(real, attachment)
        pages.append(page)
    return pages


def _rebuilt_batch_page(
    batch: int, published: date, path: str, attachment: Attachment
) -> Publication:
    first, second = _DEEP_SYNTHESIS_BODY
    return Publication(
        series=DEEP_SYNTHESIS,
        url_path=path,
        title=deep_synthesis_title(batch),
        published=datetime.combine(published, _DEFAULT_TIME),
        body_paragraphs=(first.format(batch=batch_ordinal(batch)), second),
        attachments=(attachment,),
    )


def _real_batch_page(real: PolicyItem, attachment: Attachment) -> Publication:
    # The CSV keeps the link as plain text at the end of the body; the page renders
    # a real link instead, so that text must name the same attachment.
    *body, attachment_line = real.paragraphs
    if (
        not attachment_line.startswith("附件")
        or attachment.label not in attachment_line
    ):
        raise ValueError(f"unexpected attachment line on {real.url_path}")

    return Publication(
        series=DEEP_SYNTHESIS,
        url_path=real.url_path,
        title=real.title,
        published=real.published,
        body_paragraphs=tuple(body),
        attachments=(attachment,),
        source=real.source,
    )


def other_pages(policies: Iterable[PolicyItem], exclude: set[str]) -> list[Publication]:
    """Every channel item of the CSV whose path is not in ``exclude``."""
    return [
        Publication(
            series=OTHER,
            url_path=item.url_path,
            title=item.title,
            published=item.published,
            body_paragraphs=item.paragraphs,
            source=item.source,
        )
        for item in policies
        if item.url_path not in exclude
    ]


@functools.cache
def load_timeline() -> Timeline:
    """Build the replica's full timeline (read once per process)."""
    policies = {item.url_path: item for item in load_policies()}
    deep_synthesis = deep_synthesis_pages(policies)

    expected = {path for n, _, path, _ in _DEEP_SYNTHESIS_BATCHES if n in _CSV_BATCHES}
    if missing := expected - set(policies):
        raise ValueError(f"channel CSV lacks batch pages {sorted(missing)}")

    genai = [genai_page(), *announcement_pages(policies.values())]
    listed = {page.url_path for page in [*deep_synthesis, *genai]}
    others = other_pages(policies.values(), exclude=listed)
    timeline = Timeline.of([algorithm_page(), *deep_synthesis, *genai, *others])

    for publication in timeline.publications:
        for attachment in publication.attachments:
            if not attachment.path.is_file():
                raise FileNotFoundError(attachment.path)
    return timeline
