"""Answers: frozen results, verbatim quotes with exact offsets, abstaining, follow-ups.

The fake-embedder tests check what holds for any scoring; the `model` tests check the
seed questions with the real packaged model (one shared index per session).
"""

from __future__ import annotations

import re

import pytest

from qa import Citation
from qa.evaluate import marked_answer, marks_answer
from qa.retrieval.follow_ups import follow_up_question

from helpers import SEED_FILE, check_answer

BOTH_STORES = True  # tests that take an index location run on a folder and on PostgreSQL (conftest.py)

SEED_QUESTIONS = [
    "What total military death toll did Azerbaijan report?",
    "How many Russian peacekeepers were deployed?",
    "Who brokered the cease-fire?",
    "When did the fighting formally end?",
    "How many soldiers did Azerbaijan say were killed since the cease-fire?",
    "When did Azerbaijan launch its military offensive?",
    "How many Karabakh fighters were wounded?",
    "What did Armenia's Foreign Ministry accuse Azerbaijan of?",
    "Who controlled Nagorno-Karabakh since the early 1990s?",
    "How many soldiers has Armenia lost?",
    "Who won the 2018 FIFA World Cup?",
    "How do I bake sourdough bread?",
]
TOLL_QUESTION = "What total military death toll did Azerbaijan report?"
TOLL_SENTENCE = "Overall, Azerbaijan has reported 2,783 of its soldiers killed in the latest bout of fighting."
ARMENIAN_SENTENCE = (
    "Armenia has not released a final death toll for its military, but Nagorno-Karabakh military officials "
    "have said at least 2,317 soldiers had been killed."
)


# ----- frozen results (no model) -------------------------------------------------------


def test_fake_answers_keep_their_promises(fake_index):
    for question in SEED_QUESTIONS:
        answer = fake_index.answer(question)
        assert answer.question == question
        check_answer(fake_index, answer)


def test_history_is_accepted_and_checked(fake_index):
    first = fake_index.answer(TOLL_QUESTION)
    follow = fake_index.answer("and on the Armenian side?", history=[(TOLL_QUESTION, first.text)])
    check_answer(fake_index, follow)
    assert follow.question == "and on the Armenian side?"
    assert fake_index.answer(TOLL_QUESTION, history=[]) == first


# ----- the real model on the seed ------------------------------------------------------


@pytest.mark.model
@pytest.mark.parametrize("question", SEED_QUESTIONS)
def test_every_quote_is_the_source_text(model_index, seed_text, question):
    answer = model_index.answer(question)
    check_answer(model_index, answer)
    for c in answer.citations:
        assert seed_text[c.start : c.end] == c.quote
        assert c.path == str(SEED_FILE.resolve())


@pytest.mark.model
def test_death_toll_is_answered_with_exact_offsets(model_index, seed_text):
    answer = model_index.answer(TOLL_QUESTION)
    assert answer.answered is True
    first = answer.citations[0]
    assert "2,783" in first.quote
    assert first.quote == TOLL_SENTENCE
    assert (first.start, first.end) == (seed_text.index(TOLL_SENTENCE), seed_text.index(TOLL_SENTENCE) + len(TOLL_SENTENCE))
    assert first.path == str(SEED_FILE.resolve()) and first.source == SEED_FILE.name
    assert first.supports_answer is True and first.page is None
    assert first.line == seed_text.count("\n", 0, first.start) + 1
    assert seed_text[first.passage_start : first.passage_end].count(TOLL_SENTENCE) == 1
    assert first.answer_start is not None and seed_text[first.answer_start : first.answer_end] == "2,783"
    assert answer.text.startswith(f"“{TOLL_SENTENCE}” [1]")


@pytest.mark.model
@pytest.mark.parametrize("question", ["Who won the 2018 FIFA World Cup?", "How do I bake sourdough bread?"])
def test_unanswerable_question_abstains(model_index, question):
    answer = model_index.answer(question)
    assert answer.answered is False
    assert "The sources do not answer" in answer.text
    assert not re.search(r"\[\d+\]", answer.text)  # no quote is presented as the answer
    assert answer.citations and all(c.supports_answer is False for c in answer.citations)
    check_answer(model_index, answer)


