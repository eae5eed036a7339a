"""Follow-ups only when the question needs the conversation: one that names its own subject is a new question,
whatever pronouns it holds; one that cannot be understood alone borrows from the previous turn."""

from __future__ import annotations

import pytest

from qa.retrieval.follow_ups import is_follow_up

OWN_SUBJECT = [  # what a new user asked in one conversation; each was answered about the previous question
    "When did Azerbaijan start its offensive?",
    "How many soldiers did Azerbaijan say it lost?",
    "How is ripgrep licensed and what are its terms?",
    "Where did Armenia say its positions were attacked?",
    "What does the --encoding flag do when it is set to auto?",
    "Is there a way to search compressed files?",  # "there" with "is" names no one
    "Which country mediated the truce?",
    "What did the Defense Ministry say about the deaths?",
]
NEEDS_THE_CONVERSATION = [
    "And Armenia?",
    "Armenia?",
    "and on the Armenian side?",
    "What about the civilians?",
    "Did they blame anyone?",
    "On what date?",
    "How many of them?",
    "What is its capital?",
    "Who brokered it?",
    "When was it signed?",
    "How many died there?",
    "Why did they do that?",
]


@pytest.mark.parametrize("question", OWN_SUBJECT)
def test_a_question_naming_its_own_subject_is_a_new_question(question: str) -> None:
    assert not is_follow_up(question)


@pytest.mark.parametrize("question", NEEDS_THE_CONVERSATION)
def test_a_question_that_cannot_stand_alone_is_a_follow_up(question: str) -> None:
    assert is_follow_up(question)


HIJACKS = [  # (previous question, a new question holding a pronoun): the seed's answers to the first never answer the second
    ("Since when have ethnic Armenian forces held the territory?", "When did Azerbaijan start its offensive?"),
    ("How many Russian peacekeepers were deployed?", "How many soldiers did Azerbaijan say it lost?"),
    ("Who brokered the cease-fire?", "Where did Armenia say its positions were attacked?"),
    ("When did the fighting formally end?", "How many soldiers did Azerbaijan say it lost?"),
]


@pytest.mark.model
@pytest.mark.parametrize(("previous", "question"), HIJACKS)
def test_a_pronoun_question_is_never_answered_about_the_previous_turn(model_index, previous: str, question: str) -> None:
    before = model_index.answer(previous)
    answer = model_index.answer(question, history=[(previous, before.text)])
    alone = model_index.answer(question)
    assert before.answered
    assert answer.text == alone.text  # the conversation changed nothing
    assert not answer.answered or answer.citations[0].quote != before.citations[0].quote


@pytest.mark.model
def test_a_question_that_cannot_stand_alone_borrows_the_previous_subject(model_index) -> None:
    previous = "Did Russian peacekeepers acknowledge violations in Hadrut?"
    before = model_index.answer(previous)
    answer = model_index.answer("Did they blame anyone?", history=[(previous, before.text)])
    assert answer.answered and "did not assign blame" in answer.citations[0].quote


def test_a_question_is_read_and_embedded_once_per_answer(fake_index, fake_embedder) -> None:
    """The question's meaning is worked out once (``Question``) and each text it needs is embedded once."""
    fake_embedder.calls.clear()
    fake_index.answer("How many Russian peacekeepers were deployed?")
    assert fake_embedder.calls == [["How many Russian peacekeepers were deployed?"]]
    fake_embedder.calls.clear()
    fake_index.answer("Did they blame anyone?", [["Who fought in Nagorno-Karabakh?", "Armenia and Azerbaijan."]])
    assert sorted(fake_embedder.embedded_texts) == ["Did they blame anyone?", "Who fought in Nagorno-Karabakh? Did they blame anyone?"]
    fake_embedder.calls.clear()
    fake_index.retrieve("peacekeepers", k=3, mode="lexical")
    assert fake_embedder.calls == []  # a lexical search needs no vector


def test_the_question_read_once_carries_its_meaning(fake_index) -> None:
    asked = fake_index.retriever.read("And Armenia?", [["How many soldiers did Azerbaijan lose?", "2,783."]], 2000)
    assert asked.context == "" and asked.words == asked.query == "How many soldiers did Armenia lose?"
    assert asked.kinds == {"number"} and asked.vector is not None and asked.focus is asked.vector
    borrowed = fake_index.retriever.read("Did they blame anyone?", [["Who fought?", "Both."]], 2000)
    assert borrowed.context == "Who fought?" and borrowed.query == "Who fought? Did they blame anyone?"
    assert borrowed.focus is not None and borrowed.focus is not borrowed.vector
    assert abs(float((borrowed.focus ** 2).sum()) - 1.0) < 1e-6
