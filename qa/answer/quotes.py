"""Choosing which sentences to quote, and how much of each (pure logic).

The sentence the reader judged most likely to answer is always quoted whole. A further
quote must add to it: the sentence right after it, or another sentence the reader judges as
answering (a second source), each at least ``further_at`` likely; near-duplicates are
skipped. When the reader is unsure the first answers by itself (its probability under
``unsure_below``, or ``unsure_below_structured`` in a document with sections: ``Bars``), the quote
widens within its paragraph or section: the sentence right after it and the other sentences
among the best few by the cheap score there are quoted too (``widen_among``). Documentation
often names the topic in one sentence and answers in the next ("Tilde requirements specify a
minimal version with some ability to update." "...only patch-level changes are allowed."), and
the reader, reading one sentence at a time, cannot see which of two neighbours holds the answer.
When a further sentence does not fit the quotation budget, its best clause window (a
verbatim part of it, cut at commas, semicolons, colons or dashes) is quoted instead, if one
that holds question words fits.

Documentation answers with the thing itself: a sentence ending in ":" ("Let's try our first search by looking for
all occurrences of the word fast in README.md:") introduces the code block or list that answers. When a quote
introduces one (the first that does: ``blocks.py`` says which), the block (or the list's items) is quoted right after
it, verbatim and with its own offsets, as much as ``introduced_chars`` holds, cut at a line end.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

from ..index.corpus import Corpus
from ..read.clean import normalise
from ..settings import AnswerSettings
from .blocks import introduced_span
from .score import Candidate, overlap

_CLAUSE_END = re.compile(r"[,;:]\s+|\s+[–—-]\s+|\s+(?=\()")
MIN_CLAUSE_CHARS = 30


@dataclass(frozen=True)
class Bars:
    """The reader's own probabilities that quoting turns on (its combiner.json; Settings may override the unsure ones)."""

    further_at: float  # a further quote needs at least this (1.0 or more: none is admitted for its own score)
    unsure_below: float  # a first quote less likely than this widens within its paragraph or section
    unsure_below_structured: float  # the same in a document with sections


@dataclass(frozen=True)
class Quote:
    candidate: Candidate
    start: int  # offsets in the document; the whole sentence or a clause window of it
    end: int


def closest_sentences(corpus: Corpus, candidates: list[Candidate], limit: int) -> list[Quote]:
    """The best distinct sentences, whole (shown as the closest passages after abstaining)."""
    return _pick(corpus, candidates, limit, budget=10**9, weigh=None)


def select_quotes(corpus: Corpus, judged: list[Candidate], candidates: list[Candidate],
                  weights_of: Callable[[int], dict[str, float]],
                  settings: AnswerSettings, bars: Bars, judge_one: Callable[[Candidate], Candidate] | None) -> list[Quote]:
    """The best judged sentence, then the ones that add to it (see the module's docstring). ``candidates``: every
    candidate by the cheap score (the unjudged ones an unsure quote may widen over); ``bars``: the reader's
    (``Reader.bars``); ``weights_of``: the question's word weights for a sentence (``WordWeights.of``); ``judge_one``: the
    reader, for the sentence right after the first (None: it is not judged)."""
    best, further_at = judged[0], bars.further_at
    unsure = is_unsure(corpus, best, bars)
    # An unsure first quote widens over the near sentences among the best few and the next one: they are quoted for
    # where they stand, not for their own score, so the reader does not judge them (their citations' score is 0).
    # After a sure one, the next sentence is judged only if its score could admit it.
    widened = [c for c in candidates[len(judged) : settings.widen_among] if near(corpus, best, c)] if unsure else []
    following = next_sentence(corpus, best, candidates, judged, judge_one if not unsure and further_at < 1.0 else None)

    def adds(candidate: Candidate) -> bool:
        return candidate.probability >= further_at or (unsure and near(corpus, best, candidate))

    further = [c for c in judged[1:] + widened if adds(c)]
    if following is not None and following not in further and adds(following):
        further.insert(0, following)
    chosen = _pick(corpus, [best, *further], settings.max_quotes, settings.max_quote_chars,
                   lambda candidate, text: overlap(weights_of(candidate.sentence), text))
    for n, quote in enumerate(chosen):  # the first quote that introduces a block or list brings it, right after it
        block = introduced(corpus, quote, settings.introduced_chars)
        if block is not None:
            rest = [q for q in chosen[n + 1 :] if q.end <= block.start or q.start >= block.end]  # not the block's sentences again
            return [*chosen[: n + 1], block, *rest][: max(settings.max_quotes, n + 2)]
    return chosen


