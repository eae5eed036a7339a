"""Headless Debian Chromium for the browser tests (Playwright, never a downloaded browser): launching it, what a
reply of the bot looks like, removing a source through the page, screenshots under artifacts/ (not committed)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from helpers import REPO

CHROMIUM = shutil.which("chromium")
ARTIFACTS = REPO / "artifacts"
WAIT_MS = 120_000  # an answer takes a second; a busy CI machine gets room
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
REPLY = "#chat :is(.qa-answer, .qa-abstain, .qa-info, .qa-error)"  # every reply of the bot is one of these


@contextmanager
def headless_chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def remove_source(page: Any, option: str, name: str) -> None:
    """Remove a source through the Library tab (``option``: its entry in the chooser) and wait for the notice."""
    page.get_by_role("tab", name="Library").click()
    page.locator("#remove-choice input").click()
    page.get_by_role("option", name=option).click()
    page.once("dialog", lambda dialog: dialog.accept())  # "Remove … from the library?"
    page.locator("#remove").click()
    page.locator("#library-status", has_text=f"Removed {name}").wait_for()


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(500)  # let the outputs of the last event finish fading in
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
