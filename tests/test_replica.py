"""The local CAC replica, exercised over real HTTP on 127.0.0.1."""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import urllib.request
import urllib.robotparser
from collections.abc import Iterator
from datetime import date
from email.message import Message
from typing import Any
from urllib.error import HTTPError
from urllib.parse import parse_qs, unquote, urlencode, urljoin, urlsplit

import pytest
from parsel import Selector

from crawler.replica import pages
from crawler.replica.policies import split_paragraphs
from crawler.replica.series import (
    ALGORITHM_PATH,
    chinese_numeral,
    deep_synthesis_path,
    deep_synthesis_title,
    load_timeline,
)
from crawler.replica.server import Replica
from crawler.replica.timeline import (
    ALGORITHM,
    DEEP_SYNTHESIS,
    GENAI,
    OTHER,
    Attachment,
)

CHANNEL = "/wxzw/wxfb/A093702index_1.htm"
DOWNLOAD = "/cms/pub/interact/downloadfile.jsp"
BATCH_1 = "/2023-06/20/c_1688910683316256.htm"
BATCH_15 = "/2026-01/07/c_1769516642440314.htm"
BATCH_16 = "/2026-03/12/c_1775050837565188.htm"
BATCH_17 = "/2026-05/06/c_1779809434590762.htm"
BLOCKCHAIN_21 = "/2026-01/15/c_1770207736136310.htm"
BEFORE_BATCH_17 = date(2026, 4, 30)
AFTER_BATCH_17 = date(2026, 5, 31)

# Never let an environment proxy see loopback traffic.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# Shows a 3xx answer itself instead of following it.
_NO_REDIRECT_OPENER = urllib.request.build_opener(
    urllib.request.ProxyHandler({}), _NoRedirect()
)


def fetch(
    url: str,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    follow: bool = True,
) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    opener = _OPENER if follow else _NO_REDIRECT_OPENER
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


def fetch_text(url: str) -> str:
    status, _, body = fetch(url)
    assert status == 200, url
    return body.decode("utf-8")


def text_content(node: Selector) -> str:
    """All text under ``node``, as lxml's ``text_content()`` gives it."""
    return "".join(node.xpath(".//text()").getall())


def download_links(html: str, page_url: str) -> list[tuple[str, str]]:
    """(absolute URL, link text) of every download link on a page."""
    return [
        (urljoin(page_url, a.attrib["href"].strip()), text_content(a))
        for a in Selector(text=html).xpath("//a")
        if DOWNLOAD in a.attrib.get("href", "")
    ]


def attachment_by_label(label: str) -> Attachment:
    for publication in load_timeline().publications:
        for attachment in publication.attachments:
            if attachment.label == label:
                return attachment
    raise LookupError(label)


def filename_from_disposition(value: str) -> str:
    prefix = "attachment; filename*=UTF-8''"
    assert value.startswith(prefix)
    return unquote(value.removeprefix(prefix))


@pytest.fixture
def replica() -> Iterator[Replica]:
    with Replica(BEFORE_BATCH_17) as running:
        yield running


# --- channel list -----------------------------------------------------------


def test_channel_list_follows_as_of(replica: Replica) -> None:
    html = fetch_text(replica.base_url + CHANNEL)

    assert html.count("<li>") == 20
    assert BATCH_16 in html
    assert BATCH_17 not in html

    replica.as_of = AFTER_BATCH_17
    html = fetch_text(replica.base_url + CHANNEL)
    assert BATCH_17 in html
    assert html.count("<li>") == 20


def test_channel_links_are_protocol_relative_with_quirks(replica: Replica) -> None:
    html = fetch_text(replica.base_url + CHANNEL)
    netloc = urlsplit(replica.base_url).netloc
    tree = Selector(text=html)

    anchors = tree.xpath('//div[@id="loadingInfoPage"]/li/h5/a')
    assert len(anchors) == 20
    assert all(a.attrib["href"].startswith(f"//{netloc}/") for a in anchors)
    assert len(tree.xpath('//div[@id="loadingInfoPage"]//div[@class="times"]')) == 20
    assert tree.xpath('//div[@id="Page"]')

    assert f"href=//{netloc}/" in html
    assert f'href="//{netloc}/' in html
    assert html.count(f"href= //{netloc}/") == 1


def test_channel_titles_are_truncated_but_kept_whole_in_title(
    replica: Replica,
) -> None:
    tree = Selector(text=fetch_text(replica.base_url + CHANNEL))
    anchors = tree.xpath('//div[@id="loadingInfoPage"]/li/h5/a')

    cut = [a for a in anchors if text_content(a).endswith("…")]
    assert cut
    assert all(a.attrib["title"].startswith(text_content(a)[:-1]) for a in cut)


