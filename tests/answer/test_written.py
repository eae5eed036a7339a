"""Answers in words from the user's own model: written only from the quotes, every sentence checked before shown.

A scripted OpenAI-compatible server stands in for the model (Ollama, llama.cpp's server): it replies with what
a test sets, or fails as asked. The checker must drop an invented number, a name from another passage, a wrong
[n] and an uncited sentence; a server error, a timeout or a reply that is no chat completion leaves the quotes
alone with one line saying why; a declined question never reaches the model.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from qa import Index, Settings
from qa.answer.written import check, sentences
from qa.cli import main
from qa.types import Citation

from helpers import FakeEmbedder
from helpers.llm import ScriptedServer


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    yield scripted
    scripted.close()


@pytest.fixture
def written_index(fake_index: Index, server: ScriptedServer) -> Index:
    """The seed's fake index, answering with the scripted model configured."""
    llm = replace(fake_index.settings.llm, url=server.url, model="scripted-1", api_key="sk-never-shown", timeout=2.0)
    return Index.load(fake_index.index_dir, settings=replace(fake_index.settings, llm=llm), embedder=FakeEmbedder())


QUESTION = "How many Russian peacekeepers were deployed?"


def citation(n: int, quote: str, passage: str = "") -> Citation:
    return Citation(n, "notes.txt", "/notes.txt", 0, len(quote), quote, 0.9, passage=passage or quote)


CITED = (citation(1, "Russia deployed 2,000 peacekeepers to the region.", "In November, Russia deployed 2,000 "
                                                                             "peacekeepers to the region."),
         citation(2, "Armenia says it lost 2,317 soldiers.", "Armenia says it lost 2,317 soldiers; Pashinyan signed."))


@pytest.mark.parametrize(("sentence", "unsupported"), [
    ("Russia deployed 2,000 peacekeepers [1].", ()),
    ("Russia deployed 2000 peacekeepers in November [1].", ()),  # the number without its comma, a name in the passage
    ("Russia deployed 3,000 peacekeepers [1].", ("3,000",)),  # an invented number
    ("The truce was signed by Pashinyan [1].", ("Pashinyan",)),  # a name from another passage than the one cited
    ("Russia deployed 2,000 peacekeepers [3].", ("[3]", "2,000", "Russia")),  # a quote that does not exist
    ("France deployed peacekeepers [1].", ("France",)),  # a name as the sentence's first word
    ("They used `rg --type rust` [1].", ("rg --type rust",)),  # code the passage does not hold
    ("Russia deployed 2,000 peacekeepers for 20 years [1].", ("20",)),  # "20" only inside "2,000": not said
])
def test_each_sentence_is_checked_against_the_passages_it_cites(sentence: str, unsupported: tuple[str, ...]) -> None:
    checked = check(sentence, CITED, QUESTION)
    assert checked.unsupported == unsupported and checked.supported is (not unsupported)


def test_a_sentence_that_cites_nothing_is_not_shown_even_when_true() -> None:
    checked = check("Russia deployed peacekeepers.", CITED, QUESTION)
    assert checked.cites == () and not checked.supported


def test_the_reply_is_cut_into_sentences_each_keeping_its_citations() -> None:
    assert sentences("Russia sent 2,000 troops. [1] Armenia lost 2,317 soldiers [2].\n\nThat is all.") == [
        "Russia sent 2,000 troops. [1]", "Armenia lost 2,317 soldiers [2].", "That is all."]


def test_a_supported_answer_is_shown_in_words_with_the_model_that_wrote_it(written_index: Index, server: ScriptedServer) -> None:
    server.reply = "About 2,000 Russian peacekeepers were deployed [1]."
    answer = written_index.answer(QUESTION)
    assert answer.answered and answer.written is not None
    assert answer.written.text == "About 2,000 Russian peacekeepers were deployed [1]." and answer.written.note == ""
    assert answer.written.model == "scripted-1" and [c.supported for c in answer.written.checks] == [True]
    asked = server.requests[-1]
    assert asked["path"] == "/v1/chat/completions" and asked["auth"] == "Bearer sk-never-shown"
    user = asked["body"]["messages"][-1]["content"]
    assert QUESTION in user and all(f"[{c.n}] {c.quote}" in user for c in answer.citations)
    assert "written by scripted-1" in answer.to_text() and answer.text in answer.to_text()
    assert answer.to_dict()["written"]["text"] == answer.written.text
    assert "sk-never-shown" not in json.dumps(answer.to_dict()) + repr(written_index.settings)


def test_unsupported_sentences_are_dropped_and_counted(written_index: Index, server: ScriptedServer) -> None:
    server.reply = "About 2,000 Russian peacekeepers were deployed [1]. They stayed for 35 years [1]."
    written = written_index.answer(QUESTION).written
    assert written is not None and written.text == "About 2,000 Russian peacekeepers were deployed [1]."
    assert written.note == "1 sentence the quotes do not support left out." and len(written.checks) == 2
    server.reply = "Vladimir Putin sent 5,000 peacekeepers [1]."
    written = written_index.answer(QUESTION).written
    assert written is not None and written.text == "" and "wrote nothing the quotes support" in written.note


