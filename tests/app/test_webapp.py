"""The page's handlers with a stub service: errors become chat messages, turns line up with answers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from qa import Answer, Citation, QAError
from qa.app import Change, Library
from qa.errors import IndexLockedError

gr = pytest.importorskip("gradio")
webapp = pytest.importorskip("qa.app.webapp")
endpoints = pytest.importorskip("qa.app.endpoints")
librarytab = pytest.importorskip("qa.app.librarytab")

pytestmark = pytest.mark.app

TEXT = "First sentence here. The fleet had 12 ships. Last one."
QUOTE = "The fleet had 12 ships."


class StubIndex:
    class settings:  # lower case: mimics Index.settings
        max_question_chars = 2000


class StubService:
    """Answers from a script: an Answer, or an exception to raise."""

    def __init__(self, outcome: Answer | Exception, tmp_path: Path) -> None:
        self.outcome = outcome
        self.index = StubIndex()
        self.library = Library(tmp_path / "seeds", tmp_path / "data")
        self.asked: list[tuple[str, list]] = []

    def ask(self, question: str, history=None, write: bool = True) -> Answer:
        self.asked.append((question, list(history or [])))
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome

    def writes(self, answer: Answer) -> bool:
        return False  # no model configured to write answers in words

    def add(self, files, *, progress=False) -> Change:
        raise IndexLockedError("Another process is writing the index in index. Wait for it to finish, then try again.")

    def sources(self) -> list:
        return []


def respond(service, question: str, chat: list[dict], turns: list) -> tuple:
    """The page after one question (the last step of ``ask_turn``), without its buttons."""
    *_, last = webapp.ask_turn(service, question, chat, turns)
    return tuple(last[:-2])


def reply() -> Answer:
    start = TEXT.index(QUOTE)
    citation = Citation(1, "fleet.txt", "/d/fleet.txt", start, start + len(QUOTE), QUOTE, 1.5, None, 1, 0, len(TEXT),
                        passage=TEXT)
    return Answer("How many ships?", True, f"“{QUOTE}” [1]", (citation,))


def test_an_answer_adds_the_question_the_quotes_and_its_sources(tmp_path) -> None:
    service = StubService(reply(), tmp_path)
    box, chat, turns, shown, chooser, panel = respond(service, "  How many ships? ", [], [])
    assert box == ""
    assert [m["role"] for m in chat] == ["user", "assistant"]
    assert "qa-answer" in chat[1]["content"] and "[1]" in chat[1]["content"]
    assert turns == [shown] and shown["text"] == f"“{QUOTE}” [1]"
    assert chooser["choices"] == [("[1] fleet.txt, line 1", 1)] and chooser["value"] == 1
    assert f"<mark>{QUOTE}</mark>" in panel
    respond(service, "And the boats?", chat, turns)
    assert service.asked[1] == ("And the boats?", [("How many ships?", f"“{QUOTE}” [1]")])  # the conversation


def test_an_empty_question_gets_a_prompt_and_asks_nothing(tmp_path) -> None:
    service = StubService(reply(), tmp_path)
    _, chat, turns, _, chooser, _ = respond(service, "   ", [], [])
    assert [m["role"] for m in chat] == ["assistant"]
    assert "Type a question about your sources" in chat[0]["content"]
    assert service.asked == [] and turns == [{"question": ""}] and chooser["visible"] is False


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (QAError("The index in index names a missing folder."), "names a missing folder"),
        (RuntimeError("boom at line 3"), "Something went wrong while answering"),
    ],
)
def test_errors_become_chat_messages_never_tracebacks(tmp_path, error: Exception, shown: str) -> None:
    _, chat, turns, _, _, panel = respond(StubService(error, tmp_path), "How many ships?", [], [])
    message = chat[-1]["content"]
    assert 'class="qa-error"' in message and shown in message
    assert "Traceback" not in message and "boom" not in message
    assert len(turns) == 1 and "qa-empty" in panel


def test_clicking_an_earlier_answer_or_its_number_shows_its_sources(tmp_path) -> None:
    service = StubService(reply(), tmp_path)
    _, chat, turns, *_ = respond(service, "   ", [], [])
    _, chat, turns, *_ = respond(service, "How many ships?", chat, turns)
    event = gr.SelectData(None, {"index": 2, "value": chat[2]["content"]})
    shown, chooser, panel = webapp.select_turn(chat, turns, 1.0, event)
    assert shown is turns[1] and chooser["value"] == 1 and "<mark>" in panel
    shown, chooser, panel = webapp.select_turn(chat, turns, None, gr.SelectData(None, {"index": 0, "value": ""}))
    assert shown == {"question": ""} and chooser["visible"] is False


def test_a_locked_index_is_a_friendly_upload_message_and_the_temp_file_goes(tmp_path) -> None:
    upload = tmp_path / "data" / "tmp" / "0123abcd" / "notes.md"  # where Gradio stores it (Library.incoming)
    upload.parent.mkdir(parents=True)
    upload.write_text("Notes.", encoding="utf-8")
    cleared, status, table, *_ = librarytab.add_files(StubService(reply(), tmp_path), [str(upload)], lambda *a, **k: None)
    assert cleared is None and 'class="qa-error"' in status and "Another process is writing the index" in status
    assert not upload.exists()
    assert "No sources yet" in table


def test_api_data_never_has_a_path_key_or_a_server_path() -> None:
    shown = {"/srv/qa/seeds/notes/fleet.txt": "notes/fleet.txt"}
    data = endpoints.client_safe({"path": "/srv/qa/seeds/notes/fleet.txt", "source": "fleet.txt"}, shown)
    assert data == {"file_path": "notes/fleet.txt", "source": "fleet.txt"}
    assert endpoints.client_safe({"path": "/srv/gone/old.txt"}, shown) == {"file_path": "old.txt"}


def test_a_lone_surrogate_from_the_page_gets_the_libraries_message_and_a_reply_the_page_can_carry(tmp_path) -> None:
    import orjson

    from qa.retrieval.questions import check_question

    class Checking(StubService):
        def ask(self, question: str, history=None, write: bool = True) -> Answer:
            check_question(question, 2000)  # what Index.answer does first
            return reply()

    outputs = respond(Checking(reply(), tmp_path), "Who \ud800 brokered it?", [], [])
    chat = outputs[1]
    assert "not valid text" in chat[-1]["content"] and "Who ? brokered it?" in chat[0]["content"]
    orjson.dumps(outputs[:3])  # Gradio sends these with orjson, which refuses lone surrogates


def test_the_question_shows_with_a_placeholder_and_ask_disabled_before_the_answer(tmp_path) -> None:
    service = StubService(reply(), tmp_path)
    steps = webapp.ask_turn(service, "How many ships?", [], [])
    box, chat, turns, *_, send, stop = next(steps)
    assert box == "" and [m["role"] for m in chat] == ["user", "assistant"] and "qa-pending" in chat[1]["content"]
    assert turns == [] and send["interactive"] is False and service.asked == []  # shown before it is asked
    box, chat, turns, *_, send, stop = next(steps)
    assert next(steps, None) is None and stop["visible"] is False
    assert "qa-answer" in chat[1]["content"] and len(chat) == 2 and len(turns) == 1 and send["interactive"] is True
    steps = list(webapp.ask_turn(service, "  ", chat, turns))  # an empty question: the prompt only, no placeholder
    assert len(steps) == 1 and "Type a question" in steps[0][1][-1]["content"]


def test_the_conversation_the_browser_keeps_round_trips_as_json_and_bad_shapes_start_anew() -> None:
    import json

    chat = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    turns = [{"question": "q", "text": "a", "labels": [("[1] fleet.txt, line 2", 1)], "panels": {1: "<p>passage</p>"}}]
    kept = json.loads(json.dumps(webapp.keep(chat, turns)))  # what the browser stores and sends back
    assert webapp.restore(kept) == (chat, turns)
    bad: object
    for bad in (None, [], {"chat": "x", "turns": []}, {"chat": [], "turns": [{"panels": {"one": "x"}}]}, {"turns": 5}):
        assert webapp.restore(bad) == ([], [])


def test_with_a_model_the_quotes_show_first_then_the_checked_words_above_them_as_they_come(tmp_path) -> None:
    from qa.types import SentenceCheck, Written

    first, second = "The fleet had 12 ships [1].", "It had 12 [1]."
    checks = (SentenceCheck(first, (1,), (), True), SentenceCheck(second, (1,), (), True))

    class Writing(StubService):
        def writes(self, answer: Answer) -> bool:
            return answer.written is None

        def writing(self, answer: Answer):
            yield replace(answer, written=Written(first, "scripted-1", checks[:1], finished=False))
            yield replace(answer, written=Written(f"{first} {second}", "scripted-1", checks))

    service = Writing(reply(), tmp_path)
    _, quotes, partly, written = webapp.ask_turn(service, "How many ships?", [], [])
    assert quotes[-2]["interactive"] is False and quotes[-1]["visible"] is True  # Ask off, Stop on, while it writes
    assert QUOTE in quotes[1][-1]["content"] and "qa-written" not in quotes[1][-1]["content"]
    assert "12 ships" in partly[1][-1]["content"] and "is writing" in partly[1][-1]["content"]
    assert "still writing" in partly[1][-1]["content"] and "still writing" not in written[1][-1]["content"]  # Copy
    assert partly[-1]["visible"] is True
    shown = written[1][-1]["content"]
    assert written[-2]["interactive"] is True and written[-1]["visible"] is False and len(written[1]) == 2
    assert shown.index("qa-written") < shown.index("qa-quote") and "Written by scripted-1" in shown
    assert "It had 12" in shown and "is writing" not in shown
    assert 'class="qa-cite"' in shown.split("qa-quote")[0]  # its [1] opens the passage like the quote's own
    assert [t["text"] for t in written[2]] == [reply().text] and service.asked == [("How many ships?", [])]
    chat, send, stop = webapp.stop_writing(partly[1])  # Stop while it wrote: the checked words stay, marked stopped
    assert "12 ships" in chat[-1]["content"] and "Stopped: the rest was not written." in chat[-1]["content"]
    assert "is writing" not in chat[-1]["content"] and send["interactive"] is True and stop["visible"] is False
