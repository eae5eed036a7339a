"""The evaluation harness: answer rate, quote accuracy, abstention and citation validity.

Input: JSONL lines ``{"question": str, "answers": [str, ...]}``; an empty list
means the sources do not answer the question. Gold answers are matched inside
quotes after SQuAD-style normalisation (case, punctuation, articles, spaces).
``evaluate_file`` gives the totals (``EvalReport``) and one ``QuestionResult``
per question, so a failing question can be found.
"""

from __future__ import annotations

import json
import re
import string
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import QAError
from .types import Answer, Citation

if TYPE_CHECKING:
    from .api import Index

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation) | {"“", "”", "‘", "’", "–", "—"}


def normalise_answer(text: str) -> str:
    text = "".join(" " if ch in _PUNCTUATION else ch for ch in text.lower())
    return " ".join(_ARTICLES.sub(" ", text).split())


def contains_answer(quote: str, answers: Iterable[str]) -> bool:
    padded = f" {normalise_answer(quote)} "
    return any(f" {normalise_answer(a)} " in padded for a in answers if normalise_answer(a))


def token_f1(found: str, answer: str) -> float:
    """SQuAD's token F1 between a marked span and a gold answer (0 when either is empty)."""
    a, b = normalise_answer(found).split(), normalise_answer(answer).split()
    common = sum((Counter(a) & Counter(b)).values())
    if not common:
        return 0.0
    precision, recall = common / len(a), common / len(b)
    return 2 * precision * recall / (precision + recall)


def marked_answer(citation: Citation) -> str:
    """The answer a citation marks inside its quote ('' when it marks none)."""
    if citation.answer_start is None or citation.answer_end is None:
        return ""
    return citation.quote[citation.answer_start - citation.start : citation.answer_end - citation.start]


def marks_answer(citation: Citation, answers: Iterable[str]) -> bool:
    """Whether the citation's marked answer overlaps a gold one (token F1 >= 0.5, as SQuAD's partial credit)."""
    found = marked_answer(citation)
    return bool(found) and max((token_f1(found, a) for a in answers), default=0.0) >= 0.5


@dataclass(frozen=True)
class EvalReport:
    questions: int
    answerable: int
    unanswerable: int
    answered_rate: float  # answerable questions that got an answer
    first_quote_correct: float  # answerable questions whose first quote holds a gold answer
    any_quote_correct: float  # ... whose quotes (at most three) hold one
    abstention_rate: float  # unanswerable questions where the bot said the sources do not answer
    citation_validity: float  # citations whose quote equals its source slice (must be 1.0)
    mean_quote_chars: float
    answer_marked: float  # answered answerable questions whose first quote marks a gold answer, of those answered
    marks_right: float  # of those first quotes that mark an answer at all, the share whose mark is a gold one

    def summary(self) -> str:
        return "\n".join([
            f"questions: {self.questions} ({self.answerable} answerable, {self.unanswerable} unanswerable)",
            f"answered (answerable): {self.answered_rate:.1%}",
            f"first quote holds a gold answer: {self.first_quote_correct:.1%}",
            f"some quote holds a gold answer: {self.any_quote_correct:.1%}",
            f"abstained (unanswerable): {self.abstention_rate:.1%}",
            f"citation validity: {self.citation_validity:.1%}",
            f"mean quotation length: {self.mean_quote_chars:.0f} characters",
            f"answer marked in the first quote (of answered): {self.answer_marked:.1%}",
            f"marks that overlap a gold answer: {self.marks_right:.1%}",
        ])


@dataclass(frozen=True)
class QuestionResult:
    """One question's outcome. ``correct`` is what the totals count: for an answerable question, an answer whose
    first quote holds a gold answer (``first_quote_correct``); for an unanswerable one, declining (``abstention_rate``)."""

    question: str
    expected: tuple[str, ...]  # the gold answers; () when the sources do not answer the question
    answered: bool
    correct: bool
    first_quote: str  # the answer's first quote; "" when declined (closest passages are not quotes)
    source: str  # the first quote's document (display name); "" when declined
    page: int | None  # ... its page (PDFs), else None
    line: int | None  # ... its line, None when declined
    gold_quote: int | None  # [n] of the first quote holding a gold answer (any_quote_correct); None when none does, or declined
    marked: str  # the answer marked inside the first quote; "" when none is marked, or declined


