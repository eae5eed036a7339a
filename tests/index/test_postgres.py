"""What only the PostgreSQL store has: connection errors, the advisory writer lock, crashes mid-transaction,
its own format check, and several processes' views of one database (a real server, fake embedder).

The behaviour both stores share (round trip, incremental builds, deletes, offsets, answers) is
tested on both by the parametrized tests of the modules that set ``BOTH_STORES`` (index/test_index.py,
retrieval/test_retrieve.py, answer/test_answers.py, api/test_cli.py and others).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from qa import Index, QAError
from qa.app import Library, Service
from qa.errors import IndexLockedError, IndexMismatchError, StoreError
from qa.index.lexical import split, stems
from qa.index.stores import postgres as pgstorage
from qa.index.stores import postgres_search as pgstore
from qa.index.stores import postgres_view as pgview
from qa.index.stores import postgres_write as pgwrite

from helpers import REPO, SEED_FILE, FakeEmbedder, new_schema
from helpers.postgres import HARBOUR, admin, build

pytestmark = pytest.mark.postgres


@pytest.fixture
def url(postgres_url: str) -> Iterator[str]:
    yield new_schema(postgres_url, f"store_{time.monotonic_ns()}")
    pgstore.close_pools()  # the server allows 100 connections: do not keep one pool per test


# ----- connection settings and errors ------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("postgresql://postgres@127.0.0.1:1/postgres", "Cannot reach"),
        ("postgresql://postgres@/postgres?host=/nonexistent-socket-folder", "Cannot reach"),
    ],
)
def test_unreachable_server_is_a_clear_error(url, words):
    with pytest.raises(StoreError, match=words) as error:
        Index.load(url, embedder=FakeEmbedder())
    assert "PGHOST" in str(error.value)


def test_wrong_password_and_missing_database_are_clear_errors(postgres_server, postgres_url):
    pgstore.close_pools()  # other tests' idle connections must not fill the server's 100
    admin(postgres_url, "DROP ROLE IF EXISTS qa_secret", "CREATE ROLE qa_secret LOGIN PASSWORD 'right-one'")
    hba = Path(postgres_server.pgdata) / "pg_hba.conf"
    original = hba.read_text()
    hba.write_text("local all qa_secret scram-sha-256\n" + original)
    admin(postgres_url, "SELECT pg_reload_conf()")
    wrong = postgres_url.replace("postgres:@", "qa_secret:not-it@")
    wait_until_refused(wrong)
    try:
        with pytest.raises(StoreError, match="wrong or missing password") as error:
            Index.build([SEED_FILE], wrong, embedder=FakeEmbedder())
        assert "not-it" not in str(error.value)  # the password is never shown
        with pytest.raises(StoreError, match="createdb"):
            Index.load(postgres_url.replace("/postgres?", "/no_such_db?"), embedder=FakeEmbedder())
    finally:
        hba.write_text(original)
        admin(postgres_url, "SELECT pg_reload_conf()")


def wait_until_refused(url: str) -> None:
    """The server reloads pg_hba.conf a moment after pg_reload_conf() returns (seconds when the machine is busy)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            psycopg.connect(url).close()
        except psycopg.OperationalError as error:
            if "password" in str(error):
                return
        time.sleep(0.05)
    raise AssertionError("the server kept accepting the wrong password")


def test_missing_pgvector_extension_says_how_to_install_it(postgres_url):
    admin(postgres_url, "DROP DATABASE IF EXISTS plain", "DROP ROLE IF EXISTS qa_plain",
          "CREATE ROLE qa_plain LOGIN", "CREATE DATABASE plain")
    plain = postgres_url.replace("postgres:@", "qa_plain:@").replace("/postgres?", "/plain?")
    with pytest.raises(StoreError, match=r"lacks the pgvector extension.*CREATE EXTENSION vector"):
        Index.build([SEED_FILE], plain, embedder=FakeEmbedder())


def test_settings_from_pg_environment_variables(postgres_url, url, monkeypatch):
    build([SEED_FILE], url)
    host = postgres_url.split("host=")[1].split("&")[0]
    monkeypatch.setenv("PGHOST", host)
    monkeypatch.setenv("PGUSER", "postgres")
    monkeypatch.setenv("PGOPTIONS", "-csearch_path=" + url.split("search_path%3D")[1].split("%2C")[0] + ",public")
    index = Index.load("postgresql:///postgres", embedder=FakeEmbedder())  # libpq fills in the rest
    assert [doc.source for doc in index.documents] == [SEED_FILE.name]


