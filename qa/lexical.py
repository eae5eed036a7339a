"""Lexical retrieval: BM25 via bm25s, with English stemming and stop words.

Stemming added 1.6 nDCG points on SciFact here (../shared/FINDINGS.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

LEXICAL_FOLDER = "bm25"


def tokenize(texts: list[str], stopwords: str = "en") -> list[list[str]]:
    """Stemmed tokens. "en" is bm25s's short stop list; "en_plus" also drops question words."""
    import bm25s

    return bm25s.tokenize(texts, stopwords=stopwords, stemmer=_stemmer(), return_ids=False, show_progress=False)


_STEMMER = None


def _stemmer():  # type: ignore[no-untyped-def]
    global _STEMMER
    if _STEMMER is None:
        import Stemmer

        _STEMMER = Stemmer.Stemmer("english")
    return _STEMMER


class LexicalIndex:
    def __init__(self, retriever: object, size: int) -> None:
        self.retriever = retriever
        self.size = size
        self._df: np.ndarray | None = None

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25()
        if texts:
            retriever.index(tokenize(texts), show_progress=False)
        return cls(retriever, len(texts))

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex:
        import bm25s

        return cls(bm25s.BM25.load(str(folder / LEXICAL_FOLDER), show_progress=False), size)

    def save(self, folder: Path) -> None:
        self.retriever.save(str(folder / LEXICAL_FOLDER), show_progress=False)  # type: ignore[attr-defined]

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of the best ``k`` chunks with a positive score, best first."""
        tokens = tokenize([query])
        if self.size == 0 or not tokens[0]:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        ids, scores = self.retriever.retrieve(tokens, k=min(k, self.size), show_progress=False, n_threads=1)  # type: ignore[attr-defined]
        keep = scores[0] > 0
        return scores[0][keep].astype(np.float32), ids[0][keep].astype(np.int64)

    def idf(self, token: str) -> float:
        """BM25 inverse document frequency of a (stemmed) token; unknown tokens get the highest."""
        if self._df is None:
            indptr = np.asarray(self.retriever.scores["indptr"])  # type: ignore[attr-defined]
            nnz = len(self.retriever.scores["data"])  # type: ignore[attr-defined]
            self._df = np.diff(np.append(indptr, nnz))
        token_id = self.retriever.vocab_dict.get(token) if self.size else None  # type: ignore[attr-defined]
        df = int(self._df[token_id]) if token_id is not None and token_id < len(self._df) else 0
        return float(np.log(1.0 + (self.size - df + 0.5) / (df + 0.5)))
