"""``python -m tests.scheduler.service_main CONFIG``: ``listener run`` with the test analyzer.

The real scheduler, job store, state, index and Scrapy crawls (on the scrapyd
workers of ``schedule.workers``, else in subprocesses), with delays off; only
the analysis is the predictable :class:`KeywordAnalyzer`, so that the process
tests do not depend on the language models.
"""

from __future__ import annotations

import logging
import sys

from listener.config import Config, load_config
from scheduler.crawling import Crawler, spiders_crawler
from scheduler.service import ListenerService, Ticks
from scheduler.workers import ScrapydCrawler
from tests.scheduler.helpers import KeywordAnalyzer

FAST = {"DOWNLOAD_DELAY": 0, "BACKOFF_BASE_DELAY": 0.05, "LOG_LEVEL": "WARNING"}


def crawler(config: Config) -> Crawler:
    if config.schedule.workers.scrapyd:
        return ScrapydCrawler.from_config(config, settings=FAST)
    return spiders_crawler(timeout=60, settings=FAST)


def main(path: str) -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s")
    config = load_config(path)
    service = ListenerService(config, analyzer=KeywordAnalyzer(), crawler=crawler(config),
                              ticks=Ticks(recheck=1, sla=0.5, spikes=1, heartbeat=1))
    service.run_forever()


if __name__ == "__main__":
    main(sys.argv[1])
