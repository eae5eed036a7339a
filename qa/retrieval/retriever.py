"""Ranking passages: a dense vector search and a lexical search, fused.

``Retriever`` composes the two searches the way pyserini's ``HybridSearcher(dense,
sparse)`` does: each returns its candidates, and weighted min-max score fusion
ranks the union. It also embeds the question (the slow part); ``questions`` checks it first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

import numpy as np

from ..errors import ArgumentError, shown
from ..index import embedders
from ..index.corpus import Hits
from ..index.embedding import Embedder
from ..index.lexical import LexicalSearch, split, stems
from ..index.vectors import VectorSearch
from ..settings import MODES, Settings, listed
from .questions import Question, read_question


def check_mode(mode: object) -> str:
    if not isinstance(mode, str) or mode not in MODES:
        raise ArgumentError(f"Unknown retrieval mode {shown(mode)}; use {listed(MODES)}.")
    return mode


class Retriever:
    """Hybrid search over one index's chunks: dense (vector store) + lexical (BM25), fused."""

    def __init__(self, dense: VectorSearch, lexical: LexicalSearch, settings: Settings, embedder: Embedder | None) -> None:
        self.dense = dense
        self.lexical = lexical
        self.settings = settings.retrieval
        self._embedder = embedder
        self._model = settings.model_files()  # the index's manifest was checked against these
        self._loading = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        """The question embedder, loaded on first use."""
        if self._embedder is None:
            with self._loading:
                if self._embedder is None:
                    self._embedder = embedders.load_embedder(*self._model)
        return self._embedder

    @property
    def loaded_embedder(self) -> Embedder | None:
        """The embedder if it is loaded already (a rebuild reuses it instead of loading another)."""
        return self._embedder

    def embed_question(self, question: str) -> np.ndarray:
        """The question's vector (the embedder reads its first 256 word pieces; tokenised once)."""
        return self.embedder.embed([question], batch_size=1, threads=self.settings.query_threads)[0]

    def rank(self, question: str, k: int, mode: str | None = None, vector: np.ndarray | None = None,
             tokens: list[str] | None = None) -> tuple[Hits, np.ndarray | None]:
        """The best ``k`` chunks, and the question's vector (None in lexical mode); ``vector`` and ``tokens``: the
        question's, embedded and split already (``Question.vector``, ``Question.query_tokens``)."""
        mode = check_mode(mode or self.settings.mode)
        wanted = max(k, self.settings.candidates)
        if mode == "lexical":
            vector = None
        elif vector is None:
            vector = self.embed_question(question)
        dense = self._dense(vector, wanted) if vector is not None else None
        lexical = None if mode == "dense" else self.lexical.search(stems(split(question)) if tokens is None else tokens, wanted)
        if dense is not None and lexical is not None:
            assert vector is not None
            dense = rescued(dense, lexical[1], lambda ids: self.dense.score(vector, ids))
            hits = fuse(dense, lexical, self.settings.dense_weight)
        else:
            only = dense if dense is not None else lexical
            assert only is not None
            hits = single(*only)
        return hits[:k], vector

    def rank_with_vector(self, question: str, k: int, mode: str | None = None) -> tuple[Hits, np.ndarray]:
        """``rank``, and the question's vector in every mode (embedded once: the reader's cosine needs it too)."""
        hits, vector = self.rank(question, k, mode)
        return hits, vector if vector is not None else self.embed_question(question)

    def read(self, question: object, history: object, max_chars: int, embed: bool = True) -> Question:
        """The question understood (``questions.read_question``), with its vectors unless ``embed`` is False."""
        return read_question(question, history, max_chars, self.embed_question if embed else None)

    def _dense(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores, ids = self.dense.search(vector[None, :], k)
        return scores[0], ids[0]


def rescued(dense: tuple[np.ndarray, np.ndarray], others: np.ndarray,
            score: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The dense candidates, with the chunks of ``others`` (the lexical candidates) that an approximate search missed
    although their exact score reaches its last candidate's: an HNSW graph can miss a question's nearest chunks
    outright (at a million chunks, half of the true top 10 for some questions), and fusion would give them 0."""
    scores, ids = dense
    found = ids[ids >= 0]
    missing = np.setdiff1d(others[others >= 0], found)
    if len(found) == 0 or len(missing) == 0:
        return dense
    exact = np.asarray(score(missing), dtype=scores.dtype)
    keep = exact >= scores[ids >= 0].min()  # an exact search's list already holds all of these: nothing changes
    if not keep.any():
        return dense
    scores, ids = np.concatenate([scores[ids >= 0], exact[keep]]), np.concatenate([found, missing[keep]])
    order = np.argsort(-scores, kind="stable")
    return scores[order], ids[order]


def _min_max(scores: np.ndarray) -> np.ndarray:
    if len(scores) == 0:
        return scores
    low, high = float(scores.min()), float(scores.max())
    if high - low < 1e-9:
        return np.ones_like(scores)
    return (scores - low) / (high - low)


def fuse(
    dense: tuple[np.ndarray, np.ndarray],
    lexical: tuple[np.ndarray, np.ndarray],
    dense_weight: float,
) -> Hits:
    """Weighted min-max score fusion: (chunk id, score) best first.

    Each retriever's scores are scaled to [0, 1] over its own candidates; a chunk
    missing from one list gets 0 from it.
    """
    combined: dict[int, float] = {}
    for (scores, ids), weight in ((dense, dense_weight), (lexical, 1.0 - dense_weight)):
        for chunk, value in zip(ids.tolist(), _min_max(np.asarray(scores, dtype=np.float64)).tolist(), strict=True):
            if chunk >= 0:
                combined[chunk] = combined.get(chunk, 0.0) + weight * value
    return sorted(combined.items(), key=lambda item: (-item[1], item[0]))


def distinct(hits: Hits, key_of: Callable[[int], Hashable], k: int) -> Hits:
    """The best ``k`` hits whose passages differ: of passages with the same ``key_of`` (their heading path and text:
    the same words under another heading say something else, "Default: true" of another option) only the best-ranked
    is kept."""
    seen: set[Hashable] = set()
    kept: Hits = []
    for chunk, score in hits:
        key = key_of(chunk)
        if key not in seen:
            seen.add(key)
            kept.append((chunk, score))
            if len(kept) == k:
                break
    return kept


def single(scores: np.ndarray, ids: np.ndarray) -> Hits:
    """One retriever's hits as (chunk id, score), best first."""
    return [(int(c), float(s)) for s, c in zip(scores.tolist(), ids.tolist(), strict=True) if c >= 0]