@pytest.mark.parametrize("page", [2, 3, 10])
def test_later_channel_pages_are_404(replica: Replica, page: int) -> None:
    status, _, _ = fetch(f"{replica.base_url}/wxzw/wxfb/A093702index_{page}.htm")
    assert status == 404


# --- JsonList ---------------------------------------------------------------


def json_list(replica: Replica, page_no: int, code: str = "A093702") -> dict[str, Any]:
    form = urlencode({"channelCode": code, "perPage": 20, "pageno": page_no})
    status, headers, body = fetch(
        replica.base_url + "/cms/JsonList", data=form.encode("ascii")
    )
    assert status == 200
    assert headers.get_content_type() == "application/json"
    answer: dict[str, Any] = json.loads(body)
    return answer


def test_json_list_pages_down_to_batch_1_then_ends(replica: Replica) -> None:
    topics: list[str] = []
    page_no = 1
    while entries := json_list(replica, page_no)["list"]:
        topics.extend(entry["topic"] for entry in entries)
        page_no += 1

    assert deep_synthesis_title(1) in topics
    assert json_list(replica, page_no)["list"] == []
    # 17 filing-list pages, the growing GenAI page and 92 other items.
    assert json_list(replica, 1)["totalRec"] == len(topics) == 110


def test_json_list_entries_look_like_the_cms(replica: Replica) -> None:
    replica.as_of = AFTER_BATCH_17
    first = json_list(replica, 1)["list"][0]

    netloc = urlsplit(replica.base_url).netloc
    assert first["topic"] == deep_synthesis_title(17)
    assert first["infourl"] == f"//{netloc}{BATCH_17}"
    assert first["pubtime"] == "2026-05-06 18:00:00.0"
    assert first["filltime"] == first["pubtime"]


def test_json_list_accepts_get_and_ignores_unknown_channels(replica: Replica) -> None:
    query = urlencode({"channelCode": "A093702", "perPage": 5, "pageno": 1})
    status, _, body = fetch(f"{replica.base_url}/cms/JsonList?{query}")
    assert status == 200
    assert len(json.loads(body)["list"]) == 5

    assert json_list(replica, 1, code="A093601")["list"] == []


# --- article pages ----------------------------------------------------------


def test_algorithm_page_lists_released_attachments(replica: Replica) -> None:
    url = replica.base_url + ALGORITHM_PATH
    links = download_links(fetch_text(url), url)
    assert len(links) == 17
    assert [text for _, text in links[:3]] == ["附件", "附件2", "附件3"]

    replica.as_of = AFTER_BATCH_17
    links = download_links(fetch_text(url), url)
    assert len(links) == 18
    assert links[-1][1] == "附件18"


def test_one_algorithm_link_has_no_ftext(replica: Replica) -> None:
    url = replica.base_url + ALGORITHM_PATH
    links = download_links(fetch_text(url), url)

    bare = [(href, text) for href, text in links if "fText=" not in href]
    assert [text for _, text in bare] == ["附件7"]

    status, headers, _ = fetch(bare[0][0], headers={"Referer": url})
    assert status == 200
    name = filename_from_disposition(headers["Content-Disposition"])
    assert name == "境内互联网信息服务算法备案清单（2024年6月）.docx"


def test_article_page_markup(replica: Replica) -> None:
    url = replica.base_url + BATCH_15
    tree = Selector(text=fetch_text(url))

    title = tree.xpath('string(//div[@class="main-title"]/h1[@class="title"])')
    assert title.get() == deep_synthesis_title(15)
    assert tree.xpath('string(//span[@id="pubtime"])').get() == "2026年01月07日 18:00"
    body = tree.xpath('//div[@id="BodyLabel"]')[0]
    assert "现公开发布第十五批境内深度合成服务算法备案信息" in text_content(body)
    assert body.xpath(".//script")
    assert "当前位置：" in text_content(tree)


def test_batch_pages_link_their_list_by_name(replica: Replica) -> None:
    replica.as_of = AFTER_BATCH_17
    ftext_first = unquoted = 0

    for number, page in enumerate(load_timeline().series(DEEP_SYNTHESIS), start=1):
        url = replica.base_url + page.url_path
        html = fetch_text(url)
        [(href, text)] = download_links(html, url)

        assert text == page.attachments[0].label
        assert parse_qs(urlsplit(href).query)["fText"] == [text]
        ftext_first += urlsplit(href).query.startswith("fText=")
        unquoted += f"href={DOWNLOAD}" in html
        assert (number == 1) == ("批" not in page.title)

    assert 0 < ftext_first < 17
    assert 0 < unquoted < 17


