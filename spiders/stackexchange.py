"""Stack Exchange API 2.3: questions from ``/search/advanced`` on the configured sites.

Newest first (``sort=creation``) from ``fromdate`` = the cursor (and to
``todate`` where an earlier run stopped early, see :mod:`spiders.progress`);
pages follow ``has_more``. ``is_answered`` and ``answer_count`` come with each
question; the answers of a page's answered questions are fetched in one
request to learn who answered. The API's ``backoff`` field and its ``throttle_violation`` error
("more requests available in N seconds") are obeyed at dispatch: no request
to the host for that many seconds, also for requests already queued. A run
stops when ``quota_remaining`` reaches 0. An app key from
``LISTENER_STACKEXCHANGE_KEY`` raises the daily quota.
"""

from __future__ import annotations

import html
import os
import re
import zlib
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from listener.records import Post, post_id
from listener.threads import thread_facts, unchecked
from spiders.base import Page, SourceSpider, Terms, Thread, html_text
from spiders.progress import Listing


class StackExchangeOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sites: list[str] = Field(["stackoverflow"], min_length=1)
    tagged: list[str] = []
    pagesize: int = Field(100, ge=1, le=100)
    max_pages: int = Field(5, ge=1)
    threads: bool = True
    key_env: str = "LISTENER_STACKEXCHANGE_KEY"


def _time(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value), timezone.utc)


def _owner(item: dict) -> tuple[str | None, str | None]:
    """(handle, display name); a deleted account keeps its old name but no handle."""
    owner = item.get("owner") or {}
    name = html.unescape(owner["display_name"]) if owner.get("display_name") else None
    if owner.get("user_type") == "does_not_exist":
        return None, name
    return name, name


def parse_questions(payload: Any, source: str, site: str) -> Page:
    """Questions from a ``/search/advanced`` wrapper; ``next`` is True when ``has_more``."""
    page = Page()
    if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
        page.problems.append("response has no 'items' list")
        return page
    for item in payload["items"]:
        try:
            author, name = _owner(item)
            native = item["question_id"]
            page.posts.append(Post(
                id=post_id(source, f"{site}:{native}"),
                source=source,
                url=html.unescape(item["link"]) if item.get("link") else f"https://{site}.com/q/{native}",
                author=author,
                author_name=name,
                title=html.unescape(item["title"]),
                text=html_text(item.get("body")) or html.unescape(item["title"]),
                created_at=_time(item["creation_date"]),
                thread_id=post_id(source, f"{site}:{native}"),
                reply_count=int(item.get("answer_count") or 0),
            ))
        except (KeyError, TypeError, ValueError) as exc:
            page.problems.append(f"question {item.get('question_id') if isinstance(item, dict) else item!r}: {exc!r}")
    page.next = bool(payload.get("has_more"))
    return page


def parse_answers(payload: Any, source: str, site: str) -> dict[str, list[Post]]:
    """Answers as replies to their question (by the question's post id), with author and time.

    An accepted answer is an answer like the others: whoever wrote it answered.
    """
    replies: dict[str, list[Post]] = {}
    for item in (payload or {}).get("items") or []:
        if not isinstance(item, dict) or "question_id" not in item or "creation_date" not in item:
            continue
        author, name = _owner(item)
        question = post_id(source, f"{site}:{item['question_id']}")
        replies.setdefault(question, []).append(Post(
            id=post_id(source, f"{site}:a{item.get('answer_id')}"), source=source,
            url=f"https://{site}.com/a/{item.get('answer_id')}", author=author, author_name=name,
            text=html_text(item.get("body")), created_at=_time(item["creation_date"]),
            parent_id=question, thread_id=question,
        ))
    return replies


_BACKOFF = re.compile(rb'"backoff"\s*:\s*(\d+)')
_THROTTLED = re.compile(rb'"error_name"\s*:\s*"throttle_violation"')
_AVAILABLE_IN = re.compile(rb"available in (\d+) second")


def announced_wait(body: bytes) -> float | None:
    """Seconds a raw API body asks for: ``backoff``, or a ``throttle_violation``'s wait (0 if it names none)."""
    throttled = _THROTTLED.search(body)
    seconds = (_AVAILABLE_IN if throttled else _BACKOFF).search(body)
    if seconds:
        return float(seconds.group(1))
    return 0.0 if throttled else None


def decoded(body: bytes, encoding: bytes, limit: int) -> bytes:
    """``body`` undone from gzip or deflate, at most ``limit`` bytes of it (the API always compresses)."""
    if encoding.strip().lower() not in (b"gzip", b"deflate", b"x-gzip"):
        return body
    try:
        return zlib.decompressobj(47).decompress(body, limit)  # 47: gzip or zlib header, detected
    except zlib.error:
        return b""


