"""The index kept in a folder: every build writes a whole new generation, searched in memory.

The folder's format (manifest, generations, writer lock) is ``folder_files``'s; this module
is the ``IndexStorage`` over it. A build carries the unchanged documents' parts,
vectors included, over from the previous generation and writes them again with the
new ones, so a generation folder is always complete on its own.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import IndexCorruptError, IndexMismatchError, rebuild_hint
from ...settings import Settings
from .. import build as builder
from ..build import identity
from ..corpus import Corpus, empty_vectors, stacked
from ..embedding import Embedder
from ..lexical import LexicalIndex
from ..vectors import FaissStore, VectorStore
from . import folder_files as storage
from .base import Stored


class FolderStorage:
    """An index folder: FAISS and bm25s files beside the corpus, replaced atomically by each build."""

    def __init__(self, folder: Path) -> None:
        self.location: Path | str = folder
        self.folder = folder

    def generation(self) -> str:
        return storage.current_folder(self.folder).name

    def load(self, settings: Settings, embedder: Embedder | None, previous: Stored | None = None) -> Stored:
        index_dir = self.folder  # ``previous`` is not needed: a folder is read whole, and quickly
        folder = storage.current_folder(index_dir)
        manifest = storage.read_manifest(folder, index_dir, identity(settings, embedder))
        corpus, store, lexical = storage.read_index(folder, index_dir, settings.hnsw)
        if embedder is not None and embedder.dim != manifest.get("dim"):
            raise IndexMismatchError(f"The index in {index_dir} holds {manifest.get('dim')}-dimensional vectors, "
                                     f"the model makes {embedder.dim}. " + rebuild_hint(index_dir))
        return Stored(corpus, store, lexical, folder.name, embedder=embedder)

    def build(self, paths: Sequence[str | Path], settings: Settings, embedder: Embedder | None, progress: bool) -> Stored:
        index_dir = self.folder
        with storage.writer_lock(index_dir):
            storage.remove_stale(index_dir)  # what killed builds left behind (safe: we hold the lock)
            previous = self._previous(settings, embedder)
            changes = builder.chunked(paths, previous.corpus if previous else None, settings)
            if previous is not None and changes.plan.unchanged:
                return Stored(previous.corpus, previous.store, previous.lexical, previous.generation, changes.plan.report, embedder)
            carried = builder.carried_parts(previous.corpus, previous.store) if previous else {}
            new = {(part.document.path, part.document.sha256): part for part in changes.new}
            parts = [carried.get(key) or new[key] for key in ((doc.path, doc.sha256) for doc in changes.plan.documents)]
            # BM25 first: its working memory (a few hundred MB for a 20 MiB text) is freed before the vectors exist
            lexical = LexicalIndex.build([text for p in parts for text in p.lexical_texts()])
            builder.release_freed_memory()
            embedding = builder.Embedding(changes.new, settings, embedder, progress)
            embedding.chunks()
            embedder = embedding.embedder
            dim = next((p.chunk_vectors.shape[1] for p in parts if p.chunk_vectors.size), embedder.dim if embedder else 0)
            store = FaissStore.build(stacked([p.chunk_vectors.reshape(-1, dim) for p in parts], np.float32), dim,
                                     settings.ann_threshold, settings.hnsw)
            for part in parts:  # the store holds its own copy now
                part.chunk_vectors = empty_vectors()
            embedding.sentences()
            builder.check_unchanged(changes.new)
            corpus = Corpus.from_parts(parts)
            written = storage.write_index(index_dir, _manifest(settings, embedder, dim, corpus, store), corpus, store, lexical)
            return Stored(corpus, store, lexical, written.name, changes.plan.report, embedder)

    def _previous(self, settings: Settings, embedder: Embedder | None) -> Stored | None:
        pointer = self.folder / storage.CURRENT
        if not pointer.exists() and not pointer.is_symlink():
            return None
        try:
            return self.load(settings, embedder)
        except (IndexMismatchError, IndexCorruptError) as error:
            warnings.warn(f"rebuilding the whole index: {error}", stacklevel=4)  # the caller of Index.build
            return None


def _manifest(settings: Settings, embedder: Embedder | None, dim: int, corpus: Corpus, store: VectorStore) -> dict[str, Any]:
    return {
        **identity(settings, embedder),
        "dim": dim,
        "store": store.kind,
        "counts": {"documents": len(corpus.documents), "chunks": len(corpus.chunks), "sentences": len(corpus.sentences)},
        "documents": [
            {"path": doc.path, "sha256": doc.sha256, "chunks": int(corpus.chunk_starts[i + 1] - corpus.chunk_starts[i])}
            for i, doc in enumerate(corpus.documents)
        ],
    }
