"""The SQuAD 2.0 articles of ``../shared/eval/squad2`` as one corpus, and their questions.

Each article is one text file (its paragraphs separated by blank lines, named after the
article); all 8 are indexed together with the real model. Questions carry their gold answers
(none for the adversarial ones) and the fold that holds their article out: the same 4 folds
of 2 articles as ``training/reader.py --folds``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from qa import Index

from .common import REPO, write_corpus

sys.path.insert(0, str(REPO))
from training.reader import folds as reader_folds  # one fold assignment for training and bench

SQUAD2 = Path("squad2") / "squad2-dev-half-train.json"


@dataclass(frozen=True)
class Item:
    article: str
    question: str
    answers: tuple[str, ...]  # empty: adversarial, the sources do not answer it
    fold: int


def load(eval_dir: Path) -> list[dict]:
    return json.loads((eval_dir / SQUAD2).read_text(encoding="utf-8"))["data"]


def items(articles: list[dict]) -> list[Item]:
    fold_of = {title: k for k, group in enumerate(reader_folds(a["title"] for a in articles)) for title in group}
    return [Item(a["title"], qa["question"], tuple(x["text"] for x in qa["answers"]), fold_of[a["title"]])
            for a in articles for p in a["paragraphs"] for qa in p["qas"]]


def build_index(eval_dir: Path, folder: Path) -> Index:
    """The 8 articles indexed as one corpus in ``folder`` (kept: a rebuild embeds nothing new)."""
    articles = load(eval_dir)
    paths = write_corpus(folder / "corpus", [
        (f"{a['title'].replace('_', ' ')}.txt", "\n\n".join(p["context"] for p in a["paragraphs"]) + "\n") for a in articles
    ])
    return Index.build(paths, folder / "index")
