"""Where an index is kept: the small protocol every store implements, and what a build hands it.

Stores only persist. The build flow (plan, chunk, BM25, vectors, commit) is written once, in
``qa.index.build``, and talks to a store through ``IndexStore.writer``: the writer holds the
store's lock, shows the committed corpus, and commits what the build made, or nothing when the
build fails. ``factory.open_store`` picks a store from the location; nothing above
``qa/index/stores/`` asks which one it has.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ...settings import Settings
from ...types import Document
from ..corpus import Corpus, CorpusView, Part
from ..embedding import Embedder
from ..lexical import LexicalIndex, LexicalSearch
from ..plan import BuildReport, Committed
from ..vectors import FaissSearch, VectorSearch
from .manifest import Manifest


@dataclass(frozen=True)
class Stored:
    """One generation of an index as loaded (or just built): the corpus and its two searches."""

    corpus: CorpusView
    dense: VectorSearch  # the chunk vectors' search
    lexical: LexicalSearch
    generation: object  # which build this is: the folder's name, or the database's number
    report: BuildReport = field(default_factory=BuildReport)  # what the build that made it did (empty after a load)
    embedder: Embedder | None = None  # the embedder a build loaded, so the index reuses it


@dataclass(frozen=True)
class Whole:
    """The whole index in memory, searches included: what a store that writes everything anew keeps."""

    corpus: Corpus
    dense: FaissSearch
    lexical: LexicalIndex


@dataclass(frozen=True)
class Build:
    """What a build hands a writer to commit."""

    documents: list[Document]  # every document of the new index, in order
    new: list[Part]  # the documents the committed index lacks, chunked and embedded
    manifest: Manifest  # with the vectors' size and the vector search's kind
    whole: Whole | None = None  # for a store that rewrites everything (``Writer.rewrites_all``)
    scope: frozenset[str] | None = None  # what the build speaks for: only documents in it can be gone (``plan.Plan.scope``)


class Writer(Protocol):
    """One build's hold on a store, from the lock to the commit; leaving it without a commit changes nothing."""

    rewrites_all: bool  # True: the store writes a whole new generation and needs ``Build.whole``
    dim: int | None  # the size of the vectors already stored, if any

    @property
    def previous(self) -> Committed | None:
        """The committed documents (None: none, or an index that must be built anew)."""
        ...

    def carried(self) -> dict[tuple[str, str], Part]:
        """The committed documents' parts with their chunk vectors, by (path, sha256): for a store that rewrites all."""
        ...

    def commit(self, build: Build) -> Stored:
        """Make ``build`` the committed index (atomically), and return it as loaded."""
        ...

    def current(self) -> Stored:
        """The committed index as it stands: for a build that found nothing to change."""
        ...


class IndexStore(Protocol):
    def describe(self) -> str:
        """The location fit for a message or a log (a database URL without its password)."""
        ...

    def key(self) -> Path | str:
        """The location, the same however it was written: a cache key."""
        ...

    def writer(self, settings: Settings, embedder: Embedder | None, adding: bool = False) -> AbstractContextManager[Writer]:
        """Hold the store's writer lock (a second writer waits ``manifest.LOCK_WAIT_SECONDS``, then gets an error);
        ``adding``: a store that can shares it with other adding builds, which then write one after another."""
        ...

    def load(self, settings: Settings, embedder: Embedder | None, previous: Stored | None = None) -> Stored:
        """The committed index; a missing, foreign or damaged one raises an error that says how to rebuild.

        ``previous`` (an earlier load of the same place) may spare reading what it already holds."""
        ...

    def generation(self) -> object:
        """Which build is committed now (one cheap look), to compare with ``Stored.generation``."""
        ...
