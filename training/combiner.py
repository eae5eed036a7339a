"""Fit the combiner (qa/combiner.py): the reader's logit with today's signals, and when to decline.

Product conditions: the 8 SQuAD 2.0 articles indexed as one corpus with the real model; each
question retrieves passages as the product does, their sentences are ranked by today's cheap
score, and the top ``--judge`` of them are read by the cross-encoder of the fold that held the
question's article out (``data/reader-folds/foldK``, from ``training/reader.py --folds``). So
every reader score here is on an article its model never saw.

Nested cross-validation by fold: the held-out figures of fold k come from a combiner and a
threshold fitted on the other folds' questions only (also written to each fold's folder, for
bench/reader.py). The shipped ``combiner.json`` is fitted on all folds; its threshold answers
``ANSWERED`` of the answerable questions.

Run: python training/combiner.py [--judge N] [--out models/reader]   (needs the fold models)
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import squad2  # noqa: E402
from qa.combiner import COMBINER_FILE, FEATURES, Combiner, Linear  # noqa: E402
from qa.crossencoder import load_cross_encoder  # noqa: E402
from qa.evaluate import contains_answer  # noqa: E402
from training.reader import FOLDS  # noqa: E402

ANSWERED = 0.89  # share of answerable questions answered at the chosen threshold: as many as possible while a margin stays over the 40% adversarial-declined target on held-out folds (6-layer reader, 2 read at 48 tokens: 0.85 -> 85.0% answered, 48.7% declined; 0.88 -> 87.2%, 45.6%; 0.90 -> 89.5%, 41.8%; 0.91 -> 90.6%, 39.1%)
FURTHER_PRECISION = 0.5  # further quotes (of answered questions) that hold a gold answer, on the training folds
JUDGED = 1  # candidate sentences the cross-encoder reads to decide (best by the cheap score): with the 6-layer reader, 1 decides almost as well as 2, 3 or 8 on held-out folds (AUROC 0.746 / 0.749 / 0.751 / 0.753; 0.697 for 3 read by the 3-layer reader) at a third of the cost of 3 read by the 3-layer one
JUDGE_CHOICES = (1, 2, 3, 4, 8)  # cross-validated by default; features of the most are collected and cached per fold
VARIANTS = {  # name -> (features of ``rank``, features of ``decide``); the others get weight 0
    "today's signals: cosine + overlap": (("cosine", "overlap"), ("cosine", "overlap")),
    "reader alone": (("reader",), ("reader",)),
    "every signal, both": (FEATURES, FEATURES),
    "rank: every signal; decide: reader + cosine": (FEATURES, ("reader", "cosine")),
    "rank: every signal; decide: reader + cosine + kind": (FEATURES, ("reader", "cosine", "kind_missing")),
    "rank: reader + cosine + overlap; decide: reader + cosine": (("reader", "cosine", "overlap"), ("reader", "cosine")),
}
SHIPPED = "rank: reader + cosine + overlap; decide: reader + cosine"  # the best of VARIANTS on held-out folds


def candidate_rows(index, item: squad2.Item, model, judged: int) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Features and labels (the sentence holds a gold answer) of the question's best candidates, as the product reads them."""
    from qa.judge import reader_features, score_candidates, word_weights

    settings = index.settings.answer
    hits, vector = index.retriever.rank(item.question, settings.passages)
    weights = word_weights(index.lexical, item.question, "")
    candidates = score_candidates(index.corpus, hits, vector, weights, item.question, settings)[:judged]
    if not candidates:
        return np.zeros((0, len(FEATURES)), np.float32), np.zeros(0, bool)
    rows = reader_features(index.corpus, candidates, item.question, model)
    return rows, np.array([contains_answer(index.corpus.sentence_text(c.sentence), item.answers) for c in candidates])


def collect(eval_dir: Path, folds_dir: Path, judged: int, fold: int) -> list[dict]:
    """Candidate features of fold ``fold``'s questions, read by that fold's model (cached in its folder)."""
    cache = folds_dir / f"fold{fold}" / f"features-{judged}.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    index = squad2.build_index(eval_dir, REPO / "data" / "squad2")
    model = load_cross_encoder(str(folds_dir / f"fold{fold}"))
    records = []
    for item in squad2.items(squad2.load(eval_dir)):
        if item.fold == fold:
            rows, labels = candidate_rows(index, item, model, judged)
            records.append({"fold": item.fold, "answerable": bool(item.answers), "rows": rows, "labels": labels})
    cache.write_bytes(pickle.dumps(records))
    return records


def best_of(records: list[dict], judged: int) -> list[dict]:
    """The records as if the reader had read only the best ``judged`` candidates of each question."""
    return [{**r, "rows": r["rows"][:judged], "labels": r["labels"][:judged]} for r in records]


def linear(records: list[dict], used: tuple[str, ...]) -> Linear:
    """A logistic regression on the chosen features: does the sentence hold a gold answer?"""
    from sklearn.linear_model import LogisticRegression

    columns = [FEATURES.index(f) for f in used]
    rows = np.vstack([r["rows"] for r in records])[:, columns]
    labels = np.concatenate([r["labels"] for r in records])
    model = LogisticRegression(C=1.0, max_iter=1000).fit(rows, labels)
    weights = dict(zip(used, model.coef_[0].tolist()))
    return Linear(tuple(float(weights.get(f, 0.0)) for f in FEATURES), float(model.intercept_[0]))