def api_state(payload: Any) -> tuple[float, int | None]:
    """The ``backoff`` seconds and ``quota_remaining`` a response carries."""
    if not isinstance(payload, dict):
        return 0.0, None
    return float(payload.get("backoff") or 0), payload.get("quota_remaining")


class StackExchangeSpider(SourceSpider):
    kind = "stackexchange"
    default_base_url = "https://api.stackexchange.com"
    options_model = StackExchangeOptions

    def build_queries(self, terms: Terms) -> list[str]:
        return [*terms.names, *terms.keywords]

    async def start(self):
        self.key = os.environ.get(self.options.key_env)
        self.out_of_quota = False
        for request in self.opening():
            yield request

    def searches(self):
        for site in self.options.sites:
            for query in self.queries():
                key = f"{site}:{query}"
                yield self.search(site, query, self.progress(key, after=str(int(self.since(key).timestamp()))), 1)

    def search(self, site: str, query: str, listing: Listing, page: int):
        after = int(listing.after or self.since(listing.key).timestamp())
        params = {
            "order": "desc", "sort": "creation", "q": query, "site": site, "page": page,
            "pagesize": self.options.pagesize, "fromdate": after + 1, "todate": listing.before,
            "tagged": ";".join(self.options.tagged) or None, "filter": "withbody", "key": self.key,
        }
        # A page's answers go before the next page, so the cursor can follow the pages as they are done.
        return self.request(self.url("/2.3/search/advanced", params), self.parse_page,
                            cb_kwargs={"site": site, "query": query, "listing": listing, "page": page}, priority=-page)

    def announced_wait(self, response) -> float | None:
        body = decoded(response.body, response.headers.get(b"Content-Encoding") or b"",
                       self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
        seconds = announced_wait(body)
        if seconds is not None:
            self.crawler.stats.inc_value("source/backoff/api")
        return seconds

    def follow_api(self, payload, response) -> bool:
        """Obey ``quota_remaining`` (``backoff`` is obeyed at dispatch); False once the quota is spent."""
        _backoff, remaining = api_state(payload)
        if remaining is not None:
            self.crawler.stats.set_value("source/quota_remaining", remaining)
        if remaining == 0 and not self.out_of_quota:
            self.out_of_quota = True
            self.problem("quota_exhausted", response.url, "quota_remaining is 0; the next run continues from the cursors")
        return not self.out_of_quota

    def parse_page(self, response, site: str, query: str, listing: Listing, page: int):
        payload = self.load_json(response)
        if payload is None:
            return
        more_allowed = self.follow_api(payload, response)
        result = parse_questions(payload, self.source.label, site)
        oldest, newest = self.span(result.posts)
        posts = self.page_posts(result, response)
        listing.page([post.id for post in posts], oldest, newest)
        answered = [p for p in posts if p.reply_count]
        if self.options.threads and answered and more_allowed:
            yield self.answers(site, posts, answered)
        else:
            yield from posts
        if result.next and page < self.options.max_pages and more_allowed:
            yield self.search(site, query, listing, page + 1)
            return
        if result.next and not more_allowed:
            return  # unfinished: the cursor stays behind the pages not read
        if result.next:
            self.crawler.stats.inc_value("source/truncated")
        listing.finish(complete=not result.next)

    def thread_requests(self, posts: list[Post]):
        """The answers of the given questions, one request per site and hundred ids (the API's limit)."""
        by_site: dict[str, list[Post]] = {}
        for post in posts:
            by_site.setdefault(post.id.split(":", 1)[1].rsplit(":", 1)[0], []).append(post)
        for site, questions in by_site.items():
            for start in range(0, len(questions), 100):
                batch = questions[start:start + 100]
                yield self.answers(site, batch, batch)

    def answers(self, site: str, posts: list[Post], answered: list[Post]):
        ids = ";".join(p.id.rsplit(":", 1)[1] for p in answered)
        params = {"order": "asc", "sort": "creation", "site": site, "pagesize": 100, "key": self.key}
        return self.request(self.url(f"/2.3/questions/{ids}/answers", params), self.parse_answers,
                            cb_kwargs={"posts": posts}, errback=self.answers_failed)

    def parse_answers(self, response, posts: list[Post]):
        payload = self.load_json(response)
        if payload is None:
            yield from (unchecked(post, "lookup_failed") for post in posts)
            return
        self.follow_api(payload, response)
        site = posts[0].id.split(":", 1)[1].rsplit(":", 1)[0] if posts else ""
        answers = parse_answers(payload, self.source.label, site)
        complete = not payload.get("has_more")  # a page left answers out: silence is not an answer
        for post in posts:
            yield thread_facts(post, answers.get(post.id, []), complete=complete)

    def answers_failed(self, failure):
        self.on_failure(failure)
        yield from (unchecked(post, "lookup_failed") for post in failure.request.cb_kwargs["posts"])
