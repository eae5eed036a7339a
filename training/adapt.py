"""Adapt the qatrain reader to real adversarial questions: a short second training on SQuAD 2.0, by fold.

qatrain has no unanswerable questions, only rule-made ones; SQuAD 2.0's 27 articles (``../shared/eval/squad2``,
``evaldata/squad2.py``) hold 3,766 questions written to look answerable from a paragraph that does not answer them. This script starts
from the qatrain reader's weights (``~/.cache/qa/reader-train/checkpoint.pt``, written by ``training/reader.py``) and
trains one epoch at a low rate on:

- the SQuAD 2.0 articles outside the held-out fold: for an answerable question its gold sentence (1, with the
  answer's span), the paragraph's most similar other sentence, the most similar sentence of another paragraph
  and a rule-made question (0), as ``training/qadata.py`` makes them; for an adversarial question the sentence
  holding its "plausible answer", else the paragraph's most similar sentence (0);
- with ``--product-negatives N``, each question's N best candidates by the product's cheap score that hold no gold
  answer (0; ``training/candidates.py``): what the reader must tell apart in use (tried, not shipped: MODEL_CARD.md);
- with ``--doc-pairs R``, documentation pairs (``training/docpairs.py``), each R times (tried, not shipped: MODEL_CARD.md);
- every ``REPLAY_EVERY``-th qatrain question, made into pairs the same way, so that ranking is not forgotten.

Fold k's model (``~/.cache/qa/reader-folds/foldK``) never sees fold k's articles: ``training/combiner.py`` reads
fold k's questions with it, so every figure stays held out. The shipped model (``--out``) is adapted on all 27.

Run: python -m training.adapt [--folds 0 1 2] [--shipped] [--product-negatives N] [--doc-pairs R] [--init CHECKPOINT]
     (after training/reader.py; then training/combiner.py). The adapted model keeps the layers and recipe of the reader
     it starts from.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from evaldata import CACHE, EVAL, REPO, squad2
from qa.answer.crossencoder import pair_text
from training import qadata
from training import reader as recipe
from training.candidates import negative_pairs, product_negatives
from training.docpairs import doc_pairs, written_pairs
from training.precision import PRECISIONS, chosen_precision
from training.probe import evaluate, load_probe, lowest_bar, span_marks

REPLAY_EVERY = 100  # about 1,200 qatrain questions beside SQuAD 2.0's 5,000 of 18 articles
ADAPT_LR = 3e-5
EPOCHS = 1
ADVERSARIAL_REPEAT = 1  # each real adversarial pair seen this many times per epoch
INIT = CACHE / "reader-train" / "checkpoint.pt"
# The span head's marks in the reader's first sentence must be right this often on held-out folds (token F1 >= 0.5;
# a mark in a sentence without the answer is wrong): adaptation on adversarial questions raises "no answer" for
# every span (held-out fold 0: 58% of right first sentences marked at margin 0, 83% at -4, each right 91% / 87%),
# so the margin is set anew for each adapted model.
MARKS_RIGHT = 0.8


def squad2_pairs(data: list[dict], articles: set[str], repeat: int = ADVERSARIAL_REPEAT) -> list[qadata.Pair]:
    """Training pairs from the SQuAD 2.0 ``articles`` of ``data`` (answerable as in qatrain; adversarial against the
    sentence of their plausible answer, else the one sharing most words with them)."""
    paragraphs: list[qadata.Paragraph] = []
    answerable: list[qadata.Question] = []
    adversarial: list[qadata.Pair] = []
    for article in data:
        if article["title"] not in articles:
            continue
        title = article["title"].replace("_", " ")
        for para in article["paragraphs"]:
            context = para["context"]
            bounds = qadata.sentence_bounds(context, title)
            sentences = tuple(context[a:b] for a, b in bounds)
            for qa in para["qas"]:
                if qa["answers"]:
                    answer = qa["answers"][0]
                    q = qadata.find_question(qa["question"], len(paragraphs), bounds, context, int(answer["answer_start"]), answer["text"])
                    answerable += [q] if q else []
                    continue
                plausible = [int(p["answer_start"]) for p in qa.get("plausible_answers", [])]
                holder = next((i for i, (a, b) in enumerate(bounds) for start in plausible[:1] if a <= start < b), None)
                if holder is None:
                    asked = qadata.words(qa["question"])
                    holder = max(range(len(sentences)), key=lambda i: (len(asked & qadata.words(sentences[i])), -i))
                adversarial.append(qadata.Pair(qa["question"], title, sentences[holder], 0.0, None))
            paragraphs.append(qadata.Paragraph(article["title"], title, sentences))
    return qadata.pairs(paragraphs, answerable) + adversarial * repeat


def base_recipe(init: Path) -> dict:
    """The recipe of the qatrain reader in ``init`` (its run's report.json), else the shipped reader's."""
    report = init.parent / "report.json"
    if not report.exists():
        return json.loads((REPO / "models" / "reader" / recipe.CONFIG_FILE).read_text())["recipe"]
    run = json.loads(report.read_text())
    return {**run["recipe"], **{k: run[k] for k in ("paragraphs", "questions", "pairs", "positives")}}


def adapt(articles: set[str], out: Path, work: Path, replay: list[qadata.Pair], data: list[dict], device: str,
          epochs: int = EPOCHS, repeat: int = ADVERSARIAL_REPEAT, init: Path = INIT, precision: str = "auto",
          more: list[qadata.Pair] | None = None) -> dict:
    """One adapted reader, trained on the SQuAD 2.0 ``articles`` of ``data`` (with ``more`` pairs of them: the product's
    candidates as negatives, and the replayed pairs), exported to ``out``."""
    started = time.perf_counter()
    pairs = squad2_pairs(data, articles, repeat) + (more or []) + replay
    work.mkdir(parents=True, exist_ok=True)
    base = base_recipe(init)
    model = recipe.train(pairs, int(base["layers"]), epochs, recipe.MAX_TOKENS, ADAPT_LR, work=work, device=device, init=init,
                          precision=precision)
    held_out = load_probe(articles=[a for a in data if a["title"] not in articles])
    check = [(q.text, pair_text(q.title, s)) for q in load_probe(articles=data)[:200] for s in q.sentences[:3]]
    agreement = recipe.export(model, out, check, {**base, "adapted_on": sorted(articles), "adapt_lr": ADAPT_LR,
                                                  "adapt_epochs": epochs, "adversarial_repeat": repeat,
                                                  "replay_every": REPLAY_EVERY, "adapt_pairs": len(pairs),
                                                  "more_pairs": len(more or [])})  # product negatives, documentation
    report = {"articles": sorted(articles), "pairs": len(pairs), "int8_vs_torch": agreement,
              "seconds": time.perf_counter() - started}
    if held_out:
        report["held_out_probe"] = evaluate(out, held_out)
    print(json.dumps(report), flush=True)
    return report


def calibrate_marks(folds_dir: Path, data: list[dict], shipped: Path | None) -> dict[str, float]:
    """Set each fold model's ``span_margin`` from the other folds' held-out marks, and the shipped model's from all
    folds': the lowest margin at which marks are right ``MARKS_RIGHT`` of the time."""
    fold = squad2.fold_of(data)
    marks = {k: span_marks(folds_dir / f"fold{k}", load_probe(articles=[a for a in data if fold[a["title"]] == k]))
             for k in range(squad2.FOLDS)}
    chosen = {f"fold{k}": lowest_bar([m for j in marks if j != k for m in marks[j]], MARKS_RIGHT) for k in marks}
    if shipped is not None:
        chosen["shipped"] = lowest_bar([m for k in marks for m in marks[k]], MARKS_RIGHT)
    for name, margin in chosen.items():
        config = (shipped if name == "shipped" else folds_dir / name) / recipe.CONFIG_FILE  # type: ignore[operator]
        written = json.loads(config.read_text())
        config.write_text(json.dumps({**written, "span_margin": margin, "marks_right": MARKS_RIGHT}, indent=2) + "\n")
    print(json.dumps({"span_margin": chosen}), flush=True)
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, nargs="*", default=list(range(squad2.FOLDS)), help="fold models to adapt")
    parser.add_argument("--shipped", action="store_true", help="also adapt the shipped model on all 27 articles")
    parser.add_argument("--out", type=Path, default=REPO / "models" / "reader")
    parser.add_argument("--folds-dir", type=Path, default=CACHE / "reader-folds")
    parser.add_argument("--work", type=Path, default=CACHE / "reader-adapt")
    parser.add_argument("--data", type=Path, default=recipe.QATRAIN)
    parser.add_argument("--eval-dir", type=Path, default=EVAL, help="the folder holding squad2/")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--init", type=Path, default=INIT, help="the qatrain reader's checkpoint (training/reader.py)")
    parser.add_argument("--threads", type=int, default=recipe.THREADS, help="torch threads")
    parser.add_argument("--precision", choices=PRECISIONS, default=PRECISIONS[0],
                        help="bf16 autocast, fp32, or auto: bf16 where the hardware computes in it")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--adversarial-repeat", type=int, default=ADVERSARIAL_REPEAT)
    parser.add_argument("--product-negatives", type=int, default=0, metavar="N",
                        help="also train on each question's N best product candidates without its answer (training/candidates.py)")
    parser.add_argument("--doc-pairs", type=int, default=0, metavar="R",
                        help="also train on documentation pairs (training/docpairs.py), each R times")
    parser.add_argument("--calibrate-only", action="store_true", help="only set the span margins of adapted models")
    parser.add_argument("--tiny", type=Path, metavar="OUT",
                        help="a 1-layer model from the packaged weights on one article, exported to OUT, in seconds (CI)")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    args.precision = chosen_precision(args.precision, args.device)
    data = squad2.load(args.eval_dir)
    if args.tiny:  # the same steps on a handful of pairs: real SQuAD 2.0 adversarial ones among them
        titles = sorted(a["title"] for a in data if a["original"])[:1]
        pairs = squad2_pairs(data, set(titles))[::40]
        model = recipe.train(pairs, 1, 1, 48, ADAPT_LR, log=False)
        check = [(p.question, pair_text(p.title, p.sentence)) for p in pairs[:8]]
        print(json.dumps(recipe.export(model, args.tiny, check, {"layers": 1, "max_tokens": 48, "adapted_on": titles,
                                                                  "adapt_pairs": len(pairs)})))
        return 0
    if args.calibrate_only:
        calibrate_marks(args.folds_dir, data, args.out if args.shipped else None)
        return 0
    paragraphs, questions = qadata.load(args.data, REPLAY_EVERY)
    replay = qadata.pairs(paragraphs, questions)
    fold = squad2.fold_of(data)
    negatives = product_negatives(args.eval_dir) if args.product_negatives else []
    documentation = doc_pairs() + written_pairs(args.eval_dir, REPO / "bench") if args.doc_pairs else []
    documentation *= args.doc_pairs
    reports = {}
    for k in args.folds:
        kept = {title for title, f in fold.items() if f != k}
        reports[f"fold{k}"] = adapt(kept, args.folds_dir / f"fold{k}", args.work / f"fold{k}", replay, data, args.device,
                                     args.epochs, args.adversarial_repeat, args.init, args.precision,
                                     negative_pairs(negatives, kept, args.product_negatives) + documentation)
    if args.shipped:
        reports["shipped"] = adapt(set(fold), args.out, args.work / "shipped", replay, data, args.device, args.epochs,
                                  args.adversarial_repeat, args.init, args.precision,
                                  negative_pairs(negatives, set(fold), args.product_negatives) + documentation)
    reports["span_margin"] = calibrate_marks(args.folds_dir, data, args.out if args.shipped else None)
    args.work.mkdir(parents=True, exist_ok=True)
    (args.work / "report.json").write_text(json.dumps(reports, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
