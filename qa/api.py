"""Module-level shortcuts that load the index once per process and reload it after a rebuild."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from . import storage
from .answer import answer_question
from .index import Index
from .types import Answer, Passage

_CACHE: dict[Path, tuple[str, Index]] = {}
_LOCK = threading.Lock()


def open_index(index_dir: str | Path = "index") -> Index:
    """The index in ``index_dir``, cached; a newer build on disk replaces the cached one."""
    key = Path(index_dir).resolve()
    with _LOCK:
        generation = storage.current_folder(key).name
        cached = _CACHE.get(key)
        if cached is None or cached[0] != generation:
            _CACHE[key] = (generation, Index.load(key))
        return _CACHE[key][1]


def retrieve(question: str, k: int = 5, index_dir: str | Path = "index") -> list[Passage]:
    """The ``k`` passages of the index in ``index_dir`` that best match ``question``."""
    return open_index(index_dir).retrieve(question, k)


def ask(question: str, history: Sequence[tuple[str, str]] | None = None, index_dir: str | Path = "index") -> Answer:
    """A quoted answer from the index in ``index_dir`` (see ``qa.answer``)."""
    index = open_index(index_dir)
    return answer_question(index.corpus, index.retriever, index.settings, question, history)
