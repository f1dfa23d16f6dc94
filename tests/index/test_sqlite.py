import pytest

from listener.index.base import SearchQuery
from listener.index.sqlite import SQLiteBackend
from tests.factories import doc
from tests.index.contract import BackendContract


@pytest.fixture
def backend(tmp_path):
    backend = SQLiteBackend(tmp_path / "index.db")
    backend.ensure_schema()
    yield backend
    backend.close()


class TestSQLiteBackend(BackendContract):
    @pytest.mark.xfail(reason="FTS5's unicode61 tokenizer folds accents but does not stem", strict=True)
    def test_search_finds_spanish_inflections(self, backend):
        super().test_search_finds_spanish_inflections(backend)


def test_index_survives_reopening(tmp_path):
    path = tmp_path / "index.db"
    with SQLiteBackend(path) as first:
        first.ensure_schema()
        first.upsert([doc("persistente")])
    with SQLiteBackend(path) as second:
        second.ensure_schema()
        assert second.search(SearchQuery(text="persistente")).total == 1
