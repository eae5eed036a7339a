"""Fit the combiner (qa/answer/combiner.py): the reader's logit with the cheap signals, and when to decline.

Product conditions: the 27 SQuAD 2.0 articles indexed as one corpus with the real model; each
question retrieves passages as the product does, their sentences are ranked by the cheap
score, and the top ``--judge`` of them are read by the shipped cross-encoder (``models/reader``),
which was trained on qatrain and never saw these articles.

Nested cross-validation by fold: the held-out figures of fold k come from a combiner and a
threshold fitted on the other folds' questions only (also written to each fold's folder, for
bench/reader.py, beside a copy of the shipped model). The shipped ``combiner.json`` is fitted on all
folds; its threshold answers ``ANSWERED`` of the answerable questions.

Run: python -m training.combiner [--judge N] [--out models/reader]   (after training/reader.py)
"""

from __future__ import annotations

import argparse
import json
import pickle
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from evaldata import CACHE, REPO, squad2
from evaldata.squad2 import FOLDS
from qa.answer.combiner import COMBINER_FILE, FEATURES, Combiner, Linear
from qa.answer.crossencoder import CONFIG_FILE, MODEL_FILE, TOKENIZER_FILE, load_cross_encoder
from qa.evaluate import contains_answer
from training.probe import lowest_bar

if TYPE_CHECKING:
    from qa import Index
    from qa.answer.crossencoder import CrossEncoder
    from qa.answer.score import Candidate

# The share of answerable questions answered at the chosen threshold: at least 88%, the bar for a useful bot. Held
# out, adapted reader, 4 read: 0.83 -> 83.1% answered, 51.5% declined; 0.87 -> 86.3%, 43.6%; 0.89 -> 88.4%, 39.6%;
# 0.91 -> 90.2%, 34.4%.
ANSWERED = 0.89
FURTHER_PRECISION = 0.5  # further quotes (of answered questions) that hold a gold answer, on the training folds
# Candidate sentences the reader reads (best by the cheap score), then orders: on held-out SQuAD 2.0 folds 4 put the
# answer first as often as 6 or 8 (86.9% against 86.8% / 86.7%) at half the cost of 8; 1 or 2 decide and rank worse
# (models/reader/MODEL_CARD.md).
JUDGED = 4
REORDER = True  # order the read sentences by the reader's rank probability
JUDGE_CHOICES = (1, 2, 3, 4, 6, 8)  # cross-validated by default; features of the most are collected and cached per fold
VARIANTS = {  # name -> (features of ``rank``, features of ``decide``); the others get weight 0
    "the cheap signals: cosine + overlap": (("cosine", "overlap"), ("cosine", "overlap")),
    "reader alone": (("reader",), ("reader",)),
    "every signal, both": (FEATURES, FEATURES),
    "rank: every signal; decide: reader + cosine": (FEATURES, ("reader", "cosine")),
    "rank: every signal; decide: reader + cosine + kind": (FEATURES, ("reader", "cosine", "kind_missing")),
    "rank: reader + cosine + overlap; decide: reader + cosine": (("reader", "cosine", "overlap"), ("reader", "cosine")),
    "rank: reader + cosine + overlap; decide: reader + cosine + span": (("reader", "cosine", "overlap"), ("reader", "cosine", "span")),
    "rank: reader + cosine + overlap + span; decide: reader + cosine + span": (("reader", "cosine", "overlap", "span"),
                                                                              ("reader", "cosine", "span")),
    "rank: reader + overlap + span; decide: reader + span": (("reader", "overlap", "span"), ("reader", "span")),
}
SHIPPED = "rank: reader + cosine + overlap; decide: reader + cosine"  # the best of VARIANTS on held-out folds
FIGURES = REPO / "bench" / "results" / "combiner_variants.json"  # every variant's held-out figures (not the model's file)
# How the product finds and scores a question's candidates: features or negatives cached from another version are stale
CANDIDATE_CODE = ("qa/answer/compose.py", "qa/answer/score.py", "qa/answer/weights.py")


def candidate_code() -> bytes:
    """The source of the code that finds a question's candidates (``CANDIDATE_CODE``), for the caches' keys."""
    return b"".join((REPO / path).read_bytes() for path in CANDIDATE_CODE)


