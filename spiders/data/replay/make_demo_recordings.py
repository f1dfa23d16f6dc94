"""Write the ``*-demo`` replay folders from the demo corpus.

``listener/data/demo/posts.jsonl`` holds the posts the demo shows. This script
turns each one into what its source's API answers, in that API's format, one
folder per kind (``twitter-demo``, ``reddit-demo``, ``mastodon-demo``,
``discourse-demo`` for the forum posts, ``rss-demo``, ``appstore-demo``,
``bluesky-demo``), so that ``make demo`` gathers them through the real spiders
(see :mod:`spiders.replay` for the folder layout).

The corpus says how many replies a post has and who wrote them; the replies
themselves are written out in ``REPLIES`` and served by each API's thread
endpoint, so whether the brand or a competitor answered is learned from the
thread as in production. Every folder also answers the re-run from the cursor
the first run leaves. Native ids are the corpus's numbers in each API's shape
(tweet and status ids, ``t3_<id>`` on Reddit, ``<topic>/1`` on Discourse, an
``at://`` URI on Bluesky, the article URL in RSS). The output depends only on
the corpus and this file; rerun it after editing either::

    python spiders/data/replay/make_demo_recordings.py
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

REPLAY = Path(__file__).resolve().parent
CORPUS = REPLAY.parents[2] / "listener" / "data" / "demo" / "posts.jsonl"
BACKFILL = "3650d"
# The corpus's ``source`` and the spider kind that reads it.
KINDS = {"twitter": "twitter", "reddit": "reddit", "mastodon": "mastodon", "forum": "discourse",
         "rss": "rss", "appstore": "appstore", "bluesky": "bluesky"}

TWITTER_QUERY = ('(cinesa OR "yelmo cines" OR yelmo OR kinepolis OR kinépolis OR ocine OR @cinesa OR @yelmocines '
                 'OR @kinepolis_es OR @ocine OR #Cinesa OR #Yelmo OR cine OR cines OR cinema OR entradas OR película '
                 'OR sala OR estreno) (lang:es OR lang:ca OR lang:en OR lang:pt) -is:retweet')
REDDIT_QUERIES = ["cinesa", "yelmo"]
# One query: a first run's ``after:`` date moves with the clock, so only ``page`` tells its requests apart.
DISCOURSE_QUERY = "tarjeta"
BLUESKY_QUERY = "cinesa"
# The demo follows one hashtag; accounts without "@server" in the corpus live on this instance.
MASTODON_TAG = "cinesa"
MASTODON_INSTANCE = "mastodon.social"

# Language of each post (X, Mastodon and Bluesky say it); Spanish unless listed.
LANGUAGES = {"1004": "ca", "1017": "ca", "1024": "ca", "1042": "ca", "1010": "pt", "1026": "pt", "1037": "pt",
             "1011": "en", "1029": "en"}
# Display names of accounts that only reply.
NAMES = {"cinesa": "Cinesa", "yelmocines": "Yelmo Cines", "kinepolis_es": "Kinépolis España", "ocine": "Ocine"}


@dataclass(frozen=True)
class Reply:
    """A reply ``minutes`` after the post; ``to`` is the 1-based reply it answers (0: the post)."""

    author: str
    minutes: int
    text: str
    to: int = 0


REPLIES: dict[str, list[Reply]] = {
    "twitter:1013": [Reply("yelmocines", 11, "@yelmofan ¡Hola Irene! El estreno del viernes está en todos nuestros "
                                             "cines y con la Yelmo Card te sale más barato 🎬")],
    # The promo's twelve replies count in public_metrics, but none comes back from the conversation search
    # (search leaves out replies of protected accounts), so nobody is named as having replied.
    "twitter:1014": [],
    "twitter:1025": [Reply("yelmocines", 18, "@alberto Sentimos lo de las butacas, Alberto. ¿Nos dices por DM en qué "
                                             "cine fue para revisarlo?")],
    "twitter:1027": [Reply("cinesa", 17, "@cris_lo Hola Cris, sentimos la cancelación. Escríbenos por DM con tu "
                                         "localizador y tramitamos el reembolso hoy mismo.")],
    "twitter:1039": [Reply("cinesa", 24, "@andrea_b ¡Hola Andrea! Sí, con la entrada tienes 3 horas de parking "
                                         "gratis en La Maquinista. ¡Que disfrutes la peli!")],
    "reddit:1007": [Reply("u_carla", 3, "A mí tampoco me deja, llevo toda la mañana intentándolo."),
                    Reply("u_miguel", 5, "Desde el móvil igual. Supongo que lo arreglarán pronto.")],
    "reddit:1012": [Reply("u_jose", 6, "¿Cuál de Kinépolis? El de Ciudad de la Imagen está genial."),
                    Reply("u_elena", 9, "Ese mismo, y encima se aparca sin problema.", to=1),
                    Reply("u_jose", 15, "Totalmente, yo voy cada mes.", to=2)],
    "forum:1016": [Reply("ocine", 11, "Hola Carmen, en Ocine tienes Ocine Club: sesiones ilimitadas por una cuota "
                                      "mensual y sin permanencia."),
                   Reply("carmen_s", 16, "¿Y vale para todas las salas o solo para algunas?", to=1),
                   Reply("ocine", 22, "Para todas las salas y sesiones, también el día del estreno.", to=2),
                   Reply("carmen_s", 27, "¡Gracias! Lo miraré.", to=3)],
    "forum:1034": [Reply("kinepolis_es", 22, "Hola Lolo: la Kinépolis Unlimited vale en Ciudad de la Imagen, a diez "
                                             "minutos de Pozuelo, y se paga mes a mes."),
                   Reply("lolo", 30, "Perfecto, gracias por la info.", to=1)],
}


# -- the corpus ----------------------------------------------------------------

@dataclass(frozen=True)
class Post:
    native: str
    source: str
    url: str
    author: str
    name: str | None
    text: str
    created: datetime
    title: str | None
    reply_count: int | None
    replied_by: tuple[str, ...]

    @property
    def lang(self) -> str:
        return LANGUAGES.get(self.native, "es")

    @property
    def replies(self) -> list[Reply]:
        return REPLIES.get(f"{self.source}:{self.native}", [])

    def reply_time(self, reply: Reply) -> datetime:
        return self.created + timedelta(minutes=reply.minutes)


def load_corpus(path: Path = CORPUS) -> list[Post]:
    posts = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            data = json.loads(line)
            source, native = data["id"].split(":", 1)
            posts.append(Post(native, source, data["url"], data["author"], data.get("author_name"), data["text"],
                              datetime.fromisoformat(data["created_at"]), data.get("title"), data.get("reply_count"),
                              tuple(data.get("replied_by") or ())))
    for post in posts:
        check_thread(post)
    return posts


def check_thread(post: Post) -> None:
    """The written-out replies must give the corpus's reply count and repliers."""
    key = f"{post.source}:{post.native}"
    has_thread = bool(post.reply_count) and KINDS[post.source] not in ("rss", "appstore")
    if has_thread and key not in REPLIES:
        raise SystemExit(f"{key} has {post.reply_count} replies: write them in REPLIES")
    if post.replied_by and KINDS[post.source] in ("rss", "appstore"):
        raise SystemExit(f"{key}: a {post.source} feed carries no replies, so replied_by cannot be recorded")
    repliers = tuple(dict.fromkeys(r.author for r in post.replies if r.author != post.author))
    if repliers != post.replied_by:
        raise SystemExit(f"{key}: REPLIES come from {list(repliers)}, "
                         f"the corpus says replied_by {list(post.replied_by)}")
    # X counts replies itself (public_metrics); everywhere else the count is the thread's length.
    if post.source != "twitter" and len(post.replies) != (post.reply_count or 0):
        raise SystemExit(f"{key}: {len(post.replies)} REPLIES, the corpus says reply_count {post.reply_count}")


