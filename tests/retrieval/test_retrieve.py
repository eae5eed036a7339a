"""Retrieval over the index: modes, k, question checks, the module-level API that loads once and reloads after a rebuild,
files that turn unreadable, HNSW above the threshold, and a document text written in slices (fake embedder)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import qa
from qa import Index, QAError, Settings
from qa.errors import IndexMissingError, QuestionError
from qa.index.lexical import split, stems
from qa.index.vectors import VectorSearch

from helpers import FakeEmbedder, folder_only
from helpers.index import HARBOUR, build, sources

BOTH_STORES = True  # tests that take an index location run on a folder and on PostgreSQL (conftest.py)


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


@pytest.mark.parametrize("question", ["How many soldiers did Azerbaijan say it lost?", "Russian peacekeepers deployed",
                                      "When did Azerbaijan start its offensive?"])
def test_a_file_indexed_twice_takes_one_place_per_passage(seed_corpus, new_location, fake_embedder, question):
    twice = seed_corpus.parent / "twice"
    twice.mkdir()
    for name in ("seed.txt", "a copy of the seed.txt"):
        shutil.copy2(next(seed_corpus.iterdir()), twice / name)
    alone = Index.build([seed_corpus], new_location("alone"), embedder=fake_embedder)
    copied = Index.build([twice], new_location("twice"), embedder=fake_embedder)
    passages = copied.retrieve(question, k=5)
    assert [p.rank for p in passages] == [1, 2, 3, 4, 5]
    assert len({p.text for p in passages}) == 5  # without the rule: each passage and its copy, side by side
    assert {p.text for p in passages} == {p.text for p in alone.retrieve(question, k=5)}
    quoted = {(c.passage_start, c.passage_end) for c in copied.answer(question, write=False).citations}
    assert quoted <= {(p.start, p.end) for p in passages}


class Forgetful:
    """A vector search that misses each question's nearest chunk, as an HNSW graph can (half of the true top 10 for
    some questions at a million chunks), and still scores any stored chunk exactly."""

    def __init__(self, exact: VectorSearch) -> None:
        self.exact, self.kind = exact, exact.kind

    def __len__(self) -> int:
        return len(self.exact)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores, ids = self.exact.search(queries, k + 1)
        return scores[:, 1:], ids[:, 1:]

    def score(self, query: np.ndarray, ids: np.ndarray) -> np.ndarray:
        return self.exact.score(query, ids)

    def vectors(self, start: int, stop: int) -> np.ndarray:
        return self.exact.vectors(start, stop)


def test_a_stored_chunk_scores_as_the_search_scored_it(fake_index):
    retriever = fake_index.retriever
    vector = retriever.embed_question("Russian peacekeepers deployed 2,000")
    scores, ids = retriever.dense.search(vector[None, :], 5)
    assert np.allclose(retriever.dense.score(vector, ids[0]), scores[0], atol=1e-5)


def test_a_chunk_the_vector_search_missed_but_the_words_found_keeps_its_place(fake_index, monkeypatch):
    question = "Russian peacekeepers deployed 2,000"
    exact = [(p.start, p.score) for p in fake_index.retrieve(question, k=5)]
    vector = fake_index.retriever.embed_question(question)
    nearest = int(fake_index.retriever.dense.search(vector[None, :], 1)[1][0, 0])
    assert nearest in fake_index.retriever.lexical.search(stems(split(question)), 100)[1]  # BM25 finds it
    monkeypatch.setattr(fake_index.retriever, "dense", Forgetful(fake_index.retriever.dense))
    assert [(p.start, p.score) for p in fake_index.retrieve(question, k=5)] == exact  # not its dense score lost


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
    assert index.dense.kind == "hnsw"
    (seed_corpus / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    index = build(seed_corpus, tmp_path / "index", FakeEmbedder(), settings=settings)  # carries HNSW vectors
    loaded = Index.load(tmp_path / "index", settings=settings, embedder=FakeEmbedder())
    flat = build(seed_corpus, tmp_path / "flat", FakeEmbedder())
    assert loaded.dense.kind == "hnsw" and flat.dense.kind == "flat"
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
