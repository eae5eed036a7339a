"""The reader's model: a small cross-encoder that reads a question and one sentence together.

It says how well the sentence answers the question (a logit; ``probability`` turns it into
0..1). It was fine-tuned from the packaged all-MiniLM-L6-v2 weights by ``training/reader.py``
and ships as int8 ONNX with its ``tokenizer.json`` in ``models/reader/`` (see the model card
there). This module only loads and runs it: onnxruntime and tokenizers, no torch.

The sentence is shown with the title of its document in front (``pair_text``): training
and the product build their inputs with the same function.

One ONNX session per model folder and process, on one thread of its own (no process-wide
thread settings are touched); ``InferenceSession.run`` is thread-safe, so the app's threads
share it.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError
from ..index.int8 import exact_model_file
from ..settings import default_reader_path

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "reader.json"  # max_tokens and how the model was made, written by training/reader.py
_LOCK = threading.Lock()


TITLE_WORDS = 8  # a long headline would cost more time than it tells (SQuAD's titles have 1-4 words)


def pair_text(title: str, sentence: str) -> str:
    """What the model reads beside the question: the document's title (its first words), then the sentence."""
    title = " ".join(title.split()[:TITLE_WORDS])
    return f"{title}: {sentence}" if title else sentence


@dataclass(frozen=True)
class CrossEncoder:
    session: Any  # onnxruntime.InferenceSession
    tokenizer: Any  # tokenizers.Tokenizer
    max_tokens: int
    config: dict[str, Any]  # the whole reader.json
    inputs: frozenset[str]  # the session's input names (an export may leave token_type_ids out)
    span_margin: float = 0.0  # the span head marks an answer only when it beats "no answer" by this (reader.json)
    span_tokens: int = 30  # the longest span it marks, in tokens

    def score(self, question: str, texts: Sequence[str]) -> np.ndarray:
        """A logit per text, one run per (question, text) pair; higher means the text answers the question better."""
        return np.asarray([r.logit for r in self.read(question, texts)], dtype=np.float32).reshape(len(texts))

    def read(self, question: str, texts: Sequence[str]) -> list[Reading]:
        """Each text's logit and, when the model has a span head, where in the text it puts the answer."""
        # One run per pair: no padding to the longest pair (13 against 16 ms p50 for 4 SciFact sentences), and
        # each logit is the same whatever else is read with it (int8 activations are scaled per run).
        return [self._read_one(question, text) for text in texts]

    def answer_span(self, question: str, text: str) -> tuple[int, int] | None:
        """The characters of ``text`` the span head marks as the answer (None: unsure, or no span head)."""
        return self._read_one(question, text).span

    def _read_one(self, question: str, text: str) -> Reading:
        encoding = self.tokenizer.encode(question, text)
        feed = {k: v for k, v in encode(self.tokenizer, [(question, text)], [encoding]).items() if k in self.inputs}
        outputs = self.session.run(None, feed)
        logit = float(np.asarray(outputs[0]).reshape(-1)[0])
        if len(outputs) < 3:
            return Reading(logit, None)
        span, margin = best_span(encoding, outputs[1][0], outputs[2][0], self.span_tokens)
        return Reading(logit, span if margin >= self.span_margin else None, margin)


@dataclass(frozen=True)
class Reading:
    logit: float  # how well the text answers the question
    span: tuple[int, int] | None  # the answer's characters inside the text, when the span head is sure enough
    margin: float = 0.0  # how far the best span's score is above "no answer" (a signal for deciding, too)


def best_span(encoding: Any, start: np.ndarray, end: np.ndarray, longest: int) -> tuple[tuple[int, int] | None, float]:
    """The highest-scoring span of the text's tokens (at most ``longest``) as character offsets into the text,
    and how far its score is above the first token's "no answer" score."""
    tokens = [i for i, seq in enumerate(encoding.sequence_ids) if seq == 1]
    if not tokens:
        return None, 0.0
    ids = np.asarray(tokens)
    s, e = start[ids], end[ids]
    scores = np.where(_spans(len(tokens), longest), s[:, None] + e[None, :], -np.inf)
    first, last = np.unravel_index(int(np.argmax(scores)), scores.shape)
    margin = float(scores[first, last] - (start[0] + end[0]))
    return (int(encoding.offsets[tokens[first]][0]), int(encoding.offsets[tokens[last]][1])), margin


@functools.cache
def _spans(tokens: int, longest: int) -> np.ndarray:
    """Which (first, last) token pairs are spans: first <= last, at most ``longest`` tokens (made once per length)."""
    square = np.ones((tokens, tokens), dtype=bool)
    allowed = np.triu(square) & ~np.triu(square, k=longest)
    allowed.flags.writeable = False
    return allowed


def probability(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits))


def encode(tokenizer: Any, pairs: Sequence[tuple[str, str]], encodings: Sequence[Any] | None = None) -> dict[str, np.ndarray]:
    """Token ids of each (question, text) pair (or of its ``encodings``), padded to the longest pair, as int64 arrays."""
    if encodings is None:
        encodings = [tokenizer.encode(question, text) for question, text in pairs]  # one by one: no thread pool
    width = max(len(e.ids) for e in encodings)
    out = {name: np.zeros((len(pairs), width), dtype=np.int64) for name in ("input_ids", "attention_mask", "token_type_ids")}
    for row, e in enumerate(encodings):
        out["input_ids"][row, : len(e.ids)] = e.ids
        out["attention_mask"][row, : len(e.ids)] = e.attention_mask
        out["token_type_ids"][row, : len(e.ids)] = e.type_ids
    return out


def load_tokenizer(path: str | Path, max_tokens: int) -> Any:
    """The model's tokenizer, cutting each pair to ``max_tokens`` (the longer part first)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_tokens, strategy="longest_first")
    return tokenizer


def load_cross_encoder(path: str | None = None) -> CrossEncoder:
    """The reader model in folder ``path`` (default: the shipped one), loaded once per process."""
    folder = os.path.abspath(path or default_reader_path())
    with _LOCK:
        return _load(folder)


def reload_cross_encoder(path: str) -> CrossEncoder:
    """The reader model in folder ``path`` read again from disk (for one just written, as the training does): every
    model loaded before is forgotten, so the next ``load_cross_encoder`` reads its files again too."""
    with _LOCK:
        _load.cache_clear()
        return _load(os.path.abspath(path))


@functools.cache
def _load(folder: str) -> CrossEncoder:
    model, config_file = os.path.join(folder, MODEL_FILE), os.path.join(folder, CONFIG_FILE)
    if not (os.path.isfile(model) and os.path.isfile(config_file)):
        raise ModelError(
            f"No reader model in {folder} (it needs {MODEL_FILE}, {TOKENIZER_FILE} and {CONFIG_FILE}). "
            "Reinstall qa, or rebuild it with `python -m training.reader`, or point QA_READER_PATH at such a folder."
        )
    import onnxruntime

    with open(config_file, encoding="utf-8") as handle:
        config = json.load(handle)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # one question at a time; the app runs several threads of its own
    options.inter_op_num_threads = 1
    # on a CPU without VNNI, a copy whose int8 weights run exactly (made once into the default cache: qa/index/int8.py)
    session = onnxruntime.InferenceSession(str(exact_model_file(Path(model))), options, providers=["CPUExecutionProvider"])
    tokenizer = load_tokenizer(os.path.join(folder, TOKENIZER_FILE), int(config["max_tokens"]))
    return CrossEncoder(session, tokenizer, int(config["max_tokens"]), config, frozenset(i.name for i in session.get_inputs()),
                        float(config.get("span_margin", 0.0)), int(config.get("span_tokens", 30)))
