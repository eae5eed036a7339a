"""Answers made of verbatim quotes: choosing sentences, abstaining, marking the answer span.

Each sentence of the top passages gets a support score:

    cosine(question, sentence)                      the embedder's judgement
  + overlap_weight x idf-weighted share of the question's words in the sentence
  + rank_prior / passage rank                       the retriever's judgement
  + type_bonus when the question asks for a number, date, person or place
    and the sentence holds one

The best one to three sentences are quoted (no near-duplicates, ~400 characters).
When even the best sentence scores under ``abstain_below`` the answer says the
sources do not answer, and lists the closest sentences as not an answer.
Quotes are sliced from the document text by offset, so they are verbatim by construction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .clean import normalise
from .lexical import tokenize
from .retrieve import check_question
from .types import Answer, Citation

if TYPE_CHECKING:
    from .index import Index

NOT_ANSWERED = "The sources do not answer this question."
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_NUMBER = re.compile(r"\b\d[\d,.]*\b|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand|million|billion)\b", re.I)
_DATE = re.compile(rf"\b(?:1[0-9]{{3}}|20[0-9]{{2}})s?\b|\b(?:{_MONTHS})\b|\bcentury\b", re.I)
_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")
_KINDS = {
    "number": re.compile(r"\bhow (?:many|much|long|far|old|large|big|high|tall)\b|\b(?:number|total|toll|percentage|percent|amount|count|population|size)\b", re.I),
    "date": re.compile(r"\bwhen\b|\bwhat (?:year|date|day|month|decade|century|time)\b|\bin which year\b", re.I),
    "person": re.compile(r"\bwho(?:m|se)?\b", re.I),
    "place": re.compile(r"\bwhere\b|\bwhat (?:country|city|state|region|place|town|location)\b", re.I),
}
_FOLLOW_UP = re.compile(r"^(?:and|but|also|or|what about|how about|what of|so)\b|\b(?:it|its|they|them|their|he|she|his|her|that|those|these|this|there|the same)\b", re.I)


def question_kinds(question: str) -> set[str]:
    """What the question asks for: any of number, date, person, place."""
    return {kind for kind, pattern in _KINDS.items() if pattern.search(question)}


def holds(kind: str, sentence: str) -> bool:
    if kind == "number":
        return bool(_NUMBER.search(sentence))
    if kind == "date":
        return bool(_DATE.search(sentence))
    return bool(_NAME.search(sentence))  # person, place: a capitalised name not at the start


def is_follow_up(question: str) -> bool:
    return bool(_FOLLOW_UP.search(question)) or len(tokenize([question])[0]) <= 2


@dataclass(frozen=True)
class _Candidate:
    sentence: int  # row in index.sentences
    passage_rank: int
    chunk: int
    score: float


def word_weights(index: Index, question: str, context: str) -> dict[str, float]:
    """idf of each question word (stemmed); words only in the conversation context count half."""
    weights: dict[str, float] = {}
    for text, factor in ((context, 0.5), (question, 1.0)):
        for token in set(tokenize([text])[0]):
            weights[token] = max(weights.get(token, 0.0), factor * index.lexical.idf(token))
    return weights


def overlap(weights: dict[str, float], sentence: str) -> float:
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return sum(weights.get(token, 0.0) for token in set(tokenize([sentence])[0])) / total


def answer_question(index: Index, question: str, history: Sequence[tuple[str, str]] | None = None) -> Answer:
    settings = index.settings.answer
    question, truncated = check_question(question, index.settings.max_question_chars)
    context = history[-1][0] if history and is_follow_up(question) else ""
    query = f"{context} {question}".strip()
    hits, vector = index.rank(query, settings.passages)
    if vector is None:
        vector = index.embed_question(query)
    candidates = score_candidates(index, hits, vector, word_weights(index, question, context), question_kinds(query))
    if not candidates:
        return Answer(question, False, NOT_ANSWERED + " Nothing in the index matches it.", (), truncated)
    best = candidates[0]
    if best.score < settings.abstain_below:
        closest = _distinct(index, candidates, settings.max_quotes, 10**9, float("inf"))
        citations = tuple(_citation(index, n, c, question, supports=False) for n, c in enumerate(closest, start=1))
        text = NOT_ANSWERED + " The closest passages are listed below, but none of them says it."
        return Answer(question, False, text, citations, truncated)
    chosen = _distinct(index, candidates, settings.max_quotes, settings.max_quote_chars, settings.second_quote_margin)
    citations = tuple(_citation(index, n, c, question, supports=True) for n, c in enumerate(chosen, start=1))
    text = " ".join(f"“{c.quote}” [{c.n}]" for c in citations)
    return Answer(question, True, text, citations, truncated)


def score_candidates(
    index: Index, hits: list[tuple[int, float]], vector: np.ndarray, weights: dict[str, float], kinds: set[str]
) -> list[_Candidate]:
    """Every sentence of the retrieved passages with its support score, best first."""
    settings = index.settings.answer
    first_rank: dict[int, tuple[int, int]] = {}
    for rank, (chunk, _) in enumerate(hits, start=1):
        first, last = (int(v) for v in index.chunks[chunk, 3:5])
        for sentence in range(first, last + 1):
            first_rank.setdefault(sentence, (rank, chunk))
    if not first_rank:
        return []
    ids = np.fromiter(first_rank, dtype=np.int64)
    cosines = index.sentence_vectors[ids].astype(np.float32) @ vector.astype(np.float32)
    scored = []
    for sentence, cosine in zip(ids.tolist(), cosines.tolist()):
        text = _sentence_text(index, sentence)
        rank, chunk = first_rank[sentence]
        score = cosine + settings.overlap_weight * overlap(weights, text) + settings.rank_prior / rank
        if kinds and any(holds(kind, text) for kind in kinds):
            score += settings.type_bonus
        scored.append(_Candidate(sentence, rank, chunk, score))
    return sorted(scored, key=lambda c: (-c.score, c.sentence))


def _sentence_text(index: Index, sentence: int) -> str:
    doc, start, end = (int(v) for v in index.sentences[sentence])
    return index.documents[doc].text[start:end]


def _distinct(index: Index, candidates: list[_Candidate], limit: int, max_chars: int, margin: float) -> list[_Candidate]:
    """Up to ``limit`` good sentences that say different things, within ``max_chars`` of quotation."""
    chosen: list[_Candidate] = []
    seen: list[set[str]] = []
    used = 0
    for candidate in candidates:
        if len(chosen) == limit or candidate.score < candidates[0].score - margin:
            break
        text = _sentence_text(index, candidate.sentence)
        words = set(normalise(text).split())
        if any(len(words & other) >= 0.8 * min(len(words), len(other)) for other in seen):
            continue
        if chosen and used + len(text) > max_chars:
            continue
        chosen.append(candidate)
        seen.append(words)
        used += len(text)
    return chosen


def _citation(index: Index, n: int, candidate: _Candidate, question: str, supports: bool) -> Citation:
    doc_id, start, end = (int(v) for v in index.sentences[candidate.sentence])
    doc = index.documents[doc_id]
    quote = doc.text[start:end]
    span = answer_span(question, quote) if supports else None
    p_start, p_end = (int(v) for v in index.chunks[candidate.chunk, 1:3])
    return Citation(
        n, doc.source, doc.path, start, end, quote, round(candidate.score, 4), doc.page_at(start), doc.line_at(start),
        p_start, p_end,
        start + span[0] if span else None, start + span[1] if span else None, supports,
    )


def answer_span(question: str, quote: str) -> tuple[int, int] | None:
    """Offsets in ``quote`` of the number or date the question asks for, when exactly one new one is there."""
    kinds = question_kinds(question)
    pattern = _DATE if "date" in kinds else _NUMBER if "number" in kinds else None
    if pattern is None:
        return None
    asked = {m.group(0).lower() for m in pattern.finditer(question)}
    found = [m for m in pattern.finditer(quote) if m.group(0).lower() not in asked]
    if len(found) != 1:
        return None
    match = found[0]
    end = match.end()
    while end > match.start() and quote[end - 1] in ".,":
        end -= 1
    return match.start(), end
