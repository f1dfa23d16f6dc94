"""JSON log lines carry the structured fields passed with ``extra``."""

from __future__ import annotations

import json
import logging

from scheduler.logs import JsonFormatter


def test_a_json_line_has_message_level_and_extra_fields():
    record = logging.makeLogRecord({"name": "scheduler.crawling", "levelno": logging.INFO, "levelname": "INFO",
                                    "msg": "crawl %s: %d fetched", "args": ("hn", 3), "event": "crawl", "fetched": 3})
    line = json.loads(JsonFormatter().format(record))
    assert (line["message"], line["level"], line["event"], line["fetched"]) == ("crawl hn: 3 fetched", "info", "crawl", 3)
