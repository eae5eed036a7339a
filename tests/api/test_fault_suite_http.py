"""The fault suite over the HTTP API of a live app (fake embedder): every bad input gets a clear error and loses nothing."""

from __future__ import annotations

import json
import math
import os
import urllib.error
import urllib.request
from typing import Any

import pytest

from bench.live_app import running_app, upload

from helpers import SEED_FILE
from helpers.faults import HISTORIES, KS, QUESTIONS, Tally, clear, files_lost, report, snapshot

pytestmark = pytest.mark.app

# ----- HTTP API -------------------------------------------------------------------------


def raw_call(url: str, api: str, body: bytes) -> tuple[str, str]:
    """("answered" | "clear" | "generic", detail) for a hand-written request body (NaN, surrogates, missing values)."""
    request = urllib.request.Request(f"{url}gradio_api/call/{api}", data=body, headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        event = json.loads(opener.open(request, timeout=60).read())["event_id"]
    except urllib.error.HTTPError as error:  # FastAPI's validation: a 422 with a JSON reason
        detail = error.read().decode("utf-8", "replace")
        return ("clear" if error.code == 422 and "detail" in detail else "generic"), detail
    stream = opener.open(f"{url}gradio_api/call/{api}/{event}", timeout=120).read().decode("utf-8", "replace")
    kind, data = stream.split("\n")[0], stream.split("data:", 1)[-1].strip()
    if kind == "event: complete":
        return "answered", data
    message = (json.loads(data) or {}).get("error") if data.startswith("{") else None
    return ("clear" if clear(message) else "generic"), str(message)


def test_bad_inputs_over_the_http_api(tmp_path, seed_corpus):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    tally = Tally()
    folder = tmp_path / "app"
    folder.mkdir()
    with running_app(folder, seed_corpus, fake=True) as url:
        client = Client(url, verbose=False)
        notes = b"The harbour master counts 41 boats every morning.\n"
        assert "Indexed notes.txt" in upload(url, [("notes.txt", notes)])
        uploads = folder / "data" / "uploads"
        before = snapshot(seed_corpus, uploads)

        def predict(case: str, *args: Any, api: str) -> None:
            try:
                result = client.predict(*args, api_name=api)
            except AppError as error:
                tally.add("http", case, "clear" if clear(error) else "generic", str(error))
            except Exception as error:  # noqa: BLE001
                tally.add("http", case, "crash", f"{type(error).__name__}: {error}")
            else:
                json.dumps(result)
                paths = [c["file_path"] for c in (result["citations"] if api == "/ask" else result)]
                absolute = [p for p in paths if os.path.isabs(p)]
                tally.add("http", case, "crash" if absolute else "answered", f"server paths {absolute}" if absolute else "")

        for name, question in QUESTIONS.items():
            if isinstance(question, str) and "\ud800" not in question and "\udcff" not in question:  # JSON-able
                predict(f"/ask question={name}", question, [], api="/ask")
                predict(f"/retrieve question={name}", question, 3, api="/retrieve")
            elif not isinstance(question, str):
                predict(f"/ask question={name}", question, [], api="/ask")
        for name, k in KS.items():
            if not (isinstance(k, float) and not math.isfinite(k)):
                predict(f"/retrieve k={name}", "Who brokered the cease-fire?", k, api="/retrieve")
        for name, history in HISTORIES.items():
            if "surrogate" not in name:
                predict(f"/ask history={name}", "And Armenia?", history, api="/ask")
        raw = {
            "k NaN": ("retrieve", b'{"data": ["Who?", NaN]}'), "k 1e309": ("retrieve", b'{"data": ["Who?", 1e309]}'),
            "k Infinity": ("retrieve", b'{"data": ["Who?", -Infinity]}'),
            "question lone surrogate": ("ask", b'{"data": ["Who \\ud800 brokered it?", []]}'),
            "retrieve lone surrogate": ("retrieve", b'{"data": ["\\udcff\\udcfe", 3]}'),
            "history lone surrogate": ("ask", b'{"data": ["And Armenia?", [["\\ud800", "a"]]]}'),
            "one value": ("ask", b'{"data": ["Who?"]}'), "no values": ("retrieve", b'{"data": []}'),
            "three values": ("ask", b'{"data": ["Who?", [], "extra"]}'), "data null": ("ask", b'{"data": null}'),
            "not JSON": ("ask", b"{data"), "empty body": ("retrieve", b""), "data a string": ("ask", b'{"data": "Who?"}'),
            "a server file as the question": ("ask", b'{"data": [{"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}, []]}'),
            "a server file as k": ("retrieve", b'{"data": ["Who?", {"path": "/etc/hosts", "meta": {"_type": "gradio.FileData"}}]}'),
        }
        for name, (api, body) in raw.items():
            try:
                kind, detail = raw_call(url, api, body)
            except Exception as error:  # noqa: BLE001
                kind, detail = "crash", f"{type(error).__name__}: {error}"
            tally.add("http", f"raw /{api} {name}", kind, detail)

        bad_uploads = {"latin1 over notes.txt": ("notes.txt", "Caf\xe9.".encode("latin-1")),
                       "binary over notes.txt": ("notes.txt", b"\x00\x01binary"), "only a type": (".txt", notes),
                       "dots": ("..md", notes), "hidden type": ("._.txt", notes), "exe": ("tool.exe", b"MZ"),
                       "empty": ("empty.txt", b""), "spaces only": ("blank.md", b"  \n\n "),
                       "seed name": (SEED_FILE.name, notes), "traversal": ("../../etc/passwd.txt", b"root:x:0:0\n")}
        for name, (file_name, data) in bad_uploads.items():
            try:
                status = upload(url, [(file_name, data)])
                message = status.split("<p>", 1)[-1].split("</p>", 1)[0]
                kind = "answered" if "qa-ok" in status else ("clear" if clear(message) else "generic")
            except Exception as error:  # noqa: BLE001
                kind, status = "crash", f"{type(error).__name__}: {error}"
            tally.add("http", f"upload {name}", kind, status)
        assert not [p for p in (folder / "data" / "tmp").rglob("*") if p.is_file()]  # no temporary copy left
        lost = files_lost(before, snapshot(seed_corpus, uploads))
        answer = client.predict("How many boats does the harbour master count?", [], api_name="/ask")
        assert any(c["file_path"] == "notes.txt" for c in answer["citations"])  # still indexed, library path
    report(tally, lost, "HTTP API")
    assert len(tally.outcomes) >= 80
    assert tally.failures() == [] and lost == 0
