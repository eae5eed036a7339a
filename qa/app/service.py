"""The live index behind the chat app: answers from the loaded index, rebuilds it when the library changes.

One ``Service`` per process keeps the loaded ``Index`` in memory. Adding or removing a
source rebuilds the index with ``Index.build`` over the whole library (incremental: only new
files are embedded, and ``Index.build`` holds the index's writer lock), then swaps the new
index in; questions asked meanwhile are answered by the previous one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qa import Answer, EmptyCorpusError, Index, IndexLockedError, Passage, QAError, Settings, Skipped, SourceError

from .library import Library, SourceFile

NO_SOURCES = "There are no sources yet. Upload a .txt, .md, .html or .pdf file, then ask again."


@dataclass(frozen=True)
class SourceRow:
    """A library source and how many passages of it the index holds (0: not indexed)."""

    source: SourceFile
    passages: int


@dataclass(frozen=True)
class Change:
    """What an upload or removal did to the index."""

    added: tuple[str, ...] = ()  # names of uploads now indexed
    removed: tuple[str, ...] = ()  # names of sources taken out
    rejected: tuple[Skipped, ...] = ()  # uploads refused (path = file name), and why
    seconds: float = 0.0

    def summary(self) -> str:
        parts = []
        if self.added:
            parts.append(f"Indexed {', '.join(self.added)} in {self.seconds:.1f} s; you can ask about it now.")
        if self.removed:
            parts.append(f"Removed {', '.join(self.removed)} from the index.")
        parts += [f"Not added: {item.reason}" for item in self.rejected]
        return " ".join(parts) or "Nothing changed."


class Service:
    def __init__(self, library: Library, index_dir: str | Path, index: Index | None, settings: Settings | None = None) -> None:
        self.library = library
        self.index_dir = Path(index_dir)
        self.settings = settings
        self._index = index
        self._writing = threading.Lock()

    @classmethod
    def start(cls, library: Library, index_dir: str | Path = "index", settings: Settings | None = None) -> Service:
        """Load the index, building it first when it is missing, stale or damaged (cheap when up to date)."""
        try:
            index: Index | None = Index.build(library.paths(), index_dir, settings=settings)
        except EmptyCorpusError:
            index = None
        except IndexLockedError:
            index = Index.load(index_dir, settings=settings)  # someone else is writing: serve what is there
        return cls(library, index_dir, index, settings)

    @property
    def index(self) -> Index:
        if self._index is None:
            raise QAError(NO_SOURCES)
        return self._index

    def warm_up(self) -> None:
        """Load the embedding model now, so the first question does not wait for it."""
        if self._index is not None:
            self._index.retriever.embed_question("warm up")

    # ----- asking ------------------------------------------------------------------

    def ask(self, question: str, history: Sequence[tuple[str, str]] | None = None) -> Answer:
        return self.index.answer(question, history)  # one index for the whole answer, even if a rebuild swaps it

    def retrieve(self, question: str, k: int = 5) -> list[Passage]:
        return self.index.retrieve(question, k)

    def sources(self) -> list[SourceRow]:
        index = self._index  # one index for the whole list, even if a rebuild swaps it meanwhile
        counts: dict[str, int] = {}
        if index is not None:
            for doc in index.chunks["doc"].tolist():
                path = index.documents[doc].path
                counts[path] = counts.get(path, 0) + 1
        return [SourceRow(source, counts.get(source.path, 0)) for source in self.library.sources()]

    # ----- changing the library ----------------------------------------------------

    def add(self, files: Sequence[tuple[str | Path, str]], *, progress: bool = False) -> Change:
        """Store uploads (file, original name) and index them; refused files are reported, not raised."""
        with self._writing:
            started = time.monotonic()
            stored: list[SourceFile] = []
            rejected: list[Skipped] = []
            for file, name in files:
                try:
                    stored.append(self.library.add(file, name))
                except SourceError as error:
                    rejected.append(Skipped(name, str(error)))
            if not stored:
                return Change(rejected=tuple(rejected))
            try:
                index = Index.build(self.library.paths(), self.index_dir, settings=self.settings, progress=progress)
            except QAError:
                for source in stored:  # leave the library as it was
                    Path(source.path).unlink(missing_ok=True)
                raise
            skipped = {item.path: item.reason for item in index.report.skipped}
            for source in stored:
                if source.path in skipped:
                    Path(source.path).unlink(missing_ok=True)
                    rejected.append(Skipped(source.name, f"{source.name}: {skipped[source.path]}"))
            self._index = index
            added = tuple(s.name for s in stored if s.path not in skipped)
            return Change(added, (), tuple(rejected), time.monotonic() - started)

    def remove(self, path: str | Path) -> Change:
        """Take a source out of the index, then out of the library (see ``Library.remove``)."""
        with self._writing:
            started = time.monotonic()
            source = self.library.find(path)
            remaining = [p for p in self.library.paths() if p != source.path]
            if not remaining:
                self.library.remove(source.path)  # raises: the last source stays
            index = Index.build(remaining, self.index_dir, settings=self.settings)
            self.library.remove(source.path)
            self._index = index
            return Change((), (source.name,), (), time.monotonic() - started)

