"""Answers made of verbatim quotes: the top of the pipeline.

A question goes down the stages: the retriever ranks passages (``retrieval``), the cheap
score ranks their sentences (``score``), the reader reads the best and decides (``reader``),
the best ones are quoted (``quotes``),
or the answer says the sources do not answer, listing the closest sentences as
not an answer. Quotes are sliced from the document text by offset, so they are
verbatim by construction; the answer text shows them with wrapped lines joined
(``read.unwrap.display_text``). Code sentences are quoted only when no prose answers; a table's header row never is
(it is structure: a quoted row is shown under it).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from itertools import islice, takewhile
from typing import Protocol

from ..index.corpus import Corpus, CorpusView
from ..read.unwrap import display_text
from ..retrieval.questions import Question
from ..retrieval.retriever import Retriever, distinct
from ..settings import Settings
from ..types import Answer, Block, Citation
from .blocks import asked_cell, is_header_row, table_header
from .faq import faq_quotes
from .kinds import answer_span
from .quotes import Quote, closest_sentences, select_quotes
from .reader import load_reader
from .score import Candidate, score_candidates
from .weights import WordWeights

NOT_ANSWERED = "The sources do not answer this question."

class Searchable(Protocol):
    """What answering needs of an index (``qa.Index`` is one): its corpus, its retriever and its settings."""

    view: CorpusView
    retriever: Retriever
    settings: Settings


def answer_question(index: Searchable, question: str, history: Sequence[Sequence[str]] | None = None) -> Answer:
    """An answer to ``question`` (a follow-up of ``history``'s last question when it reads like one)."""
    options = index.settings.answer
    asked = index.retriever.read(question, history, index.settings.max_question_chars)
    corpus, candidates, weights = candidate_sentences(index, asked)
    question, truncated, query = asked.text, asked.truncated, asked.query
    if not candidates:
        return Answer(question, False, NOT_ANSWERED + " Nothing in the index matches it.", (), truncated)
    reader = load_reader(options.reader)
    judged = reader.judge(corpus, candidates, query)
    answers = reader.any_answers(judged)
    faq = [] if answers else unread_faq(index, corpus, candidates, asked)
    if not answers and not faq:
        closest = closest_sentences(corpus, judged, options.max_quotes)
        citations = tuple(citation(corpus, n, q, question, supports=False) for n, q in enumerate(closest, start=1))
        text = NOT_ANSWERED + " The closest passages are listed below, but none of them says it."
        return Answer(question, False, text, citations, truncated)
    chosen = faq or select_quotes(corpus, judged, candidates, weights.of, options, reader.bars(options),
                                  lambda candidate: reader.judge_one(corpus, candidate, query))
    citations = tuple(citation(corpus, n, q, asked.words, supports=True) for n, q in enumerate(chosen, start=1))
    text = " ".join(f"“{shown_quote(c)}” [{c.n}]" for c in citations)
    return Answer(question, True, text, citations, truncated)


def unread_faq(index: Searchable, corpus: Corpus, candidates: list[Candidate], asked: Question) -> list[Quote]:
    """When the reader finds no answer: the opening of a FAQ section whose heading asks the question (``faq``)."""
    assert asked.focus is not None  # read with its vectors
    embed = index.retriever.embedder.embed
    return faq_quotes(corpus, candidates, asked.query, asked.focus, lambda texts: embed(texts, batch_size=len(texts), threads=1),
                      index.settings.answer)


def candidate_sentences(index: Searchable, asked: Question) -> tuple[Corpus, list[Candidate], WordWeights]:
    """The question's candidate sentences, best first by the cheap score, what the reader is given; with the corpus of
    their documents and the word weights they were scored with (``asked``: read with its vectors)."""
    retriever, options = index.retriever, index.settings.answer
    assert asked.vector is not None and asked.focus is not None  # read with its vectors
    fetched = options.passages * index.settings.retrieval.fetch_per_passage
    hits, _ = retriever.rank(asked.query, fetched, vector=asked.vector, tokens=asked.query_tokens)
    corpus, hits = index.view.around(hits)  # the retrieved chunks' documents (a database reads them now)
    hits = distinct(hits, corpus.chunk_identity, options.passages)
    embedder = None if corpus.has_vectors else retriever.embedder  # an index without sentence vectors
    weights = WordWeights(corpus, asked)
    scored = score_candidates(corpus, hits, asked.focus, weights, asked.query, options, embedder, asked.kinds)
    return corpus, [c for c in prose_first(corpus, scored, options.prose_at) if not is_header_row(corpus, c.sentence)], weights


def shown_quote(citation: Citation) -> str:
    """A quote as the answer text shows it: prose with its wrapped lines joined ("…" where its sentence goes on), code
    and lists line by line, a table row under its header."""
    if citation.layout == "prose":
        return f"{'…' if citation.cut_before else ''}{display_text(citation.quote)}{'…' if citation.cut_after else ''}"
    return "\n" + "\n".join(part.strip("\n") for part in (citation.header, citation.quote) if part) + "\n"


def prose_first(corpus: Corpus, candidates: list[Candidate], prose_at: float) -> list[Candidate]:
    """Code sentences are kept with their prose but quoted only when no prose sentence's cheap support reaches ``prose_at``."""
    prose = [c for c in candidates if not corpus.is_code(c.sentence)]
    return prose if prose and prose[0].support >= prose_at else candidates


def marked_span(corpus: Corpus, chosen: Quote, question: str) -> tuple[int, int] | None:
    """The answer inside the quote (offsets into it): in a table row, the cell under the header the question names
    (``blocks.asked_cell``); else the reader's span head where it is sure, else the one number or date the question asks
    for (``kinds.answer_span``)."""
    doc = corpus.sentence_document(chosen.candidate.sentence)
    cell = asked_cell(doc, chosen.start, chosen.end, question)
    if cell is not None:
        return cell[0] - chosen.start, cell[1] - chosen.start
    span = chosen.candidate.span
    if span is not None:
        sentence_start = int(corpus.sentences[chosen.candidate.sentence]["start"])
        a, b = sentence_start + span[0] - chosen.start, sentence_start + span[1] - chosen.start
        if 0 <= a < b <= chosen.end - chosen.start:
            return a, b
    return answer_span(question, doc.text[chosen.start : chosen.end])


def citation(corpus: Corpus, n: int, chosen: Quote, question: str, supports: bool) -> Citation:
    """Citation ``n`` for a chosen quote, with the passage it was taken from."""
    candidate, start, end = chosen.candidate, chosen.start, chosen.end
    doc = corpus.sentence_document(candidate.sentence)
    quote = doc.text[start:end]
    span = marked_span(corpus, chosen, question) if supports else None
    chunk = corpus.chunks[candidate.chunk]
    p_start, p_end = min(int(chunk["start"]), start), max(int(chunk["end"]), end)
    header = table_header(doc, start)
    shape = "table" if header else layout(corpus, candidate.sentence, start, end)
    s_start, s_end = int(corpus.sentences["start"][candidate.sentence]), int(corpus.sentences["end"][candidate.sentence])
    return Citation(
        n, doc.source, doc.path, start, end, quote, round(candidate.probability, 4), doc.page_at(start), doc.line_at(start),
        p_start, p_end,
        start + span[0] if span else None, start + span[1] if span else None, supports,
        doc.text[p_start:p_end], doc.section_at(start), shape, header=doc.text[header[0] : header[1]] if header else "",
        passage_code=code_around(doc.blocks, p_start, p_end, start, end),
        cut_before=bool(doc.text[s_start:start].strip()) and start < s_end,
        cut_after=bool(doc.text[end:s_end].strip()) and end > s_start,
    )


def code_around(blocks: Sequence[Block], p_start: int, p_end: int, start: int, end: int) -> tuple[tuple[int, int], ...]:
    """The code blocks of the passage ``p_start``..``p_end`` outside the quote ``start``..``end`` (``blocks``: a
    document's, in text order), cut to the passage."""
    within = takewhile(lambda b: b.start < p_end, islice(blocks, bisect_left(blocks, p_start, key=lambda b: b.end), None))
    return tuple((max(b.start, p_start), min(b.end, p_end)) for b in within
                 if b.kind == "code" and b.end > p_start and (b.end <= start or b.start >= end))


def layout(corpus: Corpus, sentence: int, start: int, end: int) -> str:
    """"code" for a code sentence, "list" for a quote over two or more list items, else "prose" (a table row under a
    header is "table": ``citation`` knows it by its header)."""
    if corpus.is_code(sentence):
        return "code"
    blocks = corpus.sentence_document(sentence).blocks  # in text order: only those from the quote's start are looked at
    inside = takewhile(lambda b: b.start < end, islice(blocks, bisect_left(blocks, start, key=lambda b: b.start), None))
    return "list" if sum(b.kind == "item" and b.end <= end for b in inside) >= 2 else "prose"
