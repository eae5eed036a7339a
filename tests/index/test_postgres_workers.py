"""Several builds on one PostgreSQL index at once: two index workers (``Index.build(..., scope=...)``, what
``qa index --add`` runs), each with its own files, beside two app processes on one library (fake model)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.live_app import running_app, upload
from qa import Index
from qa.app import Library, Service
from qa.index.stores import postgres_search as pgstore

from helpers import REPO, SEED_FILE, FakeEmbedder, new_schema

pytestmark = [pytest.mark.postgres, pytest.mark.app]


@pytest.fixture
def url(postgres_url: str) -> Iterator[str]:
    yield new_schema(postgres_url, f"workers_{time.monotonic_ns()}")
    pgstore.close_pools()

WORKER = """
import sys, time
from helpers import FakeEmbedder
from qa import Index

class Slow(FakeEmbedder):  # long enough that both workers and an upload overlap
    def embed(self, texts, **kwargs):
        time.sleep(2)
        return super().embed(texts, **kwargs)

folder = sys.argv[1]
print("started", flush=True)
Index.build([folder], sys.argv[2], embedder=Slow(), scope=[folder])
"""
FACT = "The harbour of {place} counted {boats} zebrafish boats in the spring of {year}.\n"
PLACES = ("Alvik", "Brenna", "Corvo", "Dunmere", "Eskel", "Farrow", "Glenna", "Hallin")
LIGHTHOUSE = "The Tarrow Point lighthouse was first lit in 1874 by its keeper, Edith Marrow.\n"
TARROW = "Who first lit the Tarrow Point lighthouse?"
PEACEKEEPERS = "How many Russian peacekeepers were deployed?"


def write_part(folder: Path, places: tuple[str, ...]) -> None:
    folder.mkdir()
    for place in places:
        n = PLACES.index(place)
        (folder / f"{place.lower()}.txt").write_text(FACT.format(place=place, boats=100 + n, year=1900 + n), encoding="utf-8")


def test_two_workers_and_two_app_processes_build_one_database_at_once(seed_corpus, tmp_path, url):
    from gradio_client import Client

    data = tmp_path / "data"  # app processes on one database share the data folder
    options = ("--store", url, "--data", str(data))
    for app in ("app1", "app2"):
        (tmp_path / app).mkdir()
    with running_app(tmp_path / "app1", seed_corpus, fake=True, options=options) as first, \
            running_app(tmp_path / "app2", seed_corpus, fake=True, options=options) as second:
        one, other = Client(first, verbose=False), Client(second, verbose=False)
        write_part(tmp_path / "part1", PLACES[:4])
        write_part(tmp_path / "part2", PLACES[4:])
        env = {**os.environ, "PYTHONPATH": str(REPO / "tests")}  # for the fake embedder
        workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(tmp_path / part), url], cwd=REPO, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for part in ("part1", "part2")]
        for worker in workers:
            assert worker.stdout is not None and worker.stdout.readline().strip() == "started"
        status = upload(first, [("lighthouse.md", LIGHTHOUSE.encode())], timeout=60)  # while both workers build
        assert "lighthouse.md" in status and "not" not in status.lower(), status
        answered = [other.predict(PEACEKEEPERS, [], api_name="/ask")["answered"] for _ in range(5)]  # readers never wait
        assert all(worker.poll() is None for worker in workers)  # all of it while both workers were still building
        for worker in workers:
            _, errors = worker.communicate(timeout=120)
            assert worker.returncode == 0, errors
        assert all(answered)
        for app in (one, other):  # each process sees the other's upload and both workers' files, without a restart
            assert app.predict(TARROW, [], api_name="/ask")["citations"][0]["source"] == "lighthouse.md"
            for n, place in enumerate(PLACES):
                answer = app.predict(f"How many zebrafish boats did the harbour of {place} count?", [], api_name="/ask")
                assert answer["answered"] and f"{100 + n} zebrafish boats" in answer["citations"][0]["quote"]
    indexed = {Path(path).name for path in Index.load(url, embedder=FakeEmbedder()).passages_per_source()}
    assert indexed == {SEED_FILE.name, "lighthouse.md", *(f"{p.lower()}.txt" for p in PLACES)}  # nothing lost


def test_the_library_drops_its_own_files_only(seed_corpus, tmp_path, url, fake_model_env):
    library = Library(seed_corpus, tmp_path / "data")
    service = Service.start(library, url)
    write_part(tmp_path / "part1", PLACES[:2])
    Index.build([tmp_path / "part1"], url, embedder=FakeEmbedder(), scope=[tmp_path / "part1"])
    upload = tmp_path / "incoming" / "lighthouse.md"
    upload.parent.mkdir()
    upload.write_text(LIGHTHOUSE, encoding="utf-8")
    service.add([(upload, "lighthouse.md")])
    assert {"alvik.txt", "brenna.txt", "lighthouse.md"} <= {Path(p).name for p in service.index.passages_per_source()}
    service.remove(library.uploads / "lighthouse.md")  # the library's change drops its file, not the workers'
    assert {Path(p).name for p in service.index.passages_per_source()} == {SEED_FILE.name, "alvik.txt", "brenna.txt"}


def test_a_worker_started_beside_the_first_build_of_an_empty_database_waits_for_it(tmp_path, url):
    """The first build of an empty database makes its tables and holds the lock alone, for as long as it embeds; a
    worker adding its own files meanwhile waits for its commit (it was told to try again after 2 s)."""
    import threading

    from qa.index.stores.manifest import LOCK_WAIT_SECONDS
    from qa.index.stores.postgres import LOCK_KEY

    write_part(tmp_path / "first", PLACES[:2])
    write_part(tmp_path / "second", PLACES[2:4])
    first_done = threading.Event()

    def first_build() -> None:  # holds the lock as a long first build does, then commits its files
        connection = pgstore.connect(url, autocommit=True)
        connection.execute("SELECT pg_advisory_lock(%s, hashtext(current_schema()))", (LOCK_KEY,))
        time.sleep(LOCK_WAIT_SECONDS + 2)
        connection.execute("SELECT pg_advisory_unlock(%s, hashtext(current_schema()))", (LOCK_KEY,))
        connection.close()
        Index.build([tmp_path / "first"], url, embedder=FakeEmbedder(), scope=[tmp_path / "first"])
        first_done.set()

    holder = threading.Thread(target=first_build)
    holder.start()
    time.sleep(0.5)  # the lock is held
    started = time.monotonic()
    with pytest.warns(UserWarning, match="waiting for its commit"):  # said at once: `qa index --add` prints it
        Index.build([tmp_path / "second"], url, embedder=FakeEmbedder(), scope=[tmp_path / "second"])
    holder.join()
    assert time.monotonic() - started > LOCK_WAIT_SECONDS and first_done.is_set()
    names = {Path(p).name for p in Index.load(url, embedder=FakeEmbedder()).passages_per_source()}
    assert names == {"alvik.txt", "brenna.txt", "corvo.txt", "dunmere.txt"}


def test_qa_index_add_says_at_once_that_it_waits_for_another_build(tmp_path, url, fake_model_env, capsys):
    import threading

    from qa.cli import main
    from qa.index.stores.postgres import LOCK_KEY

    write_part(tmp_path / "part", PLACES[:1])
    holder = pgstore.connect(url, autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s, hashtext(current_schema()))", (LOCK_KEY,))
    codes: list[int] = []
    worker = threading.Thread(target=lambda: codes.append(main(["index", "--add", str(tmp_path / "part"), "--index", url])))
    worker.start()
    said = ""
    deadline = time.monotonic() + 10
    while "waiting for its commit" not in said and time.monotonic() < deadline:
        time.sleep(0.1)
        said += capsys.readouterr().err
    assert "qa: warning: another build is writing the index in" in said and worker.is_alive()  # said while it waits
    holder.execute("SELECT pg_advisory_unlock(%s, hashtext(current_schema()))", (LOCK_KEY,))
    holder.close()
    worker.join()
    assert codes == [0] and "Indexed 1 documents" in capsys.readouterr().out
