"""The live index behind the chat app: answers from the loaded index, rebuilds it when the library changes.

One ``Service`` per process keeps the loaded ``Index`` in memory. Adding or removing a
source rebuilds the index with ``Index.build`` over the whole library (incremental: only new
files are embedded, and ``Index.build`` holds the index's writer lock; documents indexed from outside
the library's folders stay), then swaps the new index in; questions asked meanwhile are answered by the previous one. Each request first
checks whether another process has committed a newer build (several app processes can share
one PostgreSQL store, and then one ``data`` folder) and loads it if so.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import FILE_TYPES, Answer, Index, Passage, QAError, Settings, Skipped
from ..errors import EmptyCorpusError, IndexLockedError, SourceError, StoreError
from .library import Library, SourceFile, Staged

log = logging.getLogger("qa.app")
NO_SOURCES = f"There are no sources yet. Upload a {FILE_TYPES} file, then ask again."
LOCKED = ("Another process is writing the index right now (a `qa index` run, or another app on the same index). "
          "Wait for it to finish, then try again; nothing was changed.")


@dataclass(frozen=True)
class SourceRow:
    """A library source and how many passages of it the index holds (0: not indexed)."""

    source: SourceFile
    passages: int


@dataclass(frozen=True)
class Change:
    """What an upload or removal did to the index."""

    added: tuple[str, ...] = ()  # names of sources now indexed (uploads, or a seed brought back)
    removed: tuple[str, ...] = ()  # names of sources taken out
    rejected: tuple[Skipped, ...] = ()  # uploads refused (path = file name), and why
    seconds: float = 0.0
    passages: int = 0  # passages of the added sources now in the index

    def summary(self) -> str:
        parts = []
        if self.added:
            parts.append(f"Indexed {', '.join(self.added)}: {self.passages:,} passages in {self.seconds:.1f} s. "
                         "You can ask about it now.")
        if self.removed:
            parts.append(f"Removed {', '.join(self.removed)} from the index.")
        parts += [f"Not added: {item.reason}" for item in self.rejected]
        return " ".join(parts) or "Nothing changed."


class Service:
    def __init__(self, library: Library, index_dir: str | Path, index: Index | None, settings: Settings | None = None) -> None:
        self.library = library
        self.index_dir = index_dir  # a folder, or a database URL (checked by the Index.build that started it)
        self.settings = settings
        self._index = index
        self._changing = threading.Lock()

    @classmethod
    def start(cls, library: Library, index_dir: str | Path = "index", settings: Settings | None = None) -> Service:
        """Load the index, building it first when it is missing, stale or damaged (cheap when up to date)."""
        for line in library.recover():
            log.warning("%s", line)
        paths = library.paths()
        log.info("checking the index of %d source(s) (%s); new or changed files are read and embedded",
                 len(paths), _names([Path(p).name for p in paths]))
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                index: Index | None = Index.build(paths, index_dir, settings=settings, progress=True, scope=library.folders)
            for warning in caught:  # skipped files, a damaged index being rebuilt: one line each
                log.warning("%s", warning.message)
        except EmptyCorpusError:
            index = None
        except IndexLockedError:
            index = Index.load(index_dir, settings=settings)  # someone else is writing: serve what is there
        return cls(library, index_dir, index, settings)

    @property
    def index(self) -> Index:
        index = self._current()
        if index is None:
            raise QAError(NO_SOURCES)
        return index

    def _current(self, stale_ok: bool = False) -> Index | None:
        """The loaded index, replaced first by a newer build another process has committed. With ``stale_ok``, a
        database that cannot be reached just now leaves the loaded one (for listing; a search says it cannot)."""
        index = self._index  # read once: a rebuild may swap it meanwhile
        if index is not None:
            try:
                fresh = index.refreshed()
            except StoreError:
                if not stale_ok:
                    raise
                return index
            if fresh is not index:
                self._index = index = fresh
        return index

    def shown_location(self) -> str:
        """Where the index is kept, for the log (a database URL without its password)."""
        index = self._index
        return index.shown_location() if index is not None else "no index yet (no sources)"

    def warm_up(self) -> None:
        """Load the embedding model now, so the first question does not wait for it."""
        if self._index is not None:
            self._index.warm_up()

    # ----- asking ------------------------------------------------------------------

    def ask(self, question: str, history: Sequence[Sequence[str]] | None = None, write: bool = True) -> Answer:
        return self.index.answer(question, history, write=write)  # one index for the whole answer, even if a rebuild swaps it

    def writes(self, answer: Answer) -> bool:
        return self.index.writes(answer)

    def writing(self, answer: Answer) -> Generator[Answer, None, None]:
        return self.index.writing(answer)

    def retrieve(self, question: str, k: int = 5) -> list[Passage]:
        return self.index.retrieve(question, k)

    def sources(self) -> list[SourceRow]:
        index = self._current(stale_ok=True)  # one index for the whole list, even if a rebuild swaps it meanwhile
        counts = index.passages_per_source() if index is not None else {}
        return [SourceRow(source, counts.get(source.path, 0)) for source in self.library.sources()]

    # ----- changing the library ----------------------------------------------------

    def add(self, files: Sequence[tuple[str | Path, str]], *, progress: bool = False) -> Change:
        """Store uploads (file, original name) and index them; refused files are reported, not raised.

        Each upload is staged (checked, put in place, the earlier file of its name kept aside),
        the library indexed, and only then committed: when indexing fails, or leaves an upload
        out, the earlier file comes back and the live index is the one that holds it.
        """
        with self._changing:
            started = time.monotonic()
            staged: list[Staged] = []
            rejected: list[Skipped] = []
            for file, name in files:
                try:
                    staged.append(self.library.stage(file, name, self.settings.read if self.settings else None))
                except SourceError as error:
                    rejected.append(Skipped(name, str(error)))
            if not staged:
                return Change(rejected=tuple(rejected))
            try:
                index = self._build(self.library.paths(), progress)
            except BaseException:
                for upload in reversed(staged):  # leave the library as it was
                    self.library.rollback(upload)
                raise
            skipped = {item.path: item.reason for item in index.report.skipped}
            for upload in staged:
                if upload.source.path in skipped:  # read when staged, unreadable now: changed meanwhile
                    self.library.rollback(upload)
                    rejected.append(Skipped(upload.source.name, f"{upload.source.name}: {skipped[upload.source.path]}"))
                else:
                    self.library.commit(upload)
            if any(upload.source.path in skipped and upload.previous for upload in staged):
                index = self._build(self.library.paths())  # the earlier files again
            self._index = index
            added = [s.source for s in staged if s.source.path not in skipped]
            passages = index.passages_per_source()
            return Change(tuple(s.name for s in added), (), tuple(rejected), time.monotonic() - started,
                          sum(passages.get(s.path, 0) for s in added))

    def remove(self, path: str | Path) -> Change:
        """Take a source out of the index, then out of the library (see ``Library.remove``)."""
        with self._changing:
            started = time.monotonic()
            source = self.library.find(path)
            remaining = [p for p in self.library.paths() if p != source.path]
            if not remaining:
                self.library.remove(source.path)  # raises: the last source stays
            index = self._build(remaining)
            self.library.remove(source.path)
            self._index = index
            return Change((), (source.name,), (), time.monotonic() - started)

    def restore(self, relative: str) -> Change:
        """Bring a removed seed back into the library and the index (see ``Library.restore``)."""
        with self._changing:
            started = time.monotonic()
            seed = self.library.restore(relative)
            try:
                index = self._build(self.library.paths())
            except BaseException:
                self.library.remove(seed.path)  # excluded again: the library stays as the index has it
                raise
            self._index = index
            return Change((seed.name,), (), (), time.monotonic() - started, index.passages_per_source().get(seed.path, 0))

    def _build(self, paths: list[str], progress: bool = False) -> Index:
        try:
            return Index.build(paths, self.index_dir, settings=self.settings, progress=progress, scope=self.library.folders)
        except IndexLockedError:
            raise IndexLockedError(LOCKED) from None  # the error's own message names the index's absolute path


def _names(names: list[str], shown: int = 3) -> str:
    """"a.txt, b.md and 4 more": a line of names that stays a line."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more
