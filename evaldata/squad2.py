"""The SQuAD 2.0 articles of ``../shared/eval/squad2`` as one corpus, their questions, and the folds by article.

27 articles of the SQuAD 2.0 dev set: the 8 this project started with (``ORIGINAL``, the figures before
2026-12-05 are over these alone) and 19 more (``OTHER``, every XQuAD paragraph removed). Each article is one text
file (its paragraphs separated by blank lines, named after the article); all are indexed together with the real
model. Questions carry their gold answers (none for the adversarial ones), whether their article is one of the
original 8, and the fold that holds their article out: ``FOLDS`` folds, the same for training the fold readers
(``training/adapt.py``), calibrating the decision (``training/combiner.py``) and measuring it (``bench/reader.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from qa import Index

from . import write_corpus

ORIGINAL = Path("squad2") / "squad2-dev-half-train.json"  # 8 articles, 2,917 questions (1,477 adversarial)
OTHER = Path("squad2") / "squad2-dev-other19-train.json"  # 19 articles, 4,825 questions (2,289 adversarial)
FILES = (ORIGINAL, OTHER)
# 3 folds of 8 to 10 articles: each fold reader trains on 17 to 19 articles (a fold reader of 4 folds of 2 saw only
# 6), and three fold adaptations are what a 2-core session affords beside the main run (about 5 min each).
FOLDS = 3


@dataclass(frozen=True)
class Item:
    article: str
    question: str
    answers: tuple[str, ...]  # empty: adversarial, the sources do not answer it
    fold: int
    original: bool  # one of the 8 original articles (today's figures compare on these)


def folds(articles: Iterable[str], original: Iterable[str] = ()) -> list[list[str]]:
    """``FOLDS`` groups of held-out articles: the ``original`` ones and the others each dealt in title order, so
    that every fold holds some of the original 8."""
    firsts = sorted(set(original))
    rest = sorted(set(articles) - set(firsts))
    return [firsts[k::FOLDS] + rest[k::FOLDS] for k in range(FOLDS)]


def load(eval_dir: Path) -> list[dict]:
    """Every article of both files, each marked ``"original"`` when it comes from the first."""
    out = []
    for path in FILES:
        out += [{**a, "original": path == ORIGINAL} for a in json.loads((eval_dir / path).read_text(encoding="utf-8"))["data"]]
    return out


def fold_of(articles: list[dict]) -> dict[str, int]:
    groups = folds((a["title"] for a in articles), (a["title"] for a in articles if a.get("original")))
    return {title: k for k, group in enumerate(groups) for title in group}


def items(articles: list[dict]) -> list[Item]:
    fold = fold_of(articles)
    return [Item(a["title"], qa["question"], tuple(x["text"] for x in qa["answers"]), fold[a["title"]], bool(a.get("original")))
            for a in articles for p in a["paragraphs"] for qa in p["qas"]]


def build_index(eval_dir: Path, folder: Path) -> Index:
    """The articles indexed as one corpus in ``folder`` (kept: a rebuild embeds nothing new)."""
    articles = load(eval_dir)
    paths = write_corpus(folder / "corpus", [
        (f"{a['title'].replace('_', ' ')}.txt", "\n\n".join(p["context"] for p in a["paragraphs"]) + "\n") for a in articles
    ])
    return Index.build(paths, folder / "index")
