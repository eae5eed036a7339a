"""Shared fixtures: a deterministic fake embedder, the seed corpus, and one real-model index per session.

Fast tests pass ``FakeEmbedder`` as ``embedder=`` (no model is loaded); tests marked
``model`` use the real packaged all-MiniLM-L6-v2 and share ``model_index``.
Nothing here touches the repository's own ``index/`` folder: every index lives in a tmp dir.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
SEED_FILE = SEEDS / "azerbaijan-soldiers-killed-nagorno-karabakh.txt"

_WORD = re.compile(r"\w+")


class FakeEmbedder:
    """Hashed bag-of-words vectors of unit length: deterministic, instant, no model.

    Implements the ``qa.embed.Embedder`` protocol. ``calls`` records every batch it
    embedded, so tests can check what a build sent to the model.
    """

    def __init__(self, name: str = "fake-hash", dim: int = 64, max_tokens: int = 256) -> None:
        self.name = name
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


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def seed_text() -> str:
    with open(SEED_FILE, encoding="utf-8", newline="") as handle:
        return handle.read()


@pytest.fixture
def seed_corpus(tmp_path: Path) -> Path:
    """A private copy of seeds/ (tests may edit, add and delete files in it)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy2(SEED_FILE, corpus / SEED_FILE.name)
    return corpus


@pytest.fixture
def fake_index(seed_corpus: Path, tmp_path: Path, fake_embedder: FakeEmbedder):
    """The seed corpus indexed with the fake embedder, in tmp_path/index."""
    from qa import Index

    return Index.build([seed_corpus], tmp_path / "index", embedder=fake_embedder)


@pytest.fixture
def fake_model_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_embedder: FakeEmbedder) -> FakeEmbedder:
    """Make code that loads "the model" itself (the CLI, ``qa.retrieve``) get the fake embedder.

    QA_MODEL_PATH points at a folder named like the fake, so the manifest check
    (model name = folder name) accepts indexes the fake built.
    """
    import qa.embed

    model_dir = tmp_path / fake_embedder.name
    model_dir.mkdir()
    monkeypatch.setenv("QA_MODEL_PATH", str(model_dir))
    monkeypatch.setattr(qa.embed, "load_embedder", lambda path: fake_embedder)
    return fake_embedder


@pytest.fixture(scope="session")
def model_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One index of the seed file built with the real packaged model, shared by every `model` test."""
    from qa import Index

    index_dir = tmp_path_factory.mktemp("model-index") / "index"
    Index.build([SEED_FILE], index_dir)
    return index_dir


@pytest.fixture(scope="session")
def model_index(model_index_dir: Path):
    from qa import Index

    return Index.load(model_index_dir)
