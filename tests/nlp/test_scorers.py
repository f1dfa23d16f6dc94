import pytest

from nlp.scorers import SCORERS, UnknownScorerError, get_scorer


def test_unknown_scorer_error_lists_the_choices():
    with pytest.raises(UnknownScorerError, match="osa, damerau, levenshtein, ratio"):
        get_scorer("jaro")


@pytest.mark.parametrize("name", sorted(SCORERS))
def test_every_scorer_reports_zero_to_one_hundred(name):
    scorer = get_scorer(name)
    assert scorer.score("ryanair", "ryanair", cutoff=0) == pytest.approx(100)
    assert 0 <= scorer.score("xxxxxxx", "ryanair", cutoff=0) < 50


def test_osa_counts_a_swap_as_one_edit():
    assert get_scorer("osa").score("cinsea", "cinesa", cutoff=0) == pytest.approx(100 * 5 / 6)


def test_scores_below_the_cutoff_are_zero():
    assert get_scorer("osa").score("vuelo", "vueling", cutoff=80) == 0
