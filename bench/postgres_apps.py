"""Two app processes (``python app.py --store URL``) on one PostgreSQL database and one data folder: 20 clients x 25
questions across both, an upload through one app's page (headless Chromium), then the uploaded file's question
asked of the other app. Part of ``bench/postgres.py``, which starts the server and gives this a fresh schema."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .common import REPO, Config, Section, Table, check_at_least, check_at_most, p50_p95

CLIENTS, QUESTIONS_EACH = 20, 25
UPLOAD = ("tarrow-point.md", "# Tarrow Point\n\nThe Tarrow Point lighthouse was first lit in 1874 by its keeper, Edith Marrow.\n")
UPLOAD_QUESTION = "Who first lit the Tarrow Point lighthouse?"
APP_QUESTIONS = [
    "What total military death toll did Azerbaijan report?", "How many Russian peacekeepers were deployed?",
    "Who brokered the cease-fire?", "When did the fighting formally end?", "How many Karabakh fighters were wounded?",
    "What did Armenia's Foreign Ministry accuse Azerbaijan of?", "Who won the 2018 FIFA World Cup?",
]


def start_app(store: str, data: Path, port: int, log: Path) -> subprocess.Popen:
    command = [sys.executable, "app.py", "--port", str(port), "--store", store, "--seeds", str(REPO / "seeds"), "--data", str(data)]
    with open(log, "wb") as output:
        return subprocess.Popen(command, cwd=REPO, stdout=output, stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1"})


def connect_client(port: int, app: subprocess.Popen, log: Path, timeout: float = 300) -> Any:
    from gradio_client import Client

    deadline = time.monotonic() + timeout
    while True:
        if app.poll() is not None:
            raise RuntimeError(f"app.py exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            return Client(f"http://127.0.0.1:{port}/", verbose=False)
        except Exception:  # not listening yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def upload_through_page(port: int, file: Path) -> float:
    """Upload ``file`` on the app's Library tab in headless Chromium; seconds until the page says it is indexed."""
    import shutil

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.set_default_timeout(120_000)
        page.goto(f"http://127.0.0.1:{port}/")
        page.get_by_role("tab", name="Library").click()
        start = time.perf_counter()
        page.locator("#upload input[type=file]").set_input_files(str(file))
        page.locator("#library-status", has_text=f"Indexed {file.name}").wait_for()
        browser.close()
        return time.perf_counter() - start


def apps(config: Config, store: str, section: Section) -> None:
    """Two app processes, one database, one data folder: load from 20 clients, and an upload seen across processes."""
    from .coldstart import free_port

    scratch = config.scratch("postgres-apps")
    subprocess.run([sys.executable, "-m", "qa.cli", "index", str(REPO / "seeds"), "--store", store], cwd=REPO, check=True,
                   capture_output=True)
    ports = [free_port(), free_port()]
    processes = [start_app(store, scratch / "data", port, scratch / f"app-{n}.log") for n, port in enumerate(ports)]
    try:
        for n, (port, process) in enumerate(zip(ports, processes, strict=True)):
            connect_client(port, process, scratch / f"app-{n}.log").predict(APP_QUESTIONS[0], api_name="/ask")  # warm
        samples: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def client(number: int) -> None:
            port = ports[number % 2]
            api = connect_client(port, processes[number % 2], scratch / "none.log")
            for i in range(QUESTIONS_EACH):
                question = APP_QUESTIONS[(number + i) % len(APP_QUESTIONS)]
                start = time.perf_counter()
                try:
                    answer = api.predict(question, api_name="/ask")
                    ok = isinstance(answer, dict) and answer.get("question") == question
                except Exception as error:  # noqa: BLE001 - every failure counts
                    ok, answer = False, error
                with lock:
                    samples.append(1000 * (time.perf_counter() - start))
                    if not ok:
                        errors.append(f"client {number}: {answer!r}"[:300])

        upload = scratch / UPLOAD[0]
        upload.write_text(UPLOAD[1], encoding="utf-8")
        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(3)
        indexed_s = upload_through_page(ports[0], upload)  # while the clients ask
        uploaded_at = time.perf_counter()
        other = connect_client(ports[1], processes[1], scratch / "app-1.log")
        answer = other.predict(UPLOAD_QUESTION, api_name="/ask")
        seen_after_s = time.perf_counter() - uploaded_at
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
    cited = [c["source"] for c in answer["citations"]] if answer.get("answered") else []
    table = Table(f"Two app processes on one database: {CLIENTS} clients x {QUESTIONS_EACH} questions (/ask), half on each",
                  ["questions", "errors", "p50 ms", "p95 ms", "questions/s", "upload indexed via app 1 (s)",
                   "answered by app 2", "app 2 answered it after (s)"])
    p50, p95 = p50_p95(samples)
    table.add(len(samples), len(errors), p50, p95, len(samples) / wall, indexed_s,
              f"yes, quoting {cited[0]}" if cited and cited[0] == UPLOAD[0] else f"NO: {answer.get('text', '')[:80]}", seen_after_s)
    section.tables.append(table)
    section.checks += [check_at_most("errors among the two apps' answers", len(errors), 0, str(len(errors))),
                       check_at_least("upload through app 1 answered by app 2 without a restart",
                                      float(bool(cited) and cited[0] == UPLOAD[0]), 1.0,
                                      "yes" if cited and cited[0] == UPLOAD[0] else "no")]
    section.notes += errors[:5]
    section.notes.append("Both apps serve the same seeds and the same --data folder (uploads are files there; the index rows are in "
                         "the database). Each request checks the database's generation number and reloads the corpus when "
                         "another process has committed a build.")
