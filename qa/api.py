"""The public face: an ``Index`` (built incrementally, loaded from a folder or a database) and the
shortcuts ``ask`` and ``retrieve`` that load one once per process and reload it after a rebuild.

An ``Index`` holds the corpus (documents, chunk and sentence tables, sentence
vectors), the chunk vectors in a vector store, a BM25 index, and the manifest
they were built with. ``index.build`` decides what changed and embeds it, an
``IndexStore`` (``index.stores``) persists and loads it, ``retrieve`` ranks
passages, ``answer`` quotes them: every stage sits below this module.

The location is an index folder (the default: ``index.stores.folder``) or a PostgreSQL
URL (``postgresql://...``: ``index.stores.postgres`` keeps the same corpus in tables and
the vector and BM25 searches run in the database). ``open_store`` picks one from the
location, once; this module calls it through the protocol and cannot tell the two apart.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from .answer.compose import answer_question
from .answer.written import write_answer, writing
from .errors import SourceChangedError
from .index import build as builder
from .index.corpus import Corpus, CorpusView
from .index.embedding import Embedder
from .index.lexical import LexicalSearch
from .index.plan import BuildReport, check_paths, resolved_scope
from .index.stores.base import IndexStore, Stored
from .index.stores.factory import open_store
from .index.vectors import VectorSearch
from .read.files import still_holds
from .retrieval.questions import check_k
from .retrieval.retriever import Retriever, check_mode, distinct
from .settings import Settings
from .types import Answer, Document, Passage


class Index:
    def __init__(
        self,
        index_dir: Path | str,
        settings: Settings,
        corpus: CorpusView,
        dense: VectorSearch,
        lexical: LexicalSearch,
        embedder: Embedder | None = None,
        report: BuildReport | None = None,
        generation: object = None,
        store: IndexStore | None = None,
    ) -> None:
        self.index_dir = index_dir  # a folder, or a database URL
        self.store = store or open_store(index_dir)  # where it is kept: the only part that knows which kind
        self.generation = generation  # which build this is: the folder's name, or the database's number
        self.settings = settings
        self.view = corpus  # what answering reads: the corpus in memory (a folder), or the database's rows as needed
        self.dense = dense  # the chunk vectors' search
        self.lexical = lexical
        self.report = report or BuildReport()
        self.retriever = Retriever(dense, lexical, settings, embedder)

    @property
    def corpus(self) -> Corpus:
        """Every document, chunk and sentence row in memory: the index folder's own; a database's read now, whole
        (for tools and tests: answering reads only the retrieved chunks' rows)."""
        return self.view.whole()

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

    def passages_per_source(self) -> dict[str, int]:
        """How many passages (chunks) the index holds of each document, by its path."""
        return self.view.chunk_counts()

    def shown_location(self) -> str:
        """Where the index is kept, fit for a log or a message: the folder, or the database URL without its password."""
        return self.store.describe()

    def warm_up(self) -> None:
        """Load the embedding model now (a question embedded and thrown away), so the first question does not wait."""
        self.retriever.embed_question("warm up")

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
        scope: Iterable[str | Path] | None = None,
    ) -> Index:
        """Index the files and folders in ``paths``; only new or changed files are embedded.

        ``scope``: the files and folders this build speaks for (``paths`` themselves, say). Indexed documents
        outside it stay, and in a database several builds with their own scopes run at once (workers sharing
        one library, each with its files). By default the index becomes ``paths`` alone."""
        settings = settings or Settings()
        store = open_store(index_dir)
        paths = check_paths(paths)
        within = resolved_scope(scope)
        try:
            stored = builder.build(store, paths, settings, embedder, progress, within)
        except SourceChangedError:  # a file saved during the build: read what changed once more
            stored = builder.build(store, paths, settings, embedder, progress, within)
        return cls._opened(index_dir, store, settings, stored)

    @classmethod
    def load(cls, index_dir: str | Path = "index", *, settings: Settings | None = None, embedder: Embedder | None = None) -> Index:
        """Open a built index; a missing, foreign or damaged one raises an error that says how to rebuild."""
        settings = settings or Settings()
        store = open_store(index_dir)
        return cls._opened(index_dir, store, settings, store.load(settings, embedder))

    @classmethod
    def _opened(cls, index_dir: str | Path, store: IndexStore, settings: Settings, stored: Stored) -> Index:
        return cls(index_dir, settings, stored.corpus, stored.dense, stored.lexical, stored.embedder, stored.report,
                   stored.generation, store)

    def refreshed(self) -> Index:
        """This index, or the newer one another process (or build) has committed since it was loaded."""
        if self.store.generation() == self.generation:
            return self
        mine = Stored(self.view, self.dense, self.lexical, self.generation)  # a database keeps the documents it holds
        stored = self.store.load(self.settings, self.retriever.loaded_embedder, mine)
        return Index._opened(self.index_dir, self.store, self.settings, stored)

    def writes(self, answer: Answer) -> bool:
        """Whether ``write`` would ask the configured model for ``answer`` in words: a model is configured, the
        sources answer (a declined question never goes to the model) and it has no words yet."""
        return bool(self.settings.llm.url) and answer.answered and answer.written is None

    def write(self, answer: Answer) -> Answer:
        """``answer`` with its words from the configured model, checked against its quotes (``qa.answer.written``),
        or as it is when ``writes`` says no."""
        return replace(answer, written=write_answer(answer, self.settings.llm)) if self.writes(answer) else answer

    def writing(self, answer: Answer) -> Generator[Answer, None, None]:
        """``write`` as the model writes: ``answer`` with the sentences checked so far (``written.finished`` False)
        each time one is complete, the finished answer last; nothing when ``writes`` says no. Closing it early
        (the chat's Stop) ends the request to the model server."""
        if self.writes(answer):
            for written in writing(answer, self.settings.llm):
                yield replace(answer, written=written)

    def document(self, path: str) -> Document | None:
        """The indexed document with this absolute path, if any."""
        return self.view.document(path)

    # ----- asking ------------------------------------------------------------------

    def retrieve(self, question: str, k: int = 5, *, mode: str | None = None) -> list[Passage]:
        """The ``k`` passages that best match the question, best first."""
        k = check_k(k)
        mode = check_mode(mode or self.settings.retrieval.mode)
        asked = self.retriever.read(question, None, self.settings.max_question_chars, embed=mode != "lexical")
        hits, _ = self.retriever.rank(asked.query, k * self.settings.retrieval.fetch_per_passage, mode, asked.vector,
                                      asked.query_tokens)
        passages = self.view.passages(hits)
        same = [(p.section, p.text) for p in passages]
        kept = distinct([(at, p.score) for at, p in enumerate(passages)], same.__getitem__, k)
        return [replace(passages[at], rank=n) for n, (at, _) in enumerate(kept, start=1)]  # identical passages: one place

    def answer(self, question: str, history: Sequence[Sequence[str]] | None = None, *, write: bool = True) -> Answer:
        """An answer made of verbatim quotes with numbered citations, or a plain abstention (see ``qa.answer.compose``);
        with ``Settings.llm`` configured, also in words (``write=False`` leaves that to ``Index.write``: the app shows
        the quotes first)."""
        answer = answer_question(self, question, history)
        answer = self.write(answer) if write else answer
        indexed = {c.path: self.document(c.path) for c in answer.citations}
        changed = {path for path, doc in indexed.items() if doc is not None and not still_holds(path, doc.sha256)}
        if not changed:
            return answer
        return replace(answer, citations=tuple(replace(c, source_changed=c.path in changed) for c in answer.citations))



_CACHE: dict[tuple[Path | str, Settings | None], Index] = {}
_LOCK = threading.Lock()


def open_index(index_dir: str | Path = "index", settings: Settings | None = None) -> Index:
    """The index in ``index_dir`` (a folder or a database URL), loaded with ``settings`` (default: ``Settings()``),
    cached; a newer build replaces the cached one."""
    key = (open_store(index_dir).key(), settings)
    with _LOCK:
        cached = _CACHE.get(key)
        _CACHE[key] = Index.load(key[0], settings=settings) if cached is None else cached.refreshed()
        return _CACHE[key]


def retrieve(question: str, k: int = 5, index_dir: str | Path = "index", settings: Settings | None = None) -> list[Passage]:
    """The ``k`` passages of the index in ``index_dir`` that best match ``question``."""
    return open_index(index_dir, settings).retrieve(question, k)


def ask(question: str, history: Sequence[Sequence[str]] | None = None, index_dir: str | Path = "index",
        settings: Settings | None = None) -> Answer:
    """A quoted answer from the index in ``index_dir`` (see ``qa.answer.compose``)."""
    return open_index(index_dir, settings).answer(question, history)
