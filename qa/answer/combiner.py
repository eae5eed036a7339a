"""How the reader's signals become the probability that a sentence answers the question.

Two logistic regressions over a few signals per candidate sentence (``FEATURES``): the
cross-encoder's logit, the embedder's cosine, the idf-weighted share of the question's
words in the sentence, whether the question asks for a kind of thing (number, date,
person, place) that the sentence does not hold, and the retriever's rank prior.

- ``rank``: does this sentence hold the answer? It admits further quotes (it did not order
  the sentences better than the cheap score, which keeps the order).
- ``decide`` says whether any does: the bot declines when no sentence reaches ``answer_at``.
  Word overlap ranks well but cannot tell an answer from a sentence written to share the
  question's words, so this one may use fewer signals (chosen by measurement).

Weights and thresholds live in ``combiner.json`` beside the reader model;
``training/combiner.py`` fits them on SQuAD 2.0, cross-validated by article.

Two more probabilities there were chosen by hand on development sets, not fitted:

- ``unsure_below``: when the reader gives the first quote less than this probability of
  answering by itself, the quote widens within its paragraph or section: the sentence right
  after it and the other sentences read there are quoted too (up to ``max_quotes``). Even
  odds, chosen on SQuAD 2.0's folds for the next sentence alone; figures in
  bench/results/RESULTS.md (reader section).
- ``unsure_below_structured``: the same for documents with sections (HTML, Markdown, PDF,
  Word, EPUB). The reader learned on Wikipedia paragraphs and is overconfident on
  documentation: where it gives the first quote 0.5 to 0.8, that quote holds the answer for
  92% of SQuAD 2.0 questions but 3 of 8 on the docs development set. Chosen on that set
  (bench/results/READING.md).

``AnswerSettings`` may override either (None, the default, takes the combiner's).
"""

from __future__ import annotations

import functools
import json
import os
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ModelError

COMBINER_FILE = "combiner.json"
FEATURES = ("reader", "cosine", "overlap", "kind_missing", "rank_prior", "span")
_LOCK = threading.Lock()


def features(reader: np.ndarray, cosine: np.ndarray, overlap: np.ndarray, kind_missing: np.ndarray, rank: np.ndarray,
             span: np.ndarray | None = None) -> np.ndarray:
    """One row of ``FEATURES`` per candidate (``rank``: the passage rank, 1 = best; ``span``: the span head's margin
    over "no answer", 0 for a model without one)."""
    span = np.zeros(len(reader), np.float32) if span is None else span
    columns = (reader, cosine, overlap, kind_missing, 1.0 / np.asarray(rank, dtype=np.float32), span)
    return np.stack([np.asarray(c, dtype=np.float32) for c in columns], axis=1)


@dataclass(frozen=True)
class Linear:
    weights: tuple[float, ...]  # one per feature in ``FEATURES``; 0 for a feature left out
    bias: float

    def probability(self, rows: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(rows @ np.asarray(self.weights, dtype=np.float32) + self.bias)))

    def to_json(self) -> dict[str, object]:
        return {"weights": dict(zip(FEATURES, self.weights, strict=True)), "bias": self.bias}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Linear:
        return cls(tuple(float(data["weights"].get(f, 0.0)) for f in FEATURES), float(data["bias"]))


@dataclass(frozen=True)
class Combiner:
    rank: Linear  # the probability that a sentence holds the answer: admits further quotes
    decide: Linear  # the same question for deciding whether any sentence answers
    answer_at: float  # answer when some sentence's ``decide`` probability is at least this
    further_at: float  # a further quote needs a ``rank`` probability of at least this
    judged: int = 4  # candidate sentences the cross-encoder reads (the best by the cheap score)
    reorder: bool = False  # order the read sentences by ``rank`` (True) or keep the cheap score's order
    unsure_below: float = 0.5  # a first quote less likely than this widens within its paragraph or section
    unsure_below_structured: float = 0.8  # the same in a document with sections (the reader is overconfident there)

    def to_json(self) -> dict[str, object]:
        return {"rank": self.rank.to_json(), "decide": self.decide.to_json(), "answer_at": self.answer_at,
                "further_at": self.further_at, "judged": self.judged, "reorder": self.reorder,
                "unsure_below": self.unsure_below, "unsure_below_structured": self.unsure_below_structured}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Combiner:
        """A combiner from its ``combiner.json`` (an older one without the unsure bars gets 0.5 and 0.8)."""
        return cls(Linear.from_json(data["rank"]), Linear.from_json(data["decide"]), float(data["answer_at"]),
                   float(data["further_at"]), int(data["judged"]), bool(data.get("reorder", False)),
                   float(data.get("unsure_below", 0.5)), float(data.get("unsure_below_structured", 0.8)))


def load_combiner(folder: str) -> Combiner:
    """The combiner stored beside the reader model in ``folder``, read once per process."""
    with _LOCK:
        return _load(os.path.abspath(folder))


@functools.cache
def _load(folder: str) -> Combiner:
    path = os.path.join(folder, COMBINER_FILE)
    try:
        with open(path, encoding="utf-8") as handle:
            return Combiner.from_json(json.load(handle))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ModelError(f"Cannot read the reader's {COMBINER_FILE} in {folder} ({error}). "
                         "Reinstall qa, or rebuild it with `python -m training.combiner`.") from error
