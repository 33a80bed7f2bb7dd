"""The data sets and models of the paper's two experiments, built here: nothing is downloaded.

**Text.** The paper's text classifier is an IMDB sentiment model. IMDB is a download, so
:func:`sentiment_corpus` writes short movie reviews instead, deterministically from a seed: each review names a
few parts of a film (plot, cast, ending...) and judges them with words of its sentiment: common ones (*brilliant*,
*tedious*) and a long tail of rarer slang words drawn from a Zipf law, so that a model keeps learning words as it
sees more reviews (as with real text, where most words are rare). One review in four also uses a word of the
other sentiment, and ``noise`` of the labels are the other sentiment (readers rate inconsistently): accuracy
levels off below 100 %, about where the paper's IMDB model is.

**Images.** The paper's image classifier tells hot dogs from other food, from 1,000 photos. scikit-learn ships
its handwritten digits (1,797 images of 8x8 pixels, ten classes): :func:`digits_split` splits them into a small
base set with every digit, a hidden test set and images for contributors.

A :class:`Split` holds the owner's ``base`` training rows, the hidden ``test`` rows and the ``fresh`` rows that
contributors offer; :func:`mislabelled` and :func:`copies` make the adversarial rows; :func:`truth_of` is the
person who knows the true label of every real observation (the owner or a verifier checking a row by hand, as in
the paper).

>>> split = text_split(base=40, test=20, fresh=10, seed=3)
>>> len(split.base), len(split.test), len(split.fresh), split.label
(40, 20, 10, 'sentiment')
>>> bad = mislabelled(split.fresh, split.label, split.labels, seed=0)
>>> bool((bad[split.label] != split.fresh[split.label]).all())
True
>>> bool((truth_of(split)(bad) == split.fresh[split.label].to_numpy()).all())
True
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "Split",
    "copies",
    "digits_classifier",
    "digits_cnn",
    "digits_split",
    "mislabelled",
    "sentiment_corpus",
    "text_classifier",
    "text_split",
    "truth_of",
]

POSITIVE = tuple(
    "good great excellent wonderful superb brilliant delightful charming moving gripping stunning fresh clever "
    "witty lovely beautiful touching memorable masterful enjoyable solid powerful engaging funny heartfelt "
    "thrilling inventive elegant vivid warm".split()
)
NEGATIVE = tuple(
    "bad awful terrible boring dull weak clumsy tedious bland lifeless messy shallow forgettable painful silly "
    "predictable flat confusing slow sloppy stale lazy hollow tiresome grim pointless annoying cheap overlong "
    "wooden".split()
)
PARTS = tuple(
    "plot acting script cast story dialogue soundtrack ending pacing direction camera score villain hero humour "
    "photography editing premise finale lead".split()
)
OPENERS = ("the", "honestly the", "overall the", "i thought the", "for me the", "and the", "but the", "sadly the")
VERBS = ("was", "is", "felt", "seemed", "looked", "was really", "was quite", "felt rather")
_SYLLABLES = tuple("ka lo mi ra ne tu si vo pe zu ba di fo gu ha je".split())
_TAIL = 600  # rare words of each sentiment
_LEXICON_SEED = 20_240_601  # the slang words are the same whatever the corpus seed
_COMMON = 0.35  # share of sentiment words taken from the common lists
_MIXED = 0.25  # share of reviews that also use a word of the other sentiment
TEXT_LABELS = ("negative", "positive")


@dataclass(frozen=True)
class Split:
    """The rows of one experiment: the owner's ``base`` training set, the hidden ``test`` set and ``fresh`` rows
    for contributors, all with the ``label`` column (labels in ``labels``)."""

    base: pd.DataFrame
    test: pd.DataFrame
    fresh: pd.DataFrame
    label: str
    labels: tuple[Any, ...]

    @property
    def features(self) -> list[str]:
        """The feature columns (every column but the label)."""
        return [c for c in self.base.columns if c != self.label]


# ---------------------------------------------------------------------------------------------------- text
def _slang(count: int) -> list[str]:
    """``count`` distinct made-up words (two or three syllables), always the same ones."""
    rng = np.random.default_rng(_LEXICON_SEED)
    words: set[str] = set()
    while len(words) < count:
        words.add("".join(rng.choice(_SYLLABLES, size=int(rng.integers(2, 4)))))
    return sorted(words)


def sentiment_corpus(rows: int, *, seed: int = 0, noise: float = 0.1) -> pd.DataFrame:
    """``rows`` distinct short movie reviews (``text``) and their ``sentiment`` (``positive``/``negative``).

    The same ``seed`` gives the same reviews in the same order; ``noise`` is the share of reviews rated with the
    other sentiment.

    >>> corpus = sentiment_corpus(5, seed=7)
    >>> corpus.columns.tolist(), len(corpus), corpus["text"].is_unique
    (['text', 'sentiment'], 5, True)
    >>> corpus.equals(sentiment_corpus(5, seed=7))
    True
    """
    if rows < 0 or not 0 <= noise <= 0.5:
        raise ValueError("rows must be >= 0 and noise between 0 and 0.5")
    rng = np.random.default_rng(seed)
    slang = _slang(2 * _TAIL)
    tails = (slang[_TAIL:], slang[:_TAIL])  # negative, positive
    commons = (NEGATIVE, POSITIVE)
    seen: set[str] = set()
    texts: list[str] = []
    labels: list[str] = []
    while len(texts) < rows:
        sentiment = int(rng.integers(2))
        words = []
        for _ in range(int(rng.integers(1, 3))):
            if rng.random() < _COMMON:
                words.append(commons[sentiment][int(rng.integers(len(commons[sentiment])))])
            else:
                words.append(tails[sentiment][min(int(rng.zipf(1.3)) - 1, _TAIL - 1)])
        if rng.random() < _MIXED:
            other = commons[1 - sentiment]
            words.insert(int(rng.integers(len(words) + 1)), other[int(rng.integers(len(other)))])
        clauses = [
            f"{OPENERS[int(rng.integers(len(OPENERS)))]} {PARTS[int(rng.integers(len(PARTS)))]} "
            f"{VERBS[int(rng.integers(len(VERBS)))]} {word}"
            for word in words
        ]
        text = ", ".join(clauses)
        rated = sentiment if rng.random() >= noise else 1 - sentiment
        if text in seen:
            continue
        seen.add(text)
        texts.append(text)
        labels.append(TEXT_LABELS[rated])
    return pd.DataFrame({"text": texts, "sentiment": labels})


def text_split(base: int = 1000, test: int = 1000, fresh: int = 1000, *, seed: int = 0, noise: float = 0.1) -> Split:
    """A corpus of ``base + test + fresh`` reviews (:func:`sentiment_corpus`), split in that order."""
    corpus = sentiment_corpus(base + test + fresh, seed=seed, noise=noise)
    parts = (corpus.iloc[:base], corpus.iloc[base : base + test], corpus.iloc[base + test :])
    base_rows, test_rows, fresh_rows = (part.reset_index(drop=True) for part in parts)
    return Split(base_rows, test_rows, fresh_rows, "sentiment", TEXT_LABELS)


def text_classifier() -> Any:
    """TF-IDF of the ``text`` column and a logistic regression (unfitted), in a pipeline colearn can publish.

    >>> text_classifier().steps[-1][0]
    'classify'
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    return Pipeline(
        [
            ("tfidf", ColumnTransformer([("words", TfidfVectorizer(), "text")])),
            ("classify", LogisticRegression(max_iter=1000)),
        ]
    )


