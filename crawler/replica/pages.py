"""HTML of the replica, in the CAC template current since the 2023-07 redesign.

The markup keeps the quirks a crawler meets on the real site (cac_site.md §7):
protocol-relative links, often unquoted and once with a space after ``=``;
root-relative download links whose parameter order and quoting vary by page; an
inline ``pagestat`` script inside the article body; and a ``publishdate`` footer
stamp that is new on every response.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import datetime
from html import escape
from urllib.parse import quote

from crawler.replica.timeline import Attachment, Publication
from crawler.replica.tokens import file_key

CHANNEL_PATH = "/wxzw/wxfb/A093702index_1.htm"
CHANNEL_NAME = "网信发布"
DOWNLOAD_PATH = "/cms/pub/interact/downloadfile.jsp"
# Where ``downloadfile.jsp`` sends the client when it redirects.
FILES_PATH = "/cms/files/"
SITE_NAME = "中央网络安全和信息化委员会办公室"

# List titles longer than this are cut with an ellipsis; a@title keeps them whole.
LIST_TITLE_CHARS = 24
CHANNEL_PAGE_SIZE = 20


def render_article(
    publication: Publication,
    attachments: Sequence[Attachment],
    netloc: str,
    stamp: datetime,
    borrowed: Sequence[tuple[Publication, Attachment]] = (),
) -> str:
    """Render an article page with the attachments visible at the moment.

    ``borrowed`` are attachments of other pages linked here as well, each with
    the page that owns it; their links carry the same URL as on that page.
    """
    pubtime = publication.published.strftime("%Y年%m月%d日 %H:%M")
    body = "\n".join(f"<p>{escape(text)}</p>" for text in publication.body_paragraphs)
    links = [(publication, attachment) for attachment in attachments]
    links += borrowed
    if links:
        body += "\n<p>附件：</p>\n" + _attachment_links(publication, links)

    content = f"""<div class="location">当前位置： <a href=//{netloc}/index.htm \
target=_blank>首页</a> &gt; 正文</div>
<div class="main-title"><h1 class="title">{escape(publication.title)}</h1></div>
<div class="main-info"><span id="pubtime">{pubtime}</span> 来源： \
{escape(publication.source)} 【打印】 【纠错】</div>
<div id="BodyLabel" class="main-content">
{body}
<script type="text/javascript">pagestat("{_article_id(publication)}");</script>
</div>"""
    return _document(publication.title, content, netloc, stamp)


def render_channel(items: Sequence[Publication], netloc: str, stamp: datetime) -> str:
    """Render the first page of the 网信发布 channel list."""
    entries = "\n".join(
        _channel_entry(index, item, netloc) for index, item in enumerate(items)
    )

    content = f"""<div class="location">当前位置： <a href=//{netloc}/index.htm \
target=_blank>首页</a> &gt; 网信政务 &gt; {CHANNEL_NAME}</div>
<div class="xpage-container">
<div id="loadingInfoPage">
{entries}
</div>
<div id="Page"><a href="javascript:void(0)" class="prev">&lt;</a> \
<span class="current">1</span> <a href="javascript:void(0)" class="next">&gt;</a></div>
</div>"""
    return _document(CHANNEL_NAME, content, netloc, stamp)


def render_home(netloc: str, stamp: datetime) -> str:
    content = f"""<ul class="nav">
<li><a href=//{netloc}/index.htm>首页</a></li>
<li><a href=//{netloc}{CHANNEL_PATH} target=_blank>{CHANNEL_NAME}</a></li>
</ul>"""
    return _document(None, content, netloc, stamp)


def download_href(attachment: Attachment, ftext_first: bool = False) -> str:
    """Return the root-relative download URL of ``attachment`` (unescaped)."""
    params = [f"filepath={quote(attachment.token, safe='~/=')}"]
    if attachment.with_ftext:
        ftext = f"fText={quote(attachment.label, safe='')}"
        params.insert(0 if ftext_first else 1, ftext)
    return DOWNLOAD_PATH + "?" + "&".join(params)


def file_href(attachment: Attachment) -> str:
    """Return the root-relative URL a redirected download of ``attachment`` ends at."""
    return f"{FILES_PATH}{file_key(attachment.token)}{attachment.extension}"


def _attachment_links(
    page: Publication, links: Sequence[tuple[Publication, Attachment]]
) -> str:
    _, quoted = _link_style(page)

    markup = []
    for owner, attachment in links:
        # A link copied from another page keeps that page's parameter order,
        # so both pages point at the same URL.
        ftext_first, _ = _link_style(owner)
        href = escape(download_href(attachment, ftext_first))
        href_attr = f'href="{href}"' if quoted else f"href={href}"
        text = escape(attachment.link_text or attachment.label)
        markup.append(f"<p><a {href_attr}>{text}</a></p>")
    return "\n".join(markup)


def _link_style(publication: Publication) -> tuple[bool, bool]:
    """Whether a page writes fText first, and whether it quotes its hrefs."""
    # Pages differ in how the CMS wrote the links; the choice is fixed per page.
    style = zlib.crc32(publication.url_path.encode("utf-8")) % 4
    return style in (1, 3), style in (0, 1)


def _channel_entry(index: int, item: Publication, netloc: str) -> str:
    url = f"//{netloc}{item.url_path}"
    # Mostly unquoted, every fourth quoted, and one with a space after "=".
    if index == 2:
        href = f"href= {url}"
    elif index % 4 == 3:
        href = f'href="{url}"'
    else:
        href = f"href={url}"

    shown = item.title
    if len(shown) > LIST_TITLE_CHARS:
        shown = shown[:LIST_TITLE_CHARS] + "…"
    return (
        f'<li><h5><a {href} target=_blank title="{escape(item.title)}">'
        f"{escape(shown)}</a></h5>"
        f'<div class="times">{item.published:%Y-%m-%d}</div></li>'
    )


def _article_id(publication: Publication) -> str:
    return publication.url_path.rsplit("/c_", 1)[-1].removesuffix(".htm")


def _document(title: str | None, content: str, netloc: str, stamp: datetime) -> str:
    head_title = SITE_NAME if title is None else f"{title}_{SITE_NAME}"
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" \
"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
<title>{escape(head_title)}</title>
</head>
<body>
<div class="header"><a href=//{netloc}/index.htm>首 页</a> \
<a href=//{netloc}{CHANNEL_PATH} target=_blank>{CHANNEL_NAME}</a></div>
{content}
<div class="footer">
<p>{SITE_NAME} 中华人民共和国国家互联网信息办公室 &copy; 版权所有</p>
<p>Produced By CMS 网站群内容管理系统 publishdate:{stamp:%Y/%m/%d %H:%M:%S}</p>
</div>
</body>
</html>
"""
