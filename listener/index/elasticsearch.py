"""The Elasticsearch backend, for teams and for analysts' searches.

Posts live in numbered indices behind a read alias (``<alias>``) and a write
alias (``<alias>-write``), made from an index template, rolled over when old
or big enough and rebuilt by a reindex that moves both aliases in one atomic
call (see :mod:`listener.index.es_layout`). A post stays in the index that
first took it: re-crawls, the team's edits and erasures find it there by id.

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
from contextlib import contextmanager
from datetime import datetime, timezone

from elasticsearch import ApiError, ConflictError, ConnectionTimeout, Elasticsearch, NotFoundError, TransportError
from elasticsearch.helpers import scan, streaming_bulk

from listener import errors
from listener.config import secret
from listener.errors import BackendError
from listener.index.base import BaseBackend, SearchQuery, SearchResult, WriteResult
from listener.index.es_layout import Layout, ReindexReport
from listener.index.es_schema import SCHEMA_VERSION, index_body
from listener.records import Analysis, Feedback, IndexedPost, Post, Workflow, format_time
from listener.suppression import Handles, handle_key

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
MOVED_ATTEMPTS = 3  # a workflow write that found its post's old index read-only or gone after a reindex
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
                 bulk_bytes: int = BULK_BYTES, backoff: float = 1.0,
                 shards: int = 1, replicas: int | None = None, rollover: dict | None = None):
        self.es = client
        self.alias = alias
        self.bulk_docs = bulk_docs
        self.bulk_bytes = bulk_bytes
        self.backoff = backoff
        self.shards, self.replicas = shards, replicas
        self.rollover_conditions = rollover or {}
        self.layout = Layout(client, alias)

    @classmethod
    def from_config(cls, config) -> ElasticsearchBackend:
        options = {"request_timeout": 30, "retry_on_timeout": True, "max_retries": 3}
        api_key = secret(config.index.api_key_env)
        username, password = secret(config.index.username_env), secret(config.index.password_env)
        if api_key:
            options["api_key"] = api_key
        elif username and password:
            options["basic_auth"] = (username, password)
        index = config.index
        return cls(Elasticsearch(index.url, **options), alias=index.index, shards=index.shards,
                   replicas=index.replicas, rollover=index.rollover.conditions)

    @property
    def write_alias(self) -> str:
        return self.layout.write_alias

    def indices(self) -> list[str]:
        """Every index holding posts of this alias, behind the aliases or kept after a reindex."""
        return self.layout.indices()

    # -- schema ----------------------------------------------------------

    def ensure_schema(self) -> None:
        """Put the index template in place and the aliases on their indices, adopting or rebuilding older ones."""
        with self._setup_errors():
            body = index_body(self._flavour(), self.shards, self.replicas)
            self.layout.put_template(body)
            self.layout.settle(SCHEMA_VERSION, {k: v for k, v in body["settings"].items() if k.endswith("_replicas")})

    def rollover(self) -> str | None:
        """Start a new write index if the current one meets ``index.rollover``; returns its name, or None."""
        with self._setup_errors():
            return self.layout.rollover(self.rollover_conditions)

    def reindex(self, delete_old: bool = False, progress=lambda step: None) -> ReindexReport:
        """Rebuild every backing index with the current mapping and settings, then move both aliases at once."""
        with self._setup_errors():
            self.layout.put_template(index_body(self._flavour(), self.shards, self.replicas))
            return self.layout.reindex(delete_old=delete_old, progress=progress)

    @contextmanager
    def _setup_errors(self) -> Iterator[None]:
        try:
            yield
        except TransportError as exc:
            raise BackendError(f"Elasticsearch at {self._where()} is unreachable: {exc}") from None
        except ApiError as exc:
            raise BackendError(f"Elasticsearch refused the index setup for {self.alias!r}: {_reason(exc.body, exc)}") from None

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
        """Create the posts the index does not have yet; update the others where they live, keeping their workflow and feedback."""
        latest = dict(chunk)  # a post given twice is written once, as last given
        where = self._holding(list(latest))
        result = self._write([
            (post_id, self._update_operation(post_id, document, where[post_id]) if post_id in where
             else self._create_operation(post_id, document))
            for post_id, document in latest.items()
        ])
        # Created by another writer, or written moments ago and not yet searchable: updated instead.
        raced = {post_id for post_id, reason in result.failed if reason.startswith("version_conflict_engine_exception")}
        if raced:
            result.failed = [failure for failure in result.failed if failure[0] not in raced]
            result += self._write([(post_id, self._update_operation(post_id, latest[post_id], self.write_alias)) for post_id in raced])
        if len(latest) < len(chunk):
            written = set(result.indexed)
            result.indexed = [post_id for post_id, _ in chunk if post_id in written]
        return result

    def _holding(self, post_ids: list[str]) -> dict[str, str]:
        """The backing index of each of ``post_ids`` the read alias already has: one search by id.

        A post written moments ago and not yet searchable is missed; its create
        then conflicts and is sent again as an update to the write index, which holds it.
        """
        try:
            hits = self.es.search(index=self.alias, query={"ids": {"values": [doc_id(post_id) for post_id in post_ids]}},
                                  size=2 * len(post_ids), source=False, filter_path="hits.hits._id,hits.hits._index")
        except TransportError as exc:
            raise BackendError(f"Elasticsearch at {self._where()} could not say which posts it has: {exc}") from None
        index_of = {hit["_id"]: hit["_index"] for hit in hits.body.get("hits", {}).get("hits", [])}
        return {post_id: index_of[doc_id(post_id)] for post_id in post_ids if doc_id(post_id) in index_of}

    def _create_operation(self, post_id: str, document: bytes) -> bytes:
        """The NDJSON lines that add a new post to the write index, with the workflow every post starts with."""
        action = json.dumps({"create": {"_index": self.write_alias, "_id": doc_id(post_id)}}).encode()
        return action + b"\n" + document[:-1] + b", " + NEW_WORKFLOW[1:] + b"\n"

    def _update_operation(self, post_id: str, document: bytes, index: str) -> bytes:
        """The NDJSON lines that refresh what a crawl gives of a post in ``index``, or add it there if it is gone."""
        action = json.dumps({"update": {"_index": index, "_id": doc_id(post_id)}}).encode()
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
    # -- where a post lives --------------------------------------------------

    def _located(self, post_id: str, **fields) -> dict | None:
        """The post's document as ``get`` returns it (``_index``, ``_seq_no``, ``_primary_term``), read in real time."""
        try:
            return self.es.get(index=self.write_alias, id=doc_id(post_id), **fields).body
        except NotFoundError:
            pass
        hits = self.es.search(index=self.alias, query={"ids": {"values": [doc_id(post_id)]}}, size=1, source=False,
                              filter_path="hits.hits._index")
        found = hits.body.get("hits", {}).get("hits", [])
        if not found:
            return None
        try:
            return self.es.get(index=found[0]["_index"], id=doc_id(post_id), **fields).body
        except NotFoundError:
            return None

    def _replace_workflow(self, post_id: str, expected_version: int, workflow: Workflow) -> bool:
        for _ in range(MOVED_ATTEMPTS):
            current = self._located(post_id, source_includes=["version"])
            if current is None or current["_source"].get("version", 0) != expected_version:
                return False
            try:
                self.es.update(
                    index=current["_index"],
                    id=doc_id(post_id),
                    doc=workflow_fields(workflow),
                    if_seq_no=current["_seq_no"],
                    if_primary_term=current["_primary_term"],
                    refresh=True,
                )
            except ConflictError:
                return False
            except ApiError as exc:
                if not _moved(exc):
                    raise
                continue  # a reindex moved it: find it again
            return True
        return False

    def add_feedback(self, post_id: str, feedback: Feedback) -> bool:
        record = feedback.to_dict()
        for _ in range(FEEDBACK_ATTEMPTS):
            current = self._located(post_id, source_includes=["feedback"])
            if current is None:
                raise errors.NotFoundError(f"no post with id {post_id!r}")
            stored = current["_source"].get("feedback") or []
            if any(Feedback.from_dict(item) == feedback for item in stored):
                return False
            try:
                self.es.update(
                    index=current["_index"],
                    id=doc_id(post_id),
                    doc=feedback_fields([*stored, record]),
                    if_seq_no=current["_seq_no"],
                    if_primary_term=current["_primary_term"],
                )
            except ConflictError:
                continue  # changed since it was read: read it again
            except ApiError as exc:
                if not _moved(exc):
                    raise
                continue  # a reindex moved it: find it again
            return True
        raise BackendError(f"could not add feedback to {post_id}: it changed {FEEDBACK_ATTEMPTS} times while being written")

    def posts_by(self, handle: str) -> list[str]:
        key = handle_key(handle)
        spellings = [{"term": {"author": {"value": value, "case_insensitive": True}}} for value in (key, f"@{key}")]
        query = {"query": {"bool": {"should": spellings, "minimum_should_match": 1}}}
        hits = scan(self.es, index=self.alias, query=query, source_includes=["id", "author"])
        return [hit["_source"]["id"] for hit in hits if handle_key(hit["_source"].get("author") or "") == key]

    def mentioning(self, handle: str, index: str | None = None) -> Iterator[IndexedPost]:
        """Posts of the read alias (or of ``index``) that may mention ``handle``."""
        key = handle_key(handle)
        index = index or self.alias
        words = {"multi_match": {"query": key, "fields": ["text", "title"], "operator": "and"}}
        where = {hit["_id"]: hit["_index"] for hit in scan(self.es, index=index, query={"query": words}, _source=False)}
        # Repliers and notes are stored, not indexed: read just those fields of every post.
        small = scan(self.es, index=index, query={"query": {"match_all": {}}}, size=1000,
                     source_includes=["post.replied_by", "workflow.notes.text", "workflow.reply_draft"])
        where |= {hit["_id"]: hit["_index"] for hit in small
                  if key in json.dumps(hit.get("_source") or {}, ensure_ascii=False).casefold()}
        ordered = sorted(where)
        for start in range(0, len(ordered), 500):
            docs = [{"_index": where[i], "_id": i} for i in ordered[start:start + 500]]
            response = self.es.mget(docs=docs, source_includes=RECORD_FIELDS)
            yield from (load(hit["_source"]) for hit in response["docs"] if hit.get("found"))

    def redact_mentions(self, handle: str) -> int:
        changed = super().redact_mentions(handle)
        # Old indices kept by a reindex are outside the aliases: their copies are rewritten in place.
        kept = sorted(set(self.indices()) - set(self.layout.read_indices()))
        handles = Handles.of(handle)
        with self.layout.writable(kept):
            for index in kept:
                rewrites = ({"_op_type": "index", "_index": index, "_id": doc_id(new.id), "_source": stored_fields(new)}
                            for doc in list(self.mentioning(handle, index)) if (new := handles.redact_document(doc)) is not doc)
                for ok, info in streaming_bulk(self.es, rewrites, raise_on_error=False, max_retries=3, refresh=True):
                    if not ok:
                        raise BackendError(f"could not redact {info['index'].get('_id')} in {index}: {info['index'].get('error')}")
        return changed

    def purge(self, patience: float = PURGE_PATIENCE) -> None:
        """Expunge deleted and replaced documents from every segment of every index of the alias.

        Elasticsearch keeps them (soft deletes) while a shard's retention lease
        may still need them, until the lease moves past them (about 30 s);
        then a force merge with ``only_expunge_deletes`` rewrites the segments
        that hold any, the threshold lowered from 10 % to 0 so that one is enough.
        """
        index = ",".join(self.indices())
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
        """Delete every copy: from the write index by id (in real time), and wherever a search by id finds one,
        in older backing indices and those kept after a reindex."""
        ids = sorted({doc_id(post_id) for post_id in post_ids})
        if not ids:
            return 0
        names = self.indices()
        self.es.indices.refresh(index=",".join(names))
        targets = {(self.write_alias, i) for i in ids}
        for start in range(0, len(ids), 1000):
            query = {"query": {"ids": {"values": ids[start:start + 1000]}}}
            targets |= {(hit["_index"], hit["_id"]) for hit in scan(self.es, index=",".join(names), query=query, _source=False)}
        with self.layout.writable(sorted({index for index, _ in targets} - {self.write_alias})):
            return len(self._erase({"_op_type": "delete", "_index": index, "_id": i} for index, i in sorted(targets)))

    def _erase(self, actions: Iterable[dict]) -> set[str]:
        """The ids of the documents deleted."""
        deleted = set()
        for ok, info in streaming_bulk(self.es, actions, raise_on_error=False, max_retries=3, refresh=True):
            if ok:
                deleted.add(info["delete"]["_id"])
            elif info["delete"].get("status") != 404:  # already gone is what was asked
                logger.error("elasticsearch: could not erase %s: %s", info["delete"].get("_id"), info["delete"].get("error"))
        return deleted

    # -- reads -----------------------------------------------------------

    def get(self, post_id: str) -> IndexedPost | None:
        hit = self._located(post_id)
        return load(hit["_source"]) if hit else None

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


def _moved(exc: ApiError) -> bool:
    """The index a post was found in is read-only or gone: a reindex moved the aliases meanwhile."""
    kind = _reason(exc.body, exc)
    return kind.startswith(("cluster_block_exception", "index_not_found_exception"))


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


def stored_fields(item: IndexedPost) -> dict:
    """The whole document of a post, workflow and feedback included."""
    return {**crawl_fields(item), **workflow_fields(item.workflow), **feedback_fields([f.to_dict() for f in item.feedback])}


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

