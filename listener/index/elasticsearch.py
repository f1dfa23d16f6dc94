"""The Elasticsearch backend, for teams and for analysts' searches.

Posts live in a versioned index (``<alias>-v<N>``) behind an alias; a new
schema version is built beside the old one, filled with ``_reindex`` and put
live by swapping the alias in one atomic call.

Feedback is kept in the post's document, outside what a re-crawl writes, and
added by a read and a write conditional on the document's sequence number, so
that a concurrent re-crawl or second feedback is never lost.

Writes look up which posts of a bulk the index has (one ``mget``): new ones
are created whole, known ones updated with what a crawl gives, so a first
load costs Elasticsearch no read per post.

Error policy, after Elasticsearch's bulk semantics: one bad document never
sinks the others. Bulks are bounded by count *and* bytes (500 documents or
5 MB, whichever comes first), so large posts cannot trip the circuit breaker.
Every item's outcome is read: what the node may accept later (429, 502–504, a
timeout) is retried with exponential backoff; what it will never accept (a 400
mapping or id error) is reported at once in the :class:`WriteResult`, never
retried. A whole bulk refused for one of its documents is split in halves until
that document stands alone. Ids longer than Elasticsearch's 512-byte ``_id``
limit are stored under a hash of the id (:func:`doc_id`); the post keeps its
``id`` and is found by it. An unreachable cluster raises :class:`BackendError`
at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone

from elasticsearch import ApiError, ConflictError, ConnectionTimeout, Elasticsearch, NotFoundError, TransportError
from elasticsearch.helpers import scan, streaming_bulk

from listener import errors
from listener.config import secret
from listener.errors import BackendError
from listener.index.base import BaseBackend, SearchQuery, SearchResult, WriteResult
from listener.index.es_schema import SCHEMA_VERSION, index_body
from listener.records import Analysis, Feedback, IndexedPost, Post, Workflow, format_time
from listener.suppression import handle_key

logger = logging.getLogger(__name__)

SEARCH_FIELDS = ["title^2", "title.*^2", "text", "text.*", "author_name"]
SORTS = {
    "newest": [{"created_at": "desc"}, {"id": "asc"}],
    "oldest": [{"created_at": "asc"}, {"id": "asc"}],
    "score": [{"lead_score": "desc"}, {"created_at": "desc"}, {"id": "asc"}],
    "priority": [{"lead_score": "desc"}, {"created_at": "asc"}, {"id": "asc"}],
    "relevance": ["_score", {"created_at": "desc"}, {"id": "asc"}],
}
CALENDAR_INTERVALS = {"hour": "1h", "day": "1d", "week": "1w", "month": "1M"}
RECORD_FIELDS = ["post", "analysis", "answer_state", "workflow", "feedback"]
FEEDBACK_ATTEMPTS = 5
MAX_ID_BYTES = 512  # Elasticsearch's limit on _id
BULK_DOCS = 500
BULK_BYTES = 5 * 1024 * 1024
RETRY_STATUSES = frozenset({429, 502, 503, 504})
BULK_ATTEMPTS = 4  # the first try and three retries: after 1, 2 and 4 seconds
PURGE_PATIENCE = 120.0  # seconds to wait for retention leases to let deleted documents go


def doc_id(post_id: str) -> str:
    """The ``_id`` of a post: its id, or ``sha256:<hex>`` of it when over 512 bytes."""
    encoded = post_id.encode("utf-8", "surrogatepass")
    if len(encoded) <= MAX_ID_BYTES:
        return post_id
    return "sha256:" + hashlib.sha256(encoded).hexdigest()


class ElasticsearchBackend(BaseBackend):
    name = "elasticsearch"

    def __init__(self, client: Elasticsearch, alias: str = "listener-posts", *, bulk_docs: int = BULK_DOCS,
                 bulk_bytes: int = BULK_BYTES, backoff: float = 1.0):
        self.es = client
        self.alias = alias
        self.bulk_docs = bulk_docs
        self.bulk_bytes = bulk_bytes
        self.backoff = backoff

    @classmethod
    def from_config(cls, config) -> ElasticsearchBackend:
        options = {"request_timeout": 30, "retry_on_timeout": True, "max_retries": 3}
        api_key = secret(config.index.api_key_env)
        username, password = secret(config.index.username_env), secret(config.index.password_env)
        if api_key:
            options["api_key"] = api_key
        elif username and password:
            options["basic_auth"] = (username, password)
        return cls(Elasticsearch(config.index.url, **options), alias=config.index.index)

    @property
    def current_index(self) -> str:
        return f"{self.alias}-v{SCHEMA_VERSION}"

    # -- schema ----------------------------------------------------------

    def ensure_schema(self) -> None:
        """Create the index and alias, or migrate an older schema version in place."""
        try:
            live = self._aliased_indices()
            if live == [self.current_index]:
                return
            if not self.es.indices.exists(index=self.current_index):
                self.es.indices.create(index=self.current_index, **index_body(self._flavour()))
            if live:
                self._migrate(live)
            else:
                self.es.indices.put_alias(index=self.current_index, name=self.alias)
        except TransportError as exc:
            raise BackendError(f"Elasticsearch at {self._where()} is unreachable: {exc}") from None
        except ApiError as exc:
            raise BackendError(f"Elasticsearch refused the index setup for {self.alias!r}: {exc}") from None

    def _aliased_indices(self) -> list[str]:
        try:
            return sorted(self.es.indices.get_alias(name=self.alias).body)
        except NotFoundError:
            return []

    def _migrate(self, old: list[str]) -> None:
        # Copied through the client (scroll + bulk), so it works on nodes
        # without the reindex module too. Writes during the copy go to the
        # old index and are picked up by the next crawl's upsert.
        logger.info("elasticsearch: migrating %s to %s", ", ".join(old), self.current_index)
        copies = (
            {"_op_type": "index", "_index": self.current_index, "_id": hit["_id"], "_source": hit["_source"]}
            for hit in scan(self.es, index=",".join(old), query={"query": {"match_all": {}}})
        )
        for ok, info in streaming_bulk(self.es, copies, raise_on_error=False, max_retries=3):
            if not ok:
                raise BackendError(f"migration to {self.current_index} failed on a document: {info}")
        self.es.indices.refresh(index=self.current_index)
        actions = [{"remove": {"index": name, "alias": self.alias}} for name in old]
        actions.append({"add": {"index": self.current_index, "alias": self.alias}})
        self.es.indices.update_aliases(actions=actions)

    def _flavour(self) -> str:
        """``plugin`` when the node has the listener-analysis filters, else ``standard``."""
        try:
            self.es.indices.analyze(tokenizer="standard", filter=["listener_folding"], text="a")
            return "plugin"
        except ApiError:
            return "standard"

    def _where(self) -> str:
        try:
            return ", ".join(str(node.base_url) for node in self.es.transport.node_pool.all())
        except Exception:
            return "the configured URL"

    def close(self) -> None:
        self.es.close()

    def refresh(self) -> None:
        self.es.indices.refresh(index=self.alias)

    # -- writes ----------------------------------------------------------

    def upsert(self, items: Iterable[IndexedPost]) -> WriteResult:
        result = WriteResult()
        chunk: list[tuple[str, bytes]] = []
        size = 0
        for item in items:
            try:
                document = json.dumps(crawl_fields(item), ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError as exc:
                result.failed.append((item.id, f"not valid Unicode text ({exc.reason} at position {exc.start})"))
                continue
            # As sent, an update carries the document twice (its fields and the upsert).
            if chunk and (len(chunk) >= self.bulk_docs or size + 2 * len(document) > self.bulk_bytes):
                result += self._write_documents(chunk)
                chunk, size = [], 0
            chunk.append((item.id, document))
            size += 2 * len(document)
        if chunk:
            result += self._write_documents(chunk)
        return result

    def _write_documents(self, chunk: list[tuple[str, bytes]]) -> WriteResult:
        """Create the posts the index does not have yet; update the others, keeping their workflow and feedback."""
        latest = dict(chunk)  # a post given twice is written once, as last given
        present = self._present(list(latest))
        result = self._write([
            (post_id, self._update_operation(post_id, document) if post_id in present else self._create_operation(post_id, document))
            for post_id, document in latest.items()
        ])
        # Created by another writer since the look-up: updated instead.
        raced = {post_id for post_id, reason in result.failed if reason.startswith("version_conflict_engine_exception")}
        if raced:
            result.failed = [failure for failure in result.failed if failure[0] not in raced]
            result += self._write([(post_id, self._update_operation(post_id, latest[post_id])) for post_id in raced])
        if len(latest) < len(chunk):
            written = set(result.indexed)
            result.indexed = [post_id for post_id, _ in chunk if post_id in written]
        return result

    def _present(self, post_ids: list[str]) -> set[str]:
        """Which of ``post_ids`` the index holds (all of them if it cannot say now: an update is always right)."""
        try:
            response = self.es.mget(index=self.alias, ids=[doc_id(post_id) for post_id in post_ids], source=False)
        except ApiError:
            return set(post_ids)
        except TransportError as exc:
            raise BackendError(f"Elasticsearch at {self._where()} is unreachable: {exc}") from None
        return {post_id for post_id, hit in zip(post_ids, response["docs"]) if hit.get("found")}

    def _create_operation(self, post_id: str, document: bytes) -> bytes:
        """The NDJSON lines that add a new post, with the workflow every post starts with."""
        action = json.dumps({"create": {"_index": self.alias, "_id": doc_id(post_id)}}).encode()
        return action + b"\n" + document[:-1] + b", " + NEW_WORKFLOW[1:] + b"\n"

    def _update_operation(self, post_id: str, document: bytes) -> bytes:
        """The NDJSON lines that refresh what a crawl gives of a post, or add it if it is gone."""
        action = json.dumps({"update": {"_index": self.alias, "_id": doc_id(post_id)}}).encode()
        return action + b'\n{"doc": ' + document + b', "upsert": ' + document[:-1] + b", " + NEW_WORKFLOW[1:] + b"}\n"

    def _write(self, chunk: list[tuple[str, bytes]]) -> WriteResult:
        """Send one bulk, retrying only what may succeed later."""
        result = WriteResult()
        pending = chunk
        for attempt in range(BULK_ATTEMPTS):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            retry: list[tuple[tuple[str, bytes], str]] = []
            for operation, status, reason in self._send(pending):
                if status is None:
                    result.indexed.append(operation[0])
                elif status in RETRY_STATUSES:
                    retry.append((operation, reason))
                else:
                    result.failed.append((operation[0], reason))
            if not retry:
                return result
            logger.warning("elasticsearch: %d of %d document(s) refused for now (%s); retrying",
                           len(retry), len(pending), retry[0][1])
            pending = [operation for operation, _ in retry]
        result.failed += [(operation[0], f"{reason} (gave up after {BULK_ATTEMPTS} attempts)") for operation, reason in retry]
        return result

    def _send(self, chunk: list[tuple[str, bytes]]) -> Iterator[tuple[tuple[str, bytes], int | None, str]]:
        """Each operation with its outcome: ``None`` when written, else the status and reason."""
        try:
            response = self.es.bulk(operations=[operation for _, operation in chunk])
        except ConnectionTimeout as exc:
            for operation in chunk:
                yield operation, 504, f"timed out ({exc})"
            return
        except ApiError as exc:
            status = exc.meta.status
            if status in RETRY_STATUSES:
                for operation in chunk:
                    yield operation, status, _reason(exc.body, exc)
            elif len(chunk) > 1:  # refused as a whole for something in it: find what
                middle = len(chunk) // 2
                yield from self._send(chunk[:middle])
                yield from self._send(chunk[middle:])
            else:
                yield chunk[0], status, _reason(exc.body, exc)
            return
        except TransportError as exc:
            raise BackendError(f"Elasticsearch at {self._where()} is unreachable: {exc}") from None
        for operation, item in zip(chunk, response["items"]):
            outcome = item.get("update") or next(iter(item.values()))
            if outcome.get("status", 500) < 300 and "error" not in outcome:
                yield operation, None, ""
            else:
                yield operation, outcome.get("status", 500), _reason(outcome.get("error"), outcome)
    def _replace_workflow(self, post_id: str, expected_version: int, workflow: Workflow) -> bool:
        try:
            current = self.es.get(index=self.alias, id=doc_id(post_id), source_includes=["version"])
        except NotFoundError:
            return False
        if current["_source"].get("version", 0) != expected_version:
            return False
        try:
            self.es.update(
                index=self.alias,
                id=doc_id(post_id),
                doc=workflow_fields(workflow),
                if_seq_no=current["_seq_no"],
                if_primary_term=current["_primary_term"],
                refresh=True,
            )
        except ConflictError:
            return False
        return True

    def add_feedback(self, post_id: str, feedback: Feedback) -> bool:
        record = feedback.to_dict()
        for _ in range(FEEDBACK_ATTEMPTS):
            try:
                current = self.es.get(index=self.alias, id=doc_id(post_id), source_includes=["feedback"])
            except NotFoundError:
                raise errors.NotFoundError(f"no post with id {post_id!r}") from None
            stored = current["_source"].get("feedback") or []
            if any(Feedback.from_dict(item) == feedback for item in stored):
                return False
            try:
                self.es.update(
                    index=self.alias,
                    id=doc_id(post_id),
                    doc=feedback_fields([*stored, record]),
                    if_seq_no=current["_seq_no"],
                    if_primary_term=current["_primary_term"],
                )
            except ConflictError:
                continue  # changed since it was read: read it again
            return True
        raise BackendError(f"could not add feedback to {post_id}: it changed {FEEDBACK_ATTEMPTS} times while being written")

    def posts_by(self, handle: str) -> list[str]:
        key = handle_key(handle)
        spellings = [{"term": {"author": {"value": value, "case_insensitive": True}}} for value in (key, f"@{key}")]
        query = {"query": {"bool": {"should": spellings, "minimum_should_match": 1}}}
        hits = scan(self.es, index=self.alias, query=query, source_includes=["id", "author"])
        return [hit["_source"]["id"] for hit in hits if handle_key(hit["_source"].get("author") or "") == key]

    def mentioning(self, handle: str) -> Iterator[IndexedPost]:
        key = handle_key(handle)
        words = {"multi_match": {"query": key, "fields": ["text", "title"], "operator": "and"}}
        ids = {hit["_id"] for hit in scan(self.es, index=self.alias, query={"query": words}, _source=False)}
        # Repliers and notes are stored, not indexed: read just those fields of every post.
        small = scan(self.es, index=self.alias, query={"query": {"match_all": {}}}, size=1000,
                     source_includes=["post.replied_by", "workflow.notes.text", "workflow.reply_draft"])
        ids |= {hit["_id"] for hit in small if key in json.dumps(hit.get("_source") or {}, ensure_ascii=False).casefold()}
        ordered = sorted(ids)
        for start in range(0, len(ordered), 500):
            response = self.es.mget(index=self.alias, ids=ordered[start:start + 500], source_includes=RECORD_FIELDS)
            yield from (load(hit["_source"]) for hit in response["docs"] if hit.get("found"))

    def purge(self, patience: float = PURGE_PATIENCE) -> None:
        """Expunge deleted and replaced documents from every segment of the live index.

        Elasticsearch keeps them (soft deletes) while a shard's retention lease
        may still need them, until the lease moves past them (about 30 s);
        then a force merge with ``only_expunge_deletes`` rewrites the segments
        that hold any, the threshold lowered from 10 % to 0 so that one is enough.
        """
        index = ",".join(self._aliased_indices()) or self.current_index
        self.es.indices.put_settings(index=index, settings={"index.merge.policy.expunge_deletes_allowed": 0})
        self.es.indices.flush(index=index)
        written = {shard: max(seq for seq, _ in copies) for shard, copies in self._shard_seq_nos(index).items()}
        deadline = time.monotonic() + patience
        while not all(min(lease for _, lease in copies) > written[shard]
                      for shard, copies in self._shard_seq_nos(index).items() if shard in written):
            if time.monotonic() > deadline:
                raise BackendError(f"{index}'s retention leases still keep deleted documents after {patience:g} s",
                                   hint="Run the erasure again in a minute; the posts are already gone from every search.")
            time.sleep(1)
        self.es.indices.forcemerge(index=index, only_expunge_deletes=True, wait_for_completion=True)

    def _shard_seq_nos(self, index: str) -> dict[tuple[str, str], list[tuple[int, int]]]:
        """Per shard, each copy's highest sequence number and the lowest one its retention leases keep."""
        stats = self.es.indices.stats(index=index, level="shards")["indices"]
        return {
            (name, number): [
                (copy["seq_no"]["max_seq_no"],
                 min((lease["retaining_seq_no"] for lease in copy["retention_leases"]["leases"]), default=1 << 62))
                for copy in copies
            ]
            for name, data in stats.items()
            for number, copies in data["shards"].items()
        }

    def delete(self, post_ids: Iterable[str]) -> int:
        # The alias names one index at a time, so deletes can go through it.
        return self._erase({"_op_type": "delete", "_index": self.alias, "_id": doc_id(post_id)} for post_id in post_ids)

    def _erase(self, actions: Iterable[dict]) -> int:
        deleted = 0
        for ok, info in streaming_bulk(self.es, actions, raise_on_error=False, max_retries=3, refresh=True):
            if ok:
                deleted += 1
            elif info["delete"].get("status") != 404:  # already gone is what was asked
                logger.error("elasticsearch: could not erase %s: %s", info["delete"].get("_id"), info["delete"].get("error"))
        return deleted

    # -- reads -----------------------------------------------------------

    def get(self, post_id: str) -> IndexedPost | None:
        try:
            hit = self.es.get(index=self.alias, id=doc_id(post_id))
        except NotFoundError:
            return None
        return load(hit["_source"])

    def count(self, query: SearchQuery | None = None) -> int:
        return self.es.count(index=self.alias, query=build_query(query or SearchQuery()))["count"]

    def search(self, query: SearchQuery) -> SearchResult:
        aggs = {
            name: {"terms": {"field": name, "size": 100, "order": [{"_count": "desc"}, {"_key": "asc"}]}}
            for name in query.facets
        }
        response = self.es.search(
            index=self.alias,
            query=build_query(query),
            sort=SORTS[query.effective_sort],
            from_=query.offset,
            size=query.limit,
            track_total_hits=True,
            aggs=aggs or None,
            source_includes=RECORD_FIELDS,
        )
        facets = {
            name: [(b["key_as_string"] if "key_as_string" in b else b["key"], b["doc_count"]) for b in agg["buckets"]]
            for name, agg in (response.get("aggregations") or {}).items()
        }
        hits = [load(hit["_source"]) for hit in response["hits"]["hits"]]
        return SearchResult(total=response["hits"]["total"]["value"], hits=hits, facets=facets)

    def scan(self, query: SearchQuery) -> Iterator[IndexedPost]:
        return self._scan(build_query(query))

    def iter_feedback(self) -> Iterator[IndexedPost]:
        return self._scan({"exists": {"field": "feedback_labels"}})

    def _scan(self, query: dict) -> Iterator[IndexedPost]:
        hits = scan(self.es, index=self.alias, query={"query": query}, source_includes=RECORD_FIELDS, size=1000)
        for hit in hits:
            yield load(hit["_source"])

    def _histogram(self, query: SearchQuery, interval: str, by: str | None) -> list[tuple[datetime, str | None, int]]:
        # Calendar buckets in UTC; Elasticsearch's weeks start on Monday, like SQLite's here.
        dates = {"date_histogram": {"field": "created_at", "calendar_interval": CALENDAR_INTERVALS[interval], "min_doc_count": 1}}
        if by is None:
            aggs = {"dates": dates}
        else:
            aggs = {"values": {"terms": {"field": by, "size": 1000}, "aggs": {"dates": dates}}}
        response = self.es.search(index=self.alias, query=build_query(query), size=0, aggs=aggs)
        groups = response["aggregations"]["values"]["buckets"] if by else [{"key": None, "dates": response["aggregations"]["dates"]}]
        rows = [
            (datetime.fromtimestamp(bucket["key"] / 1000, tz=timezone.utc), group["key"], bucket["doc_count"])
            for group in groups
            for bucket in group["dates"]["buckets"]
        ]
        return sorted(rows, key=lambda row: (row[0], row[1] or ""))


