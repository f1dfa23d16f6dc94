"""Labelled files: ids and labels of real posts, their texts read from the sources' files."""

import pytest

from nlp.corpus import CorpusError, labelled_ids, read_labelled


def test_a_labelled_file_names_its_posts_whether_or_not_their_texts_are_here(tmp_path):
    path = tmp_path / "labels.jsonl"
    path.write_text('{"id": "us-airline:1", "labels": {}}\n\n{"id": "nowhere:2", "text": "hola", "labels": {"sector": false}}\n')
    assert labelled_ids([path]) == {"us-airline:1", "nowhere:2"}
    assert [data["id"] for data in read_labelled(path) if data["id"] == "nowhere:2"] == ["nowhere:2"]


@pytest.mark.parametrize("line, problem", [('{"labels": {}}', "KeyError"), ('{"id": "x:1", "labels": []}', "field 'labels'"),
                                           ("not json", "JSONDecodeError")])
def test_a_bad_line_is_an_error_naming_the_file_and_line(tmp_path, line, problem):
    path = tmp_path / "labels.jsonl"
    path.write_text('{"id": "x:0", "text": "hola", "labels": {}}\n' + line + "\n")
    for read in (lambda: labelled_ids([path]), lambda: list(read_labelled(path))):
        with pytest.raises(CorpusError, match=f"labels.jsonl:2: .*{problem}"):
            read()
