"""The index: save/load round trip, incremental rebuilds, refusing foreign or damaged indexes,
crash safety and the writer lock (all with the fake embedder; retrieval is in test_core_retrieve.py).

Tests that take ``index_location`` or ``fake_index`` run on both stores (a folder and
PostgreSQL); ``@folder_only`` ones check the folder format itself (tests/test_postgres.py
has the database's own)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from qa import ChunkSettings, Index, Settings
from qa.errors import IndexCorruptError, IndexLockedError, IndexMismatchError, IndexMissingError, SourceChangedError
from qa.index.stores import folder_files as storage
from qa.settings import CHUNKER_VERSION

from conftest import REPO, SEED_FILE, FakeEmbedder, folder_only

BOTH_STORES = True  # tests that take an index location run on a folder and on PostgreSQL (conftest.py)

HARBOUR = (
    "Harbour report from the northern quay\n\n"
    "The lighthouse keeper counted 41 zebrafish boats in the harbour. Fog rolled in from the sea at dusk.\n"
    "The foghorn sounded twice an hour.\n"
)
BAKERY = "The bakery on the quay sells 300 loaves of rye bread every morning. Fishermen buy the bread before dawn.\n"


def build(corpus: Path, index_dir: Path, embedder: FakeEmbedder, **kwargs) -> Index:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Index.build([corpus], index_dir, embedder=embedder, **kwargs)


def generations(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.glob("gen-*"))


def sources(passages) -> list[str]:
    return [p.source for p in passages]


# ----- round trip ----------------------------------------------------------------------


def test_save_load_round_trip(fake_index, index_location, fake_embedder):
    loaded = Index.load(index_location, embedder=fake_embedder)
    assert loaded.documents == fake_index.documents
    assert loaded.corpus.titles == fake_index.corpus.titles
    assert np.array_equal(loaded.chunks, fake_index.chunks)
    assert np.array_equal(loaded.corpus.sentences, fake_index.corpus.sentences)
    assert np.array_equal(loaded.corpus.sentence_vectors, fake_index.corpus.sentence_vectors)
    assert len(loaded.store) == len(fake_index.store) == len(fake_index.chunks)
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
    monkeypatch.setattr(storage, "LOCK_WAIT_SECONDS", 0.05)
    index_dir = tmp_path / "index"
    with storage.writer_lock(index_dir):
        with pytest.raises(IndexLockedError, match="Another process is writing"):
            Index.build([seed_corpus], index_dir, embedder=fake_embedder)
        assert Index.load(index_dir, embedder=fake_embedder).documents == fake_index.documents  # readers go on
    build(seed_corpus, index_dir, fake_embedder)


class EditingEmbedder(FakeEmbedder):
    """Saves ``edits`` to ``path`` while it embeds, one per embedding call, as a user saving a file mid-build."""

    def __init__(self, path: Path, edits: list[str]) -> None:
        super().__init__()
        self.path, self.edits = path, edits

    def embed(self, texts, **kwargs):  # type: ignore[no-untyped-def]
        if self.edits:
            self.path.write_text(self.edits.pop(0), encoding="utf-8")
        return super().embed(texts, **kwargs)


def test_a_file_saved_while_it_is_embedded_is_indexed_as_saved(tmp_path, index_location):
    notes = tmp_path / "notes.txt"
    notes.write_text("The keeper lit the lamp in 1874. It burned whale oil for forty years.\n", encoding="utf-8")
    saved = "A new first line pushes every offset on.\nThe keeper lit the lamp in 1874. It burned whale oil for forty years.\n"
    index = Index.build([notes], index_location, embedder=EditingEmbedder(notes, [saved]))
    assert index.corpus.documents[0].text == saved == notes.read_text(encoding="utf-8")
    passage = index.retrieve("When was the lamp lit?", k=1)[0]
    assert saved[passage.start : passage.end] == passage.text


def test_a_file_that_keeps_changing_leaves_the_index_as_it_was(tmp_path, index_location, fake_embedder):
    notes = tmp_path / "notes.txt"
    notes.write_text("The keeper lit the lamp in 1874. It burned whale oil for forty years.\n", encoding="utf-8")
    before = Index.build([notes], index_location, embedder=fake_embedder)
    edits = [f"Version {n}: the keeper lit the lamp in 1874. It burned whale oil.\n" for n in range(6)]
    notes.write_text("An edit to index, then more edits while it is embedded.\n" + notes.read_text(encoding="utf-8"))
    with pytest.raises(SourceChangedError, match=r"changed while it was being indexed.*Index again"):
        Index.build([notes], index_location, embedder=EditingEmbedder(notes, edits))
    after = Index.load(index_location, embedder=fake_embedder)
    assert after.corpus.documents == before.corpus.documents


def test_an_answer_says_when_a_quoted_file_changed_since_it_was_indexed(tmp_path, index_location, fake_embedder):
    notes = tmp_path / "notes.txt"
    notes.write_text("The keeper lit the lamp in 1874. It burned whale oil for forty years.\n", encoding="utf-8")
    index = Index.build([notes], index_location, embedder=fake_embedder)
    first = index.answer("When did the keeper light the lamp?")
    assert first.citations and not any(c.source_changed for c in first.citations)
    notes.write_text("Edited: the lamp was first lit in 1875 by the keeper.\n", encoding="utf-8")
    later = index.answer("When did the keeper light the lamp?")
    assert later.citations and all(c.source_changed for c in later.citations)
    assert "has changed since it was indexed" in later.to_text() and later.to_dict()["citations"][0]["source_changed"]


@folder_only
def test_a_full_disk_says_so_and_the_previous_index_still_answers(seed_corpus, tmp_path, fake_embedder):
    import resource
    import signal
    import subprocess
    import sys

    index_dir = tmp_path / "index"
    Index.build([seed_corpus], index_dir, embedder=fake_embedder)
    (seed_corpus / "more.txt").write_text("The harbour master counted 40 ships in the bay that winter. " * 200, encoding="utf-8")

    def small_files() -> None:  # a file-size limit: writes past it fail as on a full disk (EFBIG), not with a signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4000, 4000))

    result = subprocess.run([sys.executable, str(REPO / "tests" / "fake_model.py"), "cli", "index", str(seed_corpus),
                             "--index", str(index_dir)], capture_output=True, text=True, timeout=120, preexec_fn=small_files,
                            check=False)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("qa: error: The disk is full") and "Traceback" not in result.stderr
    assert "previous one still answers" in result.stderr and str(index_dir) in result.stderr
    assert len(list(index_dir.glob("gen-*"))) == 1
    assert Index.load(index_dir, embedder=fake_embedder).retrieve("How many Russian peacekeepers were deployed?", k=1)


def test_a_full_disk_is_told_apart_from_other_failures() -> None:
    import errno

    from qa.errors import disk_full

    assert disk_full(OSError(errno.ENOSPC, "No space left on device")) and disk_full(OSError(errno.EFBIG, "File too large"))
    assert disk_full(RuntimeError("Error in faiss::FileIOWriter: fwrite(...) failed: No space left on device"))
    assert not disk_full(OSError(errno.EACCES, "Permission denied")) and not disk_full(RuntimeError("bad index"))
