"""The reader stage: how well each candidate sentence answers the question.

Each sentence of the top passages gets a support score:

    cosine(question, sentence)                      the embedder's judgement
  + overlap_weight x idf-weighted share of the question's words in the sentence
  + rank_prior / passage rank                       the retriever's judgement
  + type_bonus when the question asks for a number, date, person or place
    and the sentence holds one

``Candidate.support`` (cosine + weighted overlap, without the prior and bonus,
which do not tell answerable from unanswerable) decides whether any sentence
answers: see ``AnswerSettings.abstain_below``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .corpus import Corpus
from .kinds import NAME, holds, question_kinds
from .lexical import LexicalIndex, tokenize
from .retrieve import Hits
from .settings import AnswerSettings


@dataclass(frozen=True)
class Candidate:
    sentence: int  # row in the corpus's sentence table
    passage_rank: int
    chunk: int  # the best-ranked retrieved chunk holding the sentence
    score: float  # ranking score: support + rank prior + answer-type bonus
    support: float  # evidence alone: cosine + weighted word overlap (decides abstention)


def word_weights(lexical: LexicalIndex, question: str, context: str) -> dict[str, float]:
    """idf of each content word of the question (stemmed; stop and question words dropped).

    Names in the question (capitalised words after the first) weigh at least the
    median word: in a small corpus about one subject, its name is in every passage
    and its idf is near zero, yet it is what the question is about.
    Words only in the conversation context count half.
    """
    weights: dict[str, float] = {}
    for text, factor in ((context, 0.5), (question, 1.0)):
        idf = {token: lexical.idf(token) for token in set(tokenize([text], "en_plus")[0])}
        if not idf:
            continue
        names = set(tokenize([" ".join(m.group(0) for m in NAME.finditer(text))], "en_plus")[0]) if factor == 1.0 else set()
        floor = float(np.median(list(idf.values())))
        for token, value in idf.items():
            value = max(value, floor) if token in names else value
            weights[token] = max(weights.get(token, 0.0), factor * value)
    return weights


def overlap(weights: dict[str, float], sentence: str) -> float:
    """The idf-weighted share of the question's words that the sentence holds (0 to 1).

    Exact sums (``math.fsum``): a plain sum over a set depends on the set's order, which
    changes with Python's hash seed, and could flip near-ties between clause windows.
    """
    total = math.fsum(weights.values())
    if total <= 0:
        return 0.0
    return math.fsum(weights.get(token, 0.0) for token in set(tokenize([sentence], "en_plus")[0])) / total


def score_candidates(
    corpus: Corpus, hits: Hits, vector: np.ndarray, weights: dict[str, float], query: str, settings: AnswerSettings
) -> list[Candidate]:
    """Every sentence of the retrieved passages with its support score, best first."""
    kinds = question_kinds(query)
    first_rank: dict[int, tuple[int, int]] = {}
    for rank, (chunk, _) in enumerate(hits, start=1):
        for sentence in corpus.chunk_sentences(chunk):
            first_rank.setdefault(sentence, (rank, chunk))
    if not first_rank:
        return []
    ids = np.fromiter(first_rank, dtype=np.int64)
    cosines = corpus.sentence_vectors[ids].astype(np.float32) @ vector.astype(np.float32)
    scored = []
    for sentence, cosine in zip(ids.tolist(), cosines.tolist()):
        text = corpus.sentence_text(sentence)
        rank, chunk = first_rank[sentence]
        support = cosine + settings.overlap_weight * overlap(weights, text)
        score = support + settings.rank_prior / rank
        if any(holds(kind, text, query) for kind in kinds):
            score += settings.type_bonus
        scored.append(Candidate(sentence, rank, chunk, score, support))
    return sorted(scored, key=lambda c: (-c.score, c.sentence))