# ----- its own format check ------------------------------------------------------------------


def test_other_format_version_is_refused(url, postgres_url):
    build([SEED_FILE], url)
    schema = url.split("search_path%3D")[1].split("%2C")[0]
    admin(postgres_url, f"UPDATE {schema}.qa_state SET manifest = jsonb_set(manifest, '{{format}}', '99')")
    with pytest.raises(IndexMismatchError, match=r"format.*qa index"):
        Index.load(url, embedder=FakeEmbedder())


# ----- one writer at a time, crashes leave the previous index ------------------------------


def test_second_writer_gets_index_locked_error(url, seed_corpus, monkeypatch):
    first = build([seed_corpus], url)
    monkeypatch.setattr("qa.index.stores.manifest.LOCK_WAIT_SECONDS", 0.2)
    (seed_corpus / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    with psycopg.connect(url) as holder:  # another writer, mid-build
        holder.execute("SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", (pgstorage.LOCK_KEY,))
        with pytest.raises(IndexLockedError, match="Another process is writing"):
            build([seed_corpus], url)
        assert Index.load(url, embedder=FakeEmbedder()).documents == first.documents  # readers go on
    assert len(build([seed_corpus], url).documents) == 2  # the lock went with the other transaction


def test_error_mid_write_leaves_the_previous_index(url, seed_corpus, monkeypatch):
    (seed_corpus / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    first = build([seed_corpus], url)
    (seed_corpus / "harbour.txt").unlink()
    (seed_corpus / "bakery.md").write_text("The bakery sells 300 loaves of rye bread.\n", encoding="utf-8")

    def crash(*args, **kwargs):
        raise OSError("simulated crash: disk full")

    monkeypatch.setattr(pgwrite, "tokenize", crash)  # after harbour.txt was deleted and bakery.md inserted
    with pytest.raises(OSError, match="simulated crash"):
        build([seed_corpus], url)
    monkeypatch.undo()
    loaded = Index.load(url, embedder=FakeEmbedder())
    assert loaded.documents == first.documents and loaded.generation == first.generation
    assert loaded.retrieve("lighthouse zebrafish boats", k=1)[0].source == "harbour.txt"
    assert build([seed_corpus], url).report.embedded == (str((seed_corpus / "bakery.md").resolve()),)


SLOW_WRITER = """
import sys, time
from helpers import FakeEmbedder
from qa import Index

class Slow(FakeEmbedder):
    def embed(self, texts, **kwargs):
        print("embedding", flush=True)
        time.sleep(60)

Index.build([sys.argv[1]], sys.argv[2], embedder=Slow())
"""


def test_killed_writer_leaves_the_previous_index_and_no_lock(url, seed_corpus):
    first = build([seed_corpus], url)
    (seed_corpus / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    child = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(seed_corpus), url], stdout=subprocess.PIPE, text=True,
                             cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO / "tests")})  # for the fake embedder
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "embedding"  # it holds the lock now
        with pytest.raises(IndexLockedError):
            build([seed_corpus], url)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert Index.load(url, embedder=FakeEmbedder()).documents == first.documents
    assert len(build([seed_corpus], url).documents) == 2  # the server dropped the dead writer's lock


# ----- the same answers as the folder store; several app processes on one database ---------