# -- helpers -------------------------------------------------------------------

def digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def number(*parts: str, digits: int = 18) -> str:
    """A stable decimal id of ``digits`` digits."""
    return str(10 ** (digits - 1) + int(digest(*parts), 16) % (9 * 10 ** (digits - 1)))


def base32(*parts: str, length: int) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    value = int(digest(*parts), 16)
    return "".join(alphabet[(value >> (5 * i)) & 31] for i in range(length))


def small(*parts: str, top: int = 20) -> int:
    """A stable small count (likes, votes) so that bodies look lived-in."""
    return int(digest(*parts)[:6], 16) % top


def folded(text: str) -> str:
    """Lower case without accents, as search engines compare words."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def slug(text: str, sep: str) -> str:
    return re.sub(r"[^a-z0-9]+", sep, folded(text)).strip(sep)


def iso_ms(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def iso_s(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def paragraph(text: str) -> str:
    return "<p>" + escape(text, {'"': "&quot;", "'": "&#39;"}) + "</p>"


def found_by(post: Post, query: str) -> bool:
    return folded(query) in folded(f"{post.title or ''} {post.text}")


@dataclass
class Folder:
    """One replay folder: the demo source, the recorded exchanges and their bodies."""

    kind: str
    source: dict[str, Any]
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    bodies: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.kind}-demo"

    def answer(self, path: str, body_name: str, body: Any, query: dict[str, str | None] | None = None,
               headers: dict[str, str] | None = None) -> None:
        exchange: dict[str, Any] = {"path": path}
        if query:
            exchange["query"] = query
        exchange["body"] = body_name
        if headers:
            exchange["headers"] = headers
        self.exchanges.append(exchange)
        self.bodies.setdefault(body_name, body)

    def write(self, root: Path = REPLAY) -> Path:
        folder = root / self.name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir()
        _dump(folder / "source.json", {"kind": self.kind, "name": self.name, **self.source, "backfill": BACKFILL})
        _dump(folder / "exchanges.json", self.exchanges)
        for name, body in self.bodies.items():
            if isinstance(body, str):
                (folder / name).write_text(body, encoding="utf-8")
            else:
                _dump(folder / name, body)
        return folder


def _dump(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def one_page(kind: str, posts: list, size: int) -> None:
    if len(posts) > size:
        raise SystemExit(f"{len(posts)} {kind} posts do not fit one page of {size}; record the next pages too")


# -- X (Twitter) ---------------------------------------------------------------

def twitter(posts: list[Post]) -> Folder:
    """Recent search with ``threads: true``: one search page, one ``conversation_id:`` search per post with replies."""
    folder = Folder("twitter", {"queries": [TWITTER_QUERY], "threads": True})
    names = {p.author: p.name for p in posts}
    path = "/2/tweets/search/recent"
    one_page("twitter", posts, 100)

    def user(handle: str) -> dict:
        return {"id": number("x user", handle), "name": names.get(handle) or NAMES.get(handle, handle),
                "username": handle}

    def tweet(native: str, text: str, author: str, created: datetime, lang: str, replies: int,
              parent: Post | None = None) -> dict:
        body = {"edit_history_tweet_ids": [native], "conversation_id": parent.native if parent else native,
                "created_at": iso_ms(created), "id": native, "text": text, "author_id": number("x user", author),
                "lang": lang}
        if parent:
            body["in_reply_to_user_id"] = number("x user", parent.author)
            body["referenced_tweets"] = [{"type": "replied_to", "id": parent.native}]
        body["public_metrics"] = {"retweet_count": small(native, "rt", top=4), "reply_count": replies,
                                  "like_count": small(native, "like"), "quote_count": 0, "bookmark_count": 0,
                                  "impression_count": 40 + small(native, "seen", top=900)}
        return body

    def page(tweets: list[dict], authors: list[str]) -> dict:
        if not tweets:
            return {"meta": {"result_count": 0}}
        ids = sorted((t["id"] for t in tweets), key=int)
        return {"data": tweets, "includes": {"users": [user(a) for a in dict.fromkeys(authors)]},
                "meta": {"newest_id": ids[-1], "oldest_id": ids[0], "result_count": len(tweets)}}

    tweets = [tweet(p.native, p.text, p.author, p.created, p.lang, p.reply_count or 0) for p in posts]
    search = page(tweets, [p.author for p in posts])
    limits = {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "449",
              "x-rate-limit-reset": str(int(max(p.created for p in posts).timestamp()) + 900)}
    # since_id is exclusive: the re-run from the newest id finds nothing.
    folder.answer(path, "search_recent_rerun.json", page([], []),
                  {"query": TWITTER_QUERY, "since_id": search["meta"]["newest_id"]}, limits)
    folder.answer(path, "search_recent.json", search, {"query": TWITTER_QUERY, "since_id": None, "next_token": None},
                  limits)
    for post in posts:
        if post.reply_count:
            replies = [tweet(f"{post.native}{i:02d}", r.text, r.author, post.reply_time(r), "es", 0, post)
                       for i, r in enumerate(post.replies, 1)]
            folder.answer(path, f"conversation_{post.native}.json",
                          page(replies, [r.author for r in post.replies]),
                          {"query": f"conversation_id:{post.native}"}, limits)
    return folder


# -- Reddit --------------------------------------------------------------------

def reddit(posts: list[Post]) -> Folder:
    """Site-wide search per query (public ``.json``), ``/comments/<id>`` for posts with comments."""
    folder = Folder("reddit", {"queries": REDDIT_QUERIES})

    def subreddit(post: Post) -> str:
        match = re.search(r"/r/([^/]+)/", post.url)
        return match.group(1) if match else "spain"

    def link(post: Post) -> dict:
        sub = subreddit(post)
        permalink = f"/r/{sub}/comments/{post.native}/{slug(post.title or post.text[:40], '_')}/"
        return {"kind": "t3", "data": {
            "approved_at_utc": None, "subreddit": sub, "selftext": post.text,
            "selftext_html": f'<!-- SC_OFF --><div class="md">{paragraph(post.text)}\n</div><!-- SC_ON -->',
            "author_fullname": f"t2_{base32('reddit user', post.author, length=8)}", "saved": False, "gilded": 0,
            "title": post.title or "", "subreddit_name_prefixed": f"r/{sub}", "hidden": False, "downs": 0,
            "name": f"t3_{post.native}", "upvote_ratio": 0.9, "ups": 1 + small(post.native),
            "score": 1 + small(post.native),
            "is_self": True, "domain": f"self.{sub}", "created": post.created.timestamp(), "over_18": False,
            "subreddit_id": f"t5_{base32('subreddit', sub, length=5)}", "id": post.native, "author": post.author,
            "num_comments": post.reply_count or 0, "permalink": permalink, "url": f"https://www.reddit.com{permalink}",
            "created_utc": post.created.timestamp(), "num_crossposts": 0, "is_video": False,
        }}

    def listing(children: list[dict]) -> dict:
        return {"kind": "Listing", "data": {"after": None, "dist": len(children), "modhash": "", "geo_filter": "",
                                            "children": children, "before": None}}

    def comments(post: Post) -> list[dict]:
        ids = [f"{post.native}c{i}" for i in range(1, len(post.replies) + 1)]
        nodes: list[dict] = []
        for i, reply in enumerate(post.replies):
            parent = f"t1_{ids[reply.to - 1]}" if reply.to else f"t3_{post.native}"
            nodes.append({"kind": "t1", "data": {
                "subreddit_id": link(post)["data"]["subreddit_id"], "link_id": f"t3_{post.native}", "id": ids[i],
                "name": f"t1_{ids[i]}", "author": reply.author,
                "author_fullname": f"t2_{base32('reddit user', reply.author, length=8)}", "parent_id": parent,
                "score": 1 + small(ids[i]), "created_utc": post.reply_time(reply).timestamp(), "body": reply.text,
                "body_html": f'<div class="md">{paragraph(reply.text)}\n</div>',
                "permalink": f"{link(post)['data']['permalink']}{ids[i]}/", "replies": "",
            }})
        roots: list[dict] = []
        for node, reply in zip(nodes, post.replies):
            if reply.to:
                parent = nodes[reply.to - 1]["data"]
                parent["replies"] = parent["replies"] or listing([])
                parent["replies"]["data"]["children"].append(node)
            else:
                roots.append(node)
        for node, reply in zip(nodes, post.replies):
            node["data"]["depth"] = 0 if not reply.to else nodes[reply.to - 1]["data"]["depth"] + 1
            if node["data"]["replies"]:
                node["data"]["replies"]["data"]["dist"] = len(node["data"]["replies"]["data"]["children"])
        return [listing([link(post)]), listing(roots)]

    for query in REDDIT_QUERIES:
        found = [p for p in posts if found_by(p, query)]
        one_page("reddit", found, 100)
        # No cursor parameter: a re-run reads the same newest-first listing and stops at its cursor's time.
        folder.answer("/search.json", f"search_{slug(query, '_')}.json", listing([link(p) for p in found]),
                      {"q": query, "after": None})
    for post in posts:
        if not any(found_by(post, q) for q in REDDIT_QUERIES):
            raise SystemExit(f"reddit:{post.native} is found by none of {REDDIT_QUERIES}")
        if post.reply_count:
            folder.answer(f"/comments/{post.native}.json", f"comments_{post.native}.json", comments(post))
    return folder


# -- Mastodon ------------------------------------------------------------------

def mastodon(posts: list[Post]) -> Folder:
    """The ``#cinesa`` timeline of one instance (no token), paged with ``max_id``; contexts for replies."""
    folder = Folder("mastodon", {"hashtags": [MASTODON_TAG], "search": False})
    path = f"/api/v1/timelines/tag/{MASTODON_TAG}"
    one_page("mastodon", posts, 40)
    names = {p.author: p.name for p in posts}

    def account(handle: str) -> dict:
        user, _, server = handle.partition("@")
        server = server or MASTODON_INSTANCE
        acct = user if server == MASTODON_INSTANCE else f"{user}@{server}"
        name = names.get(handle) or NAMES.get(user, user)
        return {"id": number("mastodon account", handle), "username": user, "acct": acct, "display_name": name,
                "locked": False, "bot": False, "discoverable": True, "group": False,
                "created_at": "2023-01-10T00:00:00.000Z", "note": "", "url": f"https://{server}/@{user}",
                "avatar": f"https://{server}/avatars/original/missing.png",
                "followers_count": 40 + small(handle, top=400), "following_count": 30 + small(handle, "f", top=300),
                "statuses_count": 100 + small(handle, "s", top=2000),
                "emojis": [], "fields": []}

    def status(native: str, handle: str, text: str, created: datetime, lang: str, replies: int,
               parent: Post | None = None, url: str | None = None) -> dict:
        user, _, server = handle.partition("@")
        server = server or MASTODON_INSTANCE
        return {"id": native, "created_at": iso_ms(created),
                "in_reply_to_id": parent.native if parent else None,
                "in_reply_to_account_id": number("mastodon account", parent.author) if parent else None,
                "sensitive": False, "spoiler_text": "", "visibility": "public", "language": lang,
                "uri": f"https://{server}/users/{user}/statuses/{native}",
                "url": url or f"https://{server}/@{user}/{native}", "replies_count": replies,
                "reblogs_count": 0, "favourites_count": small(native), "edited_at": None, "content": paragraph(text),
                "reblog": None, "account": account(handle), "media_attachments": [], "mentions": [],
                "tags": [{"name": MASTODON_TAG, "url": f"https://{MASTODON_INSTANCE}/tags/{MASTODON_TAG}"}],
                "emojis": [], "card": None, "poll": None}

    statuses = [status(p.native, p.author, p.text, p.created, p.lang, p.reply_count or 0, url=p.url) for p in posts]
    order = sorted((p.native for p in posts), key=int)
    limits = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299",
              "X-RateLimit-Reset": iso_ms(max(p.created for p in posts) + timedelta(minutes=5))}
    # The cursor is the highest status id; since_id is exclusive, so the re-run finds nothing.
    folder.answer(path, "timeline_empty.json", [], {"since_id": order[-1]}, limits)
    folder.answer(path, "timeline_empty.json", [], {"max_id": order[0], "since_id": None}, limits)
    folder.answer(path, "timeline_tag.json", statuses, {"max_id": None, "since_id": None}, limits)
    for post in posts:
        if post.reply_count:
            ids = [f"{post.native}{i:02d}" for i in range(1, len(post.replies) + 1)]
            descendants = [status(ids[i], r.author if "@" in r.author else f"{r.author}@{MASTODON_INSTANCE}", r.text,
                                  post.reply_time(r), "es", 0, post) for i, r in enumerate(post.replies)]
            folder.answer(f"/api/v1/statuses/{post.native}/context", f"context_{post.native}.json",
                          {"ancestors": [], "descendants": descendants})
    return folder


