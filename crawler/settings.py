"""Scrapy settings of cacwatch: polite defaults for the live site.

``cacwatch run`` overrides the ``CACWATCH_*`` settings and, when asked, the
delay; everything else applies as written here.
"""

BOT_NAME = "cacwatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

CACWATCH_SITE_URL = "https://www.cac.gov.cn"
CACWATCH_STATE_DIR = ""
CACWATCH_RUN_ID = ""

USER_AGENT = "cacwatch/0.1 (+https://github.com/cacwatch/cacwatch; filing-list monitor)"
ROBOTSTXT_OBEY = True

# One request at a time with a pause: the lists change every few weeks, there
# is no reason to hurry, and the site's WAF blocks clients that do.
CONCURRENT_REQUESTS = 4
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 2.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

DOWNLOAD_TIMEOUT = 60
# Attachments get longer than pages: the site is slow from abroad.
CACWATCH_ATTACHMENT_TIMEOUT = 300
# The attachments are a few hundred kilobytes; anything near this is not one.
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2

COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
HTTPCACHE_ENABLED = False

ITEM_PIPELINES = {"crawler.pipelines.ArchivePipeline": 300}

LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
