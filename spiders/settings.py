"""Scrapy settings for every listener crawl (``scrapy.cfg`` points here).

A source's own values (``user_agent``) and a kind's ``custom_settings`` go on
top; :func:`spiders.crawl` takes further overrides (tests set the delays to 0).
"""

from spiders import limits

BOT_NAME = "listener"

# Site owners see who we are and where to read about it; a source's ``contact``
# is added inside the brackets, its ``user_agent`` replaces the whole string.
PROJECT_URL = "https://github.com/listener-project/listener"
USER_AGENT = f"listener/0.1 (+{PROJECT_URL})"

# APIs are polled politely and in small numbers; HTML kinds switch on
# ROBOTSTXT_OBEY and AutoThrottle in their own custom_settings. robots.txt is
# read by RobotsMiddleware (RFC 9309: 5xx means disallow; Crawl-delay paces).
ROBOTSTXT_OBEY = False
ROBOTSTXT_USER_AGENT = "listener"
AUTOTHROTTLE_ENABLED = False
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
DOWNLOAD_TIMEOUT = 30

# A hostile or broken server cannot make us read a 2 GB body: a response over
# DOWNLOAD_MAXSIZE, as sent or once decompressed (a gzip bomb), is not read and
# is reported as too_large; one over DOWNLOAD_WARNSIZE is logged. The largest
# real pages we read (1,000 Hacker News hits, a long Reddit thread) are ~2 MiB.
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
# JSON (API bodies, JSON-LD) nested deeper than JSON_MAX_DEPTH (256) is refused.
JSON_MAX_DEPTH = limits.JSON_MAX_DEPTH

# Only public addresses are fetched (spiders.addresses): each host is looked up
# once by ADDRESS_LOOKUP, checked, and connections go to what was checked (the
# resolver below). ALLOWED_PRIVATE_NETWORKS (e.g. ["192.168.1.0/24"]) are fetched
# for every source; a source's allow_private: true lifts the check for it.
TWISTED_DNS_RESOLVER = "spiders.resolver.GuardedResolver"
ADDRESS_LOOKUP = "spiders.addresses.system_lookup"
ALLOWED_PRIVATE_NETWORKS: list[str] = []
DNS_TIMEOUT = 20

# Credentials never follow a redirect to another origin (spiders.credentials):
# these headers are dropped from it, as Scrapy already drops Authorization and Cookie.
CREDENTIAL_HEADERS = ["Authorization", "Cookie", "Api-Key", "Api-Username", "X-Api-Key"]

# Only HTTP(S) is ever fetched; AddressGuardMiddleware refuses other schemes first.
# HTTP(S) goes through the gate that keeps every host's announced windows and pace.
DOWNLOAD_HANDLERS = {
    "file": None, "s3": None, "ftp": None, "data": None,
    "http": "spiders.dispatch.GatedDownloadHandler",
    "https": "spiders.dispatch.GatedDownloadHandler",
}

COOKIES_ENABLED = False

# `scrapy crawl KIND` (a scrapyd job) finds the spider by its kind; with
# LISTENER_EVENTS set, the crawl writes its events there (spiders.jobs).
SPIDER_LOADER_CLASS = "spiders.jobs.KindLoader"
EXTENSIONS = {"spiders.jobs.EventFile": 0}
LISTENER_EVENTS = None
# No consoles into a crawl: Scrapy's remote-control server runs code it is sent.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "INFO"

# Retries are BackoffMiddleware's; the waits before them are the gate's
# (spiders.dispatch): Retry-After, rate-limit headers, else doubling delays.
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
BACKOFF_BASE_DELAY = 1.0
BACKOFF_MAX_DELAY = 120.0

DOWNLOADER_MIDDLEWARES = {
    "spiders.addresses.AddressGuardMiddleware": 50,
    "spiders.credentials.CredentialsMiddleware": 60,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "spiders.robots.RobotsMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "spiders.backoff.BackoffMiddleware": 550,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "spiders.compression.BoundedCompressionMiddleware": 590,
}
