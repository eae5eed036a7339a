"""The answer in words in the real page (headless Debian Chromium): written above its quotes once checked, and the
quotes alone with one line why when the model server fails.

The app runs with the fake embedder (tests/fake_model.py) over a copy of seeds/, pointed at a scripted
OpenAI-compatible server (tests/helpers/llm.py) as it would be at Ollama or llama.cpp's server.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from bench.live_app import REPO, running_app

from helpers.browser import CHROMIUM, REPLY, WAIT_MS, headless_chromium, screenshot
from helpers.llm import ScriptedServer

pytestmark = [pytest.mark.browser, pytest.mark.app]

QUESTION = "How many Russian peacekeepers were deployed?"
WORDS = "About 2,000 Russian peacekeepers were deployed [1]."


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    yield scripted
    scripted.close()


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory, server: ScriptedServer) -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("Debian chromium is not installed (.ci/run installs it with apt)")
    folder = tmp_path_factory.mktemp("written-app")
    shutil.copytree(REPO / "seeds", folder / "seeds")
    options = ("--llm-url", server.url, "--llm-model", "scripted-1")
    with running_app(folder, folder / "seeds", fake=True, options=options) as url, headless_chromium() as chromium:
        page = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(url)
        page.locator("#question textarea").wait_for()
        yield page


def ask(page: Any, question: str) -> Any:
    """Ask, and wait until the answer's message is final: the written part (or its note) is in."""
    before = page.locator(REPLY).count()
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    answer = page.locator(REPLY).nth(before)
    answer.locator(":is(.qa-written, .qa-written-note)").wait_for()
    return answer


def test_the_checked_words_show_above_the_quotes(page: Any, server: ScriptedServer) -> None:
    server.reply = WORDS
    answer = ask(page, QUESTION)
    written, quote = answer.locator(".qa-written"), answer.locator(".qa-quote").first
    assert WORDS.replace(" [1]", "") in written.inner_text().replace(" [1]", "")
    assert "Written by scripted-1" in written.inner_text()
    assert written.bounding_box()["y"] < quote.bounding_box()["y"]  # above the quotes it was written from
    screenshot(page, "written-answer.png")


def test_a_failing_server_leaves_the_quotes_and_says_why(page: Any, server: ScriptedServer) -> None:
    server.status = 500
    answer = ask(page, "Who brokered the cease-fire?")
    assert "answered HTTP 500" in answer.locator(".qa-written-note").inner_text()
    assert answer.locator(".qa-quote").count() >= 1 and answer.locator(".qa-written").count() == 0
    screenshot(page, "written-answer-server-error.png")


def test_the_words_come_sentence_by_sentence_and_stop_keeps_what_was_checked(page: Any, server: ScriptedServer) -> None:
    server.status, server.streams, server.pace = 200, True, 0.15
    server.reply = " ".join(["About 2,000 Russian peacekeepers were deployed [1]."] * 40)
    before = page.locator(REPLY).count()
    page.locator("#question textarea").fill(QUESTION)
    page.locator("#ask").click()
    answer = page.locator(REPLY).nth(before)
    answer.locator(".qa-writing").wait_for()
    answer.locator(".qa-written p", has_text="peacekeepers").first.wait_for()  # a first checked sentence, still writing
    assert page.locator("#stop").is_visible() and page.locator("#ask").is_disabled()
    screenshot(page, "written-answer-streaming.png")
    page.locator("#stop").click()
    answer.locator(".qa-written-by", has_text="Stopped: the rest was not written.").wait_for()
    page.wait_for_timeout(1500)
    sent = server.sent_words
    page.wait_for_timeout(1500)  # 10 more words if it still wrote
    assert server.sent_words == sent < len(server.reply.split())  # the request to the model ended too
    assert answer.locator(".qa-writing").count() == 0 and answer.locator(".qa-quote").count() >= 1
    assert answer.inner_text().startswith("About 2,000") and "'type'" not in answer.inner_text()  # the message as it was
    assert page.locator("#ask").is_enabled() and not page.locator("#stop").is_visible()
    screenshot(page, "written-answer-stopped.png")
    server.streams = False


def test_a_stream_cut_short_keeps_the_checked_words_and_says_so(page: Any, server: ScriptedServer) -> None:
    server.status, server.streams, server.pace, server.cut_after = 200, True, 0.0, 12
    server.reply = f"{WORDS} The peacekeepers were deployed in November [1]."
    answer = ask_final(page, "Who brokered the cease-fire?")
    assert "stopped before the answer was finished" in answer.locator(".qa-written-by").inner_text()
    assert "About 2,000" in answer.locator(".qa-written p").first.inner_text()
    server.streams, server.cut_after = False, -1


def ask_final(page: Any, question: str) -> Any:
    """Ask, and wait until the model has finished writing."""
    answer = ask(page, question)
    page.locator("#stop").wait_for(state="hidden")
    return answer
