"""The build flow, written once for every store: plan, chunk, BM25, vectors, commit.

``build`` takes a store's writer (its lock, its committed corpus), plans what changed, chunks
the new documents, and embeds them in the order that keeps memory low on a large upload:
for a store that rewrites everything (a folder), BM25 over all texts first (its working memory is
freed before any vector exists), then the chunk vectors (handed to FAISS at once), then the
sentence vectors. A store that keeps its unchanged rows (a database) takes only the new parts.
Nothing is committed when a source changed while it was read (``plan.check_unchanged``).
"""

from __future__ import annotations

import ctypes
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..settings import Settings
from ..types import Document
from . import embedders
from . import embedding as embed
from .corpus import Corpus, Part, empty_vectors, stacked
from .embedding import Embedder
from .lexical import LexicalIndex
from .plan import BuildReport, check_unchanged, chunked
from .stores.base import Build, IndexStore, Stored, Whole, Writer
from .stores.manifest import Manifest, expected
from .vectors import FaissSearch

__all__ = ["BuildReport", "build"]


def build(store: IndexStore, paths: Sequence[str | Path], settings: Settings, embedder: Embedder | None,
          progress: bool = False, scope: frozenset[str] | None = None) -> Stored:
    """Bring the index in ``store`` up to date with ``paths``: only new or changed files are read and embedded;
    with a ``scope`` (``plan.resolved_scope``), documents outside it stay, and builds of other scopes may write
    to the same database at once."""
    with store.writer(settings, embedder, adding=scope is not None) as writer:
        changes = chunked(paths, writer.previous, settings, scope)
        if changes.plan.unchanged:
            return replace(writer.current(), report=changes.plan.report, embedder=embedder)
        embedding = Embedding(changes.new, settings, embedder, progress)
        searches = _searches(writer, changes.plan.documents, changes.new, embedding) if writer.rewrites_all else None
        if searches is None:
            embedding.chunks()
        embedding.sentences()
        check_unchanged(changes.new)  # before the commit: a file saved meanwhile leaves the index as it was
        whole = Whole(Corpus.from_parts(searches[0]), searches[1], searches[2]) if searches else None
        manifest = _manifest(settings, embedding, whole.dense.dim if whole else _dim(changes.new, writer, embedding))
        stored = writer.commit(Build(changes.plan.documents, changes.new, manifest, whole, changes.plan.scope))
    return replace(stored, report=changes.plan.report, embedder=embedding.embedder)


def _searches(writer: Writer, documents: list[Document], new: list[Part], embedding: Embedding
              ) -> tuple[list[Part], FaissSearch, LexicalIndex]:
    """Every document's parts, with BM25 and FAISS over them, built in the order that holds the least memory
    (the new parts' sentence vectors are made after: they go straight into the parts)."""
    carried = writer.carried()
    fresh = {(part.document.path, part.document.sha256): part for part in new}
    parts = [carried.get(key) or fresh[key] for key in ((doc.path, doc.sha256) for doc in documents)]
    # BM25 first: its working memory (a few hundred MB for a 20 MiB text) is freed before the vectors exist
    lexical = LexicalIndex.build([text for p in parts for text in p.lexical_texts()])
    release_freed_memory()
    embedding.chunks()
    dim = _dim(parts, writer, embedding)
    store = FaissSearch.build(stacked([p.chunk_vectors.reshape(-1, dim) for p in parts], np.float32), dim,
                             embedding.settings.ann_threshold, embedding.settings.hnsw)
    for part in parts:  # the store holds its own copy now
        part.chunk_vectors = empty_vectors()
    return parts, store, lexical


def _dim(parts: list[Part], writer: Writer, embedding: Embedding) -> int:
    """The vectors' size: the new ones', else the stored ones', else the model's (loaded to ask)."""
    made = next((p.chunk_vectors.shape[1] for p in parts if p.chunk_vectors.size), None)
    return made or writer.dim or embedding.loaded().dim


def _manifest(settings: Settings, embedding: Embedding, dim: int) -> Manifest:
    return replace(expected(settings, embedding.embedder), dim=dim)


class Embedding:
    """The new parts' vectors, made ``Settings.embed_window`` texts at a time in two passes under one progress bar:
    chunks (float32), then sentences (float16, half the memory). Between the passes a store can take the chunk
    vectors into its own copy and let the parts' go, so that on a large upload both are never held beside it."""

    def __init__(self, parts: list[Part], settings: Settings, embedder: Embedder | None, progress: bool) -> None:
        self.new = [p for p in parts if not p.embedded]
        self.settings = settings
        self.embedder = embedder
        if self.new and embedder is None:
            self.embedder = embedders.load_embedder(*settings.model_files())
        total = sum(len(p.chunks) + (len(p.sentences) if settings.sentence_vectors else 0) for p in self.new)
        self._bar = embed.progress_bar(total, progress and total > 0)

    def loaded(self) -> Embedder:
        """The embedder, loaded now if no new part needed it."""
        if self.embedder is None:
            self.embedder = embedders.load_embedder(*self.settings.model_files())
        return self.embedder

    def chunks(self) -> None:
        vectors = self._vectors((t for p in self.new for t in p.embed_texts()), sum(len(p.chunks) for p in self.new), np.float32)
        for part, rows in zip(self.new, _split(vectors, [len(p.chunks) for p in self.new]), strict=True):
            part.chunk_vectors = rows

    def sentences(self) -> None:
        if self.settings.sentence_vectors:
            counts = [len(p.sentences) for p in self.new]
            vectors = self._vectors((t for p in self.new for t in p.sentence_texts()), sum(counts), np.float16)
            for part, rows in zip(self.new, _split(vectors, counts), strict=True):
                part.sentence_vectors = rows
        self._bar.close()

    def _vectors(self, texts: Iterator[str], total: int, dtype: type) -> np.ndarray:
        embedder = self.embedder
        if embedder is None:  # no new part: nothing to embed
            return np.zeros((0, 0), dtype=dtype)
        out: np.ndarray = np.empty((total, embedder.dim), dtype=dtype)
        step = self.settings.embed_window
        for first in range(0, total, step):
            window = list(itertools.islice(texts, step))
            out[first : first + len(window)] = embedder.embed(window, batch_size=self.settings.batch_size)
            self._bar.update(len(window))
        return out


def release_freed_memory() -> None:
    """Give the memory freed so far back to the system. glibc keeps freed heap memory for small allocations,
    while the vectors that come next are large ones it maps anew: without this a 20 MiB upload held BM25's
    working memory (200 MB) and the vectors at once. Without glibc's ``malloc_trim`` it does nothing."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):
        return
    trim(0)


def _split(rows: np.ndarray, counts: list[int]) -> list[np.ndarray]:
    return np.split(rows, np.cumsum(counts)[:-1]) if counts else []
