"""The index kept in a folder: every build writes a whole new generation, searched in memory.

The folder's format (manifest, generations, writer lock) is ``folder_files``'s; this module
is the ``IndexStorage`` over it. A build hands it every document's parts, the unchanged ones'
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
from ..vectors import FaissStore
from . import folder_files as storage
from . import manifest
from .base import Build, Stored


class FolderStorage:
    """An index folder: FAISS and bm25s files beside the corpus, replaced atomically by each build."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def describe(self) -> str:
        return str(self.folder)

    def key(self) -> Path | str:
        return self.folder.resolve()

    def generation(self) -> str:
        return storage.current_folder(self.folder).name

    def load(self, settings: Settings, embedder: Embedder | None, previous: Stored | None = None) -> Stored:
        index_dir = self.folder  # ``previous`` is not needed: a folder is read whole, and quickly
        folder = storage.current_folder(index_dir)
        storage.read_manifest(folder, index_dir, manifest.expected(settings, embedder))
        corpus, store, lexical = storage.read_index(folder, index_dir, settings.hnsw)
        return Stored(corpus, store, lexical, folder.name, embedder=embedder)

    @contextmanager
    def writer(self, settings: Settings, embedder: Embedder | None) -> Iterator[FolderWriter]:
        with storage.writer_lock(self.folder):
            storage.remove_stale(self.folder)  # what killed builds left behind (safe: we hold the lock)
            yield FolderWriter(self, self._previous(settings, embedder))

    def _previous(self, settings: Settings, embedder: Embedder | None) -> Stored | None:
        pointer = self.folder / storage.CURRENT
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

    def __init__(self, folder: FolderStorage, stored: Stored | None) -> None:
        self.folder = folder
        self.stored = stored
        self.previous = stored.corpus if stored else None
        self.dim = stored.store.dim if stored and isinstance(stored.store, FaissStore) else None

    def carried(self) -> dict[tuple[str, str], Part]:
        if self.stored is None:
            return {}
        parts = self.stored.corpus.parts()
        starts = self.stored.corpus.chunk_starts
        for doc, part in enumerate(parts):
            part.chunk_vectors = self.stored.store.vectors(int(starts[doc]), int(starts[doc + 1]))
        return {(part.document.path, part.document.sha256): part for part in parts}

    def commit(self, build: Build) -> Stored:
        if build.whole is None:
            raise ValueError("a folder is written whole: the build must hand it Build.whole")
        corpus, store, lexical = build.whole.corpus, build.whole.store, build.whole.lexical
        fields = replace(build.manifest, store=store.kind).fields()
        written = storage.write_index(self.folder.folder, {**fields, **storage.contents(corpus)}, corpus, store, lexical)
        return Stored(corpus, store, lexical, written.name)

    def current(self) -> Stored:
        if self.stored is None:
            raise ValueError("nothing is committed yet")
        return self.stored
