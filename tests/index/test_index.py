"""The index: save/load round trip, incremental rebuilds, refusing foreign or damaged indexes,
crash safety and the writer lock (all with the fake embedder; retrieval is in retrieval/test_retrieve.py).

Tests that take ``index_location`` or ``fake_index`` run on both stores (a folder and
PostgreSQL); ``@folder_only`` ones check the folder format itself (index/test_postgres.py
has the database's own)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa import ChunkSettings, Index, Settings
from qa.errors import IndexCorruptError, IndexLockedError, IndexMismatchError, IndexMissingError
from qa.index.stores import folder_files as storage
from qa.index.stores import manifest as manifests
from qa.settings import CHUNKER_VERSION

from helpers import SEED_FILE, FakeEmbedder, folder_only
from helpers.index import HARBOUR, build, sources

BOTH_STORES = True  # tests that take an index location run on a folder and on PostgreSQL (conftest.py)

BAKERY = "The bakery on the quay sells 300 loaves of rye bread every morning. Fishermen buy the bread before dawn.\n"


def generations(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.glob("gen-*"))


# ----- round trip ----------------------------------------------------------------------


def test_save_load_round_trip(fake_index, index_location, fake_embedder):
    loaded = Index.load(index_location, embedder=fake_embedder)
    assert loaded.documents == fake_index.documents
    assert loaded.corpus.titles == fake_index.corpus.titles
    assert np.array_equal(loaded.chunks, fake_index.chunks)
    assert np.array_equal(loaded.corpus.sentences, fake_index.corpus.sentences)
    assert np.array_equal(loaded.corpus.sentence_vectors, fake_index.corpus.sentence_vectors)
    assert len(loaded.dense) == len(fake_index.dense) == len(fake_index.chunks)
    for question in ("How many Russian peacekeepers were deployed?", "Hadrut violations", "death toll Armenia"):
        for mode in ("hybrid", "dense", "lexical"):
            assert loaded.retrieve(question, k=5, mode=mode) == fake_index.retrieve(question, k=5, mode=mode)
        assert loaded.answer(question) == fake_index.answer(question)


@folder_only
def test_index_folder_layout(fake_index, tmp_path):
    index_dir = tmp_path / "index"
    folder = storage.current_folder(index_dir)
    assert (index_dir / "CURRENT").read_text(encoding="utf-8").strip() == folder.name
    assert generations(index_dir) == [folder.name]
    names = {p.name for p in folder.iterdir()}
    assert names == {"manifest.json", "documents.jsonl", "chunks.npy", "sentences.npy", "sentence_vectors.npy", "vectors.faiss", "bm25"}
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == storage.FORMAT_VERSION
    assert manifest["model"] == "fake-hash" and manifest["dim"] == 64 and manifest["backend"] == fake_index.embedder.backend
    assert manifest["settings"] == {"chunk": {"sentences": 3, "overlap": 1, "max_chars": 1000, "min_chrome_words": 4},
                                    "chunker": CHUNKER_VERSION, "sentence_vectors": True}
    (doc,) = fake_index.documents
    assert manifest["documents"] == [{"path": doc.path, "sha256": doc.sha256, "chunks": len(fake_index.chunks)}]


# ----- incremental rebuilds ------------------------------------------------------------


def test_rebuild_with_nothing_changed_embeds_nothing(seed_corpus, index_location, fake_embedder):
    (seed_corpus / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    first = build(seed_corpus, index_location, fake_embedder)
    assert len(first.report.embedded) == 2 and len(fake_embedder.calls) == 2  # one pass of chunks, one of sentences

    counting = FakeEmbedder()
    again = build(seed_corpus, index_location, counting)
    assert counting.calls == []
    assert again.report.embedded == () and again.report.removed == ()
    assert sorted(again.report.reused) == sorted(doc.path for doc in first.documents)
    assert again.generation == first.generation == Index.load(index_location, embedder=counting).generation  # nothing rewritten
    assert again.retrieve("lighthouse keeper", k=3) == first.retrieve("lighthouse keeper", k=3)


def test_changed_file_is_the_only_one_embedded_again(seed_corpus, new_location, fake_embedder):
    harbour = seed_corpus / "harbour.txt"
    harbour.write_text(HARBOUR, encoding="utf-8")
    build(seed_corpus, new_location("index"), fake_embedder)

    harbour.write_text(HARBOUR + BAKERY, encoding="utf-8")
    counting = FakeEmbedder()
    index = build(seed_corpus, new_location("index"), counting)
    assert index.report.embedded == (str(harbour.resolve()),)
    assert index.report.reused == (str((seed_corpus / SEED_FILE.name).resolve()),)
    embedded = counting.embedded_texts
    assert embedded and any("bakery" in text for text in embedded)
    assert not any("Azerbaijan" in text for text in embedded)
    assert "300 loaves" in index.retrieve("bakery loaves rye bread", k=1)[0].text

    # The carried vectors give exactly what a fresh build of the same files gives.
    fresh = build(seed_corpus, new_location("fresh"), FakeEmbedder())
    assert np.array_equal(index.chunks, fresh.chunks)
    assert np.array_equal(index.corpus.sentence_vectors, fresh.corpus.sentence_vectors)
    for mode in ("hybrid", "dense", "lexical"):
        question = "Russian peacekeepers and the bakery bread"
        assert [(p.source, p.start, p.end, p.score) for p in index.retrieve(question, k=8, mode=mode)] == [
            (p.source, p.start, p.end, p.score) for p in fresh.retrieve(question, k=8, mode=mode)
        ]


def test_deleted_file_is_dropped_and_new_file_added(seed_corpus, index_location, fake_embedder):
    harbour = seed_corpus / "harbour.txt"
    harbour.write_text(HARBOUR, encoding="utf-8")
    index = build(seed_corpus, index_location, fake_embedder)
    assert "harbour.txt" in sources(index.retrieve("lighthouse zebrafish boats", k=3, mode="lexical"))

    harbour.unlink()
    counting = FakeEmbedder()
    index = build(seed_corpus, index_location, counting)
    assert counting.calls == []  # dropping a file embeds nothing
    assert index.report.removed == (str(harbour.resolve()),)
    assert [doc.source for doc in index.documents] == [SEED_FILE.name]
    for mode in ("hybrid", "dense", "lexical"):
        assert "harbour.txt" not in sources(index.retrieve("lighthouse zebrafish boats", k=10, mode=mode))
    reloaded = Index.load(index_location, embedder=counting)
    assert [doc.source for doc in reloaded.documents] == [SEED_FILE.name]
    assert not any("zebrafish" in p.text for p in reloaded.retrieve("zebrafish", k=10))

    (seed_corpus / "bakery.md").write_text(BAKERY, encoding="utf-8")
    index = build(seed_corpus, index_location, counting)
    assert index.report.embedded == (str((seed_corpus / "bakery.md").resolve()),)
    assert not any("Azerbaijan" in text for text in counting.embedded_texts)
    assert index.retrieve("bakery rye loaves", k=1)[0].source == "bakery.md"
    if isinstance(index_location, Path):
        assert len(generations(index_location)) == 1  # older generations are cleaned up


def test_other_chunk_settings_rebuild_everything_with_a_warning(fake_index, seed_corpus, index_location):
    settings = Settings(chunk=ChunkSettings(sentences=2, overlap=0))
    counting = FakeEmbedder()
    with pytest.warns(UserWarning, match="rebuilding the whole index"):
        index = Index.build([seed_corpus], index_location, settings=settings, embedder=counting)
    assert counting.calls and index.report.embedded
    assert all(last - first <= 1 for first, last in zip(index.chunks["first_sentence"], index.chunks["last_sentence"], strict=True))
    Index.load(index_location, settings=settings, embedder=counting)
    with pytest.raises(IndexMismatchError):
        Index.load(index_location, embedder=counting)


# ----- refusing foreign, damaged and missing indexes -----------------------------------


def test_missing_index(index_location, tmp_path, fake_embedder):
    for index_dir in (index_location, tmp_path if isinstance(index_location, Path) else index_location):
        with pytest.raises(IndexMissingError, match="qa index"):
            Index.load(index_dir, embedder=fake_embedder)


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (lambda: {"embedder": FakeEmbedder(name="other-model")}, "model"),
        (lambda: {}, "model"),  # the real model's name, without loading it
        (lambda: {"embedder": FakeEmbedder(dim=32)}, "dimensional"),
        (lambda: {"embedder": FakeEmbedder(), "settings": Settings(chunk=ChunkSettings(sentences=2))}, "chunk"),
        (lambda: {"embedder": FakeEmbedder(), "settings": Settings(chunk=ChunkSettings(max_chars=500))}, "chunk"),
    ],
)
def test_mismatched_index_is_refused(fake_index, index_location, make, what):
    with pytest.raises(IndexMismatchError, match=what) as error:
        Index.load(index_location, **make())
    assert "qa index" in str(error.value)


@folder_only
def test_other_format_version_is_refused(fake_index, tmp_path, fake_embedder):
    manifest_path = storage.current_folder(tmp_path / "index") / storage.MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["format"] = storage.FORMAT_VERSION + 1
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexMismatchError, match=r"format.*qa index"):
        Index.load(tmp_path / "index", embedder=fake_embedder)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garble(path: Path) -> None:
    path.write_bytes(b"\x07" * path.stat().st_size)  # same size: only reading it can tell


@folder_only
@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("vectors.faiss", _truncate),
        ("vectors.faiss", _garble),
        ("chunks.npy", _garble),
        ("sentences.npy", _truncate),
        ("sentence_vectors.npy", _garble),
        ("documents.jsonl", _garble),
        ("bm25/vocab.index.json", _garble),
        ("manifest.json", _garble),
        ("manifest.json", _truncate),
        ("chunks.npy", Path.unlink),
    ],
)
def test_corrupt_index_is_refused(fake_index, tmp_path, fake_embedder, name, damage):
    damage(storage.current_folder(tmp_path / "index") / name)
    with pytest.raises(IndexCorruptError, match="qa index"):
        Index.load(tmp_path / "index", embedder=fake_embedder)


@folder_only
@pytest.mark.parametrize("pointer", ["gen-19990101T000000-000000000-1", "../elsewhere", "", "\x00\x01garbage"])
def test_current_naming_a_missing_folder_is_corrupt(fake_index, tmp_path, fake_embedder, pointer):
    (tmp_path / "index" / "CURRENT").write_text(pointer, encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="qa index"):
        Index.load(tmp_path / "index", embedder=fake_embedder)


@folder_only
def test_damaged_index_is_rebuilt_by_the_next_build(fake_index, seed_corpus, tmp_path):
    _garble(storage.current_folder(tmp_path / "index") / "vectors.faiss")
    counting = FakeEmbedder()
    with pytest.warns(UserWarning, match="rebuilding the whole index"):
        index = Index.build([seed_corpus], tmp_path / "index", embedder=counting)
    assert counting.calls
    assert Index.load(tmp_path / "index", embedder=counting).documents == index.documents


# ----- crash safety and the writer lock ------------------------------------------------


@folder_only
@pytest.mark.parametrize("target", ["qa.index.lexical.LexicalIndex.save", "qa.index.stores.folder_files._fsync_tree",
                                    "qa.index.stores.folder_files.np.save"])
def test_crash_mid_build_leaves_the_previous_index(fake_index, seed_corpus, tmp_path, monkeypatch, target):
    index_dir = tmp_path / "index"
    before = generations(index_dir)
    (seed_corpus / "harbour.txt").write_text(HARBOUR, encoding="utf-8")

    def crash(*args, **kwargs):
        raise OSError("simulated crash: disk full")

    module_path, attribute = target.rsplit(".", 1)
    monkeypatch.setattr(module_path + "." + attribute, crash)
    with pytest.raises(OSError, match="simulated crash"):
        build(seed_corpus, index_dir, FakeEmbedder())
    monkeypatch.undo()

    assert generations(index_dir) == before  # the half-written generation is gone
    loaded = Index.load(index_dir, embedder=FakeEmbedder())
    assert loaded.documents == fake_index.documents
    assert "harbour.txt" not in sources(loaded.retrieve("lighthouse zebrafish", k=10))
    rebuilt = build(seed_corpus, index_dir, FakeEmbedder())  # the lock was released
    assert rebuilt.report.embedded == (str((seed_corpus / "harbour.txt").resolve()),)


@folder_only
def test_second_writer_gets_index_locked_error(fake_index, seed_corpus, tmp_path, monkeypatch, fake_embedder):
    monkeypatch.setattr(manifests, "LOCK_WAIT_SECONDS", 0.05)
    index_dir = tmp_path / "index"
    with storage.writer_lock(index_dir):
        with pytest.raises(IndexLockedError, match="Another process is writing"):
            Index.build([seed_corpus], index_dir, embedder=fake_embedder)
        assert Index.load(index_dir, embedder=fake_embedder).documents == fake_index.documents  # readers go on
    build(seed_corpus, index_dir, fake_embedder)

