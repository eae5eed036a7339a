"""Cold start: from starting a process with a built index to the first answer.

Two ways in: the library (``bench.probe``: import qa, ``Index.load``, first answer)
and the app (``python app.py`` with the index already built, then one question
through its ``/ask`` API with gradio_client). Both use a copy of the SciFact index.
"""

from __future__ import annotations

import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from qa import Index

from . import probe, scifact
from .common import REPO, Config, Section, Table

RUNS = 3
APP_TIMEOUT_S = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app_first_answer(index_dir: Path, seeds: Path, data: Path, question: str) -> tuple[float, float]:
    """(seconds until the app answers its first question, seconds until it accepted a connection)."""
    from gradio_client import Client

    port = free_port()
    command = [sys.executable, "app.py", "--port", str(port), "--index", str(index_dir), "--seeds", str(seeds), "--data", str(data)]
    start = time.perf_counter()
    app = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        client = None
        while client is None:
            if app.poll() is not None:
                raise RuntimeError(f"app.py exited: {app.stderr.read().decode()[-2000:] if app.stderr else ''}")
            if time.perf_counter() - start > APP_TIMEOUT_S:
                raise TimeoutError("app.py did not start")
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
            except Exception:  # noqa: BLE001 - not listening yet (what the client raises then depends on its HTTP stack)
                time.sleep(0.1)
        connected = time.perf_counter() - start
        client.predict(question, api_name="/ask")
        return time.perf_counter() - start, connected
    finally:
        app.terminate()
        app.wait(timeout=30)


def run(config: Config) -> Section:
    scratch = config.scratch("coldstart")
    index_dir = scratch / "index"
    if config.quick:  # the repository's seed document
        seeds, question = REPO / "seeds", "How many Russian peacekeepers were deployed?"
        base = Index.build([seeds], index_dir)
    else:  # a copy of the SciFact index, and the folder it was built from
        data = scifact.load(config.eval_dir)
        seeds, question = config.cache_dir / "scifact-docs", next(iter(data.queries.values()))
        base = scifact.build_index(config, data)
        shutil.copytree(base.index_dir, index_dir)
    section = Section("coldstart", "Cold start: a new process with a built index, to the first answer")
    table = Table(f"Index of {len(base.documents):,} documents, {len(base.chunks):,} chunks; "
                  f"median of {RUNS} runs (first run in brackets: colder file cache)",
                  ["stage", "seconds"])
    probes = [probe.measure(index_dir, question) for _ in range(RUNS)]

    def add(label: str, values: list[float]) -> None:
        table.add(label, f"{statistics.median(values):.2f} ({values[0]:.2f})")

    add("library: process start to first answer (python -c; import qa; Index.load; answer)", [p.wall_s for p in probes])
    add("  import qa", [p.import_s for p in probes])
    add("  Index.load", [p.load_s for p in probes])
    add("  load the embedding model (first use)", [p.model_s for p in probes])
    add("  first answer, model loaded", [p.answer_s for p in probes])
    add("  the rest: interpreter start-up", [p.wall_s - p.import_s - p.load_s - p.model_s - p.answer_s for p in probes])
    if (REPO / "app.py").exists():
        runs = [app_first_answer(index_dir, seeds, scratch / "app-data", question) for _ in range(RUNS)]
        add("app: `python app.py` to first answer through /ask (gradio_client)", [r[0] for r in runs])
        add("  of which until the server accepted a connection", [r[1] for r in runs])
        section.notes.append("The app checks the index against its sources on start (Index.build, nothing to embed) "
                             "and loads the model in a background thread while the server starts.")
    else:
        section.notes.append("app.py is not in the repository yet: the app's cold start is pending.")
    section.tables.append(table)
    shutil.rmtree(scratch, ignore_errors=True)
    return section
