"""Where an index is kept: the one interface both places implement, and the function that picks one.

An index lives in a folder (``folder``, the default) or in a PostgreSQL database
(``postgres``, for a ``postgresql://`` URL). Both build through the same flow in ``index.build``
(plan, read, chunk, embed what is new) and differ only in how they persist and load the
result; ``open_storage`` picks one from the location, once, and nothing above this module
asks which one it has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ...settings import Settings
from ..build import BuildReport
from ..corpus import Corpus
from ..embedding import Embedder
from ..lexical import LexicalSearch
from ..vectors import VectorStore
from .folder_files import index_path
from .postgres_server import is_database_url


@dataclass(frozen=True)
class Stored:
    """One generation of an index as loaded (or just built): the corpus and its two searches."""

    corpus: Corpus
    store: VectorStore
    lexical: LexicalSearch
    generation: object  # which build this is: the folder's name, or the database's number
    report: BuildReport = field(default_factory=BuildReport)  # what the build that made it did (empty after a load)
    embedder: Embedder | None = None  # the embedder a build loaded, so the index reuses it


class IndexStorage(Protocol):
    location: Path | str  # a folder, or a database URL

    def build(self, paths: Sequence[str | Path], settings: Settings, embedder: Embedder | None, progress: bool) -> Stored:
        """Bring the stored index up to date with ``paths`` (only new or changed files are embedded), then load it."""
        ...

    def load(self, settings: Settings, embedder: Embedder | None, previous: Stored | None = None) -> Stored:
        """The committed index; a missing, foreign or damaged one raises an error that says how to rebuild.

        ``previous`` (an earlier load of the same place) may spare reading what it already holds."""
        ...

    def generation(self) -> object:
        """Which build is committed now (one cheap look), to compare with ``Stored.generation``."""
        ...


def location(index: object) -> Path | str:
    """A database URL as given, anything else as a folder path (an ArgumentError when it is not one)."""
    return index if isinstance(index, str) and is_database_url(index) else index_path(index)


def place_key(index: object) -> Path | str:
    """The location as a cache key, the same however it was written: a database URL as given, a folder's absolute path."""
    place = location(index)
    return place if isinstance(place, str) else place.resolve()


def open_storage(index: object) -> IndexStorage:
    """The storage for a location: a database for a ``postgresql://`` URL, else a folder."""
    place = location(index)
    if isinstance(place, str):
        from .postgres import DatabaseStorage  # psycopg is imported only for a database

        return DatabaseStorage(place)
    from .folder import FolderStorage

    return FolderStorage(place)
