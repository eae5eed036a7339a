"""The reader: a small cross-encoder and its combiner, which order the best candidates and decide.

The reader judges the best ``judged`` candidates by the cheap score (``score.py``) and asks
the cross-encoder (``crossencoder.py``) how well each answers the question; the combiner
(``combiner.py``) turns its logit, the cosine, the overlap, a missing answer kind and the
rank prior into the probability that the sentence answers (``Candidate.probability``, which
orders the sentences read and admits further quotes) and the one that decides whether any
does (``Candidate.confidence``): the answer declines when no sentence's confidence reaches
the combiner's ``answer_at``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np

from ..index.corpus import Corpus
from ..read.blocks import cells
from ..read.unwrap import shown_characters
from ..settings import AnswerSettings
from ..types import Document
from .blocks import READ_CHARS, introduced_text, table_header
from .combiner import Combiner, features, load_combiner
from .crossencoder import CrossEncoder, load_cross_encoder, pair_text
from .quotes import Bars
from .score import Candidate


@dataclass(frozen=True)
class Reader:
    model: CrossEncoder
    combiner: Combiner

    def bars(self, settings: AnswerSettings) -> Bars:
        """The combiner's bars for quoting, with ``settings``' unsure ones where they are set (not None)."""
        own = self.combiner
        return Bars(own.further_at,
                    own.unsure_below if settings.unsure_below is None else settings.unsure_below,
                    own.unsure_below_structured if settings.unsure_below_structured is None else settings.unsure_below_structured)

    def judge(self, corpus: Corpus, candidates: list[Candidate], question: str, limit: int | None = None) -> list[Candidate]:
        """The best ``judged`` (or ``limit``) candidates by the cheap score, with the reader's probabilities and spans,
        ordered by the reader's ``rank`` probability (the cheap score breaks ties)."""
        top = candidates[: self.combiner.judged if limit is None else limit]
        if not top:
            return []
        rows, spans = reader_features(corpus, top, question, self.model)
        ranked, decided = self.combiner.rank.probability(rows), self.combiner.decide.probability(rows)
        judged = [replace(c, probability=float(p), confidence=float(d), span=span)
                  for c, p, d, span in zip(top, ranked, decided, spans, strict=True)]
        # The reader orders sentences better than the cheap score (held-out SQuAD 2.0: models/reader/MODEL_CARD.md),
        # so its order replaces the cheap one for the sentences it judged.
        return sorted(judged, key=lambda c: -c.probability) if self.combiner.reorder else judged

    def judge_one(self, corpus: Corpus, candidate: Candidate, question: str) -> Candidate:
        """``candidate`` with the reader's probabilities and span."""
        return self.judge(corpus, [candidate], question, limit=1)[0]

    def any_answers(self, judged: list[Candidate]) -> bool:
        """Does any judged sentence answer the question (the decision to answer or decline)?"""
        return bool(judged) and max(c.confidence for c in judged) >= self.combiner.answer_at


@functools.cache
def load_reader(path: str) -> Reader:
    """The cross-encoder and its combiner in folder ``path`` (each loaded once per process)."""
    return Reader(load_cross_encoder(path), load_combiner(path))


def reader_features(corpus: Corpus, candidates: list[Candidate], question: str, model: CrossEncoder
                    ) -> tuple[np.ndarray, list[tuple[int, int] | None]]:
    """The combiner's input for each candidate (the cross-encoder's logit beside the cheap signals), and the
    answer span the model marks in each sentence (offsets into the sentence)."""
    seen = [read_as(corpus, c.sentence) for c in candidates]
    texts = [text for text, _ in seen]
    titles = [corpus.titles[int(corpus.sentences["doc"][c.sentence])] for c in candidates]
    # A sentence that introduces a code block or list is read with it: "Run the following to test Rich output on your
    # terminal:" answers only with the command after it.
    units = [_with_block(text, introduced_text(corpus, c.sentence, READ_CHARS)) for c, text in zip(candidates, texts, strict=True)]
    # a definition is read under its term: "staff: Allows users to add local modifications ..."
    terms = [corpus.sentence_document(c.sentence).term_at(int(corpus.sentences["start"][c.sentence])) for c in candidates]
    pairs = [pair_text(title, f"{term}: {unit}" if term else unit) for title, term, unit in zip(titles, terms, units, strict=True)]
    readings = model.read(question, pairs)
    spans = [_stored(_in_sentence(r.span, len(pair) - len(unit), len(text)), origin)
             for r, pair, unit, (text, origin) in zip(readings, pairs, units, seen, strict=True)]
    rows = features(np.array([r.logit for r in readings]), np.array([c.cosine for c in candidates]),
                    np.array([c.overlap for c in candidates]), np.array([c.kind_missing for c in candidates]),
                    np.array([c.passage_rank for c in candidates]), np.array([r.margin for r in readings]))
    return rows, spans


def _with_block(sentence: str, block: str) -> str:
    """The sentence, then the block it introduces with its lines joined (the sentence itself unchanged)."""
    return f"{sentence} {' '.join(block.split())}" if block.strip() else sentence


def read_as(corpus: Corpus, sentence: int) -> tuple[str, list[int | None]]:
    """The sentence as the model reads it, and each character's offset in the stored sentence (None: not in it). The
    model learned on plain prose, so it reads what a person sees: Markdown without its inline markup (a link's words,
    not its address); a table row as its header's names with its cells ("Command: cargo test; Default Profile: test
    profile")."""
    row = corpus.sentences[sentence]
    doc, start = corpus.sentence_document(sentence), int(row["start"])
    text, origin = _shown(doc, start, int(row["end"]))
    header = table_header(doc, start)
    names = cells(_shown(doc, *header)[0]) if header else []
    values = cells(text)
    if not names or len(names) != len(values):
        return text, list(origin)
    read: list[str] = []
    where: list[int | None] = []
    for (_, _, name), (a, b, value) in zip(names, values, strict=True):
        label = f"{'; ' if read else ''}{name}: "
        read += [label, value]
        where += [None] * len(label) + list(origin[a:b])
    return "".join(read), where


def _shown(doc: Document, start: int, end: int) -> tuple[str, list[int]]:
    """What a reader of the document sees of ``doc.text[start:end]`` (``read.unwrap.shown_characters``: Markdown without
    its inline markup), and the offset in the stored text's piece of each character seen."""
    shown = shown_characters(doc.text[start:end], doc.path or doc.source)
    return "".join(shown), [at for at, seen in enumerate(shown) for _ in seen]


def _stored(span: tuple[int, int] | None, origin: list[int | None]) -> tuple[int, int] | None:
    """A span of the text the model read as offsets into the stored sentence (None where it falls outside it)."""
    if span is None or span[1] <= span[0] or span[1] > len(origin):
        return None
    first, last = origin[span[0]], origin[span[1] - 1]
    return None if first is None or last is None else (first, last + 1)


def _in_sentence(span: tuple[int, int] | None, shift: int, length: int) -> tuple[int, int] | None:
    """A span of the pair text moved into the sentence of ``length`` characters (None when it falls on the title in
    front, or on the block read after the sentence)."""
    if span is None or span[0] < shift or span[1] - shift > length:
        return None
    return span[0] - shift, span[1] - shift
