"""How a newest-first listing tells its cursor: after each page is delivered, in page order, with a gap when cut short."""

from spiders.progress import Gap, Listing, lower_bound


def listing(cursor=None, after=None):
    told = []
    return Listing("q", cursor, lambda key, value: told.append(value), after), told


def test_a_page_is_told_only_once_its_posts_are_delivered():
    progress, told = listing(after="100")
    progress.page(["a", "b"], "150", "200")
    progress.delivered("a")
    assert told == []
    progress.delivered("b")
    assert Gap.parse(told[-1]) == Gap("100", "150", "200")


def test_a_later_page_delivered_first_waits_for_the_earlier_one():
    progress, told = listing(after="100")
    progress.page(["a"], "190", "200")
    progress.page(["b"], "150", "180")
    progress.delivered("b")
    assert told == []
    progress.delivered("a")
    assert Gap.parse(told[-1]).before == "150"


def test_a_complete_listing_tells_its_newest_post():
    progress, told = listing(after="100")
    progress.page(["a"], "150", "200")
    progress.delivered("a")
    progress.finish(complete=True)
    assert told[-1] == "200"


def test_a_gap_closed_by_the_next_run_ends_at_the_newest_post_of_the_first():
    progress, told = listing(Gap("100", "150", "200").value())
    assert (progress.after, progress.before) == ("100", "150")
    progress.page(["c"], "120", "140")
    progress.delivered("c")
    progress.finish(complete=True)
    assert told[-1] == "200" and lower_bound(told[-1]) == "200"


def test_a_post_that_never_comes_is_passed_once_the_crawl_finished():
    progress, told = listing(after="100")
    progress.page(["a", "lost"], "150", "200")
    progress.delivered("a")
    progress.finish(complete=True)
    assert told == []
    assert progress.settle() == 1 and told[-1] == "200"


def test_a_listing_paged_by_place_keeps_where_it_goes_on_and_the_next_run_starts_there():
    progress, told = listing(after="100")
    progress.page(["a"], "190", "200", resume="2")
    progress.page(["b"], "150", "180", resume="3")
    progress.delivered("a")
    progress.delivered("b")
    progress.finish(complete=False)
    assert Gap.parse(told[-1]) == Gap("100", "150", "200", "3")
    again, _ = listing(told[-1])
    assert (again.after, again.before, again.resume) == ("100", "150", "3")


def test_a_gap_without_a_place_reads_as_before():
    assert Gap.parse('{"after": "1", "before": "2", "newest": "3"}').resume is None
    assert "resume" not in Gap("1", "2", "3").value()


def test_a_placeholder_is_owed_until_the_posts_it_holds_are_delivered():
    progress, told = listing(after="100")
    progress.page(["topic 7"], None, None, resume="1")
    progress.expand("topic 7", ["a", "b"], "120", "160")
    progress.delivered("a")
    assert told == []
    progress.delivered("b")
    assert Gap.parse(told[-1]) == Gap("100", "120", "160", "1")
