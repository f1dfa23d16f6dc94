"""Counters named ``area/what`` (``crawl/posts``, ``alerts/sent/slack``), safe across threads."""

from __future__ import annotations

import threading
from collections import Counter


class Counters:
    def __init__(self) -> None:
        self._values: Counter[str] = Counter()
        self._lock = threading.Lock()

    def inc(self, key: str, count: int = 1) -> None:
        with self._lock:
            self._values[key] += count

    def get(self, key: str) -> int:
        with self._lock:
            return self._values[key]

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._values.items()))
