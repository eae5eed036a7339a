"""Embedding as an index build sees it: the backend in the manifest, the sentence-vector switch, where the requantised
model is cached, the progress bar, and embedding in windows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa import Index, Settings
from qa.errors import IndexMismatchError

from helpers import FakeEmbedder
from helpers.index import QUESTIONS

BOTH_STORES = True  # tests that take an index location run on a folder and on PostgreSQL (conftest.py)


# ----- the manifest -------------------------------------------------------------------


def test_manifest_records_the_backend_and_refuses_another(seed_corpus: Path, tmp_path: Path):
    import json

    from qa.index.stores import folder_files as storage

    built = FakeEmbedder(backend="onnx")
    Index.build([seed_corpus], tmp_path / "index", embedder=built, settings=Settings(backend="onnx"))
    manifest = json.loads((storage.current_folder(tmp_path / "index") / storage.MANIFEST).read_text())
    assert manifest["backend"] == "onnx" and manifest["model"] == built.name
    Index.load(tmp_path / "index", embedder=FakeEmbedder(backend="onnx"))
    with pytest.raises(IndexMismatchError, match="backend='onnx'"):
        Index.load(tmp_path / "index", embedder=FakeEmbedder(backend="torch"))


def test_building_with_another_backend_embeds_everything_again(seed_corpus: Path, tmp_path: Path):
    Index.build([seed_corpus], tmp_path / "index", embedder=FakeEmbedder(backend="onnx"))
    other = FakeEmbedder(backend="torch")
    with pytest.warns(UserWarning, match="rebuilding the whole index"):
        index = Index.build([seed_corpus], tmp_path / "index", embedder=other, settings=Settings(backend="torch"))
    assert index.report.embedded and other.calls


# ----- the sentence-vector switch -------------------------------------------------------


def test_without_sentence_vectors_only_chunks_are_embedded_and_answers_stay(seed_corpus: Path, new_location):
    with_vectors, without = FakeEmbedder(), FakeEmbedder()
    full = Index.build([seed_corpus], new_location("full"), embedder=with_vectors)
    lean_settings = Settings(sentence_vectors=False)
    lean = Index.build([seed_corpus], new_location("lean"), embedder=without, settings=lean_settings)
    assert len(without.embedded_texts) == len(lean.chunks) < len(with_vectors.embedded_texts)
    assert lean.corpus.sentence_vectors.size == 0
    reloaded = Index.load(new_location("lean"), settings=lean_settings, embedder=without)
    for question in QUESTIONS:
        a, b = full.answer(question), reloaded.answer(question)
        assert (a.answered, [c.quote for c in a.citations]) == (b.answered, [c.quote for c in b.citations]), question
    with pytest.raises(IndexMismatchError, match="sentence_vectors"):
        Index.load(new_location("lean"), embedder=without)  # default settings want sentence vectors


@pytest.mark.model
def test_the_requantised_model_falls_back_to_the_temp_folder_when_the_cache_cannot_be_written(tmp_path, monkeypatch):
    import qa.index.embedding_onnx as embed_onnx
    import qa.index.model_files as model_files

    locked, temp = tmp_path / "home-cache", tmp_path / "temp"
    monkeypatch.setattr(model_files.tempfile, "gettempdir", lambda: str(temp))
    real_access = model_files.os.access
    monkeypatch.setattr(model_files.os, "access", lambda path, mode: False if Path(path) == locked else real_access(path, mode))
    made = embed_onnx.dynamic_model_file(embed_onnx.onnx_model_file(), str(locked))
    assert made.parent.parent == temp and made.is_file() and not list(locked.glob("*.onnx"))
    assert embed_onnx.dynamic_model_file(embed_onnx.onnx_model_file(), str(locked)) == made  # found again, not made again


def test_a_model_planted_in_a_folder_of_another_user_is_not_loaded(tmp_path, monkeypatch):
    import qa.index.model_files as model_files

    planted = tmp_path / "temp" / f"qa-cache-{model_files.os.getuid()}"
    planted.mkdir(parents=True)
    monkeypatch.setattr(model_files.tempfile, "gettempdir", lambda: str(tmp_path / "temp"))
    assert model_files._ours(planted) and model_files._ours(tmp_path / "not-made-yet")
    monkeypatch.setattr(model_files.os, "getuid", lambda: planted.stat().st_uid + 1)  # as if another user made it
    assert not model_files._ours(planted)


def test_the_progress_bar_counts_texts_in_words_not_batches(tmp_path, capsys) -> None:
    (tmp_path / "notes.txt").write_text("The harbour opened in 1890. Ships came from far away.\n\nIt closed in 1990.\n",
                                       encoding="utf-8")
    index = Index.build([tmp_path / "notes.txt"], tmp_path / "index", embedder=FakeEmbedder(), progress=True)
    total = len(index.corpus.chunks) + len(index.corpus.sentences)  # chunks and sentences, one bar
    shown = capsys.readouterr().err
    assert "Embedding passages and their sentences" in shown and f"{total}/{total}" in shown and "texts/s" in shown
    assert "batch" not in shown
    Index.build([tmp_path / "notes.txt"], tmp_path / "quiet", embedder=FakeEmbedder())
    assert capsys.readouterr().err == ""


def test_a_build_embeds_in_windows_with_the_same_vectors_as_one_call(tmp_path, monkeypatch) -> None:
    text = " ".join(f"Sentence number {n} says something about the harbour." for n in range(40))
    (tmp_path / "notes.txt").write_text(text, encoding="utf-8")
    whole = Index.build([tmp_path / "notes.txt"], tmp_path / "whole", embedder=FakeEmbedder())
    fake = FakeEmbedder()  # many windows of 3, the last of each pass short
    windowed = Index.build([tmp_path / "notes.txt"], tmp_path / "windowed", embedder=fake, settings=Settings(embed_window=3))
    assert max(len(call) for call in fake.calls) == 3 and len(fake.calls) > 3
    assert np.array_equal(windowed.corpus.sentence_vectors, whole.corpus.sentence_vectors)
    assert windowed.corpus.sentence_vectors.dtype == np.float16
    chunks = len(whole.corpus.chunks)
    assert np.array_equal(windowed.dense.vectors(0, chunks), whole.dense.vectors(0, chunks))
