"""Start `python app.py` on a free localhost port, with its own index and data folders: for the app tests and the
concurrency benchmark."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
START_SECONDS = 240  # builds the seed index with the real model first; slow on a busy 2-core machine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_app(folder: Path, seeds: Path = REPO / "seeds", *, fake: bool = False, options: tuple[str, ...] = ()) -> Iterator[str]:
    """The URL of a live app serving ``seeds``; index, uploads and logs live in ``folder``.

    ``fake``: the app runs with the fake embedder (tests/fake_model.py): no model, starts in seconds.
    ``options``: more app.py options (``--users FILE``, say).
    """
    port = free_port()
    log = folder / "app.log"
    program = [str(REPO / "tests" / "fake_model.py"), "app"] if fake else [str(REPO / "app.py")]
    command = [sys.executable, *program, "--port", str(port), "--seeds", str(seeds),
               "--index", str(folder / "index"), "--data", str(folder / "data"), *options]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    with open(log, "wb") as output:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # localhost: never via a proxy
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with opener.open(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"app.py did not answer on {url} in {START_SECONDS} s:\n{log.read_text(errors='replace')}")


def upload(url: str, files: list[tuple[str, bytes]], timeout: float = 300) -> str:
    """Upload files through the page's upload event over HTTP, as the browser does; the status HTML it shows.

    POST the files to Gradio's upload route, then run the upload event (private: no client API) on the queue.
    """
    boundary = uuid.uuid4().hex
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n"
        for name, data in files
    ) + f"--{boundary}--\r\n".encode()
    stored = json.loads(_post(url + "gradio_api/upload", body, f"multipart/form-data; boundary={boundary}", timeout))
    config = json.loads(_opener.open(url + "config", timeout=timeout).read())
    upload_id = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "upload")
    fn_index = next(i for i, d in enumerate(config["dependencies"]) if [upload_id, "upload"] in d["targets"])
    session = uuid.uuid4().hex
    data = [[{"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}
             for path, (name, _) in zip(stored, files, strict=True)]]
    request = {"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None, "trigger_id": upload_id}
    _post(url + "gradio_api/queue/join", json.dumps(request).encode(), "application/json", timeout)
    with _opener.open(url + f"gradio_api/queue/data?session_hash={session}", timeout=timeout) as stream:
        for line in stream:
            if line.startswith(b"data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    output = message.get("output") or {}
                    if not message.get("success"):
                        raise RuntimeError(f"the upload event failed: {output.get('error')!r}")
                    return str(output["data"][1])
    raise RuntimeError("the upload event never completed")


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # localhost: never via a proxy


def _post(url: str, body: bytes, content_type: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    with _opener.open(request, timeout=timeout) as response:
        return response.read()


class Visitor:
    """Someone on the network with an HTTP client (and, once logged in, the app's cookie)."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=120, trust_env=False)

    def login(self, name: str, password: str) -> int:
        return self.http.post("/login", data={"username": name, "password": password}).status_code

    def event(self, elem_id: str, trigger: str, data: list, config: dict, session: str | None = None) -> dict:
        """Run the page's ``trigger`` event of the component ``elem_id`` through the queue, as the browser does (in
        ``session``, a page's own, to follow what earlier events of that page changed: a chooser's choices)."""
        target = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == elem_id)
        fn_index = next(i for i, d in enumerate(config["dependencies"]) if [target, trigger] in d["targets"])
        session = session or uuid.uuid4().hex
        joined = self.http.post("/gradio_api/queue/join", json={"data": data, "fn_index": fn_index, "session_hash": session,
                                                                "event_data": None, "trigger_id": target})
        assert joined.status_code == 200, joined.text
        with self.http.stream("GET", f"/gradio_api/queue/data?session_hash={session}") as stream:
            for line in stream.iter_lines():
                message = json.loads(line[5:]) if line.startswith("data:") else {}
                if message.get("msg") == "process_completed":
                    return message
        raise AssertionError("the event never completed")

    def upload(self, name: str, text: str) -> list[dict]:
        stored = self.http.post("/gradio_api/upload", files={"files": (name, text.encode(), "text/markdown")})
        assert stored.status_code == 200, stored.text
        return [{"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}} for path in stored.json()]

    def ask(self, question: str) -> dict:
        started = self.http.post("/gradio_api/call/ask", json={"data": [question, []]})
        assert started.status_code == 200, started.text
        events = self.http.get(f"/gradio_api/call/ask/{started.json()['event_id']}").text
        return json.loads(events.split("data:", 1)[1].splitlines()[0])[0]
