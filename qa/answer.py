"""Answers made of verbatim quotes: the top of the pipeline.

A question goes down the stages: the retriever ranks passages (``retrieve``), the
reader scores their sentences (``judge``), the best ones are quoted (``quotes``),
or the answer says the sources do not answer, listing the closest sentences as
not an answer. Quotes are sliced from the document text by offset, so they are
verbatim by construction.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .corpus import Corpus
from .judge import load_reader, read, read_next, score_candidates, word_weights
from .kinds import answer_span, is_follow_up
from .quotes import Quote, closest_sentences, select_quotes
from .retrieve import Retriever, check_question
from .settings import Settings
from .types import Answer, Citation

NOT_ANSWERED = "The sources do not answer this question."


def answer_question(
    corpus: Corpus, retriever: Retriever, settings: Settings, question: str, history: Sequence[tuple[str, str]] | None = None
) -> Answer:
    """An answer to ``question`` (a follow-up of ``history``'s last question when it reads like one)."""
    options = settings.answer
    question, truncated = check_question(question, settings.max_question_chars)
    context = history[-1][0] if history and is_follow_up(question) else ""
    query = f"{context} {question}".strip()
    hits, vector = retriever.rank(query, options.passages)
    if vector is None:
        vector = retriever.embed_question(query)
    if context:  # a follow-up: its own words matter more than the conversation's
        vector = vector + retriever.embed_question(question)
        vector = vector / max(float(np.linalg.norm(vector)), 1e-9)
    weights = word_weights(retriever.lexical, question, context)
    candidates = score_candidates(corpus, hits, vector, weights, query, options)
    if not candidates:
        return Answer(question, False, NOT_ANSWERED + " Nothing in the index matches it.", (), truncated)
    reader = load_reader(options.reader)
    judged = read(corpus, candidates, query, reader)
    if max(c.confidence for c in judged) < reader.combiner.answer_at:
        closest = closest_sentences(corpus, judged, options.max_quotes)
        citations = tuple(citation(corpus, n, q, question, supports=False) for n, q in enumerate(closest, start=1))
        text = NOT_ANSWERED + " The closest passages are listed below, but none of them says it."
        return Answer(question, False, text, citations, truncated)
    following = read_next(corpus, judged[0], candidates, judged, query, reader)
    chosen = select_quotes(corpus, judged, following, weights, options, reader.combiner.further_at)
    citations = tuple(citation(corpus, n, q, question, supports=True) for n, q in enumerate(chosen, start=1))
    text = " ".join(f"“{c.quote}” [{c.n}]" for c in citations)
    return Answer(question, True, text, citations, truncated)


def citation(corpus: Corpus, n: int, chosen: Quote, question: str, supports: bool) -> Citation:
    """Citation ``n`` for a chosen quote, with the passage it was taken from."""
    candidate, start, end = chosen.candidate, chosen.start, chosen.end
    doc = corpus.sentence_document(candidate.sentence)
    quote = doc.text[start:end]
    span = answer_span(question, quote) if supports else None
    chunk = corpus.chunks[candidate.chunk]
    p_start, p_end = min(int(chunk["start"]), start), max(int(chunk["end"]), end)
    return Citation(
        n, doc.source, doc.path, start, end, quote, round(candidate.answers, 4), doc.page_at(start), doc.line_at(start),
        p_start, p_end,
        start + span[0] if span else None, start + span[1] if span else None, supports,
        doc.text[p_start:p_end],
    )
