"""Lexical retrieval: BM25 via bm25s, with English stemming and stop words.

Stemming added 1.6 nDCG points on SciFact here (../shared/FINDINGS.md). The reader's
weights of the question's words are counted within each document (``answer/weights.py``),
not here, so that adding other documents does not move a document's answers.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

LEXICAL_FOLDER = "bm25"
_WORD = re.compile(r"(?u)\b\w\w+\b")  # bm25s.tokenize's token_pattern


def tokenize(texts: list[str], stopwords: str = "en") -> list[list[str]]:
    """Stemmed tokens, exactly bm25s.tokenize's. "en" is bm25s's short stop list; "en_plus" also drops question words."""
    # bm25s.tokenize's steps taken apart (``split``, ``stems``): it builds its stop set and three progress bars per
    # call, 4.6x the time for the one or few texts an answer tokenises at a time
    return [stems(split(text), stopwords) for text in texts]


def split(text: str) -> list[str]:
    """The text's words as ``tokenize`` splits them, before it drops stop words and stems: ``stems`` does that."""
    return _WORD.findall(text.lower())


def stems(words: list[str], stopwords: str = "en") -> list[str]:
    """``tokenize`` of the text ``words`` were split from (``split``): its stop words dropped, each other word stemmed."""
    # bm25s.tokenize's own steps (lowercase, split, drop stop words, stem) taken apart: a question's texts are split once, when read
    stop = _stop_words(stopwords)
    return _stemmer().stemWords([word for word in words if word not in stop])


@cache
def _stop_words(name: str) -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_EN_PLUS

    return frozenset({"en": STOPWORDS_EN, "en_plus": STOPWORDS_EN_PLUS}[name])


@cache
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


class LexicalSearch(Protocol):
    """What the retriever needs of a lexical index (this BM25, or one in a database)."""

    def search(self, tokens: list[str], k: int) -> tuple[np.ndarray, np.ndarray]: ...


def bm25_idf(df: int, size: int) -> float:
    """BM25 (Lucene) inverse document frequency of a token held by ``df`` of ``size`` chunks."""
    return float(np.log(1.0 + (size - df + 0.5) / (df + 0.5)))


class LexicalIndex:
    def __init__(self, retriever: Any, size: int) -> None:
        self.retriever = retriever  # a bm25s.BM25
        self.size = size  # number of chunks

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25()
        if not texts:
            return cls(retriever, 0)
        # token ids, not strings: bm25s would otherwise hold every token twice more (a 20 MiB text: 200 MB)
        retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), return_ids=True, show_progress=False),
                        show_progress=False)
        return cls(retriever, len(texts))

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25.load(str(folder / LEXICAL_FOLDER), show_progress=False)
        if size and len(retriever.scores["indptr"]) - 1 > len(retriever.vocab_dict):
            raise ValueError("the BM25 score matrix has more tokens than its vocabulary")
        return cls(retriever, size)

    def save(self, folder: Path) -> None:
        self.retriever.save(str(folder / LEXICAL_FOLDER), show_progress=False)

    def search(self, tokens: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of the best ``k`` chunks for the question's ``tokens`` (``Question.query_tokens``) with a
        positive score, best first."""
        if self.size == 0 or not tokens:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        # n_threads=0 scores in this thread (any other value starts a thread pool per search)
        ids, scores = self.retriever.retrieve([tokens], k=min(k, self.size), show_progress=False, n_threads=0)
        keep = scores[0] > 0
        return scores[0][keep].astype(np.float32), ids[0][keep].astype(np.int64)
