"""The index: save/load round trip, incremental rebuilds, refusing foreign or damaged indexes,
crash safety, the writer lock, retrieval modes, and question checks (all with the fake embedder).

Tests that take ``index_location`` or ``fake_index`` run on both stores (a folder and
PostgreSQL); ``@folder_only`` ones check the folder format itself (tests/test_postgres.py
has the database's own)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import qa
from qa import ChunkSettings, Index, QAError, Settings
from qa.errors import IndexCorruptError, IndexLockedError, IndexMismatchError, IndexMissingError, QuestionError
from qa.index.stores import folder_files as storage
from qa.settings import CHUNKER_VERSION

from conftest import SEED_FILE, FakeEmbedder, folder_only

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


# ----- retrieval and questions ---------------------------------------------------------


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_retrieve_ranks_and_scores(fake_index, mode):
    passages = fake_index.retrieve("Russian peacekeepers deployed 2,000", k=4, mode=mode)
    assert [p.rank for p in passages] == list(range(1, len(passages) + 1))
    assert 1 <= len(passages) <= 4
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    assert len({(p.start, p.end) for p in passages}) == len(passages)
    if mode != "dense":  # the fake embedder's dense ranking is only roughly lexical
        assert "2,000 Russian peacekeeping forces" in passages[0].text


def test_retrieve_k_larger_than_the_index(fake_index):
    assert len(fake_index.retrieve("Azerbaijan", k=1000)) == len(fake_index.chunks)


def test_bad_retrieve_arguments(fake_index):
    with pytest.raises(QAError, match="k must be"):
        fake_index.retrieve("Azerbaijan", k=0)
    with pytest.raises(QAError, match="hybrid"):
        fake_index.retrieve("Azerbaijan", mode="fuzzy")


@pytest.mark.parametrize("question", ["", "   ", "\n\t \xa0", None])
def test_empty_question_is_refused(fake_index, question):
    with pytest.raises(QuestionError, match="empty"):
        fake_index.retrieve(question)
    with pytest.raises(QuestionError, match="empty"):
        fake_index.answer(question)


def test_huge_question_is_cut_before_anything_reads_it(fake_index, fake_embedder):
    question = "How many Russian peacekeepers were deployed to the conflict zone? " * 16_000  # about 1 MB
    assert len(question) > 1_000_000
    fake_embedder.calls.clear()
    passages = fake_index.retrieve(question, k=3)
    answer = fake_index.answer(question)
    assert passages and answer.truncated is True
    embedded = fake_embedder.embedded_texts
    assert embedded and max(len(text) for text in embedded) <= fake_index.settings.max_question_chars
    assert len(answer.question) <= fake_index.settings.max_question_chars
    assert fake_index.answer("How many Russian peacekeepers were deployed?").truncated is False


# ----- module-level API: load once, reload after a rebuild -----------------------------


def test_module_retrieve_caches_and_reloads(fake_model_env, seed_corpus, index_location):
    index_dir = index_location
    build(seed_corpus, index_dir, fake_model_env)
    passages = qa.retrieve("Russian peacekeepers", k=2, index_dir=index_dir)
    assert len(passages) == 2
    first = qa.open_index(index_dir)
    assert qa.open_index(str(index_dir)) is first
    assert qa.retrieve("Russian peacekeepers", k=2, index_dir=index_dir) == passages

    build(seed_corpus, index_dir, fake_model_env)  # nothing changed: same generation, same object
    assert qa.open_index(index_dir) is first

    (seed_corpus / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    build(seed_corpus, index_dir, fake_model_env)
    second = qa.open_index(index_dir)
    assert second is not first and len(second.documents) == 2
    assert qa.retrieve("lighthouse zebrafish", k=1, index_dir=index_dir)[0].source == "harbour.txt"
    assert qa.ask("How many zebrafish boats did the lighthouse keeper count?", index_dir=index_dir).question


def test_module_retrieve_without_index(index_location):
    with pytest.raises(IndexMissingError, match="qa index"):
        qa.retrieve("anything", index_dir=index_location)


def test_file_that_turns_unreadable_is_dropped_with_a_warning(seed_corpus, index_location, fake_embedder):
    harbour = seed_corpus / "harbour.txt"
    harbour.write_text(HARBOUR, encoding="utf-8")
    build(seed_corpus, index_location, fake_embedder)
    harbour.write_bytes(HARBOUR.encode("utf-8") + b"\xc3\x28 caf\xe9")  # no longer UTF-8
    with pytest.warns(qa.errors.SkippedFileWarning, match="harbour.txt"):
        index = Index.build([seed_corpus], index_location, embedder=fake_embedder)
    assert index.report.removed == (str(harbour.resolve()),)
    assert [Path(s.path).name for s in index.report.skipped] == ["harbour.txt"]
    assert "harbour.txt" not in sources(index.retrieve("lighthouse zebrafish", k=10))


def test_hnsw_store_above_the_threshold(seed_corpus, tmp_path):
    settings = Settings(ann_threshold=2)  # the seed's 7 chunks go to HNSW
    index = build(seed_corpus, tmp_path / "index", FakeEmbedder(), settings=settings)
    assert index.store.kind == "hnsw"
    (seed_corpus / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    index = build(seed_corpus, tmp_path / "index", FakeEmbedder(), settings=settings)  # carries HNSW vectors
    loaded = Index.load(tmp_path / "index", settings=settings, embedder=FakeEmbedder())
    flat = build(seed_corpus, tmp_path / "flat", FakeEmbedder())
    assert loaded.store.kind == "hnsw" and flat.store.kind == "flat"
    question = "Russian peacekeepers and zebrafish boats"
    expected = [(p.source, p.start, p.end, p.score) for p in flat.retrieve(question, k=5, mode="dense")]
    assert [(p.source, p.start, p.end, p.score) for p in loaded.retrieve(question, k=5, mode="dense")] == expected


@folder_only
def test_a_document_text_written_in_slices_loads_back_exactly(tmp_path, monkeypatch, fake_embedder):
    import qa.index.stores.folder_files as folder_files

    monkeypatch.setattr(folder_files, "TEXT_SLICE", 5)  # slices that cut quotes, escapes and non-ASCII letters
    text = 'He said "four soldiers" \\ died.\nIt\u2019s a fact \U0001f600. Another sentence follows here.\n'
    (tmp_path / "quoted.txt").write_text(text, encoding="utf-8")
    Index.build([tmp_path / "quoted.txt"], tmp_path / "index", embedder=fake_embedder)
    loaded = Index.load(tmp_path / "index", embedder=fake_embedder)
    assert loaded.documents[0].text == text
