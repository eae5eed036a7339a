"""The reader stage: how well each candidate sentence answers the question, and whether any does.

Two steps. First every sentence of the top passages gets today's cheap score:

    cosine(question, sentence)                      the embedder's judgement
  + overlap_weight x idf-weighted share of the question's words in the sentence
                     (and in the heading it sits right under, for structured documents)
  + rank_prior / passage rank                       the retriever's judgement
  + type_bonus when the question asks for a number, date, person or place
    and the sentence holds one

Then the reader (``read``) takes the best ``judged`` of them by that score and asks
the cross-encoder (``qa/answer/crossencoder.py``) how well each answers the question; the
combiner (``qa/answer/combiner.py``) turns its logit, the cosine, the overlap, a missing
answer kind and the rank prior into the probability that the sentence answers
(``Candidate.answers``, which admits further quotes) and the one that decides
whether any does (``Candidate.confidence``): the answer declines when no sentence's
confidence reaches the combiner's ``answer_at``. Cosine and
overlap alone cannot tell an answer from a sentence that only shares the question's
words (AUROC about 0.5 on SQuAD 2.0's adversarial questions); figures in
bench/RESULTS.md.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

import numpy as np

from ..index.corpus import Corpus
from ..index.embedding import Embedder
from ..index.lexical import LexicalSearch, tokenize
from ..retrieval.retriever import Hits
from ..settings import AnswerSettings
from .combiner import Combiner, features, load_combiner
from .crossencoder import CrossEncoder, load_cross_encoder, pair_text
from .kinds import NAME, holds, question_kinds


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
    answers: float = 0.0  # the reader's probability that the sentence answers the question (0: not read)
    confidence: float = 0.0  # the same, as judged for deciding whether any sentence answers (combiner's ``decide``)
    span: tuple[int, int] | None = None  # the answer's characters inside the sentence, as the span head marks it


@dataclass(frozen=True)
class Reader:
    model: CrossEncoder
    combiner: Combiner


@functools.cache
def load_reader(path: str) -> Reader:
    """The cross-encoder and its combiner in folder ``path`` (each loaded once per process)."""
    return Reader(load_cross_encoder(path), load_combiner(path))


def word_weights(lexical: LexicalSearch, question: str, context: str) -> dict[str, float]:
    """idf of each content word of the question (stemmed; stop and question words dropped).

    Names in the question (capitalised words after the first) weigh at least the
    median word: in a small corpus about one subject, its name is in every passage
    and its idf is near zero, yet it is what the question is about.
    Words only in the conversation context count half.
    """
    weights: dict[str, float] = {}
    names_text = " ".join(m.group(0) for m in NAME.finditer(question))
    context_tokens, question_tokens, name_tokens = tokenize([context, question, names_text], "en_plus")  # one call: ~0.3 ms each
    for tokens, factor in ((context_tokens, 0.5), (question_tokens, 1.0)):
        idf = {token: lexical.idf(token) for token in set(tokens)}
        if not idf:
            continue
        names = set(name_tokens) if factor == 1.0 else set()
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
    return shared_weight(weights, tokenize([sentence], "en_plus")[0])


def shared_weight(weights: dict[str, float], tokens: list[str]) -> float:
    """``overlap`` for a sentence already tokenized (a batch in one call: bm25s costs ~0.1 ms a call)."""
    total = math.fsum(weights.values())
    if total <= 0:
        return 0.0
    return math.fsum(weights.get(token, 0.0) for token in set(tokens)) / total


def sentence_vectors(corpus: Corpus, ids: np.ndarray, embedder: Embedder | None) -> np.ndarray:
    """The sentences' vectors: stored at build time, or embedded now (``Settings.sentence_vectors=False``)."""
    if corpus.sentence_vectors.size or not len(ids):
        return corpus.sentence_vectors[ids].astype(np.float32)
    if embedder is None:
        raise ValueError("this index stores no sentence vectors: pass the embedder to score sentences")
    return embedder.embed([corpus.sentence_embed_text(i) for i in ids.tolist()], batch_size=len(ids), threads=1)


