"""Concurrent clients against a live app while uploads are indexed: ``python -m bench.concurrency``.

Starts ``python app.py`` (the real model, default backend) on a free localhost port over a
small library (the seed article and three documentation pages from ../shared/eval/docs), then
runs 20 clients (gradio_client, one thread each) that ask 25 questions each through ``/ask``.
Round 1 is the questions alone; round 2 the same while two more documentation pages are
uploaded through the page's upload event (over HTTP, as the browser does) and indexed.
Every call is bounded (120 s). Counts errors, latency percentiles, and whether the uploads
were indexed and can be asked about afterwards. Figures go to bench/results/ROBUSTNESS.md.
"""

from __future__ import annotations

import random
import shutil
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .common import REPO, percentile, write_section
from .live_app import running_app, upload  # the app tests start it the same way

CLIENTS = 20
QUESTIONS_EACH = 25
CALL_TIMEOUT_S = 120
DOCS = REPO.parent / "shared" / "eval" / "docs"
SEEDS = ["cargo-manifest.html", "node-dns.md", "cargo-workspaces.html"]
UPLOADS = ["cargo-semver.html", "node-events.html"]
OUTPUT = Path(__file__).resolve().parent / "results" / "ROBUSTNESS.md"
QUESTIONS = [
    "How many Russian peacekeepers were deployed?",
    "What total military death toll did Azerbaijan report?",
    "Who brokered the cease-fire?",
    "When did the fighting formally end?",
    "What does the edition field in Cargo.toml set?",
    "What is the rust-version field for?",
    "How do I keep files out of a published package?",
    "What does the publish field do?",
    "What is a virtual manifest?",
    "Do workspace members share one Cargo.lock?",
    "How do I exclude a folder from a workspace?",
    "What does dns.lookup() use to resolve a host name?",
    "How is dns.resolve() different from dns.lookup()?",
    "What does dns.setServers() do?",
    "What is the default order of addresses returned by lookup?",
    "Is adding a new enum variant a breaking change?",
    "Can I add a new public function in a minor release?",
    "Is raising the minimum Rust version a breaking change?",
    "What does emitter.once() do?",
    "How many listeners can be added before a warning is printed?",
    "What happens when an error event has no listener?",
    "Who won the 2018 football World Cup?",
    "What is the capital of Australia?",
    "How do I bake sourdough bread?",
    "And Armenia?",
]


