"""Hacker News through the Algolia search API: stories and comments, newest first.

``/api/v1/search_by_date`` with ``numericFilters=created_at_i>CURSOR`` gives
what is new since the last run (and ``created_at_i<=`` the oldest post fetched
where an earlier run stopped early, see :mod:`spiders.progress`); ``/api/v1/items/:id``
gives a post's reply tree, from which ``reply_count`` and ``replied_by`` come. No authentication.

A story's tree (``items/<story id>``) is the whole conversation: one look-up
serves the story and every comment of it that a search found. A story or
comment whose item answers 404, or that is no longer in its story's tree, is
gone (:mod:`spiders.conversations`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import partial
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from listener.records import Post, post_id
from spiders.conversations import Conversation, ConversationLookups
from spiders.base import Page, SourceSpider, Terms, Thread, html_text
from spiders.progress import Listing

ITEM_URL = "https://news.ycombinator.com/item?id={}"


class HackerNewsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tags: list[Literal["story", "comment", "ask_hn", "show_hn", "poll"]] = ["story", "comment"]
    hits_per_page: int = Field(100, ge=1, le=1000)
    max_pages: int = Field(10, ge=1)
    threads: bool = True
    max_threads: int = Field(50, ge=0)


def parse_search(payload: Any, source: str) -> Page:
    """Posts from a ``search_by_date`` response; ``next`` is the next page number or None."""
    page = Page()
    if not isinstance(payload, dict) or not isinstance(payload.get("hits"), list):
        page.problems.append("response has no 'hits' list")
        return page
    for hit in payload["hits"]:
        try:
            page.posts.append(parse_hit(hit, source))
        except (KeyError, TypeError, ValueError) as exc:
            page.problems.append(f"hit {hit.get('objectID') if isinstance(hit, dict) else hit!r}: {exc!r}")
    number, pages = payload.get("page"), payload.get("nbPages")
    if isinstance(number, int) and isinstance(pages, int) and number + 1 < pages:
        page.next = number + 1
    return page


def parse_hit(hit: dict, source: str) -> Post:
    native = str(hit["objectID"])
    tags = hit.get("_tags") or []
    created = datetime.fromtimestamp(int(hit["created_at_i"]), timezone.utc)
    story = hit.get("story_id")
    if "comment" in tags or hit.get("comment_text") is not None:
        return Post(
            id=post_id(source, native),
            source=source,
            url=ITEM_URL.format(native),
            author=hit.get("author"),
            text=html_text(hit.get("comment_text")),
            created_at=created,
            title=hit.get("story_title"),
            parent_id=post_id(source, hit["parent_id"]) if hit.get("parent_id") is not None else None,
            thread_id=post_id(source, story) if story is not None else None,
        )
    text = html_text(hit.get("story_text")) or hit.get("url") or hit.get("title") or ""  # "Ask HN" in the title alone
    return Post(
        id=post_id(source, native),
        source=source,
        url=ITEM_URL.format(native),
        author=hit.get("author"),
        text=text,
        created_at=created,
        title=hit.get("title"),
        thread_id=post_id(source, native),
        reply_count=hit.get("num_comments"),
    )


def parse_tree(payload: Any, source: str) -> Conversation:
    """Every item of an ``items/:id`` tree as a post with its author, parent and time.

    A deleted item (no author and no text) is left out, its replies kept.
    """
    if not isinstance(payload, dict) or "id" not in payload:
        raise ValueError("item is not an object with an id")
    conversation = Conversation(root=post_id(source, payload.get("story_id") or payload["id"]))
    stack = [payload]
    while stack:
        item = stack.pop()
        if not isinstance(item, dict) or "id" not in item:
            continue
        stack.extend(reversed(item.get("children") or []))
        native = item["id"]
        if item.get("author") is None and item.get("text") is None and item.get("title") is None:
            conversation.deleted.add(post_id(source, native))
            continue
        stamp = item.get("created_at_i")
        if not isinstance(stamp, int):
            continue  # a reply without a time cannot be ordered
        parent = item.get("parent_id")
        conversation.posts.append(Post(
            id=post_id(source, native), source=source, url=ITEM_URL.format(native), author=item.get("author"),
            text=html_text(item.get("text")) or item.get("title") or item.get("url") or "",
            created_at=datetime.fromtimestamp(stamp, timezone.utc),
            parent_id=post_id(source, parent) if parent is not None else None,
            thread_id=conversation.root,
        ))
    return conversation


class HackerNewsSpider(ConversationLookups, SourceSpider):
    kind = "hackernews"
    default_base_url = "https://hn.algolia.com"
    options_model = HackerNewsOptions

    def build_queries(self, terms: Terms) -> list[str]:
        # Algolia matches words; handles and hashtags are names with a prefix there.
        return [*terms.names, *terms.keywords]

    async def start(self):
        for request in self.opening():
            yield request

    def searches(self):
        for query in self.queries():
            listing = self.progress(query, after=str(int(self.since(query).timestamp())))
            yield self.search(listing, 0)

    def search(self, listing: Listing, page: int):
        after = listing.after or str(int(self.since(listing.key).timestamp()))
        window = f"created_at_i>{after}" + (f",created_at_i<={listing.before}" if listing.before else "")
        params = {
            "query": listing.key,
            "tags": f"({','.join(self.options.tags)})",
            "numericFilters": window,
            "hitsPerPage": self.options.hits_per_page,
            "page": page,
        }
        # A page's threads go before the next page, so the cursor can follow the pages as they are done.
        return self.request(self.url("/api/v1/search_by_date", params), self.parse_page,
                            cb_kwargs={"listing": listing}, priority=-page)

    def parse_page(self, response, listing: Listing):
        payload = self.load_json(response)
        if payload is None:
            return
        page = parse_search(payload, self.source.label)
        oldest, newest = self.span(page.posts)
        posts = self.page_posts(page, response)
        listing.page([post.id for post in posts], oldest, newest)
        for post in posts:
            yield from self.with_thread(post)
        if page.next is not None and page.next < self.options.max_pages:
            yield self.search(listing, page.next)
            return
        if page.next is not None:
            self.crawler.stats.inc_value("source/truncated")
        listing.finish(complete=page.next is None)

    def wants_thread(self, post: Post) -> bool:
        return post.reply_count != 0  # comments carry no count: only a known zero is skipped

    def conversation_url(self, key: str) -> str:
        return self.url(f"/api/v1/items/{key.split(':', 1)[1]}")

    def parse_conversation(self, payload, key: str, posts: list[Post]) -> Conversation:
        return parse_tree(payload, self.source.label)
