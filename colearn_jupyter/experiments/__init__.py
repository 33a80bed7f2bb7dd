"""The paper's experiments, reproduced on the real contracts: reusable pieces behind the example notebooks.

- :mod:`.data`: the data sets (a deterministic synthetic sentiment corpus, scikit-learn's bundled digits), their
  splits into a base set, a hidden test set and rows for contributors, and the models the notebooks train.
- :mod:`.growth`: :func:`~.growth.grow`, contributors adding rows over simulated days through a
  :class:`~colearn_jupyter.session.Session` (publish, contribute, verify and challenge, the window passing by time
  travel, claim, retrain), returning the accuracy of every version; and the figure beside the paper's numbers.

>>> from colearn_jupyter.experiments.data import sentiment_corpus
>>> sentiment_corpus(3, seed=1)["sentiment"].tolist()
['negative', 'negative', 'negative']
"""
