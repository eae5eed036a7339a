"""The page as people expect a chat to behave, in headless Debian Chromium: a live library, a clear busy state,
a phone-sized screen, examples that follow the library, no server path in what the page loads.

The app runs with the fake embedder (tests/fake_model.py, starts in seconds) over a copy of seeds/.
"""

from __future__ import annotations

import shutil
import urllib.request

import pytest

from bench.live_app import REPO, running_app, upload

from helpers.browser import ARTIFACTS, CHROMIUM, REPLY, WAIT_MS, headless_chromium, remove_source, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.app]

QUESTION = "How many Russian peacekeepers were deployed?"
NOTES = b"The Tarrow Point lighthouse was first lit in 1874 by its keeper, Edith Marrow.\n"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    if CHROMIUM is None:
        pytest.skip("Debian chromium is not installed (.ci/run installs it with apt)")
    folder = tmp_path_factory.mktemp("page-app")
    seeds = folder / "seeds"
    shutil.copytree(REPO / "seeds", seeds)
    with running_app(folder, seeds, fake=True) as url:
        yield url, folder


@pytest.fixture(scope="module")
def browser(app):
    with headless_chromium() as chromium:
        yield chromium


def open_page(app, browser, width: int = 1400, height: int = 1000):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(app[0])
    page.locator("#question textarea").wait_for()
    return page


@pytest.fixture
def page(app, browser):
    page = open_page(app, browser)
    yield page
    page.context.close()


def test_the_library_shown_is_the_library_on_disk_after_a_reload_and_while_open(app, browser, page) -> None:
    page.get_by_role("tab", name="Library").click()
    assert "harbour-notes.txt" not in page.locator("#sources").inner_text()
    other = open_page(app, browser)  # another tab, in its own browser context
    try:
        other.get_by_role("tab", name="Library").click()
        notes = app[1] / "harbour-notes.txt"
        notes.write_bytes(NOTES)
        other.locator("#upload input[type=file]").set_input_files(str(notes))
        other.locator("#library-status", has_text="Indexed harbour-notes.txt").wait_for()
    finally:
        other.context.close()
    page.locator("#sources", has_text="harbour-notes.txt").wait_for(timeout=15_000)  # the open page catches up
    page.reload()
    page.get_by_role("tab", name="Library").click()
    page.locator("#sources", has_text="harbour-notes.txt").wait_for(timeout=5_000)
    remove_source(page, "harbour-notes.txt (upload)", "harbour-notes.txt")  # removable after a reload
    assert "harbour-notes.txt" not in page.locator("#sources").inner_text()


def test_what_the_page_loads_names_no_server_path(app) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    config = opener.open(app[0] + "config", timeout=30).read().decode("utf-8")
    assert "uploads" in config  # the upload hint is there, in library words
    for path in (app[1], REPO, app[1].resolve()):
        assert str(path) not in config


WATCH_JS = """(question) => {
  window.qaSeen = [];
  new MutationObserver(() => {
    const chat = document.querySelector('#chat');
    if (chat && chat.querySelector('.qa-pending')) window.qaSeen.push({question: chat.innerText.includes(question),
      disabled: document.querySelector('#ask').disabled});
  }).observe(document.body, {subtree: true, childList: true, attributes: true});
}"""


def test_a_question_shows_at_once_ask_waits_and_focus_comes_back(page) -> None:
    before = page.locator(REPLY).count()
    page.evaluate(WATCH_JS, QUESTION)
    page.locator("#question textarea").fill(QUESTION)
    page.evaluate("() => { const ask = document.querySelector('#ask'); ask.click(); ask.click(); ask.click(); }")
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:  # the placeholder lasts as long as the answer takes: a screenshot when it is caught
        page.locator("#chat .qa-pending").wait_for(timeout=2_000)
        page.screenshot(path=str(ARTIFACTS / "browser-busy.png"))
    except PlaywrightTimeout:
        pass
    page.locator(REPLY).nth(before).wait_for()
    page.wait_for_timeout(1500)  # room for any stray reply
    seen = page.evaluate("window.qaSeen")
    assert any(s["question"] and s["disabled"] for s in seen), seen  # the question and a placeholder, Ask disabled
    assert page.locator(REPLY).count() == before + 1 and page.locator("#chat .qa-pending").count() == 0
    assert "Type a question" not in page.locator("#chat").inner_text()  # the extra clicks added nothing
    assert page.locator("#ask").is_enabled()
    assert page.evaluate("document.activeElement === document.querySelector('#question textarea')")


