"""Find who talks about the brand, what they want, and how to greet them.

``Analyzer(config).analyze(post)`` turns a :class:`~listener.records.Post` into
an :class:`~listener.records.Analysis`; ``analyze_many`` does the same for a
stream of posts in batches.
"""

__all__ = ["Analyzer"]


def __getattr__(name: str):
    # Imported on first use, so that the lexicons and text helpers load without spaCy.
    if name == "Analyzer":
        from nlp.analyzer import Analyzer

        return Analyzer
    raise AttributeError(f"module 'nlp' has no attribute {name!r}")