def introduced(corpus: Corpus, first: Quote, budget: int) -> Quote | None:
    """The code block, or the run of list items, that ``first`` introduces (``blocks.introduced_span``), as a quote of
    its own. None otherwise. Unread (its score is 0)."""
    doc = corpus.sentence_document(first.candidate.sentence)
    span = introduced_span(doc, first.start, first.end, budget)
    if span is None:
        return None
    rows = corpus.sentences
    sentence = next((s for s in range(first.candidate.sentence + 1, len(rows))
                     if rows["doc"][s] == rows["doc"][first.candidate.sentence] and int(rows["start"][s]) >= span[0]), None)
    if sentence is None or int(rows["start"][sentence]) >= span[1]:
        return None
    return Quote(replace(first.candidate, sentence=sentence, probability=0.0, span=None), *span)


def next_sentence(corpus: Corpus, best: Candidate, candidates: list[Candidate], judged: list[Candidate],
                  judge_one: Callable[[Candidate], Candidate] | None) -> Candidate | None:
    """The sentence right after ``best`` in the same document and one of the retrieved passages (None if there is
    none): as judged already, else judged by ``judge_one`` (else unjudged, its ``answers`` 0)."""
    following = next((c for c in judged if c.sentence == best.sentence + 1), None)
    if following is None:
        following = next((c for c in candidates if c.sentence == best.sentence + 1), None)
        if following is None:
            return None
        if judge_one is not None:
            following = judge_one(following)
    doc = corpus.sentences["doc"]
    return following if doc[following.sentence] == doc[best.sentence] else None


def is_unsure(corpus: Corpus, best: Candidate, bars: Bars) -> bool:
    """Is the reader unsure that ``best`` answers by itself (so that the quote widens around it)?"""
    structured = bool(corpus.sentence_document(best.sentence).blocks)
    return best.probability < (bars.unsure_below_structured if structured else bars.unsure_below)


def near(corpus: Corpus, best: Candidate, other: Candidate) -> bool:
    """Is ``other`` prose in the same section as ``best`` (structured documents), or in the same paragraph (plain text)?"""
    return not corpus.is_code(other.sentence) and corpus.same_place(best.sentence, other.sentence)


def _pick(corpus: Corpus, candidates: list[Candidate], limit: int, budget: int,
          weigh: Callable[[Candidate, str], float] | None) -> list[Quote]:
    chosen: list[Quote] = []
    seen: list[set[str]] = []
    used = 0
    for candidate in candidates:
        if len(chosen) == limit:
            break
        row = corpus.sentences[candidate.sentence]
        start, end = int(row["start"]), int(row["end"])
        text = corpus.sentence_text(candidate.sentence)
        words = set(normalise(text).split())
        if any(len(words & other) >= 0.8 * min(len(words), len(other)) for other in seen):
            continue
        if chosen and used + len(text) > budget:
            window = clause_window(text, partial(weigh, candidate), budget - used) if weigh else None
            if window is None:
                continue
            start, end = start + window[0], start + window[1]
        chosen.append(Quote(candidate, start, end))
        seen.append(words)
        used += end - start
    return chosen


def clause_window(text: str, weigh: Callable[[str], float], budget: int) -> tuple[int, int] | None:
    """The run of whole clauses of ``text`` within ``budget`` characters that weighs most."""
    if budget < MIN_CLAUSE_CHARS:
        return None
    cuts = sorted({0, len(text), *(m.end() for m in _CLAUSE_END.finditer(text))})
    best: tuple[float, int, int, int] | None = None
    for i, a in enumerate(cuts[:-1]):
        for b in cuts[i + 1 :]:
            piece = text[a:b].rstrip(" ,;:–—-(")
            if len(piece) > budget:
                break
            if len(piece) < MIN_CLAUSE_CHARS or (a, a + len(piece)) == (0, len(text)):
                continue
            weight = weigh(piece)
            if weight > 0 and (best is None or (weight, len(piece)) > (best[0], best[3])):
                best = (weight, a, a + len(piece), len(piece))
    return (best[1], best[2]) if best else None