# -- Discourse -----------------------------------------------------------------

def discourse(posts: list[Post]) -> Folder:
    """``/search.json`` for one query, then ``/t/<id>.json`` for each topic found."""
    folder = Folder("discourse", {"queries": [DISCOURSE_QUERY]})
    one_page("discourse", posts, 50)
    names = {p.author: p.name for p in posts}

    def entry(topic: Post, position: int, author: str, created: datetime, text: str, to: int | None,
              replies: int) -> dict:
        return {"id": int(topic.native) * 10 + position, "name": names.get(author) or NAMES.get(author, ""),
                "username": author, "avatar_template": avatar(author),
                "created_at": iso_ms(created), "cooked": paragraph(text), "post_number": position, "post_type": 1,
                "updated_at": iso_ms(created), "reply_count": replies, "reply_to_post_number": to, "quote_count": 0,
                "reads": 10 + small(topic.native, str(position)), "score": 1.2, "topic_id": int(topic.native),
                "topic_slug": slug(topic.title or "", "-"),
                "display_username": names.get(author) or NAMES.get(author, ""),
                "moderator": False, "admin": False, "staff": False, "user_id": int(number_of(author)),
                "hidden": False, "trust_level": 1, "deleted_at": None, "user_deleted": False,
                "post_url": f"/t/{slug(topic.title or '', '-')}/{topic.native}/{position}", "accepted_answer": False}

    def topic_summary(post: Post) -> dict:
        last = post.reply_time(post.replies[-1]) if post.replies else post.created
        return {"id": int(post.native), "title": post.title, "fancy_title": post.title,
                "slug": slug(post.title or "", "-"), "posts_count": 1 + len(post.replies),
                "reply_count": len(post.replies), "highest_post_number": 1 + len(post.replies),
                "created_at": iso_ms(post.created), "last_posted_at": iso_ms(last), "bumped": True,
                "bumped_at": iso_ms(last), "archetype": "regular", "pinned": False, "visible": True, "closed": False,
                "archived": False, "tags": [], "category_id": 5, "has_accepted_answer": False}

    def topic(post: Post) -> dict:
        stream = [entry(post, 1, post.author, post.created, post.text, None,
                        sum(1 for r in post.replies if not r.to))]
        for i, reply in enumerate(post.replies, 2):
            answered_by = sum(1 for r in post.replies if r.to == i - 1)
            stream.append(entry(post, i, reply.author, post.reply_time(reply), reply.text,
                                reply.to + 1 if reply.to else None, answered_by))
        return {"post_stream": {"posts": stream, "stream": [p["id"] for p in stream]}, **topic_summary(post),
                "views": 40 + small(post.native, top=300), "like_count": small(post.native, "likes", top=5),
                "details": {"participants": [{"username": u} for u in dict.fromkeys(p["username"] for p in stream)]}}

    hits = [p for p in posts if found_by(p, DISCOURSE_QUERY)]
    if len(hits) != len(posts):
        missing = [p.native for p in posts if p not in hits]
        raise SystemExit(f"forum posts {missing} do not contain {DISCOURSE_QUERY!r}")
    search = {
        "posts": [{"id": int(p.native) * 10 + 1, "name": p.name or "", "username": p.author,
                   "avatar_template": avatar(p.author),
                   "created_at": iso_ms(p.created), "like_count": small(p.native, top=5), "blurb": p.text,
                   "post_number": 1, "topic_title_headline": escape(p.title or ""), "topic_id": int(p.native)}
                  for p in posts],
        "topics": [topic_summary(p) for p in posts], "users": [], "categories": [], "tags": [], "groups": [],
        "grouped_search_result": {"more_posts": None, "more_users": None, "more_categories": None,
                                  "term": f"{DISCOURSE_QUERY} order:latest", "search_log_id": 0,
                                  "more_full_page_results": None, "can_create_topic": False, "error": None,
                                  "post_ids": [int(p.native) * 10 + 1 for p in posts], "user_ids": [],
                                  "category_ids": [], "tag_ids": [], "group_ids": []},
    }
    # ``after:`` is a day, asked from the day before the cursor: the re-run sees the same posts and keeps none.
    day = (max(p.created for p in posts) - timedelta(days=1)).astimezone(timezone.utc).date()
    rerun = f"{DISCOURSE_QUERY} after:{day.isoformat()} order:latest"
    folder.answer("/search.json", "search.json", search, {"q": rerun, "page": "1"})
    folder.answer("/search.json", "search.json", search, {"page": "1"})
    for post in posts:
        folder.answer(f"/t/{post.native}.json", f"topic_{post.native}.json", topic(post))
    return folder


