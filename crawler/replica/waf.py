"""The Knownsec (知道创宇云防御) block page that fronts www.cac.gov.cn.

The real WAF answers a blocked client with an ordinary 200 page, so a crawler can
only tell by the body text (cac_site.md §7.6).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from html import escape

BLOCK_MARKER = "知道创宇云防御"


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
