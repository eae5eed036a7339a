"""Login for a shared app: users hashed at rest, roles, sessions that expire, each client's share of requests, the
refusal to serve beyond this machine with nobody to log in as, and a live app (fake embedder) that refuses an
anonymous client on every route the page uses."""

from __future__ import annotations

import json
import runpy
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.live_app import REPO, Visitor, running_app
from qa.app.access import Access, NotAllowed, RateLimit, TooManyRequests
from qa.app.users import ExpiringTokens, LoginError, Users, add_user

USERS = {"ed": ("editor", "ed-password-1"), "rita": ("reader", "rita-password-1"), "uma": ("editor", "uma-password-1")}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("login-app")
    for name, (role, password) in USERS.items():
        add_user(folder / "users.json", name, role, password)
    with running_app(folder, fake=True, options=("--users", str(folder / "users.json"))) as url:
        yield url


def test_users_are_kept_hashed_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    add_user(path, "ed", "editor", "correct horse")
    add_user(path, "rita", "reader", "battery staple")
    assert "correct horse" not in path.read_text() and "battery" not in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    users = Users.load(path)
    assert users.check("ed", "correct horse") and not users.check("ed", "battery staple")
    assert not users.check("nobody", "correct horse") and not users.check("ed", "")
    assert (users.role("ed"), users.role("rita"), users.role(None)) == ("editor", "reader", None)
    add_user(path, "ed", "reader", "a new password")  # a new password and role for the same user
    again = Users.load(path)
    assert again.check("ed", "a new password") and not again.check("ed", "correct horse") and again.role("ed") == "reader"


def test_a_bad_user_or_users_file_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(LoginError, match="at least 8 characters"):
        add_user(tmp_path / "users.json", "ed", "editor", "short")
    with pytest.raises(LoginError, match="reader, editor"):
        add_user(tmp_path / "users.json", "ed", "admin", "long enough")
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(LoginError, match="--add-user"):
        Users.load(tmp_path / "broken.json")
    assert not Users.load(tmp_path / "missing.json")


def test_a_login_expires() -> None:
    tokens = ExpiringTokens(seconds=0.2)
    tokens["t"] = "ed"
    assert tokens.get("t") == "ed" and "t" in tokens and tokens["t"] == "ed"
    time.sleep(0.3)
    assert tokens.get("t") is None and "t" not in tokens and not tokens


def test_each_client_has_its_share_of_requests() -> None:
    limit = RateLimit(2, "questions")
    limit.take("user:a")
    limit.take("user:a")
    limit.take("user:b")  # another client has its own share
    with pytest.raises(TooManyRequests, match=r"2 a minute\); try again in \d+ s"):
        limit.take("user:a")


def test_readers_ask_and_editors_change_the_library(tmp_path: Path) -> None:
    for name, (role, password) in USERS.items():
        add_user(tmp_path / "users.json", name, role, password)
    access = Access(Users.load(tmp_path / "users.json"), limited=True)
    reader, editor = type("R", (), {"username": "rita"})(), type("R", (), {"username": "ed"})()
    with pytest.raises(NotAllowed, match="--role editor"):
        access.change(reader)
    access.change(editor)
    access.ask(reader)
    nobody = type("R", (), {"username": None, "client": None})()
    here = Access()  # no login (this machine only): anyone, as often as they like
    for _ in range(100):
        here.ask(nobody)
        here.change(nobody)