def fit(records: list[dict], variant: tuple[tuple[str, ...], tuple[str, ...]], judged: int) -> Combiner:
    rank, decide = linear(records, variant[0]), linear(records, variant[1])
    best = np.array([decide.probability(r["rows"]).max() if len(r["rows"]) else 0.0 for r in records if r["answerable"]])
    answer_at = float(np.quantile(best, 1 - ANSWERED))
    return Combiner(rank, decide, answer_at, further_bar(records, rank, decide, answer_at), judged)


def further_bar(records: list[dict], rank: Linear, decide: Linear, answer_at: float) -> float:
    """The lowest ``rank`` probability at which further quotes of answered questions hold a gold answer
    ``FURTHER_PRECISION`` of the time (1.0: none)."""
    seconds = []
    for r in records:
        if len(r["rows"]) > 1 and decide.probability(r["rows"]).max() >= answer_at:
            p = rank.probability(r["rows"])
            seconds += [(float(p[i]), bool(r["answerable"] and r["labels"][i])) for i in range(1, len(p))]
    seconds.sort(reverse=True)
    right, bar = 0, 1.0
    for n, (p, holds) in enumerate(seconds, start=1):
        right += holds
        if right / n >= FURTHER_PRECISION:
            bar = p
    return bar


def figures(records: list[dict], combiner: Combiner) -> dict[str, float]:
    """As the product would answer: decline under ``answer_at``, else quote the cheap score's best sentence
    and at most two more that reach ``further_at``."""
    from sklearn.metrics import roc_auc_score

    answered = first = any_holds = extra = extra_right = declined = 0
    best, kinds = [], []
    for r in records:
        confidence = combiner.decide.probability(r["rows"]).max() if len(r["rows"]) else 0.0
        best.append(float(confidence))
        kinds.append(r["answerable"])
        if confidence < combiner.answer_at:
            declined += not r["answerable"]
            continue
        if r["answerable"]:
            p = combiner.rank.probability(r["rows"])  # the product quotes the cheap score's best first
            further = [i for i in range(1, len(p)) if p[i] >= combiner.further_at][:2]
            answered += 1
            first += bool(r["labels"][0])
            any_holds += bool(r["labels"][[0, *further]].any())
            extra += len(further)
            extra_right += sum(bool(r["labels"][i]) for i in further)
    n_answerable, n_adversarial = sum(kinds), len(kinds) - sum(kinds)
    return {"answered": answered / n_answerable, "first_holds_answer": first / max(answered, 1),
            "a_quote_holds_answer": any_holds / max(answered, 1), "adversarial_declined": declined / n_adversarial,
            "auroc_decide": float(roc_auc_score(kinds, best)), "further_per_answer": extra / max(answered, 1),
            "further_holding_answer": extra_right / max(extra, 1)}


def cross_validate(records: list[dict], variant: tuple[tuple[str, ...], tuple[str, ...]], judged: int) -> dict[str, float]:
    per_fold = []
    for k in sorted({r["fold"] for r in records}):
        combiner = fit([r for r in records if r["fold"] != k], variant, judged)
        per_fold.append((sum(r["fold"] == k for r in records), figures([r for r in records if r["fold"] == k], combiner)))
    total = sum(n for n, _ in per_fold)
    return {key: sum(n * f[key] for n, f in per_fold) / total for key in per_fold[0][1]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=REPO.parent / "shared" / "eval")
    parser.add_argument("--folds-dir", type=Path, default=REPO / "data" / "reader-folds")
    parser.add_argument("--judge", type=int, nargs="+", default=list(JUDGE_CHOICES), help="candidates the reader reads")
    parser.add_argument("--out", type=Path, default=REPO / "models" / "reader")
    parser.add_argument("--fold", type=int, nargs="*", help="only collect these folds' features (while others train)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    records = [r for k in args.fold or range(FOLDS) for r in collect(args.eval_dir, args.folds_dir, max(args.judge), k)]
    if args.fold:  # only collecting some folds' features
        return 0
    report: dict[str, dict] = {}
    for judged in args.judge:
        cut = best_of(records, judged)
        for name, variant in VARIANTS.items():
            report[f"{name}, {judged} judged"] = cross_validate(cut, variant, judged)
            print(f"{name}, {judged} judged: " + ", ".join(f"{k} {v:.3f}" for k, v in report[f'{name}, {judged} judged'].items()), flush=True)
    shipped = best_of(records, JUDGED)
    for k in sorted({r["fold"] for r in records}):  # for bench/reader.py: fold k's combiner never saw fold k
        held_out = fit([r for r in shipped if r["fold"] != k], VARIANTS[SHIPPED], JUDGED)
        (args.folds_dir / f"fold{k}" / COMBINER_FILE).write_text(json.dumps(held_out.to_json(), indent=2) + "\n")
    combiner = fit(shipped, VARIANTS[SHIPPED], JUDGED)
    (args.out / COMBINER_FILE).write_text(json.dumps({**combiner.to_json(), "variant": SHIPPED, "answered_share": ANSWERED,
                                                      "further_precision": FURTHER_PRECISION, "cross_validated": report},
                                                     indent=2) + "\n")
    print(f"wrote {args.out / COMBINER_FILE} in {time.perf_counter() - started:.0f} s: {combiner.to_json()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
