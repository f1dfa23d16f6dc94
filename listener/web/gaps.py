"""The competitor-gap report: where competitors leave people unanswered or unhappy.

Counts come from facets and a date histogram; the median time to a first
answer, churn flows and complaint clusters read the matching posts once with
``scan`` (at most ``SCAN_LIMIT`` each, reported when reached).

A complaint that names several companies counts for the one it is about (see
:func:`complaint_targets`). A rate or median resting on fewer than ``min_n``
posts is left out (``None``); its n still shows. The share-of-voice series has
a bucket for every hour, day, week or month, empty ones at 0.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice

from listener.index.base import BaseBackend, SearchQuery
from listener.records import IndexedPost, utc
from listener.web.clusters import Cluster, complaint_clusters, folded_words
from nlp.about import complained_entity
from nlp.text import analysed_text

ANSWERED = ("answered", "answered_by_brand", "answered_by_competitor")
SCAN_LIMIT = 50_000
# A series of more buckets than this covers the posts' span, not the whole window.
MAX_BUCKETS = 2000
STEPS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}
# Words just before a mention that make it the destination, or the origin, of a move.
TO_BEFORE = re.compile(r"(?:\b(?:a|al|to|for|para|pra|per|cap a|into|hacia|towards)\s+(?:(?:la|el|els|les|the|o|os|os cines)\s+)?|(?:→|->)\s*)$", re.I)
FROM_BEFORE = re.compile(r"(?:\b(?:de|del|from|desde|leaving|dejo|deixo|abandono|quit)\s+(?:(?:la|el|the|o)\s+)?)$", re.I)


@dataclass
class EntityGap:
    name: str
    role: str
    posts: int = 0
    share: float = 0.0
    complaints: int = 0
    known_answer: int = 0
    unanswered: int = 0
    timed_replies: int = 0
    median_first_reply: timedelta | None = None  # None when under min_n replies were timed
    min_n: int = 1

    @property
    def complaint_rate(self) -> float | None:
        """Complaints among the posts naming it; None under ``min_n`` posts."""
        return self.complaints / self.posts if self.posts and self.posts >= self.min_n else None

    @property
    def unanswered_rate(self) -> float | None:
        """Unanswered among the posts whose replies are known; None under ``min_n`` of them."""
        return self.unanswered / self.known_answer if self.known_answer and self.known_answer >= self.min_n else None


@dataclass
class Flow:
    source: str
    target: str
    count: int = 0
    post_ids: list[str] = field(default_factory=list)


@dataclass
class GapReport:
    since: datetime
    until: datetime
    interval: str
    entities: list[EntityGap]
    timeline: list[tuple[datetime, dict[str, int]]]
    flows: list[Flow]
    unclear_flows: list[Flow]
    clusters: dict[str, list[Cluster]]
    truncated: bool = False
    min_n: int = 1
    unclear_complaints: int = 0  # complaints naming several companies without telling which: counted for each

    @property
    def total_mentions(self) -> int:
        return sum(e.posts for e in self.entities)


def pick_interval(span: timedelta) -> str:
    if span <= timedelta(days=2):
        return "hour"
    if span <= timedelta(days=92):
        return "day"
    if span <= timedelta(days=730):
        return "week"
    return "month"


def gap_report(backend: BaseBackend, config, since: datetime, until: datetime, interval: str | None = None,
               min_n: int = 1) -> GapReport:
    window = SearchQuery(since=since, until=until, limit=1)
    oldest = backend.search(SearchQuery(since=since, until=until, sort="oldest", limit=1)).hits
    newest = backend.search(SearchQuery(since=since, until=until, sort="newest", limit=1)).hits
    span = (oldest[0].post.created_at, newest[0].post.created_at) if oldest and newest else None
    chosen = interval
    if interval is None:
        interval = pick_interval(span[1] - span[0] if span else until - since)
    roles = {entity.name: role for entity, role in config.entities}
    rows = backend.histogram(window, interval, by="entity")
    counts: dict[datetime, dict[str, int]] = defaultdict(dict)
    totals: Counter = Counter()
    for start, name, count in rows:
        counts[utc(start)][name] = count
        totals[name] += count
    names = [n for n in roles] + sorted(n for n in totals if n not in roles)
    gaps = {n: EntityGap(n, roles.get(n, "other"), posts=totals[n], min_n=min_n) for n in names}
    mentions = sum(totals.values())
    for gap in gaps.values():
        gap.share = gap.posts / mentions if mentions and mentions >= min_n else None

    def per_entity(**filters) -> dict[str, int]:
        query = SearchQuery(filters=filters, since=since, until=until, facets=("entity",), limit=0)
        return dict(backend.search(query).facets.get("entity", []))

    complained = Counter(per_entity(intent=["complaint"]))
    unknown = per_entity(answer_state=["unknown"])
    for name, count in per_entity(answer_state=["unanswered"]).items():
        if name in gaps:
            gaps[name].unanswered = count
    for gap in gaps.values():
        gap.known_answer = gap.posts - unknown.get(gap.name, 0)

    truncated = False
    delays: dict[str, list[float]] = defaultdict(list)
    answered = _scan(backend, SearchQuery(filters={"answer_state": list(ANSWERED)}, since=since, until=until))
    for hit in answered:
        if hit.post.first_reply_at and hit.post.first_reply_at >= hit.post.created_at:
            seconds = (hit.post.first_reply_at - hit.post.created_at).total_seconds()
            for name in hit.analysis.entities:
                delays[name].append(seconds)
    truncated |= answered.truncated
    for name, values in delays.items():
        if name in gaps:
            gaps[name].timed_replies = len(values)
            if len(values) >= min_n:
                gaps[name].median_first_reply = timedelta(seconds=statistics.median(values))

    churn = _scan(backend, SearchQuery(filters={"intent": ["churn"], "role": ["competitor"]}, since=since, until=until))
    flows, unclear = churn_flows(churn, roles)
    truncated |= churn.truncated

    # The facet counts a complaint for every company it names; each one it is not about is taken off.
    complaints = _scan(backend, SearchQuery(filters={"intent": ["complaint"]}, since=since, until=until))
    ignore = _entity_words(config)
    by_competitor: dict[str, list[IndexedPost]] = defaultdict(list)
    unclear_complaints = 0
    for hit in complaints:
        targets, clear = complaint_targets(hit)
        unclear_complaints += not clear
        for name in set(hit.analysis.entities) - set(targets):
            complained[name] -= 1
        for name in targets:
            if roles.get(name) == "competitor":
                by_competitor[name].append(hit)
    truncated |= complaints.truncated
    for name, count in complained.items():
        if name in gaps:
            gaps[name].complaints = count
    clusters = {name: complaint_clusters(hits, ignore) for name, hits in sorted(by_competitor.items())}

    if span is None:
        timeline = []
    else:
        first, last = (since, until - timedelta(microseconds=1)) if chosen else span
        if chosen and _bucket_count(first, last, interval) > MAX_BUCKETS:
            first, last = span
        timeline = filled_series(counts, names, first, last, interval)

    return GapReport(
        since=since,
        until=until,
        interval=interval,
        entities=[gaps[n] for n in names],
        timeline=timeline,
        flows=flows,
        unclear_flows=unclear,
        clusters=clusters,
        truncated=truncated,
        min_n=min_n,
        unclear_complaints=unclear_complaints,
    )


def complaint_targets(hit: IndexedPost) -> tuple[tuple[str, ...], bool]:
    """The companies a complaint is about, and whether the text told.

    One company named: that one. Several: the one named in the clause of a
    complaint phrase of the post's language (:func:`nlp.about.complained_entity`);
    else, in a move from one company to another, the one left; else the one
    nearest a complaint phrase; else every company named, unclear.
    """
    entities = hit.analysis.entities
    if len(entities) <= 1:
        return entities, True
    about = complained_entity(analysed_text(hit.post), hit.analysis.language, hit.analysis.mentions)
    if about is not None and about[1]:
        return (about[0],), True
    origins, targets = churn_direction(hit)
    if origins and targets:
        return tuple(origins), True
    if about is not None:
        return (about[0],), True
    return entities, False


def bucket_start(moment: datetime, interval: str) -> datetime:
    """The start of the histogram bucket holding ``moment``: UTC, weeks from Monday, months from the 1st."""
    moment = utc(moment)
    if interval == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "day":
        return day
    if interval == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def next_bucket(start: datetime, interval: str) -> datetime:
    if interval == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + STEPS[interval]


def _bucket_count(first: datetime, last: datetime, interval: str) -> int:
    if interval == "month":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    return int((bucket_start(last, interval) - bucket_start(first, interval)) / STEPS[interval]) + 1


def filled_series(counts: dict[datetime, dict[str, int]], names: list[str], first: datetime, last: datetime,
                  interval: str) -> list[tuple[datetime, dict[str, int]]]:
    """Every bucket from the one holding ``first`` to the one holding ``last``, each entity's count in it (0 when none)."""
    series = []
    start, end = bucket_start(first, interval), bucket_start(last, interval)
    while start <= end:
        found = counts.get(start, {})
        series.append((start, {name: found.get(name, 0) for name in names}))
        start = next_bucket(start, interval)
    return series