def test_the_app_will_not_serve_the_network_with_nobody_to_log_in_as(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    main = runpy.run_path(str(REPO / "app.py"))["main"]
    assert main(["--host", "0.0.0.0", "--data", str(tmp_path), "--seeds", str(tmp_path)]) == 2
    assert "python app.py --add-user NAME --role editor" in capsys.readouterr().err


def test_an_anonymous_client_is_refused_on_every_route_the_page_uses(app: str) -> None:
    stranger = Visitor(app)
    http = stranger.http
    assert http.get("/config").status_code == 401
    assert http.get("/gradio_api/info").status_code == 401
    assert http.post("/gradio_api/upload", files={"files": ("x.md", b"# x", "text/markdown")}).status_code == 401
    for fn_index in range(30):  # every event, by number
        joined = http.post("/gradio_api/queue/join", json={"data": [], "fn_index": fn_index, "session_hash": "s"})
        assert joined.status_code == 401, fn_index
    assert http.post("/gradio_api/call/ask", json={"data": ["q", []]}).status_code == 401
    assert http.post("/gradio_api/call/retrieve", json={"data": ["q", 1000]}).status_code == 401
    assert http.post("/gradio_api/run/retrieve", json={"data": ["q", 1000]}).status_code == 401
    assert http.get(f"/gradio_api/file={REPO / 'seeds'}").status_code == 401
    assert http.get("/monitoring").status_code in (401, 403, 404)
    assert stranger.login("ed", "not the password") == 400
    assert http.get("/config").status_code == 401


def test_a_reader_asks_but_only_an_editor_changes_the_library(app: str) -> None:
    reader, editor = Visitor(app), Visitor(app)
    assert reader.login("rita", USERS["rita"][1]) == 200 and editor.login("ed", USERS["ed"][1]) == 200
    assert reader.ask("How many Russian peacekeepers were deployed?")["citations"]
    config = reader.http.get("/config").json()
    assert reader.http.post("/gradio_api/upload", files={"files": ("n.md", b"# n", "text/markdown")}).status_code == 403
    # the editor's file in the reader's upload event: the event itself refuses too
    refused = reader.event("upload", "upload", [editor.upload("notes.md", "# Notes\n\nThe lighthouse keeper is Ada.\n")], config)
    assert "may ask but not change the library" in json.dumps(refused["output"])
    refused = reader.event("remove", "click", ["seed:" + next(p.name for p in sorted((REPO / "seeds").glob("*.txt"))), True], config)
    assert "may ask but not change the library" in json.dumps(refused["output"])
    from gradio_client import Client

    client = Client(app, auth=("rita", USERS["rita"][1]), verbose=False)  # as the README shows
    assert client.predict("How many Russian peacekeepers were deployed?", [], api_name="/ask")["citations"]
    added = editor.event("upload", "upload", [editor.upload("notes.md", "# Notes\n\nThe lighthouse keeper is Ada.\n")], config)
    assert "Indexed notes.md" in json.dumps(added["output"])


def test_in_the_browser_a_reader_logs_in_asks_and_sees_no_upload_or_removal(app: str) -> None:
    from helpers.browser import CHROMIUM, headless_chromium, screenshot

    if CHROMIUM is None:
        pytest.skip("Debian chromium is not installed (.ci/run installs it with apt)")
    with headless_chromium() as chromium:
        page = chromium.new_context(viewport={"width": 1200, "height": 900}).new_page()
        page.set_default_timeout(60_000)
        page.goto(app)
        page.get_by_label("username").fill("rita")
        page.get_by_label("password").fill("wrong password")
        page.get_by_role("button", name="Login").click()
        page.get_by_text("Incorrect Credentials").wait_for()
        page.get_by_label("username").fill("rita")  # the form is cleared after a wrong password
        page.get_by_label("password").fill(USERS["rita"][1])
        screenshot(page, "browser-login.png")
        page.get_by_role("button", name="Login").click()
        page.locator("#question textarea").fill("How many Russian peacekeepers were deployed?")
        page.locator("#question textarea").press("Enter")
        page.locator("#chat .qa-answer, #chat .qa-abstain").first.wait_for()
        page.get_by_role("tab", name="Library").click()
        page.locator("#library-status", has_text="rita may ask; an editor adds and removes documents").wait_for()
        assert page.locator("#sources").is_visible()
        assert not page.locator("#upload").is_visible() and not page.locator("#remove").is_visible()
        screenshot(page, "browser-reader-refused.png")


@pytest.fixture(scope="module")
def open_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An app on this machine only, with no login (as `make run` serves it)."""
    with running_app(tmp_path_factory.mktemp("open-app"), fake=True) as url:
        yield url


def test_requests_are_bounded_before_gradio_reads_them(app: str, open_app: str) -> None:
    reader, stranger = Visitor(app), Visitor(app)
    assert reader.login("rita", USERS["rita"][1]) == 200
    history = [["q", "a" * 10]] * 200_000  # about 3 MB: refused before it is read
    for client in (reader.http, stranger.http, Visitor(open_app).http):
        too_big = client.post("/gradio_api/call/ask", json={"data": ["How many?", history]})
        assert too_big.status_code == 413 and "at most" in too_big.json()["error"]
    assert reader.http.post("/gradio_api/upload", files={"files": ("x.md", b"# x", "text/markdown")}).status_code == 403
    assert stranger.http.post("/gradio_api/upload", files={"files": ("x.md", b"# x", "text/markdown")}).status_code == 401
    uploader = Visitor(app)
    assert uploader.login("uma", USERS["uma"][1]) == 200
    codes = [uploader.http.post("/gradio_api/upload", files={"files": (f"x{i}.md", b"# x", "text/markdown")}).status_code
             for i in range(22)]
    assert codes[:20] == [200] * 20 and codes[20:] == [429, 429]
    assert "try again in" in uploader.http.post("/gradio_api/upload", files={"files": ("y.md", b"#", "text/md")}).json()["error"]
    assert reader.ask("How many Russian peacekeepers were deployed?")["citations"]  # the others go on
    here = Visitor(open_app).http  # on this machine with no login: one person, no share to keep to
    assert all(here.post("/gradio_api/upload", files={"files": (f"z{i}.md", b"# z", "text/markdown")}).status_code == 200
               for i in range(22))


def test_the_page_keeps_only_its_last_turns() -> None:
    from qa.app.webapp import recent

    chat, turns = [], []
    for n in range(5):
        chat += [{"role": "user", "content": f"q{n}"}, {"role": "assistant", "content": f"a{n}"}]
        turns.append({"question": f"q{n}"})
    kept_chat, kept_turns = recent(chat, turns, kept=2)
    assert [m["content"] for m in kept_chat] == ["q3", "a3", "q4", "a4"] and kept_turns == turns[3:]
    assert recent(chat, turns, kept=9) == (chat, turns)
