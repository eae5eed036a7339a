"""What the tests of more than one stage share, as plain names: the repository's paths, the fake embedder, a fresh
PostgreSQL schema, a quiet build, the promises every answer keeps. Test modules import them by name
(``from helpers import SEED_FILE, FakeEmbedder``); the fixtures built on them are in ``tests/conftest.py``.
Helpers for one kind of test are beside this module: ``helpers.documents`` (files made at test time),
``helpers.index``, ``helpers.postgres``, ``helpers.cli``, ``helpers.faults`` and ``helpers.browser``.
"""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import numpy as np
import pytest

if TYPE_CHECKING:
    from qa import Answer, Index, Settings

# Before anything imports the model's libraries (they read these once): never reach for the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"
SEED_FILE = SEEDS / "azerbaijan-soldiers-killed-nagorno-karabakh.txt"
FIXTURES = REPO / "tests" / "fixtures"  # small public documents the readers are tested on
SHARED = REPO.parent / "shared"  # evaluation data beside the clone (never committed here): tests skip without it

# In a module with ``BOTH_STORES = True``, a test about the index folder format itself (conftest.py runs it once).
folder_only = pytest.mark.folder_only

_WORD = re.compile(r"\w+")


class FakeEmbedder:
    """Hashed bag-of-words vectors of unit length: deterministic, instant, no model.

    Implements the ``qa.index.embedding.Embedder`` protocol. ``calls`` records every batch it
    embedded, so tests can check what a build sent to the model.
    """

    def __init__(self, name: str = "fake-hash", dim: int = 64, max_tokens: int = 256, backend: str | None = None) -> None:
        from qa.settings import BACKENDS

        self.name = name
        self.backend = backend or BACKENDS[0]  # the manifest records it; loading checks it
        self.dim = dim
        self.max_tokens = max_tokens
        self.calls: list[list[str]] = []

    @property
    def embedded_texts(self) -> list[str]:
        return [text for batch in self.calls for text in batch]

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
            vector[int.from_bytes(digest[:4], "little") % self.dim] += 1.0 if digest[4] & 1 else -1.0
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            vector[0], norm = 1.0, 1.0
        return vector / norm

    def embed(self, texts: list[str], *, batch_size: int = 64, progress: bool = False, threads: int | None = None) -> np.ndarray:
        self.calls.append(list(texts))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vector(text) for text in texts]).astype(np.float32)

    def truncate(self, text: str) -> str:
        words = list(_WORD.finditer(text))
        limit = self.max_tokens - 2
        return text if len(words) <= limit else text[: words[limit - 1].end()]


def new_schema(url: str, name: str) -> str:
    """The URL of a fresh, empty schema ``name`` on the server (tables go there; pgvector stays in public)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        connection.execute(f"CREATE SCHEMA {name}")
    return f"{url}&options={quote(f'-csearch_path={name},public', safe='')}"


def build_quietly(paths: Iterable[str | Path], index_dir: Path | str, embedder: FakeEmbedder | None,
                  settings: Settings | None = None) -> tuple[Index, list[str]]:
    """Build and return (index, the SkippedFileWarning messages)."""
    from qa import Index
    from qa.errors import SkippedFileWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        index = Index.build(paths, index_dir, embedder=embedder, settings=settings)
    return index, [str(w.message) for w in caught if issubclass(w.category, SkippedFileWarning)]


def check_answer(index: Index, answer: Answer) -> None:
    """What every answer promises, whatever it says."""
    assert isinstance(answer.citations, tuple)
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    texts = {doc.path: doc.text for doc in index.documents}
    for c in answer.citations:
        text = texts[c.path]
        assert c.quote and text[c.start : c.end] == c.quote
        assert c.source == next(d.source for d in index.documents if d.path == c.path)
        assert c.passage_start <= c.start < c.end <= c.passage_end
        assert c.line == text.count("\n", 0, c.start) + 1
        assert c.supports_answer is answer.answered
        if c.answer_start is not None:
            assert c.answer_end is not None and c.start <= c.answer_start < c.answer_end <= c.end
    if answer.answered:
        assert answer.citations
        for c in answer.citations:
            assert f"“{c.quote}” [{c.n}]" in answer.text
    else:
        assert "do not answer" in answer.text
        assert all(c.answer_start is None for c in answer.citations)
