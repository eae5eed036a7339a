"""A FAQ's own questions: a heading that asks what the user asks names the section that answers it.

FAQs write each question as a heading ("When is the next release?") and answer it in the paragraph right under it,
often in words that share little with the question ("ripgrep is a project whose contributors are volunteers. ...
no dates will ever be given."), so the reader, judging one sentence at a time, may find no sentence that answers.
The heading is never quoted (it is structure, not an answer: ``read.markdown``), but when it says what the question
asks (the embedder's cosine between the two at least ``AnswerSettings.faq_at``), the section's first paragraph is the
answer: it is quoted whole, as far as ``max_quote_chars`` goes (whole sentences), with the code block or list it
introduces. Only the sections of the retrieved passages are looked at, and only question-shaped headings are embedded
(none in most documents).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import PurePath

import numpy as np

from ..index.corpus import Corpus
from ..settings import AnswerSettings
from ..types import Block
from .quotes import Quote, introduced
from .score import Candidate

# a heading that asks: ends with "?", or opens with a question word ("Can Cargo be used inside of make (or ninja, or …)")
QUESTION_HEADING = re.compile(r".*\?\s*$|\s*(?:what|why|how|when|where|who|which|whose|can|could|does|do|did|is|are|"
                              r"was|were|will|would|should|shall|may|must|has|have)\b", re.I | re.S)
ANSWER_KINDS = ("text", "item", "code")  # what a section's answer opens with (not a heading, table or metadata)


def faq_quotes(corpus: Corpus, candidates: Sequence[Candidate], question: str, focus: np.ndarray,
               embed: Callable[[list[str]], np.ndarray], settings: AnswerSettings) -> list[Quote]:
    """The first paragraph of the section whose question-shaped heading says what the question asks (the best by
    cosine, at least ``faq_at``) as one quote, then the code block or list it introduces; [] when no heading does."""
    if settings.faq_at > 1.0:
        return []
    sections: dict[tuple[int, tuple[str, ...]], Candidate] = {}
    for candidate in candidates:
        block = _block(corpus, candidate.sentence)
        if block is not None and block.section and QUESTION_HEADING.match(block.section[-1]):
            sections.setdefault((int(corpus.sentences["doc"][candidate.sentence]), block.section), candidate)
    if not sections:
        return []
    keys = list(sections)
    cosines = _similarity(corpus, [sections[key] for key in keys], [section[-1] for _, section in keys], question, focus, embed)
    best = int(np.argmax(cosines))
    if float(cosines[best]) < settings.faq_at:
        return []
    quote = _opening(corpus, candidates, sections[keys[best]], keys[best][1], settings.max_quote_chars)
    if quote is None:
        return []
    shown = introduced(corpus, quote, settings.introduced_chars)
    return [quote] if shown is None else [quote, shown]


def _similarity(corpus: Corpus, found: list[Candidate], headings: list[str], question: str, focus: np.ndarray,
                embed: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """How well each heading says what the question asks: the cosine of the two, or of the two without the words of
    the document's name, whichever is higher. A FAQ leaves out what it is about ("When is the next release?" in
    ripgrep's FAQ) where the question names it ("When is the next ripgrep release?": 0.61 with the name, 1.0 without)."""
    names = [_name_words(corpus, c.sentence) for c in found]
    stripped = [_without(text, words) for text, words in zip(headings, names, strict=True)]
    asked = [_without(question, words) for words in names]
    texts = list(dict.fromkeys(headings + stripped + asked))  # each text embedded once (a FAQ's name is in all its headings)
    row = {text: n for n, text in enumerate(texts)}
    vectors = embed(texts)
    plain = vectors[[row[h] for h in headings]] @ focus.astype(np.float32)
    unnamed = np.sum(vectors[[row[h] for h in stripped]] * vectors[[row[q] for q in asked]], axis=1)
    return np.maximum(plain, unnamed)


def _name_words(corpus: Corpus, sentence: int) -> list[str]:
    """The words of the document's file name and title ("ripgrep", "faq")."""
    doc = corpus.sentence_document(sentence)
    return [w for w in re.findall(r"[^\W\d_]+", f"{PurePath(doc.path or doc.source).stem} {doc.title}") if len(w) > 2]


def _without(text: str, words: list[str]) -> str:
    if not words:
        return text
    names = "|".join(map(re.escape, words))
    return " ".join(re.sub(rf"\b(?:{names})\b", " ", text, flags=re.I).split()) or text


def _block(corpus: Corpus, sentence: int) -> Block | None:
    return corpus.sentence_document(sentence).block_at(int(corpus.sentences["start"][sentence]))


def _opening(corpus: Corpus, candidates: Sequence[Candidate], found: Candidate, section: tuple[str, ...],
             budget: int) -> Quote | None:
    """The section's first paragraph (or list item, or code block): its whole sentences within ``budget`` characters
    (the first always), as a quote standing for its first sentence."""
    rows = corpus.sentences
    doc = rows["doc"][found.sentence]
    first, last = np.searchsorted(rows["doc"], doc), np.searchsorted(rows["doc"], doc, side="right")
    opening = next((s for s in range(int(first), int(last)) if _in_answer(corpus, s, section)), None)
    if opening is None:
        return None
    block = _block(corpus, opening)
    assert block is not None
    start = end = int(rows["start"][opening])
    for s in range(opening, int(last)):
        if int(rows["end"][s]) > block.end or (end > start and int(rows["end"][s]) - start > budget):
            break
        end = int(rows["end"][s])
    # the opening sentence as a candidate (with the reader's judgement when it was read), else one unread
    candidate = next((c for c in candidates if c.sentence == opening), Candidate(opening, found.passage_rank, found.chunk, 0.0, 0.0))
    return Quote(candidate, start, end)


def _in_answer(corpus: Corpus, sentence: int, section: tuple[str, ...]) -> bool:
    block = _block(corpus, sentence)
    return block is not None and block.section == section and block.kind in ANSWER_KINDS