def test_distractors_have_no_download_links(replica: Replica) -> None:
    url = replica.base_url + BLOCKCHAIN_21
    html = fetch_text(url)

    assert "境内区块链信息服务备案清单（第二十一批）" in html
    assert download_links(html, url) == []


def test_article_after_as_of_is_404(replica: Replica) -> None:
    status, _, _ = fetch(replica.base_url + BATCH_17)
    assert status == 404

    replica.as_of = AFTER_BATCH_17
    status, _, _ = fetch(replica.base_url + BATCH_17)
    assert status == 200


def test_publishdate_changes_on_every_request(replica: Replica) -> None:
    stamp = re.compile(r"publishdate:(\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2})")
    url = replica.base_url + BATCH_16

    first = stamp.findall(fetch_text(url))
    second = stamp.findall(fetch_text(url))
    assert len(first) == len(second) == 1
    assert first != second


# --- downloads --------------------------------------------------------------


def test_download_with_referer_returns_the_real_file(replica: Replica) -> None:
    page_url = replica.base_url + BATCH_15
    [(href, label)] = download_links(fetch_text(page_url), page_url)

    status, headers, body = fetch(href, headers={"Referer": page_url})

    expected = attachment_by_label(label).path.read_bytes()
    assert status == 200
    assert hashlib.sha256(body).digest() == hashlib.sha256(expected).digest()
    assert headers["Content-Type"] == attachment_by_label(label).media_type
    assert headers["Content-Length"] == str(len(expected))
    name = filename_from_disposition(headers["Content-Disposition"])
    assert name == "境内深度合成服务算法备案清单（2026年1月）.docx"


def test_download_without_referer_is_an_empty_page(replica: Replica) -> None:
    page_url = replica.base_url + BATCH_15
    [(href, _)] = download_links(fetch_text(page_url), page_url)

    status, headers, body = fetch(href)

    assert status == 200
    assert body == b""
    assert headers.get_content_type() == "text/html"

    replica.require_referer = False
    assert fetch(href)[2].startswith(b"PK\x03\x04")


def test_unknown_or_unreleased_attachments_are_404(replica: Replica) -> None:
    referer = {"Referer": replica.base_url + "/"}
    unreleased = attachment_by_label("境内互联网信息服务算法备案清单（2026年5月）")

    url = f"{replica.base_url}{DOWNLOAD}?filepath={unreleased.token}"
    assert fetch(url, headers=referer)[0] == 404
    assert fetch(f"{replica.base_url}{DOWNLOAD}?filepath=nope", headers=referer)[0] == (
        404
    )

    replica.as_of = AFTER_BATCH_17
    assert fetch(url, headers=referer)[0] == 200


def test_overrides_replace_the_served_bytes(replica: Replica) -> None:
    label = "境内深度合成服务算法备案清单（2026年1月）"
    replica.overrides[label] = b"re-issued attachment"
    page_url = replica.base_url + BATCH_15
    [(href, _)] = download_links(fetch_text(page_url), page_url)

    status, _, body = fetch(href, headers={"Referer": page_url})

    assert status == 200
    assert body == b"re-issued attachment"


def test_downloads_are_logged(replica: Replica) -> None:
    page_url = replica.base_url + BATCH_1
    [(href, _)] = download_links(fetch_text(page_url), page_url)

    fetch(href, headers={"Referer": page_url})
    fetch(href)

    logged = replica.downloads()
    assert [entry.status for entry in logged] == [200, 200]
    assert logged[0].headers.get("Referer") == page_url
    assert "Referer" not in logged[1].headers
    assert logged[0].query == urlsplit(href).query
    assert len(replica.requests) == 3


# --- fault modes ------------------------------------------------------------

FILE_URL = re.compile(r"/cms/files/[0-9a-f]{32}\.docx")
# The Ruishu fingerprint: a long random <meta … r="m"> and a cookie script.
CHALLENGE_META = re.compile(r'<meta [^>]*content="([^"]+)" r="m">')


def batch_15_download(replica: Replica) -> tuple[str, str]:
    """(download URL, page URL) of the batch 15 list."""
    page_url = replica.base_url + BATCH_15
    [(href, _)] = download_links(fetch_text(page_url), page_url)
    return href, page_url


