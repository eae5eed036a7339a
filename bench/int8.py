"""The int8 models as stored against their exact copies (qa/index/int8.py), side by side in one run on this CPU.

On an x86 CPU without VNNI onnxruntime's U8S8 kernels saturate; qa runs the reader and the requantised embedder
there with their weights as uint8 (the same values), which takes exact kernels. This section measures what that
changes (the reader's logits, the embedder's vectors) and costs (time per question, interleaved so that the two
see the same machine load). On a VNNI machine both are exact: the figures then show no difference.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from qa.answer.crossencoder import MODEL_FILE, load_cross_encoder, pair_text
from qa.index.embedders import model_name
from qa.index.embedding_onnx import OnnxEmbedder, dynamic_model_file, onnx_model_file
from qa.index.int8 import saturates
from qa.settings import Settings, default_reader_path

from .common import Check, Config, Section, Table, fmt, p50_p95

PAIRS = 500  # (question, sentence) pairs of SQuAD 2.0's dev articles
ROUNDS = 200  # timed questions per model, alternating
MAX_SLOWER = 1.25  # the exact reader may take at most this times the stored one's time per question


def pairs(config: Config) -> list[tuple[str, str]]:
    """Questions with the first sentences of their paragraph, as the reader reads them (title in front)."""
    found = []
    for path in sorted((config.eval_dir / "squad2").glob("*.json")):
        for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
            for paragraph in article["paragraphs"]:
                for qa in paragraph["qas"][:2]:
                    found += [(qa["question"], pair_text(article["title"], s)) for s in paragraph["context"].split(". ")[:2]]
                if len(found) >= PAIRS:
                    return found[:PAIRS]
    return found


def unshifted(exact: Any) -> Any:
    """The model with its uint8 MatMulInteger weights (zero point 128) back as int8: the file as quantised."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(exact)) if isinstance(exact, (str, Path)) else exact
    for tensor in model.graph.initializer:
        if tensor.data_type == onnx.TensorProto.UINT8:
            values = numpy_helper.to_array(tensor).astype("int16") - 128
            tensor.CopyFrom(numpy_helper.from_array(values.astype("int8"), tensor.name))
    return model


def run(config: Config) -> Section:
    import onnx
    import onnxruntime

    section = Section("int8", "The int8 models as stored against their exact copies, on this CPU")
    exact = load_cross_encoder()
    options = exact.session.get_session_options()
    as_stored = replace(exact, session=onnxruntime.InferenceSession(str(Path(default_reader_path()) / MODEL_FILE), options,
                                                                    providers=["CPUExecutionProvider"]))
    asked = pairs(config)
    logits = {name: np.array([m.read(q, [t])[0].logit for q, t in asked]) for name, m in (("exact", exact), ("stored", as_stored))}
    difference = np.abs(logits["exact"] - logits["stored"])
    flips = int(((logits["exact"] > 0) != (logits["stored"] > 0)).sum())
    times: dict[str, list[float]] = {"exact": [], "stored": []}
    for n in range(ROUNDS):  # alternating, 4 sentences a question as the product reads them
        start = 4 * n % max(len(asked) - 4, 1)
        question, texts = asked[start][0], [t for _, t in asked[start : start + 4]]
        for name, model in (("exact", exact), ("stored", as_stored)) if n % 2 else (("stored", as_stored), ("exact", exact)):
            started = time.perf_counter()
            model.read(question, texts)
            times[name].append(1000 * (time.perf_counter() - started))
    (exact_p50, exact_p95), (stored_p50, stored_p95) = p50_p95(times["exact"]), p50_p95(times["stored"])

    settings = Settings()
    made = dynamic_model_file(onnx_model_file(), settings.cache_dir)
    with tempfile.TemporaryDirectory() as scratch:
        stored_file = Path(scratch) / "stored.onnx"
        onnx.save(unshifted(made), str(stored_file))
        embedders = {name: OnnxEmbedder(settings.model_path, model_name(settings.model_path), file)
                     for name, file in (("exact", made), ("stored", stored_file))}
        texts = [t for _, t in asked[:200]]
        vectors = {name: e.embed(texts, threads=1) for name, e in embedders.items()}
    cosine = (vectors["exact"] * vectors["stored"]).sum(axis=1)

    table = Table(f"This CPU: {'no VNNI (U8S8 saturates): exact copies in use' if saturates() else 'VNNI or not x86: both exact'}",
                  ["model", "compared on", "largest difference", "mean difference", "time per question p50 / p95, exact (ms)",
                   "as stored (ms)", "exact / as stored"])
    table.add("reader", f"{len(asked)} SQuAD 2.0 pairs: logit", fmt(float(difference.max())), fmt(float(difference.mean())),
              f"{exact_p50:.1f} / {exact_p95:.1f}", f"{stored_p50:.1f} / {stored_p95:.1f}", f"{exact_p50 / stored_p50:.2f}×")
    table.add("embedder (onnx-dynamic)", f"{len(texts)} sentences: 1 - cosine", fmt(float(1 - cosine.min())),
              fmt(float(1 - cosine.mean())), "", "", "")
    section.tables.append(table)
    section.notes.append(f"Reader logits on opposite sides of 0: {flips} of {len(asked)}. Times: {ROUNDS} questions of 4 "
                         "sentences each, one thread, the two models alternating in one run.")
    section.checks.append(Check("exact reader's time per question, times the stored one's (p50)", f"{exact_p50 / stored_p50:.2f}×",
                                f"≤ {MAX_SLOWER}", exact_p50 / stored_p50 <= MAX_SLOWER))
    return section