def product_candidates(index: Index, question: str, judged: int) -> list[Candidate]:
    """The question's best ``judged`` candidate sentences by the cheap score, as the product gives them to the reader."""
    from qa.answer.compose import candidate_sentences

    return candidate_sentences(index, index.retriever.read(question, None, index.settings.max_question_chars))[1][:judged]


def candidate_rows(index: Index, item: squad2.Item, model: CrossEncoder, judged: int) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels (the sentence holds a gold answer) of the question's best candidates, as the product reads them."""
    from qa.answer.reader import reader_features

    candidates = product_candidates(index, item.question, judged)
    if not candidates:
        return np.zeros((0, len(FEATURES)), np.float32), np.zeros(0, bool)
    rows, _ = reader_features(index.corpus, candidates, item.question, model)
    return rows, np.array([contains_answer(index.corpus.sentence_text(c.sentence), item.answers) for c in candidates])


def collect(eval_dir: Path, readers: dict[int, Path], cache_dir: Path, judged: int) -> list[dict]:
    """Candidate features of every question, fold k's read by the reader in ``readers[k]`` (cached in ``cache_dir``)."""
    import hashlib

    weights = b"".join((readers[k] / "model.onnx").read_bytes() for k in sorted(readers))
    digest = hashlib.sha256(weights + candidate_code()).hexdigest()[:12]
    cache = cache_dir / f"features-{judged}-{len(FEATURES)}-{digest}.pkl"  # a new feature, reader or candidate code: a new cache
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    index = squad2.build_index(eval_dir, REPO / "data" / "squad2")
    models = {k: load_cross_encoder(str(folder)) for k, folder in readers.items()}
    records = []
    for item in squad2.items(squad2.load(eval_dir)):
        rows, labels = candidate_rows(index, item, models[item.fold], judged)
        records.append({"fold": item.fold, "original": item.original, "answerable": bool(item.answers), "rows": rows,
                        "labels": labels})
    cache_dir.mkdir(parents=True, exist_ok=True)
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
    weights = dict(zip(used, model.coef_[0].tolist(), strict=True))
    return Linear(tuple(float(weights.get(f, 0.0)) for f in FEATURES), float(model.intercept_[0]))


def fit(records: list[dict], variant: tuple[tuple[str, ...], tuple[str, ...]], judged: int, reorder: bool) -> Combiner:
    rank, decide = linear(records, variant[0]), linear(records, variant[1])
    best = np.array([decide.probability(r["rows"]).max() if len(r["rows"]) else 0.0 for r in records if r["answerable"]])
    answer_at = float(np.quantile(best, 1 - ANSWERED))
    # unsure_below and unsure_below_structured are carried over as the dataclass's defaults (0.5, 0.8): they were
    # chosen by hand on development sets (qa/answer/combiner.py), not fitted by this script.
    return Combiner(rank, decide, answer_at, further_bar(records, rank, decide, answer_at, reorder), judged, reorder)


def quote_order(rows: np.ndarray, rank: Linear, reorder: bool) -> list[int]:
    """The candidates in the order the product would quote them: by ``rank`` when reordering, else as read."""
    if not reorder:
        return list(range(len(rows)))
    return sorted(range(len(rows)), key=lambda i: -float(rank.probability(rows[i : i + 1])[0]))


def further_bar(records: list[dict], rank: Linear, decide: Linear, answer_at: float, reorder: bool) -> float:
    """The lowest ``rank`` probability at which further quotes of answered questions hold a gold answer
    ``FURTHER_PRECISION`` of the time (1.0: none)."""
    seconds = []
    for r in records:
        if len(r["rows"]) > 1 and decide.probability(r["rows"]).max() >= answer_at:
            p = rank.probability(r["rows"])
            seconds += [(float(p[i]), bool(r["answerable"] and r["labels"][i])) for i in quote_order(r["rows"], rank, reorder)[1:]]
    bar = lowest_bar(seconds, FURTHER_PRECISION)
    return min(bar, 1.0)