def number_of(author: str) -> str:
    return number("discourse user", author, digits=4)


def avatar(author: str) -> str:
    return f"/letter_avatar_proxy/v4/letter/{author[0]}/{digest(author)[:6]}/{{size}}.png"


# -- RSS -----------------------------------------------------------------------

def rss(posts: list[Post]) -> Folder:
    """One RSS 2.0 feed per site (the post's author); the article URL is the guid."""
    by_site: dict[str, list[Post]] = {}
    for post in posts:
        by_site.setdefault(post.author, []).append(post)
    # Every site is served from the one replay server, so a feed's path starts with its site.
    feeds = {site: f"/{site}/tag/cinesa.rss" for site in by_site}
    folder = Folder("rss", {"feeds": list(feeds.values())})
    for site, items in by_site.items():
        newest = max(p.created for p in items)
        name = items[0].name or site
        entries = "".join(
            f"""    <item>
      <title>{escape(p.title or '')}</title>
      <link>{escape(p.url)}</link>
      <guid isPermaLink="true">{escape(p.url)}</guid>
      <dc:creator><![CDATA[{p.author}]]></dc:creator>
      <pubDate>{format_datetime(p.created, usegmt=True)}</pubDate>
      <category><![CDATA[Cine]]></category>
      <description><![CDATA[{paragraph(p.text)}]]></description>
    </item>
""" for p in items)
        body = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>{escape(name)}: Cinesa</title>
    <link>https://{site}/</link>
    <description>Noticias sobre Cinesa en {escape(name)}</description>
    <language>es-ES</language>
    <lastBuildDate>{format_datetime(newest, usegmt=True)}</lastBuildDate>
    <atom:link href="https://{site}/tag/cinesa.rss" rel="self" type="application/rss+xml"/>
{entries}  </channel>
</rss>
"""
        # Fetched whole on every run; the re-run keeps only entries after its cursor.
        folder.answer(feeds[site], f"{slug(site, '_')}.rss", body)
    return folder


# -- App Store -----------------------------------------------------------------

def appstore(posts: list[Post]) -> Folder:
    """The customer-reviews JSON feed per app and country (``.../id<app>`` and ``/<country>/`` in the post URL)."""
    groups: dict[tuple[str, str], list[Post]] = {}
    for post in posts:
        match = re.search(r"apps\.apple\.com/([a-z]{2})/.*id(\d+)", post.url)
        if not match:
            raise SystemExit(f"appstore:{post.native}: no country and app id in {post.url}")
        groups.setdefault((match.group(2), match.group(1)), []).append(post)
    apps = list(dict.fromkeys(app for app, _ in groups))
    countries = list(dict.fromkeys(country for _, country in groups))
    folder = Folder("appstore", {"apps": apps, "countries": countries})
    pacific = timezone(timedelta(hours=-7))  # the feed writes every time at -07:00
    for (app, country), reviews in groups.items():
        one_page("appstore", reviews, 50)
        feed_path = f"/{country}/rss/customerreviews/page=1/id={app}/sortby=mostrecent"
        itunes = f"https://itunes.apple.com/{country}"
        store = f"https://apps.apple.com/WebObjects/MZStore.woa/wa/viewGrouping?cc={country}&id=29099"
        entries = [{
            "author": {"uri": {"label": f"{itunes}/reviews/id{number('apple user', r.author, digits=10)}"},
                       "name": {"label": r.author}, "label": ""},
            "updated": {"label": r.created.astimezone(pacific).isoformat()},
            "im:rating": {"label": "1"}, "im:version": {"label": "6.4.1"}, "id": {"label": r.native},
            "title": {"label": r.title or ""},
            "content": {"label": r.text, "attributes": {"type": "text"}},
            "link": {"attributes": {"rel": "related", "href": f"{itunes}/review?id={app}&type=Purple%20Software"}},
            "im:voteSum": {"label": "0"},
            "im:contentType": {"attributes": {"term": "Application", "label": "Aplicación"}},
            "im:voteCount": {"label": "0"},
        } for r in reviews]
        xml = f"https://itunes.apple.com{feed_path}/xml?urlDesc=/customerreviews/page=1/id={app}/sortby=mostrecent/json"
        feed = {"feed": {
            "author": {"name": {"label": "iTunes Store"}, "uri": {"label": f"http://www.apple.com/{country}/itunes/"}},
            "updated": {"label": max(r.created for r in reviews).astimezone(pacific).isoformat()},
            "rights": {"label": "Copyright 2008 Apple Inc."},
            "title": {"label": "iTunes Store: Opiniones de clientes"},
            "icon": {"label": "http://itunes.apple.com/favicon.ico"},
            "link": [{"attributes": {"rel": "alternate", "type": "text/html", "href": store}},
                     {"attributes": {"rel": "self", "href": f"https://itunes.apple.com{feed_path}/json"}},
                     {"attributes": {"rel": "first", "href": xml}},
                     {"attributes": {"rel": "last", "href": xml}}],
            "id": {"label": f"https://itunes.apple.com{feed_path}/json"},
            # One review is an object, not a list, as the feed writes it.
            "entry": entries[0] if len(entries) == 1 else entries,
        }}
        # Same URL on a re-run: the newest-first page stops at the cursor's review.
        folder.answer(f"{feed_path}/json", f"reviews_{app}_{country}.json", feed)
    return folder


# -- Bluesky -------------------------------------------------------------------

def bluesky(posts: list[Post]) -> Folder:
    """``searchPosts`` on the public AppView (``sort=latest``), ``getPostThread`` for posts with replies."""
    folder = Folder("bluesky", {"queries": [BLUESKY_QUERY]})
    one_page("bluesky", posts, 100)
    names = {p.author: p.name for p in posts}

    def did(handle: str) -> str:
        return "did:plc:" + base32("did", handle, length=24)

    def view(handle: str, rkey: str, text: str, created: datetime, lang: str, replies: int,
             parent: dict | None = None) -> dict:
        uri = f"at://{did(handle)}/app.bsky.feed.post/{rkey}"
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "createdAt": iso_ms(created), "langs": [lang],
                                  "text": text}
        if parent:
            ref = {"cid": parent["cid"], "uri": parent["uri"]}
            record["reply"] = {"parent": ref, "root": ref}
        return {"uri": uri, "cid": "bafyrei" + base32("cid", uri, length=52),
                "author": {"did": did(handle), "handle": handle,
                           "displayName": names.get(handle) or NAMES.get(handle.split(".")[0], ""),
                           "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did(handle)}/"
                                     f"bafkrei{base32('avatar', handle, length=52)}@jpeg",
                           "labels": [], "createdAt": "2024-02-11T18:04:12.302Z"},
                "record": record, "replyCount": replies, "repostCount": 0, "likeCount": small(uri),
                "quoteCount": 0, "indexedAt": iso_ms(created + timedelta(seconds=1)), "labels": []}

    views = [view(p.author, p.native, p.text, p.created, p.lang, p.reply_count or 0) for p in posts]
    for post in posts:
        if not found_by(post, BLUESKY_QUERY):
            raise SystemExit(f"bluesky:{post.native} does not contain {BLUESKY_QUERY!r}")
    search = {"posts": views, "hitsTotal": len(views)}
    # ``since`` is inclusive: the re-run from the newest post's time sees it again and keeps nothing.
    newest = max(p.created for p in posts)
    path = "/xrpc/app.bsky.feed.searchPosts"
    folder.answer(path, "search_posts.json", search, {"q": BLUESKY_QUERY, "since": iso_s(newest), "cursor": None})
    folder.answer(path, "search_posts.json", search, {"q": BLUESKY_QUERY, "cursor": None})
    for post, root in zip(posts, views):
        if post.reply_count:
            replies = [{"$type": "app.bsky.feed.defs#threadViewPost",
                        "post": view(r.author, f"{post.native}r{i}", r.text, post.reply_time(r), "es", 0, root),
                        "replies": []} for i, r in enumerate(post.replies, 1)]
            folder.answer("/xrpc/app.bsky.feed.getPostThread", f"thread_{post.native}.json",
                          {"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": root, "replies": replies}},
                          {"uri": root["uri"]})
    return folder


WRITERS = {"twitter": twitter, "reddit": reddit, "mastodon": mastodon, "discourse": discourse, "rss": rss,
           "appstore": appstore, "bluesky": bluesky}


def folders(posts: list[Post]) -> list[Folder]:
    by_kind: dict[str, list[Post]] = {}
    for post in posts:
        if post.source not in KINDS:
            raise SystemExit(f"{post.source}:{post.native}: no kind for source {post.source!r} "
                             f"(known: {', '.join(KINDS)})")
        by_kind.setdefault(KINDS[post.source], []).append(post)
    return [WRITERS[kind](items) for kind, items in by_kind.items()]


def main() -> None:
    posts = load_corpus()
    for folder in folders(posts):
        path = folder.write()
        print(f"{path.relative_to(REPLAY)}: {len(folder.exchanges)} exchanges, {len(folder.bodies)} bodies")


if __name__ == "__main__":
    main()
