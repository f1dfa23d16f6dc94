"""Where the Elasticsearch backend's posts live: numbered indices behind two aliases.

    <alias>            the read alias: every backing index (searches, counts, reads)
    <alias>-write      the write alias: the newest backing index, where new posts go
    <alias>-000001 …   the backing indices, made from the index template <alias>

A rollover starts the next numbered index when the write index is old or big
enough (:meth:`Layout.rollover`); a post stays in the index that first took it,
so re-crawls and the team's edits go to that index. A reindex
(:meth:`Layout.reindex`) copies every backing index into a new one built from
the current template, copies again what changed meanwhile (by sequence
number), and moves both aliases in one atomic call, so searches never see
half of it. Indices from before the aliases (a plain ``<alias>`` index, or
``<alias>-v<N>`` behind the alias) are adopted by :meth:`Layout.settle`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain

from elasticsearch import BadRequestError, Elasticsearch, NotFoundError
from elasticsearch.helpers import scan, streaming_bulk

from listener.errors import BackendError
from listener.index.es_schema import schema_of

logger = logging.getLogger(__name__)

WRITE_SUFFIX = "-write"
TEMPLATE_PRIORITY = 500
CATCH_UP_PASSES = 5  # copies of what changed during the copy before the aliases move anyway
COPY_CHUNK = 500


@dataclass
class ReindexReport:
    sources: list[str]
    targets: list[str]
    posts: int = 0
    deleted: bool = False

    def summary(self) -> str:
        kept = "deleted" if self.deleted else "kept, read-only, outside the aliases"
        return (f"Reindexed {self.posts} post(s) from {', '.join(self.sources)} into {', '.join(self.targets)}; "
                f"the read and write aliases now point at the new indices; the old ones are {kept}.")


@dataclass
class Layout:
    es: Elasticsearch
    alias: str
    numbered: re.Pattern = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.numbered = re.compile(re.escape(self.alias) + r"-(\d{6,})")

    @property
    def write_alias(self) -> str:
        return self.alias + WRITE_SUFFIX

    # -- what is there ---------------------------------------------------------

    def read_indices(self) -> list[str]:
        return self._aliased(self.alias)

    def write_index(self) -> str | None:
        names = self._aliased(self.write_alias)
        return names[0] if names else None

    def _aliased(self, alias: str) -> list[str]:
        try:
            return sorted(self.es.indices.get_alias(name=alias).body)
        except NotFoundError:
            return []

    def indices(self) -> list[str]:
        """Every index of this alias: behind it, kept after a reindex, or being built by one."""
        found = self.es.indices.get(index=f"{self.alias}-0*,{self.alias}-v*", allow_no_indices=True,
                                    ignore_unavailable=True, expand_wildcards="open,closed", filter_path="*.settings.index.uuid")
        return sorted(set(found.body or {}) | set(self.read_indices()))

    @contextmanager
    def writable(self, names: list[str]) -> Iterator[None]:
        """Lift the write block of old indices kept after a reindex meanwhile (an erasure reaches them too)."""
        if not names:
            yield
            return
        settings = self.es.indices.get_settings(index=",".join(names), name="index.blocks.write").body
        blocked = [name for name, data in settings.items()
                   if str(data["settings"].get("index", {}).get("blocks", {}).get("write")).lower() == "true"]
        if blocked:
            self.es.indices.put_settings(index=",".join(blocked), settings={"index.blocks.write": False})
        try:
            yield
        finally:
            if blocked:
                self.es.indices.put_settings(index=",".join(blocked), settings={"index.blocks.write": True})

    def next_name(self, after: int = 0) -> str:
        numbers = [int(match.group(1)) for name in self.indices() if (match := self.numbered.fullmatch(name))]
        return f"{self.alias}-{max(numbers + [after]) + 1:06d}"

    def schemas(self, names: list[str]) -> dict[str, int]:
        mappings = self.es.indices.get_mapping(index=",".join(names)).body
        return {name: schema_of(name, mappings.get(name, {}).get("mappings", {})) for name in names}

    def _plain_index(self) -> bool:
        """An index named like the alias itself, from before the aliases."""
        return bool(self.es.indices.exists(index=self.alias)) and not self.read_indices()

    # -- setting up ------------------------------------------------------------

    def put_template(self, body: dict) -> None:
        """New indices of this alias (rollover, reindex) get these settings and mapping."""
        self.es.indices.put_index_template(name=self.alias, index_patterns=[f"{self.alias}-0*"], template=body,
                                           priority=TEMPLATE_PRIORITY, meta={"description": "listener posts"})

    def settle(self, schema_version: int, copies: dict) -> str:
        """Make the aliases right, adopting or rebuilding older layouts; returns what was done."""
        if self._plain_index():
            return self.reindex().summary()
        backing, writing = self.read_indices(), self.write_index()
        if not backing:
            try:
                self.es.indices.create(index=self.next_name(), aliases={self.alias: {}, self.write_alias: {}})
            except BadRequestError as exc:
                if _error_type(exc) != "resource_already_exists_exception":  # another process did it first
                    raise
            return "created"
        if any(version < schema_version for version in self.schemas(backing).values()):
            return self.reindex().summary()
        if writing is None:  # one index behind the alias, from before the write alias: adopt it as it is
            self.es.indices.update_aliases(actions=[{"add": {"index": backing[-1], "alias": self.write_alias}}])
            logger.info("elasticsearch: %s adopted as the write index of %s", backing[-1], self.alias)
            self._apply_copies(backing, copies)
            return "adopted"
        self._apply_copies(backing, copies)
        return "current"

    def _apply_copies(self, names: list[str], copies: dict) -> None:
        """Give existing indices the configured replicas (shards only change for new indices)."""
        settings = self.es.indices.get_settings(index=",".join(names), name="index.*_replicas").body
        wanted = {"auto_expand_replicas": copies.get("auto_expand_replicas", "false")}
        if "number_of_replicas" in copies:
            wanted["number_of_replicas"] = str(copies["number_of_replicas"])
        stale = [name for name, data in settings.items()
                 if any(str(data["settings"]["index"].get(key, "false")) != value for key, value in wanted.items())]
        if stale:
            self.es.indices.put_settings(index=",".join(stale), settings=wanted)

    # -- rollover --------------------------------------------------------------

    def rollover(self, conditions: dict) -> str | None:
        """Start the next backing index if the write index meets a condition; returns its name, or None."""
        if not conditions:
            return None
        new = self.next_name()
        try:
            response = self.es.indices.rollover(alias=self.write_alias, new_index=new, conditions=conditions,
                                                aliases={self.alias: {}})
        except BadRequestError as exc:
            if _error_type(exc) == "resource_already_exists_exception":  # another process rolled over just now
                return None
            raise
        if not response["rolled_over"]:
            return None
        # What reached the old index just before the alias moved is found by id from now on.
        self.es.indices.refresh(index=response["old_index"])
        logger.info("elasticsearch: rolled over from %s to %s", response["old_index"], new)
        return new

    # -- reindex ---------------------------------------------------------------

    def reindex(self, delete_old: bool = False, progress: Callable[[str], None] = lambda step: None) -> ReindexReport:
        """Copy every backing index into a new one from the current template and move the aliases to them."""
        plain = self._plain_index()
        writing = self.write_index()
        sources = [self.alias] if plain else sorted(self.read_indices(), key=lambda name: (name == writing, name))
        if not sources:
            raise BackendError(f"there is no index behind {self.alias!r} to reindex")
        targets: list[str] = []
        number = 0
        for _ in sources:
            name = self.next_name(after=number)
            number = int(self.numbered.fullmatch(name).group(1))
            self.es.indices.create(index=name)
            targets.append(name)
        pairs = list(zip(sources, targets))
        report = ReindexReport(sources, targets)
        try:
            progress("created")
            marks = {}
            for source, target in pairs:
                marks[source] = self._copy(source, target, None)[1]
            progress("copied")
            for _ in range(CATCH_UP_PASSES):
                if not self._catch_up(pairs, marks):
                    break
            if plain:  # it goes in the same call that adds the aliases: stop its writes and copy the last ones
                self.es.indices.put_settings(index=self.alias, settings={"index.blocks.write": True})
                self._catch_up(pairs, marks)
            self.es.indices.refresh(index=",".join(targets))
            report.posts = sum(self.es.count(index=target)["count"] for target in targets)
        except BaseException:
            self.es.indices.delete(index=",".join(targets), ignore_unavailable=True)
            if plain:
                self.es.indices.put_settings(index=self.alias, settings={"index.blocks.write": None})
            raise
        self.es.indices.update_aliases(actions=self._swap(sources, targets, plain, writing))
        progress("swapped")
        if not plain:
            # Writes aimed at the old indices just before the swap, then no more.
            self._catch_up(pairs, marks)
            self.es.indices.put_settings(index=",".join(sources), settings={"index.blocks.write": True})
            self._catch_up(pairs, marks)
            self.es.indices.refresh(index=",".join(targets))
            if delete_old:
                self.es.indices.delete(index=",".join(sources))
                report.deleted = True
        else:
            report.deleted = True
        progress("done")
        logger.info("elasticsearch: %s", report.summary())
        return report

    def _swap(self, sources: list[str], targets: list[str], plain: bool, writing: str | None) -> list[dict]:
        if plain:
            actions: list[dict] = [{"remove_index": {"index": self.alias}}]
        else:
            actions = [{"remove": {"index": source, "alias": self.alias}} for source in sources]
            if writing:
                actions.append({"remove": {"index": writing, "alias": self.write_alias}})
        actions += [{"add": {"index": target, "alias": self.alias}} for target in targets]
        actions.append({"add": {"index": targets[-1], "alias": self.write_alias}})
        return actions

    def _catch_up(self, pairs: list[tuple[str, str]], marks: dict[str, dict[int, int]]) -> int:
        """Copy again what changed in the sources since their marks; returns how many documents changed."""
        changed = 0
        for source, target in pairs:
            copied, marks[source] = self._copy(source, target, marks[source])
            changed += copied
        return changed

    def _copy(self, source: str, target: str, since: dict[int, int] | None) -> tuple[int, dict[int, int]]:
        """Copy ``source``'s documents (those past ``since`` per shard) into ``target``, keeping their versions.

        Returns how many were written and the marks to copy from next time. A
        document the target already has in this version or a newer one (a
        write through the new aliases) is left alone.
        """
        marks = self._checkpoints(source)
        self.es.indices.refresh(index=source)  # everything up to the marks is searchable now
        if since is None:
            hits: Iterator[dict] = scan(self.es, index=source, query={"query": {"match_all": {}}}, size=COPY_CHUNK, version=True)
        else:
            hits = chain.from_iterable(
                scan(self.es, index=source, query={"query": {"range": {"_seq_no": {"gt": mark}}}}, size=COPY_CHUNK,
                     version=True, preference=f"_shards:{shard}")
                for shard, mark in since.items()
            )
        copies = ({"_op_type": "index", "_index": target, "_id": hit["_id"], "_source": hit["_source"],
                   "version": hit["_version"], "version_type": "external"} for hit in hits)
        written = 0
        for ok, info in streaming_bulk(self.es, copies, chunk_size=COPY_CHUNK, raise_on_error=False, max_retries=3):
            if ok:
                written += 1
            elif info["index"].get("status") != 409:
                raise BackendError(f"copying {source} to {target} failed on {info['index'].get('_id')}: {info['index'].get('error')}")
        return written, marks

    def _checkpoints(self, index: str) -> dict[int, int]:
        """Per shard, the sequence number up to which every copy has applied every write."""
        stats = self.es.indices.stats(index=index, level="shards", metric="docs")["indices"]
        shards = next(iter(stats.values()))["shards"]
        return {int(number): min(copy["seq_no"]["local_checkpoint"] for copy in copies) for number, copies in shards.items()}


def _error_type(exc: BadRequestError) -> str:
    error = exc.body.get("error") if isinstance(exc.body, dict) else None
    return error.get("type", "") if isinstance(error, dict) else ""
