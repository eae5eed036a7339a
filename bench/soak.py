"""A shared server under a soak: ``python -m bench.soak [--minutes 10]``.

Starts ``python app.py`` (the real model) with a login over the seed article: 30 readers, each logged in as
themselves, ask a question every few seconds through ``/ask`` (as people at a page would); an editor uploads a
file and removes it again every 30 s; an anonymous client on the network sends 100 oversized conversations and
100 raw uploads. Counts the readers' errors, checks every citation against its source file (verbatim at its
offsets), samples the app's memory (RSS) and looks at ``data/tmp`` after the end. Figures go to
bench/results/ROBUSTNESS.md.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

from .common import REPO, percentile, write_section
from .concurrency import QUESTIONS
from .live_app import Visitor, running_app

READERS = 30
PACE_S = 4.0  # a reader's pause between questions (15 a minute, inside the 30 a minute each user may ask)
EDIT_EVERY_S = 30.0
ATTACKS = 100
OUTPUT = Path(__file__).resolve().parent / "results" / "ROBUSTNESS.md"
SEED = REPO / "seeds" / "azerbaijan-soldiers-killed-nagorno-karabakh.txt"
HARBOUR = "The harbour master counts 41 boats every morning. The pier was rebuilt in 1911 after a storm.\n"


def app_pid(folder: Path) -> int:
    """The app process serving ``folder`` (its command line names the folder's index)."""
    wanted = str(folder / "index")
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if wanted in (proc / "cmdline").read_bytes().decode(errors="replace").split("\0"):
                    return int(proc.name)
            except OSError:
                continue
    raise RuntimeError("the app process was not found")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def verbatim(citation: dict, files: dict[str, str]) -> bool:
    text = files.get(citation["file_path"])
    return text is None or text[citation["start"] : citation["end"]] == citation["quote"]  # an upload removed since: not checked


class Soak:
    def __init__(self, url: str, seconds: float, files: dict[str, str]) -> None:
        self.url, self.files = url, files
        self.stop_at = time.monotonic() + seconds
        self.calls: list[tuple[float, str]] = []  # (seconds, error or "")
        self.quotes = self.wrong_quotes = 0
        self.edits: list[str] = []
        self.attacks: dict[str, int] = {}
        self.lock = threading.Lock()

    def reader(self, n: int) -> None:
        visitor = Visitor(self.url)
        visitor.login(f"reader{n}", f"reader-password-{n}")
        rng = random.Random(n)
        while time.monotonic() < self.stop_at:
            started = time.perf_counter()
            try:
                answer = visitor.ask(rng.choice(QUESTIONS))
                error = "" if isinstance(answer, dict) and "answered" in answer else f"odd reply {str(answer)[:80]}"
                right = [verbatim(c, self.files) for c in answer.get("citations", [])] if not error else []
            except Exception as exc:  # noqa: BLE001 - counted and shown
                error, right = f"{type(exc).__name__}: {exc}"[:200], []
            with self.lock:
                self.calls.append((time.perf_counter() - started, error))
                self.quotes += len(right)
                self.wrong_quotes += right.count(False)
            time.sleep(max(0.0, PACE_S - (time.perf_counter() - started)) * rng.uniform(0.5, 1.5))

    def editor(self) -> None:
        visitor = Visitor(self.url)
        visitor.login("editor", "editor-password")
        config = visitor.http.get("/config").json()
        n = 0
        while time.monotonic() + EDIT_EVERY_S < self.stop_at:
            name = f"harbour-{n}.txt"
            self.files[name] = HARBOUR
            page = f"editor-page-{n}"  # one page: the chooser it removes from lists what it uploaded
            added = visitor.event("upload", "upload", [visitor.upload(name, HARBOUR)], config, page)
            removed = visitor.event("remove", "click", [f"upload:{name}", True], config, page)
            shown = [str(event.get("output"))[:400] for event in (added, removed)]
            self.edits.append("ok" if "Indexed" in shown[0] and "Removed" in shown[1] else " / ".join(shown))
            n += 1
            time.sleep(EDIT_EVERY_S)

    def stranger(self) -> None:
        http = Visitor(self.url).http
        history = [["q", "a" * 10]] * 200_000
        for _ in range(ATTACKS):
            for kind, response in (("oversized conversation", lambda: http.post("/gradio_api/call/ask", json={"data": ["q", history]})),
                                   ("raw upload", lambda: http.post("/gradio_api/upload", files={"files": ("x.md", b"#" * 2**20)}))):
                code = response().status_code
                with self.lock:
                    self.attacks[f"{kind}: {code}"] = self.attacks.get(f"{kind}: {code}", 0) + 1
            time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--fake", action="store_true", help="the fake embedder (a check of the bench itself, no figures)")
    args = parser.parse_args(argv)
    from qa.app.users import add_user

    folder = REPO / "data" / "bench" / "soak"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "seeds").mkdir(parents=True)
    shutil.copy2(SEED, folder / "seeds")
    users = folder / "users.json"
    for n in range(READERS):
        add_user(users, f"reader{n}", "reader", f"reader-password-{n}")
    add_user(users, "editor", "editor", "editor-password")
    files = {SEED.name: SEED.read_text(encoding="utf-8")}
    with running_app(folder, folder / "seeds", fake=args.fake, options=("--users", str(users))) as url:
        pid = app_pid(folder)
        warm = Visitor(url)
        warm.login("editor", "editor-password")
        warm.ask("warm up")
        soak = Soak(url, args.minutes * 60, files)
        threads = [threading.Thread(target=soak.reader, args=(n,)) for n in range(READERS)]
        threads += [threading.Thread(target=soak.editor), threading.Thread(target=soak.stranger)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        samples: list[tuple[float, float]] = []
        while any(thread.is_alive() for thread in threads):
            samples.append((time.monotonic() - started, rss_mb(pid)))
            time.sleep(5)
        tmp = folder / "data" / "tmp"
        left = [p for p in tmp.rglob("*") if p.is_file()] if tmp.exists() else []
        deadline = time.monotonic() + 60
        while left and time.monotonic() < deadline:
            time.sleep(5)
            left = [p for p in tmp.rglob("*") if p.is_file()]
    after_minute = next((mb for t, mb in samples if t >= 60), samples[0][1])
    end = samples[-1][1]
    seconds = [s for s, _ in soak.calls]
    errors = [e for _, e in soak.calls if e]
    growth = (end - after_minute) / after_minute
    latency = " / ".join(f"{1000 * s:,.0f}" for s in (statistics.median(seconds), percentile(seconds, 95), max(seconds)))
    failed_edits = [e for e in soak.edits if e != "ok"]
    notes = ("Errors: " + "; ".join(sorted(set(errors))[:5]) if errors else "No errors for the readers.") + (
        "\nEditor rounds that failed: " + "; ".join(failed_edits[:3]) if failed_edits else "")
    write_section(OUTPUT if not args.fake else folder / "soak.md", "soak", f"""
## A shared server under a soak

Ran {time.strftime('%Y-%m-%d %H:%M')} (`python -m bench.soak --minutes {args.minutes:g}`), 2 cores. A live `python app.py`
(real model, login on) over the seed article: {READERS} readers, each logged in as themselves, asking a question about
every {PACE_S:g} s through `/ask`; an editor uploading a file and removing it every {EDIT_EVERY_S:g} s; an anonymous
client sending {ATTACKS} conversations of 200,000 turns (about 3 MB each) and {ATTACKS} raw 1 MiB uploads.

| figure | value |
|---|---|
| readers' calls | {len(seconds):,} |
| readers' errors | {len(errors)} |
| latency p50 / p95 / max | {latency} ms |
| citations checked verbatim against their files | {soak.quotes - soak.wrong_quotes:,} of {soak.quotes:,} |
| editor's upload-and-remove rounds | {soak.edits.count('ok')} of {len(soak.edits)} went through |
| the anonymous client's requests | {', '.join(f'{k} × {v}' for k, v in sorted(soak.attacks.items()))} |
| app RSS after the first minute / at the end | {after_minute:,.0f} / {end:,.0f} MB ({growth:+.1%}) |
| files left in data/tmp a minute after the end | {len(left)} |

{notes}
""")
    print((OUTPUT if not args.fake else folder / "soak.md").read_text(encoding="utf-8").split("<!-- soak: begin -->")[1])
    return 0 if not errors and not soak.wrong_quotes and abs(growth) <= 0.10 and not left else 1


if __name__ == "__main__":
    sys.exit(main())
