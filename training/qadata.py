"""The reader's training data: answerable questions from ``../shared/eval/qatrain`` as sentence pairs.

Each question comes with its paragraph split into sentences by the product's own splitter (QED
brings its own sentence starts) and the answer's character span. Pairs, in a fixed order:

- the sentence holding the answer (every sentence holding the answer text counts as gold) -> 1,
  with the answer's span inside it for the span head;
- the other sentence of the paragraph sharing most words with the question -> 0;
- a sentence from another paragraph of the same article sharing most words with the question -> 0
  (what a question the passage does not answer looks like);
- for a share of the questions, the question with a name, number or year its gold sentence holds
  swapped for another from the article, or negated, against that gold sentence -> 0.

Sources and licenses: ``../shared/eval/qatrain/README.md`` (SQuAD v1.1 train CC BY-SA 4.0,
SQuAD-Shifts CC BY 4.0, QED CC BY-SA 3.0, COVID-QA Apache-2.0). None of their paragraphs is in
SQuAD 2.0 dev or XQuAD, so the figures measured there stay held out.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from qa.index.chunk import chunk_document
from qa.settings import ChunkSettings

_STOP = {
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "by", "with", "from", "and", "or", "is", "was",
    "were", "are", "be", "been", "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "did",
    "do", "does", "that", "this", "as", "its", "it", "their",
}
_YEAR = re.compile(r"\b(?:1[0-9]{3}|20[0-9]{2})\b")
_NUMBER = re.compile(r"\b\d[\d,.]*\d\b|\b\d\b")
_NAME = re.compile(r"(?<=\s)[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")
_VERB = re.compile(r"\b(?:is|was|are|were|did|does|do|can|could|has|have|had|will|would|should)\b")
SQUAD_FILES = ("squad-v1.1-train.json.gz", "squadshifts/new_wiki_v1.0.json.gz", "squadshifts/reddit_v1.0.json.gz",
               "squadshifts/amazon_reviews_v1.0.json.gz", "covidqa/200423_covidQA.json.gz")
QED_FILES = tuple(f"qed/nq-train-0{i}-qed.jsonlines.gz" for i in range(6))
LONGEST_CONTEXT = 6000  # characters: COVID-QA's whole papers would cost more splitting than they teach


@dataclass(frozen=True)
class Paragraph:
    article: str  # source file and title: negatives from other paragraphs stay inside one article
    title: str
    sentences: tuple[str, ...]


@dataclass(frozen=True)
class Question:
    text: str
    paragraph: int  # index into the list of paragraphs
    gold: tuple[int, ...]  # sentences holding the answer text
    span: tuple[int, int, int]  # (sentence, start, end): the answer's characters inside its first gold sentence


@dataclass(frozen=True)
class Pair:
    question: str
    title: str
    sentence: str
    label: float
    span: tuple[int, int] | None  # the answer's characters inside ``sentence`` (positives only)


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text.lower()) if w not in _STOP}


def sentence_bounds(context: str, title: str) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in chunk_document(context, title, ChunkSettings()).sentences]


def find_question(text: str, paragraph: int, sentences: list[tuple[int, int]], context: str, start: int, answer: str) -> Question | None:
    holder = next((i for i, (a, b) in enumerate(sentences) if a <= start and start + len(answer) <= b), None)
    if holder is None or not answer.strip():
        return None  # the answer crosses a sentence boundary: no single sentence answers
    gold = tuple(i for i, (a, b) in enumerate(sentences) if answer in context[a:b])
    a = sentences[holder][0]
    return Question(text, paragraph, gold, (holder, start - a, start - a + len(answer)))


def load(root: Path, every: int = 1, files: tuple[str, ...] = SQUAD_FILES, qed: bool = True,
         offset: int = 0) -> tuple[list[Paragraph], list[Question]]:
    """Paragraphs and questions of qatrain, every ``every``-th question (a fixed subsample, starting ``offset``
    questions later: offsets 0 to every-1 share out all of them) of the SQuAD-format ``files`` and, with ``qed``, of QED."""
    paragraphs: list[Paragraph] = []
    questions: list[Question] = []
    for name in files:
        with gzip.open(root / name, "rt", encoding="utf-8") as handle:
            data = json.load(handle)["data"]
        n = 0
        for article in data:
            title = str(article.get("title", "")).replace("_", " ")
            for para in article["paragraphs"]:
                context = para["context"]
                if len(context) > LONGEST_CONTEXT:
                    continue
                spans = sentence_bounds(context, title)
                kept = []
                for qa in para["qas"]:
                    n += 1
                    if (n - offset) % every or not qa.get("answers"):
                        continue
                    answer = qa["answers"][0]
                    q = find_question(qa["question"], len(paragraphs), spans, context, int(answer["answer_start"]), answer["text"])
                    if q is not None:
                        kept.append(q)
                paragraphs.append(Paragraph(f"{name}:{title}", title, tuple(context[a:b] for a, b in spans)))
                questions += kept
    for paragraph, question in _qed(root, every, offset) if qed else ():
        if question is not None:
            questions.append(Question(question.text, len(paragraphs), question.gold, question.span))
        paragraphs.append(paragraph)
    return paragraphs, questions


def _qed(root: Path, every: int, offset: int) -> Iterator[tuple[Paragraph, Question | None]]:
    """QED: real search-engine questions, the paragraph with its sentence starts and the answer span."""
    n = 0
    for name in QED_FILES:
        with gzip.open(root / name, "rt", encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                text, starts = record["paragraph_text"], record["sentence_starts"]
                if not starts:
                    continue  # a record without sentences has nothing to pair (a few in today's files)
                bounds = [(a, b) for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
                spans = [(a, a + len(text[a:b].rstrip())) for a, b in bounds]
                title = record["title_text"]
                paragraph = Paragraph(f"{name}:{title}", title, tuple(text[a:b] for a, b in spans))
                n += 1
                q = None
                if not (n - offset) % every and record.get("answer_spans"):
                    start, end = record["answer_spans"][0]
                    q = find_question(record["question_text"], -1, spans, text, start, text[start:end])
                yield paragraph, q


def pairs(paragraphs: list[Paragraph], questions: list[Question], made_up_every: int = 3) -> list[Pair]:
    """Training pairs in a fixed order (see the module's docstring)."""
    by_article: dict[str, list[int]] = {}
    for i, p in enumerate(paragraphs):
        by_article.setdefault(p.article, []).append(i)
    out: list[Pair] = []
    for n, q in enumerate(questions):
        para = paragraphs[q.paragraph]
        asked = words(q.text)
        holder, start, end = q.span
        out.append(Pair(q.text, para.title, para.sentences[holder], 1.0, (start, end)))
        others = [i for i in range(len(para.sentences)) if i not in q.gold]
        if others:
            best = max(others, key=lambda i: (len(asked & words(para.sentences[i])), -i))
            out.append(Pair(q.text, para.title, para.sentences[best], 0.0, None))
        neighbours = [i for i in by_article[para.article] if i != q.paragraph]
        if neighbours:
            pool = neighbours[(n * 7) % len(neighbours):][:8] or neighbours[:8]  # a few paragraphs, not the whole article
            candidates = [(len(asked & words(s)), j, s) for j in pool for s in paragraphs[j].sentences]
            if candidates:
                _, _, sentence = max(candidates, key=lambda c: (c[0], -c[1]))
                out.append(Pair(q.text, para.title, sentence, 0.0, None))
        if made_up_every and n % made_up_every == 0:
            changed = perturb(q.text, para, holder, paragraphs, by_article[para.article], n)
            if changed:
                out.append(Pair(changed, para.title, para.sentences[holder], 0.0, None))
    return out


def digest(pairs: list[Pair]) -> str:
    """A fingerprint of the training pairs (pairs made otherwise must not resume another run's checkpoint)."""
    made = hashlib.sha256()
    for p in pairs:
        made.update(f"{p.question}\x1f{p.sentence}\x1f{p.label}\x1f{p.span}\x1e".encode())
    return made.hexdigest()[:16]


def perturb(question: str, para: Paragraph, holder: int, paragraphs: list[Paragraph], article: list[int], n: int) -> str | None:
    """The question with one thing its gold sentence confirms swapped for another of the article, or negated."""
    gold = para.sentences[holder]
    kinds = ((_YEAR, "year"), (_NUMBER, "number"), (_NAME, "name"))
    for pattern, _ in kinds[n % 3:] + kinds[: n % 3]:  # each question tries another kind first
        for match in pattern.finditer(question):
            if match.group(0) not in gold:
                continue
            pool = sorted({v for j in article[:20] for s in paragraphs[j].sentences for v in pattern.findall(s)}
                          - {match.group(0)})
            pool = [v for v in pool if v not in gold and v not in question]
            if pool:
                return question[: match.start()] + pool[(n * 7919) % len(pool)] + question[match.end():]
    verb = _VERB.search(question)
    if verb and " not " not in question and n % 2 == 0:
        return question[: verb.end()] + " not" + question[verb.end():]
    return None
