"""Find who talks about the brand, what they want, and how to greet them.

``Analyzer(config).analyze(post)`` turns a :class:`~listener.records.Post` into
an :class:`~listener.records.Analysis`; ``analyze_many`` does the same for a
stream of posts in batches.
"""

from nlp.analyzer import Analyzer

__all__ = ["Analyzer"]
