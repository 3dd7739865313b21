"""The page readers of ``crawler.pages`` on the replica's pages and on snippets."""

from __future__ import annotations

import hashlib
import re
import urllib.request
from collections.abc import Iterator
from datetime import date
from urllib.error import HTTPError
from urllib.parse import urlencode, urlsplit

import pytest

from crawler.pages import (
    ListItem,
    is_blocked,
    parse_article,
    parse_channel_list,
    parse_json_list,
)
from crawler.replica.server import Replica
from crawler.topics import ALGORITHM, DEEP_SYNTHESIS, batch_number, series_of

AS_OF = date(2026, 5, 31)
CHANNEL = "/wxzw/wxfb/A093702index_1.htm"
DOWNLOAD = "/cms/pub/interact/downloadfile.jsp"
ALGORITHM_PAGE = "/2022-08/12/c_1661927474338504.htm"
BATCH_15 = "/2026-01/07/c_1769516642440314.htm"
BATCH_17 = "/2026-05/06/c_1779809434590762.htm"
BATCH_17_TITLE = "国家互联网信息办公室关于发布第十七批深度合成服务算法备案信息的公告"
BATCH_17_LIST = "境内深度合成服务算法备案清单（2026年5月）"

# (path, batch, publication day, attachment month) of deep-synthesis pages; batches
# 8–15 carry the real page text.
DEEP_SYNTHESIS_PAGES = [
    ("/2023-06/20/c_1688910683316256.htm", 1, "2023-06-20", "2023年6月"),
    ("/2024-11/01/c_1732152604917193.htm", 8, "2024-11-01", "2024年10月"),
    (BATCH_15, 15, "2026-01-07", "2026年1月"),
    ("/2026-03/12/c_1775050837565188.htm", 16, "2026-03-12", "2026年3月"),
    (BATCH_17, 17, "2026-05-06", "2026年5月"),
]

SITE = "https://www.cac.gov.cn"
CHANNEL_URL = SITE + CHANNEL
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# Never let an environment proxy see loopback traffic.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """Status and body of one request to the replica."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=10) as response:
            return response.status, response.read()
    except HTTPError as error:
        with error:
            return error.code, error.read()


def fetch_text(url: str) -> str:
    status, body = fetch(url)
    assert status == 200, url
    return body.decode("utf-8")


def json_list_page(replica: Replica, page_no: int) -> bytes:
    form = urlencode({"channelCode": "A093702", "perPage": 20, "pageno": page_no})
    status, body = fetch(replica.base_url + "/cms/JsonList", form.encode("ascii"))
    assert status == 200
    return body


def channel_snippet(*entries: str) -> str:
    """A channel page body in the site's template with the given ``<li>`` entries."""
    lis = "\n".join(entries)
    return f'<html><body><div id="loadingInfoPage">\n{lis}\n</div></body></html>'


@pytest.fixture
def replica() -> Iterator[Replica]:
    with Replica(AS_OF) as running:
        yield running


# --- channel list -----------------------------------------------------------


def test_channel_list_of_the_replica(replica: Replica) -> None:
    url = replica.base_url + CHANNEL
    html = fetch_text(url)

    items = parse_channel_list(html, url)

    netloc = urlsplit(replica.base_url).netloc
    assert len(items) == 20
    assert all(urlsplit(item.url).scheme == "http" for item in items)
    assert all(urlsplit(item.url).netloc == netloc for item in items)
    assert all(DATE.fullmatch(item.date) for item in items)
    assert len({item.url for item in items}) == 20
    assert items[0] == ListItem(
        BATCH_17_TITLE, replica.base_url + BATCH_17, "2026-05-06"
    )
    # Dates come newest first, as the channel lists them.
    assert [item.date for item in items] == sorted(
        (item.date for item in items), reverse=True
    )


def test_channel_titles_are_whole_where_the_link_text_is_cut(
    replica: Replica,
) -> None:
    url = replica.base_url + CHANNEL
    html = fetch_text(url)

    items = parse_channel_list(html, url)

    cut = [item for item in items if f">{item.title}</a>" not in html]
    assert cut
    assert all("…" not in item.title for item in items)
    assert all(f'title="{item.title}"' in html for item in items)
    assert sum(series_of(item.title) == DEEP_SYNTHESIS for item in items) == 3


