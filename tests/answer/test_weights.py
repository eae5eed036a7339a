"""The question's words weigh what they weigh in each sentence's own document (qa/answer/weights.py): documents
added beside it change nothing of a document's weights, overlaps or candidate scores."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa import Index
from qa.answer import weights
from qa.answer.compose import candidate_sentences
from qa.answer.weights import WordWeights, passage_counts

QUESTION = "How many Armenian soldiers were killed in the war?"
# Another document full of the question's words: over the whole index "soldiers" and "war" would weigh far less
OTHER = "\n\n".join(f"Report {n}. The war went on and soldiers of unit {n} were moved; no soldiers were killed." for n in range(120))


def seed_scores(index: Index, seed: str) -> dict[tuple[int, int], tuple[float, float, float]]:
    """(overlap, support, weight of "soldier") of each candidate sentence of the seed, by its offsets."""
    corpus, candidates, word_weights = candidate_sentences(index, index.retriever.read(QUESTION, None, 2000))
    return {(int(corpus.sentences["start"][c.sentence]), int(corpus.sentences["end"][c.sentence])):
            (c.overlap, c.support, word_weights.of(c.sentence)["soldier"])
            for c in candidates if corpus.sentence_document(c.sentence).source == seed}


def test_other_documents_change_no_weight_of_a_documents_sentences(seed_corpus: Path, tmp_path: Path, fake_embedder) -> None:
    seed = next(seed_corpus.iterdir()).name
    alone = seed_scores(Index.build([seed_corpus], tmp_path / "alone", embedder=fake_embedder), seed)
    (seed_corpus / "reports.txt").write_text(OTHER, encoding="utf-8")
    beside = seed_scores(Index.build([seed_corpus], tmp_path / "beside", embedder=fake_embedder), seed)
    shared = alone.keys() & beside.keys()
    assert len(shared) >= 3
    assert {k: alone[k] for k in shared} == {k: beside[k] for k in shared}


def test_a_long_documents_counts_come_from_evenly_spread_passages(seed_corpus: Path, tmp_path: Path, fake_embedder,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (seed_corpus / "reports.txt").write_text(OTHER, encoding="utf-8")
    index = Index.build([seed_corpus / "reports.txt"], tmp_path / "index", embedder=fake_embedder)
    corpus = index.corpus
    chunks = int(corpus.chunk_starts[1])
    assert chunks > 4
    counts, counted = passage_counts(corpus, 0)
    assert counted == chunks and counts["soldier"] == chunks  # every passage holds "soldiers"
    monkeypatch.setattr(weights, "MAX_PASSAGES", 3)
    monkeypatch.setattr(weights, "_recent", weights._Recent())
    counts, counted = passage_counts(corpus, 0)
    assert counted == 3 and counts["soldier"] == 3
    question = index.retriever.read("Which soldiers were killed at Hadrut?", None, 2000, embed=False)
    weighed = WordWeights(corpus, question).of(0)
    assert weighed["hadrut"] > 1.0 > weighed["soldier"]  # not in the document: rare; in every passage: next to nothing


def test_the_counts_kept_are_bounded_by_their_words(seed_corpus: Path, tmp_path: Path, fake_embedder,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (seed_corpus / "reports.txt").write_text(OTHER, encoding="utf-8")
    corpus = Index.build([seed_corpus], tmp_path / "index", embedder=fake_embedder).corpus
    recent = weights._Recent()
    monkeypatch.setattr(weights, "_recent", recent)
    first, _ = passage_counts(corpus, 0)
    assert passage_counts(corpus, 0)[0] is first and recent.words == len(first)  # kept: not counted again
    monkeypatch.setattr(weights, "CACHED_WORDS", len(first))  # room for one of the two documents' words
    second, _ = passage_counts(corpus, 1)
    assert list(recent.counts.values()) == [(second, int(corpus.chunk_starts[2] - corpus.chunk_starts[1]))]
    assert recent.words == len(second) > 0
    again, _ = passage_counts(corpus, 0)  # counted anew
    assert again == first and again is not first and recent.words == len(first)
    monkeypatch.setattr(weights, "CACHED_WORDS", 1)
    assert passage_counts(corpus, 1)[0] == second and len(recent.counts) == 1  # the last one is always kept
