"""What the tests of documentation answers share: an index of one Markdown file built with the fake embedder, the
quote of a sentence found by its text, the shipped reader's bars, and a reader's model that records what it reads."""

from __future__ import annotations

from pathlib import Path

from qa import Index
from qa.answer.crossencoder import Reading
from qa.answer.quotes import Bars, Quote
from qa.answer.score import Candidate

from helpers import FakeEmbedder


def markdown_index(tmp_path: Path, embedder: FakeEmbedder, name: str, text: str) -> Index:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / name).write_text(text, encoding="utf-8")
    return Index.build([tmp_path / "docs"], tmp_path / "index", embedder=embedder)


def bars(further_at: float) -> Bars:
    """The shipped reader's unsure bars, with ``further_at`` set."""
    return Bars(further_at=further_at, unsure_below=0.5, unsure_below_structured=0.8)


def quote_of(index: Index, text: str) -> Quote:
    rows = index.corpus.sentences
    sentence = next(s for s in range(len(rows)) if index.corpus.sentence_text(s) == text)
    return Quote(Candidate(sentence, 1, 0, 1.0, 1.0, probability=0.9), int(rows["start"][sentence]), int(rows["end"][sentence]))


class Recording:
    """The reader's model, keeping what it was given to read; it marks the last 5 characters of each text."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def read(self, question: str, texts: list[str]) -> list[Reading]:
        self.texts += texts
        return [Reading(0.0, (len(t) - 5, len(t)), 1.0) for t in texts]