def _reason(error: object, fallback: object) -> str:
    """One line from an Elasticsearch error: its type and reason, and the cause's."""
    if isinstance(error, dict) and "error" in error and isinstance(error["error"], dict):
        error = error["error"]
    if not isinstance(error, dict):
        return _short(error or fallback)
    text = f"{error.get('type', 'error')}: {_short(error.get('reason', ''))}"
    cause = error.get("caused_by")
    if isinstance(cause, dict):
        text += f" (caused by {cause.get('type')}: {_short(cause.get('reason'))})"
    return text


def _short(text: object, limit: int = 300) -> str:
    """Reasons quote the document id, which may be 40 KB long."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "…"


def crawl_fields(item: IndexedPost) -> dict:
    """Everything a re-crawl may overwrite: the post, its analysis and thread state."""
    post, analysis = item.post, item.analysis
    return {
        "id": post.id,
        "source": post.source,
        "author": post.author,
        "author_name": post.author_name,
        "title": post.title,
        "text": post.text,
        "created_at": format_time(post.created_at),
        "first_reply_at": format_time(post.first_reply_at) if post.first_reply_at else None,
        "language": analysis.language,
        "entity": list(analysis.entities),
        "role": sorted({m.role for m in analysis.mentions}),
        "intent": list(analysis.intents),
        "customer_status": analysis.customer_status,
        "lead_score": analysis.lead_score,
        "surface": analysis.surface,
        "answer_state": item.answer_state,
        "post": post.to_dict(),
        "analysis": analysis.to_dict(),
    }


def workflow_fields(workflow: Workflow) -> dict:
    return {
        "status": workflow.status,
        "assignee": workflow.assignee,
        "version": workflow.version,
        "workflow": workflow.to_dict(),
    }


NEW_WORKFLOW = json.dumps(workflow_fields(Workflow())).encode()  # what every new post starts with, as sent


def feedback_fields(records: list[dict]) -> dict:
    """The stored feedback, and the labels it covers (what finds the posts that have feedback)."""
    return {"feedback": records, "feedback_labels": sorted({label for item in records for label in item["labels"]})}


def load(source: dict) -> IndexedPost:
    return IndexedPost(
        post=Post.from_dict(source["post"]),
        analysis=Analysis.from_dict(source["analysis"]),
        answer_state=source.get("answer_state") or "unknown",
        workflow=Workflow.from_dict(source.get("workflow") or {}),
        feedback=tuple(Feedback.from_dict(item) for item in source.get("feedback") or ()),
    )


def build_query(query: SearchQuery) -> dict:
    must, filters = [], []
    if query.text.strip():
        must.append({"multi_match": {"query": query.text, "fields": SEARCH_FIELDS, "type": "most_fields", "operator": "and"}})
    for name, values in query.filters.items():
        if values:
            filters.append({"terms": {name: list(values)}})
    if query.surface is not None:
        filters.append({"term": {"surface": query.surface}})
    if query.since or query.until:
        bounds = {}
        if query.since:
            bounds["gte"] = format_time(query.since)
        if query.until:
            bounds["lt"] = format_time(query.until)
        filters.append({"range": {"created_at": bounds}})
    if not must and not filters:
        return {"match_all": {}}
    return {"bool": {"must": must, "filter": filters}}

