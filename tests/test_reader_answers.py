"""The reader stage's contract: ranking, declining, further quotes, verbatim offsets; the seed questions.

The fake-embedder tests use the shipped reader model (it needs no embedder); the `model`
tests ask the seed article with the real packaged embedding model.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from qa import Index
from qa.judge import Candidate, load_reader, read, score_candidates, word_weights
from qa.quotes import completes

from conftest import SEED_FILE
from test_core_answer import check_answer

# (question, a part of the sentence that answers it): reworded, so the words do not simply match
MISSED = pytest.mark.xfail(strict=True, reason="the shipped reader misses it: see the reader section of bench/RESULTS.md")
# (question, a part of the sentence that answers it): reworded, so the words do not simply match
ANSWERED = [
    pytest.param("Which nation acted as go-between for the truce?", "Russian-brokered cease-fire", marks=MISSED),  # issue 11
    ("What did the ministry say about where the soldiers died?", "gave few details as to when or where the deaths took place"),  # issue 11
    ("How many soldiers did Azerbaijan lose in the latest fighting overall?", "2,783"),
    ("How many Russian troops were sent to keep the peace?", "2,000 Russian peacekeeping forces"),
    ("When did the fighting formally end?", "formally ended on November 10"),
    ("Who has held Nagorno-Karabakh since the early 1990s?", "controlled by ethnic Armenian forces since the early 1990s"),
    ("How many Karabakh fighters were hurt in the clashes?", "three of its fighters were wounded"),
    ("When did Azerbaijan start its military offensive?", "in September, Azerbaijan launched a military offensive"),
    ("Did the peacekeepers say who was to blame for the violations?", "did not assign blame"),
    ("What did Armenia's Foreign Ministry accuse Azerbaijan of?", "gross violations"),
    pytest.param("In which district did the new cease-fire violations happen?", "southern Hadrut district", marks=MISSED),
]
DECLINED = [
    # issue 11: the article names Armenia's ministries, not its prime minister
    pytest.param("Who is Armenia's prime minister?", marks=MISSED),
    pytest.param("How many Russian peacekeepers were killed?", marks=MISSED),
    "What is the capital of Armenia?",
    "How many civilians died in Hadrut?",
    "Who won the 2018 FIFA World Cup?",
]
# Every seed question, whatever the reader decides: (question, the answering sentence's part or None)
ALL = [(p.values if hasattr(p, "values") else p) for p in ANSWERED] + [((p.values[0] if hasattr(p, "values") else p), None) for p in DECLINED]
# The reader ranks the answering sentence first even where it declines (the decision is what it misses).
RANKED_FIRST = [pair for pair in ALL if pair[1]]


# ----- the contract, with the fake embedder and the shipped reader ----------------------------------


def test_reader_judges_the_best_candidates_in_the_cheap_order(fake_index: Index) -> None:
    question = "How many soldiers did Azerbaijan lose in the latest fighting overall?"
    options = fake_index.settings.answer
    reader = load_reader(options.reader)
    hits, vector = fake_index.retriever.rank(question, options.passages)
    candidates = score_candidates(fake_index.corpus, hits, vector, word_weights(fake_index.lexical, question, ""), question, options)
    judged = read(fake_index.corpus, candidates, question, reader)
    assert 0 < len(judged) <= reader.combiner.judged
    assert [c.sentence for c in judged] == [c.sentence for c in candidates[: reader.combiner.judged]]  # the cheap order kept
    assert all(0.0 < c.answers < 1.0 and 0.0 < c.confidence < 1.0 for c in judged)


def test_answers_follow_the_readers_thresholds(fake_index: Index) -> None:
    options = fake_index.settings.answer
    reader = load_reader(options.reader)
    for question, _ in ALL:
        answer = fake_index.answer(question)
        check_answer(fake_index, answer)
        hits, vector = fake_index.retriever.rank(question, options.passages)
        weights = word_weights(fake_index.lexical, question, "")
        judged = read(fake_index.corpus, score_candidates(fake_index.corpus, hits, vector, weights, question, options), question, reader)
        assert answer.answered is (max(c.confidence for c in judged) >= reader.combiner.answer_at)
        assert answer.citations[0].score == round(judged[0].answers, 4)  # the most probable sentence comes first
        if answer.answered:  # a further quote reaches further_at, or is the next sentence after an unsure first one
            first = answer.citations[0]
            assert all(c.score >= round(reader.combiner.further_at, 4)
                       or (first.score < options.next_below and c.n == 2 and c.start > first.end) for c in answer.citations[1:])


def test_an_unsure_first_quote_is_completed_by_the_sentence_after_it(fake_index: Index, fake_embedder: object) -> None:
    never, always = (Index.load(fake_index.index_dir, embedder=fake_embedder, settings=replace(
        fake_index.settings, answer=replace(fake_index.settings.answer, next_below=below))) for below in (0.0, 1.0))
    text = SEED_FILE.read_text(encoding="utf-8")
    completed = 0
    for question, _ in ALL:
        before, after = never.answer(question), always.answer(question)
        check_answer(always, after)
        assert after.answered is before.answered and after.citations[0] == before.citations[0]
        if after.answered and len(after.citations) > 1 and after.citations[1] not in before.citations:
            first, second = after.citations[:2]
            between = text[first.end : second.start]
            assert first.end <= second.start and between.strip() == "" and "\n\n" not in between  # the next sentence, same paragraph
            completed += 1
    assert completed  # the seed's answers are mostly mid-paragraph


def test_completes_stays_within_a_paragraph_or_section(tmp_path: Path, fake_embedder: object) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text("# Tilde\n\nTilde requirements allow updates. Only patch changes are allowed.\n\n"
                                              "# Caret\n\nCaret requirements allow more.\n", encoding="utf-8")
    (tmp_path / "docs" / "notes.txt").write_text("One thing is said. Two things follow.\n\nA new paragraph starts.\n", encoding="utf-8")
    corpus = Index.build([tmp_path / "docs"], tmp_path / "index", embedder=fake_embedder).corpus
    row = {corpus.sentence_text(s): s for s in range(len(corpus.sentences))}

    def pair(first: str, second: str, answers: float = 0.1) -> bool:
        best, following = (Candidate(row[t], 1, 0, 0.0, 0.0, answers=answers) for t in (first, second))
        return completes(corpus, best, following, below=0.5)

    assert pair("Tilde requirements allow updates.", "Only patch changes are allowed.")
    assert not pair("Tilde requirements allow updates.", "Only patch changes are allowed.", answers=0.9)  # sure of the first
    assert not pair("Only patch changes are allowed.", "Caret requirements allow more.")  # the next section
    assert pair("One thing is said.", "Two things follow.")
    assert not pair("Two things follow.", "A new paragraph starts.")  # plain text: the next paragraph


def test_off_topic_question_is_declined_with_the_closest_sentences(fake_index: Index) -> None:
    answer = fake_index.answer("How do I bake sourdough bread?")
    assert answer.answered is False and answer.citations
    check_answer(fake_index, answer)


# ----- the seed questions, real model ---------------------------------------------------------------


@pytest.mark.model
@pytest.mark.parametrize(("question", "part"), ANSWERED)
def test_reworded_seed_questions_are_answered_with_the_right_quote(model_index: Index, question: str, part: str) -> None:
    answer = model_index.answer(question)
    check_answer(model_index, answer)
    assert answer.answered, answer.text
    assert part in answer.citations[0].quote
    text = SEED_FILE.read_text(encoding="utf-8")
    assert all(text[c.start : c.end] == c.quote for c in answer.citations)


@pytest.mark.model
@pytest.mark.parametrize(("question", "part"), RANKED_FIRST)
def test_the_answering_sentence_is_ranked_first(model_index: Index, question: str, part: str) -> None:
    assert part in model_index.answer(question).citations[0].quote


@pytest.mark.model
@pytest.mark.parametrize("question", DECLINED)
def test_questions_the_seed_does_not_answer_are_declined(model_index: Index, question: str) -> None:
    answer = model_index.answer(question)
    check_answer(model_index, answer)
    assert answer.answered is False, answer.text