def figures(records: list[dict], combiner: Combiner) -> dict[str, float]:
    """As the product would answer: decline under ``answer_at``, else quote the best sentence (the reader's best
    when ``reorder``, else the cheap score's) and at most two more that reach ``further_at``."""
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
            p = combiner.rank.probability(r["rows"])
            order = quote_order(r["rows"], combiner.rank, combiner.reorder)
            further = [i for i in order[1:] if p[i] >= combiner.further_at][:2]
            answered += 1
            first += bool(r["labels"][order[0]])
            any_holds += bool(r["labels"][[order[0], *further]].any())
            extra += len(further)
            extra_right += sum(bool(r["labels"][i]) for i in further)
    n_answerable, n_adversarial = sum(kinds), len(kinds) - sum(kinds)
    return {"answered": answered / n_answerable, "first_holds_answer": first / max(answered, 1),
            "a_quote_holds_answer": any_holds / max(answered, 1), "adversarial_declined": declined / n_adversarial,
            "auroc_decide": float(roc_auc_score(kinds, best)), "further_per_answer": extra / max(answered, 1),
            "further_holding_answer": extra_right / max(extra, 1)}


def cross_validate(records: list[dict], variant: tuple[tuple[str, ...], tuple[str, ...]], judged: int, reorder: bool) -> dict[str, float]:
    per_fold = []
    for k in sorted({r["fold"] for r in records}):
        combiner = fit([r for r in records if r["fold"] != k], variant, judged, reorder)
        per_fold.append((sum(r["fold"] == k for r in records), figures([r for r in records if r["fold"] == k], combiner)))
    total = sum(n for n, _ in per_fold)
    return {key: sum(n * f[key] for n, f in per_fold) / total for key in per_fold[0][1]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=REPO.parent / "shared" / "eval")
    parser.add_argument("--folds-dir", type=Path, default=CACHE / "reader-folds")
    parser.add_argument("--judge", type=int, nargs="+", default=list(JUDGE_CHOICES), help="candidates the reader reads")
    parser.add_argument("--out", type=Path, default=REPO / "models" / "reader", help="the reader's folder")
    parser.add_argument("--fold-readers", action="store_true",
                        help="fold k's questions read by the reader in FOLDS_DIR/foldK (training/adapt.py), not by --out's")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    folds = range(FOLDS)
    readers = {k: args.folds_dir / f"fold{k}" if args.fold_readers else args.out for k in folds}
    records = collect(args.eval_dir, readers, args.folds_dir, max(args.judge))
    report: dict[str, dict] = {}
    for judged in args.judge:
        cut = best_of(records, judged)
        for reorder in (False, True):
            for name, variant in VARIANTS.items():
                key = f"{name}, {judged} judged{', reader order' if reorder else ''}"
                report[key] = cross_validate(cut, variant, judged, reorder)
                print(f"{key}: " + ", ".join(f"{k} {v:.3f}" for k, v in report[key].items()), flush=True)
    shipped = best_of(records, JUDGED)
    for k in sorted({r["fold"] for r in records}):  # for bench/reader.py: fold k's combiner never saw fold k
        held_out = fit([r for r in shipped if r["fold"] != k], VARIANTS[SHIPPED], JUDGED, REORDER)
        folder = args.folds_dir / f"fold{k}"
        folder.mkdir(parents=True, exist_ok=True)
        for name in () if args.fold_readers else (MODEL_FILE, TOKENIZER_FILE, CONFIG_FILE):  # the one reader, beside fold k's combiner
            shutil.copy(args.out / name, folder / name)
        (folder / COMBINER_FILE).write_text(json.dumps(held_out.to_json(), indent=2) + "\n")
    combiner = fit(shipped, VARIANTS[SHIPPED], JUDGED, REORDER)
    (args.out / COMBINER_FILE).write_text(json.dumps({**combiner.to_json(), "variant": SHIPPED, "answered_share": ANSWERED,
                                                      "further_precision": FURTHER_PRECISION}, indent=2) + "\n")
    FIGURES.write_text(json.dumps({"judged": JUDGED, "shipped": SHIPPED, "cross_validated": report}, indent=1) + "\n")
    print(f"wrote {args.out / COMBINER_FILE} in {time.perf_counter() - started:.0f} s: {combiner.to_json()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