def score_candidates(
    corpus: Corpus, hits: Hits, vector: np.ndarray, weights: dict[str, float], query: str, settings: AnswerSettings,
    embedder: Embedder | None = None,
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
    cosines = sentence_vectors(corpus, ids, embedder) @ vector.astype(np.float32)
    texts = [corpus.sentence_text(sentence) for sentence in ids.tolist()]
    # the heading a sentence sits under is part of what it says ("emitter.once(...)": "Adds a one-time listener")
    tokens = tokenize([f"{corpus.sentence_heading(s)} {text}" for s, text in zip(ids.tolist(), texts, strict=True)], "en_plus")
    scored = []
    for sentence, cosine, text, words in zip(ids.tolist(), cosines.tolist(), texts, tokens, strict=True):
        rank, chunk = first_rank[sentence]
        shared = shared_weight(weights, words)
        support = cosine + settings.overlap_weight * shared
        score = support + settings.rank_prior / rank
        held = any(holds(kind, text, query) for kind in kinds)
        if held:
            score += settings.type_bonus
        scored.append(Candidate(sentence, rank, chunk, score, support, cosine, shared, bool(kinds) and not held))
    return sorted(scored, key=lambda c: (-c.score, c.sentence))


def reader_features(corpus: Corpus, candidates: list[Candidate], question: str, model: CrossEncoder
                    ) -> tuple[np.ndarray, list[tuple[int, int] | None]]:
    """The combiner's input for each candidate (the cross-encoder's logit beside the cheap signals), and the
    answer span the model marks in each sentence (offsets into the sentence)."""
    texts = [corpus.sentence_text(c.sentence) for c in candidates]
    titles = [corpus.titles[int(corpus.sentences["doc"][c.sentence])] for c in candidates]
    pairs = [pair_text(title, text) for title, text in zip(titles, texts, strict=True)]
    readings = model.read(question, pairs)
    spans = [_in_sentence(r.span, len(pair) - len(text)) for r, pair, text in zip(readings, pairs, texts, strict=True)]
    rows = features(np.array([r.logit for r in readings]), np.array([c.cosine for c in candidates]),
                    np.array([c.overlap for c in candidates]), np.array([c.kind_missing for c in candidates]),
                    np.array([c.passage_rank for c in candidates]), np.array([r.margin for r in readings]))
    return rows, spans


def _in_sentence(span: tuple[int, int] | None, shift: int) -> tuple[int, int] | None:
    """A span of the pair text moved into the sentence (None when it falls on the title in front)."""
    if span is None or span[0] < shift:
        return None
    return span[0] - shift, span[1] - shift


def read(corpus: Corpus, candidates: list[Candidate], question: str, reader: Reader, limit: int | None = None) -> list[Candidate]:
    """The best ``judged`` (or ``limit``) candidates by the cheap score, with the reader's probabilities and spans,
    ordered by the reader's ``rank`` probability (the cheap score breaks ties)."""
    top = candidates[: reader.combiner.judged if limit is None else limit]
    if not top:
        return []
    rows, spans = reader_features(corpus, top, question, reader.model)
    ranked, decided = reader.combiner.rank.probability(rows), reader.combiner.decide.probability(rows)
    read_ones = [replace(c, answers=float(p), confidence=float(d), span=span)
                 for c, p, d, span in zip(top, ranked, decided, spans, strict=True)]
    # Trained on 30k questions, the reader orders sentences better than the cheap score (held-out SQuAD 2.0:
    # models/reader/MODEL_CARD.md), so its order replaces the cheap one for the sentences it read.
    return sorted(read_ones, key=lambda c: -c.answers) if reader.combiner.reorder else read_ones


def read_next(corpus: Corpus, best: Candidate, candidates: list[Candidate], read_ones: list[Candidate], question: str,
              reader: Reader, judge: bool = True) -> Candidate | None:
    """The sentence right after ``best`` in one of the retrieved passages (None if there is none), judged by
    the reader unless ``judge`` is False (then its ``answers`` is 0 unless it was read already)."""
    following = next((c for c in read_ones if c.sentence == best.sentence + 1), None)
    if following is None:
        following = next((c for c in candidates if c.sentence == best.sentence + 1), None)
        if following is None:
            return None
        if judge:
            following = read(corpus, [following], question, reader, limit=1)[0]
    doc = corpus.sentences["doc"]
    return following if doc[following.sentence] == doc[best.sentence] else None
