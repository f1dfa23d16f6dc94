"""Scrapy's decompression, with a body that unpacks past ``DOWNLOAD_MAXSIZE`` reported.

Scrapy's :class:`HttpCompressionMiddleware` stops unpacking a gzip, deflate,
brotli or zstd body once it passes ``DOWNLOAD_MAXSIZE`` and ignores the
response; this one also says so, as ``source/errors/too_large`` with the URL
and both sizes, so that a gzip bomb is never dropped silently.
"""

from __future__ import annotations

from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest

from spiders.base import report


class BoundedCompressionMiddleware(HttpCompressionMiddleware):
    def __init__(self, stats=None, *, crawler=None):
        super().__init__(stats, crawler=crawler)
        self.crawler = crawler

    def process_response(self, request, response, spider=None):
        try:
            return super().process_response(request, response)
        except IgnoreRequest as exc:
            # Scrapy's own reason (a private class) is the cause; the size is in its message too.
            unpacked = getattr(exc.__cause__, "decompressed_size", None)
            if unpacked is not None:
                limit = request.meta.get("download_maxsize", self._max_size)
                report(self.crawler, "too_large", response.url,
                       f"{len(response.body)} compressed bytes unpack to more than {limit} "
                       f"(DOWNLOAD_MAXSIZE), read {unpacked} before stopping")
            raise
