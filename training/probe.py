"""The held-out probe: SQuAD 2.0 articles (the original 8 by default; never trained on by the qatrain reader), each
question against every sentence of its paragraph, read by an exported reader. Figures: how often the best sentence
holds the answer, how well the logit tells answerable from adversarial questions, and how often the span it marks
overlaps the answer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evaldata import EVAL
from evaldata.squad2 import ORIGINAL
from qa.answer.crossencoder import pair_text
from training import qadata

PROBE = EVAL / ORIGINAL


@dataclass(frozen=True)
class ProbeQuestion:
    article: str
    title: str
    text: str
    sentences: tuple[str, ...]  # the paragraph's sentences
    gold: frozenset[int]  # sentences holding a gold answer (empty: adversarial)
    answers: tuple[str, ...]


def load_probe(path: Path = PROBE, articles: list[dict] | None = None) -> list[ProbeQuestion]:
    """The SQuAD 2.0 articles of ``path`` (or the loaded ``articles``): each question against every sentence of its
    paragraph."""
    questions = []
    for article in articles if articles is not None else json.loads(path.read_text(encoding="utf-8"))["data"]:
        title = article["title"].replace("_", " ")
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            spans = qadata.sentence_bounds(context, title)
            for qa in paragraph["qas"]:
                gold = frozenset(i for a in qa["answers"] for i, (s, e) in enumerate(spans) if s <= a["answer_start"] < e)
                questions.append(ProbeQuestion(article["title"], title, qa["question"], tuple(context[a:b] for a, b in spans),
                                               gold, tuple(a["text"] for a in qa["answers"])))
    return questions


def evaluate(model_dir: Path, questions: list[ProbeQuestion]) -> dict[str, float]:
    """The int8 reader on SQuAD 2.0 (each question against every sentence of its paragraph): how often its best
    sentence holds the answer, how well it tells answerable from adversarial, and how often the span it marks
    in the gold sentence overlaps the answer (token F1 >= 0.5)."""
    from sklearn.metrics import roc_auc_score

    from qa.answer.crossencoder import load_cross_encoder
    from qa.evaluate import token_f1

    reader = load_cross_encoder(str(model_dir))
    best, answerable, top, marked = [], [], [], []
    for q in questions:
        texts = [pair_text(q.title, s) for s in q.sentences]
        scores = reader.score(q.text, texts)
        best.append(float(scores.max()))
        answerable.append(bool(q.gold))
        if q.gold:
            first = int(np.argmax(scores))
            top.append(first in q.gold)
            if first in q.gold:
                span = reader.answer_span(q.text, texts[first])
                found = texts[first][span[0]:span[1]] if span else ""
                marked.append(max(token_f1(found, a) for a in q.answers) >= 0.5)
    best_a, kinds = np.array(best), np.array(answerable)
    cut = np.quantile(best_a[kinds], 0.15)  # the score at which 85% of answerable questions are answered
    return {"questions": len(questions), "auroc": float(roc_auc_score(kinds, best_a)),
            "declined_at_85_answered": float(np.mean(best_a[~kinds] < cut)), "top_sentence_holds_answer": float(np.mean(top)),
            "span_marked_f1_over_half": float(np.mean(marked)) if marked else 0.0}


def span_marks(model_dir: Path, questions: list[ProbeQuestion]) -> list[tuple[float, bool]]:
    """For each answerable question, in the sentence the reader puts first: how far the span head's best span beats
    "no answer" (its margin), and whether that span is right (token F1 >= 0.5; never when the sentence holds no answer)."""
    from dataclasses import replace

    from qa.answer.crossencoder import load_cross_encoder
    from qa.evaluate import token_f1

    reader = replace(load_cross_encoder(str(model_dir)), span_margin=-np.inf)  # every best span, with its margin
    marks = []
    for q in questions:
        if not q.gold:
            continue
        texts = [pair_text(q.title, s) for s in q.sentences]
        readings = reader.read(q.text, texts)  # one run per sentence gives its logit and its span
        first = int(np.argmax([r.logit for r in readings]))
        reading = readings[first]
        found = texts[first][reading.span[0]:reading.span[1]] if reading.span else ""
        marks.append((reading.margin, first in q.gold and max(token_f1(found, a) for a in q.answers) >= 0.5))
    return marks


def lowest_bar(scored: list[tuple[float, bool]], precision: float) -> float:
    """The lowest score at which the items scoring at least that are right ``precision`` of the time (inf: none)."""
    right, bar = 0, float("inf")
    for n, (score, holds) in enumerate(sorted(scored, key=lambda s: -s[0]), start=1):
        right += holds
        if right / n >= precision:
            bar = score
    return bar
