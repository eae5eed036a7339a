"""Lexical retrieval: BM25 via bm25s, with English stemming and stop words.

Stemming added 1.6 nDCG points on SciFact here (../shared/FINDINGS.md). The
document frequency of every token is counted at build time and stored beside the
bm25s index (``bm25/document_frequencies.json``), for weighting question words.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

LEXICAL_FOLDER = "bm25"
FREQUENCIES = "document_frequencies.json"


def tokenize(texts: list[str], stopwords: str = "en") -> list[list[str]]:
    """Stemmed tokens. "en" is bm25s's short stop list; "en_plus" also drops question words."""
    import bm25s

    return bm25s.tokenize(texts, stopwords=stopwords, stemmer=_stemmer(), return_ids=False, show_progress=False)


@cache
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


class LexicalSearch(Protocol):
    """What the retriever and the reader need of a lexical index (this BM25, or one in a database)."""

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]: ...

    def idf(self, token: str) -> float: ...


def bm25_idf(df: int, size: int) -> float:
    """BM25 (Lucene) inverse document frequency of a token held by ``df`` of ``size`` chunks."""
    return float(np.log(1.0 + (size - df + 0.5) / (df + 0.5)))


class LexicalIndex:
    def __init__(self, retriever: Any, size: int, frequencies: dict[str, int]) -> None:
        self.retriever = retriever  # a bm25s.BM25
        self.size = size  # number of chunks
        self.frequencies = frequencies  # token -> number of chunks holding it

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25()
        if not texts:
            return cls(retriever, 0, {})
        # token ids, not strings: bm25s would otherwise hold every token twice more (a 20 MiB text: 200 MB)
        retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), return_ids=True, show_progress=False),
                        show_progress=False)
        held = np.diff(retriever.scores["indptr"])  # a token's column of the score matrix: one entry per chunk holding it
        frequencies = {token: int(held[i]) for token, i in retriever.vocab_dict.items() if i < len(held) and held[i]}
        return cls(retriever, len(texts), frequencies)

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25.load(str(folder / LEXICAL_FOLDER), show_progress=False)
        frequencies = json.loads((folder / LEXICAL_FOLDER / FREQUENCIES).read_text(encoding="utf-8"))
        if not isinstance(frequencies, dict):
            raise ValueError(f"{FREQUENCIES} is not a table of token counts")
        return cls(retriever, size, frequencies)

    def save(self, folder: Path) -> None:
        self.retriever.save(str(folder / LEXICAL_FOLDER), show_progress=False)
        text = json.dumps(self.frequencies, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        (folder / LEXICAL_FOLDER / FREQUENCIES).write_text(text, encoding="utf-8")

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of the best ``k`` chunks with a positive score, best first."""
        tokens = tokenize([query])
        if self.size == 0 or not tokens[0]:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        # n_threads=0 scores in this thread (any other value starts a thread pool per search)
        ids, scores = self.retriever.retrieve(tokens, k=min(k, self.size), show_progress=False, n_threads=0)
        keep = scores[0] > 0
        return scores[0][keep].astype(np.float32), ids[0][keep].astype(np.int64)

    def idf(self, token: str) -> float:
        """BM25 inverse document frequency of a (stemmed) token; unknown tokens get the highest."""
        return bm25_idf(self.frequencies.get(token, 0), self.size)
