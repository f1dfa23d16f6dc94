"""Reading web pages: text from HTML blocks, loose dates, and schema.org data.

``schema_items`` gathers the schema.org objects a page declares, from JSON-LD
scripts and from microdata, as JSON-LD-like dicts (``@type`` plus properties).
``schema_posts`` turns the conversational ones into posts: a
``DiscussionForumPosting`` (or ``SocialMediaPosting``) with its ``comment``
tree, a ``QAPage``'s ``Question`` with its answers, and every ``Review``.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Iterator
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import lxml.etree
import lxml.html

from listener.records import Post, post_id, utc
from spiders.base import Thread
from spiders.limits import JSON_MAX_DEPTH, TooDeepError, loads

BLOCKS = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure",
    "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol",
    "p", "pre", "section", "table", "td", "th", "tr", "ul",
}
SKIP = {"script", "style", "noscript", "template", "head"}
REPLY_KEYS = ("comment", "acceptedAnswer", "suggestedAnswer", "commentCount", "answerCount")
POSTINGS = {"DiscussionForumPosting", "SocialMediaPosting", "BlogPosting", "Comment"}
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_LINES = re.compile(r"\s*\n\s*")


# -- text ----------------------------------------------------------------------

def block_text(markup: str | None) -> str:
    """Readable text from an HTML fragment: block elements become line breaks, scripts vanish."""
    if not markup or not markup.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return markup.strip()
    return node_text(root)


def node_text(element) -> str:
    parts: list[str] = []
    _walk(element, parts)
    text = _SPACES.sub(" ", "".join(parts))
    return _LINES.sub("\n", text).strip()


def _walk(element, parts: list[str]) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in SKIP:
        parts.append(" " if tag else "")
    else:
        block = tag in BLOCKS
        if block:
            parts.append("\n")
        if isinstance(element.tag, str) and element.text:
            parts.append(element.text)
        for child in element:
            _walk(child, parts)
        if block:
            parts.append("\n")
    if element.tail:
        parts.append(element.tail)


# -- dates ---------------------------------------------------------------------

def parse_date(text: str | None, fmt: str | None = None, zone: str = "UTC") -> datetime | None:
    """A date from ISO 8601, RFC 2822 or ``fmt`` (strptime); naive values are in ``zone``."""
    if not text or not str(text).strip():
        return None
    text = str(text).strip()
    value = None
    if fmt:
        try:
            value = datetime.strptime(text, fmt)
        except ValueError:
            value = None
    if value is None:
        try:
            value = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" else text)
        except ValueError:
            try:
                value = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(zone))
    return utc(value)


# -- schema.org extraction -----------------------------------------------------

def type_names(node: dict) -> set[str]:
    types = node.get("@type") or []
    if isinstance(types, str):
        types = [types]
    return {str(t).rstrip("/").rsplit("/", 1)[-1] for t in types}


def schema_items(markup: str | bytes, page_url: str, max_depth: int = JSON_MAX_DEPTH) -> tuple[list[dict], list[str]]:
    """Top-level schema.org objects from JSON-LD and microdata, and problems found on the way.

    A JSON-LD block nested deeper than ``max_depth`` is skipped as a problem.
    """
    try:
        root = lxml.html.document_fromstring(markup)
    except (lxml.etree.ParserError, ValueError):
        return [], []
    items: list[dict] = []
    problems: list[str] = []
    for script in root.xpath('//script[@type="application/ld+json"]'):
        try:
            data = loads(script.text or "", max_depth)
        except TooDeepError as exc:
            problems.append(f"JSON-LD block skipped: {exc}")
            continue
        except json.JSONDecodeError as exc:
            problems.append(f"JSON-LD block is not valid JSON: {exc}")
            continue
        for node in data if isinstance(data, list) else [data]:
            if isinstance(node, dict) and isinstance(node.get("@graph"), list):
                items += [n for n in node["@graph"] if isinstance(n, dict)]
            elif isinstance(node, dict):
                items.append(node)
    for element in root.xpath("//*[@itemscope and not(@itemprop)]"):
        items.append(_microdata_item(element, page_url))
    return items, problems


def _microdata_item(element, page_url: str) -> dict:
    item: dict[str, Any] = {}
    if element.get("itemtype"):
        item["@type"] = element.get("itemtype").split()
    if element.get("itemid"):
        item["@id"] = urljoin(page_url, element.get("itemid"))
    _microdata_props(element, item, page_url)
    return item


def _microdata_props(element, item: dict, page_url: str) -> None:
    for child in element:
        if not isinstance(child.tag, str):
            continue
        scoped = child.get("itemscope") is not None
        names = (child.get("itemprop") or "").split()
        if names:
            value = _microdata_item(child, page_url) if scoped else _microdata_value(child, page_url)
            for name in names:
                if name in item:
                    existing = item[name]
                    item[name] = (existing if isinstance(existing, list) else [existing]) + [value]
                else:
                    item[name] = value
        if not scoped:
            _microdata_props(child, item, page_url)


def _microdata_value(element, page_url: str) -> str:
    tag = element.tag.lower()
    if element.get("content") is not None:
        return element.get("content")
    if tag in ("a", "link", "area"):
        return urljoin(page_url, element.get("href") or "")
    if tag in ("img", "audio", "video", "source", "iframe", "embed", "track"):
        return urljoin(page_url, element.get("src") or "")
    if tag == "time" and element.get("datetime"):
        return element.get("datetime")
    if tag in ("data", "meter") and element.get("value") is not None:
        return element.get("value")
    return node_text(element)


# -- schema.org objects as posts -----------------------------------------------

def schema_posts(items: list[dict], page_url: str, source: str) -> tuple[list[Post], list[str]]:
    """Posts from the conversational schema.org objects among ``items``."""
    posts: list[Post] = []
    problems: list[str] = []
    for node in _conversations(items):
        try:
            posts += _thread(node, page_url, source, len(posts))
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"{sorted(type_names(node))} on {page_url}: {exc}")
    return posts, problems


def _conversations(value: Any) -> Iterator[dict]:
    """Postings, questions and reviews, searched through every nested object but not inside one."""
    if isinstance(value, list):
        for child in value:
            yield from _conversations(child)
    elif isinstance(value, dict):
        types = type_names(value)
        if types & (POSTINGS | {"Question", "Review"}):
            yield value
            return
        for key, child in value.items():
            if not key.startswith("@"):
                yield from _conversations(child)


def _replies(node: dict) -> list[dict]:
    types = type_names(node)
    keys = ("acceptedAnswer", "suggestedAnswer") if "Question" in types else ("comment",)
    replies: list[dict] = []
    for key in keys:
        value = node.get(key)
        replies += [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, dict)]
    return replies


def _thread(root: dict, page_url: str, source: str, start: int = 0) -> list[Post]:
    """The root and every reply below it; ``start`` is how many posts the page gave before."""
    first = _post(root, page_url, source, start, parent=None, thread=None)
    posts = [first]
    stack = [(reply, first) for reply in reversed(_replies(root))]
    while stack:
        node, parent = stack.pop()
        post = _post(node, page_url, source, start + len(posts), parent=parent.id, thread=first.id)
        posts.append(post)
        stack += [(reply, post) for reply in reversed(_replies(node))]
    declared = _declared_count(root)
    # Replies are known when the page lists them or says how many there are; a
    # review with neither says nothing about an answer.
    known = declared is not None or len(posts) > 1 or any(k in root for k in REPLY_KEYS)
    return with_replies(posts, declared if known else None, known)


def with_replies(posts: list[Post], declared: int | None = None, known: bool = True) -> list[Post]:
    """Give each post of a thread (root first) its reply count, repliers and first reply time."""
    children: dict[str | None, list[Post]] = {}
    for post in posts[1:]:
        children.setdefault(post.parent_id, []).append(post)
    out = []
    for index, post in enumerate(posts):
        below = _descendants(post.id, children)
        thread = Thread.of([(p.author, p.created_at) for p in below], post.author)
        count = max(thread.count, declared or 0) if index == 0 else thread.count
        out.append(replace(post, reply_count=count if known else None, replied_by=thread.repliers,
                           first_reply_at=thread.first_reply_at))
    return out


def _descendants(post_id_: str, children: dict[str, list[Post]]) -> list[Post]:
    found, stack = [], list(children.get(post_id_, []))
    while stack:
        post = stack.pop(0)
        found.append(post)
        stack += children.get(post.id, [])
    return found


def _declared_count(node: dict) -> int | None:
    for key in ("commentCount", "answerCount"):
        if str(node.get(key) or "").strip().isdigit():
            return int(node[key])
    stats = node.get("interactionStatistic")
    for stat in stats if isinstance(stats, list) else [stats]:
        if isinstance(stat, dict) and str(stat.get("interactionType", "")).endswith(("CommentAction", "ReplyAction")):
            count = str(stat.get("userInteractionCount") or "")
            if count.isdigit():
                return int(count)
    return None


def _text_of(value: Any) -> str:
    if isinstance(value, list):
        value = " ".join(str(v) for v in value if isinstance(v, str))
    if not isinstance(value, str):
        return ""
    return block_text(value) if "<" in value else value.strip()


def _author(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name") or value.get("alternateName") or value.get("url")
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _post(node: dict, page_url: str, source: str, index: int, parent: str | None, thread: str | None) -> Post:
    types = type_names(node)
    text = _text_of(node.get("text") or node.get("articleBody") or node.get("reviewBody") or node.get("description"))
    title = _text_of(node.get("headline") or node.get("name")) or None
    if "Review" in types:
        title = _rated(title, node.get("reviewRating"))
    if not text and not title:
        raise ValueError("no text")
    created = None
    for key in ("datePublished", "dateCreated", "uploadDate", "dateModified"):
        created = parse_date(node.get(key) if isinstance(node.get(key), str) else None)
        if created:
            break
    if created is None:
        raise ValueError("no date")
    url = urljoin(page_url, node["url"]) if isinstance(node.get("url"), str) else None
    native = urljoin(page_url, node["@id"]) if isinstance(node.get("@id"), str) else None
    if native is None:
        # The page's first post may be the page itself; later ones need an anchor of their own.
        own = url if url and (index == 0 or (url != page_url and "#" in url)) else None
        native = own or (page_url if index == 0 else f"{page_url}#{index}")
    return Post(
        id=post_id(source, native),
        source=source,
        url=url or page_url,
        author=_author(node.get("author")),
        text=text or title or "",
        created_at=created,
        title=title,
        parent_id=parent,
        thread_id=thread if thread is not None else (post_id(source, native) if "Review" not in types else None),
    )


def _rated(title: str | None, rating: Any) -> str | None:
    if not isinstance(rating, dict) or rating.get("ratingValue") in (None, ""):
        return title
    best = rating.get("bestRating") or 5
    stars = f"{rating['ratingValue']}/{best}"
    return f"{title} ({stars})" if title else f"Rating {stars}"

