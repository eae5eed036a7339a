"""The store contract: what every place an index is kept must do, one class of tests subclassed once per store.

``StoreContract`` talks to a store through ``open_store`` and ``Index`` only; the folder store runs it
in the fast tests, PostgreSQL under the ``postgres`` marker. A third store passes it by adding a subclass
that says where its empty location is. What the two stores must agree on, answer for answer, is
``test_store_differential.py``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from qa import Index, Settings
from qa.errors import IndexLockedError, IndexMismatchError, IndexMissingError, SourceChangedError
from qa.index import build as builder
from qa.index.stores import manifest
from qa.index.stores.factory import open_store

from helpers import SEED_FILE, FakeEmbedder, new_schema

HARBOUR = "The harbour master keeps the tide tables. The foghorn sounds every thirty seconds when visibility drops.\n"
QUESTION = "How many Russian peacekeepers were deployed?"


def quietly_build(paths: list[Path], location: Path | str, embedder: FakeEmbedder, settings: Settings | None = None) -> Index:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Index.build(paths, location, embedder=embedder, settings=settings)


class StoreContract:
    """Every store: builds, loads, rebuilds only what changed, keeps the committed index on failure, one writer."""

    @pytest.fixture
    def location(self) -> Path | str:
        raise NotImplementedError("a store's subclass says where its empty location is")

    @pytest.fixture
    def corpus(self, tmp_path: Path) -> Path:
        folder = tmp_path / "corpus"
        folder.mkdir()
        (folder / SEED_FILE.name).write_bytes(SEED_FILE.read_bytes())
        (folder / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
        return folder

    def test_a_load_gives_what_the_build_committed(self, corpus, location):
        embedder = FakeEmbedder()
        built = quietly_build([corpus], location, embedder)
        loaded = Index.load(location, embedder=FakeEmbedder())
        assert len(built.documents) == 2 and built.documents == loaded.documents
        assert sorted(built.report.embedded) == sorted(str(p.resolve()) for p in corpus.iterdir())
        assert loaded.generation == built.generation == open_store(location).generation()
        assert asdict(loaded.answer(QUESTION)) == asdict(built.answer(QUESTION))
        assert len(loaded.corpus.sentence_vectors) == len(loaded.corpus.sentences)  # the quotes' vectors are kept too

    def test_an_unchanged_build_embeds_nothing_and_commits_nothing(self, corpus, location):
        first = quietly_build([corpus], location, FakeEmbedder())
        embedder = FakeEmbedder()
        again = quietly_build([corpus], location, embedder)
        assert embedder.calls == [] and again.report.embedded == () and len(again.report.reused) == 2
        assert again.generation == first.generation

    def test_a_changed_build_embeds_only_the_changed_file_and_drops_the_removed_one(self, corpus, location, tmp_path):
        first = quietly_build([corpus], location, FakeEmbedder())
        (corpus / "harbour.txt").write_text(HARBOUR + "The lighthouse burns whale oil.\n", encoding="utf-8")
        (corpus / "notes.txt").write_text("The ferry leaves at noon on Sundays.\n", encoding="utf-8")
        embedder = FakeEmbedder()
        second = quietly_build([corpus / "harbour.txt", corpus / "notes.txt"], location, embedder)
        assert set(second.report.embedded) == {str((corpus / n).resolve()) for n in ("harbour.txt", "notes.txt")}
        assert second.report.removed == (str((corpus / SEED_FILE.name).resolve()),)
        assert not any("peacekeepers" in text for text in embedder.embedded_texts)
        assert second.generation != first.generation
        fresh = quietly_build([corpus / "harbour.txt", corpus / "notes.txt"], tmp_path / "fresh", FakeEmbedder())
        assert second.documents == fresh.documents
        assert asdict(second.answer("What does the lighthouse burn?")) == asdict(fresh.answer("What does the lighthouse burn?"))

    def test_a_failed_build_keeps_the_committed_index(self, corpus, location, monkeypatch):
        first = quietly_build([corpus], location, FakeEmbedder())
        (corpus / "notes.txt").write_text("The ferry leaves at noon on Sundays.\n", encoding="utf-8")
        monkeypatch.setattr(FakeEmbedder, "embed", lambda self, texts, **kwargs: (_ for _ in ()).throw(OSError("disk gone")))
        with pytest.raises(OSError, match="disk gone"):
            quietly_build([corpus], location, FakeEmbedder())
        monkeypatch.undo()
        after = Index.load(location, embedder=FakeEmbedder())
        assert after.documents == first.documents and after.generation == first.generation

    def test_a_file_changed_during_the_build_is_not_committed(self, corpus, location, monkeypatch):
        first = quietly_build([corpus], location, FakeEmbedder())
        (corpus / "notes.txt").write_text("The ferry leaves at noon on Sundays.\n", encoding="utf-8")
        real = builder.check_unchanged

        def edited_meanwhile(parts):
            (corpus / "notes.txt").write_text("The ferry leaves at one on Sundays.\n", encoding="utf-8")
            return real(parts)

        monkeypatch.setattr(builder, "check_unchanged", edited_meanwhile)
        with pytest.raises(SourceChangedError, match="changed while it was being indexed"):
            builder.build(open_store(location), [corpus], Settings(), FakeEmbedder())
        assert Index.load(location, embedder=FakeEmbedder()).generation == first.generation

    def test_a_second_writer_is_refused_while_the_first_holds_the_lock(self, corpus, location, monkeypatch):
        quietly_build([corpus], location, FakeEmbedder())
        monkeypatch.setattr(manifest, "LOCK_WAIT_SECONDS", 0.1)
        storage = open_store(location)
        with storage.writer(Settings(), FakeEmbedder()) as writer:
            assert writer.previous is not None and len(writer.previous.documents) == 2
            started = time.monotonic()
            with pytest.raises(IndexLockedError, match="Another process is writing the index"):
                quietly_build([corpus], location, FakeEmbedder())
            assert time.monotonic() - started < 5
        assert len(quietly_build([corpus], location, FakeEmbedder()).documents) == 2  # released on leaving

    def test_a_missing_index_says_how_to_build_one(self, location):
        with pytest.raises(IndexMissingError, match="qa index"):
            Index.load(location, embedder=FakeEmbedder())

    def test_an_index_of_other_settings_is_refused_on_load_and_rebuilt_whole_by_a_build(self, corpus, location):
        quietly_build([corpus], location, FakeEmbedder())
        other = Settings()
        other = replace(other, chunk=replace(other.chunk, sentences=other.chunk.sentences + 1))
        with pytest.raises(IndexMismatchError, match="was built with settings="):
            Index.load(location, embedder=FakeEmbedder(), settings=other)
        embedder = FakeEmbedder()
        with pytest.warns(UserWarning, match="rebuilding the whole index"):
            rebuilt = Index.build([corpus], location, embedder=embedder, settings=other)
        assert len(rebuilt.report.embedded) == 2 and any("peacekeepers" in text for text in embedder.embedded_texts)

    def test_a_model_of_another_size_is_refused(self, corpus, location):
        quietly_build([corpus], location, FakeEmbedder())
        with pytest.raises(IndexMismatchError, match="holds 64-dimensional vectors, the model makes 32"):
            Index.load(location, embedder=FakeEmbedder(dim=32))

    def test_the_index_shows_where_it_is_as_its_store_describes_it(self, corpus, location):
        index = quietly_build([corpus], location, FakeEmbedder())
        storage = open_store(location)
        assert index.shown_location() == storage.describe() and storage.describe()
        assert open_store(location).key() == storage.key()


class TestFolderStore(StoreContract):
    @pytest.fixture
    def location(self, tmp_path: Path) -> Path | str:
        return tmp_path / "index"


@pytest.mark.postgres
class TestPostgresStore(StoreContract):
    @pytest.fixture
    def location(self, postgres_url: str) -> Iterator[Path | str]:
        from qa.index.stores import postgres_search as pgstore

        yield new_schema(postgres_url, f"contract_{time.monotonic_ns()}")
        pgstore.close_pools()
