"""The SQuAD 2.0 articles of ``../shared/eval/squad2`` as one corpus, their questions, and the folds by article.

Each article is one text file (its paragraphs separated by blank lines, named after the article); all 8 are
indexed together with the real model. Questions carry their gold answers (none for the adversarial ones) and the
fold that holds their article out: ``FOLDS`` folds of 2 articles, the same for training the fold readers
(``training/adapt.py``), calibrating the decision (``training/combiner.py``) and measuring it (``bench/reader.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from qa import Index

from . import write_corpus

SQUAD2 = Path("squad2") / "squad2-dev-half-train.json"
FOLDS = 4  # 8 articles in 4 folds of 2


@dataclass(frozen=True)
class Item:
    article: str
    question: str
    answers: tuple[str, ...]  # empty: adversarial, the sources do not answer it
    fold: int


def folds(articles: Iterable[str]) -> list[list[str]]:
    """``FOLDS`` groups of held-out articles (in title order, every ``FOLDS``-th article)."""
    ordered = sorted(set(articles))
    return [ordered[k::FOLDS] for k in range(FOLDS)]


def load(eval_dir: Path) -> list[dict]:
    return json.loads((eval_dir / SQUAD2).read_text(encoding="utf-8"))["data"]


def items(articles: list[dict]) -> list[Item]:
    fold_of = {title: k for k, group in enumerate(folds(a["title"] for a in articles)) for title in group}
    return [Item(a["title"], qa["question"], tuple(x["text"] for x in qa["answers"]), fold_of[a["title"]])
            for a in articles for p in a["paragraphs"] for qa in p["qas"]]


def build_index(eval_dir: Path, folder: Path) -> Index:
    """The 8 articles indexed as one corpus in ``folder`` (kept: a rebuild embeds nothing new)."""
    articles = load(eval_dir)
    paths = write_corpus(folder / "corpus", [
        (f"{a['title'].replace('_', ' ')}.txt", "\n\n".join(p["context"] for p in a["paragraphs"]) + "\n") for a in articles
    ])
    return Index.build(paths, folder / "index")
