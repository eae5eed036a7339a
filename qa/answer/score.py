"""The cheap score: every candidate sentence ranked before the reader reads the best of them.

Every sentence of the top passages gets this score:

    cosine(question, sentence)                      the embedder's judgement
  + overlap_weight x idf-weighted share of the question's words in the sentence
                     (and in the heading it sits right under, for structured documents;
                     idf within the sentence's own document: weights.py)
  + rank_prior / passage rank                       the retriever's judgement
  + type_bonus when the question asks for a number, date, person or place
    and the sentence holds one

Then the reader (``reader.Reader``) reads the best of them by that score and decides.
Cosine and overlap alone cannot tell an answer from a sentence that only shares the
question's words (AUROC about 0.5 on SQuAD 2.0's adversarial questions; bench/results/RESULTS.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..index.corpus import Corpus
from ..index.embedding import Embedder
from ..index.lexical import tokenize
from ..retrieval.retriever import Hits
from ..settings import AnswerSettings
from .kinds import holds, question_kinds
from .weights import WordWeights


@dataclass(frozen=True)
class Candidate:
    sentence: int  # row in the corpus's sentence table
    passage_rank: int
    chunk: int  # the best-ranked retrieved chunk holding the sentence
    score: float  # the cheap ranking score: support + rank prior + answer-type bonus (what the reader reads first)
    support: float  # cosine + weighted word overlap
    cosine: float = 0.0
    overlap: float = 0.0
    kind_missing: bool = False  # the question asks for a number, date, person or place the sentence lacks
    probability: float = 0.0  # the reader's probability that the sentence answers the question (0: not read)
    confidence: float = 0.0  # the same, as judged for deciding whether any sentence answers (combiner's ``decide``)
    span: tuple[int, int] | None = None  # the answer's characters inside the sentence, as the span head marks it


def overlap(weights: dict[str, float], sentence: str) -> float:
    """The idf-weighted share of the question's words that the sentence holds (0 to 1).

    Exact sums (``math.fsum``): a plain sum over a set depends on the set's order, which
    changes with Python's hash seed, and could flip near-ties between clause windows.
    """
    return shared_weight(weights, tokenize([sentence], "en_plus")[0])


def shared_weight(weights: dict[str, float], tokens: list[str]) -> float:
    """``overlap`` for a sentence already tokenized (a batch in one call: bm25s costs ~0.1 ms a call)."""
    total = math.fsum(weights.values())
    if total <= 0:
        return 0.0
    return math.fsum(weights.get(token, 0.0) for token in set(tokens)) / total


def sentence_vectors(corpus: Corpus, ids: np.ndarray, embedder: Embedder | None) -> np.ndarray:
    """The sentences' vectors: stored at build time, or embedded now (``Settings.sentence_vectors=False``)."""
    if corpus.has_vectors or not len(ids):
        return corpus.vectors_of(ids)
    if embedder is None:
        raise ValueError("this index stores no sentence vectors: pass the embedder to score sentences")
    return embedder.embed([corpus.sentence_embed_text(i) for i in ids.tolist()], batch_size=len(ids), threads=1)


def score_candidates(
    corpus: Corpus, hits: Hits, vector: np.ndarray, weights: WordWeights, query: str, settings: AnswerSettings,
    embedder: Embedder | None = None, kinds: frozenset[str] | None = None,
) -> list[Candidate]:
    """Every sentence of the retrieved passages with its support score, best first (``kinds``: what the query asks
    for, when the question has been read already: ``Question.kinds``)."""
    kinds = frozenset(question_kinds(query)) if kinds is None else kinds
    first_rank: dict[int, tuple[int, int]] = {}
    for rank, (chunk, _) in enumerate(hits, start=1):
        for sentence in corpus.chunk_sentences(chunk):
            first_rank.setdefault(sentence, (rank, chunk))
    if not first_rank:
        return []
    ids = np.fromiter(first_rank, dtype=np.int64)
    cosines = sentence_vectors(corpus, ids, embedder) @ vector.astype(np.float32)
    texts = [corpus.sentence_text(sentence) for sentence in ids.tolist()]
    # the heading a sentence sits under is part of what it says ("emitter.once(...)": "Adds a one-time listener")
    tokens = tokenize([f"{corpus.sentence_heading(s)} {text}" for s, text in zip(ids.tolist(), texts, strict=True)], "en_plus")
    scored = []
    for sentence, cosine, text, words in zip(ids.tolist(), cosines.tolist(), texts, tokens, strict=True):
        rank, chunk = first_rank[sentence]
        shared = shared_weight(weights.of(sentence), words)
        support = cosine + settings.overlap_weight * shared
        score = support + settings.rank_prior / rank
        held = any(holds(kind, text, query) for kind in kinds)
        if held:
            score += settings.type_bonus
        scored.append(Candidate(sentence, rank, chunk, score, support, cosine, shared, bool(kinds) and not held))
    return sorted(scored, key=lambda c: (-c.score, c.sentence))