# ---------------------------------------------------------------------------------------------------- images
def digits_split(base: int = 50, test: int = 500, fresh: int = 200, *, seed: int = 0) -> Split:
    """scikit-learn's bundled digits (64 pixel columns ``pixel_0_0``... from 0 to 16, ``target`` 0 to 9), shuffled
    by ``seed``: ``base`` images with every digit about equally often, then ``test`` and ``fresh`` images.

    >>> split = digits_split(base=20, test=30, fresh=10)
    >>> sorted(split.base["target"].unique().tolist()) == list(range(10)), len(split.features)
    (True, 64)
    """
    from sklearn.datasets import load_digits

    digits = load_digits(as_frame=True).frame.drop_duplicates()
    digits = digits.sample(frac=1.0, random_state=seed).reset_index(drop=True).astype({"target": "int64"})
    if base + test + fresh > len(digits):
        raise ValueError(f"the digits are {len(digits)} images, fewer than {base + test + fresh}")
    per_digit = -(-base // 10)
    chosen = digits.groupby("target").head(per_digit).index[:base]
    chosen = digits.loc[sorted(chosen)] if len(chosen) == base else digits.iloc[:base]
    rest = digits.drop(chosen.index)
    return Split(
        chosen.reset_index(drop=True),
        rest.iloc[:test].reset_index(drop=True),
        rest.iloc[test : test + fresh].reset_index(drop=True),
        "target",
        tuple(range(10)),
    )


def digits_classifier() -> Any:
    """A logistic regression on the 64 pixels (unfitted)."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=2000)


def digits_cnn(seed: int = 0) -> Any:
    """A small Keras convolutional network (torch backend) on the 64 pixels seen as an 8x8 image (uncompiled is
    fine: colearn compiles and fits it). About 3,000 weights: one 3x3 convolution of 8 filters, then 10 outputs."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Reshape((8, 8, 1)),
            keras.layers.Rescaling(1 / 16),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


# ---------------------------------------------------------------------------------------------------- adversaries
def mislabelled(frame: pd.DataFrame, label: str, labels: Sequence[Any], *, seed: int = 0) -> pd.DataFrame:
    """The same rows, each with another label than its own (drawn with ``seed``)."""
    rng = np.random.default_rng(seed)
    index = {value: i for i, value in enumerate(labels)}
    shifts = rng.integers(1, len(labels), size=len(frame))
    wrong = [
        labels[(index[value] + int(shift)) % len(labels)] for value, shift in zip(frame[label], shifts, strict=True)
    ]
    return frame.assign(**{label: pd.Series(wrong, index=frame.index, dtype=frame[label].dtype)})


def copies(split: Split, rows: int, *, seed: int = 0) -> pd.DataFrame:
    """Rows a copier offers: the owner's training rows (public in the model's lineage) and one of them repeated."""
    rng = np.random.default_rng(seed)
    picks = np.sort(rng.choice(len(split.base), size=min(max(rows - 1, 1), len(split.base)), replace=False))
    taken = split.base.iloc[picks]
    return pd.concat([taken, taken.iloc[[0]]], ignore_index=True).iloc[:rows]


def truth_of(split: Split) -> Callable[[pd.DataFrame], np.ndarray]:
    """A person who knows the true label of every row of the split (by its features): given a frame of rows, the
    true label of each (``None`` for a row that is no observation of the data set)."""
    features = split.features
    known: dict[tuple[Any, ...], Any] = {}
    for frame in (split.base, split.test, split.fresh):
        for values, value in zip(frame[features].itertuples(index=False, name=None), frame[split.label], strict=True):
            known[_key(values)] = value

    def truth(rows: pd.DataFrame) -> np.ndarray:
        keys = rows[features].itertuples(index=False, name=None)
        return np.array([known.get(_key(values)) for values in keys], dtype=object)

    return truth


def _key(values: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(float(v) if isinstance(v, (int, float, np.integer, np.floating)) else str(v) for v in values)
