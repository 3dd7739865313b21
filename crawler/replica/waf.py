"""Firewall pages: the Knownsec (知道创宇云防御) block page and a Ruishu challenge.

The real WAF in front of www.cac.gov.cn answers a blocked client with an ordinary
200 page, so a crawler can only tell by the body text. The
Ruishu (瑞数) JavaScript challenge is not reported for cac.gov.cn but is common on
other government sites; the replica can play it too.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from html import escape

BLOCK_MARKER = "知道创宇云防御"

# Ruishu sets a pair of cookies: "…S" from the server, "…T" from the script.
CHALLENGE_COOKIE = "cacRsCk80"


def render_block_page(client_ip: str, url: str, user_agent: str, when: datetime) -> str:
    """Render the block page shown to ``client_ip`` for ``url``."""
    event_id = hashlib.sha1(f"{client_ip} {url} {when}".encode()).hexdigest()[:32]
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="UTF-8">
<title>{BLOCK_MARKER}</title>
</head>
<body>
<div class="block">
<p>您的IP( {escape(client_ip)} )最近有可疑的攻击行为，请稍后重试.</p>
<p>当前网址：{escape(url)}</p>
<p>客户端特征：{escape(user_agent)}</p>
<p>拦截时间：{when:%Y-%m-%d %H:%M:%S}</p>
<p>本次事件ID {event_id}</p>
<p>如果您是网站管理员，请登录{BLOCK_MARKER} 查看详情 或者 反馈误报</p>
</div>
</body>
</html>
"""


def render_challenge_page() -> tuple[str, str]:
    """Render a Ruishu-style challenge; return the page and its Set-Cookie value.

    The page carries a long random ``<meta … r="m">`` and a script that sets
    ``document.cookie`` and reloads; both differ on every answer, as the real
    challenge's do.
    """
    seed = secrets.token_urlsafe(192)
    ticket = secrets.token_hex(32)
    page = f"""<!DOCTYPE html>
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta http-equiv="Pragma" content="no-cache">
<meta id="{secrets.token_hex(6)}" content="{seed}" r="m">
<script type="text/javascript" r="m">
var $_ts=window['$_ts'];if(!$_ts)$_ts=window['$_ts']={{}};
$_ts.nsd={secrets.randbelow(99999)};
document.cookie="{CHALLENGE_COOKIE}T={ticket}; path=/";location.reload();
</script>
</head>
<body></body>
</html>
"""
    cookie = f"{CHALLENGE_COOKIE}S={secrets.token_hex(24)}; Path=/; HttpOnly"
    return page, cookie