def test_channel_list_agrees_with_the_first_json_list_page(replica: Replica) -> None:
    url = replica.base_url + CHANNEL

    from_page = parse_channel_list(fetch_text(url), url)
    from_json = parse_json_list(json_list_page(replica, 1), replica.base_url + "/")

    assert from_page == from_json


def test_channel_links_resolve_unquoted_spaced_and_protocol_relative() -> None:
    html = channel_snippet(
        '<li><h5><a href=//www.cac.gov.cn/2026-01/07/c_1.htm target=_blank title="甲">'
        '甲</a></h5><div class="times">2026-01-07</div></li>',
        '<li><h5><a href= //www.cac.gov.cn/2026-01/08/c_2.htm title="乙">乙</a></h5>'
        '<div class="times"> 2026-01-08 </div></li>',
        '<li><h5><a href="//www.cac.gov.cn/2026-01/09/c_3.htm" title="丙">丙</a></h5>'
        '<div class="times">2026-01-09</div></li>',
        '<li><h5><a href=" /2026-01/10/c_4.htm " title="丁">丁</a></h5>'
        '<div class="times">2026-01-10</div></li>',
    )

    items = parse_channel_list(html, CHANNEL_URL)

    assert items == [
        ListItem("甲", f"{SITE}/2026-01/07/c_1.htm", "2026-01-07"),
        ListItem("乙", f"{SITE}/2026-01/08/c_2.htm", "2026-01-08"),
        ListItem("丙", f"{SITE}/2026-01/09/c_3.htm", "2026-01-09"),
        ListItem("丁", f"{SITE}/2026-01/10/c_4.htm", "2026-01-10"),
    ]


def test_protocol_relative_links_take_the_scheme_of_the_page() -> None:
    html = channel_snippet(
        "<li><h5><a href=//www.cac.gov.cn/2026-01/07/c_1.htm>甲</a></h5>"
        '<div class="times">2026-01-07</div></li>'
    )

    [https] = parse_channel_list(html, CHANNEL_URL)
    [http] = parse_channel_list(html, "http://www.cac.gov.cn" + CHANNEL)

    assert https.url == "https://www.cac.gov.cn/2026-01/07/c_1.htm"
    assert http.url == "http://www.cac.gov.cn/2026-01/07/c_1.htm"


def test_channel_entry_falls_back_to_link_text_and_needs_a_link() -> None:
    html = channel_snippet(
        "<li><h5><a href=//www.cac.gov.cn/2026-01/07/c_1.htm>\n 关于发布第十五批公告 "
        '</a></h5><div class="times">2026-01-07</div></li>',
        '<li><h5><a title="无链接">无链接</a></h5><div class="times">2026-01-08</div>'
        "</li>",
        '<li><h5><a href="  " title="空链接">空链接</a></h5></li>',
    )

    items = parse_channel_list(html, CHANNEL_URL)

    assert [item.title for item in items] == ["关于发布第十五批公告"]


def test_channel_list_outside_the_list_block_is_ignored() -> None:
    html = (
        "<html><body><ul id=shizheng><li><h5><a href=//www.cac.gov.cn/x.htm "
        'title="要闻">要闻</a></h5></li></ul><div id="loadingInfoPage"></div>'
        "</body></html>"
    )

    assert parse_channel_list(html, CHANNEL_URL) == []


# --- JsonList ---------------------------------------------------------------


def test_json_list_page_2_of_the_replica(replica: Replica) -> None:
    base = replica.base_url + "/"
    first = parse_json_list(json_list_page(replica, 1), base)

    second = parse_json_list(json_list_page(replica, 2), base)

    netloc = urlsplit(replica.base_url).netloc
    assert len(second) == 20
    assert all(urlsplit(item.url).netloc == netloc for item in second)
    assert all(urlsplit(item.url).scheme == "http" for item in second)
    assert all(DATE.fullmatch(item.date) for item in second)
    assert all(item.title for item in second)
    assert not {item.url for item in first} & {item.url for item in second}
    assert first[-1].date >= second[0].date