class _scan:
    """Iterate at most SCAN_LIMIT posts of a scan, remembering whether there were more."""

    def __init__(self, backend: BaseBackend, query: SearchQuery):
        self._hits = backend.scan(query)
        self.truncated = False

    def __iter__(self):
        yield from islice(self._hits, SCAN_LIMIT)
        self.truncated = next(self._hits, None) is not None


def churn_direction(hit: IndexedPost) -> tuple[list[str], list[str]]:
    """``(origins, targets)`` of a churn post, from the words before each mention; empty when unclear."""
    text = analysed_text(hit.post)
    to, away = set(), set()
    for mention in hit.analysis.mentions:
        before = text[max(0, mention.start - 24):mention.start]
        if TO_BEFORE.search(before):
            to.add(mention.entity)
        elif FROM_BEFORE.search(before):
            away.add(mention.entity)
    entities = list(hit.analysis.entities)
    targets = [e for e in entities if e in to and e not in away]
    if len(targets) == 1:
        return [e for e in entities if e not in targets], targets
    origins = [e for e in entities if e in away and e not in to]
    if len(origins) == 1:
        return origins, [e for e in entities if e not in origins]
    return [], []


def churn_flows(hits, roles: dict[str, str]) -> tuple[list[Flow], list[Flow]]:
    """Moves between the brand and a competitor, and pairs whose direction the text does not tell."""
    flows: dict[tuple[str, str], Flow] = {}
    unclear: dict[tuple[str, str], Flow] = {}
    for hit in hits:
        entities = list(hit.analysis.entities)
        if not any(roles.get(e) == "brand" for e in entities) or len(entities) < 2:
            continue
        origins, targets = churn_direction(hit)
        if origins and targets:
            pairs, into = [(o, t) for o in origins for t in targets], flows
        else:
            brand = next(e for e in entities if roles.get(e) == "brand")
            pairs, into = [(brand, e) for e in entities if e != brand], unclear
        for pair in pairs:
            flow = into.setdefault(pair, Flow(*pair))
            flow.count += 1
            if len(flow.post_ids) < 5:
                flow.post_ids.append(hit.id)
    order = lambda f: (-f.count, f.source, f.target)  # noqa: E731
    return sorted(flows.values(), key=order), sorted(unclear.values(), key=order)


def _entity_words(config) -> set[str]:
    words: set[str] = set()
    for entity, _ in config.entities:
        for name in (entity.name, *entity.aliases, *entity.handles, *entity.hashtags):
            words |= set(folded_words(name.lstrip("@#"), minimum=1))
    return words
