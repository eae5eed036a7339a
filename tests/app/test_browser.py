"""End to end in headless Debian Chromium (Playwright, no browser download): ask, read quotes and passages, upload.

Screenshots are saved under artifacts/ (not committed).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.live_app import running_app

from helpers import FIXTURES
from helpers.browser import CHROMIUM, REPLY, WAIT_MS, headless_chromium, remove_source, screenshot
from helpers.documents import GUIDE

pytestmark = [pytest.mark.browser, pytest.mark.app, pytest.mark.model]

LIGHTHOUSE = (
    "# Tarrow Point\n\nThe Tarrow Point lighthouse stands on a granite ledge north of the harbour.\n\n"
    "The lighthouse was first lit in 1874 by its keeper, Edith Marrow, who kept it for forty years.\n"
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    if CHROMIUM is None:
        pytest.skip("Debian chromium is not installed (.ci/run installs it with apt)")
    folder = tmp_path_factory.mktemp("browser-app")
    with running_app(folder) as url:
        yield url, folder


@pytest.fixture(scope="module")
def browser(app):
    with headless_chromium() as chromium:
        yield chromium


@pytest.fixture
def page(app, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(app[0])
    page.locator("#question textarea").wait_for()
    yield page
    context.close()


def ask(page, question: str) -> None:
    before = page.locator(REPLY).count()
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    page.locator(REPLY).nth(before).wait_for()


def test_answer_shows_quote_citation_and_highlighted_passage(page, seed_text: str) -> None:
    ask(page, "How many Russian peacekeepers were deployed?")
    quote = "The sides agreed to a Russian-brokered cease-fire in early November"
    answer = page.locator("#chat .qa-answer").last
    assert quote in answer.inner_text()
    assert answer.locator(".qa-cite").first.inner_text() == "[1]"
    assert answer.locator(".qa-span").first.inner_text() == "2,000"
    card = page.locator("#passage .qa-card")
    assert card.locator(".qa-badge").inner_text() == "[1]"
    assert card.locator(".qa-source").inner_text() == "azerbaijan-soldiers-killed-nagorno-karabakh.txt"
    line = seed_text.count("\n", 0, seed_text.index(quote)) + 1
    assert f"line {line}" in card.locator(".qa-where").inner_text()
    assert card.locator("mark").inner_text().startswith(quote)
    assert "skirmished regularly" in card.locator(".qa-passage").inner_text()  # the passage around it
    assert card.locator("mark strong").inner_text() == "2,000"
    screenshot(page, "browser-answer.png")


def test_an_example_question_is_asked_by_clicking_it_and_its_numbers_show_their_passages(page) -> None:
    page.locator("#examples").get_by_text("What total military death toll did Azerbaijan report?").click()
    page.locator(REPLY).first.wait_for()
    assert "What total military death toll did Azerbaijan report?" in page.locator("#chat").inner_text()
    quotes = page.locator("#chat .qa-answer").last.locator(".qa-quote")
    n = quotes.count()  # the reader quotes one sentence, or more when they add to the answer
    assert n >= 1
    page.locator("#citations label").nth(n - 1).click()  # the chooser shows the answer's citations
    page.locator("#passage .qa-badge", has_text=f"[{n}]").wait_for()
    assert page.locator("#passage mark").inner_text() in quotes.nth(n - 1).inner_text()
    page.locator("#chat .qa-answer").last.locator(".qa-cite").first.click()  # [1] in the chat
    page.locator("#passage .qa-badge", has_text="[1]").wait_for()


def test_abstention_empty_question_and_long_question_are_told_apart(page) -> None:
    ask(page, "   ")
    assert "Type a question about your sources" in page.locator(REPLY).last.inner_text()
    ask(page, "Who won the 2018 football World Cup?")
    abstain = page.locator("#chat .qa-abstain").last
    assert "Not found in the sources" in abstain.inner_text()
    assert "not an answer" in abstain.inner_text()
    assert "qa-answer" not in page.locator(REPLY).last.get_attribute("class")
    assert "closest passage, not an answer" in page.locator("#passage .qa-card").inner_text()
    screenshot(page, "browser-abstention.png")
    ask(page, "peacekeepers " * 400)
    assert "only its first 2,000 characters were used" in page.locator("#chat .qa-notice").last.inner_text()


def test_upload_is_indexed_answerable_at_once_and_removable(page, app, tmp_path: Path) -> None:
    folder = app[1]
    upload = tmp_path / "lighthouse.md"
    upload.write_text(LIGHTHOUSE, encoding="utf-8")
    page.get_by_role("tab", name="Library").click()
    page.locator("#upload input[type=file]").set_input_files(str(upload))
    page.locator("#library-status", has_text="Indexed lighthouse.md").wait_for()
    assert "lighthouse.md" in page.locator("#sources").inner_text()
    assert (folder / "data" / "uploads" / "lighthouse.md").read_text(encoding="utf-8") == LIGHTHOUSE
    assert not list((folder / "data" / "tmp").rglob("lighthouse.md"))  # the upload's temp copy is gone

    ask(page, "Who first lit the Tarrow Point lighthouse?")
    assert "Edith Marrow" in page.locator("#chat .qa-answer").last.inner_text()
    page.get_by_role("tab", name="Sources of this answer").click()
    assert page.locator("#passage .qa-source").inner_text() == "lighthouse.md"
    screenshot(page, "browser-upload.png")

    remove_source(page, "lighthouse.md (upload)", "lighthouse.md")
    assert "lighthouse.md" not in page.locator("#sources").inner_text()
    assert not (folder / "data" / "uploads" / "lighthouse.md").exists()


def test_copy_gives_the_answer_as_plain_text(page, app) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app[0].rstrip("/"))
    ask(page, "How many Russian peacekeepers were deployed?")
    answer = page.locator("#chat .qa-answer").last
    answer.locator(".qa-copy").click()
    answer.locator(".qa-copy", has_text="Copied").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    quote = answer.locator(".qa-quote").first.inner_text()
    assert copied.startswith(quote)  # “…” [1], as qa ask prints it
    assert "\n\nSources:\n[1] azerbaijan-soldiers-killed-nagorno-karabakh.txt, line " in copied and ", chars " in copied
    assert "<" not in copied and "&#x27;" not in copied and "qa-" not in copied
    screenshot(page, "browser-copy.png")


def test_tab_reaches_a_citation_and_enter_opens_its_passage(page) -> None:
    ask(page, "How many Russian peacekeepers were deployed?")
    ask(page, "What total military death toll did Azerbaijan report?")  # its passage is now on show
    first = page.locator("#chat .qa-answer").first
    quote = first.locator(".qa-quote").first.inner_text()
    assert not quote.startswith("“" + page.locator("#passage mark").inner_text())
    cite = first.get_by_role("button", name="Show passage 1")
    assert first.get_attribute("aria-label") == "Answer" and first.get_attribute("role") == "group"
    page.mouse.click(5, 5)  # Tab starts from the top of the page
    for _ in range(60):
        page.keyboard.press("Tab")
        if cite.evaluate("button => button === document.activeElement"):
            break
    else:
        raise AssertionError("Tab never reached the first answer's [1]")
    page.keyboard.press("Enter")
    page.locator("#passage mark").filter(has_text="Russian peacekeeping forces").wait_for()
    assert quote.startswith("“" + page.locator("#passage mark").inner_text())
    assert page.locator("#passage .qa-card").get_attribute("aria-label").startswith("Passage 1: azerbaijan")


def test_a_markdown_sources_quote_shows_no_markup(page) -> None:
    page.get_by_role("tab", name="Library").click()
    page.locator("#upload input[type=file]").set_input_files(str(FIXTURES / "dns-notes.md"))
    page.locator("#library-status", has_text="Indexed dns-notes.md").wait_for()
    ask(page, "Which module enables name resolution?")
    answer = page.locator("#chat .qa-answer").last
    assert "The node:dns module enables name resolution." in answer.inner_text()
    page.get_by_role("tab", name="Sources of this answer").click()
    passage = page.locator("#passage .qa-passage")
    assert "The node:dns module enables name resolution." in page.locator("#passage mark").inner_text()
    assert "named for the Domain Name System (DNS), it does not always use" in passage.inner_text()
    assert "`" not in answer.inner_text() + passage.inner_text() and "](" not in passage.inner_text()
    screenshot(page, "browser-markdown.png")
    remove_source(page, "dns-notes.md (upload)", "dns-notes.md")


def long_notes(paragraphs: int = 150) -> str:
    """A Markdown file of many distinct sentences: its embedding takes seconds, so its progress shows."""
    words = ["harbour", "keeper", "ledge", "storm", "beacon", "granite", "tide", "lantern", "pier", "fog"]
    return "# Notes\n\n" + "\n\n".join(
        f"The {words[i % 10]} log of year {1800 + i} records {i * 7 % 97} ships. "
        f"Its {words[(i * 3) % 10]} entry names {words[(i * 7) % 10]} number {i}. "
        f"A {words[(i * 9) % 10]} was seen on day {i % 28 + 1}." for i in range(paragraphs)) + "\n"


def test_an_upload_shows_its_progress_in_words_laid_out_cleanly(page, tmp_path: Path) -> None:
    notes = tmp_path / "harbour-log.md"
    notes.write_text(long_notes(), encoding="utf-8")
    page.get_by_role("tab", name="Library").click()
    page.locator("#upload input[type=file]").set_input_files(str(notes))
    # one snapshot in the page at the moment embedding shows (separate calls could straddle its end on a fast machine)
    seen = page.wait_for_function("""() => {
        const root = document.querySelector('#library-status');
        const level = root && root.querySelector('.progress-level');
        const pending = root && root.querySelector('.html-container.pending');  // the status Gradio marks while busy
        if (!level || !level.textContent.includes('Embedding passages') || !pending) return null;
        const box = e => { const r = e.getBoundingClientRect(); return {y: r.y, height: r.height}; };
        const text = root.querySelector('.progress-text'), bar = root.querySelector('.progress-bar-wrap');
        return {text: text.innerText, bar: box(bar), counter: box(text),
                visibility: getComputedStyle(pending).visibility};
    }""", polling="raf").json_value()
    bar, counter = seen["bar"], seen["counter"]
    assert "texts" in seen["text"] and "batch" not in seen["text"]
    assert counter["y"] >= bar["y"] + bar["height"] or counter["y"] + counter["height"] <= bar["y"]
    assert seen["visibility"] == "hidden"
    screenshot(page, "browser-progress.png")
    page.locator("#library-status", has_text="You can ask about it now").wait_for()
    from playwright.sync_api import expect

    # as shown on screen (innerText), which can lag the DOM while the progress fades out
    expect(page.locator("#library-status")).to_contain_text("passages in", use_inner_text=True)
    remove_source(page, "harbour-log.md (upload)", "harbour-log.md")


def test_a_command_is_quoted_after_the_sentence_that_introduces_it_and_shown_as_code(page, tmp_path: Path) -> None:
    guide = tmp_path / "search-guide.md"
    guide.write_text(GUIDE, encoding="utf-8")
    page.get_by_role("tab", name="Library").click()
    page.locator("#upload input[type=file]").set_input_files(str(guide))
    page.locator("#library-status", has_text="Indexed search-guide.md").wait_for()
    ask(page, "What command searches for all occurrences of the word fast in README.md?")
    answer = page.locator("#chat .qa-answer").last
    code = answer.locator("pre.qa-code")
    assert code.count() == 1 and code.inner_text().startswith("$ rg fast README.md\n75:")
    assert code.evaluate("el => getComputedStyle(el).fontFamily").lower().find("mono") >= 0
    screenshot(page, "browser-code.png")
    remove_source(page, "search-guide.md (upload)", "search-guide.md")
