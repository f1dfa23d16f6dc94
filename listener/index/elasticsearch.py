"""The Elasticsearch backend, for teams and for analysts' searches.

Posts live in a versioned index (``<alias>-v<N>``) behind an alias; a new
schema version is built beside the old one, filled with ``_reindex`` and put
live by swapping the alias in one atomic call.

Feedback is kept in the post's document, outside what a re-crawl writes, and
added by a read and a write conditional on the document's sequence number, so
that a concurrent re-crawl or second feedback is never lost.

Error policy: bulk writes go through ``streaming_bulk`` with retries of
rejected items, and every item's outcome is read, so a failed post is reported
in the :class:`WriteResult` instead of being dropped or failing the batch. An
unreachable cluster raises :class:`BackendError` at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone

from elasticsearch import ApiError, ConflictError, Elasticsearch, NotFoundError, TransportError
from elasticsearch.helpers import scan, streaming_bulk

from listener import errors
from listener.config import secret
from listener.errors import BackendError
from listener.index.base import BaseBackend, SearchQuery, SearchResult, WriteResult
from listener.index.es_schema import SCHEMA_VERSION, index_body
from listener.records import Analysis, Feedback, IndexedPost, Post, Workflow, format_time

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


class ElasticsearchBackend(BaseBackend):
    name = "elasticsearch"

    def __init__(self, client: Elasticsearch, alias: str = "listener-posts"):
        self.es = client
        self.alias = alias

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
        actions = (self._upsert_action(item) for item in items)
        try:
            for ok, info in streaming_bulk(
                self.es,
                actions,
                chunk_size=500,
                max_retries=3,
                initial_backoff=1,
                raise_on_error=False,
                raise_on_exception=False,
            ):
                outcome = info.get("update", {})
                if ok:
                    result.indexed.append(outcome["_id"])
                else:
                    error = outcome.get("error", info)
                    reason = error.get("reason", str(error)) if isinstance(error, dict) else str(error)
                    result.failed.append((outcome.get("_id", "?"), reason))
        except TransportError as exc:
            raise BackendError(f"Elasticsearch at {self._where()} is unreachable: {exc}") from None
        return result

    def _upsert_action(self, item: IndexedPost) -> dict:
        fields = crawl_fields(item)
        return {
            "_op_type": "update",
            "_index": self.alias,
            "_id": item.id,
            "doc": fields,
            "upsert": {**fields, **workflow_fields(Workflow())},
        }

    def _replace_workflow(self, post_id: str, expected_version: int, workflow: Workflow) -> bool:
        try:
            current = self.es.get(index=self.alias, id=post_id, source_includes=["version"])
        except NotFoundError:
            return False
        if current["_source"].get("version", 0) != expected_version:
            return False
        try:
            self.es.update(
                index=self.alias,
                id=post_id,
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
                current = self.es.get(index=self.alias, id=post_id, source_includes=["feedback"])
            except NotFoundError:
                raise errors.NotFoundError(f"no post with id {post_id!r}") from None
            stored = current["_source"].get("feedback") or []
            if any(Feedback.from_dict(item) == feedback for item in stored):
                return False
            try:
                self.es.update(
                    index=self.alias,
                    id=post_id,
                    doc=feedback_fields([*stored, record]),
                    if_seq_no=current["_seq_no"],
                    if_primary_term=current["_primary_term"],
                )
            except ConflictError:
                continue  # changed since it was read: read it again
            return True
        raise BackendError(f"could not add feedback to {post_id}: it changed {FEEDBACK_ATTEMPTS} times while being written")

    def delete_by_author(self, author: str) -> int:
        hits = scan(self.es, index=self.alias, query={"query": {"term": {"author": author}}}, _source=False)
        actions = ({"_op_type": "delete", "_index": hit["_index"], "_id": hit["_id"]} for hit in hits)
        deleted = 0
        for ok, info in streaming_bulk(self.es, actions, raise_on_error=False, max_retries=3, refresh=True):
            if ok:
                deleted += 1
            else:
                logger.error("elasticsearch: could not erase %s: %s", info["delete"].get("_id"), info["delete"].get("error"))
        return deleted

    # -- reads -----------------------------------------------------------

    def get(self, post_id: str) -> IndexedPost | None:
        try:
            hit = self.es.get(index=self.alias, id=post_id)
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

