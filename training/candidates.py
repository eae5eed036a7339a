"""Hard negatives from the product's own candidates, for the SQuAD 2.0 adaptation (``training/adapt.py``).

The product reads the best 4 sentences by the cheap score (``qa/answer/score.py``) from the whole corpus, orders
them by the reader and declines when none is likely enough. The adaptation's own negatives are the paragraph's
most similar sentence and, for an adversarial question, its plausible answer's; the sentences the cheap score puts
first for that question are what the reader must tell apart in use. Here every SQuAD 2.0 question is run through
retrieval and the cheap score once (the 27 articles indexed together, as ``training/combiner.py`` does); its best
candidates that hold no gold answer (all of them, for an adversarial question) are kept as negatives, with the
article each comes from, so that a fold's training leaves out the held-out articles' questions and sentences both.

Run by ``python -m training.adapt --product-negatives N``; cached in ``~/.cache/qa`` (no reader needed).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from evaldata import CACHE, REPO, squad2
from qa.evaluate import contains_answer
from qa.settings import AnswerSettings
from training import qadata
from training.combiner import JUDGED, candidate_code, product_candidates


@dataclass(frozen=True)
class Negative:
    article: str  # the question's article (its fold)
    question: str
    source: str  # the article the sentence comes from (another fold's, possibly)
    sentence: str


def product_negatives(eval_dir: Path) -> list[Negative]:
    """For every SQuAD 2.0 question, the best ``JUDGED`` candidates by the cheap score (those the reader reads) that hold
    no gold answer, best first (cached per setting and code of the cheap score: changing either makes them anew)."""
    options = AnswerSettings()
    chosen = (JUDGED, options.passages, options.overlap_weight, options.rank_prior, options.type_bonus)
    cache = CACHE / f"squad2-product-negatives-{hashlib.sha256(repr(chosen).encode() + candidate_code()).hexdigest()[:12]}.json"
    if cache.exists():
        return [Negative(**row) for row in json.loads(cache.read_text(encoding="utf-8"))]
    index = squad2.build_index(eval_dir, REPO / "data" / "squad2")
    corpus = index.corpus
    out: list[Negative] = []
    for item in squad2.items(squad2.load(eval_dir)):
        for c in product_candidates(index, item.question, JUDGED):
            text = corpus.sentence_text(c.sentence)
            if item.answers and contains_answer(text, item.answers):
                continue
            source = corpus.titles[int(corpus.sentences["doc"][c.sentence])].replace(" ", "_")  # the file's name
            out.append(Negative(item.article, item.question, source, text))
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps([n.__dict__ for n in out]), encoding="utf-8")
    return out


def negative_pairs(negatives: list[Negative], articles: set[str], per_question: int) -> list[qadata.Pair]:
    """At most ``per_question`` negatives of each question of ``articles``, each sentence from ``articles`` too."""
    taken: dict[tuple[str, str], int] = {}
    pairs = []
    for n in negatives:
        asked = (n.article, n.question)
        if n.article not in articles or n.source not in articles or taken.get(asked, 0) >= per_question:
            continue
        taken[asked] = taken.get(asked, 0) + 1
        pairs.append(qadata.Pair(n.question, n.source.replace("_", " "), n.sentence, 0.0, None))
    return pairs
