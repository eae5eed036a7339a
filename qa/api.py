"""Module-level shortcuts that load the index once per process and reload it after a rebuild."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from .answer import answer_question
from .index import Index
from .indexstorage import location
from .settings import Settings
from .types import Answer, Passage

_CACHE: dict[tuple[Path | str, Settings | None], Index] = {}
_LOCK = threading.Lock()


def open_index(index_dir: str | Path = "index", settings: Settings | None = None) -> Index:
    """The index in ``index_dir`` (a folder or a database URL), loaded with ``settings`` (default: ``Settings()``),
    cached; a newer build replaces the cached one."""
    place = location(index_dir)
    key = (place if isinstance(place, str) else place.resolve(), settings)
    with _LOCK:
        cached = _CACHE.get(key)
        _CACHE[key] = Index.load(key[0], settings=settings) if cached is None else cached.refreshed()
        return _CACHE[key]


def retrieve(question: str, k: int = 5, index_dir: str | Path = "index", settings: Settings | None = None) -> list[Passage]:
    """The ``k`` passages of the index in ``index_dir`` that best match ``question``."""
    return open_index(index_dir, settings).retrieve(question, k)


def ask(question: str, history: Sequence[Sequence[str]] | None = None, index_dir: str | Path = "index",
        settings: Settings | None = None) -> Answer:
    """A quoted answer from the index in ``index_dir`` (see ``qa.answer``)."""
    index = open_index(index_dir, settings)
    return answer_question(index.corpus, index.retriever, index.settings, question, history)