def test_redirected_download_leads_to_the_file(replica: Replica) -> None:
    replica.redirect_downloads = True
    href, page_url = batch_15_download(replica)

    status, headers, body = fetch(href, headers={"Referer": page_url}, follow=False)

    assert status == 302
    assert body == b""
    location = headers["Location"]
    assert location.startswith(replica.base_url)
    assert FILE_URL.fullmatch(urlsplit(location).path)

    status, headers, body = fetch(location, headers={"Referer": href})
    expected = attachment_by_label("境内深度合成服务算法备案清单（2026年1月）")
    assert status == 200
    assert body == expected.path.read_bytes()
    assert filename_from_disposition(headers["Content-Disposition"]) == (
        expected.download_name
    )
    assert [r.status for r in replica.downloads()] == [302]


def test_redirected_download_still_wants_a_referer(replica: Replica) -> None:
    replica.redirect_downloads = True
    href, page_url = batch_15_download(replica)

    # No Referer at the first hop: the empty page, no redirect.
    status, _, body = fetch(href, follow=False)
    assert (status, body) == (200, b"")

    _, headers, _ = fetch(href, headers={"Referer": page_url}, follow=False)
    status, _, body = fetch(headers["Location"])
    assert (status, body) == (200, b"")


def test_redirect_targets_of_unknown_or_unreleased_files_are_404(
    replica: Replica,
) -> None:
    referer = {"Referer": replica.base_url + "/"}
    unreleased = attachment_by_label("境内深度合成服务算法备案清单（2026年5月）")
    url = replica.base_url + pages.file_href(unreleased)
    unknown = f"{replica.base_url}/cms/files/{'0' * 32}.docx"

    assert fetch(url, headers=referer)[0] == 404
    assert fetch(unknown, headers=referer)[0] == 404

    replica.as_of = AFTER_BATCH_17
    assert fetch(url, headers=referer)[0] == 200


@pytest.mark.parametrize(
    ("path", "form"),
    [
        (CHANNEL, None),
        (BATCH_15, None),
        ("/", None),
        ("/nothing/here", None),
        ("/cms/JsonList", b"channelCode=A093702&perPage=20&pageno=1"),
    ],
)
def test_challenge_answers_pages_and_json_list(
    replica: Replica, path: str, form: bytes | None
) -> None:
    replica.challenge_status = 412

    status, headers, body = fetch(replica.base_url + path, data=form)

    text = body.decode("utf-8")
    assert status == 412
    assert headers.get_content_type() == "text/html"
    match = CHALLENGE_META.search(text)
    assert match is not None
    assert len(match.group(1)) >= 200
    assert re.search(r"<script[^>]*>[^<]*document\.cookie=", text)
    assert "Set-Cookie" in headers
    assert "网信" not in text


def test_challenge_is_random_and_can_come_with_200(replica: Replica) -> None:
    replica.challenge_with_200 = True

    first = fetch(replica.base_url + CHANNEL)
    second = fetch(replica.base_url + CHANNEL)

    assert first[0] == second[0] == 200
    seeds = [CHALLENGE_META.search(answer[2].decode()) for answer in (first, second)]
    assert all(seeds)
    assert seeds[0] != seeds[1]


def test_challenge_spares_robots_and_files_and_switches_off(replica: Replica) -> None:
    href, page_url = batch_15_download(replica)
    replica.challenge_status = 412

    assert fetch(replica.base_url + "/robots.txt")[0] == 200
    status, _, body = fetch(href, headers={"Referer": page_url})
    assert status == 200
    assert body.startswith(b"PK\x03\x04")

    replica.challenge_status = None
    assert "网信" in fetch_text(replica.base_url + CHANNEL)


def test_robots_disallow_adds_lines(replica: Replica) -> None:
    default = fetch(replica.base_url + "/robots.txt")[2].decode("ascii")
    assert "/cms/" not in default

    replica.robots_disallow = ["/cms/"]
    text = fetch(replica.base_url + "/robots.txt")[2].decode("ascii")

    assert text.startswith(default)
    assert text.endswith("Disallow: /cms/\n")
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(text.splitlines())
    href, page_url = batch_15_download(replica)
    assert not robots.can_fetch("cacwatch", href)
    assert not robots.can_fetch("cacwatch", replica.base_url + "/cms/JsonList")
    assert robots.can_fetch("cacwatch", page_url)


