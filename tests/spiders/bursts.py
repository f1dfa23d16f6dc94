"""A burst of posts in a newest-first listing that keeps growing, served in each source's format.

``Burst(55)`` holds posts 1 to 55, post ``n`` made ``n`` minutes after a
start a day ago; ``add(4)`` makes 56 to 59. While ``stalled`` holds a page
number, that page and later ones answer 503, as a server that stops answering
mid-listing (with a long back-off, the crawl is killed at its time limit).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

from tests.spiders.server import Reply

PAGE = 10
STALLED = Reply(503, {"error": "unavailable"})


class Burst:
    def __init__(self, count: int):
        self.start = int(time.time()) - 86400
        self.numbers: list[int] = []
        self.stalled: int | None = None
        self.add(count)

    def add(self, count: int) -> list[int]:
        first = len(self.numbers) + 1
        new = list(range(first, first + count))
        self.numbers += new
        return new

    def time(self, number: int) -> int:
        return self.start + 60 * number

    def iso(self, number: int) -> str:
        return datetime.fromtimestamp(self.time(number), timezone.utc).isoformat().replace("+00:00", "Z")

    def page(self, number: int, size: int = PAGE) -> tuple[list[int], bool]:
        """Page ``number`` (from 1), newest first, and whether more pages follow."""
        newest_first = self.numbers[::-1]
        return newest_first[(number - 1) * size:number * size], number * size < len(newest_first)

    def stalls(self, number: int) -> bool:
        return self.stalled is not None and number >= self.stalled


def burst_runs(burst: Burst, crawl):
    """Run 1, run 2 from its cursors, four new posts, run 3: the three results and the new posts' numbers."""
    first = crawl({})
    second = crawl(first.cursors)
    new = burst.add(4)
    third = crawl(second.cursors)
    return first, second, third, new


def ids(*results) -> list[str]:
    return [post.id for result in results for post in result.posts]


# Page 3 stalls; the crawl is killed at its time limit, long before the back-off ends.
KILLED = {"timeout": 6, "BACKOFF_BASE_DELAY": 30, "BACKOFF_MAX_DELAY": 60}


# -- Reddit: /r/<sub>/new.json, paged with ``after`` -------------------------------

def reddit_new(burst: Burst):
    def route(request):
        newest_first = burst.numbers[::-1]
        after, limit = request.param("after"), int(request.param("limit") or 25)
        if after and int(after.removeprefix("t3_p")) not in newest_first:
            return {"kind": "Listing", "data": {"after": None, "children": []}}  # as Reddit does for a post gone
        start = newest_first.index(int(after.removeprefix("t3_p"))) + 1 if after else 0
        if burst.stalls(start // limit + 1):
            return STALLED
        shown = newest_first[start:start + limit]
        more = start + limit < len(newest_first)
        return {"kind": "Listing", "data": {"after": f"t3_p{shown[-1]}" if shown and more else None, "children": [
            {"kind": "t3", "data": {"name": f"t3_p{n}", "id": f"p{n}", "title": f"Cinesa {n}", "selftext": f"Cinesa {n}",
                                    "author": f"user{n}", "created_utc": float(burst.time(n)), "num_comments": 0,
                                    "permalink": f"/r/cinesa/comments/p{n}/"}} for n in shown]}}
    return route


# -- App Store: /<country>/rss/customerreviews/page=<n>/..., ten pages at most --------

def appstore_routes(burst: Burst, app: str, country: str = "es") -> dict:
    def page(number):
        def route(request):
            if burst.stalls(number):
                return STALLED
            shown, more = burst.page(number)
            last = max(1, -(-len(burst.numbers) // PAGE))
            return {"feed": {"link": [{"attributes": {"rel": "last", "href": f"https://itunes.apple.com/{country}/rss/"
                                       f"customerreviews/page={last}/id={app}/sortby=mostrecent/xml"}}],
                             "entry": [{"id": {"label": f"r{n}"}, "updated": {"label": burst.iso(n)},
                                        "im:rating": {"label": "3"}, "title": {"label": f"Review {n}"},
                                        "content": {"label": f"Cinesa app {n}"}, "author": {"name": {"label": f"u{n}"}}}
                                       for n in shown]}}
        return route
    return {f"/{country}/rss/customerreviews/page={n}/id={app}/sortby=mostrecent/json": page(n) for n in range(1, 11)}


# -- Discourse: /search.json (``page`` from 1), /latest.json (from 0), /t/<id>.json -----

def _topic(burst: Burst, number: int) -> dict:
    return {"id": number, "title": f"Cinesa {number}", "slug": f"cinesa-{number}", "posts_count": 1,
            "post_stream": {"posts": [{"id": 1000 + number, "topic_id": number, "post_number": 1,
                                       "username": f"user{number}", "cooked": f"<p>Cinesa {number}</p>",
                                       "created_at": burst.iso(number), "reply_count": 0}]}}


def discourse_routes(burst: Burst, topics: int = 100) -> dict:
    def search(request):
        number = int(request.param("page") or 1)
        if burst.stalls(number):
            return STALLED
        shown, more = burst.page(number)
        return {"posts": [{"id": 1000 + n, "topic_id": n, "post_number": 1, "username": f"user{n}",
                           "blurb": f"Cinesa {n}", "created_at": burst.iso(n)} for n in shown],
                "topics": [{"id": n, "title": f"Cinesa {n}", "slug": f"cinesa-{n}"} for n in shown],
                "grouped_search_result": {"more_full_page_results": more}}

    def latest(request):
        number = int(request.param("page") or 0)
        if burst.stalls(number + 1):
            return STALLED
        shown, more = burst.page(number + 1)
        return {"topic_list": {"more_topics_url": f"/latest?page={number + 1}" if more else None, "topics": [
            {"id": n, "created_at": burst.iso(n), "bumped_at": burst.iso(n), "pinned": False} for n in shown]}}

    def topic(number):
        return lambda request: _topic(burst, number) if number in burst.numbers else Reply(404, {"errors": ["gone"]})

    return {"/search.json": search, "/latest.json": latest,
            **{f"/t/{n}.json": topic(n) for n in range(1, topics + 1)}}


# -- HTML: /f/burst?page=<n> lists threads /t/<n>, each with one post ------------------

HTML_FORUM = {
    "start_urls": ["/f/burst"],
    "item_links": "a.thread-title",
    "next_page": "a[rel=next]",
    "post": "article.post",
    "fields": {"text": ".post-body", "author": ".username::text", "date": "time::attr(datetime)"},
}


def html_routes(burst: Burst, threads: int = 100) -> dict:
    def listing(request):
        number = int(request.param("page") or 1)
        if burst.stalls(number):
            return STALLED
        shown, more = burst.page(number)
        links = "".join(f'<li><a class="thread-title" href="/t/{n}">Cinesa {n}</a></li>' for n in shown)
        following = f'<a rel="next" href="/f/burst?page={number + 1}">next</a>' if more else ""
        return f"<html><body><ul>{links}</ul>{following}</body></html>"

    def thread(number):
        def route(request):
            if number not in burst.numbers:
                return Reply(404, "<h1>gone</h1>")
            return (f'<html><body><article class="post"><span class="username">user{number}</span>'
                    f'<time datetime="{burst.iso(number)}"></time><div class="post-body">Cinesa {number}</div>'
                    f"</article></body></html>")
        return route

    return {"/f/burst": listing, **{f"/t/{n}": thread(n) for n in range(1, threads + 1)}}