@dataclass(frozen=True)
class Evaluation:
    report: EvalReport
    results: tuple[QuestionResult, ...]  # in the order of the questions file


def read_questions(path: str | Path) -> list[tuple[str, list[str]]]:
    items: list[tuple[str, list[str]]] = []
    try:
        if not Path(path).is_file():  # a folder, or a named pipe that would never end
            raise QAError(f"{path} is not a file. Give a UTF-8 JSONL file of questions.")
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise QAError(f"Cannot read {path}: {error}. Give a UTF-8 JSONL file.") from error
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            items.append((str(row["question"]), [str(a) for a in row.get("answers", [])]))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise QAError(f'{path}, line {number}: expected {{"question": ..., "answers": [...]}} ({error}).') from error
    if not items:
        raise QAError(f"{path} holds no questions.")
    return items


def citation_is_valid(index: Index, path: str, start: int, end: int, quote: str) -> bool:
    doc = index.document(path)
    return doc is not None and doc.text[start:end] == quote


def score(index: Index, items: list[tuple[str, list[str]]], answers: list[Answer]) -> EvalReport:
    answerable = [(gold, a) for (_, gold), a in zip(items, answers, strict=True) if gold]
    unanswerable = [a for (_, gold), a in zip(items, answers, strict=True) if not gold]
    citations = [c for a in answers for c in a.citations]
    answered = [(gold, a) for gold, a in answerable if a.answered]
    quotes = [sum(len(c.quote) for c in a.citations) for _, a in answered]
    marked = sum(bool(marked_answer(a.citations[0])) for _, a in answered)
    marked_right = sum(marks_answer(a.citations[0], g) for g, a in answered)  # an unmarked quote is never right

    def rate(count: int, total: int) -> float:
        return count / total if total else 0.0

    return EvalReport(
        questions=len(items),
        answerable=len(answerable),
        unanswerable=len(unanswerable),
        answered_rate=rate(len(answered), len(answerable)),
        first_quote_correct=rate(sum(contains_answer(a.citations[0].quote, g) for g, a in answered), len(answerable)),
        any_quote_correct=rate(sum(any(contains_answer(c.quote, g) for c in a.citations) for g, a in answered), len(answerable)),
        abstention_rate=rate(sum(not a.answered for a in unanswerable), len(unanswerable)),
        citation_validity=rate(sum(citation_is_valid(index, c.path, c.start, c.end, c.quote) for c in citations), len(citations))
        if citations else 1.0,
        mean_quote_chars=sum(quotes) / len(quotes) if quotes else 0.0,
        answer_marked=rate(marked_right, len(answered)),
        marks_right=rate(marked_right, marked),
    )


def judge(question: str, gold: list[str], answer: Answer) -> QuestionResult:
    quotes = answer.citations if answer.answered else ()
    first = quotes[0] if quotes else None
    return QuestionResult(
        question=question,
        expected=tuple(gold),
        answered=answer.answered,
        correct=(first is not None and contains_answer(first.quote, gold)) if gold else not answer.answered,
        first_quote=first.quote if first else "",
        source=first.source if first else "",
        page=first.page if first else None,
        line=first.line if first else None,
        gold_quote=next((c.n for c in quotes if contains_answer(c.quote, gold)), None),
        marked=marked_answer(first) if first else "",
    )


def evaluate_file(index: Index, path: str | Path) -> Evaluation:
    items = read_questions(path)
    answers = [index.answer(question) for question, _ in items]
    results = tuple(judge(question, gold, answer) for (question, gold), answer in zip(items, answers, strict=True))
    return Evaluation(score(index, items, answers), results)