def test_on_a_phone_the_box_takes_the_width_and_a_number_scrolls_to_its_passage(app, browser) -> None:
    page = open_page(app, browser, 400, 800)
    try:
        box = page.locator("#question textarea").bounding_box()
        assert box is not None and box["width"] >= 0.6 * 400  # was 190 px, a wrapped placeholder
        assert "on the right" not in page.locator("body").inner_text()
        page.locator("#question textarea").fill(QUESTION)
        page.locator("#ask").click()
        page.locator("#chat .qa-answer, #chat .qa-abstain").first.wait_for()
        page.evaluate("window.scrollTo(0, 0)")
        page.locator("#chat .qa-cite").first.click()
        page.wait_for_timeout(1500)  # the smooth scroll
        top = page.locator("#passage").bounding_box()
        assert top is not None and 0 <= top["y"] < 800
        screenshot(page, "browser-phone.png")
    finally:
        page.context.close()


def test_examples_follow_the_library_and_a_removed_seed_comes_back(app, page) -> None:
    seed = "azerbaijan-soldiers-killed-nagorno-karabakh.txt"
    upload(app[0], [("second-source.txt", NOTES)])  # the last source cannot be removed
    assert page.locator("#examples").is_visible()
    page.get_by_role("tab", name="Library").click()
    assert not page.locator("#restore-row").is_visible()  # nothing to bring back yet
    remove_source(page, f"{seed} (seed)", seed)
    page.locator("#examples").wait_for(state="hidden")
    page.locator("#restore-row").wait_for(state="visible")
    page.locator("#restore-choice input").click()
    page.get_by_role("option", name=seed, exact=True).click()  # not the remove list's "… (seed)", which may still be open
    page.locator("#restore").click()
    page.locator("#library-status", has_text=f"Indexed {seed}").wait_for()
    page.locator("#examples").wait_for(state="visible")
    assert seed in page.locator("#sources").inner_text()
    page.locator("#restore-row").wait_for(state="hidden")


def test_a_question_is_shown_as_typed_never_as_markdown(page) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    question = "What does ![map](http://127.0.0.1:9/tracker.png) and **this** mean?"
    page.locator("#question textarea").fill(question)
    page.locator("#question textarea").press("Enter")
    page.locator(REPLY).last.wait_for()
    shown = page.locator("#chat .qa-question").last
    assert shown.inner_text() == question
    assert page.locator("#chat img").count() == 0 and page.locator("#chat .qa-question strong").count() == 0
    assert not any("tracker.png" in url for url in requested)


def test_the_conversation_survives_a_reload_until_a_new_one_is_started(page) -> None:
    page.locator("#question textarea").fill(QUESTION)
    page.locator("#question textarea").press("Enter")
    page.locator("#chat .qa-answer").first.wait_for()
    answer = page.locator("#chat .qa-answer").first.inner_text()
    page.wait_for_function("() => (localStorage.getItem('qa-conversation') || '').length > 100")  # kept once answered
    page.reload()
    page.locator("#chat .qa-answer").first.wait_for()
    assert page.locator("#chat .qa-question").first.inner_text() == QUESTION
    assert page.locator("#chat .qa-answer").first.inner_text() == answer
    page.locator("#chat .qa-cite").first.click()  # its sources come back with it
    page.locator("#passage mark").wait_for()
    page.get_by_role("button", name="New conversation").click()
    page.wait_for_timeout(500)
    page.reload()
    page.locator("#question textarea").wait_for()
    page.wait_for_timeout(1500)  # the kept conversation, if any, loads with the page
    assert page.locator("#chat .qa-answer").count() == 0


def test_remove_asks_first_and_no_keeps_the_source(app, page) -> None:
    upload(app[0], [("keep-me.txt", NOTES)])
    page.get_by_role("tab", name="Library").click()
    page.locator("#sources", has_text="keep-me.txt").wait_for()
    page.locator("#remove-choice input").click()
    page.get_by_role("option", name="keep-me.txt (upload)").click()
    asked: list[str] = []

    def say_no(dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", say_no)
    page.locator("#remove").click()
    page.locator("#library-status", has_text="Nothing was removed.").wait_for()
    assert asked == ["Remove keep-me.txt from the library? Its uploaded copy is deleted."]
    assert (app[1] / "data" / "uploads" / "keep-me.txt").exists() and "keep-me.txt" in page.locator("#sources").inner_text()
    remove_source(page, "keep-me.txt (upload)", "keep-me.txt")  # yes removes it
    assert not (app[1] / "data" / "uploads" / "keep-me.txt").exists()