REWRITTEN = [  # (previous question, follow-up, the follow-up as asked)
    ("How many soldiers has Azerbaijan lost?", "And Armenia?", "How many soldiers has Armenia lost?"),
    ("How many soldiers has Azerbaijan lost?", "Armenia?", "How many soldiers has Armenia lost?"),
    ("What did the Foreign Ministry say?", "And the Russian peacekeepers?", "What did the Russian peacekeepers say?"),
    (TOLL_QUESTION, "and on the Armenian side?", "What total military death toll did the Armenian side report?"),
    ("Who is the mayor of Paris?", "And of Lyon?", "Who is the mayor of Lyon?"),
    ("What did Armenia's Foreign Ministry accuse Azerbaijan of?", "And Armenia's Defense Ministry?",
     "What did Armenia's Defense Ministry accuse Azerbaijan of?"),
]
KEPT = [  # follow-ups with a question of their own, or naming nothing new: asked beside the previous question
    ("How many soldiers has Azerbaijan lost?", "And how many did Armenia lose?"),
    ("How many soldiers has Azerbaijan lost?", "What about the civilians?"),
    ("When did the fighting end?", "And why?"),
    ("how many soldiers died?", "And Armenia?"),  # the previous question names nothing to replace
]


@pytest.mark.parametrize(("previous", "question", "asked"), REWRITTEN)
def test_a_follow_up_naming_a_new_thing_is_asked_as_the_previous_question_about_it(previous, question, asked):
    assert follow_up_question(previous, question) == asked


@pytest.mark.parametrize(("previous", "question"), KEPT)
def test_other_follow_ups_are_not_rewritten(previous, question):
    assert follow_up_question(previous, question) is None


FOLLOW_UPS = [  # (previous question, follow-up, a part of the sentence that answers the follow-up)
    ("How many soldiers has Azerbaijan lost?", "And Armenia?", "2,317"),
    ("What did the Foreign Ministry say?", "And the Russian peacekeepers?", "Russian peacekeepers acknowledged"),
    ("How many soldiers did Azerbaijan lose in the latest fighting overall?", "What about Armenia?", "2,317"),
    (TOLL_QUESTION, "And Armenia?", "2,317"),
]


@pytest.mark.model
@pytest.mark.parametrize(("previous", "question", "part"), FOLLOW_UPS)
def test_a_follow_up_quotes_the_new_thing_not_the_previous_answer(model_index, previous, question, part):
    before = model_index.answer(previous)
    answer = model_index.answer(question, history=[(previous, before.text)])
    check_answer(model_index, answer)
    assert answer.citations[0].quote != before.citations[0].quote
    assert answer.answered is True and part in answer.citations[0].quote


@pytest.mark.model
def test_follow_up_uses_the_previous_question(model_index):
    previous = model_index.answer(TOLL_QUESTION)
    answer = model_index.answer("and on the Armenian side?", history=[(TOLL_QUESTION, previous.text)])
    assert answer.answered is True
    assert "2,317" in answer.citations[0].quote
    assert answer.citations[0].quote == ARMENIAN_SENTENCE
    check_answer(model_index, answer)


@pytest.mark.model
def test_peacekeepers_are_retrieved_and_answered(model_index):
    passages = model_index.retrieve("How many Russian peacekeepers were deployed?", k=3)
    assert "2,000" in passages[0].text
    answer = model_index.answer("How many Russian peacekeepers were deployed?")
    assert answer.answered and "2,000" in answer.citations[0].quote


@pytest.mark.model
def test_caption_is_retrieved_once_with_the_model(model_index):
    caption = "FILE - A view shows a burnt tank near Hadrut town"
    passages = model_index.retrieve("a burnt tank near Hadrut town", k=10)
    assert caption in passages[0].text
    assert sum(caption in p.text for p in passages) == 1


@pytest.mark.model
def test_huge_question_with_the_model(model_index):
    question = "What total military death toll did Azerbaijan report? " * 20_000  # about 1 MB
    answer = model_index.answer(question)
    passages = model_index.retrieve(question, k=3)
    assert answer.truncated is True and passages
    assert len(answer.question) <= model_index.settings.max_question_chars
    check_answer(model_index, answer)


def test_a_marked_answer_counts_when_it_overlaps_a_gold_one():
    quote = "Russia sent about 2,000 peacekeepers to the region."
    cite = Citation(1, "seed.txt", "seed.txt", 100, 100 + len(quote), quote, 0.9, answer_start=118, answer_end=136)
    assert marked_answer(cite) == "2,000 peacekeepers"
    assert marks_answer(cite, ["about 2,000"]) and marks_answer(cite, ["nobody", "2,000"])  # F1 2/3 and 4/5
    assert not marks_answer(cite, ["Russia"]) and not marks_answer(cite, [])
    unmarked = Citation(1, "seed.txt", "seed.txt", 100, 100 + len(quote), quote, 0.9)
    assert marked_answer(unmarked) == "" and not marks_answer(unmarked, ["2,000"])