def ask_all(url: str, seed: int, log: list[tuple[float, float, str]]) -> None:
    """One client: every question once, in its own order; (start, seconds, error or "") per call."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    order = random.Random(seed).sample(QUESTIONS, len(QUESTIONS))[:QUESTIONS_EACH]
    for question in order:
        started = time.perf_counter()
        try:
            answer = client.submit(question, [], api_name="/ask").result(timeout=CALL_TIMEOUT_S)
            error = "" if isinstance(answer, dict) and "answered" in answer else f"odd reply {str(answer)[:80]}"
        except Exception as exc:  # noqa: BLE001 - counted and shown
            error = f"{type(exc).__name__}: {exc}"[:200]
        log.append((started, time.perf_counter() - started, error))


def round_of_clients(url: str, uploads: list[Path]) -> dict:
    log: list[tuple[float, float, str]] = []
    windows: list[tuple[float, float, str]] = []

    def index_uploads() -> None:
        time.sleep(1.0)  # let the clients get going first
        for path in uploads:
            started = time.perf_counter()
            status = upload(url, [(path.name, path.read_bytes())], timeout=600)
            windows.append((started, time.perf_counter(), status))

    uploader = threading.Thread(target=index_uploads)
    started = time.perf_counter()
    if uploads:
        uploader.start()
    with ThreadPoolExecutor(CLIENTS) as pool:
        for client in range(CLIENTS):
            pool.submit(ask_all, url, client, log)
    if uploads:
        uploader.join()
    wall = time.perf_counter() - started
    seconds = [s for _, s, _ in log]
    during = [s for t, s, _ in log if any(a <= t <= b for a, b, _ in windows)]
    return {
        "calls": len(log), "errors": [e for _, _, e in log if e], "wall": wall,
        "p50": statistics.median(seconds), "p95": percentile(seconds, 95), "p99": percentile(seconds, 99),
        "max": max(seconds), "during": during, "windows": windows,
    }


def ms(seconds: float) -> str:
    return f"{1000 * seconds:,.0f} ms"


def main() -> int:
    from gradio_client import Client

    folder = REPO / "data" / "bench" / "concurrency"
    shutil.rmtree(folder, ignore_errors=True)
    seeds = folder / "seeds"
    seeds.mkdir(parents=True)
    shutil.copy2(REPO / "seeds" / "azerbaijan-soldiers-killed-nagorno-karabakh.txt", seeds)
    for name in SEEDS:
        shutil.copy2(DOCS / name, seeds)
    with running_app(folder, seeds) as url:
        Client(url, verbose=False).predict("warm up", [], api_name="/ask")
        alone = round_of_clients(url, [])
        print(f"questions alone: {alone['calls']} calls, {len(alone['errors'])} errors, p95 {ms(alone['p95'])}", flush=True)
        loaded = round_of_clients(url, [DOCS / name for name in UPLOADS])
        print(f"with uploads: {loaded['calls']} calls, {len(loaded['errors'])} errors, p95 {ms(loaded['p95'])}", flush=True)
        after = Client(url, verbose=False).predict("What does emitter.once() do?", [], api_name="/ask")
    indexed = all("Indexed" in status for _, _, status in loaded["windows"])
    cited = sorted({c["file_path"] for c in after["citations"]})
    rows = "\n".join(
        f"| {name} | {r['calls']} | {len(r['errors'])} | {ms(r['p50'])} | {ms(r['p95'])} | {ms(r['p99'])} | {ms(r['max'])} "
        f"| {r['calls'] / r['wall']:.1f} |"
        for name, r in (("questions alone", alone), ("while two uploads are indexed", loaded))
    )
    during = loaded["during"]
    # strict=False: an upload that raised left no window
    uploads = "; ".join(f"{name}: {b - a:.1f} s" for name, (a, b, _) in zip(UPLOADS, loaded["windows"], strict=False))
    errors = sorted(set(alone["errors"] + loaded["errors"]))[:5]
    write_section(OUTPUT, "concurrency", f"""
## Concurrent clients while uploads are indexed

Ran {time.strftime('%Y-%m-%d %H:%M')} (`python -m bench.concurrency`), {len(__import__('os').sched_getaffinity(0))} cores
shared with other work. A live `python app.py` (real model, default backend, `CONCURRENCY` 2 answers at
once, queue of 32) on localhost over the seed article and {len(SEEDS)} documentation pages; {CLIENTS}
gradio_client clients at once, each asking {QUESTIONS_EACH} questions through `/ask` one after another
(each call bounded to {CALL_TIMEOUT_S} s). The second round runs the same while {len(UPLOADS)} pages
({', '.join(UPLOADS)}) are uploaded through the page's upload event over HTTP and indexed ({uploads}).
Latency is per call, from submit to answer, queueing included: with {CLIENTS} clients and 2 answers at
once most of it is waiting in the queue (time per answer, 2 / answers per second: {2 * alone['wall'] / alone['calls']:.2f} s
alone, {2 * loaded['wall'] / loaded['calls']:.2f} s beside the uploads, which take CPU from the answers).

| round | calls | errors | p50 | p95 | p99 | max | answers/s |
|---|---|---|---|---|---|---|---|
{rows}

Calls started while an upload was being indexed: {len(during)}, p95 {ms(percentile(during, 95)) if during else 'n/a'}.
Uploads indexed: {'yes' if indexed else 'NO'}; asked afterwards, "What does emitter.once() do?" cites {', '.join(cited)}.
{'Errors: ' + '; '.join(errors) if errors else 'No errors.'}
""")
    return 0 if not (alone["errors"] or loaded["errors"]) and indexed else 1


if __name__ == "__main__":
    sys.exit(main())
