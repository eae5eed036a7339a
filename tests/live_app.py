"""Start `python app.py` on a free localhost port, with its own index and data folders, for the app tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
START_SECONDS = 240  # builds the seed index with the real model first; slow on a busy 2-core machine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_app(folder: Path, seeds: Path = REPO / "seeds", *, fake: bool = False) -> Iterator[str]:
    """The URL of a live app serving ``seeds``; index, uploads and logs live in ``folder``.

    ``fake``: the app runs with the fake embedder (tests/fake_app.py): no model, starts in seconds.
    """
    port = free_port()
    log = folder / "app.log"
    program = REPO / "tests" / "fake_app.py" if fake else REPO / "app.py"
    command = [sys.executable, str(program), "--port", str(port), "--seeds", str(seeds),
               "--index", str(folder / "index"), "--data", str(folder / "data")]
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
