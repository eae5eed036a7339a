"""The index: the stored corpus and its searchable parts, built incrementally and loaded from a folder.

An ``Index`` holds the corpus (documents, chunk and sentence tables, sentence
vectors), the chunk vectors in a vector store, a BM25 index, and the manifest
they were built with. ``build`` decides what changed, ``storage`` owns the folder,
``retrieve`` ranks passages; answering sits above all of them in ``answer``.

The location is an index folder (the default) or a PostgreSQL URL
(``postgresql://...``): then ``pgstorage`` keeps the same corpus in tables and the
vector and BM25 searches run in the database (``pgstore``); nothing above this
module can tell the two apart.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import build as builder
from . import storage
from .build import BuildReport, identity
from .corpus import Corpus
from .embed import Embedder
from .errors import IndexCorruptError, IndexMismatchError, rebuild_hint
from .lexical import LexicalIndex, LexicalSearch
from .pgstore import is_database_url
from .retrieve import Retriever, check_k, check_question
from .settings import Settings
from .store import FaissStore, VectorStore
from .types import Answer, Document, Passage


class Index:
    def __init__(
        self,
        index_dir: Path | str,
        settings: Settings,
        corpus: Corpus,
        store: VectorStore,
        lexical: LexicalSearch,
        embedder: Embedder | None = None,
        report: BuildReport | None = None,
        generation: object = None,
    ) -> None:
        self.index_dir = index_dir  # a folder, or a database URL
        self.generation = generation  # which build this is: the folder's name, or the database's number
        self.settings = settings
        self.corpus = corpus
        self.store = store
        self.lexical = lexical
        self.report = report or BuildReport()
        self.retriever = Retriever(store, lexical, settings, embedder)

    @property
    def documents(self) -> tuple[Document, ...]:
        return self.corpus.documents

    @property
    def chunks(self) -> np.ndarray:
        """The chunk table (fields: doc, start, end, first_sentence, last_sentence)."""
        return self.corpus.chunks

    @property
    def embedder(self) -> Embedder:
        return self.retriever.embedder

    # ----- building and loading -------------------------------------------------

    @classmethod
    def build(
        cls,
        paths: Iterable[str | Path],
        index_dir: str | Path = "index",
        *,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        progress: bool = False,
    ) -> Index:
        """Index the files and folders in ``paths``; only new or changed files are embedded."""
        settings = settings or Settings()
        index_dir = location(index_dir)
        paths = builder.check_paths(paths)
        if isinstance(index_dir, str):
            from . import pgstorage

            stored, report, embedder = pgstorage.build(paths, index_dir, settings, embedder, progress)
            return cls(index_dir, settings, stored.corpus, stored.store, stored.lexical, embedder, report, stored.generation)
        with storage.writer_lock(index_dir):
            storage.remove_stale(index_dir)  # what killed builds left behind (safe: we hold the lock)
            previous = cls._previous(index_dir, settings, embedder)
            plan = builder.plan(paths, previous.corpus if previous else None, settings.read)
            if previous is not None and plan.unchanged:
                previous.report = plan.report
                return previous
            old = (previous.corpus, previous.store) if previous else None
            embedder = embedder or (previous.retriever.loaded_embedder if previous else None)
            parts, embedder = builder.make_parts(plan, old, settings, embedder, progress)
            corpus = Corpus.from_parts(parts)
            dim = next((p.chunk_vectors.shape[1] for p in parts if p.chunk_vectors.size), embedder.dim if embedder else 0)
            store = FaissStore.build(np.vstack([p.chunk_vectors.reshape(-1, dim) for p in parts]), dim, settings.ann_threshold)
            lexical = LexicalIndex.build([text for p in parts for text in p.lexical_texts()])
            index = cls(index_dir, settings, corpus, store, lexical, embedder, plan.report)
            index.generation = storage.write_index(index_dir, index._manifest(dim, embedder), corpus, store, lexical).name
            return index

    @classmethod
    def _previous(cls, index_dir: Path, settings: Settings, embedder: Embedder | None) -> Index | None:
        pointer = index_dir / storage.CURRENT
        if not pointer.exists() and not pointer.is_symlink():
            return None
        try:
            return cls.load(index_dir, settings=settings, embedder=embedder)
        except (IndexMismatchError, IndexCorruptError) as error:
            warnings.warn(f"rebuilding the whole index: {error}", stacklevel=3)
            return None

    def _manifest(self, dim: int, embedder: Embedder | None) -> dict[str, Any]:
        corpus = self.corpus
        return {
            **identity(self.settings, embedder),
            "dim": dim,
            "store": self.store.kind,
            "counts": {"documents": len(corpus.documents), "chunks": len(corpus.chunks), "sentences": len(corpus.sentences)},
            "documents": [
                {"path": doc.path, "sha256": doc.sha256, "chunks": int(corpus.chunk_starts[i + 1] - corpus.chunk_starts[i])}
                for i, doc in enumerate(corpus.documents)
            ],
        }

    @classmethod
    def load(cls, index_dir: str | Path = "index", *, settings: Settings | None = None, embedder: Embedder | None = None) -> Index:
        """Open a built index; a missing, foreign or damaged one raises an error that says how to rebuild."""
        settings = settings or Settings()
        index_dir = location(index_dir)
        if isinstance(index_dir, str):
            return cls._from_database(index_dir, settings, embedder)
        folder = storage.current_folder(index_dir)
        expected = identity(settings, embedder)
        manifest = storage.read_manifest(folder, index_dir, expected)
        corpus, store, lexical = storage.read_index(folder, index_dir)
        if embedder is not None and embedder.dim != manifest.get("dim"):
            raise IndexMismatchError(f"The index in {index_dir} holds {manifest.get('dim')}-dimensional vectors, "
                                     f"the model makes {embedder.dim}. " + rebuild_hint(index_dir))
        return cls(index_dir, settings, corpus, store, lexical, embedder, generation=folder.name)

    @classmethod
    def _from_database(cls, url: str, settings: Settings, embedder: Embedder | None, previous: Index | None = None) -> Index:
        from . import pgstorage

        expected = identity(settings, embedder)
        known = pgstorage.Stored(previous.corpus, previous.store, previous.lexical, 0, {}) if previous else None  # type: ignore[arg-type]
        stored = pgstorage.load(url, expected, embedder.dim if embedder else None, known)
        return cls(url, settings, stored.corpus, stored.store, stored.lexical, embedder, generation=stored.generation)

    def refreshed(self) -> Index:
        """This index, or the newer one another process (or build) has committed since it was loaded."""
        embedder = self.retriever.loaded_embedder
        if isinstance(self.index_dir, str):
            from . import pgstorage

            if pgstorage.generation(self.index_dir) == self.generation:
                return self
            return self._from_database(self.index_dir, self.settings, embedder, previous=self)  # reads only new documents
        if storage.current_folder(self.index_dir).name == self.generation:
            return self
        return Index.load(self.index_dir, settings=self.settings, embedder=embedder)

    def document(self, path: str) -> Document | None:
        """The indexed document with this absolute path, if any."""
        return self.corpus.document(path)

    # ----- asking ------------------------------------------------------------------

    def retrieve(self, question: str, k: int = 5, *, mode: str | None = None) -> list[Passage]:
        """The ``k`` passages that best match the question, best first."""
        k = check_k(k)
        question, _ = check_question(question, self.settings.max_question_chars)
        hits, _ = self.retriever.rank(question, k, mode)
        return [self.corpus.passage(chunk, score, rank) for rank, (chunk, score) in enumerate(hits, start=1)]

    def answer(self, question: str, history: Sequence[Sequence[str]] | None = None) -> Answer:
        """An answer made of verbatim quotes with numbered citations, or a plain abstention (see ``qa.answer``)."""
        from .answer import answer_question  # answering sits above the index

        return answer_question(self.corpus, self.retriever, self.settings, question, history)


def location(index: object) -> Path | str:
    """A database URL as given, anything else as a folder path (an ArgumentError when it is not one)."""
    return index if isinstance(index, str) and is_database_url(index) else storage.index_path(index)
