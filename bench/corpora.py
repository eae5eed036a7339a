"""Indexes of a chosen size for the speed benchmarks.

- ``subset_index``: the first SciFact abstracts up to N chunks, real text and real
  vectors. It is built incrementally from a copy of the full SciFact index, so
  nothing is embedded again (the public ``Index.build`` keeps unchanged files' vectors).
- ``synthetic_index``: beyond SciFact's ~25k chunks. Real SciFact abstracts plus
  documents made of SciFact sentences drawn at random (so BM25 sees real words and
  real posting-list lengths), with random unit vectors instead of embeddings:
  embedding 100k chunks takes hours on 2 cores, and flat search costs the same for
  any vectors. Questions are still embedded by the real model.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np

from evaldata import write_corpus
from qa import Index, Settings
from qa.errors import QAError
from qa.index.chunk import chunk_document
from qa.index.stores.manifest import model_name

from . import scifact
from .common import Config


class RandomEmbedder:
    """Random unit vectors under the real model's name, for building an index quickly.

    The index it builds is reopened with ``Index.load``, which embeds questions with
    the real model; the stored vectors are only there to be searched.
    """

    def __init__(self, dim: int = 384, seed: int = 0, backend: str | None = None) -> None:
        self.name = model_name(Settings())
        self.backend = backend or Settings().backend  # the backend that will embed the questions
        self.dim = dim
        self.max_tokens = 256
        self._rng = np.random.default_rng(seed)

    def embed(self, texts: list[str], *, batch_size: int = 64, progress: bool = False, threads: int | None = None) -> np.ndarray:
        vectors = self._rng.standard_normal((len(texts), self.dim), dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def truncate(self, text: str) -> str:
        return text


def documents_for_chunks(base: Index, chunks: int) -> int:
    """How many of ``base``'s first documents hold at least ``chunks`` chunks."""
    per_document = np.bincount(base.chunks["doc"], minlength=len(base.documents))
    return min(int(np.searchsorted(np.cumsum(per_document), chunks)) + 1, len(base.documents))


def subset_index(base: Index, documents: int, folder: Path) -> Index:
    """An index of ``base``'s first ``documents`` documents, without embedding anything again."""
    try:
        Index.load(folder, settings=base.settings)
    except QAError:  # none yet, or one from older code (another chunker version): start again from the base's copy
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(base.index_dir, folder)
    index = Index.build([doc.path for doc in base.documents[:documents]], folder)
    if index.report.embedded:
        raise RuntimeError(f"{folder}: {len(index.report.embedded)} documents were embedded again")
    return index


def synthetic_documents(data: scifact.SciFact, chunks: int, seed: int = 0) -> list[tuple[str, str]]:
    """All SciFact abstracts, then made-up documents of random SciFact sentences, up to ``chunks`` chunks."""
    settings = Settings().chunk
    rng = random.Random(seed)
    pool = [s for sentences in data.sentences.values() for s in sentences]
    titles = list(data.titles.values())
    documents = [(f"{i}.txt", scifact.document_text(data.titles[i], data.texts[i])) for i in data.texts]
    total = sum(len(chunk_document(text, name, settings).chunks) for name, text in documents)
    number = 0
    while total < chunks:
        text = scifact.document_text(rng.choice(titles), " ".join(rng.sample(pool, rng.randint(6, 12))))
        name = f"synthetic-{number:06d}.txt"
        documents.append((name, text))
        total += len(chunk_document(text, name, settings).chunks)
        number += 1
    return documents


def synthetic_index(config: Config, data: scifact.SciFact, chunks: int) -> Path:
    """Build (once) the index of ``synthetic_documents``; returns its folder."""
    name = f"synthetic-{chunks // 1000}k"
    files = write_corpus(config.cache_dir / f"{name}-docs", synthetic_documents(data, chunks))
    folder = config.cache_dir / f"{name}-index"
    Index.build(files, folder, embedder=RandomEmbedder())
    return folder
