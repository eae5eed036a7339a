"""Several builds on one PostgreSQL index at once: two index workers (``Index.build(..., scope=...)``, what
``qa index --add`` runs), each with its own files, beside two app services on one library."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.app import Library, Service
from qa.index.stores import postgres_search as pgstore

from helpers import REPO, SEED_FILE, new_schema

pytestmark = pytest.mark.postgres


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


def write_part(folder: Path, places: tuple[str, ...]) -> None:
    folder.mkdir()
    for place in places:
        n = PLACES.index(place)
        (folder / f"{place.lower()}.txt").write_text(FACT.format(place=place, boats=100 + n, year=1900 + n), encoding="utf-8")


def test_two_workers_and_two_apps_build_one_database_at_once(seed_corpus, tmp_path, url, fake_model_env):
    library = Library(seed_corpus, tmp_path / "data")
    one, other = Service.start(library, url), Service.start(library, url)
    write_part(tmp_path / "part1", PLACES[:4])
    write_part(tmp_path / "part2", PLACES[4:])
    env = {**os.environ, "PYTHONPATH": str(REPO / "tests")}  # for the fake embedder
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(tmp_path / part), url], cwd=REPO, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for part in ("part1", "part2")]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "started"
    upload = tmp_path / "incoming" / "lighthouse.md"
    upload.parent.mkdir()
    upload.write_text("The Tarrow Point lighthouse was first lit in 1874 by its keeper, Edith Marrow.\n", encoding="utf-8")
    started = time.monotonic()
    change = one.add([(upload, "lighthouse.md")])  # while both workers build: not refused
    assert change.added == ("lighthouse.md",) and time.monotonic() - started < 30
    answered = [other.ask("How many Russian peacekeepers were deployed?").answered for _ in range(5)]  # readers never wait
    assert all(worker.poll() is None for worker in workers)  # all of it while both workers were still building
    for worker in workers:
        _, errors = worker.communicate(timeout=120)
        assert worker.returncode == 0, errors
    indexed = {Path(path).name: n for path, n in other.index.passages_per_source().items()}
    assert set(indexed) == {SEED_FILE.name, "lighthouse.md", *(f"{p.lower()}.txt" for p in PLACES)}  # nothing lost
    assert all(n > 0 for n in indexed.values()) and all(answered)
    for service in (one, other):  # each app sees the other's upload and both workers' files, without a restart
        assert service.ask("Who first lit the Tarrow Point lighthouse?").citations[0].source == "lighthouse.md"
        for n, place in enumerate(PLACES):
            answer = service.ask(f"How many zebrafish boats did the harbour of {place} count?")
            assert answer.answered and f"{100 + n} zebrafish boats" in answer.citations[0].quote
    one.remove(library.uploads / "lighthouse.md")  # the library's own change drops its file, not the workers'
    indexed = {Path(path).name for path in other.index.passages_per_source()}
    assert "lighthouse.md" not in indexed and {f"{p.lower()}.txt" for p in PLACES} <= indexed