def test_json_list_takes_text_or_bytes() -> None:
    body = (
        '{"totalRec": 1, "list": [{"topic": " 甲 ", '
        '"infourl": "//www.cac.gov.cn/2026-01/07/c_1.htm", '
        '"pubtime": "2026-01-07 18:00:00.0"}, {"topic": "无链接", "infourl": ""}]}'
    )
    expected = [ListItem("甲", f"{SITE}/2026-01/07/c_1.htm", "2026-01-07")]

    assert parse_json_list(body, SITE + "/") == expected
    assert parse_json_list(body.encode("utf-8"), SITE + "/") == expected


def test_empty_json_list_is_the_end() -> None:
    assert parse_json_list('{"list": []}', SITE + "/") == []
    assert parse_json_list(b'{"totalRec": 109, "list": []}', SITE + "/") == []


# --- article pages ----------------------------------------------------------


def test_batch_page(replica: Replica) -> None:
    url = replica.base_url + BATCH_17
    html = fetch_text(url)

    article = parse_article(html, url)

    assert article.title == BATCH_17_TITLE
    assert article.published == "2026-05-06T18:00"
    assert "现公开发布第十七批境内深度合成服务算法备案信息" in article.body_text
    assert article.body_text.endswith(f"附件： {BATCH_17_LIST}")

    [link] = article.attachments
    assert link.ftext == link.key == link.text == BATCH_17_LIST
    assert link.url.startswith(f"{replica.base_url}{DOWNLOAD}?")
    status, body = fetch(link.url, headers={"Referer": url})
    assert status == 200
    assert body.startswith(b"PK\x03\x04")


def test_batch_page_body_leaves_out_script_and_footer(replica: Replica) -> None:
    url = replica.base_url + BATCH_17
    html = fetch_text(url)

    article = parse_article(html, url)

    assert "pagestat" in html
    assert "publishdate:" in html
    for outside in ("pagestat", "publishdate", "Produced By CMS", "当前位置", "来源"):
        assert outside not in article.body_text
    assert article.body_text == " ".join(article.body_text.split())


def test_body_hash_is_stable_across_regenerated_pages(replica: Replica) -> None:
    url = replica.base_url + BATCH_17
    first_html = fetch_text(url)
    second_html = fetch_text(url)

    first = parse_article(first_html, url)
    second = parse_article(second_html, url)

    assert first_html != second_html
    assert first == second
    assert first.body_hash == second.body_hash
    expected = hashlib.sha256(first.body_text.encode("utf-8")).hexdigest()
    assert first.body_hash == expected


def test_body_hash_changes_with_the_body(replica: Replica) -> None:
    url = replica.base_url + BATCH_17
    html = fetch_text(url)

    edited = html.replace("第十七批境内", "第十八批境内")

    assert edited != html
    assert parse_article(edited, url).body_hash != parse_article(html, url).body_hash


@pytest.mark.parametrize(("path", "batch", "day", "month"), DEEP_SYNTHESIS_PAGES)
def test_batch_pages_name_their_series_and_list(
    replica: Replica, path: str, batch: int, day: str, month: str
) -> None:
    url = replica.base_url + path

    article = parse_article(fetch_text(url), url)

    assert series_of(article.title) == DEEP_SYNTHESIS
    assert batch_number(article.title) == batch
    assert article.published is not None
    assert article.published.startswith(f"{day}T")
    assert [link.key for link in article.attachments] == [
        f"境内深度合成服务算法备案清单（{month}）"
    ]


def test_real_batch_page_keeps_its_published_time(replica: Replica) -> None:
    url = replica.base_url + BATCH_15

    article = parse_article(fetch_text(url), url)

    assert article.published == "2026-01-07T18:00"
    assert "现公开发布第十五批境内深度合成服务算法备案信息" in article.body_text


def test_series_a_page_links_every_released_list(replica: Replica) -> None:
    url = replica.base_url + ALGORITHM_PAGE

    article = parse_article(fetch_text(url), url)

    assert series_of(article.title) == ALGORITHM
    assert article.published == "2022-08-12T18:00"
    assert len(article.attachments) == 18
    assert [link.text for link in article.attachments[:3]] == ["附件", "附件2", "附件3"]
    assert len({link.url for link in article.attachments}) == 18
    assert len({link.key for link in article.attachments}) == 18

    named = [link for link in article.attachments if link.ftext is not None]
    assert len(named) == 17
    assert all(
        link.key == link.ftext
        and re.fullmatch(
            r"境内互联网信息服务算法备案清单（\d{4}年\d{1,2}月）", link.key
        )
        for link in named
    )
    assert named[0].key == "境内互联网信息服务算法备案清单（2022年8月）"
    assert named[-1].key == "境内互联网信息服务算法备案清单（2026年5月）"


