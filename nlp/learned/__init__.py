"""Learned text classifiers: n-gram features, a linear model that reads them, and its training.

Runtime code (:mod:`nlp.learned.features`, :mod:`nlp.learned.linear`) needs only
numpy; training (:mod:`nlp.learned.training`) uses scikit-learn.
"""