def test_truncated_download_declares_the_full_length(replica: Replica) -> None:
    replica.truncate_downloads = True
    href, page_url = batch_15_download(replica)
    label = "境内深度合成服务算法备案清单（2026年1月）"
    size = attachment_by_label(label).path.stat().st_size
    request = urllib.request.Request(href, headers={"Referer": page_url})

    with _OPENER.open(request, timeout=10) as response:
        assert response.headers["Content-Length"] == str(size)
        with pytest.raises(http.client.IncompleteRead) as lost:
            response.read()

    received = len(lost.value.partial)
    assert received == int(size * 0.6)
    assert received + (lost.value.expected or 0) == size


def test_truncation_applies_after_a_redirect(replica: Replica) -> None:
    replica.redirect_downloads = True
    replica.truncate_downloads = True
    href, page_url = batch_15_download(replica)
    _, headers, _ = fetch(href, headers={"Referer": page_url}, follow=False)
    request = urllib.request.Request(headers["Location"], headers={"Referer": href})

    with (
        _OPENER.open(request, timeout=10) as response,
        pytest.raises(http.client.IncompleteRead),
    ):
        response.read()


def test_duplicate_link_puts_the_batch_16_link_on_batch_17(replica: Replica) -> None:
    replica.as_of = AFTER_BATCH_17
    page_17 = replica.base_url + BATCH_17
    page_16 = replica.base_url + BATCH_16
    [(own, own_text)] = download_links(fetch_text(page_17), page_17)

    replica.duplicate_link = True
    links = download_links(fetch_text(page_17), page_17)

    [(href_16, text_16)] = download_links(fetch_text(page_16), page_16)
    assert links == [(own, own_text), (href_16, text_16)]
    assert text_16 == "境内深度合成服务算法备案清单（2026年3月）"
    status, _, body = fetch(href_16, headers={"Referer": page_17})
    assert status == 200
    assert body == attachment_by_label(text_16).path.read_bytes()


def test_deep_synthesis_path() -> None:
    assert deep_synthesis_path(1) == BATCH_1
    assert deep_synthesis_path(17) == BATCH_17
    with pytest.raises(ValueError, match="no deep-synthesis batch 18"):
        deep_synthesis_path(18)


# --- blocking and misc ------------------------------------------------------


@pytest.mark.parametrize(
    "path", [CHANNEL, BATCH_15, "/cms/JsonList?channelCode=A093702", DOWNLOAD]
)
def test_blocked_mode_serves_the_waf_page(replica: Replica, path: str) -> None:
    replica.blocked = True

    status, _, body = fetch(replica.base_url + path, headers={"Referer": "x"})

    text = body.decode("utf-8")
    assert status == 200
    assert "知道创宇云防御" in text
    assert "您的IP( 127.0.0.1 )最近有可疑的攻击行为，请稍后重试" in text


def test_robots_home_and_unknown_paths(replica: Replica) -> None:
    status, _, body = fetch(replica.base_url + "/robots.txt")
    assert status == 200
    assert b"Disallow: /wxzf/" in body

    assert CHANNEL in fetch_text(replica.base_url + "/")
    assert CHANNEL in fetch_text(replica.base_url + "/index.htm")
    assert fetch(replica.base_url + "/2026-05/06/c_1.htm")[0] == 404
    assert fetch(replica.base_url + "/nothing/here")[0] == 404


def test_replica_stops_and_restarts_cleanly() -> None:
    replica = Replica(BEFORE_BATCH_17)
    with pytest.raises(RuntimeError):
        _ = replica.base_url

    with replica:
        assert fetch(replica.base_url + "/robots.txt")[0] == 200
    replica.stop()


# --- data -------------------------------------------------------------------


def test_timeline_holds_every_real_attachment() -> None:
    timeline = load_timeline()
    [algorithm] = timeline.series(ALGORITHM)
    deep = timeline.series(DEEP_SYNTHESIS)

    assert len(algorithm.attachments) == 18
    assert len(deep) == 17
    assert len(timeline.series(GENAI)) == 7
    assert len(timeline.series(OTHER)) == 86
    files = {a.filename for p in [algorithm, *deep] for a in p.attachments}
    assert len(files) == 35
    assert all(a.path.is_file() for p in [algorithm, *deep] for a in p.attachments)


@pytest.mark.parametrize(
    ("number", "numeral"),
    [(2, "二"), (10, "十"), (11, "十一"), (17, "十七"), (20, "二十"), (21, "二十一")],
)
def test_chinese_numeral(number: int, numeral: str) -> None:
    assert chinese_numeral(number) == numeral


def test_split_paragraphs_breaks_after_sentences_and_before_attachments() -> None:
    body = " 第一段。 第二段 含空格。 附件： 清单（第一批） "
    assert split_paragraphs(body) == (
        "第一段。",
        "第二段 含空格。",
        "附件： 清单（第一批）",
    )