def test_series_a_link_without_ftext_is_keyed_by_its_text(replica: Replica) -> None:
    url = replica.base_url + ALGORITHM_PAGE

    article = parse_article(fetch_text(url), url)

    [bare] = [link for link in article.attachments if link.ftext is None]
    assert bare.key == bare.text == "附件7"
    assert "fText=" not in bare.url
    assert bare.url.startswith(f"{replica.base_url}{DOWNLOAD}?filepath=")


def test_series_a_page_shows_only_released_lists(replica: Replica) -> None:
    replica.as_of = date(2026, 4, 30)
    url = replica.base_url + ALGORITHM_PAGE

    article = parse_article(fetch_text(url), url)

    assert len(article.attachments) == 17
    assert article.attachments[-1].key == "境内互联网信息服务算法备案清单（2026年3月）"


def test_article_snippet_with_root_relative_link_and_ftext_first() -> None:
    html = (
        "<html><head><title>甲_中央网络安全和信息化委员会办公室</title></head><body>"
        '<h1 class="title"> 甲 </h1><span id="pubtime">2026年1月7日 9:05</span>'
        '<div id="BodyLabel"><p>正文&nbsp;第一段。</p><p>附件：</p>'
        '<p><a href=" /cms/pub/interact/downloadfile.jsp?fText=%E6%B8%85%E5%8D%95'
        '&amp;filepath=ab~c/d=">清单</a></p><p><a href="//www.cac.gov.cn/x.htm">'
        "其他链接</a></p><style>p { color: red }</style></div></body></html>"
    )

    article = parse_article(html, "https://www.cac.gov.cn/2026-01/07/c_1.htm")

    assert article.title == "甲"
    assert article.published == "2026-01-07T09:05"
    assert article.body_text == "正文 第一段。 附件： 清单 其他链接"
    [link] = article.attachments
    assert link.ftext == link.key == "清单"
    assert link.url == (
        "https://www.cac.gov.cn/cms/pub/interact/downloadfile.jsp"
        "?fText=%E6%B8%85%E5%8D%95&filepath=ab~c/d="
    )


def test_article_without_time_stamp() -> None:
    html = (
        "<html><body><h1>乙</h1><div class=TRS_Editor><p>旧模板</p></div></body></html>"
    )

    article = parse_article(html, "http://www.cac.gov.cn/2019-01/01/c_1.htm")

    assert article.title == "乙"
    assert article.published is None
    assert article.body_text == "旧模板"
    assert article.attachments == ()


# --- the WAF block page -----------------------------------------------------


@pytest.mark.parametrize("path", [CHANNEL, BATCH_17, "/cms/JsonList"])
def test_block_page_is_recognised(replica: Replica, path: str) -> None:
    url = replica.base_url + path
    replica.blocked = True

    html = fetch_text(url)

    assert is_blocked(html)
    assert parse_channel_list(html, url) == []


@pytest.mark.parametrize("path", [CHANNEL, BATCH_17, ALGORITHM_PAGE, "/"])
def test_normal_pages_are_not_blocked(replica: Replica, path: str) -> None:
    html = fetch_text(replica.base_url + path)

    assert not is_blocked(html)


def test_json_answer_is_not_blocked(replica: Replica) -> None:
    body = json_list_page(replica, 1).decode("utf-8")

    assert not is_blocked(body)
    assert parse_json_list(body, replica.base_url + "/")


def test_title_wrapped_in_markup_and_title_tag_fallback() -> None:
    wrapped = (
        "<html><head><title>示例公告_中央网络安全和信息化委员会办公室</title></head>"
        "<body><h1 class=title>\n<span>国家互联网信息办公室关于发布第十七批"
        "深度合成服务算法备案信息的公告</span></h1></body></html>"
    )
    assert parse_article(wrapped, "http://127.0.0.1/a.htm").title.endswith("的公告")

    bare = "<html><head><title>示例公告_中央网络安全和信息化委员会办公室</title></head>"
    assert parse_article(bare, "http://127.0.0.1/a.htm").title == "示例公告"