@pytest.mark.parametrize(("status", "delay", "body", "says"), [
    (500, 0.0, b"", "answered HTTP 500"),
    (200, 3.0, b"", "did not answer within 2 s"),
    (200, 0.0, b"<html>busy</html>", "not a chat completion"),
])
def test_a_failing_server_leaves_the_quotes_with_one_line_why(written_index, server, status, delay, body, says) -> None:
    server.status, server.delay, server.body = status, delay, body
    answer = written_index.answer(QUESTION)
    assert answer.answered and answer.citations and answer.written is not None
    assert answer.written.text == "" and says in answer.written.note and "\n" not in answer.written.note


def test_a_stopped_server_is_said_in_one_line(written_index: Index, server: ScriptedServer) -> None:
    server.close()
    written = written_index.answer(QUESTION).written
    assert written is not None and written.text == "" and "cannot be reached" in written.note


def test_a_declined_question_never_goes_to_the_model(written_index: Index, server: ScriptedServer) -> None:
    server.reply = "Paris [1]."
    answer = written_index.answer("What is the capital of France?")
    assert not answer.answered and answer.written is None and server.requests == []


def test_nothing_is_written_or_sent_without_a_configured_server(fake_index: Index, server: ScriptedServer) -> None:
    assert fake_index.settings.llm.url == "" and fake_index.answer(QUESTION).written is None
    assert "written" in fake_index.answer(QUESTION).to_dict() and server.requests == []


def test_the_command_line_takes_the_server_and_model(fake_model_env, fake_index, server, capsys) -> None:
    server.reply = "About 2,000 Russian peacekeepers were deployed [1]."
    assert main(["ask", QUESTION, "--index", str(fake_index.index_dir), "--llm-url", server.url,
                 "--llm-model", "scripted-2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["written"]["model"] == "scripted-2" and data["written"]["text"].startswith("About 2,000")
    assert server.requests[-1]["body"]["model"] == "scripted-2" and server.requests[-1]["auth"] is None


def test_settings_keep_the_key_out_of_sight() -> None:
    settings = replace(Settings(), llm=replace(Settings().llm, url="http://localhost:1/v1", api_key="sk-secret"))
    assert "sk-secret" not in repr(settings) and settings == replace(settings, llm=replace(settings.llm, api_key=""))


def test_a_streamed_answer_comes_sentence_by_sentence_each_checked(written_index: Index, server: ScriptedServer) -> None:
    server.streams = True
    server.reply = ("About 2,000 Russian peacekeepers were deployed [1]. They stayed for 35 years [1]. "
                    "The peacekeepers were deployed [1].")
    answer = written_index.answer(QUESTION, write=False)
    steps = [a.written for a in written_index.writing(answer)]
    assert server.requests[-1]["body"]["stream"] is True
    assert [w.finished for w in steps if w is not None] == [False, False, True]
    first, second, final = steps
    assert first is not None and first.text == "About 2,000 Russian peacekeepers were deployed [1]."
    assert second is not None and second.text == first.text and len(second.checks) == 2  # the invented one not shown
    assert final is not None and final.text.endswith("deployed [1]. The peacekeepers were deployed [1].")
    assert final.note.startswith("1 sentence")
    assert written_index.write(answer).written == final  # the same answer at once


def test_a_citation_split_across_pieces_stays_with_its_sentence() -> None:
    from qa.answer.written import complete_sentences

    assert complete_sentences("Russia deployed 2,000. [1") == ([], "Russia deployed 2,000. [1")
    assert complete_sentences("Russia deployed 2,000. [1] They") == (["Russia deployed 2,000. [1]"], "They")
    assert complete_sentences("One [1]. Two [2]. [2") == (["One [1]."], "Two [2]. [2")


def test_a_stream_cut_short_keeps_the_checked_sentences_and_says_so(written_index: Index, server: ScriptedServer) -> None:
    server.streams, server.cut_after = True, 10
    server.reply = "About 2,000 Russian peacekeepers were deployed [1]. The peacekeepers were deployed in November [1]."
    written = written_index.answer(QUESTION).written
    assert written is not None and written.finished
    assert written.text == "About 2,000 Russian peacekeepers were deployed [1]."
    assert "stopped before the answer was finished" in written.note and "The rest was not written." in written.note
    server.cut_after = 3  # cut before any sentence is complete: the quotes alone
    written = written_index.answer(QUESTION).written
    assert written is not None and written.text == "" and written.note.startswith("No written answer: the model server stopped")


def test_stopping_a_streamed_answer_ends_the_request(written_index: Index, server: ScriptedServer) -> None:
    server.streams, server.pace = True, 0.05
    server.reply = "About 2,000 Russian peacekeepers were deployed [1]. " * 40
    steps = written_index.writing(written_index.answer(QUESTION, write=False))
    assert next(steps).written is not None
    steps.close()  # what the chat's Stop does to its generator
    sent = server.sent_words
    time.sleep(0.5)
    assert server.sent_words - sent <= 3 and server.sent_words < 100  # the server stopped writing soon after


def test_a_slow_stream_is_stopped_at_the_timeout_keeping_what_was_checked(written_index: Index, server: ScriptedServer) -> None:
    server.streams, server.pace = True, 0.1  # 2.4 s for the whole answer, 2 s allowed (written_index's timeout)
    server.reply = "About 2,000 Russian peacekeepers were deployed [1]. " * 3
    started = time.monotonic()
    written = written_index.answer(QUESTION).written
    assert time.monotonic() - started < 3.5
    assert written is not None and written.text.startswith("About 2,000") and "did not finish within 2 s" in written.note
