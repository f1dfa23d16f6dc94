"""Build posts and analyse them in one call."""

from listener.records import Analysis
from tests.factories import post


def analyze(analyzer, text: str, **fields) -> Analysis:
    return analyzer.analyze(post(text, **fields))
