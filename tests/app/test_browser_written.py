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
