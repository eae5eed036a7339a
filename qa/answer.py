"""Answers made of verbatim quotes: choosing sentences, abstaining, marking the answer span.

Each sentence of the top passages gets a support score:

    cosine(question, sentence)                      the embedder's judgement
  + overlap_weight x idf-weighted share of the question's words in the sentence
  + rank_prior / passage rank                       the retriever's judgement
  + type_bonus when the question asks for a number, date, person or place
    and the sentence holds one

The best one to three sentences are quoted (no near-duplicates, ~400 characters).
When the best sentence's support (cosine + weighted overlap, without the prior
and bonus, which do not tell answerable from unanswerable) is under
``abstain_below``, the answer says the sources do not answer, and lists the
closest sentences as not an answer. ``Citation.score`` is that support.
Quotes are sliced from the document text by offset, so they are verbatim by construction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .lexical import tokenize
from .quotes import Candidate, Quote, closest_sentences, select_quotes, sentence_text
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


def holds(kind: str, sentence: str, question: str = "") -> bool:
    """Whether the sentence names a thing of this kind that the question does not already name."""
    pattern = _NUMBER if kind == "number" else _DATE if kind == "date" else _NAME  # person, place: a name
    asked = question.lower()
    return any(match.group(0).lower() not in asked for match in pattern.finditer(sentence))


def is_follow_up(question: str) -> bool:
    return bool(_FOLLOW_UP.search(question)) or len(tokenize([question])[0]) <= 2


def word_weights(index: Index, question: str, context: str) -> dict[str, float]:
    """idf of each content word of the question (stemmed; stop and question words dropped).

    Names in the question (capitalised words after the first) weigh at least the
    median word: in a small corpus about one subject, its name is in every passage
    and its idf is near zero, yet it is what the question is about.
    Words only in the conversation context count half.
    """
    weights: dict[str, float] = {}
    for text, factor in ((context, 0.5), (question, 1.0)):
        idf = {token: index.lexical.idf(token) for token in set(tokenize([text], "en_plus")[0])}
        if not idf:
            continue
        names = set(tokenize([" ".join(m.group(0) for m in _NAME.finditer(text))], "en_plus")[0]) if factor == 1.0 else set()
        floor = float(np.median(list(idf.values())))
        for token, value in idf.items():
            value = max(value, floor) if token in names else value
            weights[token] = max(weights.get(token, 0.0), factor * value)
    return weights


def overlap(weights: dict[str, float], sentence: str) -> float:
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return sum(weights.get(token, 0.0) for token in set(tokenize([sentence], "en_plus")[0])) / total


def answer_question(index: Index, question: str, history: Sequence[tuple[str, str]] | None = None) -> Answer:
    settings = index.settings.answer
    question, truncated = check_question(question, index.settings.max_question_chars)
    context = history[-1][0] if history and is_follow_up(question) else ""
    query = f"{context} {question}".strip()
    hits, vector = index.rank(query, settings.passages)
    if vector is None:
        vector = index.embed_question(query)
    if context:  # a follow-up: its own words matter more than the conversation's
        vector = vector + index.embed_question(question)
        vector = vector / max(float(np.linalg.norm(vector)), 1e-9)
    weights = word_weights(index, question, context)
    candidates = score_candidates(index, hits, vector, weights, query)
    if not candidates:
        return Answer(question, False, NOT_ANSWERED + " Nothing in the index matches it.", (), truncated)
    best = candidates[0]
    if best.support < settings.abstain_below:
        closest = closest_sentences(index, candidates, settings.max_quotes)
        citations = tuple(_citation(index, n, q, question, supports=False) for n, q in enumerate(closest, start=1))
        text = NOT_ANSWERED + " The closest passages are listed below, but none of them says it."
        return Answer(question, False, text, citations, truncated)
    chosen = select_quotes(index, candidates, weights, settings)
    citations = tuple(_citation(index, n, q, question, supports=True) for n, q in enumerate(chosen, start=1))
    text = " ".join(f"“{c.quote}” [{c.n}]" for c in citations)
    return Answer(question, True, text, citations, truncated)


def score_candidates(
    index: Index, hits: list[tuple[int, float]], vector: np.ndarray, weights: dict[str, float], query: str
) -> list[Candidate]:
    """Every sentence of the retrieved passages with its support score, best first."""
    settings = index.settings.answer
    kinds = question_kinds(query)
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
        text = sentence_text(index, sentence)
        rank, chunk = first_rank[sentence]
        support = cosine + settings.overlap_weight * overlap(weights, text)
        score = support + settings.rank_prior / rank
        if any(holds(kind, text, query) for kind in kinds):
            score += settings.type_bonus
        scored.append(Candidate(sentence, rank, chunk, score, support))
    return sorted(scored, key=lambda c: (-c.score, c.sentence))


def _citation(index: Index, n: int, chosen: Quote, question: str, supports: bool) -> Citation:
    candidate, start, end = chosen.candidate, chosen.start, chosen.end
    doc = index.documents[int(index.sentences[candidate.sentence, 0])]
    quote = doc.text[start:end]
    span = answer_span(question, quote) if supports else None
    p_start, p_end = (int(v) for v in index.chunks[candidate.chunk, 1:3])
    return Citation(
        n, doc.source, doc.path, start, end, quote, round(candidate.support, 4), doc.page_at(start), doc.line_at(start),
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
