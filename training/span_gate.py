"""Set the adapted reader's span gate (``span_margin`` in reader.json): how sure the span head must be to mark.

The adaptation on SQuAD 2.0 (``training/adapt.py``) teaches the span head to point at "no answer" for adversarial
questions. That lowers the margin of every span over "no answer" while leaving the spans as good as they were (on
XQuAD's gold sentences, never trained on: median margin 2.6 before, 0.7 after; 71.8% and 71.0% of the best spans
overlap the answer), so a gate kept at 0 marks a fifth fewer answers. This script moves the adapted reader's gate
so that it marks as many gold sentences as the qatrain reader it started from did at its own gate, on qatrain
questions neither was trained on.

Run: python -m training.span_gate --base DIR --adapted models/reader   (after training/adapt.py; DIR holds the
     qatrain reader as training/reader.py exported it)
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from qa.answer.crossencoder import CONFIG_FILE, CrossEncoder, load_cross_encoder, pair_text, reload_cross_encoder
from qa.evaluate import token_f1
from training import qadata
from training import reader as recipe

EVERY = 40  # the 38th, 78th, ... question of each file: training keeps every 4th and the replay every 100th, so none
OFFSET = 2  # is a training question


def calibration_pairs(root: Path, files: tuple[str, ...] = qadata.SQUAD_FILES) -> list[tuple[str, str, str]]:
    """(question, the text the reader reads, the gold answer) for SQuAD-format qatrain questions never trained on."""
    paragraphs, questions = qadata.load(root, EVERY, files, qed=False, offset=OFFSET)
    out = []
    for q in questions:
        paragraph = paragraphs[q.paragraph]
        sentence, start, end = q.span
        text = paragraph.sentences[sentence]
        out.append((q.text, pair_text(paragraph.title, text), text[start:end]))
    return out


def margins(reader: CrossEncoder, pairs: list[tuple[str, str, str]]) -> tuple[np.ndarray, np.ndarray]:
    """Each pair's span margin over "no answer", and whether its best span overlaps the answer (token F1 >= 0.5)."""
    ungated = replace(reader, span_margin=-np.inf)  # the best span whatever its margin
    readings = [(ungated.read(question, [text])[0], text, answer) for question, text, answer in pairs]
    right = [r.span is not None and token_f1(text[r.span[0] : r.span[1]], answer) >= 0.5 for r, text, answer in readings]
    return np.asarray([r.margin for r, _, _ in readings]), np.asarray(right)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, required=True, help="the qatrain reader (training/reader.py's export)")
    parser.add_argument("--adapted", type=Path, default=recipe.REPO / "models" / "reader")
    parser.add_argument("--data", type=Path, default=recipe.QATRAIN)
    parser.add_argument("--files", nargs="+", default=list(qadata.SQUAD_FILES), help="qatrain files to calibrate on")
    args = parser.parse_args(argv)
    pairs = calibration_pairs(args.data, tuple(args.files))
    base, adapted = load_cross_encoder(str(args.base)), load_cross_encoder(str(args.adapted))
    base_margin, base_right = margins(base, pairs)
    adapted_margin, adapted_right = margins(adapted, pairs)
    share = float(np.mean(base_margin >= base.span_margin))
    gate = float(np.quantile(adapted_margin, 1.0 - share))
    marked = adapted_margin >= gate
    report = {"questions": len(pairs), "base_gate": base.span_margin, "base_marked": share,
              "base_marked_right": float(np.mean(base_right[base_margin >= base.span_margin])),
              "gate": round(gate, 3), "marked": float(np.mean(marked)), "marked_right": float(np.mean(adapted_right[marked])),
              "at_0_marked": float(np.mean(adapted_margin >= 0)), "best_span_right": float(np.mean(adapted_right))}
    config = json.loads((args.adapted / CONFIG_FILE).read_text())
    (args.adapted / CONFIG_FILE).write_text(json.dumps({**config, "span_margin": report["gate"], "span_gate": report},
                                                       indent=2) + "\n")
    reload_cross_encoder(str(args.adapted))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
