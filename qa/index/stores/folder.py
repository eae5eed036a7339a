"""The index kept in a folder: every build writes a whole new generation, searched in memory.

The folder's format (manifest, generations, writer lock) is ``folder_files``'s; this module
is the ``IndexStore`` over it. A build hands it every document's parts, the unchanged ones'
vectors carried over from the previous generation (``Writer.carried``), so a generation folder
is always complete on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from ...errors import IndexCorruptError, IndexMismatchError
from ...settings import Settings
from ..corpus import Part
from ..embedding import Embedder
from ..vectors import FaissSearch
from . import folder_files, manifest
from .base import Build, Stored


class FolderStore:
    """An index folder: FAISS and bm25s files beside the corpus, replaced atomically by each build."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def describe(self) -> str:
        return str(self.folder)

    def key(self) -> Path | str:
        return self.folder.resolve()

    def generation(self) -> str:
        return folder_files.current_folder(self.folder).name

    def load(self, settings: Settings, embedder: Embedder | None, previous: Stored | None = None) -> Stored:
        index_dir = self.folder  # ``previous`` is not needed: a folder is read whole, and quickly
        folder = folder_files.current_folder(index_dir)
        folder_files.read_manifest(folder, index_dir, manifest.expected(settings, embedder))
        corpus, store, lexical = folder_files.read_index(folder, index_dir, settings.hnsw)
        return Stored(corpus, store, lexical, folder.name, embedder=embedder)

    @contextmanager
    def writer(self, settings: Settings, embedder: Embedder | None, adding: bool = False) -> Iterator[FolderWriter]:
        """The folder's lock; an adding build holds it alone too (a folder is written whole)."""
        with folder_files.writer_lock(self.folder):
            folder_files.remove_stale(self.folder)  # what killed builds left behind (safe: we hold the lock)
            yield FolderWriter(self, self._previous(settings, embedder))

    def _previous(self, settings: Settings, embedder: Embedder | None) -> Stored | None:
        pointer = self.folder / folder_files.CURRENT
        if not pointer.exists() and not pointer.is_symlink():
            return None
        try:
            return self.load(settings, embedder)
        except (IndexMismatchError, IndexCorruptError) as error:
            manifest.warn_rebuilding(error)
            return None


class FolderWriter:
    """A build's hold on the folder: the previous generation, read whole, and the writing of the next one."""

    rewrites_all = True

    def __init__(self, folder: FolderStore, stored: Stored | None) -> None:
        self.folder = folder
        self.stored = stored
        self.previous = stored.corpus.whole() if stored else None  # the folder's corpus is in memory: itself
        self.dim = stored.dense.dim if stored and isinstance(stored.dense, FaissSearch) else None

    def carried(self) -> dict[tuple[str, str], Part]:
        if self.stored is None:
            return {}
        corpus = self.stored.corpus.whole()
        parts, starts = corpus.parts(), corpus.chunk_starts
        for doc, part in enumerate(parts):
            part.chunk_vectors = self.stored.dense.vectors(int(starts[doc]), int(starts[doc + 1]))
        return {(part.document.path, part.document.sha256): part for part in parts}

    def commit(self, build: Build) -> Stored:
        if build.whole is None:
            raise ValueError("a folder is written whole: the build must hand it Build.whole")
        corpus, store, lexical = build.whole.corpus, build.whole.dense, build.whole.lexical
        fields = replace(build.manifest, store=store.kind).fields()
        written = folder_files.write_index(self.folder.folder, {**fields, **folder_files.contents(corpus)}, corpus, store, lexical)
        return Stored(corpus, store, lexical, written.name)

    def current(self) -> Stored:
        if self.stored is None:
            raise ValueError("nothing is committed yet")
        return self.stored
