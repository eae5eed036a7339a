"""Fit the combiner (qa/combiner.py): the reader's logit with today's signals, and when to decline.

Product conditions: the 8 SQuAD 2.0 articles indexed as one corpus with the real model; each
question retrieves passages as the product does, their sentences are ranked by today's cheap
score, and the top ``--judge`` of them are read by the cross-encoder of the fold that held the
question's article out (``data/reader-folds/foldK``, from ``training/reader.py --folds``). So
every reader score here is on an article its model never saw.

Nested cross-validation by fold: the held-out figures of fold k come from a combiner and a
threshold fitted on the other folds' questions only. The shipped ``combiner.json`` is fitted
on all folds; its threshold answers ``ANSWERED`` of the answerable questions.

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
from qa.combiner import COMBINER_FILE, FEATURES, Combiner, features  # noqa: E402
from qa.crossencoder import load_cross_encoder, pair_text  # noqa: E402
from qa.evaluate import contains_answer  # noqa: E402

ANSWERED = 0.87  # share of answerable questions answered at the chosen threshold (the target is 85%)
JUDGED = 8  # candidate sentences the cross-encoder reads per question (best by today's cheap score)
VARIANTS = {  # name -> features used (the others get weight 0)
    "today: cosine + overlap": ("cosine", "overlap"),
    "reader alone": ("reader",),
    "reader + cosine": ("reader", "cosine"),
    "reader + all signals": FEATURES,
}


def candidate_rows(index, item: squad2.Item, reader, judged: int) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Features and labels (sentence holds a gold answer) of the question's top candidates."""
    from qa.answer import holds, overlap, question_kinds, score_candidates, word_weights
    from qa.quotes import sentence_text

    hits, vector = index.rank(item.question, index.settings.answer.passages)
    weights = word_weights(index, item.question, "")
    candidates = score_candidates(index, hits, vector, weights, item.question)[:judged]
    if not candidates:
        return np.zeros((0, len(FEATURES)), np.float32), np.zeros(0, bool)
    texts = [sentence_text(index, c.sentence) for c in candidates]
    ids = np.array([c.sentence for c in candidates])
    cosine = index.sentence_vectors[ids].astype(np.float32) @ vector
    kinds = question_kinds(item.question)
    missing = np.array([bool(kinds) and not any(holds(k, t, item.question) for k in kinds) for t in texts])
    titles = [index.titles[int(index.sentences[s, 0])] for s in ids]
    logits = reader.score(item.question, [pair_text(title, t) for title, t in zip(titles, texts)])
    rows = features(logits, cosine, np.array([overlap(weights, t) for t in texts]), missing, np.array([c.passage_rank for c in candidates]))
    return rows, np.array([contains_answer(t, item.answers) for t in texts])


def collect(eval_dir: Path, folds_dir: Path, judged: int) -> list[dict]:
    index = squad2.build_index(eval_dir, REPO / "data" / "squad2")
    records = []
    for item in squad2.items(squad2.load(eval_dir)):
        reader = load_cross_encoder(str(folds_dir / f"fold{item.fold}"))
        rows, labels = candidate_rows(index, item, reader, judged)
        records.append({"fold": item.fold, "answerable": bool(item.answers), "rows": rows, "labels": labels})
    return records


def fit(records: list[dict], used: tuple[str, ...], answered: float = ANSWERED) -> Combiner:
    from sklearn.linear_model import LogisticRegression

    columns = [FEATURES.index(f) for f in used]
    rows = np.vstack([r["rows"] for r in records])[:, columns]
    labels = np.concatenate([r["labels"] for r in records])
    model = LogisticRegression(C=1.0, max_iter=1000).fit(rows, labels)
    weights = dict(zip(used, model.coef_[0].tolist()))
    combiner = Combiner(tuple(float(weights.get(f, 0.0)) for f in FEATURES), float(model.intercept_[0]), 0.0, 0.0)
    best = np.array([combiner.probability(r["rows"]).max() for r in records if r["answerable"] and len(r["rows"])])
    cut = float(np.quantile(best, 1 - answered))
    return Combiner(combiner.weights, combiner.bias, cut, cut)


def figures(records: list[dict], combiner: Combiner) -> dict[str, float]:
    """As the product would answer: decline under ``answer_at``, else quote the most probable sentence."""
    answered = first = extra = extra_right = 0
    declined, best, kinds = 0, [], []
    for r in records:
        p = combiner.probability(r["rows"]) if len(r["rows"]) else np.zeros(1)
        best.append(float(p.max()))
        kinds.append(r["answerable"])
        if p.max() < combiner.answer_at:
            declined += not r["answerable"]
            continue
        if r["answerable"]:
            order = np.argsort(-p)
            answered += 1
            first += bool(r["labels"][order[0]])
            further = [i for i in order[1:3] if p[i] >= combiner.further_at]
            extra += len(further)
            extra_right += sum(bool(r["labels"][i]) for i in further)
    from sklearn.metrics import roc_auc_score

    n_answerable, n_adversarial = sum(kinds), len(kinds) - sum(kinds)
    return {"answered": answered / n_answerable, "first_quote_holds_answer_of_answered": first / max(answered, 1),
            "adversarial_declined": declined / n_adversarial, "auroc_best": float(roc_auc_score(kinds, best)),
            "further_quotes_per_answer": extra / max(answered, 1), "further_quotes_holding_answer": extra_right / max(extra, 1)}


def cross_validate(records: list[dict], used: tuple[str, ...]) -> dict[str, float]:
    per_fold = []
    for k in sorted({r["fold"] for r in records}):
        combiner = fit([r for r in records if r["fold"] != k], used)
        per_fold.append((sum(r["fold"] == k for r in records), figures([r for r in records if r["fold"] == k], combiner)))
    total = sum(n for n, _ in per_fold)
    return {key: sum(n * f[key] for n, f in per_fold) / total for key in per_fold[0][1]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=REPO.parent / "shared" / "eval")
    parser.add_argument("--folds-dir", type=Path, default=REPO / "data" / "reader-folds")
    parser.add_argument("--judge", type=int, nargs="+", default=[4, 6, JUDGED, 12], help="candidates the reader reads")
    parser.add_argument("--out", type=Path, default=REPO / "models" / "reader")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    cache = args.folds_dir / f"combiner-features-{max(args.judge)}.pkl"
    if cache.exists():
        records = pickle.loads(cache.read_bytes())
    else:
        records = collect(args.eval_dir, args.folds_dir, max(args.judge))
        cache.write_bytes(pickle.dumps(records))
    report: dict[str, dict] = {}
    for judged in args.judge:
        cut = [{**r, "rows": r["rows"][:judged], "labels": r["labels"][:judged]} for r in records]
        for name, used in VARIANTS.items():
            report[f"{name}, {judged} judged"] = cross_validate(cut, used)
            print(f"{name}, {judged} judged: " + ", ".join(f"{k} {v:.3f}" for k, v in report[f'{name}, {judged} judged'].items()), flush=True)
    shipped = [{**r, "rows": r["rows"][:JUDGED], "labels": r["labels"][:JUDGED]} for r in records]
    combiner = fit(shipped, FEATURES)
    (args.out / COMBINER_FILE).write_text(json.dumps({**combiner.to_json(), "judged": JUDGED, "answered_share": ANSWERED,
                                                      "cross_validated": report}, indent=2) + "\n")
    print(f"wrote {args.out / COMBINER_FILE} in {time.perf_counter() - started:.0f} s: {combiner.to_json()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