def test_database_ranks_like_the_folder(seed_corpus, url, tmp_path):
    (seed_corpus / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    database, folder = build([seed_corpus], url), build([seed_corpus], str(tmp_path / "index"))
    for question in ("How many Russian peacekeepers were deployed?", "zebrafish boats in the fog", "death toll"):
        for mode in ("hybrid", "dense", "lexical"):
            here, there = database.retrieve(question, k=6, mode=mode), folder.retrieve(question, k=6, mode=mode)
            assert [(p.path, p.start, p.end) for p in here] == [(p.path, p.start, p.end) for p in there]
            assert [p.score for p in here] == pytest.approx([p.score for p in there], abs=1e-4)
        assert database.answer(question) == folder.answer(question)


def test_bm25_over_its_budget_scores_the_rarest_words_chunks_with_every_word(seed_corpus, url, monkeypatch):
    """In a large library a common word's postings are not summed whole: the chunks holding the rarer words within
    the budget (here the rarest word alone) are found, then scored with every word, the others looked up by key."""
    lexical = build([seed_corpus], url).retriever.lexical
    tokens = stems(split("How many soldiers did Azerbaijan say it lost in the fighting with Armenian forces?"))
    with psycopg.connect(url) as connection:
        df: dict[str, int] = dict(connection.execute("SELECT term, df FROM qa_terms WHERE term = ANY(%s)", (tokens,)).fetchall())
        (rarest, first), (_, second) = sorted(df.items(), key=lambda item: (item[1], item[0]))[:2]
        holding = {row[0] for row in connection.execute("SELECT chunk FROM qa_postings WHERE term = %s", (rarest,))}
    exact_scores, exact_chunks = lexical.search(tokens, 1000)
    exact = dict(zip(exact_chunks.tolist(), exact_scores.tolist(), strict=True))
    wanted = [chunk for chunk in exact_chunks.tolist() if chunk in holding][:5]
    assert second > 1 and wanted != exact_chunks.tolist()[:5]  # the shortcut changes this ranking: it is what is tested
    monkeypatch.setattr(pgstore, "EXACT_POSTINGS", 0)
    monkeypatch.setattr(pgstore, "RARE_POSTINGS", first + 1)  # room for the rarest word's postings, not the next word's
    scores, chunks = lexical.search(tokens, 5)
    assert chunks.tolist() == wanted
    assert scores.tolist() == pytest.approx([exact[chunk] for chunk in wanted], rel=1e-5)


def test_an_upload_through_one_service_is_answered_by_another(seed_corpus, tmp_path, url, fake_model_env):
    library = Library(seed_corpus, tmp_path / "data")  # app processes on one database share the data folder
    one, other = Service.start(library, url), Service.start(library, url)
    assert other.index.generation == one.index.generation
    upload = tmp_path / "incoming" / "lighthouse.md"
    upload.parent.mkdir()
    upload.write_text("The Tarrow Point lighthouse was first lit in 1874 by its keeper, Edith Marrow.\n", encoding="utf-8")
    one.add([(upload, "lighthouse.md")])
    answer = other.ask("Who first lit the Tarrow Point lighthouse?")  # no restart: the generation moved
    assert answer.citations and answer.citations[0].source == "lighthouse.md"
    assert {row.source.name: row.passages > 0 for row in other.sources()}["lighthouse.md"]
    with pytest.raises(QAError, match="empty"):
        other.ask("   ")


def test_answers_read_only_the_retrieved_rows_in_three_round_trips(seed_corpus, url, monkeypatch):
    (seed_corpus / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    reader = build([seed_corpus], url)
    (seed_corpus / "harbour.txt").unlink()
    (seed_corpus / "a-bakery.md").write_text("The bakery sells 300 loaves of rye bread.\n", encoding="utf-8")
    written = build([seed_corpus], url)  # "another process" commits: one document gone, one new

    def whole_corpus(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the whole corpus was read")

    trips: list[str] = []
    def counted(real: Any) -> Any:
        def reading(url: str, work: Any) -> Any:
            trips.append(url)
            return real(url, work)
        return reading

    for module in (pgstore, pgview, pgstorage):
        monkeypatch.setattr(module, "reading", counted(module.reading))
    monkeypatch.setattr(pgview, "read_corpus", whole_corpus)
    fresh = reader.refreshed()  # the state row, nothing else
    assert fresh.generation == written.generation and len(trips) == 2  # its generation, then its state row
    assert isinstance(fresh.view, pgview.DatabaseCorpus) and isinstance(reader.view, pgview.DatabaseCorpus)
    assert fresh.view.cache is reader.view.cache
    trips.clear()
    answer = fresh.answer("How many loaves of rye bread does the bakery sell?")
    assert answer.answered and answer.citations[0].source == "a-bakery.md" and "300 loaves" in answer.citations[0].quote
    assert len(trips) == 3  # the dense and the BM25 candidates, then their rows, documents and sentence vectors
    trips.clear()
    assert fresh.answer("How many loaves of rye bread does the bakery sell?") == answer and len(trips) == 3
    assert fresh.retrieve("rye loaves", k=1)[0].source == "a-bakery.md"
    assert fresh.document(answer.citations[0].path) is not None
    assert fresh.refreshed() is fresh
    monkeypatch.undo()
    assert fresh.documents == written.documents and fresh.passages_per_source() == written.passages_per_source()
